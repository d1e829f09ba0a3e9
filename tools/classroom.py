"""`python run.py classroom`: prepare one PostgreSQL server for a class of learners (and clear it after).

    python run.py classroom prepare --learners ivan maria "o'brien"     # or --learners-file names.txt
    python run.py classroom prepare --learners-file names.txt --env "/home/{learner}/alembic-course/.env"
    python run.py classroom reset  --learners ivan                      # drop ivan's databases (a fresh start)
    python run.py classroom remove --learners-file names.txt            # databases and roles, the whole class

The server is the one the course is configured with (``DATABASE_URL`` or ``DB_*`` in the
environment or the checkout's ``.env``): connect as a role with ``CREATEROLE`` (a superuser
is simplest). For each learner, ``prepare`` creates one login role with ``CREATEDB`` and
nothing more (no superuser, no ``CREATEROLE``), named after the learner's namespace
(``learner_namespace``: any user name gives a valid, distinct identifier), with a random
password, and writes that learner's ``.env`` (file mode 0600): ``DATABASE_URL`` with that role
and password, and ``COURSE_LEARNER``. Passwords are never printed. Every database the course
then creates for the learner starts with the learner's namespace and has ``CONNECT`` revoked
from ``PUBLIC``: only its owner (and a superuser) can connect to it, drop it or read it.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import URL, text
from sqlalchemy.exc import DBAPIError

from course.database import (
    ServerSettings,
    connect,
    database_prefix,
    drop_course_databases,
    learner_namespace,
    server_settings,
)
from course.embedded import PASSWORD_GROUP
from course.paths import CHECKOUT

DEFAULT_ENV = str(CHECKOUT / "build" / "classroom" / "{learner}" / ".env")


def role_for(learner: str, settings: ServerSettings) -> str:
    """The login role of ``learner``: their namespace (a valid identifier for any name)."""
    return learner_namespace(_as(learner, settings))


def env_text(url: URL, learner: str) -> str:
    """A learner's .env: where their server is, as them, and who they are."""
    quoted = learner.replace("\\", "\\\\").replace("'", "\\'")
    return (
        "# Written by python run.py classroom prepare: your own role on the class's server. Not committed; keep it private.\n"
        f"DATABASE_URL='{url.render_as_string(hide_password=False)}'\n"
        f"COURSE_LEARNER='{quoted}'\n"
    )


def _write_private(path: Path, content: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(content)
    os.chmod(path, 0o600)  # also when the file was there before


def prepare(learners: Sequence[str], env_template: str, settings: ServerSettings) -> list[Path]:
    """One role and one .env per learner (a second run gives each a new password); the .env paths."""
    written = []
    with connect(settings.url, autocommit=True) as conn:
        for learner in learners:
            role, password = role_for(learner, settings), secrets.token_urlsafe(18)
            exists = conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).scalar()
            # token_urlsafe: letters, digits, - and _ only, so the literal needs no escaping
            attributes = "LOGIN CREATEDB" if exists else "LOGIN CREATEDB NOSUPERUSER NOCREATEROLE"
            statement = f"{'ALTER' if exists else 'CREATE'} ROLE \"{role}\" {attributes} PASSWORD '{password}'"
            try:
                conn.execute(text(statement))
            except DBAPIError as error:  # the statement holds the password: say why without it
                reason = str(error.orig).strip().splitlines()[0] if error.orig else type(error).__name__
                raise SystemExit(f"{learner!r}: the server refused to make role {role}: {reason}") from None
            if conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :g"), {"g": PASSWORD_GROUP}).scalar():
                conn.execute(text(f'GRANT {PASSWORD_GROUP} TO "{role}"'))  # the embedded server: a password, always
            url = settings.url.set(username=role, password=password)
            path = Path(env_template.format(learner=learner, role=role))
            _write_private(path, env_text(url, learner))
            written.append(path)
            print(
                f"{learner!r}: role {role} (LOGIN CREATEDB), databases {database_prefix(_as(learner, settings))}*, .env in {path}"
            )
    return written


def _as(learner: str, settings: ServerSettings) -> ServerSettings:
    """The server's settings, as ``learner`` sees them (their namespace)."""
    return settings.model_copy(update={"COURSE_LEARNER": learner})


def drop_databases(learner: str, settings: ServerSettings) -> int:
    """Drop every database of ``learner`` (named with their prefix); how many."""
    role = role_for(learner, settings)
    with connect(settings.url, autocommit=True) as conn:
        is_super = conn.execute(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")).scalar()
        if not is_super and conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).scalar():
            conn.execute(text(f'GRANT "{role}" TO current_user'))  # a CREATEROLE admin may then drop what it owns
    return len(drop_course_databases(_as(learner, settings)))


def remove(learners: Sequence[str], settings: ServerSettings) -> None:
    """Each learner's databases, then their role."""
    for learner in learners:
        role = role_for(learner, settings)
        with connect(settings.url, autocommit=True) as conn:
            exists = conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).scalar()
        dropped = drop_databases(learner, settings)
        if exists:
            with connect(settings.url, autocommit=True) as conn:
                conn.execute(text(f'DROP ROLE "{role}"'))
        print(f"{learner!r}: {dropped} database(s) dropped" + (f", role {role} dropped" if exists else ", no role"))


def _learners(args: argparse.Namespace) -> list[str]:
    names = list(args.learners or [])
    if args.learners_file:
        lines = Path(args.learners_file).read_text(encoding="utf-8").splitlines()
        names += [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
    if not names:
        raise SystemExit("no learners: give --learners NAME ... or --learners-file FILE (one name a line)")
    if len({n.casefold() for n in names}) != len(names):
        raise SystemExit("a learner is listed twice")
    return names


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python run.py classroom", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("prepare", "reset", "remove"))
    parser.add_argument("--learners", nargs="*", help="learners' user names (JupyterHub names, for example)")
    parser.add_argument("--learners-file", help="a file with one learner a line (# comments allowed)")
    parser.add_argument(
        "--env",
        default=DEFAULT_ENV,
        help="where each learner's .env goes; {learner} and {role} are filled in (default: build/classroom/{learner}/.env)",
    )
    args = parser.parse_args(argv)
    learners = _learners(args)
    settings = server_settings()
    if settings.uses_embedded_server:
        print("Note: no server is configured, so this prepares the embedded PostgreSQL of this checkout.", file=sys.stderr)
    if args.command == "prepare":
        prepare(learners, args.env, settings)
    elif args.command == "reset":
        for learner in learners:
            print(f"{learner!r}: {drop_databases(learner, settings)} database(s) dropped")
    else:
        remove(learners, settings)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
