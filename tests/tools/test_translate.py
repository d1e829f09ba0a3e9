"""`python run.py translate` (tools/translate.py): catalogues that follow the English notebooks, and editions built from them."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import nbformat
import polib
import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tools" / "translate.py"
SAMPLE = ROOT / "notebooks" / "00-welcome-and-setup.ipynb"


def _load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("course_translate", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


translate = _load(SCRIPT)


@pytest.fixture
def course_copy(tmp_path: Path) -> tuple[Path, Path]:
    """An English notebook in a folder of its own, and an empty translations folder."""
    (tmp_path / "notebooks").mkdir()
    notebook = tmp_path / "notebooks" / SAMPLE.name
    shutil.copy2(SAMPLE, notebook)
    return notebook, tmp_path / "translations"


def _translate_everything(catalogue: Path) -> None:
    po = polib.pofile(str(catalogue))
    for entry in po:
        entry.msgstr = "ПЕРЕВОД " + entry.msgid
    po.save()


def _edit_markdown(notebook: Path, index: int, new_source: str) -> str:
    nb = nbformat.read(notebook, as_version=4)
    markdown = [c for c in nb.cells if c.cell_type == "markdown"]
    markdown[index].source = new_source
    nbformat.write(nb, notebook)
    return markdown[index]["id"]


def test_a_new_catalogue_holds_every_markdown_cell_untranslated(course_copy: tuple[Path, Path]) -> None:
    notebook, translations = course_copy
    cells = [c for c in nbformat.read(notebook, as_version=4).cells if c.cell_type == "markdown"]
    changes = translate.update(notebook, "ru", translations)
    assert changes.new == [c["id"] for c in cells] and not changes.changed and not changes.removed
    po = polib.pofile(str(translations / "ru" / f"{notebook.stem}.po"))
    assert [(e.msgctxt, e.msgid, e.msgstr) for e in po] == [(f"cell {c['id']}", c.source, "") for c in cells]
    found = translate.problems(notebook, "ru", translations)
    assert len(found) == len(cells) and all(line.endswith("not translated yet") for line in found)


def test_changing_one_english_cell_names_it_and_keeps_its_old_translation(course_copy: tuple[Path, Path]) -> None:
    notebook, translations = course_copy
    translate.update(notebook, "ru", translations)
    catalogue = translations / "ru" / f"{notebook.stem}.po"
    _translate_everything(catalogue)
    assert translate.problems(notebook, "ru", translations) == []

    nb = nbformat.read(notebook, as_version=4)
    number = next(i for i, c in enumerate(nb.cells, start=1) if c.cell_type == "markdown" and i > 1)
    old = nb.cells[number - 1].source
    cell_id = _edit_markdown(
        notebook, [c.cell_type for c in nb.cells][:number].count("markdown") - 1, old + "\n\nOne more sentence."
    )

    found = translate.problems(notebook, "ru", translations)
    assert len(found) == 1
    assert f"cell {number} (id {cell_id}," in found[0] and "the English text changed" in found[0]

    changes = translate.update(notebook, "ru", translations)
    assert changes.changed == [cell_id] and not changes.new
    entry = next(e for e in polib.pofile(str(catalogue)) if e.msgctxt == f"cell {cell_id}")
    assert "fuzzy" in entry.flags and entry.previous_msgid == old and entry.msgstr == "ПЕРЕВОД " + old
    assert "(fuzzy): revise the translation" in translate.problems(notebook, "ru", translations)[0]


def test_new_and_removed_cells(course_copy: tuple[Path, Path]) -> None:
    notebook, translations = course_copy
    translate.update(notebook, "ru", translations)
    _translate_everything(translations / "ru" / f"{notebook.stem}.po")
    nb = nbformat.read(notebook, as_version=4)
    gone = next(c for c in nb.cells if c.cell_type == "markdown")
    nb.cells.remove(gone)
    nb.cells.append(nbformat.v4.new_markdown_cell("## A new section"))
    nbformat.write(nb, notebook)
    before_update = translate.problems(notebook, "ru", translations)  # both named, the removed one too
    assert any(gone["id"] in line and "removed from the English notebook" in line for line in before_update), before_update
    assert any(nb.cells[-1]["id"] in line and "new, not in the catalogue" in line for line in before_update), before_update

    changes = translate.update(notebook, "ru", translations)
    assert changes.removed == [gone["id"]] and changes.new == [nb.cells[-1]["id"]]
    po = polib.pofile(str(translations / "ru" / f"{notebook.stem}.po"))
    assert [e.msgstr for e in po.obsolete_entries()] == ["ПЕРЕВОД " + gone.source]  # kept for the translator, not lost
    assert [line.split(": ", 1)[1] for line in translate.problems(notebook, "ru", translations)] == ["not translated yet"]


def test_the_edition_has_the_translated_text_and_the_same_code(course_copy: tuple[Path, Path]) -> None:
    notebook, translations = course_copy
    translate.update(notebook, "ru", translations)
    with pytest.raises(SystemExit, match="translations are missing"):
        translate.build(notebook, "ru", translations)
    _translate_everything(translations / "ru" / f"{notebook.stem}.po")

    to_run = translate.build(notebook, "ru", translations)
    edition = notebook.parent / "ru" / notebook.name
    english, russian = nbformat.read(notebook, as_version=4), nbformat.read(edition, as_version=4)
    assert to_run == [c["id"] for c in english.cells if c.cell_type == "code"]
    for en, ru in zip(english.cells, russian.cells, strict=True):
        assert (en["id"], en.cell_type, en.metadata) == (ru["id"], ru.cell_type, ru.metadata)
        if en.cell_type == "markdown":
            assert ru.source == "ПЕРЕВОД " + en.source
    setup = [c.source for c in russian.cells if c.cell_type == "code" and "course.setup(" in c.source]
    assert setup and all('language="ru")' in s for s in setup)
    assert translate.code_differences(notebook, edition, "ru") == []

    code = next(c for c in russian.cells if c.cell_type == "code")
    code.source += "\nprint('extra')"
    code.outputs = [nbformat.v4.new_output("stream", name="stdout", text="from a real run\n")]
    nbformat.write(russian, edition)
    assert any("its code differs" in line for line in translate.code_differences(notebook, edition, "ru"))

    # Rebuilding keeps outputs of unchanged code cells and clears the changed one's.
    again = translate.build(notebook, "ru", translations)
    assert again == [code["id"]]


def test_a_rebuild_keeps_the_splits_slides_fit_made_for_the_longer_text(course_copy: tuple[Path, Path]) -> None:
    notebook, translations = course_copy
    translate.update(notebook, "ru", translations)
    _translate_everything(translations / "ru" / f"{notebook.stem}.po")
    translate.build(notebook, "ru", translations)
    edition = notebook.parent / "ru" / notebook.name
    russian = nbformat.read(edition, as_version=4)
    inside = [c for c in russian.cells if c.metadata["slideshow"]["slide_type"] in ("-", "fragment")]
    split, tall = inside[0], inside[-1]
    split.metadata["slideshow"]["slide_type"] = "subslide"  # as `slides --fit` splits an overflowing slide
    tall.metadata["tags"] = [*tall.metadata.get("tags", []), "slide-scroll"]
    nbformat.write(russian, edition)

    translate.build(notebook, "ru", translations)
    rebuilt = {c["id"]: c for c in nbformat.read(edition, as_version=4).cells}
    assert rebuilt[split["id"]].metadata["slideshow"]["slide_type"] == "subslide"
    assert "slide-scroll" in rebuilt[tall["id"]].metadata["tags"]
    english = {c["id"]: c for c in nbformat.read(notebook, as_version=4).cells}
    assert english[split["id"]].metadata["slideshow"]["slide_type"] in ("-", "fragment")  # the English is untouched


def test_the_command_line_reports_and_fails_on_work_left(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "status", "00"], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    catalogue = ROOT / "translations" / "ru" / f"{SAMPLE.stem}.po"
    if catalogue.exists() and not translate.problems(SAMPLE, "ru"):
        assert result.returncode == 0, result.stdout + result.stderr
    else:
        assert result.returncode == 1 and "need a translator" in result.stdout, result.stdout + result.stderr


def test_every_catalogue_in_the_repository_is_current() -> None:
    """Each catalogue present follows its English notebook; each edition present has its code."""
    for catalogue in sorted((ROOT / "translations").glob("*/*.po")):
        if catalogue.name == translate.COURSE_CATALOGUE:
            assert translate.course_problems(catalogue.parent.name) == []
            continue
        lang, notebook = catalogue.parent.name, ROOT / "notebooks" / f"{catalogue.stem}.ipynb"
        assert notebook.exists(), f"{catalogue.relative_to(ROOT)} has no English notebook"
        assert translate.problems(notebook, lang) == []
        edition = translate.translated_path(notebook, lang)
        if edition.exists():
            assert translate.code_differences(notebook, edition, lang) == []


def test_every_exercise_title_and_explanation_has_a_current_translation() -> None:
    """At run time, as the learner sees them: texts that come from tables (notebook 16's steps) included."""
    from course import exercises, i18n

    po = polib.pofile(str(ROOT / "translations" / "ru" / translate.COURSE_CATALOGUE))
    current = {e.msgid for e in po if e.msgstr and not e.obsolete and "fuzzy" not in e.flags}
    missing = [
        f"{exercise.id}: {text[:60]!r}"
        for exercise in exercises.registry().values()
        for text in (exercise.title, exercise.explanation)
        if text and text not in current
    ]
    assert not missing, "exercise texts with no Russian (python run.py translate update, then translate them):\n" + "\n".join(
        missing
    )
    assert i18n.LANGUAGES.keys() - {"en"} == set(translate.LANGUAGES)


PACKAGE_SOURCE = {
    "checks.py": """
from course.i18n import N_, tr
from course.exercises import Exercise

MARKS = {"ok": N_("✅ solved")}


def check(ws):
    return tr("`{table}` has {count} rows, not 8.", table="products", count=3)


def untranslatable(ws):
    return tr(f"{ws} is not at head")


EXERCISES = [Exercise(id="99.1", title="A literal title", check=check, solution="", explanation="Why it works.")]
""",
}


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    package = tmp_path / "src" / "course"
    package.mkdir(parents=True, exist_ok=True)
    for name, source in files.items():
        (package / name).write_text(source, encoding="utf-8")
    return package


def test_the_course_messages_are_extracted_and_an_f_string_is_named(tmp_path: Path) -> None:
    package = _package(tmp_path, PACKAGE_SOURCE)
    messages, unreadable = translate.course_messages(package)
    assert set(messages) == {"✅ solved", "`{table}` has {count} rows, not 8.", "A literal title", "Why it works."}
    assert messages["A literal title"] == [("course/checks.py", "16")]
    assert unreadable == ["course/checks.py:13: tr() needs a literal English text with {placeholders}"]


def test_the_course_catalogue_keeps_translations_marks_rewordings_and_checks_placeholders(tmp_path: Path) -> None:
    package = _package(
        tmp_path,
        {"checks.py": 'from course.i18n import tr\ntr("`{table}` has {count} rows, not 8.")\ntr("Run the setup cell first.")\n'},
    )
    translations = tmp_path / "translations"
    translate.update_course("ru", package, translations)
    path = translate.course_catalogue_path("ru", translations)
    po = polib.pofile(str(path))
    for entry in po:
        entry.msgstr = {"Run the setup cell first.": "Сначала выполните ячейку настройки."}.get(
            entry.msgid, "В `{table}` {count} строк, а не 8."
        )
    po.save()
    assert translate.course_problems("ru", package, translations) == []

    (package / "checks.py").write_text(
        'from course.i18n import tr\ntr("`{table}` has {count} rows, not 8 rows.")\ntr("Run the setup cell first.")\n'
    )
    changes = translate.update_course("ru", package, translations)
    assert changes.new == ["`{table}` has {count} rows, not 8 rows."] and changes.removed == [
        "`{table}` has {count} rows, not 8."
    ]
    reworded = polib.pofile(str(path)).find("`{table}` has {count} rows, not 8 rows.")
    assert reworded is not None and "fuzzy" in reworded.flags and reworded.previous_msgid == "`{table}` has {count} rows, not 8."
    assert polib.pofile(str(path)).find("Run the setup cell first.").msgstr == "Сначала выполните ячейку настройки."
    assert [p.split(": ", 1)[1] for p in translate.course_problems("ru", package, translations)] == [
        "the English text changed since it was translated (fuzzy): revise the translation"
    ]

    po = polib.pofile(str(path))
    entry = po.find("`{table}` has {count} rows, not 8 rows.")
    entry.flags, entry.msgstr = [], "В таблице {tabel} {count} строк."  # a misspelt placeholder
    po.save()
    (problem,) = translate.course_problems("ru", package, translations)
    assert "{placeholders} ['count', 'tabel'] are not the English ['count', 'table']" in problem


def test_tr_speaks_the_notebook_language_and_falls_back_to_english(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from course import i18n

    catalogue = tmp_path / "ru" / "course.po"
    catalogue.parent.mkdir()
    po = polib.POFile()
    po.append(polib.POEntry(msgid="{count} of {total} solved.", msgstr="Решено: {count} из {total}."))
    po.append(polib.POEntry(msgid="Changed since.", msgstr="Устарело.", flags=["fuzzy"]))
    po.save(str(catalogue))
    monkeypatch.setattr(i18n, "TRANSLATIONS", tmp_path)
    i18n.translations.cache_clear()
    monkeypatch.setattr(i18n, "_language", "en")
    assert i18n.tr("{count} of {total} solved.", count=2, total=5) == "2 of 5 solved."
    i18n.set_language("ru")
    try:
        assert i18n.tr("{count} of {total} solved.", count=2, total=5) == "Решено: 2 из 5."
        assert i18n.tr("Changed since.") == "Changed since."  # a fuzzy translation is not shown
        assert i18n.tr("Never translated {x}.", x=1) == "Never translated 1."
        with pytest.raises(i18n.UnknownLanguage, match='choose one of "en" \\(English\\), "ru" \\(Russian\\)'):
            i18n.set_language("de")
    finally:
        i18n.translations.cache_clear()
