"""Workspaces and their databases: what the notebooks' setup call builds."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

import course
from course.database import connect, database_name_for, env_file_text, server_settings
from course.workspace import create_workspace


def tables(url) -> set[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return set(inspect(conn).get_table_names())
    finally:
        engine.dispose()


def test_database_names_are_safe_identifiers() -> None:
    alone = server_settings({})  # a learner alone on the embedded server (tests/course/test_learners.py: shared)
    assert database_name_for("03-configure-async-env", alone) == "course_03_configure_async_env"
    assert database_name_for("Ünïcode & Spaces!", alone) == "course_n_code_spaces"


def test_two_workspaces_are_independent_and_a_reset_touches_only_one() -> None:
    a = create_workspace("zz-helper-a", start="upgraded")
    b = create_workspace("zz-helper-b", start="upgraded")
    assert a.path != b.path and a.database != b.database
    assert {"categories", "products", "alembic_version"} <= tables(a.sync_url)
    (b.path / "marker.txt").write_text("b was here")

    a2 = create_workspace("zz-helper-a", start="app")  # reset a to an earlier state
    assert tables(a2.sync_url) == set()
    assert not (a2.path / "alembic.ini").exists()
    assert {"categories", "products"} <= tables(b.sync_url)  # b untouched
    assert (b.path / "marker.txt").read_text() == "b was here"


@pytest.mark.parametrize("start", sorted(course.STARTING_STATES))
def test_every_starting_state_builds(start: str) -> None:
    ws = create_workspace(f"zz-state-{start}", start=start)
    assert (ws.path / "app" / "models" / "product.py").is_file()
    assert (ws.path / ".env").read_text().count("DB_NAME") == 1
    has_ini = (ws.path / "alembic.ini").exists()
    assert has_ini == (start != "app")
    if start == "upgraded":
        assert "0001 (head)" in ws.alembic("current").stdout
    if start == "reference-head":  # the whole reference chain, the sample rows carried up through it
        assert ws.alembic("current").stdout.strip().endswith("0010 (head) (mergepoint)")
        assert "No new upgrade operations detected." in ws.alembic("check").stdout
        with connect(ws.sync_url) as conn:
            assert conn.execute(text("SELECT count(*) FROM stock_levels")).scalar() == 8


@pytest.mark.parametrize("password", ['p@ss:w%rd/#?${HOME}"\\', "it's p@ss:w%rd/#?${HOME}\"\\", ""])
def test_the_workspace_env_file_survives_any_password(password: str, no_settings: Path) -> None:
    """The shop's own settings class reads back exactly what the course wrote into a workspace's .env."""
    from app.backend.DB_config import Settings

    url = server_settings().url.set(password=password or None)
    (no_settings / ".env").write_text(env_file_text(url))
    read_back = Settings().DATABASE_URL_sync
    assert read_back.password == url.password
    assert (read_back.database, read_back.port) == (url.database, url.port)


def test_a_workspace_held_by_another_program_is_not_reset_and_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    """Windows refuses to rename or delete a folder a terminal or an editor holds (WinError 32)."""
    from course.workspace import WorkspaceBusy

    ws = create_workspace("zz-held", start="upgraded")
    (ws.path / "mine.py").write_text("kept")

    def held(self: Path, target: Path) -> Path:
        raise PermissionError(13, "The process cannot access the file because it is being used by another process")

    monkeypatch.setattr(Path, "rename", held)
    with pytest.raises(WorkspaceBusy) as caught:
        create_workspace("zz-held", start="app")
    message = str(caught.value)
    assert "being used by another process" in message and "terminal" in message and "run the setup cell again" in message
    assert caught.value._render_traceback_() == [message]
    assert (ws.path / "mine.py").read_text() == "kept"  # nothing lost
    assert {"categories", "products"} <= tables(ws.sync_url)  # the database was not reset either


FAILED_SETUP = """
import os, sys
from pathlib import Path
import course
from course.paths import CHECKOUT, NOTEBOOKS
os.chdir(CHECKOUT)
course.setup("zz-setup-ok", start="app")
assert Path.cwd() != CHECKOUT
try:
    course.setup("zz-setup-fails", start="no-such-state")
except ValueError as error:
    assert "unknown starting state" in str(error)
assert Path.cwd() == NOTEBOOKS, Path.cwd()
try:
    course.query("SELECT 1")
except RuntimeError as error:
    assert "setup cell" in str(error)
else:
    raise AssertionError("the previous workspace was used")
print("ok")
"""


def test_a_failed_setup_leaves_the_kernel_outside_the_checkout() -> None:
    """Else the notebook's next relative write (`%%writefile app/models/…`) would change the course's own app/.

    In a process of its own, as a kernel would run it: setup changes the current folder and sys.path.
    """
    done = subprocess.run([sys.executable, "-c", FAILED_SETUP], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]


def test_a_state_being_built_is_never_taken_for_a_built_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """Its folder may be there already (built against another server), its database not yet: while one
    setup builds the database, another setup's quick check (no lock) must not copy a half-built one."""
    import shutil

    from course import starts, workspace

    settings = server_settings()
    seen: list[bool] = []

    def build_app_state(path: Path, url) -> None:  # the "app" state's own steps, watched halfway
        workspace.STARTING_STATES["app"](path, url)
        seen.append(starts._database_exists(settings, start.database))

    monkeypatch.setitem(workspace.STARTING_STATES, "zz-watched", build_app_state)
    start = starts.Start(
        "zz-watched", starts.STARTS / f"zz-watched-{starts.key()}", database_name_for("start-zz-watched", settings)
    )
    start.folder.mkdir(parents=True, exist_ok=True)  # the folder is there, as after a run on another server
    try:
        course.database.drop_database(start.database)
        starts._build(start, settings)
        assert seen == [False], "the state's own name existed before its database was complete"
        assert starts._database_exists(settings, start.database)
        in_progress = database_name_for(f"building-zz-watched-{starts.key()}", settings)
        assert not starts._database_exists(settings, in_progress)
    finally:
        course.database.drop_database(start.database)
        shutil.rmtree(start.folder, ignore_errors=True)
