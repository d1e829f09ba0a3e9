"""Notebook 07: evolving the schema of a database that already has rows.

Its check helpers, shared with nb08 and nb09, are in ``course.exercises.revisions``.
"""

from __future__ import annotations

import re

from course.exercises import Exercise, Verdict, WrongAttempt, not_started, probes, solved, wrong
from course.exercises.revisions import (
    CATEGORY,
    PRODUCT,
    disagreement,
    function_code,
    name_of,
    not_at_head,
    pending,
    revisions_where,
    round_trip,
    text_of,
    unreadable,
)
from course.i18n import tr
from course.workspace import Workspace

NOTEBOOK = "07-evolving-the-schema"


# 07.1 · A nullable column, end to end --------------------------------------------------------


def check_weight(ws: Workspace) -> Verdict:
    if broken := unreadable(ws, PRODUCT):
        return broken
    model = text_of(ws, PRODUCT)
    in_model = re.search(r"^\s+weight_grams\s*:", model, re.M)
    revisions = revisions_where(ws, r"weight_grams")
    column = probes.column(ws, "products", "weight_grams")
    if column is None:
        if not in_model and not revisions:
            return not_started(
                tr(
                    "no `products.weight_grams` yet: add `weight_grams: Mapped[int | None]` to `Product` in "
                    "app/models/product.py, autogenerate a revision, then upgrade."
                )
            )
        if not revisions:
            return wrong(
                tr(
                    "`Product` has `weight_grams`, but no revision adds it: "
                    "autogenerate one (`%alembic revision --autogenerate -m …`)."
                )
            )
        hint = ""
        if re.search(r"weight_grams.*nullable=False", function_code(revisions[0], "upgrade")):
            hint = tr(
                " Its column is NOT NULL without a default, and the table has rows: PostgreSQL refuses to add it "
                "(`contains null values`). The task wants it optional: `Mapped[int | None]`."
            )
        where = not_at_head(ws) or tr("yet the database is at head")
        if not hint:
            return wrong(
                tr(
                    "{file} adds the column, but the database does not have it: {pending}.",
                    file=name_of(ws, revisions[0]),
                    pending=pending(ws),
                )
            )
        return wrong(
            tr(
                "{file} adds the column, but the database does not have it: {where}.{hint}",
                file=name_of(ws, revisions[0]),
                where=where,
                hint=hint,
            )
        )
    data_type, nullable, _ = column
    if data_type != "integer":
        return wrong(tr("`products.weight_grams` is {type}, not integer: `Mapped[int | None]`.", type=data_type))
    if nullable != "YES":
        return wrong(
            tr("`products.weight_grams` is NOT NULL; it should allow NULL (`Mapped[int | None]`): a weight may be unknown.")
        )
    if not revisions:
        return wrong(
            tr(
                "`products.weight_grams` is in the database, but no revision creates it (added by hand?): every other "
                "database would miss it. Drop it (`%sql ALTER TABLE products DROP COLUMN weight_grams`) "
                "and let a migration add it."
            )
        )
    if off := not_at_head(ws):
        return wrong(tr("{problem}: run `%alembic upgrade head`.", problem=off))
    if differs := disagreement(ws):
        return wrong(tr("the models and the database disagree per `alembic check`: {differences}.", differences=differs))
    return solved(
        tr(
            "`products.weight_grams` (integer, NULL allowed) is in the database, which is at head, "
            "and `alembic check` finds nothing left to do."
        )
    )


# 07.2 · Make categories.description NOT NULL, safely -----------------------------------------

BACKFILL = r"\bupdate\b.*\bcategories\b|\bcategories\b.*\bupdate\b"
REQUIRED = r"alter_column\(\s*'categories',\s*'description'.*nullable=False"


