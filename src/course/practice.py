"""What a learner calls around an exercise: ``%exercise``, ``check``, ``solution``, ``catch_up``, ``progress``.

In a notebook, an exercise is: the task (Markdown); a cell ``%exercise 07.1`` (it saves the
workspace as the chapter left it, once, and says where to type); the learner's cell (tagged
``answer``, holding only a comment until they type); ``course.check("07.1")``; ``course.solution("07.1")`` (shows the solution, folded, and
never runs it); and, where the chapter goes on from the exercise's result,
``course.catch_up("07.1")``: it keeps a solved workspace as it is, or keeps the learner's
attempt aside, puts the saved workspace back and applies the solution.

What the checks find is recorded in ``notebooks/workspaces/.progress/`` (git-ignored, and kept
when a setup call resets a workspace); ``course.progress()`` reads it.
"""

from __future__ import annotations

import html
import json
import os
import re
from pathlib import Path

from course import exercises, snapshots
from course.exercises import NOT_STARTED, SOLVED, WRONG, Exercise, Verdict
from course.i18n import N_, edition_suffix, tr
from course.paths import WORKSPACES

MARKS = {SOLVED: N_("✅ Well done"), WRONG: N_("❌ Not yet"), NOT_STARTED: N_("⬜ Not yet")}  # shown through tr()
PROGRESS_MARKS = {SOLVED: N_("✅ solved"), WRONG: N_("✏️ attempted"), NOT_STARTED: N_("· not started")}


class ExerciseError(RuntimeError):
    """Shown in a notebook as its message only."""

    def _render_traceback_(self) -> list[str]:
        return [str(self)]


def _workspace(exercise: Exercise):  # -> Workspace
    import course

    ws = course._current
    if ws is None or not ws.name.startswith(exercise.notebook_number + "-"):
        raise ExerciseError(
            tr(
                "Exercise {id} belongs to notebook {notebook}: run its setup cell first.",
                id=exercise.id,
                notebook=exercise.notebook_number,
            )
        )
    return ws


def start(exercise_id: str) -> None:
    """``%exercise 07.1``: save the workspace for this exercise (once per setup call) and say where to type."""
    exercise = exercises.get(exercise_id)
    ws = _workspace(exercise)
    _without_sql_connection(lambda: snapshots.take(ws, exercise.id))
    print(
        tr(
            "Exercise {id} · {title}: type your answer in the cell below (add cells if you like).\n"
            'Your workspace is saved as it is now: course.restart_exercise("{id}") brings it back.',
            id=exercise.id,
            title=tr(exercise.title),
        )
    )


def verdict_of(exercise: Exercise, ws) -> Verdict:  # ws: Workspace
    here = Path.cwd()
    os.chdir(ws.path)  # checks read workspace-relative paths, as the learner's cells do
    try:
        return exercise.check(ws)
    except Exception as error:  # noqa: BLE001 - a check must not fail with a traceback; say what it could not read
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return exercises.wrong(
            tr("the check could not read your work ({error}: {first}).", error=type(error).__name__, first=first)
        )
    finally:
        os.chdir(here)


def check(exercise_id: str) -> None:
    """Print whether exercise ``exercise_id`` is solved, and what is missing or wrong if not."""
    exercise = exercises.get(exercise_id)
    ws = _workspace(exercise)
    result = verdict_of(exercise, ws)
    _record(ws.name, exercise.id, result.status)
    print(f"{tr(MARKS[result.status])}: {result.message}")


def solution(exercise_id: str) -> None:
    """Show the solution, folded: the learner opens it when they want it. Nothing runs."""
    from IPython.display import HTML, display

    exercise = exercises.get(exercise_id)
    code = html.escape(exercise.solution.strip("\n"))
    note = _markdown_to_html(tr(exercise.explanation)) if exercise.explanation else ""
    display(
        HTML(
            f'<details class="course-solution"><summary>{tr("Show a solution to exercise {id}", id=exercise.id)}</summary>\n'
            f'<pre><code class="language-python">{code}</code></pre>\n{note}</details>'
        )
    )


def catch_up(exercise_id: str) -> None:
    """Bring the workspace to the state the chapter continues from, keeping the learner's own work."""
    exercise = exercises.get(exercise_id)
    ws = _workspace(exercise)
    if verdict_of(exercise, ws).solved:
        print(tr("Your solution to {id} is in place: the chapter continues from your workspace.", id=exercise.id))
        return
    kept = None
    if snapshots.exists(ws, exercise.id):
        kept = _without_sql_connection(lambda: snapshots.restore(ws, exercise.id))
    _run_quietly(exercise.solution)
    after = verdict_of(exercise, ws)
    if not after.solved:
        raise ExerciseError(
            tr(
                "The course could not apply the solution of {id} ({message}). "
                "Run the notebook again from its setup cell (Run → Run All Above Selected Cell).",
                id=exercise.id,
                message=after.message,
            )
        )
    print(
        tr("Your workspace now matches the chapter's: exercise {id} done the course's way.", id=exercise.id)
        + _kept(kept, tr("the database holds the course's solution"))
    )


