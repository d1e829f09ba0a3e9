"""A notebook's workspace: its own project folder and its own database.

``notebooks/workspaces/<notebook>/`` is a small copy of the shop project where the learner
runs ``alembic init``, edits ``env.py`` and generates revisions; the repository's
reference files are never touched. Its ``.env`` points at the notebook's own database.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import URL

from course.database import CHECKOUT, SETTING_NAMES, database_name_for, env_file_text, recreate_database, server_settings

WORKSPACES = CHECKOUT / "notebooks" / "workspaces"
REFERENCE_APP = CHECKOUT / "app"
STARTER_MODELS = Path(__file__).resolve().parent / "starter" / "models"  # the shop of notebooks 01-06


@dataclass
class Workspace:
    name: str
    path: Path
    database: str
    sync_url: URL = field(repr=False)
    settings_description: str = ""

    @property
    def async_url(self) -> URL:
        return self.sync_url.set(drivername="postgresql+asyncpg")

    def alembic(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run the real ``alembic`` CLI in this workspace (output captured, paths as in the workspace)."""
        return run_alembic(self.path, list(args), check=check)

    def __str__(self) -> str:
        return f"workspace {self.name!r} with database {self.database!r}"


def subprocess_env() -> dict[str, str]:
    """The environment for commands run in a workspace: no DB_* or DATABASE_URL, so its .env decides."""
    env = {k: v for k, v in os.environ.items() if k not in SETTING_NAMES}
    env["PYTHONIOENCODING"] = "utf-8"
    env.pop("PYTHONPATH", None)
    return env


def run_alembic(cwd: Path, args: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run ``alembic <args>`` in ``cwd`` in a new process; stdout and stderr together, as a terminal shows them."""
    argv = [sys.executable, "-m", "alembic", *args]
    warm = _warm_starter() if not _shadows_preloaded(cwd) else None
    if warm is not None:
        code, output = warm.run(cwd, args, subprocess_env())
        proc = subprocess.CompletedProcess(argv, code, output, None)
    else:
        proc = subprocess.run(
            argv, cwd=cwd, env=subprocess_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, encoding="utf-8"
        )
    if check and proc.returncode != 0:
        raise RuntimeError(f"alembic {' '.join(args)} failed in {cwd.name}:\n{proc.stdout}")
    return proc


class WarmStarter:
    """Client of ``course/warm_alembic.py``: each command still runs in its own new process,
    forked from one that has already imported SQLAlchemy and Alembic (about 3x faster)."""

    def __init__(self) -> None:
        self.server = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("warm_alembic.py"))],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=subprocess_env(),
            text=True,
        )

    def run(self, cwd: Path, args: list[str], env: dict[str, str]) -> tuple[int, str]:
        import json
        import tempfile

        assert self.server.stdin is not None and self.server.stdout is not None
        fd, out = tempfile.mkstemp(prefix="alembic-", suffix=".log")
        os.close(fd)
        try:
            request = {"cwd": str(cwd), "args": args, "env": env, "out": out}
            self.server.stdin.write(json.dumps(request) + "\n")
            self.server.stdin.flush()
            reply = self.server.stdout.readline()
            if not reply:
                raise RuntimeError("the warm alembic starter stopped")
            return int(reply), Path(out).read_text(encoding="utf-8", errors="backslashreplace")
        finally:
            os.unlink(out)


_WARM: WarmStarter | None = None
PRELOADED = ("alembic", "sqlalchemy", "asyncpg", "pydantic", "pydantic_settings", "mako", "greenlet")


def _shadows_preloaded(cwd: Path) -> bool:
    """Would a module in ``cwd`` shadow one the warm starter has already imported?

    ``python -m alembic`` puts the current folder first on sys.path, so a folder named
    ``alembic/`` there changes what runs (notebook 02 shows it). Such a command starts cold.
    """
    return any((cwd / name / "__init__.py").exists() or (cwd / f"{name}.py").exists() for name in PRELOADED)


def _warm_starter() -> WarmStarter | None:
    """The process's warm starter, or None where fork is unavailable (Windows) or turned off."""
    global _WARM
    if not hasattr(os, "fork") or os.environ.get("COURSE_WARM_ALEMBIC", "1") == "0":
        return None
    if _WARM is None or _WARM.server.poll() is not None:
        _WARM = WarmStarter()
    return _WARM


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

    import contextlib
    import io

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
    from sqlalchemy import create_engine, text

    _start_upgraded(ws, url)
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text(SAMPLE_DATA_SQL))
    finally:
        engine.dispose()


# Each takes the workspace folder and its database's URL.
STARTING_STATES: dict[str, Callable[[Path, URL], None]] = {
    "app": _start_app_only,
    "initialized": _start_initialized,
    "configured": _start_configured,
    "initial-revision": _start_initial_revision,
    "upgraded": _start_upgraded,
    "shop-with-data": _start_shop_with_data,
}


def create_workspace(name: str, start: str = "app") -> Workspace:
    """Make (or make again) the workspace and database for notebook ``name``, at state ``start``."""
    if start not in STARTING_STATES:
        raise ValueError(f"unknown starting state {start!r}; choose one of {sorted(STARTING_STATES)}")
    settings = server_settings()
    database = database_name_for(name)
    sync_url = recreate_database(database, settings)
    path = WORKSPACES / name
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    (path / ".env").write_text(env_file_text(sync_url), encoding="utf-8")
    STARTING_STATES[start](path, sync_url)
    return Workspace(name=name, path=path, database=database, sync_url=sync_url, settings_description=settings.describe())
