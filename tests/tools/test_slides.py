"""`python run.py slides` (tools/slides/build.py): offline reveal.js decks, an index, and the decks in a browser.

The decks are built once, into a temporary folder. The browser tests open each deck from
disk in headless Chromium (the shared ``page`` fixture of ``tests/browser.py``), ask the
DOM what a presenter would see, and save a screenshot of every slide they check in
``build/slides-screenshots/`` (git-ignored) for a person to look at.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import nbformat
import pytest

if TYPE_CHECKING:
    from playwright.sync_api import ConsoleMessage, Page

ROOT = Path(__file__).resolve().parents[2]
BUILD_SCRIPT = ROOT / "tools" / "slides" / "build.py"
SCREENSHOTS = ROOT / "build" / "slides-screenshots"
REMOTE_TAG = re.compile(
    r"""<(?:script|img|iframe|source|video|audio)\b[^>]*\bsrc\s*=\s*["']?\s*(?:https?:)?//|<link\b[^>]*\bhref\s*=\s*["']?\s*(?:https?:)?//""",
    re.I,
)


def _load_script(path: Path, name: str) -> ModuleType:
    """A script of tools/slides/ as a module (tools/ is a folder of scripts, not a package)."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


slides = _load_script(BUILD_SCRIPT, "slides_build")
fitting = _load_script(BUILD_SCRIPT.with_name("fit.py"), "slides_fit")
NOTEBOOKS = slides.course_notebooks()
NOTEBOOKS_RU = slides.course_notebooks(slides.EDITIONS["ru"])  # the Russian edition's decks: build/slides/ru/
EVERY_DECK = NOTEBOOKS + NOTEBOOKS_RU


def _lang(notebook: Path) -> str:
    return "ru" if notebook.parent == slides.EDITIONS["ru"] else "en"


def _id(notebook: Path) -> str:
    return notebook.stem if _lang(notebook) == "en" else f"ru-{notebook.stem}"


@dataclass
class Built:
    output: Path
    decks: list[Any]  # slides.Deck, from the module loaded above

    def deck(self, notebook: Path) -> Any:
        return next(d for d in self.decks if d.notebook == notebook)


@pytest.fixture(scope="session")
def editions(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Built]:
    """Both editions' decks, as ``python run.py slides`` builds them: English in OUTPUT, Russian in OUTPUT/ru."""
    cached = all((slides.DEFAULT_CACHE / p.tarball_name).exists() for p in slides.VENDORED)
    if not cached and shutil.which("npm") is None:
        pytest.skip("npm not installed: the decks take reveal.js and Mermaid from the npm registry once")
    output = tmp_path_factory.mktemp("slides")
    built = {"en": Built(output, slides.build_slides(output))}
    if NOTEBOOKS_RU:
        built["ru"] = Built(output / "ru", slides.build_slides(output / "ru", lang="ru"))
    return built


@pytest.fixture(scope="session")
def built(editions: dict[str, Built]) -> Built:
    return editions["en"]


def _mermaid_outputs(notebook: Path) -> int:
    """How many Mermaid diagrams the notebook's stored outputs show."""
    nb = nbformat.read(notebook, as_version=4)
    return sum(
        "```mermaid" in str(out.get("data", {}).get("text/markdown", ""))
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
    )


def _plain(markdown: str) -> str:
    """A title as the browser shows it: without Markdown's backticks and asterisks."""
    return re.sub(r"[`*]", "", markdown)


# --------------------------------------------------------------------------- the built files


def test_every_notebook_has_a_deck_and_the_index_links_them_all(built: Built) -> None:
    assert [d.notebook.name for d in built.decks] == [p.name for p in NOTEBOOKS]
    index = (built.output / "index.html").read_text(encoding="utf-8")
    for deck in built.decks:
        assert deck.path == built.output / f"{deck.notebook.stem}.slides.html" and deck.path.is_file()
        assert deck.slides >= 3, f"{deck.path.name}: {deck.slides} slides"
        assert deck.slides == len(slides.slides_of(deck.path.read_text(encoding="utf-8")))
        link = re.search(rf'<a href="{re.escape(deck.path.name)}">(.+?)</a>', index)
        assert link, f"index.html does not link {deck.path.name}"
        title = re.sub(r"<[^>]+>", "", link.group(1))
        assert title.startswith(deck.notebook.name[:2]), f"{deck.path.name}: listed as {title!r}"


