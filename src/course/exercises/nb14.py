"""Notebook 14: autogenerate leaves the analytics team's tables alone; a view migrated with alembic-utils; an ENUM value renamed."""

from __future__ import annotations

import re

from sqlalchemy import text

from course.alembic_runner import run_alembic
from course.database import connect
from course.exercises import Exercise, Verdict, WrongAttempt, not_started, probes, solved, wrong
from course.exercises.revisions import (
    disagreement,
    error_line,
    function_code,
    not_at_head,
    pending,
    shorten,
    text_of,
    unreadable,
)
from course.i18n import tr
from course.workspace import Workspace

NOTEBOOK = "14-autogenerate-tailored"

ENV_PY = "app/migrations/env.py"
PRODUCT = "app/models/product.py"
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
            tr(
                "the analytics team's table {table} is not in the database: run the cell above the exercise "
                "(it creates both tables) first.",
                table=missing[0],
            )
        )
    if "analytics" not in text_of(ws, ENV_PY):
        return not_started(
            tr(
                "`alembic check` would still drop analytics_events and analytics_sessions: teach `include_name` in "
                "app/migrations/env.py about the analytics team's tables."
            )
        )
    _execute(ws, f"CREATE TABLE IF NOT EXISTS {LATER} (day date PRIMARY KEY, visits integer)")
    _execute(ws, f"CREATE TABLE IF NOT EXISTS {NOBODYS} (id integer PRIMARY KEY)")
    try:
        proc = run_alembic(ws.path, ["check"], check=False)
    finally:
        _execute(ws, f"DROP TABLE IF EXISTS {LATER}, {NOBODYS}")
    detected = _detected_tables(proc.stdout)
    if proc.returncode and not detected and "New upgrade operations detected" not in proc.stdout:
        return wrong(tr("`alembic check` fails with your env.py: {error}", error=error_line(proc.stdout)))
    dropped = [name for kind, name in detected if kind == "removed"]
    added = [name for kind, name in detected if kind == "added"]
    analytics = [name for name in dropped if name.startswith("analytics_")]
    if analytics:
        later = [name for name in analytics if name == LATER]
        named = ", ".join(
            tr("{table}, a table the analytics team adds later (the check made it for a moment)", table=name)
            if name == LATER
            else name
            for name in analytics
        )
        if later:
            return wrong(
                tr(
                    "autogenerate would still drop {tables}. Leave out every table whose name starts with `analytics_`, "
                    "not a list of today's names.",
                    tables=named,
                )
            )
        return wrong(
            tr(
                "autogenerate would still drop {tables}. Leave out every table whose name starts with `analytics_`.",
                tables=named,
            )
        )
    if added:
        return wrong(
            tr(
                "autogenerate now wants to create {tables}, tables that are already there: your filter "
                "hides our own tables too. Return False only for the analytics team's.",
                tables=", ".join(added),
            )
        )
    if NOBODYS not in dropped:
        return wrong(
            tr(
                "your filter hides too much: the check made a table that is nobody's ({table}) for a moment, and "
                "autogenerate no longer proposed to drop it. Leave out only tables whose name starts with `analytics_`.",
                table=NOBODYS,
            )
        )
    return solved(
        tr(
            "autogenerate leaves every analytics_ table alone (today's two, and one made later), and still notices a "
            "table that is nobody's ({table}).",
            table=NOBODYS,
        )
    )


# 14.2 -----------------------------------------------------------------------------------------

VIEW_EXISTS = "SELECT count(*) FROM pg_views WHERE schemaname = 'public' AND viewname = 'products_in_stock'"
IN_STOCK = "SELECT p.id FROM products p JOIN stock_levels s ON s.product_id = p.id WHERE s.quantity > 0 ORDER BY p.id"