def check_description_required(ws: Workspace) -> Verdict:
    if broken := unreadable(ws, CATEGORY):
        return broken
    column = probes.column(ws, "categories", "description")
    if column is None:
        return wrong(
            tr("there is no `categories.description` column at all: section 1 adds it; run the notebook from its setup cell.")
        )
    model_required = re.search(r"^\s+description\s*:\s*Mapped\[str\]", text_of(ws, CATEGORY), re.M)
    revisions = revisions_where(ws, REQUIRED)
    revision = revisions[-1] if revisions else None
    upgrade = function_code(revision, "upgrade") if revision else ""
    if column[1] == "YES":
        if not model_required and revision is None:
            return not_started(
                tr(
                    "`categories.description` still allows NULL: make the model `Mapped[str]`, autogenerate, add a backfill "
                    "to the new revision's `upgrade()`, then upgrade."
                )
            )
        if revision is None:
            return wrong(tr("the model says `Mapped[str]`, but no revision makes the column NOT NULL yet: autogenerate one."))
        if not re.search(BACKFILL, upgrade, re.I | re.S):
            return wrong(
                tr(
                    "{file} has no backfill: its `upgrade()` goes straight to `alter_column(…, nullable=False)`, "
                    "which fails on the categories whose description is NULL (`contains null values`). Add "
                    "`op.execute(\"UPDATE categories SET description = 'About ' || name WHERE description IS NULL\")` "
                    "before it, then upgrade.",
                    file=name_of(ws, revision),
                )
            )
        return wrong(
            tr(
                "{file} has a backfill, but the column still allows NULL: {pending}.",
                file=name_of(ws, revision),
                pending=pending(ws),
            )
        )
    empty = probes.rows(ws, "SELECT count(*) FROM categories WHERE btrim(description) = ''")[0][0]
    if empty:
        return wrong(
            tr(
                "{count} categories have an empty description: the backfill should write a real one, such as 'About ' || name.",
                count=empty,
            )
        )
    if revision is None:
        return wrong(
            tr("the column is NOT NULL, but no revision makes it so (changed by hand?): other databases would never get it.")
        )
    if not re.search(BACKFILL, upgrade, re.I | re.S):
        return wrong(
            tr(
                "the database looks right, but {file} has no backfill in `upgrade()`: the descriptions were filled "
                "by hand, so on any other database with NULL descriptions this upgrade fails. Move the UPDATE into `upgrade()`, "
                "before `alter_column`.",
                file=name_of(ws, revision),
            )
        )
    if re.search(r"nullable=False.*" + BACKFILL, upgrade, re.I | re.S) and not re.search(
        BACKFILL + r".*nullable=False", upgrade, re.I | re.S
    ):
        return wrong(
            tr(
                "in {file} the UPDATE comes after `alter_column`: backfill first, then forbid NULLs.",
                file=name_of(ws, revision),
            )
        )
    if off := not_at_head(ws):
        return wrong(tr("{problem}: run `%alembic upgrade head`.", problem=off))
    if differs := disagreement(ws):
        return wrong(tr("the models and the database disagree per `alembic check`: {differences}.", differences=differs))
    example = probes.rows(ws, "SELECT name, description FROM categories ORDER BY id LIMIT 1")[0]
    return solved(
        tr(
            "`categories.description` is NOT NULL and every category has one ({name}: {description!r}); the revision "
            "backfills before it forbids NULLs, and models and database agree.",
            name=example[0],
            description=example[1],
        )
    )


# 07.3 · On your own: the CHECK constraint autogenerate cannot see ------------------------------

CONSTRAINT = "ck_products_price_not_negative"


def _check_constraints(ws: Workspace) -> dict[str, str]:
    found = probes.rows(
        ws,
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'products'::regclass AND contype = 'c'",
    )
    return dict(found)


