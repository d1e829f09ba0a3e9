"""Notebook 05: a migration written by hand, applied, taken back; a CHECK constraint named by the convention."""

from __future__ import annotations

import re

from course.alembic_runner import run_alembic
from course.exercises import Exercise, Verdict, WrongAttempt, not_started, probes, solved, wrong
from course.i18n import tr
from course.workspace import Workspace

NOTEBOOK = "05-reading-the-migration"

CONSTRAINT = "ck_products_price_not_negative"


def sql_of(ws: Workspace, *args: str) -> tuple[bool, str]:
    """Run ``alembic <args>`` (offline, with --sql: nothing touches the database); (succeeded, its whole output)."""
    proc = run_alembic(ws.path, list(args), check=False)
    return proc.returncode == 0, proc.stdout


def last_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def revisions(ws: Workspace) -> dict[str, object]:
    """Revision id -> Alembic's Script, as Alembic reads ``versions/``."""
    return {script.revision: script for script in probes.script(ws).walk_revisions()}


def where_is(ws: Workspace) -> str:
    current = probes.current(ws)
    return ", ".join(sorted(current)) if current else "base"


def unreadable(ws: Workspace) -> Verdict | None:
    """A wrong verdict if a revision file does not parse or Alembic cannot read the history."""
    for path in probes.revision_files(ws):
        broken = probes.syntax_error(path.relative_to(ws.path))
        if broken:
            return wrong(tr("{error}.", error=broken))
    try:
        revisions(ws)
    except Exception as error:  # noqa: BLE001 - Alembic's own words are the diagnosis
        return wrong(tr("Alembic cannot read the revisions: {error}", error=str(error).splitlines()[0]))
    return None


# 05.1 ---------------------------------------------------------------------------------------------


def check_write(ws: Workspace) -> Verdict:
    if not [p for p in probes.revision_files(ws) if p.name != "0001_initial_migration.py"]:
        return not_started(tr("there is no file `app/migrations/versions/0002_add_brand.py` yet: `%%writefile` writes one."))
    problem = unreadable(ws)
    if problem:
        return problem
    found = revisions(ws)
    if "0002" not in found:
        others = ", ".join(sorted(set(found) - {"0001"}))
        return wrong(
            tr('Alembic finds no revision `0002` (it finds {others}): the file needs `revision = "0002"`.', others=others)
        )
    parent = found["0002"].down_revision
    if parent != "0001":
        if parent is None:
            return wrong(
                tr(
                    "`down_revision` is None, so 0002 does not come after 0001: Alembic sees two separate histories, "
                    'with two heads (0001 and 0002). Set `down_revision = "0001"`.'
                )
            )
        return wrong(tr("`down_revision` is {parent!r}, not '0001': 0002 must come right after 0001.", parent=parent))
    ok, out = sql_of(ws, "upgrade", "0001:0002", "--sql")
    if not ok:
        return wrong(tr("`alembic upgrade 0001:0002 --sql` fails: {last}", last=last_line(out)))
    added = re.search(r"ALTER TABLE products ADD COLUMN brand ([^;]*);", out)
    if added is None:
        return wrong(
            tr(
                "`upgrade()` does not add `products.brand`: its SQL (`upgrade 0001:0002 --sql`) "
                "has no `ALTER TABLE products ADD COLUMN brand`."
            )
        )
    definition = added.group(1).strip()
    if "NOT NULL" in definition:
        return wrong(tr("`brand` would be NOT NULL; the task asks for a nullable column (`nullable=True`)."))
    if definition != "VARCHAR(100)":
        return wrong(tr("`brand` would be `{definition}`, not `VARCHAR(100)`: `sa.String(length=100)`.", definition=definition))
    ok, out = sql_of(ws, "downgrade", "0002:0001", "--sql")
    if not ok:
        return wrong(tr("`alembic downgrade 0002:0001 --sql` fails: {last}", last=last_line(out)))
    if "ALTER TABLE products DROP COLUMN brand;" not in out:
        return wrong(
            tr(
                "`downgrade()` does not drop `products.brand`: going back to 0001 would leave the column behind. "
                '`op.drop_column("products", "brand")`.'
            )
        )
    return solved(
        tr("Alembic finds 0002 right after 0001; its SQL adds `products.brand VARCHAR(100)`, and its downgrade drops it.")
    )


