"""A notebook's workspace: its own project folder and its own database.

``notebooks/workspaces/<notebook>/`` is a small copy of the shop project where the learner
runs ``alembic init``, edits ``env.py`` and generates revisions; the repository's
reference files are never touched. Its ``.env`` points at the notebook's own database.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import URL, text

from course.alembic_runner import run_alembic
from course.database import ASYNC_DRIVER, connect, database_name_for, env_file_text, recreate_database, server_settings
from course.i18n import tr
from course.paths import REFERENCE_APP, WORKSPACES

STARTER_MODELS = Path(__file__).resolve().parent / "starter" / "models"  # the shop of notebooks 01-06


@dataclass
class Workspace:
    name: str
    path: Path
    database: str
    sync_url: URL = field(repr=False)

    @property
    def async_url(self) -> URL:
        return self.sync_url.set(drivername=ASYNC_DRIVER)

    def alembic(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run the real ``alembic`` CLI in this workspace (output captured, paths as in the workspace)."""
        return run_alembic(self.path, list(args), check=check)

    def __str__(self) -> str:
        return tr("workspace {name!r} with database {database!r}", name=self.name, database=self.database)


def copy_app(dest: Path) -> None:
    """The shop as a learner starts it: settings and engine, the starter models, no migrations yet."""
    skip = shutil.ignore_patterns("__pycache__")
    shutil.copytree(REFERENCE_APP / "backend", dest / "app" / "backend", ignore=skip)
    shutil.copytree(STARTER_MODELS, dest / "app" / "models", ignore=skip)
    (dest / "app" / "__init__.py").write_text("", encoding="utf-8")


def init_alembic(dest: Path, template: str = "generic") -> None:
    """What ``alembic init app/migrations`` leaves behind (run through Alembic's own API)."""
    from alembic import command
    from alembic.config import Config

    here = Path.cwd()
    os.chdir(dest)  # relative paths, so alembic.ini says script_location = %(here)s/app/migrations
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            command.init(Config("alembic.ini"), "app/migrations", template=template)
    finally:
        os.chdir(here)


def configure_async_env(dest: Path) -> None:
    """The finished chapter 03: the reference async env.py, and alembic.ini with no URL in it."""
    shutil.copy2(REFERENCE_APP / "migrations" / "env.py", dest / "app" / "migrations" / "env.py")
    ini = dest / "alembic.ini"
    text = ini.read_text(encoding="utf-8")
    text = text.replace(
        "sqlalchemy.url = driver://user:pass@localhost/dbname",
        "# sqlalchemy.url is not set here: env.py reads it from app.backend.DB_config.settings",
    )
    ini.write_text(text, encoding="utf-8")


# Chapter 04's edit to `alembic init`'s logging configuration (notebook 04 makes it live): two
# loggers that speak at INFO on every autogenerate run are turned down to WARNING.
QUIET_LOGGERS = {
    "alembic_plugins": "alembic.runtime.plugins",  # "setting up autogenerate plugin ..." (Alembic 1.18+)
    "alembic_postgresql": "alembic.ddl.postgresql",  # "Detected sequence named ... assuming SERIAL"
}


def quiet_autogenerate_logs(dest: Path) -> None:
    """What notebook 04 does to alembic.ini: its ``QUIET_LOGGERS`` at WARNING."""
    ini = dest / "alembic.ini"
    text = ini.read_text(encoding="utf-8")
    sections = "".join(
        f"\n\n[logger_{key}]\nlevel = WARNING\nhandlers =\nqualname = {name}" for key, name in QUIET_LOGGERS.items()
    )
    edits = (
        ("keys = root,sqlalchemy,alembic\n", f"keys = root,sqlalchemy,alembic,{','.join(QUIET_LOGGERS)}\n"),
        ("qualname = alembic\n\n[handler_console]", f"qualname = alembic{sections}\n\n[handler_console]"),
    )
    for old, new in edits:
        if text.count(old) != 1:
            raise RuntimeError(f"alembic init's alembic.ini changed: {old!r} is not in it once")
        text = text.replace(old, new)
    ini.write_text(text, encoding="utf-8")


def copy_reference_revisions(dest: Path, upto: str | None = None) -> list[str]:
    """Copy the reference revision files (sorted by name) into the workspace, up to ``upto`` included."""
    copied = []
    target = dest / "app" / "migrations" / "versions"
    target.mkdir(parents=True, exist_ok=True)
    for file in sorted((REFERENCE_APP / "migrations" / "versions").glob("*.py")):
        shutil.copy2(file, target / file.name)
        copied.append(file.stem)
        if upto is not None and file.stem.startswith(upto):
            break
    return copied


# What each chapter starts from: the state the previous chapters leave behind.
def _start_app_only(ws: Path, url: URL) -> None:
    copy_app(ws)


def _start_initialized(ws: Path, url: URL) -> None:
    copy_app(ws)
    init_alembic(ws)


def _start_configured(ws: Path, url: URL) -> None:
    _start_initialized(ws, url)
    configure_async_env(ws)


def _start_initial_revision(ws: Path, url: URL) -> None:
    _start_configured(ws, url)
    quiet_autogenerate_logs(ws)
    copy_reference_revisions(ws, upto="0001")


