"""The course's PostgreSQL server and the per-notebook databases on it.

The server is whatever the learner configured (``DATABASE_URL`` or ``DB_*`` in the
environment or in the checkout's ``.env``), else the embedded one. Every notebook gets
its own database on that server, dropped and created again by each setup call.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

from sqlalchemy import URL, create_engine, text

CHECKOUT = Path(__file__).resolve().parents[2]
SETTING_NAMES = ("DATABASE_URL", "DB_HOST", "DB_PORT", "DB_USER", "DB_PASS", "DB_NAME")

# The database settings the process started with. Setup removes them from os.environ so that
# a workspace's own .env decides where its `alembic` commands go; the server stays known here.
_STARTUP_SETTINGS: dict[str, str] = {k: os.environ[k] for k in SETTING_NAMES if k in os.environ}


class DatabaseUnavailable(RuntimeError):
    """The configured database cannot be reached. Shown in a notebook as a few plain lines."""

    def _render_traceback_(self) -> list[str]:  # IPython shows this instead of a traceback
        return [str(self)]


def server_settings(environ: Mapping[str, str] | None = None):  # -> app.backend.DB_config.Settings
    """Settings for the server: startup environment first, then the checkout's .env."""
    from app.backend.DB_config import Settings

    values = dict(_STARTUP_SETTINGS if environ is None else {k: v for k, v in environ.items() if k in SETTING_NAMES})
    return Settings(_env_file=CHECKOUT / ".env", **values)  # type: ignore[call-arg]


def database_name_for(name: str) -> str:
    """``03-configure-async-env`` -> ``course_03_configure_async_env`` (a valid, lower-case identifier)."""
    slug = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
    return f"course_{slug}"[:63]


def check_server(settings=None) -> str:  # type: ignore[no-untyped-def]
    """Connect once; return the server version or raise DatabaseUnavailable with a short message."""
    from app.backend.DB_config import explain_connection_error

    settings = settings or server_settings()
    try:
        engine = create_engine(settings.DATABASE_URL_sync, connect_args={"connect_timeout": 5})
        try:
            with engine.connect() as conn:
                return str(conn.execute(text("SHOW server_version")).scalar())
        finally:
            engine.dispose()
    except Exception as error:  # noqa: BLE001 - every failure becomes the short message
        raise DatabaseUnavailable(explain_connection_error(error, settings)) from None


def recreate_database(name: str, settings=None) -> URL:  # type: ignore[no-untyped-def]
    """Drop (forcing out old connections) and create database ``name``; return its sync URL."""
    settings = settings or server_settings()
    check_server(settings)
    engine = create_engine(settings.DATABASE_URL_sync, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()
    return settings.DATABASE_URL_sync.set(database=name)


def drop_database(name: str, settings=None) -> None:  # type: ignore[no-untyped-def]
    settings = settings or server_settings()
    engine = create_engine(settings.DATABASE_URL_sync, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        engine.dispose()


def env_file_text(url: URL) -> str:
    """The ``.env`` a workspace gets: the DB_* parts of ``url``, quoted so any password survives.

    python-dotenv reads single-quoted values literally, except for ``\\'`` and ``\\\\``. A password
    holding a quote or a backslash therefore goes in DATABASE_URL instead, percent-encoded.
    """
    header = "# Written by course.setup(): where this workspace's database is. Not committed.\n"
    password = url.password or ""
    if "'" in password or "\\" in password:
        return header + f"DATABASE_URL='{url.set(drivername='postgresql').render_as_string(hide_password=False)}'\n"
    host = url.query.get("host") or url.host or "localhost"
    if isinstance(host, tuple):
        host = host[0]
    lines = [
        f"DB_HOST='{host}'",
        f"DB_PORT={url.port or 5432}",
        f"DB_USER='{url.username or 'postgres'}'",
        f"DB_PASS='{password}'",
        f"DB_NAME='{url.database or ''}'",
    ]
    return header + "\n".join(lines) + "\n"
