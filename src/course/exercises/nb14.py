"""Notebook 14: autogenerate leaves the analytics team's tables alone; a view migrated with alembic-utils."""

from __future__ import annotations

import re

from sqlalchemy import text

from course.alembic_runner import run_alembic
from course.database import connect
from course.exercises import Exercise, Verdict, WrongAttempt, not_started, probes, solved, wrong
from course.exercises.revisions import error_line, function_code, not_at_head, shorten, text_of, unreadable
from course.workspace import Workspace

NOTEBOOK = "14-autogenerate-tailored"

ENV_PY = "app/migrations/env.py"
ENTITIES = "app/entities.py"
DETECTED = re.compile(r"\] Detected (added|removed) table '(\w+)'")


def _execute(ws: Workspace, sql: str) -> None:
    """One statement that returns no rows (DDL), committed."""
    with connect(ws.sync_url) as conn:
        conn.execute(text(sql))


def _detected_tables(output: str) -> list[tuple[str, str]]:
    """("removed", "analytics_events") for each table ``alembic check`` would add or drop."""
    return DETECTED.findall(output)


# 14.1 -----------------------------------------------------------------------------------------

LATER = "analytics_daily_totals"  # a table the analytics team adds later: the check makes it for a moment
NOBODYS = "zz_forgotten_table"  # a table nobody owns: autogenerate must still notice it
ANALYTICS = ("analytics_events", "analytics_sessions")


def check_analytics(ws: Workspace) -> Verdict:
    broken = unreadable(ws, ENV_PY)
    if broken:
        return broken
    present = probes.tables(ws)
    missing = [t for t in ANALYTICS if t not in present]
    if missing:
        return not_started(
            f"the analytics team's table {missing[0]} is not in the database: run the cell above the exercise "
            "(it creates both tables) first."
        )
    if "analytics" not in text_of(ws, ENV_PY):
        return not_started(
            "`alembic check` would still drop analytics_events and analytics_sessions: teach `include_name` in "
            "app/migrations/env.py about the analytics team's tables."
        )
    _execute(ws, f"CREATE TABLE IF NOT EXISTS {LATER} (day date PRIMARY KEY, visits integer)")
    _execute(ws, f"CREATE TABLE IF NOT EXISTS {NOBODYS} (id integer PRIMARY KEY)")
    try:
        proc = run_alembic(ws.path, ["check"], check=False)
    finally:
        _execute(ws, f"DROP TABLE IF EXISTS {LATER}, {NOBODYS}")
    detected = _detected_tables(proc.stdout)
    if proc.returncode and not detected and "New upgrade operations detected" not in proc.stdout:
        return wrong(f"`alembic check` fails with your env.py: {error_line(proc.stdout)}")
    dropped = [name for kind, name in detected if kind == "removed"]
    added = [name for kind, name in detected if kind == "added"]
    analytics = [name for name in dropped if name.startswith("analytics_")]
    if analytics:
        later = [name for name in analytics if name == LATER]
        named = ", ".join(
            f"{name}, a table the analytics team adds later (the check made it for a moment)" if name == LATER else name
            for name in analytics
        )
        return wrong(
            f"autogenerate would still drop {named}. Leave out every table whose name starts with `analytics_`"
            + (", not a list of today's names." if later else ".")
        )
    if added:
        return wrong(
            f"autogenerate now wants to create {', '.join(added)}, tables that are already there: your filter "
            "hides our own tables too. Return False only for the analytics team's."
        )
    if NOBODYS not in dropped:
        return wrong(
            f"your filter hides too much: the check made a table that is nobody's ({NOBODYS}) for a moment, and "
            "autogenerate no longer proposed to drop it. Leave out only tables whose name starts with `analytics_`."
        )
    return solved(
        "autogenerate leaves every analytics_ table alone (today's two, and one made later), and still notices a "
        f"table that is nobody's ({NOBODYS})."
    )


# 14.2 -----------------------------------------------------------------------------------------

ACTIVE_VIEW = "SELECT count(*) FROM pg_views WHERE schemaname = 'public' AND viewname = 'active_products'"


