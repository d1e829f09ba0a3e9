"""course.alembic and course.terminal.trim: a command's output, shortened without losing the error."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any, cast

import pytest

import course
from course.terminal import TRACEBACK, trim
from course.workspace import create_workspace

# A real chained traceback, as Python prints it: an asyncpg-like error re-raised by a wrapper.
CHAINED = """
import sys
print("INFO  [alembic.runtime.migration] Running upgrade  -> 0001, first")
class ProgrammingError(Exception): pass
def execute():
    raise KeyError("products")
def wrapper():
    try:
        execute()
    except KeyError as error:
        raise ProgrammingError('relation "products" does not exist\\n[SQL: SELECT 1]') from error
wrapper()
"""


def _real_traceback() -> str:
    proc = subprocess.run([sys.executable, "-c", CHAINED], capture_output=True, text=True)
    assert proc.returncode == 1
    return proc.stdout + proc.stderr


def test_a_short_traceback_keeps_the_log_before_it_and_the_error_it_ends_with() -> None:
    text = _real_traceback()
    assert text.count(TRACEBACK) == 2  # chained: both tracebacks are there in full
    lines = trim(text)
    assert lines[0].startswith("INFO  [alembic.runtime.migration] Running upgrade")
    assert lines[1] == TRACEBACK and "frames left out" in lines[2]
    assert lines[3:] == ['ProgrammingError: relation "products" does not exist', "[SQL: SELECT 1]"]
    assert len(lines) == 5  # everything between the first header and the final error is left out


def test_the_options_each_do_one_thing() -> None:
    text = _real_traceback()
    assert trim(text, traceback="full") == text.splitlines()
    assert not any(line.startswith("INFO ") for line in trim(text, info=False))
    assert trim(text, last=1) == ["[SQL: SELECT 1]"]
    assert trim("x" * 200, width=20) == ["x" * 18 + " …"]
    assert trim("x" * 200, width=None) == ["x" * 200]
    with pytest.raises(ValueError, match='"short" or "full"'):
        trim(text, traceback=cast(Any, "none"))  # a wrong value on purpose


def test_a_traceback_of_an_unknown_shape_is_shown_whole() -> None:
    text = f"{TRACEBACK}\n  File 'x', line 1\n    indented forever\n"
    assert trim(text) == text.splitlines()


def test_course_alembic_runs_the_real_command_in_the_notebooks_workspace(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = create_workspace("zz-terminal", start="upgraded")
    monkeypatch.setattr(course, "_current", ws)
    course.alembic("current", exit_code=True)
    out = capsys.readouterr().out.splitlines()
    assert out[-2].endswith("(head)") and out[-1] == "exit code: 0"
    course.alembic("downgrade nosuchrevision", exit_code=True, info=False)
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "exit code: 255" and any("nosuchrevision" in line for line in out)
    # a revision message already generated is not generated twice (like %alembic)
    course.alembic('revision -m "second"')
    capsys.readouterr()
    course.alembic('revision -m "second"')
    assert capsys.readouterr().out.startswith("Already generated: app/migrations/versions/")
    assert len(list(Path(ws.path, "app/migrations/versions").glob("*_second.py"))) == 1