def restart_exercise(exercise_id: str) -> None:
    """Put the workspace back as it was when the exercise began (your attempt is kept aside)."""
    exercise = exercises.get(exercise_id)
    ws = _workspace(exercise)
    if not snapshots.exists(ws, exercise.id):
        raise ExerciseError(tr("Run the exercise cell (it starts with %exercise {id}) first.", id=exercise.id))
    kept = _without_sql_connection(lambda: snapshots.restore(ws, exercise.id))
    print(
        tr("The workspace is back where exercise {id} starts.", id=exercise.id)
        + _kept(kept, tr("the database is as the exercise found it"))
    )


def _kept(kept: Path | None, database: str) -> str:
    """Where the learner's own work went: files in the attempts folder, SQL in their notebook cells."""
    parts = [tr("your files are kept in {folder}/", folder=kept.relative_to(WORKSPACES.parent).as_posix())] if kept else []
    said = "; ".join([*parts, database, tr("what you typed stays in your cells")])
    return " " + said[0].upper() + said[1:] + "."


def progress(notebook: str | None = None) -> None:
    """A table of the course's exercises (or one notebook's: ``progress("07")``): solved, attempted, not started."""
    names = exercises.notebook_names()
    edition = edition_suffix()  # the edition's own workspaces (course.setup)
    rows = []
    for exercise in exercises.registry().values():
        if notebook is not None and exercise.notebook_number != notebook:
            continue
        status = _recorded(names[exercise.notebook_number] + edition).get(exercise.id, NOT_STARTED)
        title = (tr("On your own: ") if exercise.on_your_own else "") + tr(exercise.title)
        rows.append((exercise.id, title, tr(PROGRESS_MARKS[status])))
    width = max((len(r[1]) for r in rows), default=10)
    print(f"{'':5} {tr('Exercise'):{width}}  {tr('Status')}")
    for number, title, status in rows:
        print(f"{number:5} {title:{width}}  {status}")
    counts = [r[2] for r in rows]
    solved_count = sum(1 for c in counts if c == tr(PROGRESS_MARKS[SOLVED]))
    print("\n" + tr("{solved} of {total} solved.", solved=solved_count, total=len(rows)))


# Progress: one small JSON file per workspace, so notebooks running in parallel never write the same file.


def _progress_file(workspace_name: str) -> Path:
    return Path(os.environ.get("COURSE_PROGRESS_DIR") or WORKSPACES / ".progress") / f"{workspace_name}.json"


def _recorded(workspace_name: str) -> dict[str, str]:
    try:
        return json.loads(_progress_file(workspace_name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _record(workspace_name: str, exercise_id: str, status: str) -> None:
    seen = _recorded(workspace_name)
    rank = {NOT_STARTED: 0, WRONG: 1, SOLVED: 2}
    if rank[status] <= rank[seen.get(exercise_id, NOT_STARTED)]:
        return  # solved stays solved
    seen[exercise_id] = status
    path = _progress_file(workspace_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(seen, indent=1, sort_keys=True), encoding="utf-8")
    tmp.replace(path)


def _without_sql_connection(action):
    """Run ``action`` with the notebook's %sql connection closed (a database copy needs it), then reconnect."""
    import course

    course._close_sql_connections()
    try:
        return action()
    finally:
        if course._current is not None:
            course._register_magics(course._current)


def _run_quietly(code: str) -> None:
    """Run notebook code (magics included) in the learner's namespace, its output hidden."""
    from IPython import get_ipython
    from IPython.utils.capture import capture_output

    ip = get_ipython()
    if ip is None:
        raise ExerciseError("catch_up runs in a notebook")
    with capture_output():
        for part in re.split(r"^# %%.*\n", code.strip("\n") + "\n", flags=re.M):  # "# %%" starts a new cell
            if part.strip():
                exec(compile(ip.transform_cell(part), "<solution>", "exec"), ip.user_ns)


def _markdown_to_html(text: str) -> str:
    """A few paragraphs with `code`: enough for an explanation, without a Markdown library."""
    paragraphs = [p.strip() for p in text.strip().split("\n\n")]
    escaped = [re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(p)) for p in paragraphs]
    return "".join(f"<p>{p}</p>" for p in escaped)
