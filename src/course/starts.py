"""Starting states, built once: a folder and a template database per state, copied by each setup call.

A setup call gives the notebook what the previous chapters leave behind (``workspace.STARTING_STATES``):
the shop's files, ``alembic init``'s output, the async ``env.py``, the first revision, an
``alembic upgrade head``, a few rows. Doing that for real at every setup costs a second or more
(most of it the upgrade). So the first setup call that needs a state builds it for real, into
``notebooks/workspaces/.starts/<state>-<key>/`` and a database ``course_start_<state>_<key>``;
every later one copies the folder and makes the notebook's database with
``CREATE DATABASE … TEMPLATE`` (a file copy on the server). The result is the same files and the
same rows.

``key`` is a hash of everything a state is built from (the reference ``app/``, the starter
models, this package's workspace code, Alembic's version), so a change to any of them builds the
state again (``python run.py clean`` removes the older builds). Builds take a PostgreSQL
advisory lock: parallel setups (the test suite's workers, a classroom) build each state once.
"""

from __future__ import annotations

import hashlib
import shutil
import uuid
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from sqlalchemy import URL, text

from course.database import ServerSettings, connect, database_name_for, env_file_text, recreate_database, release
from course.paths import REFERENCE_APP, WORKSPACES

STARTS = WORKSPACES / ".starts"
SKIP = shutil.ignore_patterns("__pycache__")


@dataclass(frozen=True)
class Start:
    """A built starting state: its files and its template database."""

    state: str
    folder: Path
    database: str


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


@cache
def key() -> str:
    """A hash of what the starting states are built from (12 hex digits)."""
    from importlib.metadata import version

    from course import workspace

    digest = hashlib.sha256(f"alembic {version('alembic')}\n".encode())
    sources = [(REFERENCE_APP, p) for p in _files(REFERENCE_APP)]
    sources += [(workspace.STARTER_MODELS, p) for p in _files(workspace.STARTER_MODELS)]
    sources += [(Path(__file__).parent, Path(workspace.__file__)), (Path(__file__).parent, Path(__file__))]
    for root, path in sources:
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def _database_exists(settings: ServerSettings, name: str) -> bool:
    with connect(settings.url) as conn:
        return conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first() is not None


def prepared(state: str, settings: ServerSettings) -> Start:
    """The built state ``state`` (building it first if this server or this checkout lacks it)."""
    start = Start(state, STARTS / f"{state}-{key()}", database_name_for(f"start-{state}-{key()}", settings))
    if start.folder.is_dir() and _database_exists(settings, start.database):
        return start
    lock = int(hashlib.sha256(start.database.encode()).hexdigest()[:15], 16)  # fits a bigint
    with connect(settings.url, autocommit=True) as conn:
        conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": lock})
        try:
            if not (start.folder.is_dir() and _database_exists(settings, start.database)):
                _build(start, settings)
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": lock})
    return start


def _build(start: Start, settings: ServerSettings) -> None:
    """Build ``start`` for real: a new database, the state's own steps in a new folder, then move it in place."""
    from course.workspace import STARTING_STATES

    # Built under another name, renamed into place when complete: `prepared`'s quick check (no lock)
    # must never take a half-built database for the state (its folder may exist from another server).
    in_progress = database_name_for(f"building-{start.state}-{key()}", settings)
    url: URL = recreate_database(in_progress, settings)
    building = STARTS / f".{start.folder.name}.building-{uuid.uuid4().hex[:8]}"
    building.mkdir(parents=True)
    try:
        (building / ".env").write_text(env_file_text(url), encoding="utf-8")  # the state's alembic commands read it
        STARTING_STATES[start.state](building, url)
        release(in_progress)  # a template database must have no connection when it is renamed and copied
        with connect(settings.url, autocommit=True) as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{start.database}" WITH (FORCE)'))
            conn.execute(text(f'ALTER DATABASE "{in_progress}" RENAME TO "{start.database}"'))
        (building / ".env").unlink()
        if not start.folder.is_dir():  # another learner on this checkout may have built the same files
            try:
                building.rename(start.folder)
            except OSError:  # ... just now: theirs are the same (the key says so)
                pass
    finally:
        shutil.rmtree(building, ignore_errors=True)


def copy_into(start: Start, path: Path) -> None:
    """The state's files into a new workspace folder ``path`` (a build has no .env: that is the caller's)."""
    shutil.copytree(start.folder, path, ignore=SKIP)
