"""Notebook 03: options of the async env.py: compare_server_default, -x db_name=…, and a log line naming the database."""

from __future__ import annotations

import ast
import difflib
import inspect
import subprocess
import sys
from functools import cache
from pathlib import Path

from course.alembic_runner import run_alembic, subprocess_env
from course.exercises import Exercise, Verdict, WrongAttempt, not_started, probes, solved, wrong
from course.i18n import tr
from course.workspace import Workspace

NOTEBOOK = "03-configure-async-env"

ENV = "app/migrations/env.py"
NO_SUCH_DATABASE = "course_no_such_database"
PROBE_DATABASE = "course_probe_settings_database"
MARKER_DATABASE = "course_marker_database"
MARKER_PASSWORD = "course-marker-password"


@cache
def configure_options() -> frozenset[str]:
    """The keyword arguments ``context.configure()`` declares (it swallows any other one in ``**kw``)."""
    from alembic.runtime.environment import EnvironmentContext

    return frozenset(p for p in inspect.signature(EnvironmentContext.configure).parameters if p not in ("self", "kw"))


def _parse_env(ws: Workspace) -> tuple[str, ast.Module | None, str | None]:
    path = ws.path / ENV
    if not path.exists():
        return "", None, tr("there is no {file} any more. Run the notebook's setup cell to start the chapter over.", file=ENV)
    problem = probes.syntax_error(Path(ENV))  # checks run in the workspace: the message names the file as the learner does
    text = path.read_text(encoding="utf-8")
    return text, (None if problem else ast.parse(text)), problem


