"""The course's machinery: one call at the top of each notebook.

    import course
    ws = course.setup("04-autogenerate-initial", start="configured")

gives the notebook a fresh workspace (``notebooks/workspaces/<name>/``) and a fresh
database on the course's PostgreSQL, moves the kernel into the workspace, connects
``%sql`` to that database and registers ``%alembic``. Calling it again resets both.

One module per concern: ``paths`` (where the checkout is), ``embedded`` (the embedded
PostgreSQL), ``explain`` (connection errors in plain words), ``database`` (the server's
settings and the per-notebook databases), ``workspace`` (workspaces and starting states),
``alembic_runner`` (the real ``alembic`` CLI, warm), ``magics`` (``%alembic``, ``%sql``),
``portable`` (outputs the same on every OS), ``show`` (files, trees, diffs), ``edits`` (``%%replace``
and friends), ``starts`` (starting states, built once), ``testing`` (pytest in a workspace),
``terminal`` (``course.alembic``: a command's output, trimmed for reading), ``snapshots``,
``practice`` (check, solution, catch-up, progress) with ``exercises/``
(one module per notebook), ``diagrams`` and ``cli`` (``python -m course``).
Importing this package starts nothing and imports little: the names below load on first use.
"""

from __future__ import annotations

import importlib
import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from course.database import DatabaseUnavailable, check_server, server_settings
    from course.edits import edit_file
    from course.paths import CHECKOUT
    from course.practice import catch_up, check, progress, restart_exercise, solution
    from course.show import show_diff, show_file, show_tree
    from course.terminal import alembic
    from course.testing import run_pytest
    from course.workspace import STARTING_STATES, Workspace

# name -> module it comes from (loaded lazily, so `python -m course.alembic_runner` stays light)
_EXPORTS = {
    "CHECKOUT": "course.paths",
    "DatabaseUnavailable": "course.database",
    "check_server": "course.database",
    "server_settings": "course.database",
    "edit_file": "course.edits",
    "show_diff": "course.show",
    "show_file": "course.show",
    "show_tree": "course.show",
    "STARTING_STATES": "course.workspace",
    "Workspace": "course.workspace",
    "check": "course.practice",
    "solution": "course.practice",
    "catch_up": "course.practice",
    "restart_exercise": "course.practice",
    "progress": "course.practice",
    "run_pytest": "course.testing",
    "alembic": "course.terminal",
}

__all__ = [
    "CHECKOUT",
    "alembic",
    "catch_up",
    "check",
    "progress",
    "restart_exercise",
    "run_pytest",
    "solution",
    "STARTING_STATES",
    "DatabaseUnavailable",
    "Workspace",
    "check_server",
    "edit_file",
    "query",
    "revision_graph",
    "schema_diagram",
    "server_settings",
    "setup",
    "show_diff",
    "show_file",
    "show_tree",
    "table_names",
]

_current: Workspace | None = None


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'course' has no attribute {name!r}")


def setup(name: str, start: str = "app", language: str = "en") -> Workspace:
    """Give notebook ``name`` a fresh workspace and database at starting state ``start``.

    ``language``: the edition's (``"ru"`` in ``notebooks/ru/``): the course's messages from now on,
    and a workspace and database of the edition's own (``07-evolving-the-schema-ru``), so that both
    editions of a notebook can run side by side.
    """
    import sys

    from course import i18n
    from course.database import SETTING_NAMES
    from course.paths import CHECKOUT, NOTEBOOKS
    from course.workspace import create_workspace

    global _current
    _close_sql_connections()
    os.chdir(CHECKOUT)  # out of the old workspace, which create_workspace may delete
    try:
        # Tests that run a notebook beside nbval (or a second copy of it) add a suffix to stay apart.
        i18n.set_language(language)
        ws = create_workspace(name + i18n.edition_suffix() + os.environ.get("COURSE_WORKSPACE_SUFFIX", ""), start)
    except BaseException:
        # Never leave the kernel in the checkout: there, the notebook's next `%%writefile app/…`
        # or edit would change the course's own app/. In notebooks/, such a path does not exist.
        _current = None
        os.chdir(NOTEBOOKS)
        raise
    for key in SETTING_NAMES:  # from now on the workspace's .env says where the database is
        os.environ.pop(key, None)
    os.chdir(ws.path)
    # `import app` now means the workspace's app: forget any copy imported from another folder.
    for module in [m for m in sys.modules if m == "app" or m.startswith("app.")]:
        del sys.modules[module]
    while str(ws.path) in sys.path:
        sys.path.remove(str(ws.path))
    sys.path.insert(0, str(ws.path))
    _current = ws
    _register_magics(ws)
    return ws


def query(sql: str, **params: object) -> list[tuple[Any, ...]]:
    """Rows of ``sql`` on the current workspace's database (for check cells and small helpers)."""
    from sqlalchemy import text

    from course.database import connect

    with connect(_require().sync_url) as conn:
        return [tuple(row) for row in conn.execute(text(sql), params)]


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
    if _current is None:
        from course.i18n import tr

        raise RuntimeError(tr("Run the notebook's setup cell (course.setup(...)) first."))
    return _current


def _close_sql_connections() -> None:
    try:
        from sql.connection import Connection
    except ImportError:
        return
    for conn in list(Connection.connections.values()):
        try:
            conn.internal_connection.close()
            conn.internal_connection.engine.dispose()
        except Exception:  # noqa: BLE001, S110 - a connection to a dropped database may already be gone
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
