"""Showing files, folders and diffs in a notebook, from Python (no ``!cat``, ``!ls`` or ``!tree``)."""

from __future__ import annotations

import ast
import difflib
import re
from pathlib import Path

from IPython.display import Markdown, display

from course.i18n import N_, tr

LANGUAGES = {".py": "python", ".ini": "ini", ".mako": "mako", ".toml": "toml", ".sql": "sql", ".md": "markdown"}


def _fence(body: str, language: str = "") -> Markdown:
    ticks = "````" if "```" in body else "```"
    return Markdown(f"{ticks}{language}\n{body.rstrip()}\n{ticks}")


def show_file(
    path: str | Path, name: str | None = None, *, through: str | None = None, region: str | None = None, grep: str | None = None
) -> None:
    """Display a file, or the part of it you name.

    * ``name``: in Python, a function, a class, a method (``"Class.method"``), an assignment, or
      ``"__doc__"`` (the module docstring), with the comments right above it; in an INI file, an
      option (its paragraph, comments included, commented-out options too) or a ``"[section]"``;
    * ``through``: a second name, to show everything from ``name`` to the end of this one;
    * ``region``: the lines between ``# region <region>`` and ``# endregion``;
    * ``grep``: only the lines that contain this text.

    Excerpts are found by name, so they stay right when the file above them changes.
    """
    path = Path(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    if name is not None:
        first, _ = excerpt_span(path, lines, name)
        _, last = excerpt_span(path, lines, through or name)
        lines = lines[first:last]
    elif region is not None:
        lines = _region(lines, region, path)
    if grep is not None:
        lines = [line for line in lines if grep in line]
    display(Markdown(f"**`{path.as_posix()}`**"))
    display(_fence("\n".join(lines), LANGUAGES.get(path.suffix, "")))


def excerpt_span(path: Path, lines: list[str], name: str) -> tuple[int, int]:
    """0-based [first, last) lines of ``name`` in the file ``path``."""
    if path.suffix == ".py":
        return _python_span(lines, name, path)
    return _ini_span(lines, name, path)


NOT_FOUND = {  # shown through tr()
    "definition": N_("no definition named {name!r} in {path}.{hint}"),
    "section": N_("no section named {name!r} in {path}.{hint}"),
    "option": N_("no option named {name!r} in {path}.{hint}"),
}


def _not_found(kind: str, name: str, path: Path, known: list[str]) -> ValueError:
    hint = tr(" Names there: {names}.", names=", ".join(known)) if known else ""
    return ValueError(tr(NOT_FOUND[kind], name=name, path=path.as_posix(), hint=hint))


def _python_span(lines: list[str], name: str, path: Path) -> tuple[int, int]:
    tree = ast.parse("\n".join(lines))
    if name == "__doc__":
        node = tree.body[0] if tree.body and isinstance(tree.body[0], ast.Expr) else None
        if node is None or not isinstance(getattr(node, "value", None), ast.Constant):
            raise ValueError(tr("{path} has no module docstring", path=path.as_posix()))
        return node.lineno - 1, node.end_lineno or node.lineno
    body: list[ast.stmt] = tree.body
    found: ast.stmt | None = None
    for part in name.split("."):
        named = {_name_of(n): n for n in body if _name_of(n)}
        if part not in named:
            raise _not_found("definition", name, path, sorted(named))
        found = named[part]
        body = getattr(found, "body", [])
    assert found is not None
    decorators = getattr(found, "decorator_list", [])
    first = min([found.lineno, *(d.lineno for d in decorators)]) - 1
    while first > 0 and lines[first - 1].lstrip().startswith("#"):  # the comments right above belong to it
        first -= 1
    last = found.end_lineno or found.lineno
    indent = _indent(lines[found.lineno - 1])
    while last < len(lines) and lines[last].lstrip().startswith("#") and _indent(lines[last]) > indent:
        last += 1  # comments closing its body (e.g. Alembic's "# ### end Alembic commands ###")
    return first, last


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _name_of(node: ast.stmt) -> str | None:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return node.name
    if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
        return node.targets[0].id
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return node.target.id
    return None


def _ini_span(lines: list[str], name: str, path: Path) -> tuple[int, int]:
    if name.startswith("["):
        starts = [i for i, line in enumerate(lines) if line.strip() == name]
        if not starts:
            raise _not_found("section", name, path, [line.strip() for line in lines if line.startswith("[")])
        end = next((i for i in range(starts[0] + 1, len(lines)) if lines[i].startswith("[")), len(lines))
        while end > starts[0] + 1 and not lines[end - 1].strip():
            end -= 1
        return starts[0], end
    option = re.compile(rf"^#?\s*{re.escape(name)}\s*=")
    hits = [i for i, line in enumerate(lines) if option.match(line)]
    if not hits:
        raise _not_found("option", name, path, [])
    first = last = hits[0]  # the paragraph (lines between blank lines) holding the option
    while first > 0 and lines[first - 1].strip():
        first -= 1
    while last + 1 < len(lines) and lines[last + 1].strip() and not lines[last + 1].startswith("["):
        last += 1
    return first, last + 1


def _region(lines: list[str], region: str, path: Path) -> list[str]:
    marker = re.compile(rf"^\s*#\s*region\s+{re.escape(region)}\s*$")
    start = next((i for i, line in enumerate(lines) if marker.match(line)), None)
    if start is None:
        raise ValueError(tr("no '# region {region}' marker in {path}", region=region, path=path.as_posix()))
    end = next((i for i in range(start + 1, len(lines)) if re.match(r"^\s*#\s*endregion\b", lines[i])), len(lines))
    return lines[start + 1 : end]


def show_diff(old: str, new: str, name: str = "file") -> None:
    """Display a unified diff between two texts."""
    diff = difflib.unified_diff(old.splitlines(), new.splitlines(), f"a/{name}", f"b/{name}", lineterm="", n=2)
    body = "\n".join(diff)
    display(_fence(body or tr("(no change)"), "diff"))


def show_tree(path: str | Path = ".", *, skip: tuple[str, ...] = ("__pycache__", ".env")) -> None:
    """Display a folder as a tree (hidden files and caches left out)."""
    root = Path(path)
    out = [root.resolve().name + "/" if str(path) == "." else root.as_posix() + "/"]

    def walk(folder: Path, prefix: str) -> None:
        entries = sorted(
            (p for p in folder.iterdir() if p.name not in skip and not p.name.startswith(".")),
            key=lambda p: (p.is_file(), p.name),
        )
        for i, entry in enumerate(entries):
            last = i == len(entries) - 1
            out.append(f"{prefix}{'└── ' if last else '├── '}{entry.name}{'/' if entry.is_dir() else ''}")
            if entry.is_dir():
                walk(entry, prefix + ("    " if last else "│   "))

    walk(root, "")
    display(_fence("\n".join(out)))
