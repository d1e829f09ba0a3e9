"""Notebook 13: migrations one at a time (an advisory lock in env.py), and a migration that gives up instead of queueing."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

from course.alembic_runner import run_alembic
from course.database import connect
from course.exercises import Exercise, Verdict, WrongAttempt, not_started, probes, solved, wrong
from course.i18n import tr
from course.workspace import Workspace

NOTEBOOK = "13-zero-downtime-releases"

ENV_PY = Path("app/migrations/env.py")
LOCK_KEY = 1313


def _short(text: str, limit: int = 220) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + " …"


def _last_error(output: str) -> str:
    lines = [line for line in output.splitlines() if line.strip() and not line[0].isspace()]
    return _short(lines[-1]) if lines else tr("no output")


# 13.1 -----------------------------------------------------------------------------------------


def _waits_for_lock(ws: Workspace, key: int, *, patience_s: float = 3.0) -> tuple[bool, int, str]:
    """Hold advisory lock ``key``, run ``alembic current``: did it wait for the lock? (waited, exit code, output)."""
    from sqlalchemy import text

    result: dict[str, object] = {}

    def run() -> None:
        proc = run_alembic(ws.path, ["current"], check=False)
        result["code"], result["output"] = proc.returncode, proc.stdout

    waited = False
    with connect(ws.sync_url, autocommit=True) as conn:
        conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
        try:
            thread = threading.Thread(target=run, daemon=True)
            thread.start()
            deadline = time.monotonic() + patience_s
            while thread.is_alive() and time.monotonic() < deadline and not waited:
                waited = bool(
                    conn.execute(
                        text(
                            "SELECT count(*) FROM pg_stat_activity a JOIN pg_locks l ON l.pid = a.pid"
                            " WHERE a.datname = current_database() AND a.pid <> pg_backend_pid()"
                            " AND l.locktype = 'advisory' AND NOT l.granted AND l.objid = :key"
                        ),
                        {"key": key},
                    ).scalar()
                )
                time.sleep(0.02)
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
    thread.join(30)
    code = result.get("code")
    return waited, code if isinstance(code, int) else 1, str(result.get("output", ""))


def check_advisory_lock(ws: Workspace) -> Verdict:
    error = probes.syntax_error(ENV_PY)
    if error:
        return wrong(f"{error}.")
    source = ENV_PY.read_text(encoding="utf-8")
    if "advisory" not in source:
        return not_started(tr("app/migrations/env.py takes no advisory lock yet: replace `do_run_migrations` with `%%replace`."))
    waited, code, output = _waits_for_lock(ws, LOCK_KEY)
    if code != 0:
        return wrong(tr("`alembic current` fails with your env.py: {error}", error=_last_error(output)))
    if not waited:
        hint = (
            tr(
                "`pg_try_advisory_xact_lock` does not wait: it answers false at once and the migration goes on. "
                "Use `pg_advisory_xact_lock`."
            )
            if "try_advisory" in source
            else tr(
                "is the key {key}, and is the lock taken in `do_run_migrations`, inside `context.begin_transaction()`?",
                key=LOCK_KEY,
            )
        )
        return wrong(
            tr(
                "`alembic current` did not wait while another session held advisory lock {key}: {hint}",
                key=LOCK_KEY,
                hint=hint,
            )
        )
    body = source.split("def do_run_migrations", 1)[-1].split("\ndef ", 1)[0]
    lock_at = body.find("advisory")
    run_at = body.find("context.run_migrations()")
    if run_at == -1 or lock_at == -1 or lock_at > run_at:
        return wrong(
            tr("the lock is taken, but not in `do_run_migrations` before `context.run_migrations()`: take it just before.")
        )
    if "begin_transaction" not in body[:lock_at]:
        return wrong(
            tr("take the lock inside `with context.begin_transaction():`, so that it is held until the migrations commit.")
        )
    if "xact" not in body[lock_at - 40 : lock_at + 40]:
        return wrong(
            tr(
                "`pg_advisory_lock` is held by the session, not the transaction: use `pg_advisory_xact_lock`, "
                "which PostgreSQL releases when the migration's transaction ends."
            )
        )
    return solved(
        tr(
            "`alembic current` waited while another session held lock {key}, then ran: one migration at a time.",
            key=LOCK_KEY,
        )
    )


SOLUTION_13_1 = f"""%%replace app/migrations/env.py do_run_migrations
def do_run_migrations(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata)
    with context.begin_transaction():
        # One alembic at a time on this database: a second one waits here until the first
        # commits, then reads the alembic_version the first one wrote.
        connection.exec_driver_sql("SELECT pg_advisory_xact_lock({LOCK_KEY})")
        context.run_migrations()
