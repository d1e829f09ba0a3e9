"""The capstone (notebook 16) as written: its steps followed in a temporary folder, the app served for real.

``course.capstone.steps.STEPS`` is the one source of the notebook's instructions (``show_step``), of
the solutions and of this test. The test types each step's commands (in a subprocess, in the
project folder, ``python`` being the course's interpreter), writes each file from the reference
solution, makes each edit in the files the commands wrote, and asks every check before its step
(not started) and after it (solved). A server command starts uvicorn on a free local port; the
test calls the endpoints, and stops the server whatever happens.
"""

from __future__ import annotations

import re
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import nbformat
import pytest

from course import capstone, exercises
from course.alembic_runner import subprocess_env
from course.capstone.steps import SERVE, STEPS, Command, Edit, Write, step
from course.database import drop_database, fit_identifier, server_settings
from course.exercises import NOT_STARTED

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "16-capstone-your-own-fastapi-app.ipynb"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A new project folder (COURSE_CAPSTONE_DIR) with its .env and an empty database; the databases dropped after."""
    monkeypatch.setenv(capstone.ENV_VARIABLE, str(tmp_path / "my-fastapi-app"))
    monkeypatch.delenv("COURSE_WORKSPACE_SUFFIX", raising=False)
    capstone.prepare()
    name = capstone.database_name()
    try:
        yield capstone.folder()
    finally:
        for database in (name, fit_identifier(name + "_test"), fit_identifier(name + "_empty")):
            drop_database(database)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(command: Command, base: Path, fails: bool) -> tuple[subprocess.Popen[str], str]:
    """Start the server command on a free port; wait until it answers (or, if it ``fails``, until it exits)."""
    port = free_port()
    assert "--port 8000" in command.text
    argv = capstone.argv_of(command.text.replace("--port 8000", f"--port {port}"))
    proc = subprocess.Popen(argv, cwd=base, env=subprocess_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        try:
            httpx.get(url + "/openapi.json", timeout=1)
            return proc, url
        except httpx.TransportError:
            time.sleep(0.1)
    if not fails:
        proc.kill()
        raise AssertionError(f"{command.text} did not answer: {proc.communicate()[0][-2000:]}")
    return proc, url


def stop(proc: subprocess.Popen[str]) -> str:
    """Stop the server if it still runs; its whole output (once: the pipe is read to its end)."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
    return proc.communicate()[0] if proc.stdout and not proc.stdout.closed else ""


def call_the_endpoints(url: str, step_number: int) -> None:
    """What a learner tries in /docs after each step that serves the app."""
    with httpx.Client(base_url=url, timeout=10) as client:
        if step_number == 2:
            books = client.post("/categories", json={"name": "Books"})
            assert books.status_code == 201, books.text
            product = {"name": "SQL Antipatterns", "price_cents": 3500, "category_id": books.json()["id"]}
            assert client.post("/products", json=product).status_code == 201
            assert [c["name"] for c in client.get("/categories").json()] == ["Books"]
        if step_number >= 3:
            products = client.get("/products").json()
            assert products and products[0]["stock"] == 0, products  # the row from before the column got the default
            assert client.get("/products/in-stock").json() == []
            assert (
                client.post("/products", json={"name": "DDIA", "price_cents": 4500, "category_id": 1, "stock": 2}).status_code
                == 201
            )
            assert [p["name"] for p in client.get("/products/in-stock").json()] == ["DDIA"]


def follow(step_number: int, base: Path) -> None:
    """Do step ``step_number`` exactly as the notebook shows it."""
    for action in step(step_number).actions:
        if isinstance(action, Write):
            capstone.write(action.path, action.content, base, quiet=True)
        elif isinstance(action, Edit):
            capstone.edit(action.path, action.old, action.new, base, quiet=True)
        elif action.serve:
            proc, url = serve(action, base, action.fails)
            try:
                if action.fails:
                    started = proc.poll() is None
                    output = stop(proc)
                    assert not started and proc.returncode != 0, f"{action.text} started, but should have refused"
                    assert "this code needs 0002" in output and "upgrade head" in output, output[-1500:]
                else:
                    call_the_endpoints(url, step_number)
            finally:
                stop(proc)
        else:
            proc = capstone.run_command(action.text, base)
            assert proc.returncode == 0, f"step {step_number}: {action.text}\n{proc.stdout[-2000:]}"


