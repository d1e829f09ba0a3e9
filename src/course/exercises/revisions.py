"""Check helpers for chapters that evolve a schema (07-09): what a revision's functions do, whether the
database is at head, what ``alembic check`` finds, a downgrade-and-back round trip."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from pathlib import Path

from course.alembic_runner import run_alembic
from course.exercises import Verdict, probes, wrong
from course.i18n import tr
from course.workspace import Workspace

PRODUCT = "app/models/product.py"
CATEGORY = "app/models/category.py"


def text_of(ws: Workspace, relative: str) -> str:
    path = ws.path / relative
    return path.read_text(encoding="utf-8") if path.exists() else ""


def name_of(ws: Workspace, path: Path) -> str:
    """A workspace file as the learner writes it: ``app/migrations/versions/…``."""
    try:
        return path.relative_to(ws.path).as_posix()
    except ValueError:
        return path.as_posix()


def unreadable(ws: Workspace, *relatives: str) -> Verdict | None:
    """A wrong verdict when a model file or a revision file does not parse (nothing else can be checked then)."""
    for path in [ws.path / r for r in relatives] + probes.revision_files(ws):
        if path.exists() and (error := probes.syntax_error(path)):
            return wrong(tr("{error}: fix it first.", error=error))
    return None


def function_code(path: Path, name: str) -> str:
    """The code of the top-level function ``name`` in a Python file, comments and docstring left out ('' if none)."""
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant):
                body = body[1:]  # the docstring ("Upgrade schema.") says nothing about what runs
            return "\n".join(ast.unparse(statement) for statement in body)
    return ""


def revisions_where(ws: Workspace, pattern: str, function: str = "upgrade") -> list[Path]:
    """Revision files whose ``upgrade()`` (or ``downgrade()``) code matches the regex ``pattern``."""
    found = []
    for path in probes.revision_files(ws):
        if re.search(pattern, function_code(path, function), re.IGNORECASE | re.DOTALL):
            found.append(path)
    return found


def not_at_head(ws: Workspace) -> str | None:
    """None when ``alembic_version`` is at the one head; otherwise what is off, in words."""
    heads = probes.heads(ws)
    current = probes.current(ws)
    if len(heads) > 1:
        return tr(
            "the history has {count} heads ({heads}): there should be one", count=len(heads), heads=", ".join(sorted(heads))
        )
    if current == heads:
        return None
    head = next(iter(heads), tr("(none)"))
    return tr(
        "`alembic_version` is at {current}, not at the head {head}",
        current=", ".join(sorted(current)) or tr("no revision"),
        head=head,
    )


def pending(ws: Workspace) -> str:
    """Why a revision that is there has not reached the database yet, and what to do about it."""
    off = not_at_head(ws)
    if off is None:
        return tr("yet the database is at head: does its upgrade() really do that?")
    return tr("{problem}. Run `%alembic upgrade head` (and read its error, if it fails)", problem=off)


def error_line(output: str) -> str:
    """The line of a failed command that says what went wrong (the exception), shortened."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    errors = [line for line in lines if re.match(r"^[\w.]*(Error|Exception|Violation|FAILED)\b", line)]
    return shorten(errors[-1] if errors else (lines[-1] if lines else tr("no output")))


def shorten(text: str, limit: int = 220) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def disagreement(ws: Workspace) -> str | None:
    """What ``alembic check`` finds between the models and the database, or None if it passes."""
    proc = run_alembic(ws.path, ["check"], check=False)
    if proc.returncode == 0:
        return None
    detected = [
        line.split("] Detected ", 1)[1].strip()
        for line in proc.stdout.splitlines()
        if "[alembic.autogenerate" in line and "] Detected " in line
    ]
    return shorten("; ".join(detected)) if detected else error_line(proc.stdout)


def revision_id(ws: Workspace, path: Path) -> tuple[str, str | None]:
    """(revision, down_revision) of a revision file, as Alembic reads them."""
    for script in probes.script(ws).walk_revisions():
        if Path(script.path).resolve() == path.resolve():
            down = script.down_revision
            return script.revision, down if isinstance(down, str) or down is None else ",".join(down)
    raise LookupError(tr("Alembic does not list {file} as a revision", file=name_of(ws, path)))


def round_trip(ws: Workspace, path: Path, below: Callable[[], str | None]) -> str | None:
    """Downgrade to just below the revision in ``path``, ask ``below`` what is wrong there, upgrade to head again.

    Returns what went wrong (a failing command, or ``below``'s answer), or None.
    """
    _, down = revision_id(ws, path)
    target = down or "base"
    proc = run_alembic(ws.path, ["downgrade", target], check=False)
    problem = (
        tr("`alembic downgrade {target}` fails: {error}", target=target, error=error_line(proc.stdout))
        if proc.returncode
        else below()
    )
    up = run_alembic(ws.path, ["upgrade", "head"], check=False)
    if up.returncode and problem is None:
        problem = tr("after the downgrade, `alembic upgrade head` fails: {error}", error=error_line(up.stdout))
    return problem
