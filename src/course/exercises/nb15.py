"""Notebook 15: a restored backup brought to head (find its revision, stamp, upgrade), and a revision rebased onto a moved head."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from course import schemas
from course.exercises import Exercise, Verdict, WrongAttempt, not_started, probes, solved, wrong
from course.i18n import tr
from course.testing import pytest_process
from course.workspace import Workspace

NOTEBOOK = "15-a-long-lived-history"

VERSIONS = Path("app/migrations/versions")
MANIFEST = Path("app/migrations/released.sha256")
YOURS = VERSIONS / "0012b_add_product_weight.py"

# The schema at each revision depends only on the revision files: a walk is remembered by their contents.
_WALKS: dict[tuple[str, str], dict[str, schemas.Schema]] = {}


def _walk(ws: Workspace) -> dict[str, schemas.Schema]:
    digest = hashlib.sha256()
    for path in probes.revision_files(ws):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    key = (str(ws.path), digest.hexdigest())
    if key not in _WALKS:
        _WALKS[key] = schemas.schemas_by_revision(ws, schemas.database_name(ws, "check"))
    return _WALKS[key]


def _listed(revisions: list[str] | set[str]) -> str:
    return ", ".join(sorted(revisions)) or tr("nothing")


# 15.1 -----------------------------------------------------------------------------------------


def check_restored(ws: Workspace) -> Verdict:
    if "alembic_version" not in probes.tables(ws):
        return not_started(
            tr(
                "the database has no alembic_version yet: find the revision its schema matches "
                "(`schemas.matching_revisions`), then `%alembic stamp` it."
            )
        )
    stamped = probes.current(ws)
    by_revision = _walk(ws)
    heads = probes.heads(ws)
    schema = schemas.describe(ws.sync_url)
    matches = schemas.matching_revisions(schema, by_revision)
    if stamped == heads and all(by_revision[h] == schema for h in heads):
        products, stock = probes.rows(ws, "SELECT (SELECT count(*) FROM products), (SELECT count(*) FROM stock_levels)")[0]
        if products != 8 or stock != 8:
            return wrong(
                tr(
                    "the schema is at head, but the rows did not all come through ({products} products, {stock} stock levels, "
                    '8 of each expected): `course.restart_exercise("15.1")` and stamp before you upgrade.',
                    products=products,
                    stock=stock,
                )
            )
        return solved(
            tr("the database is at head and has head's schema, the 8 products and their stock carried up by the migrations.")
        )
    if not matches:
        return wrong(
            tr(
                "alembic_version says {stamped}, and the schema matches no revision of the history: "
                'something changed it by hand. `course.restart_exercise("15.1")` brings the restored backup back.',
                stamped=_listed(stamped),
            )
        )
    if stamped == {matches[0]} or stamped & set(matches):
        return wrong(
            tr(
                "{stamped} is the right stamp: now `%alembic upgrade head` runs what comes after it.",
                stamped=_listed(stamped),
            )
        )
    missing = (
        len(schemas.differences(schema, by_revision[max(stamped)]))
        if stamped <= by_revision.keys() and len(stamped) == 1
        else None
    )
    if missing:
        return wrong(
            tr(
                "alembic_version says {stamped}, but the schema is {match}'s ({count} differences from {stamped}'s): "
                "stamp {match} (`stamp` moves down as well as up), then upgrade head.",
                stamped=_listed(stamped),
                match=matches[0],
                count=missing,
            )
        )
    return wrong(
        tr(
            "alembic_version says {stamped}, but the schema is {match}'s: "
            "stamp {match} (`stamp` moves down as well as up), then upgrade head.",
            stamped=_listed(stamped),
            match=matches[0],
        )
    )


# 15.2 -----------------------------------------------------------------------------------------


def _released_changed() -> list[str]:
    changed = []
    for line in MANIFEST.read_text(encoding="utf-8").splitlines():
        if line.strip():
            digest, name = line.split(maxsplit=1)
            path = VERSIONS / name
            if not path.exists() or hashlib.sha256(path.read_bytes()).hexdigest() != digest:
                changed.append(name)
    return changed


DOWN_REVISION = re.compile(r"^down_revision\b[^=]*=\s*(.+)$", re.M)


def check_rebase(ws: Workspace) -> Verdict:
    if not MANIFEST.exists() or not YOURS.exists():
        return wrong(tr("the chapter's files are missing: run the cells of section 4 first (Run → Run All Above Selected Cell)."))
    for path in probes.revision_files(ws):
        error = probes.syntax_error(path.relative_to(ws.path))
        if error:
            return wrong(f"{error}.")
    changed = _released_changed()
    if changed:
        return wrong(
            tr(
                "{files} changed after its release (the manifest test fails): a released revision is never edited. "
                "Rebase your own 0012b, not the released 0012a.",
                files=_listed(changed),
            )
        )
    scripts = probes.script(ws)
    merges = [r.revision for r in scripts.walk_revisions() if r.is_merge_point]
    if merges:
        return wrong(
            tr(
                "{merges} is a merge revision. 0012b has never run outside your machine, so it can simply be "
                "rebased: delete the merge revision and set 0012b's down_revision to '0012a'.",
                merges=_listed(merges),
            )
        )
    heads = set(scripts.get_heads())
    if len(heads) > 1:
        return not_started(tr("the history still has two heads (0012a and 0012b): rebase 0012b onto 0012a."))
    if heads != {"0012b"}:
        return wrong(
            tr(
                "the head is {heads}, not your 0012b: your revision comes after the released 0012a.",
                heads=_listed(heads),
            )
        )
    down = scripts.get_revision("0012b").down_revision
    if down != "0012a":
        return wrong(tr("0012b revises {down!r}: its down_revision should be '0012a'.", down=down))
    if "Revises: 0012a" not in YOURS.read_text(encoding="utf-8"):
        return wrong(tr("0012b's down_revision is right; its docstring still says another parent: make it `Revises: 0012a` too."))
    if probes.current(ws) != {"0012b"}:
        return wrong(
            tr(
                "the history is a line again; the database is at {current}: `%alembic upgrade head`.",
                current=_listed(probes.current(ws)),
            )
        )
    if probes.column(ws, "products", "weight_grams") is None:
        return wrong(tr("the database says 0012b but has no products.weight_grams: was it stamped instead of upgraded?"))
    return solved(
        tr("0012b now follows 0012a: one line of history, no merge revision, the released files untouched, the database at head.")
    )


# 15.3 -----------------------------------------------------------------------------------------

SQUASH_TEST = Path("tests/test_squash.py")
BASELINE = VERSIONS / "0011_baseline.py"
FORGOTTEN = "    sa.CheckConstraint('price >= 0', name=op.f('ck_products_price_not_negative')),\n"


def _failure(output: str) -> str:
    """What pytest reports as failed, in a line."""
    lines = [line for line in output.splitlines() if line.startswith(("FAILED ", "ERROR "))]
    found = (
        lines[0].split(" ", 1)[1].replace(" - ", ": ", 1)
        if lines
        else next((line for line in reversed(output.splitlines()) if line.strip()), tr("no output"))
    )
    found = " ".join(found.split())
    return found if len(found) <= 220 else found[:220] + " …"


def check_squash_test(ws: Workspace) -> Verdict:
    if not SQUASH_TEST.exists() or not SQUASH_TEST.read_text(encoding="utf-8").strip():
        return not_started(tr("there is no {file} yet: write it with a `%%writefile {file}` cell.", file=SQUASH_TEST.as_posix()))
    error = probes.syntax_error(SQUASH_TEST)
    if error:
        return wrong(f"{error}.")
    if not BASELINE.exists() or not Path("squashed").is_dir():
        return wrong(tr("the squash of section 3 is missing: run the chapter's cells first (Run → Run All Above Selected Cell)."))
    real = pytest_process(ws, SQUASH_TEST.as_posix())
    if real.returncode == 5:
        return wrong(
            tr(
                "pytest finds no test in {file}: a test is a function whose name starts with `test_`.",
                file=SQUASH_TEST.as_posix(),
            )
        )
    if real.returncode != 0:
        return wrong(tr("your test fails on the real baseline: {failure}", failure=_failure(real.stdout)))
    original = BASELINE.read_bytes()
    if FORGOTTEN.encode() not in original:
        return wrong(
            tr(
                "the check cannot break {file} on purpose: it no longer declares the CHECK constraint "
                "`ck_products_price_not_negative`. Run section 3 again (Run → Run All Above Selected Cell).",
                file=BASELINE.name,
            )
        )
    try:
        BASELINE.write_bytes(original.replace(FORGOTTEN.encode(), b""))
        broken = pytest_process(ws, SQUASH_TEST.as_posix())
    finally:
        BASELINE.write_bytes(original)  # byte for byte: the manifest's checksum still holds
    if broken.returncode == 0:
        return wrong(
            tr(
                "your test still passes when the baseline forgets the CHECK constraint `ck_products_price_not_negative`: "
                "compare the schema of a database upgraded through the old chain (`squashed/`) with one upgraded to `0011` "
                "through the new one (`schemas.differences`)."
            )
        )
    return solved(
        tr("your test passes on the real baseline, and fails when the baseline forgets a constraint the old chain made.")
    )


SQUASH_SOLUTION = '''%%writefile tests/test_squash.py
"""The squashed baseline makes exactly the schema the old chain made."""
import asyncio

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from app.backend.DB_config import Settings
from course.schemas import describe, differences

MAIN_URL = Settings().DATABASE_URL_sync


def admin(sql: str) -> None:
    engine = create_engine(MAIN_URL, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with engine.connect() as conn:
        conn.execute(text(sql))
    engine.dispose()


def upgraded(name: str, revision: str, versions: str | None = None):
    """A new database `name`, upgraded to `revision` (through the files in `versions`, if given)."""
    admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin(f'CREATE DATABASE "{name}"')
    url = MAIN_URL.set(database=name)
    engine = create_async_engine(url.set(drivername="postgresql+asyncpg"), poolclass=NullPool)
    config = Config("alembic.ini")
    if versions:
        config.set_main_option("version_locations", versions)  # read the revisions from there instead
    config.attributes["connection"] = engine
    command.upgrade(config, revision)
    asyncio.run(engine.dispose())
    return url


def test_the_baseline_makes_the_schema_of_the_old_chain():
    old_name, new_name = f"{MAIN_URL.database[:50]}_old", f"{MAIN_URL.database[:50]}_new"
    try:
        old = upgraded(old_name, "head", versions="squashed")
        new = upgraded(new_name, "0011")
        found = differences(describe(old), describe(new), ("old chain", "baseline"))
        assert not found, "; ".join(found)
    finally:
        admin(f'DROP DATABASE IF EXISTS "{old_name}" WITH (FORCE)')
        admin(f'DROP DATABASE IF EXISTS "{new_name}" WITH (FORCE)')
'''

# The same file, without the comparison: it proves that both chains run, not that they agree.
SQUASH_RUNS_ONLY = SQUASH_SOLUTION.replace(
    """        found = differences(describe(old), describe(new), ("old chain", "baseline"))
        assert not found, "; ".join(found)
