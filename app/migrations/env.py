"""Alembic's migration environment for the shop: async SQLAlchemy over asyncpg.

The database URL comes from ``app.backend.DB_config.settings`` (environment / ``.env``),
never from ``alembic.ini``. A caller may also hand over an open connection in
``config.attributes["connection"]`` (Alembic cookbook: "Sharing a Connection"), which is
how tests and notebooks run migrations in-process.
"""

import asyncio
from logging.config import fileConfig

from sqlalchemy import pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, async_engine_from_config

from alembic import context
from alembic.util import CommandError

import app.models  # noqa: F401 - registers every model on Base.metadata before we read it
from app.backend.DB_config import settings
from app.backend.DB_engine import Base

config = context.config

if config.config_file_name is not None:
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata

if not config.get_main_option("sqlalchemy.url"):
    # configparser treats "%" as interpolation: a password with "%" must be doubled here.
    url = settings.DATABASE_URL_asyncpg.render_as_string(hide_password=False)
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))


def run_migrations_offline() -> None:
    """Write the SQL to stdout (``alembic upgrade ... --sql``) instead of running it."""
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def do_run_migrations(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()


async def run_async_migrations(connectable: AsyncEngine | None = None) -> None:
    """Connect with an async engine (ours, or one the caller owns) and migrate over that connection."""
    owned = connectable is None
    if connectable is None:
        connectable = async_engine_from_config(
            config.get_section(config.config_ini_section, {}),
            prefix="sqlalchemy.",
            poolclass=pool.NullPool,
        )
    try:
        try:
            connection = await connectable.connect()
        except Exception as error:  # one clear line instead of a long driver traceback
            raise CommandError(f"cannot connect to {connectable.url!r}: {error}") from None
        try:
            await connection.run_sync(do_run_migrations)
        finally:
            await connection.close()
    finally:
        if owned:
            await connectable.dispose()


def run_migrations_online() -> None:
    shared = config.attributes.get("connection")
    if shared is None:
        asyncio.run(run_async_migrations())
    elif isinstance(shared, AsyncEngine):  # e.g. pytest-alembic's alembic_engine fixture
        asyncio.run(run_async_migrations(shared))
    else:  # a sync Connection shared by the caller: use it as it is
        do_run_migrations(shared)


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
