"""A command's output, trimmed for reading: ``course.alembic``.

``%alembic upgrade head`` shows everything ``alembic upgrade head`` prints, as a terminal
would. When a command is expected to fail (the point of many cells), its Python traceback is
forty lines of frames inside Alembic and SQLAlchemy, and the one line that matters is at the
bottom. ``course.alembic`` runs the same real command and shows it shortened:

    course.alembic("upgrade head")                  # a traceback cut down to the error it ends with
    course.alembic("check", exit_code=True)         # ... and the exit code, as CI would see it
    course.alembic("current", last=1)               # only the last line
    course.alembic("upgrade head", info=False)      # without Alembic's INFO log lines
    course.alembic("upgrade head", traceback="full")  # every frame, as %alembic shows it

``trim`` does the shortening on any text, so it can be tested (and reused) without a command.
"""

from __future__ import annotations

import re
from typing import Literal

from course.i18n import tr
from course.magics import already_generated, generated_before, relative_output, split_command_line

TRACEBACK = "Traceback (most recent call last):"
# The line a traceback ends with: "sqlalchemy.exc.ProgrammingError: ...", "KeyError: 'x'", "FAILED: ..."
_ERROR_LINE = re.compile(r"^[A-Za-z_][\w.]*(: |$)")


def trim(
    text: str,
    *,
    traceback: Literal["short", "full"] = "short",
    info: bool = True,
    last: int | None = None,
    width: int | None = 160,
) -> list[str]:
    """The lines of ``text`` worth reading (see the module's docstring for each option)."""
    if traceback not in ("short", "full"):
        raise ValueError(tr('traceback is "short" or "full", not {value!r}', value=traceback))
    lines = text.splitlines()
    if traceback == "short" and TRACEBACK in lines:
        lines = _short_traceback(lines)
    if not info:
        lines = [line for line in lines if not line.startswith("INFO  [")]
    if last is not None:
        lines = lines[-last:] if last > 0 else []
    if width is not None:
        lines = [line if len(line) <= width else line[: width - 2] + " …" for line in lines]
    return lines


def _short_traceback(lines: list[str]) -> list[str]:
    """What came before the first traceback, then the error the last traceback ends with (and what follows it)."""
    first = lines.index(TRACEBACK)
    final = max(i for i, line in enumerate(lines) if line == TRACEBACK)
    error = next(
        (i for i in range(final + 1, len(lines)) if lines[i] and not lines[i][0].isspace() and _ERROR_LINE.match(lines[i])),
        None,
    )
    if error is None:  # not a shape we know: show it whole rather than lose the error
        return lines
    # No count of the lines left out: it changes with the Python version (3.11+ underlines code with ^^^).
    return [*lines[:first], TRACEBACK, tr('  … frames left out (traceback="full" shows them) …'), *lines[error:]]


def alembic(
    command: str,
    *,
    traceback: Literal["short", "full"] = "short",
    info: bool = True,
    last: int | None = None,
    width: int | None = 160,
    exit_code: bool = False,
) -> None:
    """Run ``alembic <command>`` in this notebook's workspace, like ``%alembic``, and print its output trimmed.

    ``traceback="short"`` (the default) cuts a Python traceback down to the error it ends with;
    ``info=False`` leaves out Alembic's ``INFO`` log lines; ``last=N`` keeps the last N lines;
    ``width`` shortens longer lines (``None``: never); ``exit_code=True`` prints the command's
    exit code last (0 is success, anything else a failure), as a CI job would see it.
    """
    from course import _require

    ws = _require()
    args = split_command_line(command)
    already = generated_before(ws.path, args)
    if already is not None:
        print(already_generated(already))
        return
    proc = ws.alembic(*args, check=False)
    for line in trim(relative_output(proc.stdout, ws), traceback=traceback, info=info, last=last, width=width):
        print(line)
    if exit_code:
        # Alembic fails with sys.exit(-1): 255 for a POSIX shell, 4294967295 (-1 in PowerShell's
        # $LASTEXITCODE) on Windows. One form in the notebooks: the POSIX byte.
        print(tr("exit code: {code}", code=proc.returncode & 0xFF))
