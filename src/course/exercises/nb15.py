"""Notebook 15: a restored backup brought to head (find its revision, stamp, upgrade), and a revision rebased onto a moved head."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from course import schemas
from course.exercises import Exercise, Verdict, WrongAttempt, not_started, probes, solved, wrong
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
    return ", ".join(sorted(revisions)) or "nothing"


# 15.1 -----------------------------------------------------------------------------------------


def check_restored(ws: Workspace) -> Verdict:
    if "alembic_version" not in probes.tables(ws):
        return not_started(
            "the database has no alembic_version yet: find the revision its schema matches "
            "(`schemas.matching_revisions`), then `%alembic stamp` it."
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
                f"the schema is at head, but the rows did not all come through ({products} products, {stock} stock levels, "
                '8 of each expected): `course.restart_exercise("15.1")` and stamp before you upgrade.'
            )
        return solved(
            "the database is at head and has head's schema, the 8 products and their stock carried up by the migrations."
        )
    if not matches:
        return wrong(
            f"alembic_version says {_listed(stamped)}, and the schema matches no revision of the history: "
            'something changed it by hand. `course.restart_exercise("15.1")` brings the restored backup back.'
        )
    if stamped == {matches[0]} or stamped & set(matches):
        return wrong(f"{_listed(stamped)} is the right stamp: now `%alembic upgrade head` runs what comes after it.")
    missing = (
        len(schemas.differences(schema, by_revision[max(stamped)]))
        if stamped <= by_revision.keys() and len(stamped) == 1
        else None
    )
    gap = f" ({missing} differences from {_listed(stamped)}'s)" if missing else ""
    return wrong(
        f"alembic_version says {_listed(stamped)}, but the schema is {matches[0]}'s{gap}: "
        f"stamp {matches[0]} (`stamp` moves down as well as up), then upgrade head."
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
        return wrong("the chapter's files are missing: run the cells of section 4 first (Run → Run All Above Selected Cell).")
    for path in probes.revision_files(ws):
        error = probes.syntax_error(path.relative_to(ws.path))
        if error:
            return wrong(f"{error}.")
    changed = _released_changed()
    if changed:
        return wrong(
            f"{_listed(changed)} changed after its release (the manifest test fails): a released revision is never edited. "
            "Rebase your own 0012b, not the released 0012a."
        )
    scripts = probes.script(ws)
    merges = [r.revision for r in scripts.walk_revisions() if r.is_merge_point]
    if merges:
        return wrong(
            f"{_listed(merges)} is a merge revision. 0012b has never run outside your machine, so it can simply be "
            "rebased: delete the merge revision and set 0012b's down_revision to '0012a'."
        )
    heads = set(scripts.get_heads())
    if len(heads) > 1:
        return not_started("the history still has two heads (0012a and 0012b): rebase 0012b onto 0012a.")
    if heads != {"0012b"}:
        return wrong(f"the head is {_listed(heads)}, not your 0012b: your revision comes after the released 0012a.")
    down = scripts.get_revision("0012b").down_revision
    if down != "0012a":
        return wrong(f"0012b revises {down!r}: its down_revision should be '0012a'.")
    if "Revises: 0012a" not in YOURS.read_text(encoding="utf-8"):
        return wrong("0012b's down_revision is right; its docstring still says another parent: make it `Revises: 0012a` too.")
    if probes.current(ws) != {"0012b"}:
        return wrong(f"the history is a line again; the database is at {_listed(probes.current(ws))}: `%alembic upgrade head`.")
    if probes.column(ws, "products", "weight_grams") is None:
        return wrong("the database says 0012b but has no products.weight_grams: was it stamped instead of upgraded?")
    return solved(
        "0012b now follows 0012a: one line of history, no merge revision, the released files untouched, the database at head."
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
]
