"""Notebook 06: moving a database through its history; a fourth revision, up to the deploy gate."""

from __future__ import annotations

from pathlib import Path

from course.exercises import Exercise, Verdict, WrongAttempt, not_started, probes, solved, wrong
from course.exercises.nb04 import body_is_empty, fields, function_source
from course.i18n import tr
from course.workspace import Workspace

NOTEBOOK = "06-upgrade-downgrade-history"

PRODUCT = Path("app/models/product.py")
DEFAULT_SLUGS = ("books", "electronics", "garden")


def chapter_revisions(ws: Workspace) -> tuple[str, str, str]:
    """The ids of the chapter's three revisions: 0001, the middle one (description) and the head (default categories)."""
    found = {Path(script.path).stem: script.revision for script in probes.script(ws).walk_revisions()}
    middle = next(rev for stem, rev in found.items() if stem.endswith("_add_category_description"))
    data = next(rev for stem, rev in found.items() if stem.endswith("_add_default_categories"))
    return "0001", middle, data


def where_is(ws: Workspace) -> str:
    current = probes.current(ws)
    return ", ".join(sorted(current)) if current else "base"


def default_categories(ws: Workspace) -> int:
    if "categories" not in probes.tables(ws):
        return 0
    return probes.rows(ws, "SELECT count(*) FROM categories WHERE slug IN ('books', 'electronics', 'garden')")[0][0]


# 06.1 ---------------------------------------------------------------------------------------------


def check_middle(ws: Workspace) -> Verdict:
    first, middle, data = chapter_revisions(ws)
    current = probes.current(ws)
    if current == {middle}:
        if probes.column(ws, "categories", "description") is None or default_categories(ws):
            return wrong(tr("`alembic_version` holds the middle revision, but the tables do not match it: was it stamped?"))
        return solved(tr("the database is at the middle revision: a `description` column, no default categories."))
    if current == {data}:
        return not_started(tr("the database is still at the head (`Add default categories`): one revision down."))
    if current == {first}:
        return wrong(
            tr(
                "the database is at 0001, one step below the middle revision: too far down (`categories.description` is gone). "
                "`%alembic upgrade +1` brings it one step up."
            )
        )
    if not current:
        return wrong(  # {middle} is the notebook's variable, expanded by %alembic: the message has no values
            tr("the database is at base: too far down, every revision was undone. `%alembic upgrade {middle}` brings it back.")
        )
    return wrong(tr("the database is at {where}, not at the middle revision {middle}.", where=where_is(ws), middle=middle))


# 06.2 ---------------------------------------------------------------------------------------------


def check_base(ws: Workspace) -> Verdict:
    tables = probes.tables(ws)
    shop = sorted(tables & {"categories", "products"})
    if "alembic_version" not in tables:
        return wrong(
            tr(
                "there is no `alembic_version` table: were tables dropped by hand? `downgrade base` leaves an empty "
                '`alembic_version`. `course.restart_exercise("06.2")` puts the database back.'
            )
        )
    current = probes.current(ws)
    if not current and not shop:
        return solved(tr("only an empty `alembic_version` is left: the database is at base."))
    if current and not shop:
        return wrong(
            tr(
                "`alembic_version` still says {where}, but the tables are gone: dropped by hand? Alembic still believes "
                'the database is at that revision. `course.restart_exercise("06.2")` puts it back; then downgrade.',
                where=where_is(ws),
            )
        )
    if not current:
        both = shop[0] if len(shop) == 1 else tr("{first} and {second}", first=shop[0], second=shop[1])
        return wrong(
            tr(
                "`alembic_version` is empty, but {tables} are still there: `stamp base` rewrites only the "
                "bookkeeping, `downgrade` runs the `downgrade()` functions.",
                tables=both,
            )
        )
    if current == {"0001"}:
        return wrong(
            tr(
                "the database is at 0001, one revision above base: a downgrade to an id stops **at** that revision. "
                "`base` is below 0001."
            )
        )
    return not_started(tr("the database is still at {where}: take it all the way down.", where=where_is(ws)))


# 06.3 ---------------------------------------------------------------------------------------------


