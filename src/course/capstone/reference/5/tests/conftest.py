"""A throw-away database per test (the app's database name + _test), migrated by the project's own Alembic."""

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest
from alembic import command
from alembic.config import Config
from httpx import ASGITransport, AsyncClient
from sqlalchemy import URL, make_url, text
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

from app.database import get_session
from app.main import app
from app.settings import PROJECT, settings

MAIN_URL = make_url(settings.database_url.get_secret_value())
TEST_URL = MAIN_URL.set(database=f"{MAIN_URL.database}_test")


async def _admin(sql: str) -> None:
    """CREATE / DROP DATABASE cannot run in a transaction: an AUTOCOMMIT connection to the app's database."""
    engine = create_async_engine(MAIN_URL, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            await conn.execute(text(sql))
    finally:
        await engine.dispose()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # async tests run with anyio's pytest plugin (it comes with httpx)


@pytest.fixture
def test_database_url() -> Iterator[URL]:
    """An empty database for one test, dropped afterwards."""
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{TEST_URL.database}" WITH (FORCE)'))
    asyncio.run(_admin(f'CREATE DATABASE "{TEST_URL.database}"'))
    yield TEST_URL
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{TEST_URL.database}" WITH (FORCE)'))


@pytest.fixture
def test_alembic_config(test_database_url: URL) -> Config:
    """The project's alembic.ini, pointed at the test database (env.py keeps a URL that is already set)."""
    config = Config(str(PROJECT / "alembic.ini"))
    url = test_database_url.render_as_string(hide_password=False)
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))  # configparser: "%" is doubled
    return config


@pytest.fixture
def migrated(test_database_url: URL, test_alembic_config: Config) -> URL:
    command.upgrade(test_alembic_config, "head")
    return test_database_url


@pytest.fixture
async def client(migrated: URL) -> AsyncIterator[AsyncClient]:
    """httpx's AsyncClient calling the app in-process; its sessions use the migrated test database."""
    engine = create_async_engine(migrated, poolclass=NullPool)
    sessions = async_sessionmaker(engine, expire_on_commit=False)

    async def session_for_tests():
        async with sessions() as session:
            yield session

    app.dependency_overrides[get_session] = session_for_tests
    try:
        async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client:
            yield client
    finally:
        app.dependency_overrides.clear()
        await engine.dispose()
