"""Notebook 12: tests that can fail (a downgrade that does nothing, one that loses numbers), and a change shipped through the pipeline."""

from __future__ import annotations

import hashlib
import re
import subprocess
from pathlib import Path

from course.exercises import Exercise, Verdict, WrongAttempt, not_started, probes, solved, wrong
from course.i18n import tr
from course.testing import pytest_process
from course.workspace import Workspace

NOTEBOOK = "12-testing-migrations"

REV2 = Path("app/migrations/versions/0002_add_category_description.py")
REV3 = Path("app/migrations/versions/0003_split_stock_into_stock_levels.py")


# pytest's verdict depends only on the workspace's files (every test builds a throw-away database),
# so a run is remembered by their contents: checking again without a change does not run it again.
_RUNS: dict[tuple[str, ...], subprocess.CompletedProcess[str]] = {}
CACHES = {"__pycache__", ".pytest_cache", ".ruff_cache", ".ipynb_checkpoints"}


def _fingerprint(ws: Workspace) -> str:
    digest = hashlib.sha256()
    for path in sorted(ws.path.rglob("*")):
        if path.is_file() and not CACHES.intersection(path.relative_to(ws.path).parts):
            digest.update(path.relative_to(ws.path).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _pytest(ws: Workspace, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m pytest -q -rA <args>`` in the workspace, as ``course.run_pytest()`` does."""
    key = (str(ws.path), _fingerprint(ws), *args)
    if key in _RUNS:
        return _RUNS[key]
    proc = pytest_process(ws, *args)
    if proc.returncode in (0, 1):  # passed, or tests failed; not a crash or an interruption
        _RUNS[key] = proc
    return proc


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + " …"


def _failures(proc: subprocess.CompletedProcess[str]) -> str:
    """What pytest reports as failed, in a line or two."""
    lines = proc.stdout.splitlines()
    failed = [line for line in lines if line.startswith(("FAILED ", "ERROR "))]
    if failed:
        return "; ".join(_short(line.split(" ", 1)[1].replace(" - ", ": ", 1)) for line in failed[:2])
    if proc.returncode == 5:
        return tr("pytest collected no test")
    rest = [line for line in proc.stdout.splitlines() if line.strip()]  # stdout and stderr together
    return _short(rest[-1]) if rest else tr("exit code {code}", code=proc.returncode)


def _test_catches(ws: Workspace, test_file: str, revision: Path, good: str, bad: str, *, broken: str, hint: str) -> Verdict:
    """Run ``test_file`` on the real revisions, then once with ``good`` replaced by ``bad`` in ``revision``."""
    test = Path(test_file)
    if not test.exists() or not test.read_text(encoding="utf-8").strip():
        return not_started(tr("there is no {file} yet: write it with a `%%writefile {file}` cell.", file=test_file))
    error = probes.syntax_error(test)
    if error:
        return wrong(f"{error}.")
    real = _pytest(ws, test_file)
    if real.returncode == 5:
        return wrong(tr("pytest finds no test in {file}: a test is a function whose name starts with `test_`.", file=test_file))
    if real.returncode != 0:
        return wrong(
            tr(
                "your test fails on the real {revision}: {failures}",
                revision=revision.stem[:4],
                failures=_failures(real),
            )
        )
    original = revision.read_text(encoding="utf-8")
    if good not in original:
        return wrong(
            tr(
                "the check cannot break {file} on purpose: it no longer contains `{code}`. "
                "Run the chapter's cells again (Run → Run All Above Selected Cell).",
                file=revision.name,
                code=good.strip(),
            )
        )
    try:
        revision.write_text(original.replace(good, bad), encoding="utf-8")
        on_broken = _pytest(ws, test_file)
    finally:
        revision.write_text(original, encoding="utf-8")
    if on_broken.returncode == 0:
        return wrong(tr("your test still passes when {broken}: {hint}", broken=broken, hint=hint))
    return solved(
        tr(
            "your test passes on the real {revision}, and fails when {broken}.",
            revision=revision.stem[:4],
            broken=broken,
        )
    )


# 12.1 -----------------------------------------------------------------------------------------


def check_reversible(ws: Workspace) -> Verdict:
    test = Path("tests/test_exercise_reversible.py")
    goes_down = test.exists() and "migrate_down" in test.read_text(encoding="utf-8")
    return _test_catches(
        ws,
        "tests/test_exercise_reversible.py",
        REV2,
        "    op.drop_column('categories', 'description')\n",
        "    pass\n",
        broken=tr("0002's downgrade does nothing"),
        hint=tr("after `migrate_down_one()`, assert that the column `description` is gone.")
        if goes_down
        else tr("it never migrates down (`alembic_runner.migrate_down_one()`), so it cannot see what the downgrade does."),
    )


# 12.2 -----------------------------------------------------------------------------------------


def check_downgrade_data(ws: Workspace) -> Verdict:
    return _test_catches(
        ws,
        "tests/test_exercise_downgrade_data.py",
        REV3,
        "values(stock=sa.func.coalesce(quantity, 0))",
        "values(stock=0)",
        broken=tr("0003's downgrade sets every stock to 0"),
        hint=tr(
            "put rows with known stock numbers in before `0003`, and after the downgrade compare `products.stock` with them."
        ),
    )


# 12.3 -----------------------------------------------------------------------------------------

ADDS_SKU = re.compile(r"add_column\(\s*['\"]products['\"],\s*sa\.Column\(\s*['\"]sku['\"]")
UNIQUE_SKU = """
SELECT count(*) FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
WHERE i.indrelid = 'products'::regclass AND i.indisunique AND i.indnatts = 1 AND a.attname = 'sku'
"""


def check_ship_sku(ws: Workspace) -> Verdict:
    model = Path("app/models/product.py")
    for path in (model, *(p.relative_to(ws.path) for p in probes.revision_files(ws))):
        error = probes.syntax_error(path)
        if error:
            return wrong(f"{error}.")
    revision = next(
        (p for p in probes.revision_files(ws) if ADDS_SKU.search(p.read_text(encoding="utf-8").split("def downgrade")[0])), None
    )
    if revision is None:
        if not re.search(r"^\s+sku\s*:", model.read_text(encoding="utf-8"), re.M):
            return not_started(tr("no revision adds `products.sku` yet, and the Product model has no `sku`."))
        return wrong(tr("the Product model has a `sku`, but no revision adds the column: autogenerate one."))
    if probes.column(ws, "products", "sku") is None:
        return wrong(
            tr(
                "{file} adds the column, but the shop's database does not have it yet: "
                "deploy (`alembic upgrade head`) once the tests are green.",
                file=revision.name,
            )
        )
    if probes.rows(ws, UNIQUE_SKU)[0][0] == 0:
        return wrong(
            tr(
                "`products.sku` is not unique: two products could share a SKU. "
                "`unique=True` in the model, and a revision that creates the constraint."
            )
        )
    ok, last = probes.alembic(ws, "current", "--check-heads")
    if not ok:
        return wrong(tr("the gate `alembic current --check-heads` fails: {output}", output=_short(last)))
    ok, last = probes.alembic(ws, "check")
    if not ok:
        return wrong(tr("the gate `alembic check` fails: {output}", output=_short(last)))
    suite = _pytest(ws)
    if suite.returncode != 0:
        return wrong(tr("the test suite is red (`pytest`): {failures}", failures=_failures(suite)))
    return solved(tr("{file} is tested (`pytest` is green), deployed, and both gates pass.", file=revision.name))


STAIRWAY_0004 = '''%%replace tests/test_stairway.py test_stairway
def test_stairway(alembic_runner):
    """Every revision: upgrade one, downgrade one, upgrade again."""
    revisions = alembic_runner.history.revisions[1:-1]  # without the "base" and "heads" markers
    assert revisions == ["0001", "0002", "0003", "0004"]
    for revision in revisions:
        assert alembic_runner.migrate_up_one() == revision
        alembic_runner.migrate_down_one()
        assert alembic_runner.migrate_up_one() == revision
'''

EXERCISES = [
    Exercise(
        id="12.1",
        title="Prove that 0002 is reversible",
        check=check_reversible,
        solution="""%%writefile tests/test_exercise_reversible.py
from sqlalchemy import text

COLUMNS = text(
    "SELECT column_name FROM information_schema.columns "
    "WHERE table_schema = current_schema() AND table_name = 'categories'"
)


def columns(db):
    with db.connect() as conn:
        return set(conn.execute(COLUMNS).scalars())


def test_0002_is_reversible(alembic_runner, db):
    alembic_runner.migrate_up_to("0002")
    assert "description" in columns(db)
    alembic_runner.migrate_down_one()
    assert alembic_runner.current == "0001"
    assert "description" not in columns(db)
""",
        explanation="The test asserts on both sides of the step: the column is there after `0002`, and gone after "
        "one step down. The second assertion is the one that matters: the check breaks `0002`'s downgrade on purpose "
        "(as section 4 did), and only a test that looks at the schema after the downgrade fails then.",
        wrong=(
            WrongAttempt(
                """%%writefile tests/test_exercise_reversible.py
from sqlalchemy import text


def test_0002_is_reversible(alembic_runner, db):
    alembic_runner.migrate_up_to("0002")
    with db.connect() as conn:
        found = set(conn.execute(text("SELECT column_name FROM information_schema.columns WHERE table_name = 'categories'")).scalars())
    assert "description" in found
    alembic_runner.migrate_down_one()
    assert alembic_runner.current == "0001"
""",
                "still passes when 0002's downgrade does nothing",
            ),
            WrongAttempt(
                """%%writefile tests/test_exercise_reversible.py
def test_0002_is_reversible(alembic_runner):
    alembic_runner.migrate_up_to("0002")
    alembic_runner.migrate_down_one()
    assert alembic_runner.current == "0002"
""",
                "fails on the real 0002",
            ),
        ),
    ),
    Exercise(
        id="12.2",
        title="The way back keeps the numbers",
        check=check_downgrade_data,
        solution="""%%writefile tests/test_exercise_downgrade_data.py
from sqlalchemy import text

STOCK = {1: 12, 2: 0, 3: 7}


def test_0003_downgrade_restores_stock(alembic_runner, db):
    alembic_runner.migrate_up_before("0003")
    alembic_runner.insert_into("products", [
        {"id": pid, "name": f"P{pid}", "slug": f"p{pid}", "price": 100, "stock": stock,
         "rating": 0.0, "is_active": True}
        for pid, stock in STOCK.items()
    ])
    alembic_runner.migrate_up_one()
    alembic_runner.migrate_down_one()
    assert alembic_runner.current == "0002"
    with db.connect() as conn:
        assert dict(conn.execute(text("SELECT id, stock FROM products")).all()) == STOCK
""",
        explanation="Rows with known numbers go in before `0003` (zeros included), `0003` moves them into "
        "`stock_levels`, and its downgrade must bring every number back into `products.stock`. Comparing the whole "
        "`id -> stock` mapping catches a downgrade that writes `0` everywhere, which a schema test never would.",
        wrong=(
            WrongAttempt(
                """%%writefile tests/test_exercise_downgrade_data.py
from sqlalchemy import text


def test_0003_downgrade_restores_stock(alembic_runner, db):
    alembic_runner.migrate_up_to("0003")
    alembic_runner.migrate_down_one()
    with db.connect() as conn:
        found = set(conn.execute(text("SELECT column_name FROM information_schema.columns WHERE table_name = 'products'")).scalars())
    assert "stock" in found
""",
                "sets every stock to 0",
            ),
            WrongAttempt(
                """%%writefile tests/test_exercise_downgrade_data.py
def test_0003_downgrade_restores_stock(alembic_runner):
    alembic_runner.migrate_up_before("0003")
    alembic_runner.insert_into("products", [
        {"id": 1, "name": "P1", "slug": "p1", "price": 100, "stock": 12, "rating": 0.0, "is_active": True}
    ])
    alembic_runner.migrate_down_one()
    assert alembic_runner.current == "0002"
""",
                "fails on the real 0003",
            ),
        ),
    ),
    Exercise(
        id="12.3",
        title="Ship products.sku through the pipeline",
        check=check_ship_sku,
        solution=(
            "%%insert_after app/models/product.py Product.slug\n"
            "    sku: Mapped[str | None] = mapped_column(String(64), unique=True)\n"
            "# %%\n"
            '%alembic revision --autogenerate -m "add products.sku" --rev-id 0004\n'
            "# %%\n" + STAIRWAY_0004 + "# %%\n"
            "course.run_pytest()\n"
            "# %%\n"
            "%alembic upgrade head\n"
            'course.alembic("current --check-heads", info=False, exit_code=True)\n'
            'course.alembic("check", info=False, exit_code=True)'
        ),
        explanation="The model and its revision come together; then the suite runs before anything touches the "
        "shop's database. It is red at first: the stairway test pins the list of revisions, and `0004` is new, so "
        "the list grows by one (pinning it is deliberate: a revision that appears unannounced fails the build). "
        "Green, the deploy runs `upgrade head`, and the two gates confirm that the database is at head and that "
        "the models match it.",
        wrong=(
            WrongAttempt(
                "%%insert_after app/models/product.py Product.slug\n"
                "    sku: Mapped[str | None] = mapped_column(String(64), unique=True)\n"
                "# %%\n"
                '%alembic revision --autogenerate -m "add products.sku" --rev-id 0004\n'
                "%alembic upgrade head",
                "test_stairway",
            ),
            WrongAttempt(
                "%%insert_after app/models/product.py Product.slug\n"
                "    sku: Mapped[str | None] = mapped_column(String(64))\n"
                "# %%\n"
                '%alembic revision --autogenerate -m "add products.sku" --rev-id 0004\n'
                "# %%\n" + STAIRWAY_0004 + "# %%\n"
                "%alembic upgrade head",
                "not unique",
            ),
        ),
        on_your_own=True,
    ),
]
