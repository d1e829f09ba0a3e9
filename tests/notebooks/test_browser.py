"""A learner's first minutes: JupyterLab opens notebook 00, Run All Cells, every cell works, and exercise 00.1
can be answered wrongly, then rightly, in the browser.

JupyterLab is started with the command line ``python run.py lab`` uses (``course.cli.lab_command``),
on a free loopback port with a token and without opening a browser, and driven by the suite's
headless Chromium (the ``page`` fixture of ``tests/browser.py``). The run is kept apart from
everything else:

* the root dir is a temporary folder holding a *copy* of ``00-welcome-and-setup.ipynb``: the
  kernel imports ``course`` from the venv (where it is installed), and ``course`` still works
  on this checkout. The notebook in the repository is never opened by the UI, so neither a
  save nor JupyterLab's autosave can touch it (checked at the end);
* the server's environment has ``COURSE_WORKSPACE_SUFFIX=-browser``, so the kernel gets the
  workspace ``00-welcome-and-setup-browser`` and its own database, and does not collide
  with nbval running notebook 00 at the same time;
* JupyterLab's user settings, workspaces and runtime files go to temporary folders (no state
  from a learner's own sessions), and it is told not to fetch news (no network). The course's
  own JupyterLab settings (no news popup) are installed as ``python run.py lab`` installs them.

The Russian edition gets the same first minutes: ``run.py lab --lang ru``'s command line and
settings (the interface in Russian, from the pinned language pack), the Russian notebook 00, Run
All through the Russian menu, exercise 00.1 answered wrongly, then rightly, the verdicts in Russian.
Both tests are in this module, so they run one after the other (they set the same venv's JupyterLab
overrides to their language).

The screenshots are kept in ``build/browser/`` (git-ignored) to look at.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from course.cli import install_lab_overrides, lab_command
from course.i18n import translations

if TYPE_CHECKING:
    from playwright.sync_api import Page

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "00-welcome-and-setup.ipynb"
NOTEBOOK_RU = ROOT / "notebooks" / "ru" / "00-welcome-and-setup.ipynb"
SCREENSHOT = ROOT / "build" / "browser" / "00-welcome-and-setup.png"
START_TIMEOUT = 90  # seconds for JupyterLab to answer
RUN_TIMEOUT = 240  # seconds for Run All Cells to finish (the setup call, %alembic, %sql)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Lab:
    def __init__(self, url: str, token: str, process: subprocess.Popen[bytes], log: Path) -> None:
        self.url, self.token, self.process, self.log = url, token, process, log

    def api(self, path: str, method: str = "GET") -> int:
        request = urllib.request.Request(
            self.url + path,
            method=method,
            headers={"Authorization": f"token {self.token}"},
            data=b"" if method == "POST" else None,
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


@pytest.fixture
def lab(tmp_path: Path, page: Page) -> Iterator[Lab]:
    """JupyterLab on a copy of notebook 00. Asks for ``page`` first: without a browser it is not started."""
    yield from _lab(tmp_path, NOTEBOOK, "en")


@pytest.fixture
def lab_ru(tmp_path: Path, page: Page) -> Iterator[Lab]:
    """JupyterLab in Russian on a copy of the Russian notebook 00, as ``python run.py lab --lang ru`` starts it."""
    yield from _lab(tmp_path, NOTEBOOK_RU, "ru")


def _lab(tmp_path: Path, notebook: Path, lang: str) -> Iterator[Lab]:
    root = tmp_path / "root"
    root.mkdir()
    shutil.copy2(notebook, root / notebook.name)
    env = dict(os.environ)
    env["COURSE_WORKSPACE_SUFFIX"] = "-browser"
    # The kernel a learner gets, not the suite's forked ones (tests/conftest.py put those first on JUPYTER_PATH).
    suite_kernels = env.pop("COURSE_TEST_KERNELS", None)
    kept = [p for p in env.pop("JUPYTER_PATH", "").split(os.pathsep) if p and p != suite_kernels]
    if kept:
        env["JUPYTER_PATH"] = os.pathsep.join(kept)
    for name, sub in (
        ("JUPYTERLAB_SETTINGS_DIR", "settings"),
        ("JUPYTERLAB_WORKSPACES_DIR", "workspaces"),
        ("JUPYTER_RUNTIME_DIR", "runtime"),
    ):
        env[name] = str(tmp_path / sub)
    install_lab_overrides(lang=lang)  # as `python run.py lab` does: the course's JupyterLab settings (no news popup)

    port, token = _free_port(), uuid.uuid4().hex
    command = lab_command(
        lang=lang,
        root_dir=root,
        extra=[
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}",
            "--LabApp.expose_app_in_browser=True",  # window.jupyterapp: read the cells' outputs from the model
            "--LabApp.news_url=None",
            f"--LabApp.user_settings_dir={tmp_path / 'settings'}",
            f"--LabApp.workspaces_dir={tmp_path / 'workspaces'}",
        ],
    )
    log = tmp_path / "jupyterlab.log"
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    server = Lab(f"http://127.0.0.1:{port}", token, process, log)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if process.poll() is not None:
                pytest.fail(f"JupyterLab exited with {process.returncode}:\n{server.log_tail()}")
            try:
                if server.api("/api/status") == 200:
                    break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not answer within {START_TIMEOUT} s:\n{server.log_tail()}")
            time.sleep(0.5)
        yield server
    finally:
        _shut_down(server)


def _shut_down(server: Lab) -> None:
    """POST /api/shutdown (JupyterLab stops its kernels and exits), then wait; kill on timeout."""
    if server.process.poll() is None:
        try:
            server.api("/api/shutdown", method="POST")
        except (urllib.error.URLError, OSError):
            pass
        try:
            server.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait(timeout=10)
            pytest.fail(f"JupyterLab did not stop within 30 s of /api/shutdown; killed\n{server.log_tail()}")


# Read from JupyterLab's own model of the open notebook: what the learner sees, without
# guessing from CSS classes (an error and a stderr stream both render as application/vnd.jupyter.stderr).
NOTEBOOK_STATE_JS = """(name) => {
    const app = window.jupyterapp;
    if (!app) return null;
    const panel = Array.from(app.shell.widgets('main')).find(w => w.context && w.context.path.endsWith(name));
    if (!panel || !panel.content || !panel.content.model) return null;
    const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
    const cells = [];
    const model = panel.content.model;
    for (let i = 0; i < model.cells.length; i++) {
        const cell = model.cells.get(i);
        if (cell.type !== 'code') continue;
        const outputs = [];
        for (let j = 0; j < cell.outputs.length; j++) outputs.push(cell.outputs.get(j).toJSON());
        cells.push({index: i, count: cell.executionCount, source: cell.sharedModel.getSource(), outputs});
    }
    return {
        kernel: kernel ? kernel.status : null,
        busy: panel.sessionContext.kernelDisplayStatus,
        dirty: panel.context.model.dirty,
        cells,
    };
}"""


def _wait_idle(page: Page) -> dict:
    page.wait_for_timeout(300)
    page.wait_for_function(
        "(name) => { const s = (" + NOTEBOOK_STATE_JS + ")(name); return s && s.kernel === 'idle' && s.busy === 'idle'; }",
        arg=NOTEBOOK.name,
        timeout=RUN_TIMEOUT * 1000,
        polling=300,
    )
    return page.evaluate(NOTEBOOK_STATE_JS, NOTEBOOK.name)


def _stream(state: dict, index: int) -> str:
    cell = next(c for c in state["cells"] if c["index"] == index)
    return "".join(o.get("text", "") for o in cell["outputs"] if o["output_type"] == "stream")


def _answer(page: Page, index: int, code: str) -> dict:
    """Type ``code`` into the cell at ``index`` as a learner would, then Shift+Enter it and the check below."""
    cell = page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell").nth(index)
    cell.scroll_into_view_if_needed()
    cell.locator(".jp-InputArea-editor").click()
    page.keyboard.press("Control+A")
    page.keyboard.insert_text(code)  # as pasted: no auto-closed brackets
    page.keyboard.press("Shift+Enter")
    _wait_idle(page)
    page.keyboard.press("Shift+Enter")  # the check cell, now selected
    return _wait_idle(page)


def _exercise_screenshot(page: Page, index: int, name: str, prefix: str = "") -> Path:
    """The exercise as the learner sees it, in a 1280x800 window: from its %exercise cell to the solution."""
    page.set_viewport_size({"width": 1280, "height": 800})
    page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell").nth(index - 2).scroll_into_view_if_needed()
    page.evaluate(
        "(i) => { const c = document.querySelectorAll('.jp-NotebookPanel .jp-Notebook .jp-Cell')[i];"
        " c.scrollIntoView({block: 'start'}); }",
        index - 2,
    )
    page.wait_for_timeout(400)
    path = SCREENSHOT.parent / f"{prefix}exercise-00.1-{name}.png"
    page.screenshot(path=str(path))
    return path


def _run_all(lab: Lab, page: Page, menu: str, item: str, screenshot: Path) -> None:
    """Open the notebook, Run All Cells through the menu bar (its labels in the interface's language), check, screenshot."""
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    screenshot.unlink(missing_ok=True)
    page.goto(f"{lab.url}/lab/tree/{NOTEBOOK.name}?token={lab.token}")
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=START_TIMEOUT * 1000)
    # The kernel is up before we run (a "Select Kernel" dialog here would mean a broken kernelspec).
    page.wait_for_function(
        "(name) => { const s = (" + NOTEBOOK_STATE_JS + ")(name); return s && s.kernel === 'idle'; }",
        arg=NOTEBOOK.name,
        timeout=START_TIMEOUT * 1000,
    )
    state = page.evaluate(NOTEBOOK_STATE_JS, NOTEBOOK.name)
    assert state["cells"], "no code cell found in the open notebook"

    # Run -> Run All Cells, through the menu bar, as a learner would.
    page.locator(".lm-MenuBar-itemLabel", has_text=menu).first.click()
    page.locator(".lm-Menu-itemLabel", has_text=item).first.click()

    # Done when every code cell has an execution count and the kernel is idle again.
    page.wait_for_function(
        "(name) => { const s = (" + NOTEBOOK_STATE_JS + ")(name);"
        " return s && s.kernel === 'idle' && s.cells.every(c => c.count !== null); }",
        arg=NOTEBOOK.name,
        timeout=RUN_TIMEOUT * 1000,
        polling=500,
    )
    state = page.evaluate(NOTEBOOK_STATE_JS, NOTEBOOK.name)
    counts = [c["count"] for c in state["cells"]]
    assert counts == list(range(1, len(counts) + 1)), f"execution counts {counts}: not one run, top to bottom"

    # No error output anywhere; and no stderr stream either: the stored notebook has none,
    # and JupyterLab shows stderr in red, which a learner on a first run takes for a failure.
    problems = [
        f"cell {c['index']} ({c['source'].splitlines()[0] if c['source'] else ''!r}): "
        + (f"{o.get('ename')}: {o.get('evalue')}" if o["output_type"] == "error" else f"stderr: {o.get('text', '')[:500]}")
        for c in state["cells"]
        for o in c["outputs"]
        if o["output_type"] == "error" or (o["output_type"] == "stream" and o.get("name") == "stderr")
    ]
    assert not problems, "cells failed in JupyterLab:\n" + "\n".join(problems)
    assert page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").count() == 0

    # The whole notebook in one picture: make the window as tall as the notebook's content.
    height = page.evaluate(
        "() => { const o = document.querySelector('.jp-NotebookPanel .jp-WindowedPanel-outer');"
        " return o ? o.scrollHeight : document.body.scrollHeight; }"
    )
    page.set_viewport_size({"width": 1280, "height": min(int(height) + 200, 16000)})
    page.evaluate("() => document.querySelectorAll('.jp-NotebookPanel .jp-WindowedPanel-outer').forEach(o => o.scrollTo(0, 0))")
    page.wait_for_timeout(500)
    page.screenshot(path=str(screenshot), full_page=True)

    assert screenshot.is_file() and screenshot.stat().st_size > 10_000, f"no screenshot at {screenshot}"


