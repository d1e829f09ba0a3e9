"""course.releases: releases side by side in their own processes, and two alembic processes racing (real server)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from course.releases import describe_error, run_race, run_releases
from course.workspace import Workspace, create_workspace

WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture
def shop() -> Iterator[Workspace]:
    """The shop at 0001 with its 8 products, in a workspace of its own."""
    ws = create_workspace(f"zz-releases-{WORKER}", start="shop-with-data")
    yield ws


def _release(ws: Workspace, name: str, write_sql: str, read_sql: str) -> str:
    folder = ws.path / "releases"
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.py").write_text(
        "from sqlalchemy import text\n\n\n"
        f"async def write(conn):\n    await conn.execute(text({write_sql!r}))\n\n\n"
        f"async def read(conn):\n    return (await conn.execute(text({read_sql!r}))).all()\n",
        encoding="utf-8",
    )
    return f"releases.{name}"


def test_each_release_reads_after_both_have_written(shop: Workspace) -> None:
    a = _release(shop, "a", "UPDATE products SET name = 'by a' WHERE id = 1", "SELECT name FROM products WHERE id = 2")
    b = _release(shop, "b", "UPDATE products SET name = 'by b' WHERE id = 2", "SELECT name FROM products WHERE id = 1")
    first, second = run_releases(shop, a, b)
    assert (first.write, first.read) == ("ok", [["by b"]])  # a sees b's committed write, and b sees a's
    assert (second.write, second.read) == ("ok", [["by a"]])


def test_a_failing_query_is_shown_as_its_postgresql_error_class(shop: Workspace) -> None:
    broken = _release(shop, "broken", "UPDATE products SET title = 'x'", "SELECT title FROM products")
    (run,) = run_releases(shop, broken)
    assert not run.ok
    assert run.write.startswith('UndefinedColumnError [42703]: column "title" of relation "products" does not exist')
    assert run.read_error.startswith("UndefinedColumnError [42703]")


def test_a_release_that_cannot_start_says_why(shop: Workspace) -> None:
    (shop.path / "releases").mkdir(exist_ok=True)
    (shop.path / "releases" / "bad.py").write_text("def write(:\n", encoding="utf-8")
    (run,) = run_releases(shop, "releases.bad")
    assert "SyntaxError" in run.problem


def test_describe_error_without_a_sqlstate_keeps_the_class_and_first_line() -> None:
    assert describe_error(ValueError("first\nsecond")) == "ValueError: first"


SLEEPY = '''"""add products.sku"""
from alembic import op
import sqlalchemy as sa

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("products", sa.Column("sku", sa.String(64)))
    op.execute("SELECT pg_sleep(0.5)")


def downgrade():
    op.drop_column("products", "sku")
'''

LOCKED = """    with context.begin_transaction():
        connection.exec_driver_sql("SELECT pg_advisory_xact_lock(1313)")
        context.run_migrations()
"""


def _versions(ws: Workspace) -> list[str]:
    from course.exercises import probes

    return sorted(probes.current(ws))


def test_two_upgrades_race_and_an_advisory_lock_in_env_py_serializes_them(shop: Workspace) -> None:
    Path(shop.path / "app/migrations/versions/0002_add_products_sku.py").write_text(SLEEPY, encoding="utf-8")
    a, b = run_race(shop, ["upgrade", "head"])
    assert (a.code, b.code) == (0, 1)
    assert a.ran == b.ran == ["Running upgrade 0001 -> 0002, add products.sku"]  # both read 0001
    assert b.error.startswith('asyncpg.exceptions.DuplicateColumnError: column "sku" of relation "products" already exists')
    assert b.waited() is not None and b.waited()[0] == "Lock/relation"
    assert _versions(shop) == ["0002"]

    shop.alembic("downgrade", "0001")
    env = shop.path / "app/migrations/env.py"
    source = env.read_text(encoding="utf-8")
    old = "    with context.begin_transaction():\n        context.run_migrations()\n"
    assert source.count(old) == 2  # offline, then online (do_run_migrations)
    head, _, tail = source.rpartition(old)
    env.write_text(head + LOCKED + tail, encoding="utf-8")
    a, b = run_race(shop, ["upgrade", "head"])
    assert (a.code, b.code) == (0, 0)
    assert a.ran == ["Running upgrade 0001 -> 0002, add products.sku"] and b.ran == []  # B read the committed 0002
    waited = b.waited()
    assert waited is not None and waited[0] == "Lock/advisory" and waited[1] > 0.1
    assert _versions(shop) == ["0002"]

    a, b = run_race(shop, ["upgrade", "head"])  # nothing to do: no race, and no error
    assert (a.code, b.code, a.ran, b.ran, b.overlapped) == (0, 0, [], [], False)


DATA_MIGRATION = '''"""prices times 100"""
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    op.execute("UPDATE products SET price = price * 100")
    op.execute("SELECT pg_sleep(0.5)")


def downgrade():
    op.execute("UPDATE products SET price = price / 100")
'''


def test_a_data_migration_raced_is_done_once_and_the_second_fails_at_the_version_update(shop: Workspace) -> None:
    """What notebook 13 says of a racing data migration: B redoes the work, then its version UPDATE finds no row."""
    Path(shop.path / "app/migrations/versions/0002_prices_times_100.py").write_text(DATA_MIGRATION, encoding="utf-8")
    a, b = run_race(shop, ["upgrade", "head"])
    assert (a.code, b.code) == (0, 255)
    assert a.ran == b.ran == ["Running upgrade 0001 -> 0002, prices times 100"]
    assert b.error.startswith("FAILED: Online migration expected to match one row when updating '0001' to '0002'")
    assert b.waited() is not None and b.waited()[0] == "Lock/transactionid"  # B's UPDATE waited for A's rows
    from course.exercises import probes

    assert probes.rows(shop, "SELECT price FROM products WHERE id = 1") == [(7990000,)]  # 79900 * 100, once