def check_sku(ws: Workspace) -> Verdict:
    broken = probes.syntax_error(PRODUCT)
    if broken:
        return wrong(tr("{error}.", error=broken))
    for path in probes.revision_files(ws):
        broken = probes.syntax_error(path.relative_to(ws.path))
        if broken:
            return wrong(tr("{error}.", error=broken))
    chapter = set(chapter_revisions(ws))
    extra = [s for s in probes.script(ws).walk_revisions() if s.revision not in chapter]
    adding = [s for s in extra if "sku" in function_source(Path(s.path), "upgrade")]
    column = probes.column(ws, "products", "sku")
    if "sku" not in fields(PRODUCT, "Product"):
        if adding or column:
            return wrong(tr("a revision or the database has `products.sku`, but the model `Product` does not."))
        return not_started(tr("the model `Product` has no `sku` yet."))
    heads = probes.heads(ws)
    if len(heads) > 1:
        return wrong(
            tr(
                "the history has {count} heads ({heads}): the new revision should revise the head.",
                count=len(heads),
                heads=", ".join(sorted(heads)),
            )
        )
    if not adding:
        empty = [s for s in extra if body_is_empty(function_source(Path(s.path), "upgrade"))]
        if empty:
            return wrong(
                tr(
                    "{file} has an empty `upgrade()`: generated without `--autogenerate`? Delete it and generate again.",
                    file=Path(empty[0].path).name,
                )
            )
        return wrong(
            tr(
                "the model has `Product.sku`, but no revision adds it. Autogenerate compares the models with the database, "
                "and refuses while the database is not at head (*Target database is not up to date*): "
                "`upgrade head` first, then generate."
            )
        )
    if len(adding) > 1:
        return wrong(tr("{count} revisions add `sku`: delete the extra one.", count=len(adding)))
    if not probes.at_head(ws):
        return wrong(
            tr(
                "{file} is written but not applied: the database is at {where}. `%alembic upgrade head`.",
                file=Path(adding[0].path).name,
                where=where_is(ws),
            )
        )
    if column is None:
        return wrong(tr("the database is at head, yet `products` has no `sku` column."))
    length = probes.rows(
        ws,
        "SELECT character_maximum_length FROM information_schema.columns"
        " WHERE table_schema = 'public' AND table_name = 'products' AND column_name = 'sku'",
    )[0][0]
    if column[0] != "character varying" or length != 64:
        shown = f"{column[0]}({length})" if length else column[0]
        return wrong(tr("`products.sku` is {type}, not VARCHAR(64): `mapped_column(String(64))`.", type=shown))
    if column[1] != "YES":
        return wrong(tr("`products.sku` is NOT NULL; an optional code is `Mapped[str | None]`."))
    ok, last = probes.alembic(ws, "check")
    if not ok:
        return wrong(tr("the deploy gate fails: `alembic check` says {last}", last=last))
    count = len(list(probes.script(ws).walk_revisions()))
    return solved(
        tr("{count} revisions in one line, the database at the head, and `alembic check` passes (exit code 0).", count=count)
    )


SKU_MODEL = "%%insert_after app/models/product.py Product.slug\n    sku: Mapped[str | None] = mapped_column(String(64))\n"

EXERCISES = [
    Exercise(
        id="06.1",
        title="The middle of the history",
        check=check_middle,
        solution="%alembic downgrade {middle}\n%sql SELECT * FROM alembic_version",
        explanation="A downgrade to a revision id stops **at** that revision: it undoes the data migration only. "
        "`%alembic downgrade -1` does the same from the head, but counts from where the database is: run it twice, "
        "and the second run goes down to 0001.",
        wrong=(
            WrongAttempt("%alembic downgrade -2", "too far"),
            WrongAttempt("%alembic downgrade 0001", "too far"),
        ),
    ),
    Exercise(
        id="06.2",
        title="Back to an empty database",
        check=check_base,
        solution=(
            "%alembic downgrade base\n"
            "%sql SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name\n"
            "%sql SELECT * FROM alembic_version"
        ),
        explanation="`base` is before the first revision, so every `downgrade()` runs, newest first. The `alembic_version` "
        "table itself stays, empty: that is how Alembic knows the database is at base.",
        wrong=(
            WrongAttempt("%alembic downgrade 0001", "above base"),
            WrongAttempt("%sql DROP TABLE products, categories", "dropped by hand"),
        ),
    ),
    Exercise(
        id="06.3",
        title="A fourth revision, through the deploy gate",
        check=check_sku,
        solution=SKU_MODEL
        + '# %%\n%alembic upgrade head\n%alembic revision --autogenerate -m "Add product sku"\n%alembic upgrade head\n'
        + '# %%\ncourse.alembic("check", exit_code=True)\n%alembic history -i',
        explanation="Autogenerate compares the models with the live database, so the database must be at head first "
        "(it was at base after exercise 06.2). Then the new revision revises the head, `upgrade head` applies it, "
        "and `alembic check` exits with 0: the database is at head and the models have nothing new.",
        wrong=(
            WrongAttempt(SKU_MODEL + '# %%\n%alembic revision --autogenerate -m "Add product sku"\n', "no revision adds it"),
            WrongAttempt(
                SKU_MODEL + '# %%\n%alembic upgrade head\n%alembic revision --autogenerate -m "Add product sku"\n', "not applied"
            ),
        ),
        on_your_own=True,
    ),
]
