"""`make slides`: one offline reveal.js deck per notebook, an index, and a look at them in Chromium."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import tempfile
import zlib
from pathlib import Path

import nbformat
import pytest

from course import slides

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = slides.course_notebooks()
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = ROOT / "build" / "screenshots"  # git-ignored, kept to look at
REMOTE_TAG = re.compile(r"""<(?:script|img|iframe|source|video|audio)\b[^>]*\bsrc\s*=\s*["']?\s*(?:https?:)?//|<link\b[^>]*\bhref\s*=\s*["']?\s*(?:https?:)?//""", re.I)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[slides.Deck]]:
    cached = all((slides.DEFAULT_CACHE / p.tarball_name).exists() for p in slides.VENDORED)
    if not cached and shutil.which("npm") is None:
        pytest.skip("npm not installed: the decks take reveal.js and Mermaid from the npm registry once")
    output = tmp_path_factory.mktemp("slides")
    return output, slides.build_slides(output)


def test_every_notebook_has_a_deck_and_the_index_links_them_all(built: tuple[Path, list[slides.Deck]]) -> None:
    output, decks = built
    assert [d.notebook.name for d in decks] == [p.name for p in NOTEBOOKS]
    index = (output / "index.html").read_text(encoding="utf-8")
    for deck in decks:
        assert deck.path == output / f"{deck.notebook.stem}.slides.html" and deck.path.is_file()
        assert deck.slides >= 3, f"{deck.path.name}: {deck.slides} slides"
        assert deck.slides == len(slides.slides_of(deck.path.read_text(encoding="utf-8")))
        link = re.search(rf'<a href="{re.escape(deck.path.name)}">(.+?)</a>', index)
        assert link, f"index.html does not link {deck.path.name}"
        title = re.sub(r"<[^>]+>", "", link.group(1))
        assert title.startswith(deck.notebook.name[:2]), f"{deck.path.name}: listed as {title!r}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_first_cell_opens_the_deck_as_a_slide(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    assert nb.cells[0].metadata.get("slideshow", {}).get("slide_type") == "slide"
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# "), "the title slide"


def test_each_deck_opens_on_its_title(built: tuple[Path, list[slides.Deck]]) -> None:
    for deck in built[1]:
        page = deck.path.read_text(encoding="utf-8")
        first = page.index("<section")
        heading = re.search(r"<h1[^>]*>(.*?)</h1>", page[first:], re.S)
        assert heading and deck.notebook.name[:2] in heading.group(1), deck.path.name
        assert page.index("<h1", first) < page.index("</section>", first), "the title is on the first slide"


def test_nothing_loads_from_the_network(built: tuple[Path, list[slides.Deck]]) -> None:
    output, decks = built
    for page_path in [d.path for d in decks] + [output / "index.html"]:
        page = page_path.read_text(encoding="utf-8")
        assert not REMOTE_TAG.search(page), f"{page_path.name}: {REMOTE_TAG.search(page).group(0)[:120]}"  # type: ignore[union-attr]
        assert slides.remote_references(page) == [], page_path.name  # also URLs inside <script> and <style>
        for url in slides.local_references(page):
            assert not url.startswith(("/", "file:")), f"{page_path.name}: {url} is absolute: the folder cannot move"
            assert (output / url).is_file(), f"{page_path.name}: {url} is missing"
        assert str(output) not in page and "file://" not in page
    for css in (output / "vendor").rglob("*.css"):  # the theme must not @import web fonts
        assert not re.search(r"""(@import|url\()\s*["']?\s*(https?:)?//""", css.read_text(encoding="utf-8")), css
    scripts = [m.group(1) for d in decks for m in re.finditer(r"<script[^>]*>(.*?)</script>", d.path.read_text(encoding="utf-8"), re.S)]
    assert not any("cdn" in s.lower() or "unpkg" in s.lower() for s in scripts)


def _mermaid_outputs(notebook: Path) -> int:
    nb = nbformat.read(notebook, as_version=4)
    return sum(
        "```mermaid" in str(out.get("data", {}).get("text/markdown", ""))
        for cell in nb.cells if cell.cell_type == "code" for out in cell.get("outputs", [])
    )


def test_mermaid_diagrams_are_kept_for_the_local_renderer(built: tuple[Path, list[slides.Deck]]) -> None:
    with_diagrams = [d for d in built[1] if _mermaid_outputs(d.notebook)]
    if not with_diagrams:
        pytest.skip("no notebook shows a Mermaid diagram")
    for deck in with_diagrams:
        page = deck.path.read_text(encoding="utf-8")
        assert page.count('<pre class="mermaid">') == _mermaid_outputs(deck.notebook), deck.path.name
        assert any(s.has_mermaid for s in slides.slides_of(page))
        assert "vendor/mermaid/dist/mermaid.min.js" in page and "mermaid.render(" in page


# --------------------------------------------------------------------------- in a real browser


def _chromium(*args: str) -> subprocess.CompletedProcess[str]:
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    try:
        return subprocess.run(
            [
                str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                f"--user-data-dir={profile}", "--window-size=1280,800",
                "--virtual-time-budget=15000",  # let reveal.js lay out and Mermaid draw before the shot
                *args,
            ],
            capture_output=True, text=True, timeout=180,
        )
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def _png_pixels(path: Path) -> tuple[int, int, list[bytes], int]:
    """(width, height, rows, bytes per pixel) of an 8-bit RGB/RGBA PNG, with the stdlib only."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", chunk[:10])
            assert depth == 8 and colour in (2, 6), "8-bit RGB or RGBA"
            bpp = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    raw, stride, rows, previous = zlib.decompress(idat), width * bpp, [], bytes(width * bpp)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if kind == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 255
        elif kind == 2:
            line = bytearray((a + b) & 255 for a, b in zip(line, previous))
        elif kind == 3:
            for i in range(stride):
                line[i] = (line[i] + ((line[i - bpp] if i >= bpp else 0) + previous[i]) // 2) & 255
        elif kind == 4:
            for i in range(stride):
                a, b, c = (line[i - bpp] if i >= bpp else 0), previous[i], (previous[i - bpp] if i >= bpp else 0)
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        previous = bytes(line)
    return width, height, rows, bpp


def _colours(path: Path, step: int = 8) -> list[tuple[int, int, int]]:
    width, height, rows, bpp = _png_pixels(path)
    assert (width, height) == (1280, 800)
    return [tuple(rows[y][x * bpp:x * bpp + 3]) for y in range(0, height, step) for x in range(0, width, step)]  # type: ignore[misc]


def _screenshot(deck: Path, fragment: str, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    png = SCREENSHOTS / name
    png.unlink(missing_ok=True)
    run = _chromium(f"--screenshot={png}", deck.as_uri() + fragment)
    assert run.returncode == 0 and png.is_file(), run.stderr[-2000:]
    assert png.stat().st_size > 10_000, f"{png}: {png.stat().st_size} bytes, an empty page?"
    return png


@pytest.mark.browser
def test_a_deck_renders_offline_in_chromium(built: tuple[Path, list[slides.Deck]]) -> None:
    if not CHROMIUM.exists():
        pytest.skip("Chromium not installed: apt-get install chromium")
    # a deck with a Mermaid diagram (notebooks 04-06) if there is one
    pages = {d: d.path.read_text(encoding="utf-8") for d in built[1]}
    deck = next((d for d, page in pages.items() if '<pre class="mermaid">' in page), built[1][0])
    page = pages[deck]
    deck_slides = slides.slides_of(page)
    code = next(s for s in deck_slides if s.has_code and not s.has_mermaid)
    diagram = next((s for s in deck_slides if s.has_mermaid), None)

    title = _colours(_screenshot(deck.path, "#/0", f"{deck.notebook.stem}-title.png"))
    assert len(set(title)) > 3, "the title slide is a blank page"
    assert sum(1 for c in title if max(c) < 90) > 20, "no dark text on the title slide"
    assert sum(1 for c in title if min(c) > 240) > len(title) // 2, "not the white theme's page"

    shot = _colours(_screenshot(deck.path, code.fragment + "/99", f"{deck.notebook.stem}-code.png"))  # /99: every fragment shown
    assert len(set(shot)) > 5, "the code slide shows nothing"
    # the code cell's grey input area (JupyterLab's --jp-cell-editor-background) is there
    assert sum(1 for c in shot if 235 <= min(c) and max(c) <= 248 and max(c) - min(c) < 4) > 50, "no code cell on the slide"

    if diagram is None:
        return
    shot = _colours(_screenshot(deck.path, diagram.fragment + "/99", f"{deck.notebook.stem}-mermaid.png"), step=4)
    # Mermaid's default theme fills ER entities with lavender (#ECECFF): drawn by the local mermaid.min.js
    assert sum(1 for r, g, b in shot if abs(r - 236) < 6 and abs(g - 236) < 6 and b > 250) > 20, "no Mermaid diagram drawn"
    dom = _chromium("--dump-dom", deck.path.as_uri() + diagram.fragment)
    assert dom.returncode == 0, dom.stderr[-2000:]
    blocks = page.count('<pre class="mermaid">')
    assert dom.stdout.count('<pre class="mermaid">') == 0, "a Mermaid block was left as text"
    assert dom.stdout.count('class="course-mermaid"') == blocks, "every Mermaid block became a diagram"
    assert "Syntax error" not in dom.stdout
    assert 'class="reveal' in dom.stdout and "ready" in dom.stdout, "reveal.js started"


def test_the_command_line_builds_a_subset(tmp_path: Path, built: tuple[Path, list[slides.Deck]]) -> None:
    assert slides.main(["--output", str(tmp_path), str(NOTEBOOKS[0])]) == 0
    assert (tmp_path / f"{NOTEBOOKS[0].stem}.slides.html").is_file()
    assert (tmp_path / "vendor" / "reveal.js" / "dist" / "reveal.js").is_file()
    assert NOTEBOOKS[0].stem in (tmp_path / "index.html").read_text(encoding="utf-8")
