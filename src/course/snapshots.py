"""Snapshots of a workspace (its files and its database), so an exercise can start over.

``%exercise 07.1`` at the top of an exercise cell takes one, the first time it runs after a
setup call: the workspace as the chapter left it. ``restore`` brings it back and keeps what the
learner had made in ``notebooks/workspaces/<name>-attempts/`` (never thrown away). The files go
to ``notebooks/workspaces/.snapshots/`` and the database is copied with
``CREATE DATABASE … TEMPLATE``, which needs a moment with no connection to it.
"""

from __future__ import annotations

import filecmp
import hashlib
import re
import shutil
from pathlib import Path

from sqlalchemy import text

from course.database import connect, create_database, fit_identifier, release, server_settings
from course.paths import WORKSPACES
from course.workspace import Workspace

SKIP = shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints", ".pytest_cache", ".ruff_cache")


def _folder(ws: Workspace, key: str) -> Path:
    return WORKSPACES / ".snapshots" / ws.name / key


def database_for(ws: Workspace, key: str) -> str:
    return fit_identifier(_prefix(ws.database) + re.sub(r"[^a-z0-9]+", "_", key.lower()))


def _prefix(database: str) -> str:
    """What the names of ``database``'s snapshots start with: short enough that a long name keeps it whole."""
    if len(database) <= 40:
        return f"{database}_snap_"
    return f"{database[:40]}_{hashlib.sha256(database.encode()).hexdigest()[:6]}_snap_"


def _copy_database(source: str, target: str) -> None:
    release(source)  # the course's own pooled connections; the learner's are ended below
    release(target)
    settings = server_settings()
    with connect(settings.url, autocommit=True) as conn:
        conn.execute(
            # Client sessions only: an autovacuum worker has no role, and only a superuser may signal it
            # (CREATE DATABASE ... TEMPLATE ends it by itself).
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = :d AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
            ),
            {"d": source},
        )
        conn.execute(text(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)'))
        create_database(conn, target, settings, template=source)


def exists(ws: Workspace, key: str) -> bool:
    return _folder(ws, key).is_dir()


def take(ws: Workspace, key: str) -> bool:
    """Snapshot the workspace under ``key`` unless one exists already. Returns whether it took one."""
    folder = _folder(ws, key)
    if folder.is_dir():
        return False
    _copy_database(ws.database, database_for(ws, key))
    shutil.copytree(ws.path, folder, ignore=SKIP)
    return True


def differs(a: Path, b: Path) -> bool:
    """Do two folders hold different files (names or contents), caches aside?"""
    cmp = filecmp.dircmp(a, b, ignore=["__pycache__", ".ipynb_checkpoints", ".pytest_cache", ".ruff_cache"])
    if cmp.left_only or cmp.right_only or cmp.funny_files:
        return True
    if filecmp.cmpfiles(a, b, cmp.common_files, shallow=False)[1:] != ([], []):
        return True
    return any(differs(a / sub, b / sub) for sub in cmp.common_dirs)


def restore(ws: Workspace, key: str) -> Path | None:
    """Put the workspace back as it was at snapshot ``key``; return where the learner's files were kept, if they differed."""
    folder = _folder(ws, key)
    kept = None
    if differs(ws.path, folder):
        attempts = WORKSPACES / f"{ws.name}-attempts"
        number = 1 + sum(1 for p in attempts.glob(f"{key}-*")) if attempts.exists() else 1
        kept = attempts / f"{key}-{number}"
        shutil.copytree(ws.path, kept, ignore=SKIP)
    for entry in ws.path.iterdir():
        if entry.is_dir():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    shutil.copytree(folder, ws.path, ignore=SKIP, dirs_exist_ok=True)
    _copy_database(database_for(ws, key), ws.database)
    return kept


def forget(ws_name: str, database: str) -> None:
    """Drop a workspace's snapshots (files and databases): its setup call is starting it over."""
    shutil.rmtree(WORKSPACES / ".snapshots" / ws_name, ignore_errors=True)
    with connect(server_settings().url, autocommit=True) as conn:
        names = conn.execute(
            text("SELECT datname FROM pg_database WHERE starts_with(datname, :prefix)"), {"prefix": _prefix(database)}
        ).scalars()
        for name in list(names):
            release(name)
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