def test_the_russian_decks_have_an_index_in_russian_linked_from_the_english_one(editions: dict[str, Built]) -> None:
    assert NOTEBOOKS_RU, "no Russian notebooks (python run.py translate build)"
    ru = editions["ru"]
    assert [d.notebook.name for d in ru.decks] == [p.name for p in NOTEBOOKS_RU]
    index = (ru.output / "index.html").read_text(encoding="utf-8")
    assert '<html lang="ru">' in index and "Миграции баз данных с Alembic: слайды" in index
    for deck in ru.decks:
        assert f'<a href="{deck.path.name}">' in index and deck.path.parent == ru.output
    assert '<a href="ru/index.html">' in (editions["en"].output / "index.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_first_cell_opens_the_deck_as_a_slide(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    assert nb.cells[0].metadata.get("slideshow", {}).get("slide_type") == "slide"
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# "), "the title slide"


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_nothing_in_the_html_refers_to_the_network(editions: dict[str, Built], lang: str) -> None:
    built = editions[lang]
    for page_path in [d.path for d in built.decks] + [built.output / "index.html"]:
        page = page_path.read_text(encoding="utf-8")
        remote = REMOTE_TAG.search(page)
        assert remote is None, f"{page_path.name}: {remote.group(0)[:120] if remote else ''}"
        assert slides.remote_references(page) == [], page_path.name  # also URLs inside <script> and <style>
        for url in slides.local_references(page):
            assert not url.startswith(("/", "file:")), f"{page_path.name}: {url} is absolute: the folder cannot move"
            assert (built.output / url).is_file(), f"{page_path.name}: {url} is missing"
        assert str(built.output) not in page and "file://" not in page
    for css in (built.output / "vendor").rglob("*.css"):  # the theme must not @import web fonts
        assert not re.search(r"""(@import|url\()\s*["']?\s*(https?:)?//""", css.read_text(encoding="utf-8")), css
    scripts = [
        m.group(1)
        for d in built.decks
        for m in re.finditer(r"<script[^>]*>(.*?)</script>", d.path.read_text(encoding="utf-8"), re.S)
    ]
    assert not any("cdn" in s.lower() or "unpkg" in s.lower() for s in scripts)


def test_mermaid_blocks_are_left_for_the_local_renderer(built: Built) -> None:
    with_diagrams = [d for d in built.decks if _mermaid_outputs(d.notebook)]
    if not with_diagrams:
        pytest.skip("no notebook shows a Mermaid diagram")
    for deck in with_diagrams:
        page = deck.path.read_text(encoding="utf-8")
        assert page.count('<pre class="mermaid">') == _mermaid_outputs(deck.notebook), deck.path.name
        assert any(s.has_mermaid for s in slides.slides_of(page))
        assert "vendor/mermaid/dist/mermaid.min.js" in page and "mermaid.render(" in page


def test_the_command_line_builds_a_subset_from_any_folder(tmp_path: Path, built: Built) -> None:
    output = tmp_path / "decks"
    run = subprocess.run(
        [sys.executable, str(BUILD_SCRIPT), "--output", str(output), str(NOTEBOOKS[0])],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    assert (output / f"{NOTEBOOKS[0].stem}.slides.html").is_file()
    assert (output / "vendor" / "reveal.js" / "dist" / "reveal.js").is_file()
    assert NOTEBOOKS[0].stem in (output / "index.html").read_text(encoding="utf-8")
    assert "1 decks, offline" in run.stdout
    assert subprocess.run([sys.executable, str(BUILD_SCRIPT), "--help"], capture_output=True, text=True).stdout.startswith(
        "usage: python run.py slides"
    )


# --------------------------------------------------------------------------- in a real browser

# What the presenter sees now: reveal.js's current slide, and the deck around it.
STATE_JS = """() => {
    const slide = Reveal.getCurrentSlide();
    const heading = slide.querySelector('h1');
    return {
        ready: Reveal.isReady() && document.querySelector('.reveal').classList.contains('ready'),
        sections: document.querySelectorAll('.reveal .slides section').length,
        leaves: document.querySelectorAll('.reveal .slides section:not(:has(section))').length,
        total: Reveal.getTotalSlides(),
        indices: Reveal.getIndices(),
        present: slide.classList.contains('present'),
        heading: heading ? heading.innerText.trim() : null,
        diagrams: document.querySelectorAll('.reveal .course-mermaid svg').length,
        unrendered: document.querySelectorAll('pre.mermaid, pre > code.language-mermaid').length,
    };
}"""

# The first leaf slide holding a highlighted code cell (and no diagram), or holding a diagram.
FIND_SLIDE_JS = """(kind) => {
    for (const slide of document.querySelectorAll('.reveal .slides section:not(:has(section))')) {
        const diagram = slide.querySelector('.course-mermaid svg');
        const code = slide.querySelector('.jp-CodeCell .jp-InputArea .highlight pre');
        if ((kind === 'mermaid' && diagram) || (kind === 'code' && code && !diagram)) {
            return Reveal.getIndices(slide);
        }
    }
    return null;
}"""

# On the current slide: the colours of the first code cell's syntax-highlighting tokens.
CODE_JS = """() => {
    const pre = Reveal.getCurrentSlide().querySelector('.jp-CodeCell .jp-InputArea .highlight pre');
    const tokens = Array.from(pre.querySelectorAll('span[class]'));
    const text = getComputedStyle(pre).color;
    const colours = new Set(tokens.map(t => getComputedStyle(t).color));
    return {
        source: pre.innerText.slice(0, 80),
        tokens: tokens.length,
        colours: colours.size,
        coloured: tokens.filter(t => getComputedStyle(t).color !== text).length,
        visible: pre.getBoundingClientRect().width > 0,
    };
}"""

# On the current slide: the first Mermaid diagram, scrolled into view inside its slide (long
# slides scroll, see the template's CSS) when it does not fit below what comes before it.
DIAGRAM_JS = """() => {
    const slide = Reveal.getCurrentSlide();
    const svg = slide.querySelector('.course-mermaid svg');
    const before = svg.getBoundingClientRect(), frame = slide.getBoundingClientRect();
    if (before.bottom > frame.bottom) {
        slide.scrollTop += (before.top - frame.top) / Reveal.getScale() - 16;
    }
    const box = svg.getBoundingClientRect();
    const labels = Array.from(svg.querySelectorAll('text, foreignObject')).map(t => t.textContent.trim()).filter(t => t);
    return {
        width: box.width,
        height: box.height,
        inside: box.top >= frame.top - 1 && box.bottom <= frame.bottom + 1,
        shapes: svg.querySelectorAll('path, rect, polygon, circle').length,
        labels: labels.slice(0, 20),
    };
}"""


@dataclass
class Watch:
    """What a page asked the network for, and the errors it reported."""

    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def remote(self) -> list[str]:
        return [url for url in self.requests if urlsplit(url).scheme != "file"]


def _open(page: Page, deck: Path) -> Watch:
    watch = Watch()

    def console(message: ConsoleMessage) -> None:
        if message.type == "error":  # e.g. "Mermaid: ..." when a diagram does not parse
            watch.errors.append(f"console: {message.text}")

    page.on("request", lambda request: watch.requests.append(request.url))
    page.on("pageerror", lambda error: watch.errors.append(f"page error: {error}"))
    page.on("console", console)
    # Anything that is not a local file is recorded above, then refused: the test never waits on a network.
    page.route(re.compile(r"^(?!file:)"), lambda route: route.abort())
    page.goto(deck.as_uri())
    page.wait_for_function("() => window.Reveal && Reveal.isReady()", timeout=30_000)
    return watch


def _show(page: Page, h: int, v: int) -> dict[str, Any]:
    """Go to slide h/v with every fragment shown, as a presenter stepping through it would."""
    page.evaluate("([h, v]) => { Reveal.slide(h, v); while (Reveal.nextFragment()) {} }", [h, v])
    state = page.evaluate(STATE_JS)
    assert state["indices"]["h"] == h and (state["indices"]["v"] or 0) == v and state["present"], state
    return state


def _screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    png = SCREENSHOTS / name
    png.unlink(missing_ok=True)
    page.screenshot(path=str(png), animations="disabled")  # transitions finished: the slide as it settles
    assert png.stat().st_size > 10_000, f"{png}: {png.stat().st_size} bytes, an empty page?"
    return png


@pytest.mark.parametrize("notebook", EVERY_DECK, ids=_id)
def test_the_deck_presents_offline_in_a_browser(notebook: Path, editions: dict[str, Built], page: Page) -> None:
    deck = editions[_lang(notebook)].deck(notebook)
    watch = _open(page, deck.path)
    shot = _id(notebook)
    for old in SCREENSHOTS.glob(f"{shot}-*.png"):
        old.unlink()

    # reveal.js started, and sees the slides the build counted
    state = _show(page, 0, 0)
    assert state["ready"], "reveal.js did not initialise"
    assert state["sections"] > 0
    assert state["leaves"] == state["total"] == deck.slides, state

    # the title slide: the notebook's title as its heading
    assert state["heading"] == _plain(slides.notebook_title(notebook)), state["heading"]
    _screenshot(page, f"{shot}-title.png")

    # a code slide: the input is highlighted (tokens in colours other than the text's)
    where = page.evaluate(FIND_SLIDE_JS, "code")
    assert where is not None, "no slide shows a code cell"
    _show(page, where["h"], where["v"] or 0)
    code = page.evaluate(CODE_JS)
    assert code["visible"], code
    assert code["tokens"] >= 1 and code["coloured"] >= 1 and code["colours"] >= 2, f"no syntax highlighting: {code}"
    _screenshot(page, f"{shot}-code.png")

    # Mermaid: every block became a drawing, by the local mermaid.min.js
    expected = _mermaid_outputs(notebook)
    assert (state["diagrams"], state["unrendered"]) == (expected, 0), f"{expected} diagrams expected: {state}"
    if expected:
        where = page.evaluate(FIND_SLIDE_JS, "mermaid")
        assert where is not None
        _show(page, where["h"], where["v"] or 0)
        diagram = page.evaluate(DIAGRAM_JS)
        assert diagram["width"] > 100 and diagram["height"] > 50 and diagram["shapes"] > 3, diagram
        assert diagram["inside"], f"the diagram is not on the screen: {diagram}"
        assert diagram["labels"] and not any("Syntax error" in label for label in diagram["labels"]), diagram
        _screenshot(page, f"{shot}-mermaid.png")

    assert watch.remote() == [], f"requests that are not local files: {watch.remote()[:5]}"
    assert watch.errors == [], watch.errors


@pytest.mark.parametrize("notebook", EVERY_DECK, ids=_id)
def test_every_slide_fits_at_1280x800(notebook: Path, editions: dict[str, Built], page: Page) -> None:
    """Every slide, all fragments shown: its content no taller and no wider than the slide (tools/slides/fit.py)."""
    built = editions[_lang(notebook)]
    measured = fitting.measure_deck(page, built.deck(notebook).path)
    assert len(measured) == built.deck(notebook).slides
    assert all(s.height >= 700 and s.width >= 1000 for s in measured), "the deck is not its configured size"
    unfit = [s.describe() for s in measured if not s.fits]
    assert not unfit, (
        f"{len(unfit)} of {len(measured)} slides do not fit (python run.py slides --fit splits tall ones):\n" + "\n".join(unfit)
    )


def test_the_fit_check_sees_a_slide_that_does_not_fit(tmp_path: Path, built: Built, page: Page) -> None:
    """The measure is not blind: a slide with one cell too tall and a line too wide is reported as both."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Title", metadata={"slideshow": {"slide_type": "slide"}}),
        nbformat.v4.new_markdown_cell(
            "\n\n".join(f"Paragraph {i}." for i in range(40)), metadata={"slideshow": {"slide_type": "slide"}}
        ),
        nbformat.v4.new_markdown_cell("<div style='width: 2000px'>wide</div>", metadata={"slideshow": {"slide_type": "slide"}}),
    ]
    path = tmp_path / "99-too-big.ipynb"
    nbformat.write(nb, path)
    deck = slides.build_deck(path, built.output)
    title, tall, wide = fitting.measure_deck(page, deck.path)
    assert title.fits and tall.too_tall and not wide.too_tall
    assert wide.too_wide, wide
    assert tall.split_points() == []  # one cell: nothing to split; the notebook must change
