"""Every exercise's check cell must notice when its solution was not run.

Each notebook is executed with its `solution`-tagged cells left out; every `check`-tagged
cell must then print the "Not yet" verdict (or raise), never the "Well done" one.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from course.checks import FAIL_MARK, PASS_MARK

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))


def tagged(cell, tag: str) -> bool:
    return tag in cell.get("metadata", {}).get("tags", [])


def with_exercises() -> list[Path]:
    return [p for p in NOTEBOOKS if any(tagged(c, "check") for c in nbformat.read(p, as_version=4).cells)]


@pytest.mark.parametrize("path", with_exercises(), ids=lambda p: p.name)
def test_checks_fail_without_their_solutions(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COURSE_WORKSPACE_SUFFIX", "-without-solutions")  # apart from nbval's run
    nb = nbformat.read(path, as_version=4)
    solutions = [c for c in nb.cells if tagged(c, "solution")]
    checks = [c for c in nb.cells if tagged(c, "check")]
    assert solutions and len(checks) >= len(solutions)
    for cell in solutions:
        assert cell.metadata.get("jupyter", {}).get("source_hidden"), "solutions are collapsed"
    nb.cells = [c for c in nb.cells if not tagged(c, "solution")]
    client = NotebookClient(
        nb, timeout=600, kernel_name="python3", allow_errors=True, resources={"metadata": {"path": str(path.parent)}}
    )
    client.execute()
    for cell in (c for c in nb.cells if tagged(c, "check")):
        text = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
        errored = any(o.output_type == "error" for o in cell.outputs)
        assert PASS_MARK not in text, f"check passed without its solution: {cell.source[:80]}"
        assert errored or FAIL_MARK in text, f"check gave no verdict: {cell.source[:80]}"