def _configure_calls(tree: ast.Module) -> list[tuple[str, ast.Call]]:
    """Every ``context.configure(...)`` call, with the name of the function it is in (innermost)."""
    found: list[tuple[str, ast.Call]] = []

    def visit(node: ast.AST, function: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                visit(child, child.name)
                continue
            if isinstance(child, ast.Call) and ast.unparse(child.func) == "context.configure":
                found.append((function, child))
            visit(child, function)

    visit(tree, "<module>")
    return found


def _keyword(call: ast.Call, name: str) -> str | None:
    """The source of keyword argument ``name`` in ``call``, or None."""
    return next((ast.unparse(kw.value) for kw in call.keywords if kw.arg == name), None)


def _typo(calls: list[tuple[str, ast.Call]], meant: str) -> tuple[str, str] | None:
    """(function, keyword) of a keyword that is not an option of configure() and looks like ``meant``."""
    for function, call in calls:
        for kw in call.keywords:
            if kw.arg and kw.arg not in configure_options() and difflib.get_close_matches(kw.arg, [meant], cutoff=0.8):
                return function, kw.arg
    return None


def _online(calls: list[tuple[str, ast.Call]]) -> list[tuple[str, ast.Call]]:
    return [(f, c) for f, c in calls if any(kw.arg == "connection" for kw in c.keywords)]


def _offline(calls: list[tuple[str, ast.Call]]) -> list[tuple[str, ast.Call]]:
    return [(f, c) for f, c in calls if any(kw.arg == "url" for kw in c.keywords)]


def _still_runs(ws: Workspace) -> Verdict | None:
    ok, last = probes.alembic(ws, "current")
    return None if ok else wrong(tr("env.py no longer runs: `alembic current` ends with: {last}", last=last))


def _silently_ignored(function: str, keyword: str, meant: str) -> Verdict:
    return wrong(
        tr(
            "context.configure() in {function}() gets `{keyword}=`, an option Alembic does not have: it accepts "
            "unknown options without a word, so nothing is switched on. The option is `{meant}`.",
            function=function,
            keyword=keyword,
            meant=meant,
        )
    )


def check_compare_server_default(ws: Workspace) -> Verdict:
    text, tree, problem = _parse_env(ws)
    if tree is None:
        return wrong(problem or tr("env.py does not parse."))
    calls = _configure_calls(tree)
    online = _online(calls)
    if not online:
        return wrong(
            tr("env.py has no `context.configure(connection=…)` any more: online mode needs it (in do_run_migrations()).")
        )
    values = [(f, _keyword(c, "compare_server_default")) for f, c in online]
    chosen = [(f, v) for f, v in values if v is not None]
    if chosen:
        function, value = chosen[0]
        if value in ("False", "None", "0"):
            return wrong(
                tr(
                    "{function}() says compare_server_default={value}: that is the default, off. `True` switches it on.",
                    function=function,
                    value=value,
                )
            )
        return _still_runs(ws) or solved(
            tr(
                "{function}() now compares server defaults (compare_server_default={value}), and env.py still runs.",
                function=function,
                value=value,
            )
        )
    typo = _typo(online, "compare_server_default")
    if typo:
        return _silently_ignored(*typo, "compare_server_default")
    if any(_keyword(c, "compare_server_default") not in (None, "False") for _, c in _offline(calls)):
        return wrong(
            tr(
                "compare_server_default is set in run_migrations_offline(): offline mode (`--sql`) only writes SQL and "
                "never compares anything. Autogenerate runs online: set it in do_run_migrations()."
            )
        )
    broken = _still_runs(ws)
    if broken:
        return broken
    return not_started(tr("context.configure(…) in do_run_migrations() does not set compare_server_default yet."))


def _run_with_database_url(ws: Workspace, database: str) -> subprocess.CompletedProcess[str]:
    """``alembic current`` with the settings' database changed to ``database``."""
    return _run_with_url(ws, ws.sync_url.set(drivername="postgresql", database=database).render_as_string(hide_password=False))


def _run_with_url(ws: Workspace, url: str) -> subprocess.CompletedProcess[str]:
    """``alembic current`` with the settings' URL set to ``url`` (DATABASE_URL in the environment wins over .env)."""
    return subprocess.run(
        [sys.executable, "-m", "alembic", "current"],
        cwd=ws.path,
        env={**subprocess_env(), "DATABASE_URL": url},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        encoding="utf-8",
        check=False,
    )


def _last_line(output: str) -> str:
    lines = [line for line in output.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def check_x_db_name(ws: Workspace) -> Verdict:
    text, tree, problem = _parse_env(ws)
    if tree is None:
        return wrong(problem or tr("env.py does not parse."))
    other = run_alembic(ws.path, ["-x", f"db_name={NO_SUCH_DATABASE}", "current"], check=False)
    used_x = other.returncode != 0 and f'"{NO_SUCH_DATABASE}"' in other.stdout
    if not used_x:
        if other.returncode != 0:
            return wrong(
                tr(
                    "with -x db_name=…, env.py fails for another reason: `alembic current` ends with: {last}",
                    last=_last_line(other.stdout),
                )
            )
        if "get_x_argument" not in text:
            return not_started(
                tr("`-x db_name={database}` changes nothing yet: env.py does not read -x.", database=NO_SUCH_DATABASE)
            )
        return wrong(
            tr(
                "env.py reads the -x arguments, but `alembic -x db_name={database} current` still connected to your "
                "own database: put the name into the URL (`.set(database=…)`) before `config.set_main_option(…)`.",
                database=NO_SUCH_DATABASE,
            )
        )
    default = _run_with_database_url(ws, PROBE_DATABASE)
    if not (default.returncode != 0 and f'"{PROBE_DATABASE}"' in default.stdout):
        how = (
            tr("`alembic current` ends with: {last}", last=_last_line(default.stdout))
            if default.returncode
            else tr("it connected to another one")
        )
        return wrong(
            tr(
                "with -x db_name=… env.py uses the database you name, but without -x it no longer uses the settings' "
                "database ({how}). When there is no db_name, keep the URL's own database.",
                how=how,
            )
        )
    plain = run_alembic(ws.path, ["current"], check=False)
    if plain.returncode != 0:
        return wrong(tr("plain `alembic current` fails: {last}", last=_last_line(plain.stdout)))
    return solved(tr("with -x db_name=… env.py connects to the database you name, and to the settings' database otherwise."))


def check_names_database(ws: Workspace) -> Verdict:
    _, tree, problem = _parse_env(ws)
    if tree is None:
        return wrong(problem or tr("env.py does not parse."))
    real = run_alembic(ws.path, ["current"], check=False)
    if real.returncode != 0:
        return wrong(tr("env.py no longer runs: `alembic current` ends with: {last}", last=_last_line(real.stdout)))
    password = str(ws.sync_url.password or "")
    marked = _run_with_url(ws, f"postgresql://shop:{MARKER_PASSWORD}@127.0.0.1:9/{MARKER_DATABASE}")
    if MARKER_PASSWORD in marked.stdout or (len(password) >= 4 and password in real.stdout):
        return wrong(
            tr(
                "the output shows the password: print the URL object itself (`str()` of a SQLAlchemy URL writes the "
                "password as ***), not a string rendered from it or the `sqlalchemy.url` option."
            )
        )
    if ws.database not in real.stdout:
        return not_started(tr("`alembic current` does not say which database it works on yet."))
    return solved(
        tr("`alembic current` now names your database, {database}, and keeps the password out of sight.", database=ws.database)
    )


X_DB_NAME_SOLUTION = """\
%%replace app/migrations/env.py url
# The URL comes from the app's settings (environment / .env), never from alembic.ini;
# `alembic -x db_name=NAME …` runs the command on the database NAME of the same server.
url = settings.DATABASE_URL_asyncpg.set(
    # without -x, .get() gives None, and set() leaves the settings' database as it is
    database=context.get_x_argument(as_dictionary=True).get("db_name"),
).render_as_string(hide_password=False)"""

DO_RUN = """\
%%replace app/migrations/env.py do_run_migrations
def do_run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
{options}    )

    with context.begin_transaction():
        context.run_migrations()"""

RUN_ASYNC = """\
%%replace app/migrations/env.py run_async_migrations
async def run_async_migrations() -> None:
    \"\"\"Create an async engine, run the migrations over one connection, then dispose of the engine.\"\"\"
    connectable = async_engine_from_config(
        config.get_section(config.config_ini_section, {}),
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    LINE

    async with connectable.connect() as connection:
        await connection.run_sync(do_run_migrations)

    await connectable.dispose()"""

EXERCISES = [
    Exercise(
        id="03.1",
        title="Compare server defaults too",
        check=check_compare_server_default,
        solution=DO_RUN.format(options="        compare_server_default=True,\n"),
        explanation="`%%replace` swaps the whole function `do_run_migrations` for the cell's code. Online mode is "
        "where autogenerate compares (offline mode only writes SQL), so the option belongs in this "
        "`context.configure(...)`. Beware of typos: `configure()` accepts unknown keyword arguments silently.",
        wrong=(
            WrongAttempt(DO_RUN.format(options="        compare_server_defaults=True,\n"), "compare_server_defaults"),
            WrongAttempt(
                """\
%%replace app/migrations/env.py run_migrations_offline
def run_migrations_offline() -> None:
    url = config.get_main_option("sqlalchemy.url")
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        compare_server_default=True,
    )

    with context.begin_transaction():
        context.run_migrations()""",
                "run_migrations_offline",
            ),
        ),
    ),
    Exercise(
        id="03.2",
        title="Migrate another database with -x db_name=…",
        check=check_x_db_name,
        solution=X_DB_NAME_SOLUTION,
        explanation="`context.get_x_argument(as_dictionary=True)` turns `-x db_name=shop_test` into "
        '`{"db_name": "shop_test"}`. `URL.set(database=…)` returns a copy of the URL with another database, and '
        "it leaves out every argument that is `None`: with no `-x`, `.get` returns `None` and the URL keeps the "
        "settings' database. The `%` escaping below it is unchanged.",
        wrong=(
            WrongAttempt(
                '%%insert_after app/migrations/env.py config\ndb_name = context.get_x_argument(as_dictionary=True).get("db_name")',
                "still connected to your own database",
            ),
            WrongAttempt(
                """\
%%replace app/migrations/env.py url
# The URL comes from the app's settings (environment / .env), never from alembic.ini.
url = settings.DATABASE_URL_asyncpg.set(
    database=context.get_x_argument(as_dictionary=True)["db_name"]
).render_as_string(hide_password=False)""",
                "without -x",
            ),
        ),
    ),
    Exercise(
        id="03.3",
        title="Say which database you migrate",
        check=check_names_database,
        solution=RUN_ASYNC.replace(
            "LINE", 'config.print_stdout("Database: %s", connectable.url)  # a URL prints its password as ***'
        ),
        explanation="`connectable.url` is the `URL` object the engine connects with, after every setting and `-x` "
        "option: `%s` turns it into text with `str()`, which writes the password as `***`. `config.print_stdout` "
        "writes to Alembic's own output, like its other messages, and keeps quiet with `alembic -q`. A string such "
        'as `config.get_main_option("sqlalchemy.url")` or `render_as_string(hide_password=False)` carries the real '
        "password: fine to hand to Alembic, never to print.",
        wrong=(
            WrongAttempt(
                RUN_ASYNC.replace("LINE", 'config.print_stdout("Database: %s", config.get_main_option("sqlalchemy.url"))'),
                "shows the password",
            ),
            WrongAttempt(
                RUN_ASYNC.replace("LINE", 'print("Database:", connectable.url.render_as_string(hide_password=False))'),
                "shows the password",
            ),
        ),
        on_your_own=True,
    ),
]