# 05.2 ---------------------------------------------------------------------------------------------


def check_apply(ws: Workspace) -> Verdict:
    if unreadable(ws) or "0002" not in revisions(ws):
        return not_started(tr("first write revision 0002 (exercise 05.1)."))
    current, brand = probes.current(ws), probes.column(ws, "products", "brand")
    if current == {"0002"} and brand:
        return solved(tr("`products.brand` exists and `alembic_version` says 0002."))
    if current == {"0002"}:
        return wrong(
            tr(
                "`alembic_version` says 0002, but `products` has no `brand` column: `alembic stamp` only writes the version "
                "number, it runs no migration. `%alembic stamp 0001`, then `%alembic upgrade head`."
            )
        )
    if brand:
        return wrong(
            tr(
                "`products.brand` exists, but `alembic_version` says {where}: the column was added by hand, and Alembic "
                "does not know. `%sql ALTER TABLE products DROP COLUMN brand`, then upgrade.",
                where=where_is(ws),
            )
        )
    return not_started(
        tr(
            "the database is still at {where}, without `products.brand` (`--sql` only prints SQL; without it, it runs).",
            where=where_is(ws),
        )
    )


# 05.3 ---------------------------------------------------------------------------------------------


def check_back(ws: Workspace) -> Verdict:
    if unreadable(ws) is None and "0002" not in revisions(ws):
        return wrong(
            tr(
                "revision 0002 is gone from `versions/`: a downgrade changes only the database. "
                "Keep the file (exercise 05.1 writes it)."
            )
        )
    current, brand = probes.current(ws), probes.column(ws, "products", "brand")
    if current == {"0002"}:
        return not_started(tr("the database is still at 0002, with `products.brand`: go one revision down."))
    if current == {"0001"} and not brand:
        return solved(tr("back at 0001: `products.brand` is gone, and 0002 is still in `versions/`, ready to upgrade again."))
    if current == {"0001"}:
        return wrong(
            tr(
                "`alembic_version` says 0001, but `products.brand` is still there: `stamp` moves only the bookkeeping, "
                "`downgrade` runs `downgrade()`. `%alembic stamp 0002`, then `%alembic downgrade -1`."
            )
        )
    if not current:
        return wrong(
            tr(
                "the database is at base: two revisions down, not one (`-1` is one step). "
                "`%alembic upgrade 0001` brings it back up."
            )
        )
    return wrong(tr("the database is at {where}, not at 0001.", where=where_is(ws)))


# 05.4 ---------------------------------------------------------------------------------------------


def constraints_in_db(ws: Workspace) -> dict[str, str]:
    found = probes.rows(
        ws,
        "SELECT conname, pg_get_expr(conbin, conrelid) FROM pg_constraint"
        " WHERE conrelid = to_regclass('public.products') AND contype = 'c'",
    )
    return dict(found)


def accepts(ws: Workspace, expression: str, price: int) -> bool | None:
    """Would the CHECK expression let ``price`` in (None: it looks at more than the price)?"""
    try:
        found = probes.rows(
            ws, f"SELECT ({expression}) IS NOT FALSE FROM (VALUES (CAST(:p AS integer))) AS products(price)", p=price
        )
    except Exception:  # noqa: BLE001 - the expression uses other columns too: no verdict on it
        return None
    return bool(found[0][0])


