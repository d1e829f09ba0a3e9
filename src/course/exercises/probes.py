"""What checks look at: the workspace's files, its database and Alembic's state. Nothing from the kernel."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

from sqlalchemy import text

from course.alembic_runner import run_alembic
from course.database import connect
from course.i18n import tr
from course.workspace import Workspace


def rows(ws: Workspace, sql: str, **params: object) -> list[tuple[Any, ...]]:
    with connect(ws.sync_url) as conn:
        return [tuple(row) for row in conn.execute(text(sql), params)]


def tables(ws: Workspace) -> set[str]:
    return {r[0] for r in rows(ws, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}


def column(ws: Workspace, table: str, name: str) -> tuple[str, str, str | None] | None:
    """(data type, "YES"/"NO" nullable, default) of a column, or None if there is no such column."""
    found = rows(
        ws,
        "SELECT data_type, is_nullable, column_default FROM information_schema.columns"
        " WHERE table_schema = 'public' AND table_name = :t AND column_name = :c",
        t=table,
        c=name,
    )
    return found[0] if found else None


def current(ws: Workspace) -> set[str]:
    """The revisions ``alembic_version`` holds (empty if the table is not there)."""
    if "alembic_version" not in tables(ws):
        return set()
    return {r[0] for r in rows(ws, "SELECT version_num FROM alembic_version")}


def script(ws: Workspace):  # -> alembic.script.ScriptDirectory
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(Config(str(ws.path / "alembic.ini")))


def heads(ws: Workspace) -> set[str]:
    return set(script(ws).get_heads())


def at_head(ws: Workspace) -> bool:
    return bool(current(ws)) and current(ws) == heads(ws)


def alembic(ws: Workspace, *args: str) -> tuple[bool, str]:
    """Run the real ``alembic <args>``; (succeeded, its last non-empty line)."""
    proc = run_alembic(ws.path, list(args), check=False)
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    return proc.returncode == 0, (lines[-1] if lines else "")


def revision_files(ws: Workspace) -> list[Path]:
    versions = ws.path / "app" / "migrations" / "versions"
    return sorted(versions.glob("*.py")) if versions.exists() else []


def revision_file(ws: Workspace, slug: str) -> Path | None:
    """The revision file whose name ends in ``_<slug>.py``, if exactly one does."""
    found = [p for p in revision_files(ws) if p.stem.endswith(slug)]
    return found[0] if len(found) == 1 else None


def syntax_error(path: Path) -> str | None:
    """Why a Python file does not parse ("line 12: invalid syntax"), or None."""
    try:
        ast.parse(path.read_text(encoding="utf-8"))
    except SyntaxError as error:
        return tr("{file} does not parse (line {line}: {error})", file=_shown(path), line=error.lineno, error=error.msg)
    return None


def _shown(path: Path) -> str:
    """A path as the learner knows it: relative to the workspace (checks run there)."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()
