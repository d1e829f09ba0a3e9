"""course.backups: which pg_dump for which server, and a dump restored over a damaged database (real server)."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import URL

from course import backups
from course.database import connect, server_settings
from course.exercises import probes
from course.workspace import create_workspace

WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")


def test_the_tools_match_the_server_they_talk_to() -> None:
    url = server_settings().url
    major = backups.server_major(url)
    tool = backups.client_tool("pg_dump", url)
    assert tool.path.is_file() and tool.major >= major  # pg_dump refuses a server newer than itself
    if server_settings().uses_embedded_server:
        assert tool.source == "the embedded server's own tools"
        assert tool.path.parent == backups.embedded_bin()
    # As for a configured server: a tool of the server's major version wherever there is one.
    configured = backups.client_tool("pg_restore", url, embedded=False)
    if Path(f"/usr/lib/postgresql/{major}/bin/pg_restore").exists():
        assert configured.path == Path(f"/usr/lib/postgresql/{major}/bin/pg_restore")
    assert configured.major == major or "newer than the server" in configured.source
    assert str(configured).startswith(f"pg_restore {configured.major} (")


def test_the_password_goes_to_libpq_in_the_environment_only() -> None:
    url = URL.create(
        "postgresql+psycopg", username="u", password="p@ss:w%rd", port=5433, database="d", query={"host": "/tmp/sock"}
    )
    env = backups.libpq_env(url)
    assert (env["PGHOST"], env["PGPORT"], env["PGUSER"], env["PGPASSWORD"], env["PGDATABASE"]) == (
        "/tmp/sock",
        "5433",
        "u",
        "p@ss:w%rd",
        "d",
    )


def test_a_dump_restores_rows_and_the_alembic_version(tmp_path: Path) -> None:
    ws = create_workspace(f"zz-backups-{WORKER}", start="shop-with-data")
    dump = tmp_path / "before.dump"
    backups.dump(ws.sync_url, dump)
    assert dump.stat().st_size > 0
    with connect(ws.sync_url) as conn:  # a bad migration: rows gone, the version moved on
        conn.exec_driver_sql("DELETE FROM products")
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = 'zzzz'")
    assert probes.rows(ws, "SELECT count(*) FROM products") == [(0,)]
    backups.restore(ws.sync_url, dump)
    assert probes.rows(ws, "SELECT count(*) FROM products") == [(8,)]
    assert probes.current(ws) == {"0001"}
