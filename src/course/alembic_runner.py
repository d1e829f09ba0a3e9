"""Running the real ``alembic`` command line (and ``pytest``) in a workspace, fast.

``run_alembic(cwd, args)`` runs ``python -m alembic <args>`` in ``cwd`` in a new process,
stdout and stderr together as a terminal shows them; ``run_module(cwd, "pytest", args)`` does
the same for ``python -m pytest``. Starting Python and importing SQLAlchemy, Alembic and
asyncpg costs most of a command's time, so on Linux and macOS the new process is forked from
a *warm starter* that has imported them once (and pytest and pytest-alembic the first time it
runs ``pytest``):

* the client half (``WarmStarter``) runs in the notebook's kernel and sends one request
  per command;
* the server half (``serve``, run as ``python -m course.alembic_runner``) forks a child per
  command, which moves into the workspace and runs Alembic's own entry point (the same
  ``alembic.config.main`` the ``alembic`` script calls). The server never imports the
  project (``app``), so every command reads the workspace's code and ``.env`` afresh.

Protocol, one JSON object per line on stdin: {"cwd": ..., "args": [...], "env": {...}, "out": path};
the server answers each with the command's exit code on its own line. It stops at end of input.
A workspace module that would shadow a preloaded one (a folder named ``alembic/``) makes the
command start cold, and ``COURSE_WARM_ALEMBIC=0`` turns the starter off.
"""

from __future__ import annotations

import importlib
import io
import json
import os
import runpy
import signal
import subprocess
import sys
import tempfile
import traceback
from pathlib import Path

from course.database import SETTING_NAMES

# What the warm starter imports once; their top-level names decide when a command starts cold.
PRELOADED = (
    "alembic.command",
    "alembic.config",
    "alembic.runtime.environment",
    "alembic.autogenerate",
    "asyncpg",
    "pydantic_settings",
    "sqlalchemy.dialects.postgresql.asyncpg",
    "sqlalchemy.ext.asyncio",
    "mako.template",
    "greenlet",
)
# What it imports the first time it runs `python -m pytest` (a workspace's migration tests, notebook 12).
PRELOADED_FOR = {"alembic": (), "pytest": ("pytest",)}  # not its plugins: pytest would warn that it cannot rewrite their asserts
PRELOADED_TOP_LEVEL = sorted(
    {name.split(".")[0] for name in PRELOADED + sum(PRELOADED_FOR.values(), ())} | {"pydantic", "sqlalchemy", "_pytest"}
)


def subprocess_env() -> dict[str, str]:
    """The environment for commands run in a workspace: no DB_* or DATABASE_URL, so its .env decides."""
    env = {k: v for k, v in os.environ.items() if k not in SETTING_NAMES}
    env["PYTHONIOENCODING"] = "utf-8"
    env["COLUMNS"] = "80"  # argparse wraps help to the terminal's width: the same for everyone
    env.pop("PYTHONPATH", None)
    return env


