"""The capstone (notebook 16): the learner's own async FastAPI app under Alembic, in a folder of their own.

The steps live in one place, ``course.capstone.steps.STEPS``: each is a list of actions (a command to
type in a terminal, a file to write, an edit to make), and the files come from the reference
solution in ``reference/<step>/``. The notebook shows a step's instructions with ``show_step(n)``,
the exercises of ``course.exercises.nb16`` check the learner's folder and database, and
``tests/notebooks/test_capstone.py`` follows the same steps in a temporary folder.

Where the learner's folder is: ``COURSE_CAPSTONE_DIR`` if set; in a kernel started by the course's
own test suite (nbval's replay, the exercise runs), a folder in that suite's temporary folder;
else ``notebooks/my-fastapi-app/`` (``my-fastapi-app<suffix>`` with ``COURSE_WORKSPACE_SUFFIX``; the Russian
edition's is ``notebooks/my-fastapi-app-ru/``, at the same depth, so that the same relative commands work;
git-ignored; JupyterLab's file browser, editor and terminals reach it, and no setup cell resets it). Nothing here deletes or overwrites
what the learner wrote: ``write`` and ``edit`` keep a changed file in ``.course-attempts/`` first.
"""

from __future__ import annotations

import hashlib
import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import URL, text

from course.alembic_runner import run_module, subprocess_env
from course.database import ASYNC_DRIVER, connect, create_database, database_name_for, recreate_database, server_settings
from course.i18n import edition_suffix, tr
from course.paths import NOTEBOOKS

DEFAULT_NAME = "my-fastapi-app"
ENV_VARIABLE = "COURSE_CAPSTONE_DIR"
ATTEMPTS = ".course-attempts"
SETTING = "SHOP_DATABASE_URL"  # the learner's settings read it (env_prefix "SHOP_", field database_url)


class CapstoneError(RuntimeError):
    """Shown in a notebook as its message only."""

    def _render_traceback_(self) -> list[str]:
        return [str(self)]


# Where ------------------------------------------------------------------------------------------


def _mode() -> str:
    if os.environ.get(ENV_VARIABLE):
        return "given"
    if os.environ.get("COURSE_TEST_KERNELS"):  # a kernel the course's test suite started (conftest.py)
        return "test run"
    return "default"


def _tag() -> str:
    """What sets this kernel's folder apart: the edition (``-ru``), then ``COURSE_WORKSPACE_SUFFIX``."""
    return edition_suffix() + os.environ.get("COURSE_WORKSPACE_SUFFIX", "")


def folder() -> Path:
    """The learner's project folder (it may not exist yet)."""
    mode = _mode()
    if mode == "given":
        return Path(os.environ[ENV_VARIABLE]).expanduser().resolve()
    if mode == "test run":
        return Path(os.environ["COURSE_TEST_KERNELS"]) / "capstone" / (DEFAULT_NAME + _tag())
    # inside JupyterLab's root (its editor and terminal reach it), not in workspaces/; a suffix (the
    # benchmark's, another edition's) keeps the learner's own folder out of reach
    return NOTEBOOKS / (DEFAULT_NAME + _tag())


def database_name() -> str:
    """The capstone's database on the course's server (with the learner's namespace on a shared server)."""
    mode = _mode()
    if mode == "given":
        tag = "-" + hashlib.sha256(str(folder()).encode()).hexdigest()[:8]
    elif mode == "test run":
        tag = "-run" + _tag()
    else:
        tag = _tag()
    return database_name_for("16-capstone" + tag)


def sync_url() -> URL:
    """The capstone database's URL for the course's own (synchronous) queries; never printed."""
    return server_settings().url.set(database=database_name())


def where() -> str:
    """The folder in words, without this machine's absolute path (the default and the test runs say the same)."""
    if _mode() == "given":
        return tr("{path} (from {variable})", path=folder(), variable=ENV_VARIABLE)
    name = DEFAULT_NAME + edition_suffix() if _mode() == "test run" else folder().name  # a test run prints what the learner sees
    # (the Russian notebook is one folder down, in notebooks/ru/: its translation says where instead)
    return tr("{path}, beside this notebook", path=f"notebooks/{name}/")


# The folder and its database ---------------------------------------------------------------------


def env_file_text(url: URL) -> str:
    """The project's ``.env``: one SHOP_DATABASE_URL for asyncpg (percent-encoded, so any password survives)."""
    rendered = url.set(drivername=ASYNC_DRIVER).render_as_string(hide_password=False)
    return (
        "# Written by the course's notebook 16: where this app's database is. Never commit it (.gitignore).\n"
        f"{SETTING}='{rendered}'\n"
    )


def _database_exists(name: str) -> bool:
    with connect(server_settings().url) as conn:
        return bool(conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}).scalar())


