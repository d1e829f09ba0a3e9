"""The reference migrations in app/migrations, checked by pytest-alembic against a live database.

pytest-alembic's built-in tests, run on an AsyncEngine: env.py receives the connection in
config.attributes["connection"] (connection sharing) and runs the migrations on it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from pytest_alembic.tests import (  # noqa: F401 - collected as tests
    test_model_definitions_match_ddl,
    test_single_head_revision,
    test_up_down_consistency,
    test_upgrade,
)

from course.alembic_runner import subprocess_env

ROOT = Path(__file__).resolve().parents[2]


def test_cli_upgrade_check_and_downgrade_from_another_directory(fresh_database, tmp_path: Path) -> None:
    """The real `alembic` CLI, run from outside the repository with -c, against a fresh database."""
    env = subprocess_env()  # no DB_* / DATABASE_URL from the suite's environment
    env["DATABASE_URL"] = fresh_database.render_as_string(hide_password=False)

    def alembic(*args: str) -> str:
        proc = subprocess.run(
            [sys.executable, "-m", "alembic", "-c", str(ROOT / "alembic.ini"), *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return proc.stdout + proc.stderr

    upgraded = alembic("upgrade", "head")
    assert "Running upgrade  -> 0001" in upgraded
    assert "Running upgrade 0009a, 0009b -> 0010" in upgraded  # both branches, then the merge
    assert "0010 (head) (mergepoint)" in alembic("current")
    assert "No new upgrade operations detected" in alembic("check")
    downgraded = alembic("downgrade", "base")
    assert "Running downgrade 0010 -> 0009a, 0009b" in downgraded
    assert "Running downgrade 0001 -> " in downgraded
    assert "0010" not in alembic("current")  # back at base: no revision left
    offline = alembic("upgrade", "head", "--sql")
    assert "CREATE TABLE categories" in offline and "CREATE TABLE products" in offline
    assert "CREATE TABLE reviews" in offline and "CREATE TABLE stock_levels" in offline
    assert "INSERT INTO stock_levels (product_id, quantity) SELECT" in offline  # 0006 copies the data
    assert "CREATE TYPE product_status AS ENUM" in offline  # 0007 creates the type itself
    assert "CREATE INDEX CONCURRENTLY ix_products_category_id" in offline  # 0008, outside a transaction


def test_an_unreachable_database_fails_in_one_line(tmp_path: Path) -> None:
    """env.py turns a failed connection into one FAILED line: where it tried (password masked) and why."""
    env = subprocess_env()  # no DB_* / DATABASE_URL from the suite's environment
    env["DATABASE_URL"] = "postgresql://learner:s3cr%40t@127.0.0.1:1/shop"
    proc = subprocess.run(
        [sys.executable, "-m", "alembic", "-c", str(ROOT / "alembic.ini"), "upgrade", "head"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "Traceback" not in output
    assert "FAILED: cannot connect to postgresql+asyncpg://learner:***@127.0.0.1:1/shop: " in output
    assert "s3cr@t" not in output and "s3cr%40t" not in output
    assert len(output.strip().splitlines()) <= 2
