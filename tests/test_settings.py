"""app.backend.DB_config.Settings: where values come from, hostile passwords, no leaks."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
from sqlalchemy import text

from app.backend.DB_config import Settings, explain_connection_error

HOSTILE = "p@ss:w%rd/#?"


def test_values_come_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DB_HOST", "db.example")
    monkeypatch.setenv("DB_PORT", "6543")
    monkeypatch.setenv("DB_USER", "shop")
    monkeypatch.setenv("DB_PASS", HOSTILE)
    monkeypatch.setenv("DB_NAME", "shopdb")
    url = Settings().DATABASE_URL_asyncpg
    assert (url.drivername, url.host, url.port, url.username, url.password, url.database) == (
        "postgresql+asyncpg", "db.example", 6543, "shop", HOSTILE, "shopdb"
    )


def test_values_come_from_dotenv_and_the_environment_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in ("DB_HOST", "DB_PORT", "DB_USER", "DB_PASS", "DB_NAME", "DATABASE_URL"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("DB_HOST=from-dotenv\nDB_NAME=dotenv_db\nDB_PASS='" + HOSTILE + "'\n")
    settings = Settings()
    assert settings.DATABASE_URL_sync.host == "from-dotenv"
    assert settings.DATABASE_URL_sync.password == HOSTILE
    monkeypatch.setenv("DB_NAME", "env_db")
    assert Settings().DATABASE_URL_sync.database == "env_db"


def test_one_database_url_wins_over_the_parts(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DB_HOST", "ignored")
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:p%40ss@h:5555/d")
    settings = Settings()
    assert settings.DATABASE_URL_asyncpg.drivername == "postgresql+asyncpg"
    assert settings.DATABASE_URL_sync.drivername == "postgresql+psycopg"
    assert (settings.DATABASE_URL_sync.host, settings.DATABASE_URL_sync.password) == ("h", "p@ss")


def test_the_password_never_shows(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DB_HOST", "db.example")
    monkeypatch.setenv("DB_PASS", HOSTILE)
    settings = Settings()
    shown = [repr(settings), str(settings), str(settings.DATABASE_URL_asyncpg), repr(settings.DATABASE_URL_sync), settings.describe()]
    with caplog.at_level(logging.INFO):
        logging.getLogger("test").info("connecting to %s", settings.DATABASE_URL_asyncpg)
    shown.append(caplog.text)
    for text_ in shown:
        assert HOSTILE not in text_
        assert "w%rd" not in text_ and "w%25rd" not in text_


def test_hostile_password_reaches_a_real_asyncpg_connection_and_alembic(fresh_database, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
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


def test_an_unreachable_server_gets_a_short_actionable_message(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from sqlalchemy import create_engine

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DB_HOST", "127.0.0.1")
    monkeypatch.setenv("DB_PORT", "1")  # nothing listens there
    monkeypatch.setenv("DB_PASS", HOSTILE)
    settings = Settings()
    with pytest.raises(Exception) as caught:
        with create_engine(settings.DATABASE_URL_sync).connect():
            pass
    message = explain_connection_error(caught.value, settings)
    assert len(message.splitlines()) <= 6
    assert "no PostgreSQL server answered" in message
    assert "DB_HOST / DB_PORT" in message
    assert HOSTILE not in message