def prepare() -> None:
    """Make the folder and its database if they are not there yet; keep them as they are if they are."""
    path, name = folder(), database_name()
    env = path / ".env"
    settings = server_settings()
    if not path.exists() or not any(path.iterdir()):
        path.mkdir(parents=True, exist_ok=True)
        url = recreate_database(name, settings)  # a new folder, a new (empty) database
        env.write_text(env_file_text(url), encoding="utf-8")
        print(tr("Your project folder: {where}. It is new, and so is its database.", where=where()))
    else:
        if _database_exists(name):
            said = tr("kept as it is, and so is its database")
        else:
            with connect(settings.url, autocommit=True) as conn:
                create_database(conn, name, settings)
            said = tr("kept as it is; its database was gone and is created again, empty")
        if not env.exists():  # only .env is written again, for the same database
            env.write_text(env_file_text(settings.url.set(database=name)), encoding="utf-8")
            said = tr("{said}; its .env was missing and is written again", said=said)
        print(tr("Your project folder: {where}: {said}.", where=where(), said=said))
    print(tr("Its .env says where its database is ({setting}); the password stays in that file.", setting=SETTING))


# What the notebook shows -------------------------------------------------------------------------


def show_step(number: int) -> None:
    """The instructions of step ``number``, as Markdown (from ``steps.STEPS``, which the test follows too)."""
    from IPython.display import Markdown, display

    from course.capstone.steps import step

    display(Markdown(step(number).markdown()))


# Doing a step for the learner (the solutions) ----------------------------------------------------


def _keep_aside(path: Path, base: Path) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    aside = base / ATTEMPTS / stamp / path.relative_to(base)
    n = 1
    while aside.exists():
        n += 1
        aside = base / ATTEMPTS / f"{stamp}-{n}" / path.relative_to(base)
    aside.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(path, aside)
    return aside


def write(relative: str, content: str, base: Path | None = None, quiet: bool = False) -> None:
    """Write ``relative`` in the project folder; a different file already there is kept in .course-attempts/ first."""
    base = base or folder()
    path = base / relative
    if path.exists() and path.read_text(encoding="utf-8") == content:
        return
    said = tr("wrote {path}", path=relative)
    if path.exists():
        kept = _keep_aside(path, base).relative_to(base).as_posix()
        said = tr("wrote {path} (yours is kept as {kept})", path=relative, kept=kept)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content, encoding="utf-8")
    if not quiet:
        print(said)


def edit(relative: str, old: str, new: str, base: Path | None = None, quiet: bool = False) -> None:
    """Replace ``old`` by ``new`` in a file of the project (nothing to do if ``new`` is there already)."""
    base = base or folder()
    path = base / relative
    if not path.exists():
        raise CapstoneError(tr("There is no {path} in your folder: run the commands before this edit first.", path=relative))
    current = path.read_text(encoding="utf-8")
    if new in current:
        return
    if current.count(old) != 1:
        raise CapstoneError(
            tr(
                "{path} does not contain this text once, so it cannot be replaced:\n{old}\n"
                "Put it back as the command wrote it (your file stays as it is).",
                path=relative,
                old=old,
            )
        )
    _keep_aside(path, base)
    path.write_text(current.replace(old, new), encoding="utf-8")
    if not quiet:
        print(tr("edited {path}", path=relative))


def argv_of(command: str) -> list[str]:
    """A command as the learner types it, for this Python: ``python`` is the course's interpreter."""
    argv = shlex.split(command)
    if argv and argv[0] == "python":
        argv[0] = sys.executable
    return argv


def run_command(command: str, base: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run ``command`` in the project folder as a terminal would (stdout and stderr together)."""
    base = base or folder()
    argv = argv_of(command)
    if argv[:2] == [sys.executable, "-m"] and argv[2] in ("alembic", "pytest"):
        env = {"PYTEST_ADDOPTS": "-p no:cacheprovider", "PYTHONDONTWRITEBYTECODE": "1"} if argv[2] == "pytest" else {}
        return run_module(base, argv[2], argv[3:], check=False, env=env)
    return subprocess.run(
        argv,
        cwd=base,
        env=subprocess_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        encoding="utf-8",
        timeout=timeout,
    )


def run(command: str, unless: str | None = None, last: int = 6) -> None:
    """Run a step's command in the project folder, print the end of its output (``unless``: a glob that means "done already")."""
    base = folder()
    if unless and list(base.glob(unless)):
        print(f"$ {command}\n  " + tr("(skipped: {done} is there already)", done=unless))
        return
    proc = run_command(command, base)
    lines = [line.replace(str(base), ".") for line in proc.stdout.splitlines() if line.strip()]
    shown = lines[-last:]
    print(f"$ {command}\n" + "\n".join("  " + line for line in shown))
    if proc.returncode != 0:
        raise CapstoneError(
            tr("`{command}` failed (exit code {code}); its output is above.", command=command, code=proc.returncode)
        )
