"""Translations of the course's notebooks: gettext catalogues beside the English notebooks.

    python run.py translate update [NN ...]   refresh translations/<lang>/NN-….po from the English notebooks
    python run.py translate status [NN ...]   what a translator still has to do (exit code 1 if anything)
    python run.py translate build [NN ...]    write notebooks/<lang>/NN-….ipynb from the English notebook + its catalogue

``--lang ru`` is the default. The English notebooks are the source. Each of their Markdown
cells is one entry of that notebook's catalogue (``translations/ru/07-evolving-the-schema.po``,
a standard gettext file: Poedit, Lokalize, Weblate or any text editor open it), found by the
cell's id (``msgctxt "cell 2d7fbda3"``) with the English text as ``msgid``. ``update`` keeps
every translation it can: a cell whose English text changed keeps its old translation marked
*fuzzy*, with the previous English text beside it (``#| msgid``), so a translator sees what
changed; a new cell gets an empty entry; a removed cell's entry becomes obsolete (``#~``).
``status`` lists each cell that has no current translation (new, changed or untranslated),
naming the notebook, the cell's number and its first line.

``build`` writes the translated notebook: the English cells in the same order with the same
ids and slide metadata, the Markdown from the catalogue, the code cells unchanged except what
must differ between editions (``code_for``: the setup call names the edition's language, so
both editions run side by side with workspaces of their own). The outputs of code cells whose
code did not change are kept from the previous build; the others are cleared, and ``build``
says to execute the notebook for real (``python run.py execute ru/NN``). Russian runs longer than
English: ``python run.py slides --fit --lang ru`` splits the slides that no longer fit at 1280×800,
and later builds keep those splits.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import re
import string
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import polib

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
TRANSLATIONS = ROOT / "translations"
LANGUAGES = {"ru": "Russian"}
PACKAGE = ROOT / "src" / "course"
COURSE_CATALOGUE = "course.po"  # the course package's messages (course.i18n.tr)
MESSAGE_CALLS = ("tr", "N_")
EXERCISE_TEXTS = ("title", "explanation")  # Exercise(...) keywords shown to the learner through tr()
SETUP_CALL = re.compile(r"course\.setup\((?P<args>[^()]*)\)")


@dataclass
class Changes:
    """What ``update`` did to one catalogue."""

    new: list[str] = field(default_factory=list)  # cell ids
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.new or self.changed or self.removed)


def english_notebooks(notebooks: Path = NOTEBOOKS, selection: Sequence[str] = ()) -> list[Path]:
    """The English notebooks (``NN-name.ipynb``), or those whose names start with the given prefixes."""
    every = sorted(notebooks.glob("[0-9][0-9]-*.ipynb"))
    if not selection:
        return every
    chosen = [p for p in every if any(p.name.startswith(item) for item in selection)]
    unknown = [item for item in selection if not any(p.name.startswith(item) for p in every)]
    if unknown:
        raise SystemExit(f"no English notebook matches {', '.join(map(repr, unknown))} (give a number such as 03)")
    return chosen


def catalogue_path(notebook: Path, lang: str, translations: Path = TRANSLATIONS) -> Path:
    return translations / lang / f"{notebook.stem}.po"


def translated_path(notebook: Path, lang: str) -> Path:
    return notebook.parent / lang / notebook.name


def context(cell: dict) -> str:
    return f"cell {cell['id']}"


def _markdown_cells(nb: nbformat.NotebookNode) -> list[tuple[int, dict]]:
    return [(number, cell) for number, cell in enumerate(nb.cells, start=1) if cell.cell_type == "markdown"]


def _read(notebook: Path) -> nbformat.NotebookNode:
    nb = nbformat.read(notebook, as_version=4)
    missing = [number for number, cell in enumerate(nb.cells, start=1) if not cell.get("id")]
    if missing:
        raise SystemExit(f"{notebook.name}: cells {missing} have no id (save it with JupyterLab 4, nbformat 4.5)")
    return nb


def _new_catalogue(notebook: Path, lang: str) -> polib.POFile:
    po = polib.POFile(wrapwidth=0)  # one line per paragraph line: diffs stay readable
    po.metadata = {
        "Project-Id-Version": f"alembic-course {notebook.stem}",
        "Language": lang,
        "MIME-Version": "1.0",
        "Content-Type": "text/plain; charset=UTF-8",
        "Content-Transfer-Encoding": "8bit",
    }
    return po


def load(path: Path) -> polib.POFile:
    po = polib.pofile(str(path), wrapwidth=0)
    return po


def update(notebook: Path, lang: str, translations: Path = TRANSLATIONS) -> Changes:
    """Bring ``notebook``'s catalogue in step with its Markdown cells, keeping every translation it can."""
    nb = _read(notebook)
    path = catalogue_path(notebook, lang, translations)
    old = load(path) if path.exists() else _new_catalogue(notebook, lang)
    by_context = {entry.msgctxt: entry for entry in old if not entry.obsolete}
    by_text = {entry.msgid: entry for entry in old if entry.msgstr and "fuzzy" not in entry.flags}
    po = _new_catalogue(notebook, lang)
    po.metadata.update({k: v for k, v in old.metadata.items() if k not in po.metadata})
    changes = Changes()
    seen = set()
    for number, cell in _markdown_cells(nb):
        ctxt = context(cell)
        seen.add(ctxt)
        entry = by_context.get(ctxt)
        occurrence = [(notebook.name, str(number))]
        if entry is not None and entry.msgid == cell.source:
            entry.occurrences = occurrence
            po.append(entry)
            continue
        if entry is not None:  # the English text changed: keep the translation, for a translator to revise
            changes.changed.append(cell["id"])
            flags = sorted(set(entry.flags) | {"fuzzy"}) if entry.msgstr else entry.flags
            previous = (entry.previous_msgid or entry.msgid) if entry.msgstr else None
            po.append(
                polib.POEntry(
                    msgctxt=ctxt,
                    msgid=cell.source,
                    msgstr=entry.msgstr,
                    flags=flags,
                    previous_msgid=previous,
                    occurrences=occurrence,
                )
            )
            continue
        changes.new.append(cell["id"])
        same_text = by_text.get(cell.source)  # a new cell with a text already translated (a cell moved, say)
        po.append(
            polib.POEntry(msgctxt=ctxt, msgid=cell.source, msgstr=same_text.msgstr if same_text else "", occurrences=occurrence)
        )
    for entry in old:
        if entry.msgctxt not in seen and entry.msgstr and not entry.obsolete:
            changes.removed.append(entry.msgctxt.removeprefix("cell "))
            entry.obsolete = True
            po.append(entry)
        elif entry.obsolete and entry.msgctxt not in seen:
            po.append(entry)
    path.parent.mkdir(parents=True, exist_ok=True)
    po.save(str(path))
    return changes