def check_constraint(ws: Workspace) -> Verdict:
    problem = unreadable(ws)
    if problem:
        return problem
    found = revisions(ws)
    extra = [script for rev, script in found.items() if rev not in ("0001", "0002")]
    in_db = constraints_in_db(ws)
    if not extra and not in_db:
        return not_started(tr("no revision adds a CHECK constraint to `products` yet."))
    heads = probes.heads(ws)
    if len(heads) > 1:
        return wrong(
            tr(
                "the history has {count} heads ({heads}): the new revision's `down_revision` should be '0002'.",
                count=len(heads),
                heads=", ".join(sorted(heads)),
            )
        )
    if not extra:
        return wrong(
            tr(
                "`products` has the CHECK constraint(s) {names}, but no revision adds them: added by hand?",
                names=", ".join(sorted(in_db)),
            )
        )
    head = next(iter(heads))
    ok, out = sql_of(ws, "upgrade", f"0002:{head}", "--sql")
    if not ok:
        return wrong(tr("`alembic upgrade 0002:{head} --sql` fails: {last}", head=head, last=last_line(out)))
    names = re.findall(r"ALTER TABLE products ADD CONSTRAINT (\w+) CHECK", out)
    if not names:
        return wrong(
            tr("the new revision's `upgrade()` adds no CHECK constraint to `products` (its SQL has no `ADD CONSTRAINT … CHECK`).")
        )
    if CONSTRAINT not in names:
        if f"ck_products_{CONSTRAINT}" in names:
            return wrong(
                tr(
                    "the constraint would be named `ck_products_{constraint}`: the naming convention "
                    "`ck_%(table_name)s_%(constraint_name)s` was applied twice, to a name that already had it. "
                    'Pass the short name `price_not_negative`, or mark the full name as final: `op.f("{constraint}")`.',
                    constraint=CONSTRAINT,
                )
            )
        return wrong(tr("the constraint would be named `{name}`, not `{constraint}`.", name=names[0], constraint=CONSTRAINT))
    ok, out = sql_of(ws, "downgrade", f"{head}:0002", "--sql")
    dropped = re.findall(r"ALTER TABLE products DROP CONSTRAINT (\w+);", out) if ok else []
    if CONSTRAINT not in dropped:
        said = tr("drops `{name}` instead", name=dropped[0]) if dropped else tr("drops nothing")
        return wrong(
            tr(
                "`downgrade()` {said}: going back to 0002 must drop `{constraint}` (the convention applies to that name too).",
                said=said,
                constraint=CONSTRAINT,
            )
        )
    if probes.current(ws) != heads:
        return wrong(
            tr(
                "the revision is written but not applied: the database is at {where}. `%alembic upgrade head`.",
                where=where_is(ws),
            )
        )
    if CONSTRAINT not in in_db:
        return wrong(tr("the database is at head, yet `products` has no constraint `{constraint}`.", constraint=CONSTRAINT))
    expression = in_db[CONSTRAINT]
    if accepts(ws, expression, -1):
        return wrong(
            tr("`{constraint}` is `CHECK {expression}`: it lets a price of -1 in.", constraint=CONSTRAINT, expression=expression)
        )
    if accepts(ws, expression, 0) is False:
        return wrong(
            tr(
                "`{constraint}` is `CHECK {expression}`: it refuses a price of 0, which is not negative.",
                constraint=CONSTRAINT,
                expression=expression,
            )
        )
    return solved(
        tr(
            "`{constraint}` (`CHECK {expression}`) is in the database, and `downgrade()` drops it by the same name.",
            constraint=CONSTRAINT,
            expression=expression,
        )
    )


CONSTRAINT_REVISION = '%alembic revision --rev-id 0003 -m "price is never negative"\n'
REVISION_FILE = "app/migrations/versions/0003_price_is_never_negative.py"


