"""Changing a workspace file from a notebook, safely: every edit can be run again.

* ``%%replace PATH NAME`` (a cell magic): the cell's body becomes the definition ``NAME`` of
  ``PATH`` (a function, class, method, ``Class.attribute``, assignment, or ``# region`` name), so
  the learner reads the new code as code;
* ``%%insert_after PATH NAME``: the body goes right after ``NAME``;
* ``edit_file(path, old, new)``: replace a piece of text.

``PATH`` may be a pattern such as ``app/migrations/versions/*_add_weight.py`` (exactly one file
must match). Each shows the diff it made; run again, it says the change is already there and
shows the file's difference from before, instead of failing.
"""

from __future__ import annotations

import re
from pathlib import Path

from course.i18n import N_, tr
from course.show import excerpt_span, show_diff


class EditError(ValueError):
    """An edit that cannot be made; shown in a notebook as its message only."""

    def _render_traceback_(self) -> list[str]:
        return [str(self)]


START_OVER = N_(
    "Run the notebook's setup cell again to start the chapter over, or make the change in the editor."
)  # shown through tr()


def resolve(path: str | Path) -> Path:
    """``path``, or the one file its pattern matches (relative to the current folder: the workspace)."""
    text = str(path)
    if not any(ch in text for ch in "*?["):
        found = Path(text)
        if not found.exists():
            raise EditError(
                tr("There is no file {path} in this workspace. {start_over}", path=found.as_posix(), start_over=tr(START_OVER))
            )
        return found
    matches = sorted(Path(".").glob(text))
    if len(matches) != 1:
        names = ", ".join(m.as_posix() for m in matches) or tr("none")
        raise EditError(
            tr(
                "{pattern} should match exactly one file; it matches {count} ({names}).",
                pattern=text,
                count=len(matches),
                names=names,
            )
        )
    return matches[0]


def edit_file(path: str | Path, old: str, new: str, *, count: int = 1) -> None:
    """Replace ``old`` by ``new`` in a file (``count`` times) and show the diff; a second run says it is done."""
    path = resolve(path)
    before = path.read_text(encoding="utf-8")
    found = before.count(old)
    if not new and found == 0:  # a deletion that already happened
        print(tr("Already done: {path} no longer has that text (this cell ran before).", path=path.as_posix()))
        return
    # Done already: the new text is there, and every occurrence of the old one is inside it.
    if new and new != old and before.count(new) >= count and found <= before.count(new) * new.count(old):
        print(tr("Already done: {path} has this change (this cell ran before). The change:", path=path.as_posix()))
        show_diff(before.replace(new, old), before, path.as_posix())
        return
    if found == count:
        after = before.replace(old, new)
        path.write_text(after, encoding="utf-8")
        show_diff(before, after, path.as_posix())
        return
    raise EditError(
        tr(
            "Cannot make this edit to {path}: the text to replace appears {found} time(s), not {count} "
            "(was the file changed by hand?). {start_over}",
            path=path.as_posix(),
            found=found,
            count=count,
            start_over=tr(START_OVER),
        )
    )


def _body(cell: str) -> str:
    return cell.strip("\n") + "\n"


def replace_definition(path: str | Path, name: str, body: str) -> None:
    """The definition ``name`` in ``path`` becomes ``body``; shows the diff."""
    path = resolve(path)
    before = path.read_text(encoding="utf-8")
    lines = before.splitlines(keepends=True)
    try:
        first, last = _span(path, lines, name)
    except EditError:
        if _body(body) in before:  # the body renamed NAME, and this cell ran before
            print(tr("Already done: {path} has this code (this cell ran before).", path=path.as_posix()))
            return
        raise
    after = "".join(lines[:first]) + _body(body) + "".join(lines[last:])
    if after == before:
        print(tr("No change: {name} in {path} already reads like this.", name=name, path=path.as_posix()))
        return
    path.write_text(after, encoding="utf-8")
    show_diff(before, after, path.as_posix())


def insert_after(path: str | Path, name: str, body: str) -> None:
    """Insert ``body`` right after the definition ``name`` in ``path``; shows the diff."""
    path = resolve(path)
    before = path.read_text(encoding="utf-8")
    lines = before.splitlines(keepends=True)
    _, last = _span(path, lines, name)
    body = body.rstrip("\n") + "\n"  # leading blank lines stay: they separate a new def from the one above
    if "".join(lines[last:]).lstrip("\n").startswith(body.lstrip("\n")):
        print(tr("Already done: {path} has these lines after {name} (this cell ran before).", path=path.as_posix(), name=name))
        return
    after = "".join(lines[:last]) + body + "".join(lines[last:])
    path.write_text(after, encoding="utf-8")
    show_diff(before, after, path.as_posix())


def _span(path: Path, lines: list[str], name: str) -> tuple[int, int]:
    plain = [line.rstrip("\n") for line in lines]
    marker = re.compile(rf"^\s*#\s*region\s+{re.escape(name)}\s*$")
    start = next((i for i, line in enumerate(plain) if marker.match(line)), None)
    if start is not None:  # a marked region: its inside
        end = next((i for i in range(start + 1, len(plain)) if re.match(r"^\s*#\s*endregion\b", plain[i])), len(plain))
        return start + 1, end
    try:
        return excerpt_span(path, plain, name)
    except SyntaxError as error:
        raise EditError(
            tr(
                "{path} does not parse (line {line}: {error}); fix it first.",
                path=path.as_posix(),
                line=error.lineno,
                error=error.msg,
            )
        ) from None
    except ValueError as error:
        raise EditError(str(error)) from None


def parse_magic_line(line: str) -> tuple[str, str]:
    parts = line.split()
    if len(parts) != 2:
        raise EditError(tr("Write the file and the name: %%replace app/models/product.py Product.price"))
    return parts[0], parts[1]
