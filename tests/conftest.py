"""Shared fixtures: throw-away databases on the course's server, a settings environment under control."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from course.database import SETTING_NAMES, drop_database, recreate_database

pytest_plugins = ["browser"]
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def no_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No DATABASE_URL or DB_* in the environment and no .env in the current folder (a fresh one).

    A learner running the suite against their own server exports DATABASE_URL; tests of how
    settings are read must not see it.
    """
    for key in SETTING_NAMES:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def fresh_database() -> Iterator[object]:
    """A new, empty database on the course's server; its sync URL. Dropped afterwards."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"test_{worker}_{uuid.uuid4().hex[:8]}"
    url = recreate_database(name)
    yield url
    drop_database(name)


@pytest.fixture
def alembic_config() -> dict[str, str]:
    """pytest-alembic: the repository's alembic.ini."""
    return {"file": str(ROOT / "alembic.ini")}


@pytest.fixture
def alembic_engine(fresh_database):
    """pytest-alembic: an AsyncEngine on a fresh database (env.py takes the shared connection)."""
    from sqlalchemy.ext.asyncio import create_async_engine
    from sqlalchemy.pool import NullPool

    # NullPool: pytest-alembic runs each step in a new event loop; pooled connections would
    # belong to the loop that opened them.
    engine = create_async_engine(fresh_database.set(drivername="postgresql+asyncpg"), poolclass=NullPool)
    yield engine
    import asyncio

    asyncio.run(engine.dispose())


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    """Say how many tests and how many notebook cells ran (nbval makes one item per cell)."""
    reports = [
        r
        for key in ("passed", "failed", "error")
        for r in terminalreporter.stats.get(key, [])
        if getattr(r, "when", "call") == "call"
    ]
    cells = [r for r in reports if r.nodeid.endswith(".ipynb") or "::Cell " in r.nodeid]
    notebooks = {r.nodeid.split("::")[0] for r in cells}
    terminalreporter.write_line(
        f"course suite: {len(reports) - len(cells)} tests and {len(cells)} notebook cells in {len(notebooks)} notebooks ran"
    )


# --dist loadscope hands the workers one scope (a module, a class, a notebook) at a time, in the
# order below: the longest first, so that no long run starts last and leaves the other workers idle.
# Seconds of one plain run of each notebook on a 2-core machine (`python run.py bench`); only the
# order they give matters, and a notebook missing here still runs (it counts as 10 s).
NOTEBOOK_RUN_S = {
    "00": 8, "01": 8, "02": 9, "03": 13, "04": 13, "05": 13, "06": 13,
    "07": 17, "08": 14, "09": 24, "10": 11, "11": 17, "12": 40,
    "13": 16, "14": 14, "15": 25, "16": 6,
}  # fmt: skip
MODULE_S = {
    "test_browser.py": 45,
    "test_slides.py": 40,
    "test_alembic_runner.py": 25,
    "test_reference_migrations.py": 25,
    "test_capstone.py": 25,
}


def _scope_weight(scope: str) -> float:
    notebook = re.search(r"notebooks/(?:ru/)?(\d\d)-[^/]*\.ipynb$", scope)
    if notebook:  # nbval's replay
        return NOTEBOOK_RUN_S.get(notebook.group(1), 10)
    exercise_run = re.search(r"::TestNotebook(\d\d)(?:RestartAt(\d+)|Answers(?:Ru)?)$", scope)
    if exercise_run:  # a part of the notebook once, all of it with every cell twice, or (Russian) once
        fraction = int(exercise_run.group(2)) / 100 if exercise_run.group(2) else 1.0 if scope.endswith("Ru") else 2.0
        return NOTEBOOK_RUN_S.get(exercise_run.group(1), 10) * fraction
    return MODULE_S.get(scope.split("::")[0].rsplit("/", 1)[-1], 3)


def pytest_collection_modifyitems(session, config, items) -> None:
    """The longest scopes first (see NOTEBOOK_RUN_S); the order inside a scope stays as collected."""
    scopes: dict[str, list] = {}
    for item in items:
        scopes.setdefault(item.nodeid.rsplit("::", 1)[0], []).append(item)
    ordered = sorted(scopes, key=_scope_weight, reverse=True)  # stable: equal weights keep their order
    items[:] = [item for scope in ordered for item in scopes[scope]]


# Kernels: the suite's own "python3" kernelspec, first on JUPYTER_PATH for the session (a
# learner's personal kernelspec of that name is not used). Where fork exists, its kernels are
# forked from a zygote that has imported IPython, ipykernel and the database libraries once
# (tests/zygote.py); elsewhere, or with COURSE_TEST_ZYGOTE=0, they start as usual.
_ZYGOTE: subprocess.Popen[str] | None = None


def pytest_configure(config) -> None:
    global _ZYGOTE
    if os.environ.get("COURSE_TEST_KERNELS"):  # an xdist worker: the controller has done it
        return
    folder = Path(tempfile.mkdtemp(prefix="course-kernels-"))
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    if hasattr(os, "fork") and os.environ.get("COURSE_TEST_ZYGOTE", "1") != "0":
        socket_path = str(folder / "zygote")
        script = str(Path(__file__).with_name("zygote.py"))
        _ZYGOTE = subprocess.Popen(
            [sys.executable, script, "serve", socket_path], stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True
        )
        assert _ZYGOTE.stdout is not None and _ZYGOTE.stdout.readline().strip() == "ready", "the kernel zygote did not start"
        argv = [sys.executable, script, "kernel", socket_path, "-f", "{connection_file}"]
    spec = folder / "kernels" / "python3"
    spec.mkdir(parents=True)
    kernel = {"argv": argv, "display_name": "Python 3 (course tests)", "language": "python", "metadata": {"debugger": True}}
    (spec / "kernel.json").write_text(json.dumps(kernel), encoding="utf-8")
    os.environ["COURSE_TEST_KERNELS"] = str(folder)
    os.environ["JUPYTER_PATH"] = os.pathsep.join(p for p in (str(folder), os.environ.get("JUPYTER_PATH")) if p)


def pytest_unconfigure(config) -> None:
    if _ZYGOTE is not None:
        _ZYGOTE.terminate()
        _ZYGOTE.wait(timeout=30)
