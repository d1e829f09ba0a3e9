"""Does every slide fit? Measure the decks in Chromium, and split the slides that do not.

``python run.py slides --fit`` builds the decks, opens each one in headless Chromium at
1280×800 (the deck itself is ``build.WIDTH``×``build.HEIGHT``, scaled to the window), shows
every slide with all of its fragments, and measures it in the deck's own pixels:

* its content's height against the slide's (``section.scrollHeight`` against ``clientHeight``),
* anything inside it that is wider than its box (a code line or a table running off the right).

A slide that is too tall is split: the first cell that would not fit becomes a new
``subslide`` (in the notebook's ``metadata.slideshow``, so RISE presents the same split), and
so on down the slide. On the slides an output scrolls in a box once it is taller than about
20 lines (the notebook shows it whole). A single cell still taller than a whole slide cannot be
split: it is tagged ``slide-scroll``, and its code and its output then each scroll in a box of
about half the slide. (Shortening the cell in the notebook is often better: do that first.)
RISE presents the same splits (the metadata is the notebook's) and its slides scroll
(``"rise": {"scroll": true}``, written in each notebook's metadata too).

``measure_deck`` is what ``tests/tools/test_slides.py`` checks on every slide of every deck.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playwright.sync_api import Page

ROOT = Path(__file__).resolve().parents[2]
SLACK_PX = 2  # rounding: a slide 1 px over is a slide that fits
# A cell taller than a slide on its own (a whole file the learner types, a long edit and its diff):
# on the slide its code and its output each scroll in a box of half the slide (the template's CSS).
SCROLL_TAG = "slide-scroll"

# Every leaf slide, all fragments shown: its size, its content's size, its cells, and what runs off the right.
MEASURE_JS = """() => {
    const scale = Reveal.getScale(), size = Reveal.getConfig();
    const slides = [];
    for (const section of document.querySelectorAll('.reveal .slides section:not(:has(section))')) {
        const where = Reveal.getIndices(section);
        Reveal.slide(where.h, where.v || 0);
        while (Reveal.nextFragment()) {}
        const frame = section.getBoundingClientRect();
        const style = getComputedStyle(section);
        const cells = Array.from(section.querySelectorAll(':scope .jp-Cell')).filter(c => c.id).map(c => {
            const box = c.getBoundingClientRect();
            return {id: c.id.replace(/^cell-id=/, ''), top: (box.top - frame.top) / scale + section.scrollTop,
                    height: box.height / scale, markdown: c.classList.contains('jp-MarkdownCell')};
        });
        const wide = [];
        for (const el of section.querySelectorAll('pre, table, .jp-OutputArea-output, .jp-RenderedHTMLCommon, img, svg')) {
            const box = el.getBoundingClientRect();
            const over = Math.max(el.scrollWidth - el.clientWidth, (box.right - frame.right) / scale);
            if (over > 2) { wide.push({tag: el.tagName.toLowerCase(), over: Math.round(over), text: (el.innerText || '').slice(0, 60)}); }
        }
        const heading = section.querySelector('h1, h2, h3');
        slides.push({
            h: where.h, v: where.v || 0,
            heading: heading ? heading.innerText.trim() : '',
            height: size.height, content: section.scrollHeight,
            width: size.width, content_width: section.scrollWidth,
            padding_top: parseFloat(style.paddingTop) || 0,
            cells, wide,
        });
    }
    Reveal.slide(0, 0);
    return slides;
}"""


@dataclass
class Cell:
    id: str
    top: float
    height: float
    markdown: bool = False


@dataclass
class SlideFit:
    deck: str
    h: int
    v: int
    heading: str
    height: int
    content: int
    width: int
    content_width: int
    padding_top: float
    cells: list[Cell] = field(default_factory=list)
    wide: list[dict[str, Any]] = field(default_factory=list)

    @property
    def too_tall(self) -> bool:
        return self.content > self.height + SLACK_PX

    @property
    def too_wide(self) -> bool:
        return self.content_width > self.width + SLACK_PX or bool(self.wide)

    @property
    def fits(self) -> bool:
        return not (self.too_tall or self.too_wide)

    def describe(self) -> str:
        problems = []
        if self.too_tall:
            problems.append(f"{self.content} px tall, {self.height} px fit")
        if self.content_width > self.width + SLACK_PX:
            problems.append(f"{self.content_width} px wide, {self.width} px fit")
        problems += [f"a <{w['tag']}> runs {w['over']} px off the right ({w['text']!r})" for w in self.wide[:3]]
        return f"{self.deck} slide {self.h}/{self.v} {self.heading[:50]!r}: " + "; ".join(problems)

    def split_points(self) -> list[str]:
        """Ids of the cells that should start a new subslide so that each part fits (greedy, top to bottom).

        A code cell that does not fit takes the Markdown cell just before it along (the text that
        introduces it), unless that text opens the part.
        """
        limit = self.height - 2 * self.padding_top - SLACK_PX
        splits: list[str] = []
        start = 0
        for i in range(1, len(self.cells)):
            cell = self.cells[i]
            if cell.top + cell.height - self.cells[start].top > limit:
                at = i - 1 if (not cell.markdown and self.cells[i - 1].markdown and i - 1 > start) else i
                splits.append(self.cells[at].id)
                start = at
        return splits

    def cells_too_tall(self) -> list[str]:
        """Ids of the cells taller than a whole slide: splitting cannot help them."""
        limit = self.height - 2 * self.padding_top - SLACK_PX
        return [cell.id for cell in self.cells if cell.height > limit]


def measure_deck(page: Page, deck: Path) -> list[SlideFit]:
    """Every slide of ``deck`` (an offline .slides.html), measured in an open browser page."""
    page.goto(deck.as_uri())
    page.wait_for_function("() => window.Reveal && Reveal.isReady()", timeout=30_000)
    page.evaluate("() => document.fonts.ready")
    found = page.evaluate(MEASURE_JS)
    return [
        SlideFit(deck=deck.name, **{k: v for k, v in s.items() if k != "cells"}, cells=[Cell(**c) for c in s["cells"]])
        for s in found
    ]


def _browser_module() -> Any:
    """tests/browser.py, for ``find_chrome`` and the Chromium flags the tests use (one place for both)."""
    spec = importlib.util.spec_from_file_location("course_test_browser", ROOT / "tests" / "browser.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def rise_settings(width: int, height: int) -> dict[str, Any]:
    """RISE's settings for a notebook: the decks' size, and a slide that is still too tall scrolls."""
    return {"width": width, "height": height, "scroll": True}


def split_notebook(
    notebook: Path, cell_ids: Sequence[str], rise: dict[str, Any] | None = None, scroll_ids: Sequence[str] = ()
) -> int:
    """Make each of ``cell_ids`` start a subslide in ``notebook`` (metadata only: outputs stay as executed).

    ``rise``: the notebook's RISE settings, set too when given. ``scroll_ids``: cells tagged
    ``SCROLL_TAG`` (their code and output scroll in boxes on the slide).
    """
    data = json.loads(notebook.read_text(encoding="utf-8"))
    changed = 0
    for cell in data["cells"]:
        tags = cell.setdefault("metadata", {}).get("tags", [])
        if cell.get("id") in scroll_ids and SCROLL_TAG not in tags:
            cell["metadata"]["tags"] = [*tags, SCROLL_TAG]
            changed += 1
    if rise is not None and data["metadata"].get("rise") != rise:
        data["metadata"]["rise"] = rise
        changed += 1
    for cell in data["cells"]:
        if cell.get("id") in cell_ids:
            slideshow = cell.setdefault("metadata", {}).setdefault("slideshow", {})
            if slideshow.get("slide_type") not in ("slide", "subslide"):
                slideshow["slide_type"] = "subslide"
                changed += 1
    if changed:
        notebook.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return changed


def fit(notebooks: Sequence[Path], output: Path, passes: int = 4) -> list[SlideFit]:
    """Split the notebooks' overflowing slides until they fit (or cannot be split); what still does not fit."""
    from playwright.sync_api import sync_playwright

    sys.path.insert(0, str(Path(__file__).parent))
    import build

    browser_helpers = _browser_module()
    chrome = browser_helpers.find_chrome()
    if chrome is None:
        raise SystemExit(f"slides --fit needs Chromium or Chrome: {browser_helpers._not_found_reason()}")
    remaining: dict[Path, list[SlideFit]] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chrome, args=list(browser_helpers.CHROME_ARGS))
        page = browser.new_context(viewport=browser_helpers.VIEWPORT).new_page()
        todo = list(notebooks)
        for number in range(1, passes + 1):
            decks = build.build_slides(output, todo)
            again = []
            for deck in decks:
                slides = [s for s in measure_deck(page, deck.path) if not s.fits]
                remaining[deck.notebook] = slides
                splits = [cell for s in slides if s.too_tall for cell in s.split_points()]
                scroll = [cell for s in slides if s.too_tall for cell in s.cells_too_tall()]
                rise = rise_settings(build.WIDTH, build.HEIGHT)
                if split_notebook(deck.notebook, splits, rise, scroll) and (splits or scroll):
                    print(f"pass {number}: {deck.notebook.name}: {len(splits)} new subslides, {len(scroll)} cells scroll")
                    again.append(deck.notebook)
            if not again:
                break
            todo = again
        browser.close()
    return [slide for slides in remaining.values() for slide in slides]
