"""app.backend.DB_config.Settings: where values come from, hostile passwords, no leaks.

Every test that reads settings uses the ``no_settings`` fixture: it owns the whole settings
environment (a learner's own DATABASE_URL, exported to run the suite, must not leak in).
"""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path

import pytest
from sqlalchemy import text

from app.backend.DB_config import Settings
from course.database import SETTING_NAMES

HOSTILE = "p@ss:w%rd/#?"
ROOT = Path(__file__).resolve().parents[2]


def test_values_come_from_the_environment(monkeypatch: pytest.MonkeyPatch, no_settings: Path) -> None:
    monkeypatch.setenv("DB_HOST", "db.example")
    monkeypatch.setenv("DB_PORT", "6543")
    monkeypatch.setenv("DB_USER", "shop")
    monkeypatch.setenv("DB_PASS", HOSTILE)
    monkeypatch.setenv("DB_NAME", "shopdb")
    url = Settings().DATABASE_URL_asyncpg
    assert (url.drivername, url.host, url.port, url.username, url.password, url.database) == (
        "postgresql+asyncpg",
        "db.example",
        6543,
        "shop",
        HOSTILE,
        "shopdb",
    )


def test_values_come_from_dotenv_and_the_environment_wins(monkeypatch: pytest.MonkeyPatch, no_settings: Path) -> None:
    (no_settings / ".env").write_text("DB_HOST=from-dotenv\nDB_NAME=dotenv_db\nDB_PASS='" + HOSTILE + "'\n")
    settings = Settings()
    assert settings.DATABASE_URL_sync.host == "from-dotenv"
    assert settings.DATABASE_URL_sync.password == HOSTILE
    monkeypatch.setenv("DB_NAME", "env_db")
    assert Settings().DATABASE_URL_sync.database == "env_db"


def test_one_database_url_wins_over_the_parts(monkeypatch: pytest.MonkeyPatch, no_settings: Path) -> None:
    monkeypatch.setenv("DB_HOST", "ignored")
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:p%40ss@h:5555/d")
    settings = Settings()
    assert settings.DATABASE_URL_asyncpg.drivername == "postgresql+asyncpg"
    assert settings.DATABASE_URL_sync.drivername == "postgresql+psycopg"
    assert (settings.DATABASE_URL_sync.host, settings.DATABASE_URL_sync.password) == ("h", "p@ss")


def test_the_password_never_shows(monkeypatch: pytest.MonkeyPatch, no_settings: Path, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("DB_HOST", "db.example")
    monkeypatch.setenv("DB_PASS", HOSTILE)
    settings = Settings()
    shown = [repr(settings), str(settings), str(settings.DATABASE_URL_asyncpg), repr(settings.DATABASE_URL_sync)]
    with caplog.at_level(logging.INFO):
        logging.getLogger("test").info("connecting to %s", settings.DATABASE_URL_asyncpg)
    shown.append(caplog.text)
    for text_ in shown:
        assert HOSTILE not in text_
        assert "w%rd" not in text_ and "w%25rd" not in text_


def test_hostile_password_reaches_a_real_asyncpg_connection_and_alembic(fresh_database, tmp_path: Path) -> None:
    """A role whose password has % @ : / # ? logs in over asyncpg, via URL.create and via Alembic's config."""
    from alembic.config import Config
    from sqlalchemy import create_engine
    from sqlalchemy.ext.asyncio import async_engine_from_config, create_async_engine

    role = f"hostile_{fresh_database.database[-8:]}"
    admin = create_engine(fresh_database, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE ROLE {role} LOGIN PASSWORD '{HOSTILE}'"))
        conn.execute(text(f"GRANT CONNECT ON DATABASE {fresh_database.database} TO {role}"))
        # On the embedded server (which trusts local users) members of this group must use a password.
        if conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = 'password_login'")).scalar():
            conn.execute(text(f"GRANT password_login TO {role}"))
    try:
        url = fresh_database.set(drivername="postgresql+asyncpg", username=role, password=HOSTILE)

        async def who_am_i() -> str:
            engine = create_async_engine(url)
            async with engine.connect() as conn:
                user = (await conn.execute(text("SELECT current_user"))).scalar()
            await engine.dispose()
            return str(user)

        assert asyncio.run(who_am_i()) == role

        # The server really checks it: one character off and the login is refused.
        wrong = url.set(password=HOSTILE[:-1])

        async def wrong_password() -> None:
            engine = create_async_engine(wrong)
            try:
                async with engine.connect():
                    pass
            finally:
                await engine.dispose()

        with pytest.raises(Exception, match="password authentication failed"):
            asyncio.run(wrong_password())

        # The same URL through alembic.ini-style config: "%" must be doubled for configparser.
        config = Config()
        config.set_main_option("sqlalchemy.url", url.render_as_string(hide_password=False).replace("%", "%%"))
        assert config.get_main_option("sqlalchemy.url") == url.render_as_string(hide_password=False)

        async def via_config() -> str:
            engine = async_engine_from_config(config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.")
            async with engine.connect() as conn:
                user = (await conn.execute(text("SELECT current_user"))).scalar()
            await engine.dispose()
            return str(user)

        assert asyncio.run(via_config()) == role
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"REVOKE ALL ON DATABASE {fresh_database.database} FROM {role}"))
            conn.execute(text(f"DROP ROLE IF EXISTS {role}"))
        admin.dispose()


def test_with_nothing_set_the_app_expects_a_local_server(no_settings: Path) -> None:
    url = Settings().DATABASE_URL_asyncpg
    assert (url.host, url.port, url.username, url.database) == ("localhost", 5432, "postgres", "postgres")


def test_a_socket_directory_goes_in_the_query(monkeypatch: pytest.MonkeyPatch, no_settings: Path) -> None:
    monkeypatch.setenv("DB_HOST", "/var/run/postgresql")
    url = Settings().DATABASE_URL_sync
    assert url.host is None and url.query == {"host": "/var/run/postgresql"}


def test_importing_the_app_starts_nothing(no_settings: Path) -> None:
    """Every app module imports in a fresh interpreter, with nothing configured, without starting a process."""
    import subprocess
    import sys

    probe = (
        "import importlib, pkgutil, psutil, app, app.models\n"
        "names = ['app.backend.DB_config', 'app.backend.DB_engine', 'app.models']\n"
        "names += [m.name for m in pkgutil.iter_modules(app.models.__path__, 'app.models.')]\n"
        "for name in names: importlib.import_module(name)\n"
        "print(len(names), len(psutil.Process().children(recursive=True)))\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in SETTING_NAMES}
    proc = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    modules, children = map(int, proc.stdout.split())
    assert modules >= 6 and children == 0
