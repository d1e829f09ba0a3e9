"""Running the real ``alembic`` command line (and ``pytest``) in a workspace, fast.

``run_alembic(cwd, args)`` runs ``python -m alembic <args>`` in ``cwd`` in a new process,
stdout and stderr together as a terminal shows them; ``run_module(cwd, "pytest", args)`` does
the same for ``python -m pytest``. Starting Python and importing SQLAlchemy, Alembic and
asyncpg costs most of a command's time, so on Linux and macOS the new process is forked from
a *warm starter* that has imported them once (and pytest and pytest-alembic the first time it
runs ``pytest``):

* the server half (``serve``, run as ``python -m course.alembic_runner --socket PATH``) is one
  process per user and checkout, shared by every kernel (and every test worker): it listens on
  a Unix socket in a private folder under the temp dir, forks a child per command, and stops
  after ``IDLE_S`` without a command. The child moves into the workspace and runs the module
  as ``python -m`` does (Alembic's ``__main__`` calls the same ``alembic.config.main`` the
  ``alembic`` script calls). The server never imports the project (``app``), so every command
  reads the workspace's code and ``.env`` afresh;
* the client half (``WarmStarter``) runs in the notebook's kernel: it connects, starting the
  server first if none answers, sends one request and waits for the exit code. Ctrl-C
  (*Kernel → Interrupt*) is passed on to the running command, as a terminal would.

Protocol, one connection per command: the client sends one JSON line
{"cwd": ..., "module": "alembic" or "pytest", "args": [...], "env": {...}, "out": path};
the child answers ``pid N`` at once and ``exit N`` when the command is done, its output being
in the file ``out``. ``{"ping": true}`` is answered ``pid N`` with the server's own pid.
A workspace module that would shadow a preloaded one (a folder named ``alembic/``) makes the
command start cold, and ``COURSE_WARM_ALEMBIC=0`` turns the starter off.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import io
import json
import os
import runpy
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

from course.database import SETTING_NAMES
from course.i18n import tr

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
    try:
        code, output = warm.run(cwd, args, environment, module=module) if warm else (None, "")
    except StarterUnavailable:
        code = None
    if code is not None:
        proc = subprocess.CompletedProcess(argv, code, output, None)
    else:
        proc = subprocess.run(
            argv, cwd=cwd, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, encoding="utf-8"
        )
    if check and proc.returncode != 0:
        raise RuntimeError(
            tr(
                "{command} failed in {folder}:\n{output}",
                command=f"{module} {' '.join(args)}",
                folder=cwd.name,
                output=proc.stdout,
            )
        )
    return proc


def shadows_preloaded(cwd: Path) -> bool:
    """Would a module in ``cwd`` shadow one the warm starter has already imported?

    ``python -m alembic`` puts the current folder first on sys.path, so a folder named
    ``alembic/`` there changes what runs (notebook 02 shows it). Such a command starts cold.
    """
    return any((cwd / name / "__init__.py").exists() or (cwd / f"{name}.py").exists() for name in PRELOADED_TOP_LEVEL)


IDLE_S = 15 * 60  # a server with no command for this long stops; the next command starts a new one
START_TIMEOUT_S = 60.0


@functools.cache
def _digest_of_this_code() -> str:
    digest = hashlib.sha256(f"{sys.executable}\0{os.environ.get('COURSE_ROOT', '')}\0".encode())
    digest.update(Path(__file__).read_bytes())
    return digest.hexdigest()[:12]


def socket_path() -> Path:
    """Where this Python's starter listens: a short private folder (Unix sockets allow ~100 bytes).

    ``COURSE_STARTER_SOCKET`` names another one (the tests that stop a server use their own).
    """
    if os.environ.get("COURSE_STARTER_SOCKET"):
        return Path(os.environ["COURSE_STARTER_SOCKET"])
    owner = os.getuid() if hasattr(os, "getuid") else 0
    return Path(tempfile.gettempdir()) / f"alembic-course-{owner}-starter-{_digest_of_this_code()}" / "s"


class StarterUnavailable(RuntimeError):
    """No warm starter here (its folder is not private, or it would not start): commands start cold."""


class WarmStarter:
    """The client half: one connection to the shared server per command."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or socket_path()

    def _private_folder(self) -> Path:
        folder = self.path.parent
        folder.mkdir(mode=0o700, exist_ok=True)
        info = folder.stat()
        if info.st_uid != os.getuid() or info.st_mode & 0o077:
            raise StarterUnavailable(f"{folder} is not private to this user")
        return folder

    def _connect(self) -> socket.socket:
        try:
            return self._try_connect()
        except OSError:
            pass
        import fcntl

        folder = self._private_folder()
        with open(folder / "lock", "w") as lock:  # one client starts the server; the others wait for it
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                return self._try_connect()
            except OSError:
                pass
            self.path.unlink(missing_ok=True)  # a server that died left its socket behind
            with open(folder / "log", "ab") as log:  # the server's own errors, if it ever has any
                subprocess.run(
                    [sys.executable, "-m", "course.alembic_runner", "--socket", str(self.path)],
                    cwd=folder,  # nothing there shadows what it imports
                    env=subprocess_env(),
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=log,
                    check=True,  # it forks into the background and returns at once
                )
            deadline = time.monotonic() + START_TIMEOUT_S
            while True:
                try:
                    return self._try_connect()
                except OSError:
                    if time.monotonic() > deadline:
                        raise StarterUnavailable(f"the warm starter did not start (see {folder / 'log'})") from None
                    time.sleep(0.02)

    def _try_connect(self) -> socket.socket:
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            conn.connect(str(self.path))
        except OSError:
            conn.close()
            raise
        return conn

    def server_pid(self) -> int:
        with self._connect() as conn:
            conn.sendall(b'{"ping": true}\n')
            return int(conn.makefile("r", encoding="utf-8").readline().split()[1])

    def run(self, cwd: Path, args: list[str], env: dict[str, str], module: str = "alembic") -> tuple[int, str]:
        fd, out = tempfile.mkstemp(prefix=f"{module}-", suffix=".log")
        os.close(fd)
        try:
            request = {"cwd": str(Path(cwd).resolve()), "module": module, "args": args, "env": env, "out": out}
            for attempt in (1, 2):  # a server that stops (idle, or killed) just as we connect: once more, with a new one
                with self._connect() as conn:
                    try:
                        conn.sendall((json.dumps(request) + "\n").encode("utf-8"))
                        replies = conn.makefile("r", encoding="utf-8")
                        first = replies.readline()
                    except OSError:
                        first = ""
                    if not first.startswith("pid "):  # the command did not start
                        if attempt == 2:
                            raise StarterUnavailable("the warm starter did not take the command")
                        continue
                    last = self._wait(replies, int(first.split()[1]), Path(out))
                    break
            code = int(last.split()[1]) if last.startswith("exit ") else 1  # no answer: the child died
            return code, Path(out).read_text(encoding="utf-8", errors="backslashreplace")
        finally:
            os.unlink(out)

    @staticmethod
    def _wait(replies: io.TextIOWrapper, pid: int, out: Path) -> str:
        """The command's last line ("exit N"); Ctrl-C meanwhile reaches the command, as in a terminal, then the cell stops."""
        try:
            return replies.readline()
        except KeyboardInterrupt:
            os.kill(pid, signal.SIGINT)
            try:
                replies.readline()
            except KeyboardInterrupt:  # a second Ctrl-C: no more waiting
                os.kill(pid, signal.SIGKILL)
            print(out.read_text(encoding="utf-8", errors="backslashreplace"), end="")  # what it said so far
            raise
        except OSError:  # the connection broke: the command's own exit code is lost
            return ""


