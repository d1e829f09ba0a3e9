"""The real `alembic` CLI run in a workspace: warm (forked) or cold, the same result."""

from __future__ import annotations

import os

import pytest

from course.alembic_runner import PRELOADED, PRELOADED_TOP_LEVEL, run_alembic
from course.workspace import create_workspace


def test_the_warm_starter_gives_what_a_cold_alembic_gives(monkeypatch: pytest.MonkeyPatch) -> None:
    """Same output and exit code, warm (forked) or cold (`python -m alembic`), for success and failures."""
    if not hasattr(os, "fork"):
        pytest.skip("no fork on this platform: every command starts cold")
    ws = create_workspace("zz-warm-vs-cold", start="upgraded")
    commands = [
        ["current"],
        ["history", "--verbose"],
        ["downgrade", "nonexistent"],
        ["upgrade", "--no-such-flag"],
        ["upgrade", "head", "--sql"],
    ]
    warm = [run_alembic(ws.path, args, check=False) for args in commands]
    monkeypatch.setenv("COURSE_WARM_ALEMBIC", "0")
    cold = [run_alembic(ws.path, args, check=False) for args in commands]
    for args, w, c in zip(commands, warm, cold, strict=True):
        assert (w.returncode, w.stdout) == (c.returncode, c.stdout), args
    assert [w.returncode for w in warm] == [0, 0, 255, 2, 0]


def test_a_workspace_module_named_like_a_preloaded_one_starts_cold() -> None:
    ws = create_workspace("zz-shadow", start="app")
    (ws.path / "alembic").mkdir()
    (ws.path / "alembic" / "__init__.py").write_text("")
    proc = run_alembic(ws.path, ["--version"], check=False)
    assert proc.returncode != 0 and "No module named alembic.__main__" in proc.stdout


def test_what_is_preloaded_is_written_once() -> None:
    assert {name.split(".")[0] for name in PRELOADED} <= set(PRELOADED_TOP_LEVEL)
    assert "alembic" in PRELOADED_TOP_LEVEL and "sqlalchemy" in PRELOADED_TOP_LEVEL