def test_notebook_00_runs_all_cells_in_jupyterlab(lab: Lab, page: Page) -> None:
    before = hashlib.sha256(NOTEBOOK.read_bytes()).hexdigest()
    _run_all(lab, page, "Run", "Run All Cells", SCREENSHOT)
    # JupyterLab opens clean: no "Would you like to get notified about official Jupyter news?" toast.
    assert page.get_by_text("official Jupyter news").count() == 0, "JupyterLab asks about news"
    state = page.evaluate(NOTEBOOK_STATE_JS, NOTEBOOK.name)

    # Exercise 00.1 as a learner does it: Run All left it unsolved; a wrong answer gets a verdict
    # that names the mistake; the right one is solved; the solution opens when asked for.
    answer = next(c["index"] for c in state["cells"] if c["source"].startswith("# Your turn: one %sql line"))
    check = answer + 1
    assert "⬜ Not yet" in _stream(state, check)
    _exercise_screenshot(page, answer, "1-unsolved")
    state = _answer(page, answer, "%sql CREATE TABLE helo (id integer)")
    assert "❌ Not yet" in _stream(state, check) and "a typo in the name" in _stream(state, check), _stream(state, check)
    _exercise_screenshot(page, answer, "2-wrong")
    state = _answer(page, answer, "%sql CREATE TABLE hello (id integer)")
    assert "✅ Well done" in _stream(state, check), _stream(state, check)
    page.get_by_text("Show a solution to exercise 00.1").click()
    assert page.locator("details.course-solution[open] code").first.inner_text().startswith("%sql CREATE TABLE hello")
    _exercise_screenshot(page, answer, "3-solved")
    assert hashlib.sha256(NOTEBOOK.read_bytes()).hexdigest() == before, f"{NOTEBOOK.name} was modified by the UI run"