def problems(notebook: Path, lang: str, translations: Path = TRANSLATIONS) -> list[str]:
    """Every Markdown cell of ``notebook`` without a current translation, in plain words (empty: all translated)."""
    nb = _read(notebook)
    path = catalogue_path(notebook, lang, translations)
    if not path.exists():
        return [f"{notebook.name}: no catalogue {path.relative_to(translations.parent)} yet (python run.py translate update)"]
    entries = {entry.msgctxt: entry for entry in load(path) if not entry.obsolete}
    found = []
    for number, cell in _markdown_cells(nb):
        entry = entries.get(context(cell))
        first = cell.source.strip().splitlines()[0][:60] if cell.source.strip() else "(empty)"
        where = f"{notebook.name} cell {number} (id {cell['id']}, {first!r})"
        if entry is None:
            found.append(f"{where}: new, not in the catalogue (python run.py translate update)")
        elif entry.msgid != cell.source:
            found.append(f"{where}: the English text changed (python run.py translate update, then revise it)")
        elif not entry.msgstr.strip():
            found.append(f"{where}: not translated yet")
        elif "fuzzy" in entry.flags:
            found.append(f"{where}: the English text changed since it was translated (fuzzy): revise the translation")
    cells = {context(cell) for _, cell in _markdown_cells(nb)}
    for entry in entries.values():
        if entry.msgctxt not in cells:
            first = entry.msgid.strip().splitlines()[0][:60] if entry.msgid.strip() else "(empty)"
            found.append(
                f"{notebook.name} {entry.msgctxt} ({first!r}): removed from the English notebook (python run.py translate update)"
            )
    return found


def code_for(source: str, lang: str) -> str:
    """A code cell of the ``lang`` edition: the English code, with the setup call naming the edition's language."""
    return SETUP_CALL.sub(lambda m: f'course.setup({m.group("args")}, language="{lang}")', source)


def build(notebook: Path, lang: str, translations: Path = TRANSLATIONS) -> list[str]:
    """Write the ``lang`` edition of ``notebook``; the ids of code cells whose outputs must come from a new run."""
    issues = problems(notebook, lang, translations)
    if issues:
        raise SystemExit("cannot build, translations are missing:\n  " + "\n  ".join(issues))
    english = _read(notebook)
    entries = {entry.msgctxt: entry for entry in load(catalogue_path(notebook, lang, translations)) if not entry.obsolete}
    target = translated_path(notebook, lang)
    previous = {c["id"]: c for c in nbformat.read(target, as_version=4).cells} if target.exists() else {}
    cells = []
    to_run = []
    for cell in english.cells:
        new = nbformat.from_dict(cell)
        _keep_fitting(new, previous.get(cell["id"]))
        if cell.cell_type == "markdown":
            new.source = entries[context(cell)].msgstr
        elif cell.cell_type == "code":
            new.source = code_for(cell.source, lang)
            before = previous.get(cell["id"])
            if before is not None and before.cell_type == "code" and before.source == new.source:
                new.outputs, new.execution_count = before.outputs, before.execution_count
            else:
                new.outputs, new.execution_count = [], None
                to_run.append(cell["id"])
        cells.append(new)
    edition = nbformat.from_dict(english)
    edition.cells = cells
    edition.metadata["language"] = lang
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(edition, target)
    return to_run


