"""Every notebook, read as a file: valid, executed in order, portable, presentable."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))
POSIX_ONLY = re.compile(r"^\s*!\s*(ls|cat|tree|rm|cp|mv|mkdir|grep|sed|head|tail|touch|find|which|export)\b", re.M)


def raises(cell) -> bool:
    tags = cell.get("metadata", {}).get("tags", [])
    return "raises-exception" in tags or "NBVAL_RAISES_EXCEPTION" in cell.source


def test_there_are_notebooks() -> None:
    assert NOTEBOOKS and NOTEBOOKS[0].name.startswith("00-")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_valid_and_portable(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.name == "python3"
    code = [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]
    counts = [c.execution_count for c in code]
    assert None not in counts, "every code cell is executed (strict nbval compares nothing otherwise)"
    assert counts == sorted(counts) and len(set(counts)) == len(counts), "cells executed once each, in order"
    for cell in code:
        for output in cell.get("outputs", []):
            if output.output_type == "error":
                assert raises(cell), f"stored error in a cell not marked to raise: {cell.source[:60]}"
            text = json.dumps(output)
            assert str(ROOT) not in text, "an output shows this checkout's absolute path"
            assert "/root/" not in text and "/home/" not in text and "\\\\Users\\\\" not in text
        assert not POSIX_ONLY.search(cell.source), f"POSIX-only shell command: {cell.source[:60]}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_presents_as_slides(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    types = [c.metadata.get("slideshow", {}).get("slide_type") for c in nb.cells]
    assert None not in types, "every cell has slide metadata"
    assert types[0] == "slide", "the first cell opens a slide"
    assert set(types) <= {"slide", "subslide", "fragment", "skip", "notes", "-"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_opens_with_goals_and_ends_with_a_recap(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    for heading in ("What you'll do", "What you'll learn", "What you'll need"):
        assert heading in markdown
    assert "Recap" in markdown
    setup_cells = [c for c in nb.cells if c.cell_type == "code" and "course.setup(" in c.source]
    assert len(setup_cells) == 1, "one setup call at the top"
