"""Showing files, folders and diffs in a notebook, from Python (no ``!cat``, ``!ls`` or ``!tree``)."""

from __future__ import annotations

import difflib
from pathlib import Path

from IPython.display import Markdown, display

LANGUAGES = {".py": "python", ".ini": "ini", ".mako": "mako", ".toml": "toml", ".sql": "sql", ".md": "markdown"}


def _fence(body: str, language: str = "") -> Markdown:
    ticks = "````" if "```" in body else "```"
    return Markdown(f"{ticks}{language}\n{body.rstrip()}\n{ticks}")


def show_file(path: str | Path, *, start: int | None = None, end: int | None = None, grep: str | None = None) -> None:
    """Display a file (optionally lines ``start``..``end``, 1-based, or only lines containing ``grep``)."""
    path = Path(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    if grep is not None:
        lines = [line for line in lines if grep in line]
    elif start is not None or end is not None:
        lines = lines[(start or 1) - 1 : end]
    display(Markdown(f"**`{path.as_posix()}`**"))
    display(_fence("\n".join(lines), LANGUAGES.get(path.suffix, "")))


def show_diff(old: str, new: str, name: str = "file") -> None:
    """Display a unified diff between two texts."""
    diff = difflib.unified_diff(old.splitlines(), new.splitlines(), f"a/{name}", f"b/{name}", lineterm="", n=2)
    body = "\n".join(diff)
    display(_fence(body or "(no change)", "diff"))


def edit_file(path: str | Path, old: str, new: str, *, count: int = 1) -> None:
    """Replace ``old`` by ``new`` in a file (exactly ``count`` times) and show the diff."""
    path = Path(path)
    before = path.read_text(encoding="utf-8")
    found = before.count(old)
    if found != count:
        raise ValueError(f"expected {count} occurrence(s) of the text to replace in {path.as_posix()}, found {found}")
    after = before.replace(old, new)
    path.write_text(after, encoding="utf-8")
    show_diff(before, after, path.as_posix())


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
