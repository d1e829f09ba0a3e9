"""Notebook 01: create_all once more, then the migration it cannot do, by hand."""

from __future__ import annotations

from course.exercises import Exercise, Verdict, WrongAttempt, not_started, probes, solved, wrong
from course.i18n import N_, tr
from course.workspace import Workspace

NOTEBOOK = "01-install-and-project-tour"

SHOP_TABLES = {"categories", "products"}
CATEGORY_COLUMNS = {"id", "name", "slug", "is_active", "parent_id"}
START_OVER = N_('course.restart_exercise("{id}") puts the workspace back where the exercise starts.')  # shown through tr()


def _columns(ws: Workspace, table: str) -> dict[str, str]:
    found = probes.rows(
        ws,
        "SELECT column_name, data_type FROM information_schema.columns"
        " WHERE table_schema = 'public' AND table_name = :t ORDER BY ordinal_position",
        t=table,
    )
    return dict(found)


def _garden(ws: Workspace) -> list[tuple]:
    return probes.rows(ws, "SELECT name, slug FROM categories WHERE lower(name) = 'garden' OR lower(slug) = 'garden'")


def check_create_all(ws: Workspace) -> Verdict:
    tables = probes.tables(ws)
    if not tables & SHOP_TABLES:
        if tables:
            return wrong(
                tr("the database has {tables}, but neither `categories` nor `products`.", tables=", ".join(sorted(tables)))
            )
        return not_started(tr("no tables yet: make an engine on `ws.sync_url`, then run `Base.metadata.create_all(engine)`."))
    if "categories" in tables and "description" in _columns(ws, "categories"):
        return wrong(
            tr(
                "`categories` already has a `description` column: it was created from `next_week`'s copy of the table, "
                "not from the models' `Base.metadata`. {start_over}",
                start_over=tr(START_OVER, id="01.1"),
            )
        )
    missing = SHOP_TABLES - tables
    if missing:
        return wrong(
            tr(
                "`{table}` is missing: `Base.metadata.create_all(engine)` creates every table the models declare, "
                "not only one of them.",
                table=missing.pop(),
            )
        )
    garden = _garden(ws)
    if not garden:
        return wrong(
            tr(
                "both tables exist, but there is no category with the slug `garden` yet: INSERT it with `%sql` "
                "(and give `is_active` a value: its default lives in the model, in Python, not in the database)."
            )
        )
    if ("Garden", "garden") not in garden:
        name, slug = garden[0]
        return wrong(
            tr(
                "the category is named {name!r} with the slug {slug!r}: expected the name 'Garden' and the slug 'garden'.",
                name=name,
                slug=slug,
            )
        )
    return solved(tr("both tables exist, and the category `Garden` is in them."))


def check_add_description(ws: Workspace) -> Verdict:
    if "categories" not in probes.tables(ws):
        return not_started(tr("there is no table `categories`: do exercise 01.1 first (or run its catch-up cell)."))
    column = probes.column(ws, "categories", "description")
    if column is None:
        added = set(_columns(ws, "categories")) - CATEGORY_COLUMNS
        if added:
            return wrong(tr("`categories` has a new column `{column}`, but none named `description`.", column=sorted(added)[0]))
        return not_started(tr("`categories` has no column `description` yet: one `%sql ALTER TABLE … ADD COLUMN …` line."))
    data_type, nullable, _ = column
    if data_type != "text":
        return wrong(tr("`categories.description` is {type}, not text.", type=data_type))
    if nullable == "NO":
        return wrong(tr("`categories.description` is NOT NULL: it must accept NULL, a category may have no description."))
    if not _garden(ws):
        lost = "" if "products" in probes.tables(ws) else tr(" (and `products` with it)")
        return wrong(
            tr(
                "`description` is there, but the category Garden is gone{lost}: dropping and creating a table again "
                "loses its rows, `ALTER TABLE` keeps them. {start_over}",
                lost=lost,
                start_over=tr(START_OVER, id="01.2"),
            )
        )
    return solved(
        tr("`categories` has a nullable text column `description`, and its rows survived. You just wrote a migration by hand.")
    )


