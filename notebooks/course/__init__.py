"""The course's machinery: one call at the top of each notebook.

    import course
    ws = course.setup("04-autogenerate-initial", start="configured")

gives the notebook a fresh workspace (``notebooks/workspaces/<name>/``) and a fresh
database on the course's PostgreSQL, moves the kernel into the workspace, connects
``%sql`` to that database and registers ``%alembic``. Calling it again resets both.
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

from course.database import CHECKOUT, SETTING_NAMES, DatabaseUnavailable, check_server, server_settings
from course.show import edit_file, show_diff, show_file, show_tree
from course.checks import verdict
from course.workspace import STARTING_STATES, Workspace, create_workspace, run_alembic

if str(CHECKOUT) not in sys.path:  # the reference app (`import app`) for the course's own use
    sys.path.insert(1, str(CHECKOUT))

__all__ = [
    "DatabaseUnavailable",
    "STARTING_STATES",
    "Workspace",
    "check_server",
    "current",
    "edit_file",
    "query",
    "table_names",
    "revision_graph",
    "schema_diagram",
    "server_settings",
    "setup",
    "show_diff",
    "show_file",
    "show_tree",
    "verdict",
]

current: Workspace | None = None


def _forget_app_modules() -> None:
    """Drop imported ``app`` modules so the next ``import app...`` reads the workspace's files and .env."""
    for name in [m for m in sys.modules if m == "app" or m.startswith("app.")]:
        del sys.modules[name]


def setup(name: str, start: str = "app") -> Workspace:
    """Give notebook ``name`` a fresh workspace and database at starting state ``start``."""
    global current
    _close_sql_connections()
    os.chdir(CHECKOUT)
    # Tests that run a notebook beside nbval (or a second copy of it) add a suffix to stay apart.
    ws = create_workspace(name + os.environ.get("COURSE_WORKSPACE_SUFFIX", ""), start)
    for key in SETTING_NAMES:  # from now on the workspace's .env says where the database is
        os.environ.pop(key, None)
    os.chdir(ws.path)
    for entry in (str(CHECKOUT),):
        while entry in sys.path:
            sys.path.remove(entry)
    sys.path.insert(0, str(ws.path))
    _forget_app_modules()
    current = ws
    _register_magics(ws)
    return ws


def query(sql: str, **params: object) -> list[tuple]:
    """Rows of ``sql`` on the current workspace's database (for check cells and small helpers)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(_require().sync_url)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(sql), params)]
    finally:
        engine.dispose()


def table_names() -> list[str]:
    """Tables in the public schema of the current workspace's database, sorted."""
    return [row[0] for row in query("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")]


def schema_diagram() -> None:
    """The current workspace database's live schema as an ER diagram."""
    from course.diagrams import schema_diagram as draw

    draw(_require().sync_url)


def revision_graph() -> None:
    """The current workspace's revision history, with the database's revision highlighted."""
    from course.diagrams import revision_graph as draw

    ws = _require()
    draw(ws.path / "alembic.ini", ws.sync_url)


def _require() -> Workspace:
    if current is None:
        raise RuntimeError("call course.setup(...) first")
    return current


def _close_sql_connections() -> None:
    try:
        from sql.connection import Connection
    except ImportError:
        return
    for conn in list(Connection.connections.values()):
        try:
            conn.internal_connection.close()
            conn.internal_connection.engine.dispose()
        except Exception:  # noqa: BLE001 - a connection to a dropped database may already be gone
            pass
    Connection.connections.clear()
    Connection.current = None


def _register_magics(ws: Workspace) -> None:
    try:
        from IPython import get_ipython
    except ImportError:
        return
    ip = get_ipython()
    if ip is None:
        return
    from course.magics import register

    register(ip, ws)


def _quiet_platformdirs() -> None:
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")


_quiet_platformdirs()
