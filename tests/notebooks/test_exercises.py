"""Learners really do the exercises: each notebook run for real in fresh kernels, beside nbval's replay.

For every notebook with exercises (``course.exercises``, one module per notebook):

1. **restarts:** at three cut points (a quarter, half and three quarters of the way), a fresh
   kernel runs the cells above the cut point, as *Kernel → Restart* then *Run All Above Selected
   Cell* does; nothing errors;
2. **answers, every cell twice:** a fresh kernel runs the whole notebook as a learner who answers
   every exercise: in each answer cell a plausible **wrong attempt** (its check must say ❌ and
   name the mistake), ``course.restart_exercise``, then the **solution** (the same code
   ``course.solution`` shows; its check must say ✅) — and **every code cell runs twice in a
   row**. Nothing errors (except cells tagged ``raises-exception``, which are meant to).

The Russian edition (``notebooks/ru/``) gets the answers run too: the same solutions and wrong
attempts, verdicts in Russian, each cell once (the restarts and the second runs of each cell are not
repeated there: its code is the English code, ``tests/tools/test_translate.py`` proves it, and
neither depends on anything else).

Each of these runs is a test class of its own, with a workspace of its own (a suffix) and a
progress folder of its own, apart from nbval's run: ``--dist loadscope`` spreads them over the
workers, the longest first (``tests/conftest.py`` orders them).
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from course import exercises
from course.i18n import translations
from course.practice import MARKS

pytestmark = pytest.mark.exercises

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = {p.name[:2]: p for p in sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))}
EDITIONS = {"en": NOTEBOOKS, "ru": {p.name[:2]: p for p in sorted((ROOT / "notebooks" / "ru").glob("[0-9][0-9]-*.ipynb"))}}
CYRILLIC = re.compile(r"[а-яА-ЯёЁ]")
EXERCISE_CELL = re.compile(r"^%exercise\s+(\S+)", re.M)
CHECK_CELL = re.compile(r"course\.check\(\"([^\"]+)\"\)")


def tagged(cell: dict, tag: str) -> bool:
    return tag in cell.get("metadata", {}).get("tags", [])


def exercise_id(cell: dict) -> str | None:
    found = EXERCISE_CELL.search(cell["source"]) if cell["cell_type"] == "code" else None
    return found.group(1) if found else None


def execute(cells: list, path: Path) -> list:
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    NotebookClient(nb, timeout=600, kernel_name="python3", allow_errors=True, resources={"metadata": {"path": str(path.parent)}}).execute()
    return nb.cells


def text_of(cell) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream")


def errors(cells: list) -> list[str]:
    return [
        f"{c.source.splitlines()[0] if c.source else ''!r}: {o.get('ename')}: {o.get('evalue')}"
        for c in cells
        if c.cell_type == "code" and not tagged(c, "raises-exception")
        for o in c.outputs
        if o.output_type == "error"
    ]


def _copy(cell):  # a second run of a cell: the same cell under a new id
    copy = nbformat.from_dict(cell)
    copy["id"] = uuid.uuid4().hex[:8]
    return copy


def cells_above(cells: list, fraction: float) -> list:
    """The cells above the code cell ``fraction`` of the way down: what *Run All Above Selected Cell* runs there."""
    code = [i for i, c in enumerate(cells) if c.cell_type == "code"]
    return [nbformat.from_dict(c) for c in cells[: code[int(len(code) * fraction)]]]


def every_cell_twice(cells: list) -> list:
    """Each code cell followed by a second run of it."""
    return [copy for cell in cells for copy in ([cell, _copy(cell)] if cell.cell_type == "code" else [cell])]


def with_answers(cells: list, answer) -> list:  # answer: exercise id -> notebook code ("# %%" splits cells)
    """The notebook with each answer cell (after its ``%exercise`` cell) replaced by the given code."""
    out, current = [], None
    for cell in cells:
        cell = nbformat.from_dict(cell)
        if tagged(cell, "answer") and current is not None:
            for part in re.split(r"^# %%.*\n", answer(current).strip("\n") + "\n", flags=re.M):
                if part.strip():
                    out.append(nbformat.v4.new_code_cell(part.rstrip("\n"), metadata={"tags": ["answer"]}))
            current = None
            continue
        current = exercise_id(cell) or current
        out.append(cell)
    return out


@pytest.fixture
def apart(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    # Apart from nbval's run of the same notebook, and from the other runs of it: "-ex09-r50".
    monkeypatch.setenv("COURSE_WORKSPACE_SUFFIX", request.node.cls.suffix)
    monkeypatch.setenv("COURSE_PROGRESS_DIR", str(tmp_path / "progress"))


def _attempt_then_solution(exercise_id: str) -> str:
    """What a learner does: a wrong attempt, its check, start the exercise over, the solution ("# %%" splits cells)."""
    exercise = exercises.get(exercise_id)
    return (
        f"{exercise.wrong[0].code}\n# %%\n"
        f'course.check("{exercise_id}")  # {WRONG_FIRST}\n# %%\n'
        f'course.restart_exercise("{exercise_id}")\n# %%\n'
        f"{exercise.solution}"
    )


WRONG_FIRST = "the wrong attempt's check"


def _restart_then_run_all_above(self, apart: None) -> None:
    path = NOTEBOOKS[self.number]
    ran = execute(cells_above(nbformat.read(path, as_version=4).cells, self.fraction), path)
    assert not errors(ran), errors(ran)


def _mark(status: str, lang: str) -> str:
    return MARKS[status] if lang == "en" else translations(lang).get(MARKS[status], MARKS[status])


def _attempts_and_solutions_every_cell_twice(self, apart: None) -> None:
    lang = getattr(self, "lang", "en")
    path = EDITIONS[lang][self.number]
    answered = with_answers(nbformat.read(path, as_version=4).cells, _attempt_then_solution)
    ran = execute(every_cell_twice(answered) if lang == "en" else answered, path)
    assert not errors(ran), errors(ran)
    checks = [c for c in ran if c.cell_type == "code" and CHECK_CELL.search(c.source)]
    assert checks, "the notebook has checks"
    seen = set()
    for cell in checks:
        exercise = exercises.get(CHECK_CELL.search(cell.source).group(1))
        said = text_of(cell)
        if WRONG_FIRST in cell.source:
            assert _mark("wrong", lang) in said, f"{exercise.id} (wrong attempt): {said}"
            if exercise.id not in seen:  # the first check names the mistake (a check's own round trip may change the next)
                if lang == "en":
                    assert exercise.wrong[0].expect in said, f"{exercise.id} (wrong attempt): {said}"
                else:  # the words differ; the verdict is in the edition's language
                    assert CYRILLIC.search(said.split(":", 1)[-1]), f"{exercise.id} (wrong attempt, not in {lang}): {said}"
                seen.add(exercise.id)
        else:
            assert _mark("solved", lang) in said, f"{exercise.id}: {said}"


def _notebooks_with_exercises() -> list[str]:
    return sorted({e.notebook_number for e in exercises.registry().values()})


# A class per run, so that --dist loadscope can give each to a different worker.
for _number in _notebooks_with_exercises():
    for _percent in (25, 50, 75):
        globals()[f"TestNotebook{_number}RestartAt{_percent}"] = type(
            f"TestNotebook{_number}RestartAt{_percent}",
            (),
            {
                "number": _number,
                "fraction": _percent / 100,
                "suffix": f"-ex{_number}-r{_percent}",
                f"test_{_number}_restart_at_{_percent}_percent_then_run_all_above": _restart_then_run_all_above,
            },
        )
    globals()[f"TestNotebook{_number}Answers"] = type(
        f"TestNotebook{_number}Answers",
        (),
        {
            "number": _number,
            "suffix": f"-ex{_number}-answers",
            f"test_{_number}_attempts_and_solutions_every_cell_twice": _attempts_and_solutions_every_cell_twice,
        },
    )
    if _number in EDITIONS["ru"]:
        globals()[f"TestNotebook{_number}AnswersRu"] = type(
            f"TestNotebook{_number}AnswersRu",
            (),
            {
                "number": _number,
                "lang": "ru",
                "suffix": f"-ex{_number}-answers",  # the workspace is "…-ru-ex07-answers"
                f"test_{_number}_ru_attempts_and_solutions_in_russian": _attempts_and_solutions_every_cell_twice,
            },
        )


def test_every_exercise_has_a_wrong_attempt_an_exercise_cell_and_a_check() -> None:
    for exercise in exercises.registry().values():
        assert exercise.wrong, f"{exercise.id} has no wrong attempt"
        nb = nbformat.read(NOTEBOOKS[exercise.notebook_number], as_version=4)
        sources = [c.source for c in nb.cells if c.cell_type == "code"]
        exercise_cells = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and exercise_id(c) == exercise.id]
        assert len(exercise_cells) == 1, f"{exercise.id}: one %exercise cell"
        assert tagged(nb.cells[exercise_cells[0] + 1], "answer"), f"{exercise.id}: an answer cell right after %exercise"
        assert f'course.check("{exercise.id}")' in sources, exercise.id
        assert f'course.solution("{exercise.id}")' in sources, exercise.id
