"""The one browser of the test suite: the system's Chromium or Chrome, driven by Playwright.

A pytest plugin, loaded by ``tests/conftest.py`` (``pytest_plugins = ["browser"]``). Every
browser test asks for ``page`` (a fresh 1280×800 page) or ``browser``; the executable and its
flags are chosen here and nowhere else.

* **Which browser:** ``COURSE_CHROME`` (a path, or a command on ``PATH``) if set; else the
  first of ``chromium``, ``chromium-browser``, ``google-chrome``, ``google-chrome-stable``,
  ``chrome`` on ``PATH``; else Chrome or Chromium where their installers put them on macOS
  and Windows. Playwright's own browser downloads are never used (no ``playwright install``).
  Without one, the browser tests are skipped with a reason that names ``COURSE_CHROME``.
* **One launch per test module, not per session.** Between two calls, Playwright's sync API
  keeps its event loop marked as running in the thread (on purpose: see
  ``playwright/_impl/_greenlets.py``), so while a browser is up no test in the same process
  can call ``asyncio.run()`` (the settings tests, pytest-alembic and the ``alembic_engine``
  fixture do). A module-scoped browser is closed before the next module's first test, in
  whatever order pytest or pytest-xdist runs the files; a session-scoped one would break the
  asyncio tests that a worker runs after a browser test.
* Tests that use the browser get the ``browser`` mark: ``-m "not browser"`` leaves them out.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CHROME_VARIABLE = "COURSE_CHROME"
CHROME_COMMANDS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
CHROME_ARGS = (
    "--no-sandbox",  # Chromium refuses to start as root (containers, CI) with its sandbox on
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",  # no update checks, no safe-browsing lists: the tests stay offline
    "--disable-component-update",
    "--disable-sync",
)
VIEWPORT = {"width": 1280, "height": 800}


def _installed_paths() -> list[Path]:
    """Where the Chrome and Chromium installers put the executable on macOS and Windows."""
    paths = [
        Path("/Applications/Google Chrome.app/Contents/MacOS/Google Chrome"),
        Path("/Applications/Chromium.app/Contents/MacOS/Chromium"),
    ]
    for variable in ("ProgramFiles", "ProgramFiles(x86)", "LocalAppData"):
        folder = os.environ.get(variable)
        if folder:
            paths.append(Path(folder) / "Google" / "Chrome" / "Application" / "chrome.exe")
    return paths


def find_chrome() -> str | None:
    """The Chromium or Chrome executable the browser tests use, or None.

    ``COURSE_CHROME`` wins when it is set (and is then the only candidate: a wrong value is
    reported, not replaced by another browser); then the usual commands on ``PATH``; then the
    usual install locations on macOS and Windows.
    """
    configured = os.environ.get(CHROME_VARIABLE, "").strip()
    if configured:
        return shutil.which(configured)
    for command in CHROME_COMMANDS:
        found = shutil.which(command)
        if found:
            return found
    for path in _installed_paths():
        if path.is_file() and os.access(path, os.X_OK):
            return str(path)
    return None


def _not_found_reason() -> str:
    configured = os.environ.get(CHROME_VARIABLE, "").strip()
    if configured:
        return f"{CHROME_VARIABLE}={configured!r} is not an executable Chromium or Chrome"
    return (
        f"no Chromium or Chrome found ({', '.join(CHROME_COMMANDS)} on PATH, or the usual install folders): "
        f"install one (e.g. apt-get install chromium) or set {CHROME_VARIABLE} to its executable"
    )


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Chromium/Chrome for the tests of one module (see the module's docstring for why)."""
    executable = find_chrome()
    if executable is None:
        pytest.skip(_not_found_reason())
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed: pip install -r requirements.txt")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=list(CHROME_ARGS), headless=True)
        try:
            yield launched
        finally:
            launched.close()


def new_page(browser: Browser, width: int = VIEWPORT["width"], height: int = VIEWPORT["height"]) -> Page:
    """A page in a context of its own (no cookies or storage shared with other pages); close its ``.context``."""
    return browser.new_context(viewport={"width": width, "height": height}).new_page()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh 1280×800 page, closed (with its context) after the test."""
    opened = new_page(browser)
    try:
        yield opened
    finally:
        opened.context.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "browser" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)
