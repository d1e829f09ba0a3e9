"""Two releases of the app on one database, and commands that race: notebook 13.

A *release* is a small module in the workspace (``releases/v1.py``) with the queries that
version of the app makes, as two coroutines::

    async def write(conn): ...          # one request that changes something (committed)
    async def read(conn): ...           # one request that reads; returns rows

``side_by_side("releases.v1", "releases.v2")`` runs each release in a **process of its own**
(``python -m course.releases releases.v1`` in the workspace, with the app's own async engine
from ``app.backend.DB_engine``), at the same time: first both writes, then (once both have
committed) both reads, so that each sees what the other wrote and the output is the same on
every run. It prints what each release got, side by side, errors as their PostgreSQL class.

``race(["upgrade", "head"])`` starts one real ``alembic`` process, waits until it is inside
its migration (its connection runs ``pg_sleep``), starts a second one, and prints the stable
facts: exit codes, what each ran, what the second waited for (seen in ``pg_stat_activity``),
how it ended, and the final ``alembic_version``.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import subprocess
import sys
import textwrap
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from course.i18n import N_, tr

if TYPE_CHECKING:
    from course.workspace import Workspace

COLUMN = 42  # characters of one release's column (two side by side fit a slide's 90)


# --- inside a release's process -----------------------------------------------------------------


def describe_error(error: BaseException) -> str:
    """``UndefinedColumnError [42703]: column "title" does not exist``: the driver's class, SQLSTATE, first line."""
    found, seen = None, error
    while seen is not None:  # the asyncpg error, under SQLAlchemy's wrappers (the deepest one with a SQLSTATE)
        if getattr(seen, "sqlstate", None):
            found = seen
        seen = seen.__cause__ or getattr(seen, "orig", None)
    if found is None:
        message = str(error).strip().splitlines()[0] if str(error).strip() else ""
        return f"{type(error).__name__}: {message}"
    message = str(found).strip().splitlines()[0]
    return f"{type(found).__name__} [{getattr(found, 'sqlstate', '')}]: {message}"


async def _serve(module_name: str) -> None:
    """Run one release: its write (committed), then, once told to go on (a line on stdin), its read."""
    from app.backend.DB_engine import engine

    release = importlib.import_module(module_name)
    try:
        try:
            async with engine.begin() as conn:
                await release.write(conn)
            print(json.dumps({"write": "ok"}), flush=True)
        except Exception as error:  # noqa: BLE001 - a failing request is what we want to show
            print(json.dumps({"write_error": describe_error(error)}), flush=True)
        sys.stdin.readline()  # the other release has written too
        try:
            async with engine.connect() as conn:
                rows = await release.read(conn)
            print(json.dumps({"read": [[str(v) for v in row] for row in rows]}), flush=True)
        except Exception as error:  # noqa: BLE001 - the read failing is what we want to show
            print(json.dumps({"read_error": describe_error(error)}), flush=True)
    finally:
        await engine.dispose()


# --- in the notebook ----------------------------------------------------------------------------


@dataclass
class ReleaseRun:
    module: str
    write: str = ""  # "ok" or the error
    read: list[list[str]] | None = None
    read_error: str = ""
    problem: str = ""  # the process itself failed (an import error, a syntax error)

    @property
    def ok(self) -> bool:
        return self.write == "ok" and self.read is not None