FIT_SPLIT = "subslide"  # what ``python run.py slides --fit`` makes of a cell that starts a slide's overflow
FIT_TAG = "slide-scroll"  # what it tags a cell taller than a whole slide with


def _keep_fitting(cell: nbformat.NotebookNode, before: nbformat.NotebookNode | None) -> None:
    """The splits ``slides --fit`` made in the previous build of the edition (its text runs longer than English)."""
    if before is None:
        return
    split = before.metadata.get("slideshow", {}).get("slide_type") == FIT_SPLIT
    if split and cell.metadata.get("slideshow", {}).get("slide_type") in ("-", "fragment"):
        cell.metadata["slideshow"] = {**cell.metadata.get("slideshow", {}), "slide_type": FIT_SPLIT}
    tags = cell.metadata.get("tags", [])
    if FIT_TAG in before.metadata.get("tags", []) and FIT_TAG not in tags:
        cell.metadata["tags"] = [*tags, FIT_TAG]


def code_differences(english: Path, translated: Path, lang: str) -> list[str]:
    """Where the ``lang`` edition's cells differ from the English ones beyond what must (empty: none)."""
    en, tr = _read(english), _read(translated)
    found = []
    if [c["id"] for c in en.cells] != [c["id"] for c in tr.cells]:
        found.append(f"{translated.name}: its cells are not the English notebook's cells in the same order (rebuild it)")
        return found
    for number, (a, b) in enumerate(zip(en.cells, tr.cells, strict=True), start=1):
        if a.cell_type != b.cell_type:
            found.append(f"{translated.name} cell {number}: {b.cell_type}, but {a.cell_type} in English")
        elif a.cell_type == "code" and code_for(a.source, lang) != b.source:
            found.append(f"{translated.name} cell {number} (id {a['id']}): its code differs from the English cell's")
    return found


# --------------------------------------------------------------------------- the course's messages


def course_messages(package: Path = PACKAGE) -> tuple[dict[str, list[tuple[str, str]]], list[str]]:
    """Every message of the package (msgid → where), and the calls extraction cannot read.

    A message is the literal first argument of ``tr(...)`` or ``N_(...)``, or the literal ``title=`` /
    ``explanation=`` of an ``Exercise(...)``. ``tr(f"...")`` cannot be translated (its text is made
    before ``tr`` sees it): it is reported, as is a ``title``/``explanation`` made by formatting or
    joining. One taken from a table (``EXPLANATIONS[n]``, ``step.title``) is the table's ``N_("…")``
    literals; ``tests/tools/test_translate.py`` checks every registered exercise's texts at run time.
    """
    found: dict[str, list[tuple[str, str]]] = {}
    unreadable = []
    for path in sorted(package.rglob("*.py")):
        where = path.relative_to(package.parent).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
            texts: list[ast.expr] = []
            if name in MESSAGE_CALLS and node.args:
                texts = [node.args[0]]
            elif name == "Exercise":
                texts = [k.value for k in node.keywords if k.arg in EXERCISE_TEXTS]
            for text in texts:
                if isinstance(text, ast.Constant) and isinstance(text.value, str):
                    found.setdefault(text.value, []).append((where, str(node.lineno)))
                elif isinstance(text, (ast.JoinedStr, ast.BinOp)) or (
                    name == "Exercise" and not isinstance(text, (ast.Name, ast.Attribute, ast.Subscript))
                ):
                    unreadable.append(f"{where}:{node.lineno}: {name}() needs a literal English text with {{placeholders}}")
    return found, unreadable


def course_catalogue_path(lang: str, translations: Path = TRANSLATIONS) -> Path:
    return translations / lang / COURSE_CATALOGUE


def placeholders(text: str) -> list[str]:
    """The ``{name}`` fields of a message, sorted (a translation must keep the same ones)."""
    try:
        return sorted({field for _, field, _, _ in string.Formatter().parse(text) if field is not None})
    except ValueError as error:
        return [f"<unbalanced braces: {error}>"]


