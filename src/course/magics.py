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
from pathlib import Path

from course.alembic_runner import run_alembic
from course.i18n import tr
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


def generated_before(workspace: Path, args: list[str]) -> str | None:
    """For ``revision``/``merge`` with ``-m MESSAGE``: the revision file already written with that message, if any.

    Running such a cell again would write a second, empty revision: the course says so instead.
    """
    if not args or args[0] not in ("revision", "merge"):
        return None
    message = next((args[i + 1] for i, a in enumerate(args[:-1]) if a in ("-m", "--message")), None)
    if message is None or "--sql" in args:
        return None
    for path in sorted(workspace.glob("**/versions/*.py")):
        text = path.read_text(encoding="utf-8", errors="replace")
        if text.startswith(f'"""{message}\n'):
            return path.relative_to(workspace).as_posix()
    return None


def already_generated(path: str) -> str:
    """What ``%alembic revision -m MESSAGE`` says instead of writing a second file with that message."""
    return tr(
        "Already generated: {path} has this message (this cell ran before), so it is not generated twice.\n"
        "Delete that file first to generate it again.",
        path=path,
    )


def register(ip, ws: Workspace) -> None:
    def alembic(line: str) -> None:
        args = split_command_line(line)
        already = generated_before(ws.path, args)
        if already is not None:
            print(already_generated(already))
            return
        proc = run_alembic(ws.path, args, check=False)
        print(relative_output(proc.stdout, ws), end="")

    ip.register_magic_function(alembic, magic_kind="line", magic_name="alembic")

    from course import edits

    def replace(line: str, cell: str) -> None:
        """%%replace PATH NAME: the cell's code becomes NAME in PATH (shows the diff; safe to run again)."""
        edits.replace_definition(*edits.parse_magic_line(line), cell)

    def insert_after(line: str, cell: str) -> None:
        """%%insert_after PATH NAME: the cell's code goes right after NAME in PATH (safe to run again)."""
        edits.insert_after(*edits.parse_magic_line(line), cell)

    def exercise(line: str) -> None:
        """%exercise 07.1: this cell is your answer to exercise 07.1 (saves the workspace once, to start over from)."""
        from course.practice import start

        start(line.strip())

    ip.register_magic_function(exercise, magic_kind="line", magic_name="exercise")
    ip.register_magic_function(replace, magic_kind="cell", magic_name="replace")
    ip.register_magic_function(insert_after, magic_kind="cell", magic_name="insert_after")
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