def run_alembic(cwd: Path, args: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run ``alembic <args>`` in ``cwd`` in a new process; stdout and stderr together, as a terminal shows them."""
    return run_module(cwd, "alembic", args, check=check)


def run_module(
    cwd: Path, module: str, args: list[str], check: bool = True, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m <module> <args>`` (``alembic`` or ``pytest``) in ``cwd`` in a new process, warm where it can.

    stdout and stderr together, as a terminal shows them; ``env`` is added to ``subprocess_env()``.
    """
    if module not in PRELOADED_FOR:
        raise ValueError(f"run_module runs {' or '.join(PRELOADED_FOR)}, not {module!r}")
    argv = [sys.executable, "-m", module, *args]
    environment = subprocess_env() | (env or {})
    warm = _warm_starter() if not shadows_preloaded(cwd) else None
    if warm is not None:
        code, output = warm.run(cwd, args, environment, module=module)
        proc = subprocess.CompletedProcess(argv, code, output, None)
    else:
        proc = subprocess.run(
            argv, cwd=cwd, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, encoding="utf-8"
        )
    if check and proc.returncode != 0:
        raise RuntimeError(f"{module} {' '.join(args)} failed in {cwd.name}:\n{proc.stdout}")
    return proc


def shadows_preloaded(cwd: Path) -> bool:
    """Would a module in ``cwd`` shadow one the warm starter has already imported?

    ``python -m alembic`` puts the current folder first on sys.path, so a folder named
    ``alembic/`` there changes what runs (notebook 02 shows it). Such a command starts cold.
    """
    return any((cwd / name / "__init__.py").exists() or (cwd / f"{name}.py").exists() for name in PRELOADED_TOP_LEVEL)


class WarmStarter:
    """The client half: talks to ``python -m course.alembic_runner`` over its stdin and stdout."""

    def __init__(self) -> None:
        self.server = subprocess.Popen(
            [sys.executable, "-m", "course.alembic_runner"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=subprocess_env(),
            text=True,
        )

    def run(self, cwd: Path, args: list[str], env: dict[str, str], module: str = "alembic") -> tuple[int, str]:
        assert self.server.stdin is not None and self.server.stdout is not None
        fd, out = tempfile.mkstemp(prefix=f"{module}-", suffix=".log")
        os.close(fd)
        try:
            request = {"cwd": str(cwd), "module": module, "args": args, "env": env, "out": out}
            self.server.stdin.write(json.dumps(request) + "\n")
            self.server.stdin.flush()
            reply = self.server.stdout.readline()
            if not reply:
                raise RuntimeError("the warm alembic starter stopped")
            return int(reply), Path(out).read_text(encoding="utf-8", errors="backslashreplace")
        finally:
            os.unlink(out)


_WARM: WarmStarter | None = None


def _warm_starter() -> WarmStarter | None:
    """The process's warm starter, or None where fork is unavailable (Windows) or turned off."""
    global _WARM
    if not hasattr(os, "fork") or os.environ.get("COURSE_WARM_ALEMBIC", "1") == "0":
        return None
    if _WARM is None or _WARM.server.poll() is not None:
        _WARM = WarmStarter()
    return _WARM


# The server half, in its own process.


def _run_child(request: dict[str, object]) -> None:
    """In the forked child: become `python -m <module> <args>` in the workspace, then exit."""
    code = 1
    try:
        signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl-C interrupts the command, as in a terminal
        os.chdir(str(request["cwd"]))
        os.environ.clear()
        os.environ.update(request["env"])  # a JSON object of strings
        fd = os.open(str(request["out"]), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)
        # Like a Python started with output redirected: stdout block-buffered, stderr line-buffered.
        sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), encoding="utf-8", errors="strict")
        sys.stderr = io.TextIOWrapper(
            io.FileIO(2, "w", closefd=False), encoding="utf-8", errors="backslashreplace", line_buffering=True
        )
        sys.path[0] = os.getcwd()  # what `python -m` puts first
        module = str(request.get("module", "alembic"))
        sys.argv = [module, *request["args"]]
        try:
            runpy.run_module(module, run_name="__main__", alter_sys=True)
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
            except Exception:  # noqa: BLE001, S110 - the process is exiting; nothing left to report to
                pass
        os._exit(code)


def serve() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a kernel interrupt must not kill the starter
    for name in PRELOADED:
        importlib.import_module(name)
    for line in sys.stdin:
        request = json.loads(line)
        for name in PRELOADED_FOR.get(request.get("module", "alembic"), ()):
            importlib.import_module(name)  # once: the next commands of that kind fork with it loaded
        pid = os.fork()
        if pid == 0:
            _run_child(request)
        _, status = os.waitpid(pid, 0)
        print(os.waitstatus_to_exitcode(status), flush=True)


if __name__ == "__main__":
    serve()