def check_price_rule(ws: Workspace) -> Verdict:
    if broken := unreadable(ws, PRODUCT):
        return broken
    in_model = "price_not_negative" in text_of(ws, PRODUCT)
    creating = revisions_where(ws, r"create_check_constraint|\bcheck\s*\(")
    constraints = _check_constraints(ws)
    if not constraints:
        if not in_model and not creating:
            return not_started(
                tr(
                    "`products` has no CHECK constraint yet: put `price >= 0` in the model and in a migration "
                    "(the section on what autogenerate does not see shows both)."
                )
            )
        if not creating:
            return wrong(
                tr(
                    "the model has the constraint, but no revision creates it: with its default plugins, "
                    "autogenerate does not see CHECK constraints on existing tables, so its revision came out empty. "
                    "Write `op.create_check_constraint(…)` in `upgrade()` "
                    "by hand (and `op.drop_constraint(…, type_='check')` in `downgrade()`), then upgrade."
                )
            )
        return wrong(
            tr(
                "{file} creates the constraint, but the database does not have it: {pending}.",
                file=name_of(ws, creating[-1]),
                pending=pending(ws),
            )
        )
    if CONSTRAINT not in constraints:
        name = next(iter(constraints))
        if name == f"ck_products_{CONSTRAINT}":
            return wrong(
                tr(
                    "the constraint is named `{name}`: the naming convention puts `ck_products_` in front of the name you give. "
                    'Give `"price_not_negative"`, as the model does, and the convention makes it `ck_products_price_not_negative`.',
                    name=name,
                )
            )
        return wrong(
            tr(
                "the CHECK constraint is named `{name}`, not `{constraint}` "
                "(the model's `price_not_negative` through the naming convention).",
                name=name,
                constraint=CONSTRAINT,
            )
        )
    definition = constraints[CONSTRAINT]
    if re.sub(r"[\s()]", "", definition) != "CHECKprice>=0":
        return wrong(
            tr("`{constraint}` says {definition}; the rule is `price >= 0`.", constraint=CONSTRAINT, definition=definition)
        )
    if not in_model:
        return wrong(
            tr(
                "the database has the constraint, but the model does not: add "
                '`__table_args__ = (CheckConstraint("price >= 0", name="price_not_negative"),)` to `Product`, '
                "so both tell the same story."
            )
        )
    if not creating:
        return wrong(
            tr(
                "the database has the constraint, but no revision creates it (added by hand?): "
                "other databases would never get it."
            )
        )
    if off := not_at_head(ws):
        return wrong(tr("{problem}: run `%alembic upgrade head`.", problem=off))

    def constraint_gone() -> str | None:
        if CONSTRAINT in _check_constraints(ws):
            return tr(
                "its `downgrade()` leaves the constraint in place: "
                'drop it with `op.drop_constraint("price_not_negative", "products", type_="check")`.'
            )
        return None

    if problem := round_trip(ws, creating[-1], constraint_gone):
        return wrong(tr("the upgrade is right, but the way back is not: {problem}", problem=problem))
    if differs := disagreement(ws):
        return wrong(tr("the models and the database disagree per `alembic check`: {differences}.", differences=differs))
    return solved(
        tr(
            "PostgreSQL now refuses a negative price (`{constraint}`: {definition}), the model says the same, "
            "and the revision's downgrade removes the constraint again.",
            constraint=CONSTRAINT,
            definition=definition,
        )
    )