def test_the_steps_as_written_end_to_end(project: Path) -> None:
    for found in STEPS:
        exercise = exercises.get(found.exercise)
        before = exercise.check(None)
        assert before.status == NOT_STARTED, f"{found.exercise} before its step: {before}"
        follow(found.number, project)
        after = exercise.check(None)
        assert after.solved, f"{found.exercise} after its step: {after}"
        for action in found.actions:  # what the notes say the commands leave behind
            if isinstance(action, Command):
                for named in re.findall(r"`(migrations/versions/\w+\.py)`", action.why):
                    assert (project / named).exists(), f"step {found.number} names {named}"
                if "server_default='0'" in action.why:
                    assert "server_default='0'" in next((project / "migrations" / "versions").glob("0002_*.py")).read_text()
                if "Four tests pass" in action.why:
                    assert "4 tests passed" in after.message, after.message
    for found in STEPS:  # nothing a later step did undoes an earlier one
        assert exercises.get(found.exercise).check(None).solved, found.exercise
    password = server_settings().url.password
    env = (project / ".env").read_text(encoding="utf-8")
    assert capstone.SETTING in env and ".env" in (project / ".gitignore").read_text(encoding="utf-8")
    if password:
        assert password not in "".join(e.check(None).message for e in map(exercises.get, [s.exercise for s in STEPS]))


def test_a_solution_keeps_the_learners_files(project: Path) -> None:
    capstone.write("app/main.py", "# mine\n", project, quiet=True)
    exec(compile(step(1).solution(), "<solution>", "exec"), {})
    kept = list((project / capstone.ATTEMPTS).rglob("main.py"))
    assert [p.read_text(encoding="utf-8") for p in kept] == ["# mine\n"]
    assert exercises.get("16.1").check(None).solved
    env = (project / ".env").read_text(encoding="utf-8")
    capstone.prepare()  # run again: the folder and its files stay as they are
    assert (project / "app" / "main.py").read_text(encoding="utf-8") == step(1).actions[-2].content
    (project / ".env").unlink()
    capstone.prepare()  # .env lost: written again for the same database, which is not dropped
    assert (project / ".env").read_text(encoding="utf-8") == env
    assert (project / "app" / "main.py").exists()


def test_the_instructions_match_the_reference_and_the_notebook() -> None:
    for found in STEPS:
        for action in found.actions:
            if isinstance(action, Write):
                for part in action.excerpt_parts:
                    assert part in action.content, f"step {found.number}: the excerpt of {action.path}:\n{part}"
            if isinstance(action, Command):
                assert not re.search(r"(^|\s)(export|source|rm|cp|mv|mkdir|cat|ls)\s", action.text), action.text
                assert action.text.startswith("python "), action.text
    assert sum(SERVE in a.text for s in STEPS for a in s.actions if isinstance(a, Command)) == 4
    nb = nbformat.read(NOTEBOOK, as_version=4)
    shown = [c for c in nb.cells if c.cell_type == "code" and "capstone.show_step(" in c.source]
    assert [re.search(r"show_step\((\d+)\)", c.source).group(1) for c in shown] == [str(s.number) for s in STEPS]
    for cell, found in zip(shown, STEPS, strict=True):
        markdown = [o["data"]["text/markdown"] for o in cell.outputs if "text/markdown" in o.get("data", {})]
        assert markdown == [found.markdown()], f"step {found.number}: re-execute the notebook (python run.py execute 16)"