def constraint_functions(name: str, *, downgrade: bool = True) -> str:
    code = (
        f"# %%\n%%replace {REVISION_FILE} upgrade\n"
        "def upgrade() -> None:\n"
        f'    op.create_check_constraint("{name}", "products", "price >= 0")\n'
    )
    if downgrade:
        code += (
            f"# %%\n%%replace {REVISION_FILE} downgrade\n"
            "def downgrade() -> None:\n"
            f'    op.drop_constraint("{name}", "products", type_="check")\n'
        )
    return code + "# %%\n%alembic upgrade head\n"


BRAND_REVISION = '''\
%%writefile app/migrations/versions/0002_add_brand.py
"""Add products.brand

Revision ID: 0002
Revises: 0001
Create Date: 2026-01-01 00:00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = "0002"
down_revision: Union[str, Sequence[str], None] = "0001"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.add_column("products", sa.Column("brand", sa.String(length=100), nullable=True))


def downgrade() -> None:
    op.drop_column("products", "brand")
'''

EXERCISES = [
    Exercise(
        id="05.1",
        title="Write a migration by hand",
        check=check_write,
        solution=BRAND_REVISION,
        explanation="Alembic reads only `revision` and `down_revision`: `0002` after `0001` makes a straight history "
        "with one head. The check runs your file the way a DBA would read it, offline: "
        "`alembic upgrade 0001:0002 --sql` must print `ALTER TABLE products ADD COLUMN brand VARCHAR(100)`, and "
        "`downgrade 0002:0001 --sql` the matching `DROP COLUMN`.",
        wrong=(
            WrongAttempt(
                BRAND_REVISION.replace('down_revision: Union[str, Sequence[str], None] = "0001"', "down_revision = None"),
                "two heads",
            ),
            WrongAttempt(BRAND_REVISION.replace('    op.drop_column("products", "brand")', "    pass"), "does not drop"),
        ),
    ),
    Exercise(
        id="05.2",
        title="Apply it",
        check=check_apply,
        solution="%alembic upgrade head\n%sql SELECT column_name FROM information_schema.columns WHERE table_name = 'products' ORDER BY ordinal_position",
        explanation="`upgrade head` runs every `upgrade()` between the database's revision (0001) and the head (0002), "
        "then writes 0002 into `alembic_version`. `alembic stamp` would write the number without running anything.",
        wrong=(
            WrongAttempt("%alembic stamp head", "stamp"),
            WrongAttempt("%sql ALTER TABLE products ADD COLUMN brand varchar(100)", "added by hand"),
        ),
    ),
    Exercise(
        id="05.3",
        title="One step back",
        check=check_back,
        solution="%alembic downgrade 0001\n%sql SELECT * FROM alembic_version",
        explanation="`downgrade -1` (one step down from where the database is) does the same the first time; naming the "
        "target, `0001`, stays right if you run the cell again, since a downgrade stops **at** the revision you name. "
        "Your file stays in `versions/`: the next `upgrade head` applies it again.",
        wrong=(
            WrongAttempt("%alembic downgrade base", "base"),
            WrongAttempt("%alembic stamp 0001", "stamp"),
        ),
    ),
    Exercise(
        id="05.4",
        title="A price is never negative",
        check=check_constraint,
        solution=CONSTRAINT_REVISION + constraint_functions("price_not_negative"),
        explanation="`op.create_check_constraint` names the constraint through `Base.metadata`'s naming convention, "
        "`ck_%(table_name)s_%(constraint_name)s`: the short name `price_not_negative` becomes "
        "`ck_products_price_not_negative`, in `upgrade()` and in `downgrade()` alike. Writing the full name would "
        "apply the convention twice, unless it is wrapped in `op.f()`, as autogenerate does. A CHECK constraint "
        "passes when its expression is true or NULL, so `price >= 0` lets 0 in and refuses -1.",
        wrong=(
            WrongAttempt(CONSTRAINT_REVISION + constraint_functions(CONSTRAINT), "applied twice"),
            WrongAttempt(
                CONSTRAINT_REVISION + constraint_functions("price_not_negative", downgrade=False), "`downgrade()` drops nothing"
            ),
        ),
        on_your_own=True,
    ),
]