EXERCISES = [
    Exercise(
        id="07.1",
        title="A nullable column, end to end",
        check=check_weight,
        solution="""\
%%insert_after app/models/product.py Product.price
    weight_grams: Mapped[int | None]
# %%
%alembic revision --autogenerate -m "Add products.weight_grams"
%alembic upgrade head
""",
        explanation="`Mapped[int | None]` makes the column NULL-able, so PostgreSQL can add it to a table with rows: "
        "each existing product simply gets NULL. Autogenerate writes the `add_column` (and its `drop_column` for the way "
        "back), `upgrade head` applies it, and `alembic check` then finds nothing left between model and database.",
        wrong=(
            WrongAttempt(
                "%%insert_after app/models/product.py Product.price\n"
                "    weight_grams: Mapped[int]\n"
                "# %%\n"
                '%alembic revision --autogenerate -m "Add products.weight_grams"\n'
                "%alembic upgrade head\n",
                "NOT NULL without a default",
            ),
            WrongAttempt("%sql ALTER TABLE products ADD COLUMN weight_grams integer", "no revision creates it"),
        ),
    ),
    Exercise(
        id="07.2",
        title="Make categories.description NOT NULL, safely",
        check=check_description_required,
        solution='''\
%%replace app/models/category.py Category.description
    description: Mapped[str] = mapped_column(Text)
# %%
%alembic revision --autogenerate -m "Make categories.description required"
# %%
%%replace app/migrations/versions/*_make_categories_description_required.py upgrade
def upgrade() -> None:
    """Upgrade schema."""
    # backfill first: SET NOT NULL fails while any row has NULL
    op.execute("UPDATE categories SET description = 'About ' || name WHERE description IS NULL")
    op.alter_column('categories', 'description',
               existing_type=sa.TEXT(),
               nullable=False)
# %%
%alembic upgrade head
%sql SELECT id, name, description FROM categories ORDER BY id LIMIT 3
''',
        explanation="Autogenerate sees the model's `Mapped[str]` and writes `alter_column(…, nullable=False)`, nothing more: "
        "it cannot know what the 5 existing categories should say. The `UPDATE` before it gives every row a value, so "
        "`SET NOT NULL` finds no NULL left; both run in the upgrade's transaction, on every database it reaches.",
        wrong=(
            WrongAttempt(
                "%%replace app/models/category.py Category.description\n"
                "    description: Mapped[str] = mapped_column(Text)\n"
                "# %%\n"
                '%alembic revision --autogenerate -m "Make categories.description required"\n'
                "%alembic upgrade head\n",
                "has no backfill",
            ),
            WrongAttempt(
                "%sql UPDATE categories SET description = 'About ' || name WHERE description IS NULL\n"
                "# %%\n"
                "%%replace app/models/category.py Category.description\n"
                "    description: Mapped[str] = mapped_column(Text)\n"
                "# %%\n"
                '%alembic revision --autogenerate -m "Make categories.description required"\n'
                "%alembic upgrade head\n",
                "filled by hand",
            ),
        ),
    ),
    Exercise(
        id="07.3",
        title="A CHECK constraint autogenerate cannot see",
        check=check_price_rule,
        solution='''\
course.edit_file("app/models/product.py", "from sqlalchemy import DateTime,", "from sqlalchemy import CheckConstraint, DateTime,")
# %%
%%insert_after app/models/product.py Product.__tablename__
    __table_args__ = (CheckConstraint("price >= 0", name="price_not_negative"),)
# %%
%alembic revision -m "Forbid negative prices"
# %%
%%replace app/migrations/versions/*_forbid_negative_prices.py upgrade
def upgrade() -> None:
    """Upgrade schema."""
    # by default, autogenerate does not compare CHECK constraints of existing tables: written by hand
    op.create_check_constraint("price_not_negative", "products", "price >= 0")
# %%
%%replace app/migrations/versions/*_forbid_negative_prices.py downgrade
def downgrade() -> None:
    """Downgrade schema."""
    op.drop_constraint("price_not_negative", "products", type_="check")
# %%
%alembic upgrade head
''',
        explanation="Autogenerate would have written an empty revision (`alembic check` said so in the chapter), so this one "
        "is written by hand, without `--autogenerate`. Give the constraint its short name, `price_not_negative`: the "
        "naming convention of `Base.metadata` (which `env.py` hands to Alembic) makes it `ck_products_price_not_negative` "
        "in both directions, exactly as it does for the model. Every existing price is at least 0, so PostgreSQL accepts "
        "the constraint; from now on it refuses any row that breaks it, whichever program writes it.",
        wrong=(
            WrongAttempt(
                'course.edit_file("app/models/product.py", "from sqlalchemy import DateTime,", '
                '"from sqlalchemy import CheckConstraint, DateTime,")\n'
                "# %%\n"
                "%%insert_after app/models/product.py Product.__tablename__\n"
                '    __table_args__ = (CheckConstraint("price >= 0", name="price_not_negative"),)\n'
                "# %%\n"
                '%alembic revision --autogenerate -m "Forbid negative prices"\n'
                "%alembic upgrade head\n",
                "autogenerate does not see CHECK constraints",
            ),
            WrongAttempt(
                'course.edit_file("app/models/product.py", "from sqlalchemy import DateTime,", '
                '"from sqlalchemy import CheckConstraint, DateTime,")\n'
                "# %%\n"
                "%%insert_after app/models/product.py Product.__tablename__\n"
                '    __table_args__ = (CheckConstraint("price >= 0", name="price_not_negative"),)\n'
                "# %%\n"
                '%alembic revision -m "Forbid negative prices"\n'
                "# %%\n"
                "%%replace app/migrations/versions/*_forbid_negative_prices.py upgrade\n"
                "def upgrade() -> None:\n"
                '    op.create_check_constraint("ck_products_price_not_negative", "products", "price >= 0")\n'
                "# %%\n"
                "%alembic upgrade head\n",
                "the naming convention puts `ck_products_` in front",
            ),
        ),
        on_your_own=True,
    ),
]
