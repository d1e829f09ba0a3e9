"""tools/classroom.py on the course's server: a role per learner, a private .env each, and two learners side by side.

The refusals asserted here are the server's (PostgreSQL's privileges), not a check of the course's.

The two learners run the same notebooks at the same time under strict nbval, each with the
.env the script wrote for them; then each is refused at the other's databases by the server.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import stat
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from dotenv import dotenv_values
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.pool import NullPool

from course.database import (
    _ENGINES,
    SETTING_NAMES,
    DatabaseUnavailable,
    ServerSettings,
    connect,
    database_name_for,
    recreate_database,
    server_settings,
)

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = [ROOT / "notebooks" / "00-welcome-and-setup.ipynb", ROOT / "notebooks" / "04-autogenerate-initial.ipynb"]


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("classroom", ROOT / "tools" / "classroom.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


classroom = _load()


def _checkout(folder: Path) -> Path:
    """A learner's own checkout, as far as these notebooks need one (the course package finds it by COURSE_ROOT)."""
    for part in ("app", "pytest.ini", "alembic.ini", "tests/notebooks/nbval_sanitize.cfg", *NOTEBOOKS):
        source = ROOT / part
        target = folder / source.relative_to(ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, target)
    return folder


def _nbval(checkout: Path) -> subprocess.Popen[str]:
    """Strict nbval on NOTEBOOKS in a learner's checkout: its .env (the script's) says who and where, nothing of ours."""
    env = {k: v for k, v in os.environ.items() if k not in SETTING_NAMES and not k.startswith(("PYTEST_", "COURSE_"))}
    env["COURSE_ROOT"] = str(checkout)
    args = [sys.executable, "-m", "pytest", "-p", "no:xdist", "-q", *(f"notebooks/{n.name}" for n in NOTEBOOKS)]
    return subprocess.Popen(args, cwd=checkout, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_two_learners_share_one_server_without_seeing_each_other(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings = server_settings()
    tag = uuid.uuid4().hex[:4]
    learners = [f"o'brien-{tag}", f"Ünïcode.{tag}"]
    template = str(tmp_path / "checkout of {role}" / ".env")  # each learner's checkout (a space in its path, too)
    try:
        first = [dotenv_values(p)["DATABASE_URL"] for p in classroom.prepare(learners, template, settings)]
        written = classroom.prepare(learners, template, settings)  # again: new passwords (ALTER ROLE)
        assert first != [dotenv_values(p)["DATABASE_URL"] for p in written]
        printed = capsys.readouterr().out
        for learner, path in zip(learners, written, strict=True):
            values = dotenv_values(path)
            assert values["COURSE_LEARNER"] == learner and values["DATABASE_URL"]
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, "a learner's .env is private"
            password = str(server_settings(values).url.password)
            assert password and password not in printed, "a password was printed"
        with connect(settings.url) as conn:
            for learner in learners:
                attrs = conn.execute(
                    text("SELECT rolcanlogin, rolcreatedb, rolsuper, rolcreaterole FROM pg_roles WHERE rolname = :r"),
                    {"r": classroom.role_for(learner, settings)},
                ).one()
                assert tuple(attrs) == (True, True, False, False), "LOGIN CREATEDB and nothing more"

        # alone first (a figure to compare), then side by side: both pass strict nbval at the same time
        checkouts = [_checkout(path.parent) for path in written]
        start = time.monotonic()
        alone = _nbval(checkouts[0])
        assert alone.wait(timeout=540) == 0, alone.communicate()[0][-3000:]
        print(f"one learner alone: {time.monotonic() - start:.1f} s")
        start = time.monotonic()
        runs = [_nbval(checkout) for checkout in checkouts]
        outputs = [run.communicate(timeout=540)[0] for run in runs]
        print(f"two learners side by side: {time.monotonic() - start:.1f} s")  # a figure, not a threshold
        for run, output in zip(runs, outputs, strict=True):
            assert run.returncode == 0, output[-3000:]

        # each learner's databases are theirs alone: the server refuses the other one
        a, b = (server_settings(dotenv_values(p)) for p in written)
        b_database = database_name_for(NOTEBOOKS[1].stem, b)
        with connect(b.url) as conn:  # b made it, and can use it
            assert conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": b_database}).scalar()
        engine = create_engine(a.url.set(database=b_database), poolclass=NullPool)
        with pytest.raises(OperationalError, match="permission denied for database"):
            engine.connect()
        engine.dispose()
    finally:
        classroom.remove(learners, settings)
    with connect(settings.url) as conn:
        for learner in learners:
            role = classroom.role_for(learner, settings)
            assert not conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).scalar()
            prefix = classroom.database_prefix(settings.model_copy(update={"COURSE_LEARNER": learner}))
            left = conn.execute(text("SELECT count(*) FROM pg_database WHERE starts_with(datname, :p)"), {"p": prefix})
            assert left.scalar() == 0, "remove leaves nothing of a learner behind"


@pytest.fixture
def two_learners(tmp_path: Path) -> Iterator[tuple[ServerSettings, ServerSettings]]:
    """Two learners as `python run.py classroom prepare` makes them, each with their own .env; removed afterwards."""
    admin = server_settings()
    suffix = uuid.uuid4().hex[:6]
    names = [f"zz-learner-a-{suffix}", f"zz-learner-b-{suffix}"]
    paths = classroom.prepare(names, str(tmp_path / "{role}.env"), admin)
    learners = [server_settings(dotenv_values(path)) for path in paths]
    yield learners[0], learners[1]
    for key in [k for k in _ENGINES if any(classroom.role_for(n, admin) in k[0] for n in names)]:
        _ENGINES.pop(key).dispose()  # the course's pooled connections of the roles about to go
    classroom.remove(names, admin)


def test_one_learners_databases_are_closed_to_another(two_learners: tuple[ServerSettings, ServerSettings]) -> None:
    a, b = two_learners
    name_a = database_name_for("07-evolving-the-schema", a)
    assert name_a != database_name_for("07-evolving-the-schema", b)
    url_a = recreate_database(name_a, a)  # as learner a
    with connect(url_a) as conn:
        conn.execute(text("CREATE TABLE secrets (id int)"))

    url_b_on_a = b.url.set(database=name_a)  # learner b, knocking on a's database
    engine = create_engine(url_b_on_a, poolclass=NullPool)
    with pytest.raises(OperationalError, match="permission denied for database"):
        engine.connect()  # connecting (and so listing its tables) is refused by the server
    engine.dispose()
    with connect(b.url, autocommit=True) as conn, pytest.raises(ProgrammingError, match="must be owner"):
        conn.execute(text(f'DROP DATABASE "{name_a}"'))
    # the course says so in plain words, rather than a traceback
    with pytest.raises(DatabaseUnavailable, match="another learner's"), connect(url_b_on_a):
        pass
    # and a's own access is untouched
    with connect(url_a) as conn:
        assert conn.execute(text("SELECT count(*) FROM secrets")).scalar() == 0