def _start(ws: Workspace, module: str) -> subprocess.Popen[str]:
    from course.alembic_runner import subprocess_env

    return subprocess.Popen(
        [sys.executable, "-m", "course.releases", module],
        cwd=ws.path,
        env=subprocess_env(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )


def _line(proc: subprocess.Popen[str]) -> dict[str, Any]:
    assert proc.stdout is not None
    line = proc.stdout.readline()
    try:
        return json.loads(line) if line.strip() else {}
    except ValueError:
        return {}


def run_releases(ws: Workspace, *modules: str) -> list[ReleaseRun]:
    """Run the releases at the same time, each in its own process: all writes, then all reads."""
    procs = [_start(ws, module) for module in modules]
    runs = [ReleaseRun(module) for module in modules]
    try:
        for proc, run in zip(procs, runs, strict=True):
            first = _line(proc)
            run.write = first.get("write") or first.get("write_error", "")
        for proc in procs:  # everyone has committed its write: now the reads
            if proc.poll() is None and proc.stdin is not None:
                try:
                    proc.stdin.write("go\n")
                    proc.stdin.flush()
                except OSError:
                    pass
        for proc, run in zip(procs, runs, strict=True):
            second = _line(proc) if run.write else {}
            run.read = second.get("read")
            run.read_error = second.get("read_error", "")
            _, err = proc.communicate(timeout=60)
            if not run.write or (run.read is None and not run.read_error):
                lines = [line for line in err.strip().splitlines() if line.strip()]
                run.problem = lines[-1] if lines else tr("exit code {code}", code=proc.returncode)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return runs


def _cell(run: ReleaseRun) -> list[str]:
    if run.problem:
        return [
            tr("✗ the release did not run:"),
            *textwrap.wrap(run.problem, COLUMN - 2, initial_indent="  ", subsequent_indent="  "),
        ]
    out = [tr("write ✓") if run.write == "ok" else tr("write ✗")]
    if run.write != "ok":
        out += textwrap.wrap(run.write, COLUMN - 2, initial_indent="  ", subsequent_indent="  ")
    if run.read is not None:
        out.append(tr("read  ✓"))
        widths = [max(len(row[i]) for row in run.read) for i in range(len(run.read[0]))] if run.read else []
        out += [("  " + "  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True))).rstrip()[:COLUMN] for row in run.read]
    else:
        out.append(tr("read  ✗"))
        out += textwrap.wrap(run.read_error, COLUMN - 2, initial_indent="  ", subsequent_indent="  ")
    return out


def side_by_side(*modules: str) -> None:
    """Run the releases at the same time (see the module's docstring) and print what each got, in columns."""
    from course import _require

    runs = run_releases(_require(), *modules)
    cells = [_cell(run) for run in runs]
    print("   ".join(f"{run.module:<{COLUMN}}" for run in runs).rstrip())
    print("   ".join("─" * COLUMN for _ in runs))
    for i in range(max(len(c) for c in cells)):
        print("   ".join(f"{(c[i] if i < len(c) else ''):<{COLUMN}}" for c in cells).rstrip())


# --- racing alembic processes ----------------------------------------------------------------------


@dataclass
class Racer:
    name: str
    code: int | None = None
    output: str = ""
    started: float = 0.0
    ended: float = 0.0
    waits: list[tuple[float, str]] = field(default_factory=list)  # (when, "Lock/advisory"), seen while it ran
    overlapped: bool = True  # B started while A was inside its migration (False: A had nothing to do)

    @property
    def ran(self) -> list[str]:
        return [line.split("] ", 1)[1] for line in self.output.splitlines() if "] Running " in line]

    @property
    def error(self) -> str:
        """The error the command ended with: the driver's own class where the traceback names it (``asyncpg.exceptions.X``)."""
        lines = [line for line in self.output.splitlines() if line.strip() and not line[0].isspace()]
        for prefix in ("asyncpg.exceptions.", "sqlalchemy.exc.", "FAILED:", "RuntimeError"):
            found = [line for line in lines if line.startswith(prefix)]
            if found:
                return found[-1]
        return lines[-1] if self.code and lines else ""

    def waited(self) -> tuple[str, float] | None:
        """What it waited for (the wait event PostgreSQL reported) and for about how long."""
        if not self.waits:
            return None
        first, event = self.waits[0]
        last = self.waits[-1][0]
        return event, last - first + POLL_S


POLL_S = 0.02
WAIT_EVENTS = {  # shown through tr()
    "Lock/advisory": N_("an advisory lock (pg_advisory_xact_lock)"),
    "Lock/relation": N_("a lock on a table (the other's ALTER TABLE holds it)"),
    "Lock/transactionid": N_("the other transaction to end"),
}


def _activity(conn, database: str) -> list[tuple[int, str, str, str]]:
    from sqlalchemy import text

    rows = conn.execute(
        text(
            "SELECT pid, coalesce(wait_event_type, ''), coalesce(wait_event, ''), coalesce(query, '') FROM pg_stat_activity"
            " WHERE datname = :db AND pid <> pg_backend_pid() AND backend_type = 'client backend' AND state = 'active'"
        ),
        {"db": database},
    )
    return [tuple(r) for r in rows]


def run_race(ws: Workspace, args: list[str], *, timeout_s: float = 30.0) -> list[Racer]:
    """Start ``alembic <args>`` (A); once its connection runs pg_sleep, start the same command again (B). Watch both.

    If A never gets to a ``pg_sleep`` (nothing to do, or an early failure), B starts once A has ended.
    """
    from course.alembic_runner import run_alembic
    from course.database import connect

    racers = [Racer("A"), Racer("B")]

    def go(racer: Racer) -> None:
        racer.started = time.monotonic()
        proc = run_alembic(ws.path, args, check=False)
        racer.code, racer.output, racer.ended = proc.returncode, proc.stdout, time.monotonic()

    threads = [threading.Thread(target=go, args=(r,), daemon=True) for r in racers]
    deadline = time.monotonic() + timeout_s
    with connect(ws.sync_url, autocommit=True) as conn:
        threads[0].start()
        sleeper = None
        while sleeper is None and threads[0].is_alive() and time.monotonic() < deadline:
            sleeper = next((pid for pid, _, _, query in _activity(conn, ws.database) if "pg_sleep" in query), None)
            time.sleep(POLL_S)
        if sleeper is None:  # A never slept: it had nothing to do (already at head), or it failed early
            threads[0].join(timeout_s)
        threads[1].start()
        while threads[1].is_alive() and time.monotonic() < deadline:
            for pid, kind, event, _ in _activity(conn, ws.database):
                if pid != sleeper and kind == "Lock":
                    racers[1].waits.append((time.monotonic(), f"{kind}/{event}"))
            time.sleep(POLL_S)
    for thread in threads:
        thread.join(timeout_s)
    racers[1].overlapped = sleeper is not None
    return racers


def race(args: str = "upgrade head") -> None:
    """Race two ``alembic <args>`` processes on this notebook's database and print what happened (stable facts)."""
    from course import _require, query
    from course.magics import relative_output, split_command_line

    ws = _require()
    racers = run_race(ws, split_command_line(args))
    for racer in racers:
        racer.output = relative_output(racer.output, ws)
        ran = "; ".join(racer.ran) or tr("no migration (nothing to do)")
        code = racer.code & 0xFF if racer.code is not None else "?"
        print(tr("{name}: exit code {code} · ran: {ran}", name=racer.name, code=code, ran=ran))
        if racer.code:
            print(f"   {racer.error[:150]}")
    if not racers[1].overlapped:
        print(tr("No race: A ran no migration (the database was at head already), so B started after it."))
    waited = racers[1].waited()
    if waited is None:
        print(tr("B did not wait for any lock"))
    else:
        event, seconds = waited
        what = tr(WAIT_EVENTS[event]) if event in WAIT_EVENTS else event
        print(tr("B waited for {what}: about {seconds:.1f} s", what=what, seconds=seconds))
    versions = [row[0] for row in query("SELECT version_num FROM alembic_version")]
    print(f"alembic_version: {', '.join(versions) or tr('(empty)')}")


def main() -> None:
    """``python -m course.releases releases.v1``: serve one release (see ``side_by_side``)."""
    if len(sys.argv) != 2:
        raise SystemExit("usage: python -m course.releases MODULE   (a release module, e.g. releases.v1)")
    asyncio.run(_serve(sys.argv[1]))


if __name__ == "__main__":
    main()
