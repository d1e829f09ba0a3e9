"""``python -m course <command>``: what the launcher (``run.py``) runs inside the venv.

db        start the embedded PostgreSQL if it is the one in use, and check the connection
db-stop   stop the embedded PostgreSQL
lab       open the course in JupyterLab (extra arguments go to ``jupyter lab``);
          ``--lang ru``: the Russian edition (notebooks/ru/), JupyterLab's interface in Russian
clean     stop the embedded PostgreSQL, drop the course's databases, remove the workspaces
progress  the exercises of this checkout (COURSE_ROOT=another checkout: theirs): solved, attempted, not started
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from course.paths import CHECKOUT, NOTEBOOKS, WORKSPACES

FIRST_NOTEBOOK = "00-welcome-and-setup.ipynb"
# JupyterLab settings every learner gets: no "Would you like to get notified about news?" popup
# and no update check (a course pins its versions).
LAB_OVERRIDES = {"@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False}}
# The interface's language for each edition (a language pack per locale, pinned in requirements.in).
# A language the learner picks in Settings → Language is a user setting: it wins over this default.
LAB_LOCALES = {"en": "en", "ru": "ru_RU"}
LANGUAGE_SETTING = "@jupyterlab/translation-extension:plugin"


def db() -> int:
    from course.database import DatabaseUnavailable, check_server, database_prefix, learner_namespace, server_settings

    settings = server_settings()
    try:
        version = check_server(settings)
    except DatabaseUnavailable as error:
        print(error, file=sys.stderr)
        return 1
    print(f"Database reachable: {settings.describe()}, PostgreSQL {version}.")
    if learner_namespace(settings):  # a server others may share
        print(f"Your databases on it are named {database_prefix(settings)}… (COURSE_LEARNER in .env says whose).")
    return 0


def db_stop() -> int:
    from course.embedded import stop

    print("Embedded PostgreSQL stopped." if stop() else "Embedded PostgreSQL was not running.")
    return 0


def install_lab_overrides(prefix: Path = Path(sys.prefix), lang: str = "en") -> Path:
    """Write the course's JupyterLab setting overrides into this environment, the interface in ``lang`` (idempotent)."""
    path = prefix / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    current = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    wanted = {**current, **LAB_OVERRIDES, LANGUAGE_SETTING: {**current.get(LANGUAGE_SETTING, {}), "locale": LAB_LOCALES[lang]}}
    if current != wanted:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(wanted, indent=2) + "\n", encoding="utf-8")
    return path


def first_notebook(lang: str = "en") -> str:
    """The notebook JupyterLab opens first: 00 of the edition, relative to notebooks/."""
    return FIRST_NOTEBOOK if lang == "en" else f"{lang}/{FIRST_NOTEBOOK}"


def take_language(extra: list[str]) -> tuple[str, list[str]]:
    """``--lang ru`` / ``--lang=ru`` out of ``run.py lab``'s arguments (the rest go to ``jupyter lab``)."""
    from course.i18n import check_language

    rest, lang, args = [], "en", iter(extra)
    for arg in args:
        if arg == "--lang":
            lang = next(args, "")
        elif arg.startswith("--lang="):
            lang = arg.split("=", 1)[1]
        else:
            rest.append(arg)
    return check_language(lang), rest


def lab_command(root_dir: Path = NOTEBOOKS, extra: list[str] | tuple[str, ...] = (), lang: str = "en") -> list[str]:
    """The ``jupyter lab`` command line that ``run.py lab`` runs (the browser test runs it too)."""
    argv = [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        f"--ServerApp.root_dir={root_dir}",
        f"--LabApp.default_url=/lab/tree/{first_notebook(lang)}",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    if sys.platform != "win32" and os.geteuid() == 0:
        argv.append("--allow-root")  # containers and CI run as root; Jupyter refuses it unless told
    return [*argv, *extra]


def lab(extra: list[str]) -> int:
    from course.i18n import UnknownLanguage

    try:
        lang, rest = take_language(extra)
    except UnknownLanguage as error:
        print(f"python run.py lab --lang: {error}", file=sys.stderr)
        return 2
    if db() != 0:
        return 1
    install_lab_overrides(lang=lang)
    return subprocess.call(lab_command(extra=rest, lang=lang))


def clean() -> int:
    """Drop the course's databases (when the server answers), stop the embedded server, remove workspaces."""
    from course.database import DatabaseUnavailable, check_server, drop_course_databases, server_settings

    settings = server_settings()
    try:
        check_server(settings)
    except DatabaseUnavailable:
        print("The database server does not answer: no database dropped.")
    else:
        names = drop_course_databases(settings)  # on a shared server: this learner's, nobody else's
        print(f"Dropped {len(names)} course database(s).")
    db_stop()
    if WORKSPACES.exists():
        shutil.rmtree(WORKSPACES)
        print(f"Removed {WORKSPACES.relative_to(CHECKOUT)}.")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    command, rest = (args[0], args[1:]) if args else ("help", [])
    if command == "db":
        return db()
    if command == "db-stop":
        return db_stop()
    if command == "lab":
        return lab(rest)
    if command == "clean":
        return clean()
    if command == "progress":
        from course.practice import progress

        progress(rest[0] if rest else None)
        return 0
    print(__doc__, file=sys.stderr if command != "help" else sys.stdout)
    return 0 if command == "help" else 2