def check_position(ws: Workspace) -> Verdict:
    if "categories" not in probes.tables(ws):
        return not_started(tr("there is no table `categories`: run the catch-up cell of exercise 01.1 first."))
    column = probes.column(ws, "categories", "position")
    if column is None:
        added = set(_columns(ws, "categories")) - CATEGORY_COLUMNS - {"description"}
        if added:
            return wrong(tr("`categories` has a new column `{column}`, but none named `position`.", column=sorted(added)[0]))
        return not_started(tr("`categories` has no column `position` yet. Careful: with rows there, `NOT NULL` alone fails."))
    data_type, nullable, default = column
    if data_type != "integer":
        return wrong(tr("`categories.position` is {type}, not integer.", type=data_type))
    if nullable == "YES":
        return wrong(tr("`categories.position` accepts NULL: every category must have a position (NOT NULL)."))
    if default is None:
        return wrong(
            tr("`categories.position` has no DEFAULT: an INSERT that does not name it now fails. New categories should get 0.")
        )
    if default != "0":
        return wrong(tr("`categories.position` defaults to {default}, not 0.", default=default))
    return solved(
        tr("`categories.position` is an integer, NOT NULL, DEFAULT 0: the categories already there got 0, new ones will too.")
    )


EXERCISES = [
    Exercise(
        id="01.1",
        title="create_all, once more",
        check=check_create_all,
        solution=(
            "engine = create_engine(ws.sync_url)\n"
            "Base.metadata.create_all(engine)\n"
            "engine.dispose()\n"
            "%sql INSERT INTO categories (name, slug, is_active) VALUES ('Garden', 'garden', true) ON CONFLICT (slug) DO NOTHING"
        ),
        explanation="`create_all` creates the tables that are missing, both of them here, in dependency order. "
        "`is_active` must be given in raw SQL: `default=True` lives in the model, in Python, so the database "
        "itself has no default for it. `ON CONFLICT (slug) DO NOTHING` makes the cell safe to run twice "
        "(the slug is unique). `engine.dispose()` closes the pooled connection.",
        wrong=(
            WrongAttempt(
                "engine = create_engine(ws.sync_url)\nBase.metadata.create_all(engine)\nengine.dispose()",
                "no category with the slug `garden`",
            ),
            WrongAttempt(
                "next_week.create_all(engine)\n"
                "%sql INSERT INTO categories (name, slug, is_active) VALUES ('Garden', 'garden', true) ON CONFLICT (slug) DO NOTHING",
                "`next_week`",
            ),
        ),
    ),
    Exercise(
        id="01.2",
        title="The migration, by hand",
        check=check_add_description,
        solution="%sql ALTER TABLE categories ADD COLUMN description text",
        explanation="`ALTER TABLE … ADD COLUMN` changes the table in place: the rows stay, and each gets NULL "
        "in the new column. This is the statement Alembic writes for you from notebook 04 on, as "
        '`op.add_column("categories", sa.Column("description", sa.Text(), nullable=True))`.',
        wrong=(
            WrongAttempt("%sql ALTER TABLE categories ADD COLUMN description varchar(255)", "not text"),
            WrongAttempt("Base.metadata.drop_all(engine)\nnext_week.create_all(engine)", "Garden is gone"),
        ),
    ),
    Exercise(
        id="01.3",
        title="A sort order for categories",
        check=check_position,
        solution="%sql ALTER TABLE categories ADD COLUMN position integer NOT NULL DEFAULT 0\n"
        "%sql SELECT name, slug, position FROM categories",
        explanation="With a `DEFAULT`, PostgreSQL fills the rows already there with it, so `NOT NULL` holds at "
        "once (since PostgreSQL 11 without even rewriting the table). Without one, `ADD COLUMN … NOT NULL` fails "
        "on a table with rows. Notebook 07 does the same with Alembic, `server_default` and all.",
        wrong=(
            WrongAttempt("%sql ALTER TABLE categories ADD COLUMN position integer DEFAULT 0", "accepts NULL"),
            WrongAttempt(
                "%sql ALTER TABLE categories ADD COLUMN position integer\n"
                "%sql UPDATE categories SET position = 0\n"
                "%sql ALTER TABLE categories ALTER COLUMN position SET NOT NULL",
                "no DEFAULT",
            ),
        ),
        on_your_own=True,
    ),
]