def check_in_stock_view(ws: Workspace) -> Verdict:
    broken = unreadable(ws, ENTITIES, ENV_PY)
    if broken:
        return broken
    declared = "products_in_stock" in text_of(ws, ENTITIES)
    creates = [
        p
        for p in probes.revision_files(ws)
        if "products_in_stock" in function_code(p, "upgrade") and "create_entity" in function_code(p, "upgrade")
    ]
    in_database = probes.rows(ws, VIEW_EXISTS)[0][0] == 1
    if not declared and not creates:
        if in_database:
            return wrong(
                tr(
                    "the view products_in_stock is in the database, but app/entities.py does not declare it and no "
                    "revision creates it: made by hand, it is not migrated (and alembic-utils would propose to drop it)."
                )
            )
        return not_started(tr("app/entities.py has no view products_in_stock yet."))
    if not creates:
        return wrong(
            tr(
                "no revision creates products_in_stock. Is the view in ENTITIES, the list env.py registers with "
                "`register_entities`? Then autogenerate a revision."
            )
        )
    if not in_database:
        off = not_at_head(ws)
        if not off:
            return wrong(tr("{file} creates the view, but the database does not have it yet: upgrade.", file=creates[-1].name))
        return wrong(
            tr(
                "{file} creates the view, but the database does not have it yet: {problem}.",
                file=creates[-1].name,
                problem=off,
            )
        )
    columns = {
        r[0] for r in probes.rows(ws, "SELECT column_name FROM information_schema.columns WHERE table_name = 'products_in_stock'")
    }
    if not {"id", "name", "quantity"} <= columns:
        return wrong(
            tr(
                "products_in_stock has the columns {columns}: it should show id, name and quantity.",
                columns=", ".join(sorted(columns)),
            )
        )
    shown = [r[0] for r in probes.rows(ws, "SELECT id FROM products_in_stock ORDER BY id")]
    expected = [r[0] for r in probes.rows(ws, IN_STOCK)]
    if shown != expected:
        return wrong(
            tr(
                "products_in_stock shows the products {shown}, but the ones in stock are {expected}: "
                "join stock_levels and keep `quantity > 0`.",
                shown=shown,
                expected=expected,
            )
        )
    proc = run_alembic(ws.path, ["check"], check=False)
    if proc.returncode:
        return wrong(tr("`alembic check` still finds something to do: {output}", output=shorten(error_line(proc.stdout))))
    return solved(
        tr(
            "{file} creates products_in_stock with op.create_entity, the database has it "
            "({count} products in stock), and autogenerate finds nothing left to do.",
            file=creates[-1].name,
            count=len(shown),
        )
    )


# 14.3 -----------------------------------------------------------------------------------------

ARCHIVED_AT_START = 2  # the cell above the exercise archives products 7 and 8
RENAMED = re.compile(r"enum_values_to_rename\s*=\s*\[\s*\(\s*['\"]archived['\"]\s*,\s*['\"]retired['\"]\s*\)")
ENUM_VALUES = """
SELECT e.enumlabel FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid
WHERE t.typname = 'product_status' ORDER BY e.enumsortorder
"""


def check_rename(ws: Workspace) -> Verdict:
    broken = unreadable(ws, PRODUCT)
    if broken:
        return broken
    model = text_of(ws, PRODUCT)
    retired = re.search(r"^\s+retired\s*=", model, re.M)
    archived = re.search(r"^\s+archived\s*=", model, re.M)
    if not retired:
        return not_started(tr("ProductStatus in app/models/product.py still has `archived` and no `retired`."))
    if archived:
        return wrong(tr("ProductStatus has both `archived` and `retired`: a rename replaces the member, it does not add one."))
    revisions = [
        p
        for p in probes.revision_files(ws)
        if "sync_enum_values" in function_code(p, "upgrade") and "retired" in function_code(p, "upgrade")
    ]
    values = [r[0] for r in probes.rows(ws, ENUM_VALUES)]
    if not revisions:
        return wrong(tr("the model says `retired`, but no revision changes product_status yet: autogenerate one."))
    revision = revisions[-1]
    if not RENAMED.search(function_code(revision, "upgrade")):
        if "archived" in values:
            return wrong(
                tr(
                    "{file} does not tell `op.sync_enum_values` which value became which, so its upgrade cannot move "
                    'the {count} archived products (*invalid input value for enum product_status: "archived"*): '
                    "in upgrade(), `enum_values_to_rename=[('archived', 'retired')]` (and the reverse in downgrade()).",
                    file=revision.name,
                    count=ARCHIVED_AT_START,
                )
            )
        return wrong(
            tr(
                "{file} does not tell `op.sync_enum_values` which value became which: in upgrade(), "
                "`enum_values_to_rename=[('archived', 'retired')]` (and the reverse in downgrade()).",
                file=revision.name,
            )
        )
    if "retired" not in values or "archived" in values:
        return wrong(
            tr(
                "{file} renames the value, but the database still has {values}: {pending}.",
                file=revision.name,
                values=", ".join(values),
                pending=pending(ws),
            )
        )
    moved = probes.rows(ws, "SELECT count(*) FROM products WHERE status = 'retired'")[0][0]
    if moved != ARCHIVED_AT_START:
        return wrong(
            tr("{moved} products are `retired`; the {count} archived ones should be.", moved=moved, count=ARCHIVED_AT_START)
        )
    left = disagreement(ws)
    if left:
        return wrong(tr("`alembic check` still finds something to do: {output}", output=left))
    return solved(
        tr(
            "{file} renames archived to retired in place: product_status is now {values}, "
            "and the {count} archived products are retired.",
            file=revision.name,
            values=", ".join(values),
            count=ARCHIVED_AT_START,
        )
    )