def check_active_view(ws: Workspace) -> Verdict:
    broken = unreadable(ws, ENTITIES, ENV_PY)
    if broken:
        return broken
    declared = "active_products" in text_of(ws, ENTITIES)
    creates = [
        p
        for p in probes.revision_files(ws)
        if "active_products" in function_code(p, "upgrade") and "create_entity" in function_code(p, "upgrade")
    ]
    in_database = probes.rows(ws, ACTIVE_VIEW)[0][0] == 1
    if not declared and not creates:
        if in_database:
            return wrong(
                "the view active_products is in the database, but app/entities.py does not declare it and no "
                "revision creates it: made by hand, it is not migrated (and alembic-utils would propose to drop it)."
            )
        return not_started("app/entities.py has no view active_products yet.")
    if not creates:
        return wrong(
            "no revision creates active_products. Is the view in ENTITIES, the list env.py registers with "
            "`register_entities`? Then autogenerate a revision."
        )
    if not in_database:
        off = not_at_head(ws)
        return wrong(f"{creates[-1].name} creates the view, but the database does not have it yet: {off or 'upgrade'}.")
    columns = {
        r[0] for r in probes.rows(ws, "SELECT column_name FROM information_schema.columns WHERE table_name = 'active_products'")
    }
    if not {"id", "name", "price"} <= columns:
        return wrong(f"active_products has the columns {', '.join(sorted(columns))}: it should show id, name and price.")
    shown = [r[0] for r in probes.rows(ws, "SELECT id FROM active_products ORDER BY id")]
    active = [r[0] for r in probes.rows(ws, "SELECT id FROM products WHERE status = 'active' ORDER BY id")]
    if shown != active:
        return wrong(f"active_products shows the products {shown}, but the active ones are {active}: `WHERE status = 'active'`.")
    proc = run_alembic(ws.path, ["check"], check=False)
    if proc.returncode:
        return wrong(f"`alembic check` still finds something to do: {shorten(error_line(proc.stdout))}")
    return solved(
        f"{creates[-1].name} creates active_products with op.create_entity, the database has it "
        f"({len(shown)} active products), and autogenerate finds nothing left to do."
    )


ACTIVE_PRODUCTS = """%%insert_after app/entities.py product_ratings

active_products = PGView(
    schema="public",
    signature="active_products",
    definition="SELECT id, name, price FROM products WHERE status = 'active'",
)
"""

EXERCISES = [
    Exercise(
        id="14.1",
        title="Leave the analytics team's tables alone",
        check=check_analytics,
        solution='''%%replace app/migrations/env.py include_name
def include_name(name, type_, parent_names):
    """Before reflection, by name: tables that are not ours are never reflected, so never compared or dropped."""
    if type_ == "table":
        return name not in NOT_OURS and not name.startswith("analytics_")
    return True
# %%
course.alembic("check", info=False)''',
        explanation="`include_name` sees each table's name before Alembic reflects it: `False` and the table is "
        "not reflected at all, so autogenerate can neither compare it nor propose to drop it. A prefix covers the "
        "tables the analytics team adds next month as well; a list of today's names would not. Every other name "
        "still gets `True`: a table that is nobody's is still noticed (and dropped if you let it), and our own "
        "tables are still compared with the models.",
        wrong=(
            WrongAttempt(
                """%%replace app/migrations/env.py NOT_OURS
NOT_OURS = {"billing_invoices", "analytics_events", "analytics_sessions"}  # not ours: other services' tables""",
                LATER,
            ),
            WrongAttempt(
                '''%%replace app/migrations/env.py include_name
def include_name(name, type_, parent_names):
    """Reflect only the analytics tables... or nothing at all?"""
    if type_ == "table":
        return False  # analytics tables, and everything else too
    return True''',
                "hides our own tables",
            ),
        ),
    ),
    Exercise(
        id="14.2",
        title="A view of the active products, migrated",
        check=check_active_view,
        solution=ACTIVE_PRODUCTS
        + """# %%
course.edit_file(
    "app/entities.py",
    "ENTITIES = [price_with_vat, product_ratings]",
    "ENTITIES = [price_with_vat, product_ratings, active_products]",
)
# %%
%alembic revision --autogenerate -m "add active_products view"
# %%
%alembic upgrade head
%sql SELECT * FROM active_products ORDER BY id LIMIT 3""",
        explanation="alembic-utils compares only the entities you register: the view goes into `ENTITIES`, the "
        "list env.py hands to `register_entities`. Autogenerate then creates it for real in a transaction it rolls "
        "back, reads back how PostgreSQL stores it, finds no such view in the database, and renders "
        "`op.create_entity(public_active_products)`. The downgrade drops it again.",
        wrong=(
            WrongAttempt(
                ACTIVE_PRODUCTS + '# %%\n%alembic revision --autogenerate -m "add active_products view"',
                "ENTITIES",
            ),
            WrongAttempt(
                "%sql CREATE OR REPLACE VIEW active_products AS SELECT id, name, price FROM products WHERE status = 'active'",
                "made by hand",
            ),
        ),
    ),
]
