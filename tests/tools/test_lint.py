"""The code is linted and formatted (ruff) and the CI workflow passes zizmor, GitHub Actions' security linter."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, encoding="utf-8")


def test_ruff_check() -> None:
    proc = run("ruff", "check", "--no-cache", ".")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_ruff_format() -> None:
    proc = run("ruff", "format", "--no-cache", "--check", ".")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_zizmor_finds_nothing_in_the_workflow() -> None:
    """zizmor is a program (no Python module), installed beside this Python by requirements.txt."""
    scripts = Path(sys.executable).parent
    zizmor = next(p for p in (scripts / "zizmor", scripts / "zizmor.exe") if p.exists())
    proc = subprocess.run(
        [zizmor, "--offline", ".github/workflows/notebooks.yml"], cwd=ROOT, capture_output=True, text=True, encoding="utf-8"
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "No findings to report" in proc.stdout + proc.stderr


def test_every_suppression_says_why() -> None:
    """`# noqa: CODE - reason`: no bare suppressions (and no `type: ignore`: no type checker runs here)."""
    noqa = re.compile(r"# noqa(?::\s*[A-Z0-9, ]+)?(?P<why>.*)$")
    type_ignore = "# type" + ": ignore"  # spelled in two pieces so this line does not flag itself
    bare = []
    for path in sorted(_python_files()):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            found = noqa.search(line)
            if type_ignore in line or (found and not re.search(r"[a-z]{3}", found["why"])):
                bare.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not bare, "\n".join(bare)


def _python_files() -> list[Path]:
    """The project's Python files; learners' workspaces (made and removed by running tests) stay out of the walk."""
    skip = {".venv", ".git", "build", "workspaces", "node_modules", ".pgdata", "__pycache__"}
    found = []
    for folder, subfolders, files in os.walk(ROOT):
        subfolders[:] = [s for s in subfolders if s not in skip]
        found += [Path(folder) / f for f in files if f.endswith(".py")]
    return found