def test_the_russian_notebook_00_runs_all_cells_in_jupyterlab_in_russian(lab_ru: Lab, page: Page) -> None:
    before = hashlib.sha256(NOTEBOOK_RU.read_bytes()).hexdigest()
    # The interface is Russian: the menu bar's "Run" is «Выполнить» (the language pack's words).
    _run_all(lab_ru, page, "Выполнить", "Запустить все ячейки", SCREENSHOT.with_name("ru-00-welcome-and-setup.png"))
    assert page.locator(".lm-MenuBar-itemLabel", has_text="Файл").count() == 1, "the menu bar is not in Russian"
    state = page.evaluate(NOTEBOOK_STATE_JS, NOTEBOOK_RU.name)
    ru = translations("ru")
    answer = next(c["index"] for c in state["cells"] if c["source"].startswith("# Your turn: one %sql line"))
    check = answer + 1
    assert ru["⬜ Not yet"] in _stream(state, check), _stream(state, check)
    state = _answer(page, answer, "%sql CREATE TABLE helo (id integer)")
    assert ru["❌ Not yet"] in _stream(state, check), _stream(state, check)
    _exercise_screenshot(page, answer, "2-wrong", prefix="ru-")
    state = _answer(page, answer, "%sql CREATE TABLE hello (id integer)")
    assert ru["✅ Well done"] in _stream(state, check), _stream(state, check)
    page.get_by_text(ru["Show a solution to exercise {id}"].format(id="00.1")).click()
    assert page.locator("details.course-solution[open] code").first.inner_text().startswith("%sql CREATE TABLE hello")
    _exercise_screenshot(page, answer, "3-solved", prefix="ru-")
    assert hashlib.sha256(NOTEBOOK_RU.read_bytes()).hexdigest() == before, f"ru/{NOTEBOOK_RU.name} was modified by the UI run"
