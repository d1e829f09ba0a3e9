"""Offline reveal.js decks of the course's notebooks: ``python run.py slides``.

One deck per notebook (``build/slides/NN-name.slides.html``) plus ``build/slides/index.html``
linking them all; the Russian edition's decks (``notebooks/ru/``) go to ``build/slides/ru/``, with
an index of their own in Russian (``--lang ru`` builds only those, ``--lang en`` only the English). The decks are made by nbconvert's ``SlidesExporter`` (what
``jupyter nbconvert --to slides`` runs) from the outputs stored in the notebooks: nothing is
executed. They work with no internet:

* reveal.js and Mermaid are local copies in ``build/slides/vendor/``, taken from the npm
  registry at exact versions (``npm pack``; the tarballs are checked against the registry's
  sha512 and kept in ``build/npm-cache/`` so later builds need no network);
* the nbconvert template in ``tools/slides/template/`` (``conf.json``, ``index.html.j2``)
  extends nbconvert's ``reveal`` template: it drops what that would fetch from CDNs (require.js,
  jQuery, MathJax, widgets, Mermaid from cdnjs) and renders the ```` ```mermaid ```` blocks
  (the ER diagrams of notebooks 04-06) with the local Mermaid before reveal.js starts;
* every path is relative, so ``build/slides/`` can be moved or zipped as a whole.

The build fails if a deck still refers to a remote script, style sheet or image. It needs
nbconvert (in the course's venv), not the course package:
``.venv/bin/python tools/slides/build.py [--output DIR] [NOTEBOOK ...]`` from any folder.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import html
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING

from markupsafe import Markup

if TYPE_CHECKING:
    from nbconvert import SlidesExporter

HERE = Path(__file__).resolve().parent
CHECKOUT = HERE.parents[1]
NOTEBOOKS_DIR = CHECKOUT / "notebooks"
TEMPLATE_DIR = HERE / "template"  # an nbconvert template folder: conf.json + index.html.j2
INDEX_TEMPLATE = HERE / "index-page.html.j2"  # build/slides/index.html
DEFAULT_OUTPUT = CHECKOUT / "build" / "slides"
DEFAULT_CACHE = CHECKOUT / "build" / "npm-cache"
THEME = "white"  # reveal.js themes that @import Google Fonts (simple, league, sky, ...) would need the internet


@dataclass(frozen=True)
class NpmPackage:
    """An exact release from the npm registry and the files of it that the decks use."""

    name: str
    version: str
    integrity: str  # the registry's dist.integrity (`npm view NAME@VERSION dist.integrity`)
    files: tuple[str, ...]  # files or folders inside the tarball's package/
    folder: str  # where they go, under vendor/

    @property
    def tarball_name(self) -> str:
        return f"{self.name.replace('@', '').replace('/', '-')}-{self.version}.tgz"


REVEAL = NpmPackage(
    "reveal.js",
    "5.2.1",
    "sha512-r7//6mIM5p34hFiDMvYfXgyjXqGRta+/psd9YtytsgRlrpRzFv4RbH76TXd2qD+7ZPZEbpBDhdRhJaFgfQ7zNQ==",
    (
        "LICENSE",
        "dist/reveal.css",
        "dist/reveal.js",
        f"dist/theme/{THEME}.css",
        "dist/theme/fonts/source-sans-pro",
        "plugin/notes/notes.js",
    ),
    "reveal.js",
)
# The Mermaid release JupyterLab 4.6.6 bundles, so a diagram looks the same in the lab and in the deck.
MERMAID = NpmPackage(
    "mermaid",
    "11.16.1",
    "sha512-TQsq6u22fAn3rek5VOubrhKPo1g5hwC3FXUN9hiyupTckcYiGuuKGkNQrKYwGJkXUxZdojwRG46gsSCFZMDp4g==",
    ("LICENSE", "dist/mermaid.min.js"),  # the self-contained build: a classic <script>, fine on file://
    "mermaid",
)
VENDORED = (REVEAL, MERMAID)


@dataclass(frozen=True)
class Deck:
    """One built deck."""

    notebook: Path
    path: Path
    title: str
    slides: int  # leaf <section>s: what the presenter steps through (fragments aside)


class SlidesError(RuntimeError):
    """The decks could not be built (no npm, a tampered tarball, a remote reference...)."""


# --------------------------------------------------------------------------- vendored files


def _sri(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def fetch(package: NpmPackage, cache: Path = DEFAULT_CACHE) -> Path:
    """The package's tarball in ``cache``, downloaded with ``npm pack`` unless already there."""
    cache.mkdir(parents=True, exist_ok=True)
    tarball = cache / package.tarball_name
    if tarball.exists() and _sri(tarball.read_bytes()) == package.integrity:
        return tarball
    npm = shutil.which("npm")
    if npm is None:
        raise SlidesError(
            f"npm is needed once to download {package.name}@{package.version} for the offline decks "
            f"(install Node.js, or put {package.tarball_name} in {cache})"
        )
    with tempfile.TemporaryDirectory(dir=cache) as scratch:
        run = subprocess.run(
            [npm, "pack", f"{package.name}@{package.version}", "--pack-destination", scratch, "--silent"],
            capture_output=True,
            text=True,
        )
        downloaded = Path(scratch) / package.tarball_name
        if run.returncode != 0 or not downloaded.exists():
            raise SlidesError(f"npm pack {package.name}@{package.version} failed:\n{run.stderr.strip()}")
        if _sri(downloaded.read_bytes()) != package.integrity:
            raise SlidesError(f"{package.name}@{package.version}: the tarball does not match the pinned sha512")
        downloaded.replace(tarball)  # atomic: a parallel build sees the whole file or none
    return tarball


