"""The course's exercises: what each asks, how it is checked, its solution and typical wrong turns.

One module per notebook (``nb07.py`` for notebook 07) defines ``NOTEBOOK`` (its name) and
``EXERCISES``, a list of ``Exercise``. This is the one place where solutions and wrong attempts
live: the notebooks show a solution with ``course.solution("07.1")`` and the tests run the same
code (``tests/notebooks/test_exercises.py``).

A check looks only at the workspace's files, its database and Alembic's state (never at kernel
variables, so it works after a restart) and returns a ``Verdict``: solved, a wrong attempt (with
what is wrong), or not started.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING

from course.i18n import tr

if TYPE_CHECKING:
    from course.workspace import Workspace

SOLVED, WRONG, NOT_STARTED = "solved", "wrong", "not started"


@dataclass(frozen=True)
class Verdict:
    status: str  # SOLVED, WRONG or NOT_STARTED
    message: str

    @property
    def solved(self) -> bool:
        return self.status == SOLVED


def solved(message: str) -> Verdict:
    return Verdict(SOLVED, message)


def wrong(message: str) -> Verdict:
    """An attempt is there, and this is what is wrong with it."""
    return Verdict(WRONG, message)


def not_started(message: str) -> Verdict:
    return Verdict(NOT_STARTED, message)


@dataclass(frozen=True)
class WrongAttempt:
    """What a learner might plausibly type instead (notebook code, "# %%" splits cells), and words its verdict must contain."""

    code: str
    expect: str


@dataclass(frozen=True)
class Exercise:
    id: str  # "07.1": notebook 07, exercise 1
    title: str
    check: Callable[[Workspace], Verdict]
    solution: str  # notebook code a learner would type in the answer cell; "# %%" lines split it into cells
    explanation: str = ""  # Markdown shown under the solution: why it is right
    wrong: tuple[WrongAttempt, ...] = field(default_factory=tuple)
    on_your_own: bool = False  # the chapter's open-ended task

    @property
    def notebook_number(self) -> str:
        return self.id.split(".")[0]


@cache
def registry() -> dict[str, Exercise]:
    """Every exercise of the course, by id, in course order."""
    found: dict[str, Exercise] = {}
    for module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if module.name.startswith("nb"):
            for exercise in importlib.import_module(f"{__name__}.{module.name}").EXERCISES:
                found[exercise.id] = exercise
    return found


@cache
def notebook_names() -> dict[str, str]:
    """Notebook number -> notebook name ("07" -> "07-evolving-the-schema")."""
    names = {}
    for module in pkgutil.iter_modules(__path__):
        if module.name.startswith("nb"):
            names[module.name[2:]] = importlib.import_module(f"{__name__}.{module.name}").NOTEBOOK
    return names


def get(exercise_id: str) -> Exercise:
    try:
        return registry()[exercise_id]
    except KeyError:
        known = ", ".join(registry())
        raise KeyError(tr("no exercise {id!r}; the course has {known}", id=exercise_id, known=known)) from None
