"""Notebook 11: repair autogenerate, ignore a table that is not ours, recover from an empty migration."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from course.exercises import Exercise, Verdict, WrongAttempt, not_started, probes, solved, wrong
from course.i18n import tr
from course.workspace import Workspace

NOTEBOOK = "11-troubleshooting"

ENV_PY = Path("app/migrations/env.py")


def _assigned(path: Path, name: str) -> ast.expr | None:
    """The value of the module-level assignment ``name = …`` in a Python file, if there is one."""
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            return node.value
    return None


def _short(line: str, limit: int = 180) -> str:
    return line if len(line) <= limit else line[:limit] + " …"


def _upgrade_of(path: Path) -> str:
    return path.read_text(encoding="utf-8").split("def downgrade", 1)[0]


# 11.1 -----------------------------------------------------------------------------------------

ADDS_DESCRIPTION = re.compile(r"add_column\(\s*['\"]categories['\"],\s*sa\.Column\(\s*['\"]description['\"]")


def check_target_metadata(ws: Workspace) -> Verdict:
    error = probes.syntax_error(ENV_PY)
    if error:
        return wrong(f"{error}.")
    metadata = _assigned(ENV_PY, "target_metadata")
    still_none = isinstance(metadata, ast.Constant) and metadata.value is None
    revision = probes.revision_file(ws, "exercise_1_add_categories_description")
    if revision is None:
        if still_none:
            return not_started(
                tr(
                    "env.py still says `target_metadata = None`, and there is no revision "
                    "`exercise 1 add categories.description` yet."
                )
            )
        return wrong(
            tr("env.py is repaired; now autogenerate the revision `exercise 1 add categories.description` and apply it.")
        )
    if not ADDS_DESCRIPTION.search(_upgrade_of(revision)):
        return wrong(
            tr(
                "{file} is there, but its upgrade() does not add `categories.description` (is it empty?): "
                "it was written without `--autogenerate`, or autogenerate did not see the model. "
                "Delete it, then generate it again.",
                file=revision.name,
            )
        )
    if still_none:
        return wrong(
            tr("the revision is right, but env.py still says `target_metadata = None`: the next autogenerate will fail again.")
        )
    if probes.column(ws, "categories", "description") is None or not probes.at_head(ws):
        current = sorted(probes.current(ws))
        if not current:
            return wrong(
                tr(
                    "{file} adds the column, but it is not applied: the database is at no revision. `alembic upgrade head`.",
                    file=revision.name,
                )
            )
        return wrong(
            tr(
                "{file} adds the column, but it is not applied: the database is at {current}. `alembic upgrade head`.",
                file=revision.name,
                current=", ".join(current),
            )
        )
    return solved(
        tr(
            "autogenerate sees the models again: {file} adds `categories.description`, and it is applied.",
            file=revision.name,
        )
    )


# 11.2 -----------------------------------------------------------------------------------------


def _ignored_tables() -> set[str] | None:
    value = _assigned(ENV_PY, "IGNORED_TABLES")
    try:
        return set(ast.literal_eval(value)) if value is not None else None
    except ValueError:
        return None


def check_ignore_table(ws: Workspace) -> Verdict:
    if "etl_staging" not in probes.tables(ws):
        return wrong(
            tr(
                "the table `etl_staging` is gone: it belongs to the data team and must stay. "
                "Leave it in the database; change what autogenerate looks at."
            )
        )
    error = probes.syntax_error(ENV_PY)
    if error:
        return wrong(f"{error}.")
    ok, last = probes.alembic(ws, "check")
    if ok:
        return solved(tr("`alembic check` finds nothing to do, and `etl_staging` is still in the database."))
    if "etl_staging" in last:
        if _ignored_tables() == {"legacy_audit_log"}:
            return not_started(
                tr(
                    "`alembic check` still wants to drop `etl_staging`: autogenerate does not ignore it yet "
                    "(look at `include_name` in env.py)."
                )
            )
        return wrong(
            tr(
                "`alembic check` still wants to drop `etl_staging`: your filter does not match it "
                "(IGNORED_TABLES is {tables}; the table's name is exactly `etl_staging`).",
                tables=sorted(_ignored_tables() or []),
            )
        )
    return wrong(tr("`alembic check` is not clean: {output}", output=_short(last)))


# 11.3 -----------------------------------------------------------------------------------------

CREATES_WISHLIST = re.compile(r"create_table\(\s*['\"]wishlist_items['\"]")


def check_empty_migration(ws: Workspace) -> Verdict:
    for path in (Path("app/models/__init__.py"), ENV_PY, *(p.relative_to(ws.path) for p in probes.revision_files(ws))):
        error = probes.syntax_error(path)
        if error:
            return wrong(f"{error}.")
    imported = "wishlist" in Path("app/models/__init__.py").read_text(encoding="utf-8")
    heads = sorted(probes.heads(ws))
    if len(heads) > 1:
        return wrong(
            tr(
                "there are {count} heads ({heads}): one revision on top of the current head is enough.",
                count=len(heads),
                heads=", ".join(heads),
            )
        )
    if "wishlist_items" not in probes.tables(ws):
        if not imported:
            return not_started(
                tr(
                    "the table `wishlist_items` still does not exist, although the database is at head. "
                    "Look at what 0006 does, and at what autogenerate could see when it was generated."
                )
            )
        return wrong(
            tr(
                "app.models imports the wishlist model now, but the table `wishlist_items` still does not exist: 0006 is "
                "recorded as applied, so `upgrade head` will not run it again. The table needs a revision that creates it."
            )
        )
    if not any(CREATES_WISHLIST.search(_upgrade_of(p)) for p in probes.revision_files(ws)):
        return wrong(
            tr(
                "the table exists, but no revision creates it: a table made by hand exists only in this database, and every "
                "other database (a colleague's, production) would still miss it. Create it in a revision."
            )
        )
    if not probes.at_head(ws):
        current = sorted(probes.current(ws))
        if not current:
            return wrong(tr("the database is at no revision, not at the head {head}: `alembic upgrade head`.", head=heads[0]))
        return wrong(
            tr(
                "the database is at {current}, not at the head {head}: `alembic upgrade head`.",
                current=", ".join(current),
                head=heads[0],
            )
        )
    ok, last = probes.alembic(ws, "check")
    if not ok:
        if "remove_table" in last and "wishlist_items" in last:
            return wrong(
                tr(
                    "`alembic check` wants to drop `wishlist_items`: the model is not on `Base.metadata`. "
                    "Import it in app/models/__init__.py."
                )
            )
        return wrong(tr("`alembic check` is not clean: {output}", output=_short(last)))
    products = probes.rows(ws, "SELECT count(*) FROM products")[0][0]
    if products < 8:
        return wrong(
            tr(
                "only {count} of the 8 products are left: repair the history without rebuilding the database.",
                count=products,
            )
        )
    return solved(tr("`wishlist_items` exists, a revision creates it, the database is at head and `alembic check` is clean."))


EXERCISES = [
    Exercise(
        id="11.1",
        title="Make autogenerate see the models again",
        check=check_target_metadata,
        solution=(
            "%%replace app/migrations/env.py target_metadata\n"
            "target_metadata = Base.metadata\n"
            "# %%\n"
            '%alembic revision --autogenerate -m "exercise 1 add categories.description" --rev-id ex1\n'
            "%alembic upgrade head"
        ),
        explanation="`target_metadata` is how autogenerate learns what the models say; with `None` it refuses to run. "
        "With `Base.metadata` back, it compares the models with the database and finds the new column, so the "
        "revision holds an `op.add_column`, which `upgrade head` applies. (`--rev-id ex1` only makes the id readable.)",
        wrong=(
            WrongAttempt(
                "%%replace app/migrations/env.py target_metadata\n"
                "target_metadata = Base.metadata\n"
                "# %%\n"
                '%alembic revision -m "exercise 1 add categories.description" --rev-id ex1\n'
                "%alembic upgrade head",
                "does not add `categories.description`",
            ),
            WrongAttempt(
                "%%replace app/migrations/env.py target_metadata\n"
                "target_metadata = Base.metadata\n"
                "# %%\n"
                '%alembic revision --autogenerate -m "exercise 1 add categories.description" --rev-id ex1',
                "it is not applied",
            ),
        ),
    ),
    Exercise(
        id="11.2",
        title="Leave the data team's table alone",
        check=check_ignore_table,
        solution=(
            "%%replace app/migrations/env.py IGNORED_TABLES\n"
            'IGNORED_TABLES = {"legacy_audit_log", "etl_staging"}  # in our database, but not ours: autogenerate leaves them alone'
        ),
        explanation="`include_name` already skips every table named in `IGNORED_TABLES`; one more name there, and "
        "autogenerate (and so `alembic check`) no longer sees `etl_staging`. The table stays in the database, "
        "untouched: ignoring is about what Alembic compares, not about what exists. The check runs `alembic check` "
        "for you; run `%alembic check` yourself to see its report.",
        wrong=(
            WrongAttempt(
                "%%replace app/migrations/env.py IGNORED_TABLES\n"
                'IGNORED_TABLES = {"legacy_audit_log", "etl-staging"}\n'
                "# %%\n"
                "%alembic check",
                "your filter does not match it",
            ),
            WrongAttempt("%sql DROP TABLE etl_staging", "is gone"),
        ),
    ),
    Exercise(
        id="11.3",
        title="A migration that did nothing",
        check=check_empty_migration,
        solution=(
            "course.edit_file(\n"
            '    "app/models/__init__.py",\n'
            '    \'from app.models.review import Review\\n\\n__all__ = ["Category", "Product", "Review"]\',\n'
            '    \'from app.models.review import Review\\nfrom app.models.wishlist import WishlistItem\\n\\n__all__ = ["Category", "Product", "Review", "WishlistItem"]\',\n'
            ")\n"
            '%alembic revision --autogenerate -m "create wishlist items" --rev-id 0007\n'
            "%alembic upgrade head"
        ),
        explanation="0006 was generated while `app.models` did not import the wishlist module, so autogenerate saw no "
        "new table and wrote an empty migration; applied, it only moved `alembic_version`. Importing the model lets "
        "autogenerate see it, and a **new** revision creates the table on every database that already ran 0006 "
        "(editing 0006 would not: those databases never run it again). Had nobody applied 0006 yet, you could "
        "instead downgrade it, delete the file and generate it again.",
        wrong=(
            WrongAttempt(
                "course.edit_file(\n"
                '    "app/models/__init__.py",\n'
                '    \'from app.models.review import Review\\n\\n__all__ = ["Category", "Product", "Review"]\',\n'
                '    \'from app.models.review import Review\\nfrom app.models.wishlist import WishlistItem\\n\\n__all__ = ["Category", "Product", "Review", "WishlistItem"]\',\n'
                ")\n"
                "%alembic upgrade head",
                "will not run it again",
            ),
            WrongAttempt(
                "%sql CREATE TABLE wishlist_items (id serial PRIMARY KEY, product_id integer NOT NULL REFERENCES products (id) ON DELETE CASCADE, customer_email varchar(200) NOT NULL)",
                "no revision creates it",
            ),
        ),
        on_your_own=True,
    ),
]