def vendor(package: NpmPackage, destination: Path, cache: Path = DEFAULT_CACHE) -> Path:
    """Copy the package's files the decks use into ``destination/<folder>``; that folder."""
    target = destination / package.folder
    if target.exists():
        shutil.rmtree(target)
    wanted = tuple(f"package/{name}" for name in package.files)
    copied: set[str] = set()
    with tarfile.open(fetch(package, cache), "r:gz") as archive:
        for member in archive.getmembers():
            if not member.isfile() or not any(member.name == w or member.name.startswith(w + "/") for w in wanted):
                continue
            relative = Path(member.name).relative_to("package")
            if ".." in relative.parts:
                raise SlidesError(f"unsafe path in {package.tarball_name}: {member.name}")
            out = target / relative
            out.parent.mkdir(parents=True, exist_ok=True)
            source = archive.extractfile(member)
            assert source is not None
            out.write_bytes(source.read())
            copied.update(w for w in wanted if member.name == w or member.name.startswith(w + "/"))
    missing = set(wanted) - copied
    if missing:
        raise SlidesError(f"{package.tarball_name} lacks {sorted(missing)}")
    return target


# --------------------------------------------------------------------------- reading decks


@dataclass(frozen=True)
class Slide:
    """A leaf slide of a deck: its place (the deck's URL fragment ``#/h/v``) and what it shows."""

    h: int
    v: int
    has_code: bool
    has_mermaid: bool

    @property
    def fragment(self) -> str:
        return f"#/{self.h}/{self.v}"


class _DeckParser(HTMLParser):
    """The leaf slides and the local and remote references of a built page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[list[int]] = []  # one entry per open <section>: [child sections seen]
        self.top = -1  # index of the current top-level <section>
        self.classes: list[set[str]] = []  # classes seen inside each open <section>
        self.slides: list[Slide] = []
        self.remote: list[str] = []
        self.local: list[str] = []  # relative src of <script>/<img>, href of <link>
        self._raw: str | None = None  # inside <script> or <style>
        self._raw_text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        for key in ("src", "data-src", "poster"):
            if _is_remote(values.get(key, "")):
                self.remote.append(f"<{tag} {key}={values[key]}>")
        if tag == "link" and _is_remote(values.get("href", "")):
            self.remote.append(f"<link href={values['href']}>")
        for key in ("src", "href") if tag == "link" else ("src",):
            url = values.get(key, "")
            if key in values and not _is_remote(url) and not url.startswith(("data:", "#")):
                self.local.append(url)
        if self.classes:
            self.classes[-1].update(values.get("class", "").split())
        if tag == "section":
            if self.stack:
                self.stack[-1][0] += 1
            else:
                self.top += 1
            self.stack.append([0])
            self.classes.append(set())
        elif tag in ("script", "style"):
            self._raw, self._raw_text = tag, []

    def handle_endtag(self, tag: str) -> None:
        if tag == "section" and self.stack:
            children = self.stack.pop()[0]
            classes = self.classes.pop()
            if children == 0:
                v = self.stack[-1][0] - 1 if self.stack else 0
                self.slides.append(Slide(self.top, v, "jp-CodeCell" in classes, "mermaid" in classes))
            if self.classes:
                self.classes[-1].update(classes)
        elif tag == self._raw:
            text = "".join(self._raw_text)
            text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)  # comments (license banners, CSS credits)
            for url in re.findall(r"""(?i)\bhttps?://[^\s"'()<>]+""", text):
                self.remote.append(f"<{tag}> {url}")
            self._raw = None

    def handle_data(self, data: str) -> None:
        if self._raw is not None:
            self._raw_text.append(data)