RENAME_MODEL = """%%replace app/models/product.py ProductStatus.archived
    retired = "retired"
# %%
%alembic revision --autogenerate -m "rename archived to retired"
"""

RENAME_UPGRADE = '''%%replace app/migrations/versions/*_rename_archived_to_retired.py upgrade
def upgrade() -> None:
    """The value archived becomes retired; the rows that have it follow."""
    op.sync_enum_values(
        enum_schema="public",
        enum_name="product_status",
        new_values=["draft", "active", "retired", "discontinued"],
        affected_columns=[
            TableReference(table_schema="public", table_name="products", column_name="status", existing_server_default="'active'::product_status")
        ],
        enum_values_to_rename=[("archived", "retired")],
    )
'''

RENAME_DOWNGRADE = '''%%replace app/migrations/versions/*_rename_archived_to_retired.py downgrade
def downgrade() -> None:
    """Back: retired becomes archived again."""
    op.sync_enum_values(
        enum_schema="public",
        enum_name="product_status",
        new_values=["draft", "active", "archived", "discontinued"],
        affected_columns=[
            TableReference(table_schema="public", table_name="products", column_name="status", existing_server_default="'active'::product_status")
        ],
        enum_values_to_rename=[("retired", "archived")],
    )
'''

IN_STOCK_VIEW = """%%insert_after app/entities.py product_ratings

products_in_stock = PGView(
    schema="public",
    signature="products_in_stock",
    definition="SELECT p.id, p.name, s.quantity FROM products p JOIN stock_levels s ON s.product_id = p.id WHERE s.quantity > 0",
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
        title="A view of the products in stock, migrated",
        check=check_in_stock_view,
        solution=IN_STOCK_VIEW
        + """# %%
course.edit_file(
    "app/entities.py",
    "ENTITIES = [price_with_vat, product_ratings]",
    "ENTITIES = [price_with_vat, product_ratings, products_in_stock]",
)
# %%
%alembic revision --autogenerate -m "add products_in_stock view"
# %%
%alembic upgrade head
%sql SELECT * FROM products_in_stock ORDER BY id LIMIT 3""",
        explanation="alembic-utils compares only the entities you register: the view goes into `ENTITIES`, the "
        "list env.py hands to `register_entities`. Autogenerate then creates it for real in a transaction it rolls "
        "back, reads back how PostgreSQL stores it, finds no such view in the database, and renders "
        "`op.create_entity(public_products_in_stock)`. The downgrade drops it again.",
        wrong=(
            WrongAttempt(
                IN_STOCK_VIEW + '# %%\n%alembic revision --autogenerate -m "add products_in_stock view"',
                "ENTITIES",
            ),
            WrongAttempt(
                "%sql CREATE OR REPLACE VIEW products_in_stock AS SELECT p.id, p.name, s.quantity FROM products p JOIN stock_levels s ON s.product_id = p.id WHERE s.quantity > 0",
                "made by hand",
            ),
        ),
    ),
    Exercise(
        id="14.3",
        title="Rename a status: archived becomes retired",
        check=check_rename,
        solution=RENAME_MODEL + "# %%\n" + RENAME_UPGRADE + "# %%\n" + RENAME_DOWNGRADE + "# %%\n%alembic upgrade head\n"
        "%sql SELECT status, count(*) FROM products GROUP BY status ORDER BY status",
        explanation="Autogenerate only sees two lists: `archived` gone, `retired` new. It cannot know that one is "
        "the other, so alembic-postgresql-enum writes `op.sync_enum_values` with `enum_values_to_rename=[]`: a new "
        "type with the new values, and every column cast over to it, which fails on the rows that still say "
        "`archived`. `enum_values_to_rename=[('archived', 'retired')]` makes the cast map the old value to the new "
        "one (and a server default that used it). The downgrade needs the same pair the other way round.",
        wrong=(
            WrongAttempt(
                RENAME_MODEL + "# %%\n%alembic upgrade head",
                "enum_values_to_rename",
            ),
            WrongAttempt(
                """%%insert_after app/models/product.py ProductStatus.archived
    retired = "retired"
""",
                "both",
            ),
        ),
        on_your_own=True,
    ),
]
