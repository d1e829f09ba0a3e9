"""IPython glue: ``%alembic`` and the ``%sql`` connection.

``%alembic upgrade head`` runs exactly ``alembic upgrade head`` (the real CLI, in a new
process) in the workspace folder, as a learner would in a terminal opened there. Its
output is shown with the workspace's absolute path written as ``.``, so the notebook
reads the same on every machine. On Linux and macOS the new process is forked from a warm
one that has already imported SQLAlchemy and Alembic (see ``course.alembic_runner``):
same entry point, same output, a tenth of the start-up time.
"""

from __future__ import annotations

import shlex
import sys

from course.alembic_runner import run_alembic
from course.paths import CHECKOUT
from course.portable import portable
from course.workspace import Workspace


def relative_output(text: str, ws: Workspace) -> str:
    """Write machine paths portably: the workspace as a relative path, the venv and the course as <venv>, <course>."""
    places = ((sys.prefix, "<venv>"), (sys.base_prefix, "<python>"), (str(CHECKOUT), "<course>"))
    return portable(text, str(ws.path), places)


def split_command_line(line: str, *, windows: bool = sys.platform == "win32") -> list[str]:
    """Split ``%alembic`` arguments as the learner's shell would: on Windows a backslash is a path separator."""
    if not windows:
        return shlex.split(line, posix=True)
    lexer = shlex.shlex(line, posix=True, punctuation_chars=False)
    lexer.whitespace_split = True
    lexer.escape = ""  # PowerShell and cmd keep backslashes; quotes still group words
    return list(lexer)


def register(ip, ws: Workspace) -> None:
    def alembic(line: str) -> None:
        proc = run_alembic(ws.path, split_command_line(line), check=False)
        print(relative_output(proc.stdout, ws), end="")

    ip.register_magic_function(alembic, magic_kind="line", magic_name="alembic")
    # Errors show as their last line ("ValueError: ..."), without frames full of this machine's
    # paths; `%xmode Context` brings full tracebacks back.
    ip.InteractiveTB.set_mode(mode="Minimal")  # what %xmode does, without printing

    if "sql" not in ip.magics_manager.magics["line"]:
        ip.run_line_magic("load_ext", "sql")
    ip.run_line_magic("config", "SqlMagic.displaycon = False")
    ip.run_line_magic("config", "SqlMagic.autopandas = False")
    ip.run_line_magic("config", "SqlMagic.feedback = False")
    _wrap_sql_magic(ip)
    from sql.connection import Connection

    Connection(ws.sync_url)  # becomes Connection.current; the URL object keeps the password out of any source


def _wrap_sql_magic(ip) -> None:
    """Make ``%sql`` show nothing for statements that return no rows (CREATE, INSERT…) instead of ``[]``."""
    line_magics = ip.magics_manager.magics["line"]
    original = line_magics["sql"]
    original = getattr(original, "__wrapped_sql__", original)

    def sql(line: str = "", cell: str = "", local_ns: dict | None = None):
        try:
            result = original(line, cell, local_ns=local_ns or {})
        finally:
            _end_failed_transaction()
        if isinstance(result, list) and getattr(result, "pretty", "rows") is None:
            return None  # a statement without a result set: nothing to show
        return result

    sql.needs_local_scope = True
    sql.__wrapped_sql__ = original
    ip.register_magic_function(sql, magic_kind="line_cell", magic_name="sql")


def _end_failed_transaction() -> None:
    """ipython-sql prints a failed statement's error but leaves its transaction open (and aborted),
    holding locks that would make the next ``alembic`` command wait. Close it."""
    from sql.connection import Connection

    conn = Connection.current
    if conn is not None and conn.internal_connection.in_transaction():
        conn.internal_connection.rollback()