def update_course(lang: str, package: Path = PACKAGE, translations: Path = TRANSLATIONS) -> Changes:
    """Bring the course package's catalogue in step with its messages, keeping every translation it can."""
    messages, _ = course_messages(package)
    path = course_catalogue_path(lang, translations)
    old = load(path) if path.exists() else _new_catalogue(Path("course"), lang)
    by_id = {entry.msgid: entry for entry in old}
    po = _new_catalogue(Path("course"), lang)
    po.metadata.update({k: v for k, v in old.metadata.items() if k not in po.metadata})
    gone = [e for e in old if e.msgid not in messages and e.msgstr]
    changes = Changes()
    for msgid, where in messages.items():
        entry = by_id.get(msgid)
        if entry is not None:
            entry.obsolete = False
            entry.occurrences = where
            po.append(entry)
            continue
        changes.new.append(msgid)
        close = difflib.get_close_matches(msgid, [e.msgid for e in gone], n=1, cutoff=0.8)
        if close:  # most likely the same message, reworded: its translation, for a translator to revise
            before = next(e for e in gone if e.msgid == close[0])
            po.append(
                polib.POEntry(msgid=msgid, msgstr=before.msgstr, flags=["fuzzy"], previous_msgid=before.msgid, occurrences=where)
            )
            continue
        po.append(polib.POEntry(msgid=msgid, msgstr="", occurrences=where))
    for entry in gone:
        changes.removed.append(entry.msgid)
        entry.obsolete = True
        entry.occurrences = []
        po.append(entry)
    path.parent.mkdir(parents=True, exist_ok=True)
    po.save(str(path))
    return changes


def course_problems(lang: str, package: Path = PACKAGE, translations: Path = TRANSLATIONS) -> list[str]:
    """Every message of the package without a current, well-formed translation (empty: all translated)."""
    messages, unreadable = course_messages(package)
    path = course_catalogue_path(lang, translations)
    if not path.exists():
        return [*unreadable, f"no catalogue {path.relative_to(translations.parent)} yet (python run.py translate update)"]
    entries = {entry.msgid: entry for entry in load(path) if not entry.obsolete}
    found = list(unreadable)
    for msgid, where in messages.items():
        entry = entries.get(msgid)
        place = f"{where[0][0]}:{where[0][1]} {msgid.splitlines()[0][:60]!r}"
        if entry is None:
            found.append(f"{place}: new, not in the catalogue (python run.py translate update)")
        elif not entry.msgstr.strip():
            found.append(f"{place}: not translated yet")
        elif "fuzzy" in entry.flags:
            found.append(f"{place}: the English text changed since it was translated (fuzzy): revise the translation")
        elif placeholders(entry.msgstr) != placeholders(msgid):
            found.append(
                f"{place}: the translation's {{placeholders}} {placeholders(entry.msgstr)} are not the English {placeholders(msgid)}"
            )
    return found


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python run.py translate", description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["update", "status", "build"])
    parser.add_argument("notebooks", nargs="*", help="number prefixes, or course for the package's messages (default: all)")
    parser.add_argument("--lang", default="ru", choices=sorted(LANGUAGES))
    args = parser.parse_args(argv)
    numbers = [item for item in args.notebooks if item != "course"]
    chosen = english_notebooks(NOTEBOOKS, numbers) if numbers or not args.notebooks else []
    with_course = not args.notebooks or "course" in args.notebooks
    if args.action == "update":
        if with_course:
            changes = update_course(args.lang)
            if changes:
                print(
                    f"{course_catalogue_path(args.lang).relative_to(ROOT)}: {len(changes.new)} new (close ones marked fuzzy), "
                    f"{len(changes.removed)} removed (obsolete)"
                )
        for notebook in chosen:
            changes = update(notebook, args.lang)
            if changes:
                print(
                    f"{catalogue_path(notebook, args.lang).relative_to(ROOT)}: {len(changes.new)} new, "
                    f"{len(changes.changed)} changed (marked fuzzy), {len(changes.removed)} removed (obsolete)"
                )
        left = [p for notebook in chosen for p in problems(notebook, args.lang)]
        left += course_problems(args.lang) if with_course else []
        print(f"{len(left)} cells and messages need a translator" + (": python run.py translate status" if left else ""))
        return 0
    if args.action == "status":
        left = [p for notebook in chosen for p in problems(notebook, args.lang)]
        left += course_problems(args.lang) if with_course else []
        for line in left:
            print(line)
        where = f"{len(chosen)} notebooks" + (" and the course package" if with_course else "")
        print(f"{len(left)} cells and messages need a translator in {where} ({LANGUAGES[args.lang]})")
        return 1 if left else 0
    for notebook in chosen:
        to_run = build(notebook, args.lang)
        shown = translated_path(notebook, args.lang).relative_to(ROOT)
        if to_run:
            print(f"{shown}: {len(to_run)} code cells need a real run: python run.py execute {args.lang}/{notebook.name[:2]}")
        else:
            print(f"{shown}: up to date")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