def _start_upgraded(ws: Path, url: URL) -> None:
    _start_initial_revision(ws, url)
    run_alembic(ws, ["upgrade", "head"])


SAMPLE_DATA_SQL = """
INSERT INTO categories (id, name, slug, is_active, parent_id) VALUES
    (1, 'Electronics', 'electronics', true, NULL),
    (2, 'Phones', 'phones', true, 1),
    (3, 'Laptops', 'laptops', true, 1),
    (4, 'Books', 'books', true, NULL),
    (5, 'Vinyl', 'vinyl', false, NULL);
INSERT INTO products (id, name, slug, description, price, image_url, stock, category_id, rating, is_active) VALUES
    (1, 'Pixel 9', 'pixel-9', 'A phone', 79900, '/img/pixel-9.png', 12, 2, 4.5, true),
    (2, 'iPhone 16', 'iphone-16', 'Another phone', 89900, NULL, 7, 2, 4.6, true),
    (3, 'ThinkPad X1', 'thinkpad-x1', 'A laptop', 169900, '/img/x1.png', 3, 3, 4.7, true),
    (4, 'MacBook Air', 'macbook-air', NULL, 119900, NULL, 0, 3, 4.8, true),
    (5, 'SQL Antipatterns', 'sql-antipatterns', 'A book', 3500, NULL, 25, 4, 4.4, true),
    (6, 'Designing Data-Intensive Applications', 'ddia', 'Another book', 4500, NULL, 40, 4, 4.9, true),
    (7, 'Kind of Blue', 'kind-of-blue', 'A record', 2500, NULL, 2, 5, 5.0, false),
    (8, 'Old Charger', 'old-charger', NULL, 900, NULL, 0, NULL, 2.1, false);
SELECT setval('categories_id_seq', 5);
SELECT setval('products_id_seq', 8);
"""


def _start_shop_with_data(ws: Path, url: URL) -> None:
    """Part 2's starting point: the shop migrated to its first revision, with a few real rows."""
    _start_upgraded(ws, url)
    with connect(url) as conn:
        conn.execute(text(SAMPLE_DATA_SQL))


def _start_reference_head(ws: Path, url: URL) -> None:
    """Part 3's starting point: the reference shop (its models and its whole chain), at head, with the rows carried up."""
    _start_shop_with_data(ws, url)
    shutil.rmtree(ws / "app" / "models")
    shutil.copytree(REFERENCE_APP / "models", ws / "app" / "models", ignore=shutil.ignore_patterns("__pycache__"))
    copy_reference_revisions(ws)
    run_alembic(ws, ["upgrade", "head"])


# Each takes the workspace folder and its database's URL.
STARTING_STATES: dict[str, Callable[[Path, URL], None]] = {
    "app": _start_app_only,
    "initialized": _start_initialized,
    "configured": _start_configured,
    "initial-revision": _start_initial_revision,
    "upgraded": _start_upgraded,
    "shop-with-data": _start_shop_with_data,
    "reference-head": _start_reference_head,
}


class WorkspaceBusy(RuntimeError):
    """The workspace folder cannot be replaced: another program holds it. Shown as a few plain lines."""

    def _render_traceback_(self) -> list[str]:  # IPython shows this instead of a traceback
        return [str(self)]


def _clear(path: Path) -> None:
    """Remove a workspace folder: rename it aside first (Windows refuses while a program holds it), then delete."""
    for leftover in path.parent.glob(f".{path.name}.old-*"):  # from a reset whose deletion was cut short
        shutil.rmtree(leftover, ignore_errors=True)
    if not path.exists():
        return
    aside = path.with_name(f".{path.name}.old-{uuid.uuid4().hex[:8]}")
    try:
        path.rename(aside)
    except OSError as error:
        raise WorkspaceBusy(
            tr(
                "Cannot start {name!r} over: another program is using its folder ({reason}).\n"
                "  Folder: {folder}\n"
                "  Fix:    close what has it open - a terminal whose current folder is inside it (cd out of it),\n"
                "          an editor with one of its files, a File Explorer window - then run the setup cell again.\n"
                "  Your files in it are untouched.",
                name=path.name,
                reason=error.strerror or error,
                folder=path,
            )
        ) from None
    shutil.rmtree(aside, ignore_errors=True)


def create_workspace(name: str, start: str = "app") -> Workspace:
    """Make (or make again) the workspace and database for notebook ``name``, at state ``start``.

    The state is built for real the first time (``STARTING_STATES``), then copied (``course.starts``).
    """
    if start not in STARTING_STATES:
        raise ValueError(
            tr("unknown starting state {start!r}; choose one of {states}", start=start, states=sorted(STARTING_STATES))
        )
    from course import snapshots, starts  # (they import this module)

    path = WORKSPACES / name
    _clear(path)  # first: a folder another program holds stops the reset before anything is lost
    settings = server_settings()
    database = database_name_for(name, settings)
    built = starts.prepared(start, settings)  # the state, built for real once, then copied
    sync_url = recreate_database(database, settings, template=built.database)
    snapshots.forget(name, database)
    path.parent.mkdir(parents=True, exist_ok=True)
    starts.copy_into(built, path)
    (path / ".env").write_text(env_file_text(sync_url), encoding="utf-8")
    return Workspace(name=name, path=path, database=database, sync_url=sync_url)