def _is_remote(url: str) -> bool:
    return url.strip().lower().startswith(("http://", "https://", "//"))


def _parse(page: str) -> _DeckParser:
    parser = _DeckParser()
    parser.feed(page)
    parser.close()
    return parser


def slides_of(page: str) -> list[Slide]:
    """The deck's leaf ``<section>``s: the slides a presenter steps through (fragments aside)."""
    return _parse(page).slides


def remote_references(page: str) -> list[str]:
    """What ``page`` would load from the network: remote src/href, or URLs in its scripts and styles."""
    return _parse(page).remote


def local_references(page: str) -> list[str]:
    """The relative paths of the scripts, style sheets and images ``page`` loads."""
    return _parse(page).local


def notebook_title(notebook: Path) -> str:
    """The first Markdown heading of the notebook (its title slide), else its file name."""
    import nbformat

    nb = nbformat.read(notebook, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            match = re.search(r"^#{1,6}\s+(.+?)\s*#*\s*$", cell.source, flags=re.M)
            if match:
                return match.group(1)
    return notebook.stem


# --------------------------------------------------------------------------- building


EDITIONS = {"en": NOTEBOOKS_DIR, "ru": NOTEBOOKS_DIR / "ru"}  # where each edition's notebooks are


def course_notebooks(folder: Path = NOTEBOOKS_DIR) -> list[Path]:
    """The course's notebooks, in order (``NN-name.ipynb``)."""
    return sorted(folder.glob("[0-9][0-9]-*.ipynb"))


def _exporter(width: int, height: int) -> SlidesExporter:
    """nbconvert's SlidesExporter with the course's template folder (``tools/slides/template``)."""
    from nbconvert import SlidesExporter
    from traitlets.config import Config

    config = Config()
    # As `jupyter nbconvert --to slides --template template --TemplateExporter.extra_template_basedirs=tools/slides`:
    # the folder's conf.json names nbconvert's reveal template as its base.
    config.SlidesExporter.extra_template_basedirs = [str(TEMPLATE_DIR.parent)]  # not the default (the cwd)
    config.SlidesExporter.template_name = TEMPLATE_DIR.name
    config.SlidesExporter.reveal_url_prefix = f"vendor/{REVEAL.folder}"  # relative: the folder can move
    config.SlidesExporter.reveal_theme = THEME
    config.SlidesExporter.reveal_transition = "slide"
    config.SlidesExporter.reveal_number = "c/t"
    config.SlidesExporter.reveal_width = str(width)
    config.SlidesExporter.reveal_height = str(height)
    config.SlidesExporter.embed_images = True  # Markdown images travel inside the deck
    return SlidesExporter(config=config)


# The decks' own size (reveal.js scales it to the window); RISE gets the same in each notebook's
# metadata ("rise": {"width", "height"}, written by `slides --fit`), so both split alike.
WIDTH, HEIGHT = 1100, 760


def build_deck(notebook: Path, output: Path, width: int = WIDTH, height: int = HEIGHT) -> Deck:
    """Write ``output/<notebook>.slides.html`` from the notebook's stored outputs (no execution)."""
    import nbformat

    nb = nbformat.read(notebook, as_version=4)
    page, _ = _exporter(width, height).from_notebook_node(
        nb, resources={"metadata": {"name": notebook.stem, "path": str(notebook.parent)}}
    )
    parsed = _parse(page)
    if parsed.remote:
        raise SlidesError(f"{notebook.name}: the deck would load from the network: {parsed.remote[:5]}")
    missing = [url for url in parsed.local if not (output / url.split("?")[0]).is_file()]
    if missing:
        raise SlidesError(f"{notebook.name}: the deck refers to files that are not there: {missing[:5]}")
    path = output / f"{notebook.stem}.slides.html"
    path.write_text(page, encoding="utf-8")
    return Deck(notebook, path, notebook_title(notebook), len(parsed.slides))


def _inline_markdown(text: str) -> Markup:
    """A title's `code` and *emphasis*, escaped: enough Markdown for the index."""
    out = html.escape(text, quote=False)
    out = re.sub(r"`([^`]+)`", r"<code>\1</code>", out)
    return Markup(re.sub(r"\*([^*]+)\*", r"<em>\1</em>", out))


def write_index(decks: Sequence[Deck], output: Path, lang: str = "en") -> Path:
    """``output/index.html``: every deck, linked by its title (``tools/slides/index-page.html.j2``)."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    env = Environment(
        loader=FileSystemLoader(INDEX_TEMPLATE.parent), autoescape=select_autoescape(["html.j2"]), keep_trailing_newline=True
    )
    env.filters["inline_markdown"] = _inline_markdown
    page = env.get_template(INDEX_TEMPLATE.name).render(
        decks=decks, lang=lang, ru=lang == "en" and bool(course_notebooks(EDITIONS["ru"]))
    )
    index = output / "index.html"
    index.write_text(page, encoding="utf-8")
    return index


def build_slides(
    output: Path = DEFAULT_OUTPUT,
    notebooks: Iterable[Path] | None = None,
    cache: Path = DEFAULT_CACHE,
    lang: str = "en",
) -> list[Deck]:
    """Build every deck of the ``lang`` edition, the local reveal.js and Mermaid, and the index, into ``output``."""
    output.mkdir(parents=True, exist_ok=True)
    for package in VENDORED:
        vendor(package, output / "vendor", cache)
    decks = [build_deck(nb, output) for nb in (course_notebooks(EDITIONS[lang]) if notebooks is None else notebooks)]
    if not decks:
        raise SlidesError("no notebooks to build")
    write_index(decks, output, lang)
    return decks


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python run.py slides", description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="where the decks go (default: build/slides)")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="npm tarballs (default: build/npm-cache)")
    parser.add_argument(
        "--fit",
        action="store_true",
        help="measure every slide in Chromium at 1280x800 and split the ones that do not fit into subslides "
        "(writes the notebooks' slideshow metadata; see tools/slides/fit.py)",
    )
    parser.add_argument(
        "--lang", choices=sorted(EDITIONS), help="one edition only (default: both; the Russian decks go to OUTPUT/ru)"
    )
    parser.add_argument("notebooks", nargs="*", type=Path, help="notebooks to build (default: all of them)")
    args = parser.parse_args(argv)
    editions = [args.lang] if args.lang else [lang for lang, folder in EDITIONS.items() if course_notebooks(folder)]
    if args.fit:
        from fit import fit  # tools/slides/fit.py, beside this script

        notebooks = [p.resolve() for p in args.notebooks] or [nb for lang in editions for nb in course_notebooks(EDITIONS[lang])]
        unfit = fit(notebooks, args.output.resolve())
        for slide in unfit:
            print(f"does not fit: {slide.describe()}")
        print(f"{len(notebooks)} decks measured; {len(unfit)} slides still do not fit")
        if unfit:
            return 1
    chosen = [p.resolve() for p in args.notebooks]
    for lang in editions:
        output = args.output.resolve() / ("" if lang == "en" else lang)
        mine = [p for p in chosen if p.parent == EDITIONS[lang].resolve()] if chosen else None
        if mine == []:
            continue
        try:
            decks = build_slides(output, mine, args.cache.resolve(), lang)
        except SlidesError as error:
            print(f"{parser.prog}: {error}", file=sys.stderr)
            return 1
        for deck in decks:
            shown = deck.path.relative_to(CHECKOUT) if deck.path.is_relative_to(CHECKOUT) else deck.path
            print(f"  {deck.slides:3d} slides  {shown}")
        index = output / "index.html"
        print(f"{len(decks)} decks, offline (reveal.js {REVEAL.version}, Mermaid {MERMAID.version}): open {index.as_uri()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