"""


# 13.2 -----------------------------------------------------------------------------------------

ADDS_DESCRIPTION = re.compile(r"ALTER TABLE categories ADD COLUMN description\b", re.I)
LOCK_TIMEOUT = re.compile(r"SET\s+(?:LOCAL\s+)?lock_timeout\s*(?:=|TO)\s*'?(\d+(?:\.\d+)?)\s*(ms|s|min)?'?", re.I)
UNIT_MS = {"ms": 1, "s": 1000, "min": 60_000}


def _revision_0006(ws: Workspace) -> Path | None:
    return next(
        (
            p
            for p in probes.revision_files(ws)
            if re.search(r"^revision\b.*=\s*['\"]0006['\"]", p.read_text(encoding="utf-8"), re.M)
        ),
        None,
    )


def check_gives_up(ws: Workspace) -> Verdict:
    revision = _revision_0006(ws)
    if revision is None:
        return not_started(
            tr('there is no revision 0006 yet: `%alembic revision -m "add categories.description" --rev-id 0006`.')
        )
    error = probes.syntax_error(revision)
    if error:
        return wrong(f"{error}.")
    proc = run_alembic(ws.path, ["upgrade", "0005:0006", "--sql"], check=False)
    if proc.returncode != 0:
        return wrong(tr("`alembic upgrade 0005:0006 --sql` fails: {error}", error=_last_error(proc.stdout)))
    sql = proc.stdout
    alter = ADDS_DESCRIPTION.search(sql)
    if alter is None:
        return wrong(
            tr(
                "{file} does not add `categories.description` (its SQL has no `ALTER TABLE categories ADD COLUMN description`).",
                file=revision.name,
            )
        )
    timeout = LOCK_TIMEOUT.search(sql)
    if timeout is None:
        return wrong(tr("0006 sets no `lock_timeout`: `op.execute(\"SET LOCAL lock_timeout = '300ms'\")` first in `upgrade()`."))
    if timeout.start() > alter.start():
        return wrong(
            tr("0006 sets `lock_timeout` after the ALTER TABLE: by then the ALTER has already waited in the queue. Set it first.")
        )
    ms = float(timeout.group(1)) * UNIT_MS[(timeout.group(2) or "ms").lower()]
    value = timeout.group(1) + (timeout.group(2) or "")
    if ms <= 0:
        return wrong(
            tr(
                "a `lock_timeout` of {value} is no timeout at all (0 turns it off): "
                "a few hundred milliseconds, at most a few seconds.",
                value=value,
            )
        )
    if ms > 5000:
        return wrong(
            tr(
                "a `lock_timeout` of {value} is longer than the app can stand blocked: "
                "a few hundred milliseconds, at most a few seconds.",
                value=value,
            )
        )
    if probes.current(ws) != {"0006"} or probes.column(ws, "categories", "description") is None:
        return wrong(
            tr("0006 is right, but the shop's database is not at 0006 yet: `%alembic upgrade head` (once nothing holds a lock).")
        )
    return solved(tr("0006 sets a lock_timeout before its ALTER TABLE, and the database is at 0006."))


SOLUTION_13_2 = """%alembic revision -m "add categories.description" --rev-id 0006
# %%
%%replace app/migrations/versions/0006_add_categories_description.py upgrade
def upgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '300ms'")
    op.add_column("categories", sa.Column("description", sa.Text(), nullable=True))
# %%
%%replace app/migrations/versions/0006_add_categories_description.py downgrade
def downgrade() -> None:
    op.drop_column("categories", "description")
# %%
%alembic upgrade head
"""


EXERCISES = [
    Exercise(
        id="13.1",
        title="Migrations one at a time",
        check=check_advisory_lock,
        solution=SOLUTION_13_1,
        explanation="`pg_advisory_xact_lock` waits until no other session holds the key, and PostgreSQL releases "
        "it when the transaction ends, that is when Alembic commits the migrations. Taken inside "
        "`context.begin_transaction()` and before `context.run_migrations()`, it comes before Alembic's "
        "`SELECT` from `alembic_version`: a process that waited reads the version the first one committed.",
        wrong=(
            WrongAttempt(
                SOLUTION_13_1.replace("pg_advisory_xact_lock", "pg_try_advisory_xact_lock"),
                "does not wait",
            ),
            WrongAttempt(
                SOLUTION_13_1.replace(f"pg_advisory_xact_lock({LOCK_KEY})", "pg_advisory_xact_lock(42)"),
                "did not wait",
            ),
        ),
    ),
    Exercise(
        id="13.2",
        title="A migration that gives up instead of queueing",
        check=check_gives_up,
        solution=SOLUTION_13_2,
        explanation="`SET LOCAL lock_timeout` comes first, so it is in force when the `ALTER TABLE` asks for its "
        "`ACCESS EXCLUSIVE` lock: behind a long report, the upgrade fails after 300 ms (the database stays at "
        "`0005`) instead of holding every other query of `categories` in the queue behind it. Once the report "
        "ends, the same command succeeds. `alembic upgrade 0005:0006 --sql` shows the order the statements run in.",
        wrong=(
            WrongAttempt(
                SOLUTION_13_2.replace(
                    """    op.execute("SET LOCAL lock_timeout = '300ms'")
    op.add_column("categories", sa.Column("description", sa.Text(), nullable=True))""",
                    """    op.add_column("categories", sa.Column("description", sa.Text(), nullable=True))
    op.execute("SET LOCAL lock_timeout = '300ms'")""",
                ),
                "after the ALTER TABLE",
            ),
            WrongAttempt(
                SOLUTION_13_2.replace("lock_timeout = '300ms'", "lock_timeout = 0"),
                "no timeout at all",
            ),
        ),
        on_your_own=True,
    ),
]
