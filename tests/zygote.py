"""Kernels for the test suite, forked from a process that has imported their libraries once.

The suite starts some sixty kernels (nbval's replays, the restart and answers runs). Each real
start imports IPython, ipykernel, SQLAlchemy, pydantic, psycopg and ipython-sql: about 1.5 s of
CPU, a third of the suite's kernel time. Here one *zygote* imports them, and every kernel is a
fork of it that then starts exactly as ``python -m ipykernel_launcher -f <connection file>``
does: a real ipykernel, real IPython, the same code; only the imports are already done. The
course's own modules are not preloaded (they read the environment when imported).

* ``python tests/zygote.py serve SOCKET`` is the zygote: it listens on a Unix socket and forks
  a kernel per connection;
* ``python tests/zygote.py kernel SOCKET -f CONNECTION_FILE`` is what the kernelspec starts
  (``tests/conftest.py`` writes one named ``python3`` for the session): a small process that
  stands in for the kernel towards jupyter_client. It sends its working folder and environment,
  passes signals on (an interrupt is SIGINT to it), and exits with the kernel's exit code. If it
  is killed, the kernel sees its connection close and exits too.

Only where ``os.fork`` exists; ``COURSE_TEST_ZYGOTE=0`` turns it off (plain kernels).
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import socket
import sys
import threading

# What a notebook's kernel imports by the end of a chapter (IPython, the kernel, %sql, the
# database drivers), not the course's own modules nor the debugger (it traces threads).
PRELOADED = (
    "IPython",
    "IPython.core.interactiveshell",
    "ipykernel.kernelapp",
    "ipykernel.ipkernel",
    "ipykernel.zmqshell",
    "jupyter_client.session",
    "zmq",
    "tornado.ioloop",
    "sqlalchemy",
    "sqlalchemy.orm",
    "sqlalchemy.dialects.postgresql.psycopg",
    "sqlalchemy.dialects.postgresql.asyncpg",
    "psycopg",
    "asyncpg",
    "pydantic",
    "pydantic_settings",
    "dotenv",
    "sql.magic",
    "prettytable",
    "sqlparse",
    "pygments",
)  # not alembic: a workspace folder named alembic/ must be able to shadow it, as in a plain kernel


def serve(path: str) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # kernels are reaped by the system
    for name in PRELOADED:
        importlib.import_module(name)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(64)
    print("ready", flush=True)  # conftest waits for this line
    while True:
        conn, _ = listener.accept()
        with conn:
            request = json.loads(conn.makefile("r", encoding="utf-8").readline())
            if os.fork() == 0:
                listener.close()
                _become_kernel(request, conn)


def _become_kernel(request: dict, conn: socket.socket) -> None:
    code = 1
    try:
        for sig in (signal.SIGINT, signal.SIGCHLD, signal.SIGTERM):
            signal.signal(sig, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        for fd, name in ((0, os.devnull), (1, request["stdout"]), (2, request["stderr"])):
            os.dup2(os.open(name, os.O_RDWR if fd == 0 else os.O_WRONLY | os.O_APPEND), fd)
        conn.sendall(f"pid {os.getpid()}\n".encode())

        def _exit_with_the_stand_in() -> None:  # its connection closes: it was killed, so is the kernel
            try:
                conn.recv(1)
            finally:
                os._exit(1)

        threading.Thread(target=_exit_with_the_stand_in, daemon=True).start()
        sys.argv = ["ipykernel_launcher", *request["argv"]]
        sys.path[:] = [p for p in sys.path if p not in ("", os.getcwd())]  # as ipykernel_launcher does
        from ipykernel import kernelapp

        try:
            kernelapp.launch_new_instance()
            code = 0
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else 0
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001, S110 - exiting anyway
                pass
        try:
            conn.sendall(f"exit {code % 256}\n".encode())
        except OSError:
            pass
        os._exit(code % 256)


def stand_in(path: str, argv: list[str]) -> int:
    """The process jupyter_client starts: ask the zygote for a kernel, then stand in for it."""
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.connect(path)
    # The kernel writes where this process would (jupyter_client gives it a log file or its own output).
    request = {
        "cwd": os.getcwd(),
        "env": dict(os.environ),
        "argv": argv,
        "stdout": os.readlink("/proc/self/fd/1") if os.path.exists("/proc/self/fd/1") else os.devnull,
        "stderr": os.readlink("/proc/self/fd/2") if os.path.exists("/proc/self/fd/2") else os.devnull,
    }
    for fd in ("stdout", "stderr"):
        if not os.path.exists(request[fd]):  # a pipe ("pipe:[…]") cannot be opened by name
            request[fd] = os.devnull
    conn.sendall((json.dumps(request) + "\n").encode())
    replies = conn.makefile("r", encoding="utf-8")
    pid = int(replies.readline().split()[1])
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2):
        signal.signal(sig, lambda number, _frame: os.kill(pid, number))
    last = replies.readline()
    return int(last.split()[1]) if last.startswith("exit ") else 1


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"]:
        serve(sys.argv[2])
    elif sys.argv[1:2] == ["kernel"]:
        sys.exit(stand_in(sys.argv[2], sys.argv[3:]))
    else:
        sys.exit("usage: python tests/zygote.py serve SOCKET | kernel SOCKET -f CONNECTION_FILE")
