"""Notebook 00: your first table by hand, with %sql."""

from __future__ import annotations

from course.exercises import Exercise, Verdict, WrongAttempt, not_started, probes, solved, wrong
from course.i18n import tr
from course.workspace import Workspace

NOTEBOOK = "00-welcome-and-setup"


def _columns(ws: Workspace, table: str) -> dict[str, str]:
    found = probes.rows(
        ws,
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'public' AND table_name = :t",
        t=table,
    )
    return dict(found)


def check_hello(ws: Workspace) -> Verdict:
    tables = probes.tables(ws)
    if "hello" not in tables:
        if tables:
            return wrong(
                tr(
                    "there is no table named `hello`, but there is {tables}: a typo in the name?",
                    tables=", ".join(sorted(tables)),
                )
            )
        return not_started(tr("no table named `hello` yet. Write one `%sql CREATE TABLE …` line in the cell above."))
    columns = _columns(ws, "hello")
    if "id" not in columns:
        return wrong(tr("`hello` has the columns {columns}, but no column `id`.", columns=", ".join(columns) or tr("(none)")))
    if columns["id"] != "integer":
        return wrong(tr("`hello.id` is {type}, not integer.", type=columns["id"]))
    return solved(tr("the table `hello` exists, with an integer column `id`."))


def check_greeting(ws: Workspace) -> Verdict:
    if "hello" not in probes.tables(ws):
        return not_started(tr("first create the table `hello` (exercise 00.1)."))
    columns = _columns(ws, "hello")
    if "greeting" not in columns:
        return not_started(tr("`hello` has no column `greeting` yet: ALTER TABLE … ADD COLUMN."))
    if columns["greeting"] != "text":
        return wrong(tr("`hello.greeting` is {type}, not text.", type=columns["greeting"]))
    greetings = probes.rows(ws, "SELECT greeting FROM hello WHERE greeting IS NOT NULL")
    if not greetings:
        return wrong(tr("`hello.greeting` exists, but no row has a greeting yet: INSERT one."))
    return solved(tr("`hello` now greets: {greeting!r}.", greeting=greetings[0][0]))


EXERCISES = [
    Exercise(
        id="00.1",
        title="Create a table by hand",
        check=check_hello,
        solution="%sql CREATE TABLE hello (id integer)",
        explanation="`%sql` sends the statement to your notebook's database as it is. "
        "`CREATE TABLE` returns no rows, so the cell shows nothing; the check looks in the database.",
        wrong=(
            WrongAttempt("%sql CREATE TABLE hello (id text)", "not integer"),
            WrongAttempt("%sql CREATE TABLE helo (id integer)", "a typo in the name"),
        ),
    ),
    Exercise(
        id="00.2",
        title="A greeting in the table",
        check=check_greeting,
        solution=(
            "%sql ALTER TABLE hello ADD COLUMN greeting text\n"
            "%sql INSERT INTO hello (id, greeting) VALUES (1, 'hello, Alembic')\n"
            "%sql SELECT * FROM hello"
        ),
        explanation="Changing a table that already exists is what the rest of the course is about: "
        "`ALTER TABLE` by hand here, and from notebook 04 on, migrations that Alembic writes and runs for you.",
        wrong=(WrongAttempt("%sql ALTER TABLE hello ADD COLUMN greeting varchar(20)", "not text"),),
        on_your_own=True,
    ),
]
