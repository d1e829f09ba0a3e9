"""The course machinery behind the notebooks' setup call (notebooks/course)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

import course
from course.database import DatabaseUnavailable, check_server, database_name_for, env_file_text, server_settings
from course.workspace import create_workspace


def tables(url) -> set[str]:  # type: ignore[no-untyped-def]
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return set(inspect(conn).get_table_names())
    finally:
        engine.dispose()


def test_database_names_are_safe_identifiers() -> None:
    assert database_name_for("03-configure-async-env") == "course_03_configure_async_env"
    assert database_name_for("Ünïcode & Spaces!") == "course_n_code_spaces"


def test_two_workspaces_are_independent_and_a_reset_touches_only_one() -> None:
    a = create_workspace("zz-helper-a", start="upgraded")
    b = create_workspace("zz-helper-b", start="upgraded")
    assert a.path != b.path and a.database != b.database
    assert {"categories", "products", "alembic_version"} <= tables(a.sync_url)
    (b.path / "marker.txt").write_text("b was here")

    a2 = create_workspace("zz-helper-a", start="app")  # reset a to an earlier state
    assert tables(a2.sync_url) == set()
    assert not (a2.path / "alembic.ini").exists()
    assert {"categories", "products"} <= tables(b.sync_url)  # b untouched
    assert (b.path / "marker.txt").read_text() == "b was here"


@pytest.mark.parametrize("start", sorted(course.STARTING_STATES))
def test_every_starting_state_builds(start: str) -> None:
    ws = create_workspace(f"zz-state-{start}", start=start)
    assert (ws.path / "app" / "models" / "product.py").is_file()
    assert (ws.path / ".env").read_text().count("DB_NAME") == 1
    has_ini = (ws.path / "alembic.ini").exists()
    assert has_ini == (start != "app")
    if start == "upgraded":
        assert "0001 (head)" in ws.alembic("current").stdout


@pytest.mark.parametrize("password", ["p@ss:w%rd/#?${HOME}\"\\", "it's p@ss:w%rd/#?${HOME}\"\\", ""])
def test_the_workspace_env_file_survives_any_password(password: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.backend.DB_config import Settings

    url = server_settings().DATABASE_URL_sync.set(password=password or None)
    (tmp_path / ".env").write_text(env_file_text(url))
    monkeypatch.chdir(tmp_path)
    for key in ("DATABASE_URL", "DB_HOST", "DB_PORT", "DB_USER", "DB_PASS", "DB_NAME"):
        monkeypatch.delenv(key, raising=False)
    read_back = Settings().DATABASE_URL_sync
    assert read_back.password == url.password
    assert (read_back.database, read_back.port) == (url.database, url.port)


def test_an_unreachable_database_raises_a_short_message() -> None:
    settings = server_settings({"DB_HOST": "127.0.0.1", "DB_PORT": "1", "DB_PASS": "top-secret"})
    with pytest.raises(DatabaseUnavailable) as caught:
        check_server(settings)
    message = str(caught.value)
    assert message.startswith("Cannot connect to the database.")
    assert len(message.splitlines()) <= 6
    assert "top-secret" not in message
    assert caught.value._render_traceback_() == [message]  # IPython shows only these lines


def test_unknown_host_names_the_setting_to_change() -> None:
    settings = server_settings({"DB_HOST": "no-such-host.invalid", "DB_PASS": "top-secret"})
    with pytest.raises(DatabaseUnavailable, match="DB_HOST"):
        check_server(settings)


def test_the_course_server_is_reachable() -> None:
    version = check_server()
    assert version.split(".")[0].isdigit()
    with create_engine(server_settings().DATABASE_URL_sync).connect() as conn:
        assert conn.execute(text("SELECT 1")).scalar() == 1


def test_the_warm_starter_gives_what_a_cold_alembic_gives(monkeypatch: pytest.MonkeyPatch) -> None:
    """Same output and exit code, warm (forked) or cold (`python -m alembic`), for success and failures."""
    from course.workspace import run_alembic

    if not hasattr(os, "fork"):
        pytest.skip("no fork on this platform: every command starts cold")
    ws = create_workspace("zz-warm-vs-cold", start="upgraded")
    commands = [["current"], ["history", "--verbose"], ["downgrade", "nonexistent"], ["upgrade", "--no-such-flag"], ["upgrade", "head", "--sql"]]
    warm = [run_alembic(ws.path, args, check=False) for args in commands]
    monkeypatch.setenv("COURSE_WARM_ALEMBIC", "0")
    cold = [run_alembic(ws.path, args, check=False) for args in commands]
    for args, w, c in zip(commands, warm, cold):
        assert (w.returncode, w.stdout) == (c.returncode, c.stdout), args
    assert [w.returncode for w in warm] == [0, 0, 255, 2, 0]


def test_a_workspace_module_named_like_a_preloaded_one_starts_cold() -> None:
    from course.workspace import run_alembic

    ws = create_workspace("zz-shadow", start="app")
    (ws.path / "alembic").mkdir()
    (ws.path / "alembic" / "__init__.py").write_text("")
    proc = run_alembic(ws.path, ["--version"], check=False)
    assert proc.returncode != 0 and "No module named alembic.__main__" in proc.stdout
