"""The real `alembic` CLI (and pytest) run in a workspace: warm (forked from one shared starter) or cold, the same result."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from course.alembic_runner import PRELOADED, PRELOADED_TOP_LEVEL, run_alembic, subprocess_env
from course.workspace import create_workspace


def test_the_warm_starter_gives_what_a_cold_alembic_gives(monkeypatch: pytest.MonkeyPatch) -> None:
    """Same output and exit code, warm (forked) or cold (`python -m alembic`), for success and failures."""
    if not hasattr(os, "fork"):
        pytest.skip("no fork on this platform: every command starts cold")
    ws = create_workspace("zz-warm-vs-cold", start="upgraded")
    commands = [
        ["current"],
        ["history", "--verbose"],
        ["downgrade", "nonexistent"],
        ["upgrade", "--no-such-flag"],
        ["upgrade", "head", "--sql"],
    ]
    warm = [run_alembic(ws.path, args, check=False) for args in commands]
    monkeypatch.setenv("COURSE_WARM_ALEMBIC", "0")
    cold = [run_alembic(ws.path, args, check=False) for args in commands]
    for args, w, c in zip(commands, warm, cold, strict=True):
        assert (w.returncode, w.stdout) == (c.returncode, c.stdout), args
    assert [w.returncode for w in warm] == [0, 0, 255, 2, 0]


def test_a_workspace_module_named_like_a_preloaded_one_starts_cold() -> None:
    ws = create_workspace("zz-shadow", start="app")
    (ws.path / "alembic").mkdir()
    (ws.path / "alembic" / "__init__.py").write_text("")
    proc = run_alembic(ws.path, ["--version"], check=False)
    assert proc.returncode != 0 and "No module named alembic.__main__" in proc.stdout


def test_what_is_preloaded_is_written_once() -> None:
    assert {name.split(".")[0] for name in PRELOADED} <= set(PRELOADED_TOP_LEVEL)
    assert "alembic" in PRELOADED_TOP_LEVEL and "sqlalchemy" in PRELOADED_TOP_LEVEL


def _client(code: str, cwd: Path) -> subprocess.Popen[str]:
    """Another Python process using the course's runner (a second kernel, say), with a starter of this test's own."""
    starter = Path(tempfile.gettempdir()) / f"course-test-starter-{os.getpid()}" / "s"  # short: a socket's path is limited
    return subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=subprocess_env() | {"COURSE_STARTER_SOCKET": str(starter)},
    )


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform: every command starts cold")
def test_every_process_shares_one_starter_and_a_dead_one_is_replaced(tmp_path: Path) -> None:
    ask = (
        "from pathlib import Path; from course.alembic_runner import WarmStarter, run_alembic\n"
        "assert run_alembic(Path('.'), ['--version']).stdout.startswith('alembic ')\n"
        "print(WarmStarter().server_pid())"
    )
    pids = {int(_client(ask, tmp_path).communicate(timeout=120)[0]) for _ in range(2)}
    assert len(pids) == 1, pids  # two processes, one server
    server = pids.pop()
    assert os.getpgid(server) == server  # a session of its own: a kernel's Ctrl-C does not reach it
    os.kill(server, signal.SIGKILL)
    replaced = int(_client(ask, tmp_path).communicate(timeout=120)[0])
    assert replaced != server  # its socket was left behind; the next command started a new server
    os.kill(replaced, signal.SIGTERM)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform: every command starts cold")
def test_ctrl_c_in_the_kernel_stops_the_running_command(tmp_path: Path) -> None:
    started = tmp_path / "started"
    (tmp_path / "test_slow.py").write_text(
        f"import pathlib, time\n\n\ndef test_slow():\n    pathlib.Path({str(started)!r}).touch()\n    time.sleep(120)\n"
    )
    client = _client(
        "from pathlib import Path; from course.alembic_runner import run_module\n"
        "run_module(Path('.'), 'pytest', ['-p', 'no:cacheprovider', 'test_slow.py'], check=False)",
        tmp_path,
    )
    deadline = time.monotonic() + 120
    while not started.exists() and time.monotonic() < deadline:  # pytest is running the test
        time.sleep(0.1)
    client.send_signal(signal.SIGINT)  # what Kernel → Interrupt sends
    out, err = client.communicate(timeout=60)  # far less than the test's 120 s
    assert "KeyboardInterrupt" in err  # the cell stops
    assert "test_slow.py" in out and "KeyboardInterrupt" in out  # pytest was interrupted and said so
