"""A warm starter for the ``alembic`` command line (POSIX only).

Starting Python and importing SQLAlchemy, Alembic and asyncpg costs most of an ``alembic``
command's time. This small server imports them once; for each command it forks a child
that moves into the workspace and runs Alembic's own entry point (``python -m alembic``,
the same ``alembic.config.main`` the ``alembic`` script calls) with stdout and stderr
written to a file, as a terminal would show them. The server never imports the project
(``app``), so every command reads the workspace's code and ``.env`` afresh.

Protocol, one JSON object per line on stdin: {"cwd": ..., "args": [...], "env": {...}, "out": path};
the server answers each with the command's exit code on its own line. It stops at end of input.
"""

from __future__ import annotations

import io
import json
import os
import runpy
import signal
import sys
import traceback


def preload() -> None:
    import alembic.command  # noqa: F401
    import alembic.config  # noqa: F401
    import alembic.runtime.environment  # noqa: F401
    import asyncpg  # noqa: F401
    import pydantic_settings  # noqa: F401
    import sqlalchemy.dialects.postgresql.asyncpg  # noqa: F401
    import sqlalchemy.ext.asyncio  # noqa: F401
    import alembic.autogenerate  # noqa: F401


def run_child(request: dict) -> None:  # type: ignore[type-arg]
    """In the forked child: become `python -m alembic <args>` in the workspace, then exit."""
    code = 1
    try:
        signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl-C interrupts the command, as in a terminal
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        fd = os.open(request["out"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)
        # Like a Python started with output redirected: stdout block-buffered, stderr line-buffered.
        sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), encoding="utf-8", errors="strict")
        sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), encoding="utf-8", errors="backslashreplace", line_buffering=True)
        sys.path[0] = os.getcwd()  # what `python -m` puts first
        sys.argv = ["alembic", *request["args"]]
        try:
            runpy.run_module("alembic", run_name="__main__", alter_sys=True)
            code = 0
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
            if stop.code is not None and not isinstance(stop.code, int):
                print(stop.code, file=sys.stderr)
        except BaseException:  # noqa: BLE001 - report it the way the interpreter would
            traceback.print_exc()
            code = 1
    finally:
        for stream in (sys.stderr, sys.stdout):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001
                pass
        os._exit(code)


def serve() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a kernel interrupt must not kill the starter
    preload()
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            run_child(request)
        _, status = os.waitpid(pid, 0)
        print(os.waitstatus_to_exitcode(status), flush=True)


if __name__ == "__main__":
    serve()
