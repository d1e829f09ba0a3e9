"""Is the database where this code expects it? The app asks at start-up and refuses to run otherwise."""

from pathlib import Path

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncEngine

ALEMBIC_INI = Path(__file__).resolve().parents[1] / "alembic.ini"


class DatabaseNotAtHead(RuntimeError):
    """The database's revision is not the head of migrations/versions."""


def code_heads() -> set[str]:
    """The head revision(s) of the migration scripts: what `alembic heads` prints."""
    return set(ScriptDirectory.from_config(Config(ALEMBIC_INI)).get_heads())


async def database_heads(engine: AsyncEngine) -> set[str]:
    """The revision(s) in the database's alembic_version table: what `alembic current` prints."""
    async with engine.connect() as conn:
        return set(await conn.run_sync(lambda sync_conn: MigrationContext.configure(sync_conn).get_current_heads()))


async def require_head(engine: AsyncEngine) -> None:
    expected, found = code_heads(), await database_heads(engine)
    if found != expected:
        raise DatabaseNotAtHead(
            f"the database is at {', '.join(sorted(found)) or 'no revision'}, this code needs "
            f"{', '.join(sorted(expected))}: run `python -m alembic upgrade head` first"
        )
