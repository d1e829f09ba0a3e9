"""Shared fixtures: the repository on sys.path, and throw-away databases on the course's server."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
for entry in (str(ROOT / "notebooks"), str(ROOT)):
    if entry not in sys.path:
        sys.path.insert(0, entry)

from course.database import drop_database, recreate_database, server_settings  # noqa: E402


@pytest.fixture
def fresh_database() -> Iterator[object]:
    """A new, empty database on the course's server; its sync URL. Dropped afterwards."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"test_{worker}_{uuid.uuid4().hex[:8]}"
    url = recreate_database(name)
    yield url
    drop_database(name)


@pytest.fixture
def alembic_config() -> dict[str, str]:
    """pytest-alembic: the repository's alembic.ini."""
    return {"file": str(ROOT / "alembic.ini")}


@pytest.fixture
def alembic_engine(fresh_database):  # type: ignore[no-untyped-def]
    """pytest-alembic: an AsyncEngine on a fresh database (env.py takes the shared connection)."""
    from sqlalchemy.pool import NullPool
    from sqlalchemy.ext.asyncio import create_async_engine

    # NullPool: pytest-alembic runs each step in a new event loop; pooled connections would
    # belong to the loop that opened them.
    engine = create_async_engine(fresh_database.set(drivername="postgresql+asyncpg"), poolclass=NullPool)
    yield engine
    import asyncio

    asyncio.run(engine.dispose())


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # type: ignore[no-untyped-def]
    """Say how many tests and how many notebook cells ran (nbval makes one item per cell)."""
    reports = [r for key in ("passed", "failed", "error") for r in terminalreporter.stats.get(key, []) if getattr(r, "when", "call") == "call"]
    cells = [r for r in reports if r.nodeid.endswith(".ipynb") or "::Cell " in r.nodeid]
    notebooks = {r.nodeid.split("::")[0] for r in cells}
    terminalreporter.write_line(
        f"course suite: {len(reports) - len(cells)} tests and {len(cells)} notebook cells in {len(notebooks)} notebooks ran"
    )
