"""Every notebook of both editions, read as a file: valid, executed in order, portable, presentable."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
ENGLISH = sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))
NOTEBOOKS = ENGLISH + sorted((ROOT / "notebooks" / "ru").glob("[0-9][0-9]-*.ipynb"))  # the Russian edition
# The fixed words of each edition's chapters: goals at the top, a recap, further reading at the end.
WORDS = {
    "en": {"goals": ("What you'll do", "What you'll learn", "What you'll need"), "recap": "Recap",
           "reading": "## Further reading"},
    "ru": {"goals": ("Что вы сделаете", "Что вы узнаете", "Что понадобится"), "recap": "Итоги",
           "reading": "## Что почитать дальше"},
}  # fmt: skip


def edition(path: Path) -> str:
    return "ru" if path.parent.name == "ru" else "en"


def name(path: Path) -> str:
    return f"{path.parent.name}/{path.name}" if edition(path) != "en" else path.name
POSIX_ONLY = re.compile(r"^\s*!\s*(ls|cat|tree|rm|cp|mv|mkdir|grep|sed|head|tail|touch|find|which|export)\b", re.M)


def raises(cell) -> bool:
    tags = cell.get("metadata", {}).get("tags", [])
    return "raises-exception" in tags or "NBVAL_RAISES_EXCEPTION" in cell.source


def test_there_are_notebooks() -> None:
    assert ENGLISH and ENGLISH[0].name.startswith("00-")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=name)
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


@pytest.mark.parametrize("path", NOTEBOOKS, ids=name)
def test_notebook_presents_as_slides(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    types = [c.metadata.get("slideshow", {}).get("slide_type") for c in nb.cells]
    assert None not in types, "every cell has slide metadata"
    assert types[0] == "slide", "the first cell opens a slide"
    assert set(types) <= {"slide", "subslide", "fragment", "skip", "notes", "-"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=name)
def test_notebook_opens_with_goals_and_ends_with_a_recap(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    words = WORDS[edition(path)]
    for heading in words["goals"]:
        assert heading in markdown
    assert words["recap"] in markdown
    setup_cells = [c for c in nb.cells if c.cell_type == "code" and "course.setup(" in c.source]
    assert len(setup_cells) == 1, "one setup call at the top"


MAX_OUTPUT_LINES = 45  # "about 40": an output taller than this needs the tag and a reason in the text
LINK = re.compile(r"\]\((https?://[^)\s]+)\)")
# Words from how the course was made: a learner has never heard of them.
MAKING_OF = re.compile(
    r"\bseed (notes|article|text|course)\b|\bthe seed\b|\bseed's\b|\bnbval\b|stored outputs?\b|\bсид\w*|сохран\w* вывод\w*", re.I
)


def _output_lines(cell) -> int:
    lines = 0
    for output in cell.get("outputs", []):
        if output.output_type == "stream":
            lines += output.text.count("\n") + (not output.text.endswith("\n"))
        elif output.output_type in ("execute_result", "display_data"):
            data = output.get("data", {})
            if "text/html" in data:
                lines += str(data["text/html"]).count("<tr")  # a table: one line a row
            elif "text/markdown" in data and "```mermaid" not in str(data["text/markdown"]):
                lines += str(data["text/markdown"]).count("\n") + 1
            elif "text/plain" in data and "text/markdown" not in data:
                lines += str(data["text/plain"]).count("\n") + 1
    return lines


@pytest.mark.parametrize("path", NOTEBOOKS, ids=name)
def test_no_output_is_a_wall(path: Path) -> None:
    """No output taller than about 40 lines, unless the cell is tagged long-output (and the text says why)."""
    nb = nbformat.read(path, as_version=4)
    walls = []
    for number, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or "long-output" in cell.metadata.get("tags", []):
            continue
        lines = _output_lines(cell)
        if lines > MAX_OUTPUT_LINES:
            walls.append(f"cell {number} ({lines} lines): {cell.source.splitlines()[0][:70]}")
    assert not walls, "outputs taller than about 40 lines:\n" + "\n".join(walls)
    for number, cell in enumerate(nb.cells):
        if "long-output" in cell.metadata.get("tags", []):
            before = nb.cells[number - 1]
            assert before.cell_type == "markdown" and before.source.strip(), f"cell {number}: say why its output is long"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=name)
def test_notebook_ends_with_further_reading(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    reading = [c for c in nb.cells if c.cell_type == "markdown" and c.source.lstrip().startswith(WORDS[edition(path)]["reading"])]
    assert len(reading) == 1, f"one '{WORDS[edition(path)]['reading']}' section"
    assert nb.cells.index(reading[0]) >= len(nb.cells) - 3, "Further reading comes at the end"
    links = LINK.findall(reading[0].source)
    assert len(links) >= 3, f"at least three links to the documentation: {links}"
    assert all(link.startswith("https://") for link in links)
    assert not [u for u in links if "docs.sqlalchemy.org/en/" in u and "/en/21/" not in u], "SQLAlchemy links: the 2.1 docs"
    assert not [u for u in links if "postgresql.org/docs/" in u and not re.search(r"/docs/(18|current)/", u)]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=name)
def test_no_words_from_how_the_course_was_made(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    found = [
        f"cell {n}: …{m.group(0)}…"
        for n, c in enumerate(nb.cells)
        if c.cell_type == "markdown"
        for m in MAKING_OF.finditer(c.source)
    ]
    assert not found, found
