"""pytest in a workspace: the migration tests a learner writes (notebook 12), run as a terminal would.

``run_pytest("tests/test_stock_data.py")`` in a notebook runs ``python -m pytest -q -rA`` in the
current workspace and prints what matters: one line per test, each failure's message, the
summary and the exit code. The checks of notebook 12's exercises read the same run
(``pytest_process``). Both are forked from the warm starter (``course.alembic_runner``).

The course's own virtual environment has two pytest plugins a learner's project would not
(nbval for notebooks, xdist for parallel runs): they stay unloaded here, through
``PYTEST_ADDOPTS``, so the workspace's ``pytest.ini`` is the one a real project needs.
"""

from __future__ import annotations

import re
import subprocess
import textwrap

from course.alembic_runner import run_module
from course.i18n import tr
from course.workspace import Workspace

COURSE_ONLY_PLUGINS_OFF = "-p no:nbval -p no:xdist -p no:cacheprovider"


def pytest_process(ws: Workspace, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m pytest -q -rA --color=no <args>`` in the workspace; stdout and stderr together."""
    env = {
        "COLUMNS": "400",  # wide: failure lines are not cut
        "PYTEST_ADDOPTS": COURSE_ONLY_PLUGINS_OFF,
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    return run_module(ws.path, "pytest", ["-q", "-rA", "--color=no", *args], check=False, env=env)


def summary(proc: subprocess.CompletedProcess[str], ws: Workspace) -> str:
    """One line per test (its message under a failure), the summary without its duration, the exit code."""
    lines = []
    for line in proc.stdout.splitlines():
        line = line.replace(str(ws.path), ".")
        if line.startswith("PASSED "):
            lines.append(line)
        elif line.startswith(("FAILED ", "ERROR ")):  # "FAILED test - message": the message below it
            test, _, message = line.partition(" - ")
            lines.append(test)
            if message:
                lines.append(textwrap.indent(textwrap.fill(message, 100), "    "))
        elif re.match(r"^=*\s*\d+ (passed|failed|error)", line) or re.match(r"^=*\s*no tests ran", line):
            lines.append(re.sub(r" in [\d.]+s.*", "", line.strip("= ")))
    lines.append(tr("exit code: {code}", code=proc.returncode))
    return "\n".join(lines)


def run_pytest(*args: str) -> None:
    """Run pytest in the current workspace (``args`` as on the command line) and print its summary."""
    from course import _require

    ws = _require()
    print(summary(pytest_process(ws, *args), ws))
