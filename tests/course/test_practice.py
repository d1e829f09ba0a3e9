"""Exercises behind the notebooks: the registry, snapshots that keep the learner's work, progress."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

import course
from course import exercises, practice, snapshots
from course.database import connect
from course.exercises import probes
from course.workspace import create_workspace


def test_every_exercise_is_registered_once_with_a_notebook() -> None:
    found = exercises.registry()
    assert "00.1" in found and found["00.1"].notebook_number == "00"
    names = exercises.notebook_names()
    for exercise in found.values():
        assert names[exercise.notebook_number].startswith(exercise.notebook_number + "-")
        assert exercise.wrong, f"{exercise.id} needs a wrong attempt"


def test_a_restored_snapshot_brings_files_and_database_back_and_keeps_the_attempt(tmp_path: Path) -> None:
    ws = create_workspace("zz-snapshot", start="upgraded")
    assert snapshots.take(ws, "00.1") and not snapshots.take(ws, "00.1")  # once per setup call
    (ws.path / "app" / "models" / "mine.py").write_text("# my attempt\n")
    with connect(ws.sync_url) as conn:
        conn.execute(text("DROP TABLE products"))
    kept = snapshots.restore(ws, "00.1")
    assert kept is not None and (kept / "app" / "models" / "mine.py").read_text() == "# my attempt\n"
    assert not (ws.path / "app" / "models" / "mine.py").exists()
    assert "products" in probes.tables(ws)
    assert snapshots.restore(ws, "00.1") is None  # nothing differs: nothing to keep
    create_workspace("zz-snapshot", start="app")  # a new setup call forgets the snapshots
    assert not snapshots.exists(ws, "00.1")


def test_progress_keeps_the_best_status_and_prints_a_table(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COURSE_PROGRESS_DIR", str(tmp_path))
    practice._record("00-welcome-and-setup", "00.1", exercises.WRONG)
    practice._record("00-welcome-and-setup", "00.1", exercises.SOLVED)
    practice._record("00-welcome-and-setup", "00.1", exercises.WRONG)  # solved stays solved
    practice._record("00-welcome-and-setup-solutions", "00.2", exercises.SOLVED)  # a test's workspace: not the learner's
    practice.progress("00")
    out = capsys.readouterr().out
    assert "00.1" in out and "✅ solved" in out and "· not started" in out and "1 of 2 solved." in out


def test_a_check_without_its_notebook_set_up_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(course, "_current", None)
    with pytest.raises(practice.ExerciseError, match="run its setup cell first"):
        practice.check("00.1")