def _warm_starter() -> WarmStarter | None:
    """The warm starter, or None where fork is unavailable (Windows) or turned off."""
    if not hasattr(os, "fork") or os.environ.get("COURSE_WARM_ALEMBIC", "1") == "0":
        return None
    return WarmStarter()


# The server half, in its own process.


def _run_child(request: dict[str, object], conn: socket.socket) -> None:
    """In the forked child: become `python -m <module> <args>` in the workspace, then exit."""
    code = 1
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # its own subprocesses (post-write hooks) are waited for
        signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl-C interrupts the command, as in a terminal
        conn.sendall(f"pid {os.getpid()}\n".encode())
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
        except KeyboardInterrupt:
            traceback.print_exc()
            code = 130  # what a shell reports for a command stopped by Ctrl-C
        except BaseException:  # noqa: BLE001 - report it the way the interpreter would
            traceback.print_exc()
            code = 1
    finally:
        for stream in (sys.stderr, sys.stdout):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001, S110 - the process is exiting; nothing left to report to
                pass
        code %= 256  # what the system reports: sys.exit(-1) is 255
        try:
            conn.sendall(f"exit {code}\n".encode())
        except OSError:  # the client is gone (its kernel was restarted)
            pass
        os._exit(code)


def serve(path: Path) -> None:
    """The shared server: fork into the background, preload, listen on ``path`` until idle."""
    if os.fork():  # the caller returns at once; the server is nobody's child
        os._exit(0)
    os.setsid()  # no terminal's or kernel's Ctrl-C reaches it
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the system
    for name in PRELOADED:
        importlib.import_module(name)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        listener.bind(str(path))
    except OSError:  # another server got there first
        return
    listener.listen(64)
    listener.settimeout(IDLE_S)
    bound = path.stat().st_ino
    try:
        while True:
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                break
            conn.settimeout(None)
            with conn:
                try:
                    request = json.loads(conn.makefile("r", encoding="utf-8").readline() or "null")
                except ValueError:
                    continue
                if not isinstance(request, dict):
                    continue
                if request.get("ping"):
                    conn.sendall(f"pid {os.getpid()}\n".encode())
                    continue
                for name in PRELOADED_FOR.get(request.get("module", "alembic"), ()):
                    importlib.import_module(name)  # once: the next commands of that kind fork with it loaded
                if os.fork() == 0:
                    listener.close()
                    _run_child(request, conn)
    finally:
        listener.close()
        if path.exists() and path.stat().st_ino == bound:  # still ours: not a newer server's
            path.unlink()


if __name__ == "__main__":
    if sys.argv[1:2] != ["--socket"] or len(sys.argv) != 3:
        sys.exit("usage: python -m course.alembic_runner --socket PATH")
    serve(Path(sys.argv[2]))