""",
    """        assert old and new
""",
)
# Compared with the shop's own database, which has moved on past 0011 (0012a's icon column).
SQUASH_AGAINST_THE_SHOP = SQUASH_SOLUTION.replace(
    """        old = upgraded(old_name, "head", versions="squashed")
""",
    """        old = MAIN_URL
""",
)

REBASE = (
    'course.edit_file(YOURS, "Revises: 0011", "Revises: 0012a")\n'
    'course.edit_file(YOURS, "down_revision: Union[str, Sequence[str], None] = \\"0011\\"", '
    '"down_revision: Union[str, Sequence[str], None] = \\"0012a\\"")\n'
    "# %%\n"
    "%alembic heads\n"
    "# %%\n"
    "%alembic upgrade head"
)

EXERCISES = [
    Exercise(
        id="15.1",
        title="Bring a restored backup to head",
        check=check_restored,
        solution=(
            "restored = schemas.describe(ws.sync_url)\n"
            'by_revision = schemas.schemas_by_revision(ws, schemas.database_name(ws, "walk"))\n'
            "print(schemas.matching_revisions(restored, by_revision))\n"
            "# %%\n"
            "%alembic stamp 0005\n"
            "# %%\n"
            "%alembic upgrade head"
        ),
        explanation="The comparison finds the one revision whose schema the backup has: `0005` (`0006` would have "
        "moved the stock into `stock_levels`, `0004` has no rename yet). `stamp 0005` writes that into `alembic_version` "
        "without running anything, and `upgrade head` then runs `0006` … `0010` for real, so the data migration of "
        "`0006` carries every stock number into `stock_levels`. Stamping `head` instead would have skipped all of them.",
        wrong=(
            WrongAttempt("%alembic stamp head", "the schema is 0005's"),
            WrongAttempt("%alembic stamp 0005", "now `%alembic upgrade head`"),
        ),
    ),
    Exercise(
        id="15.2",
        title="Rebase your revision onto the moved head",
        check=check_rebase,
        solution=REBASE,
        explanation="Your `0012b` has run nowhere but on your machine, so nothing records it: changing its "
        "`down_revision` (and the `Revises:` line that documents it) rewrites the history as if you had started after "
        "`0012a`. The released files keep their checksums, no merge revision is needed, and `upgrade head` on a "
        "database at `0012a` runs just `0012b`.",
        wrong=(
            WrongAttempt('%alembic merge -m "merge icon and weight" heads --rev-id 0013\n# %%\n%alembic upgrade head', "rebased"),
            WrongAttempt(
                'course.edit_file(VERSIONS / "0012a_add_category_icon.py", "down_revision: Union[str, Sequence[str], None] = \\"0011\\"", '
                '"down_revision: Union[str, Sequence[str], None] = \\"0012b\\"")',
                "changed after its release",
            ),
        ),
    ),
    Exercise(
        id="15.3",
        title="Make the squash check a test",
        check=check_squash_test,
        solution=SQUASH_SOLUTION,
        explanation="Two throw-away databases: one upgraded through the old chain (`version_locations` pointed at "
        "`squashed/`, where section 3 put the old files), one upgraded to `0011` through the new history, then the "
        "same `describe` and `differences` as in section 2. Comparing at `0011`, not at head, keeps the test about the "
        "squash: revisions added after it are not in the old chain. The check breaks the baseline on purpose (it "
        "drops the CHECK constraint), and only a test that compares the two schemas fails then.",
        wrong=(
            WrongAttempt(SQUASH_RUNS_ONLY, "still passes when the baseline forgets"),
            WrongAttempt(SQUASH_AGAINST_THE_SHOP, "fails on the real baseline"),
        ),
        on_your_own=True,
    ),
]
