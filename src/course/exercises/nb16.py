"""Notebook 16, the capstone: the learner's own async FastAPI app under Alembic, one check per step.

The checks look at the learner's project folder and its database (``course.capstone.folder()``,
``course.capstone.database_name()``), never at the notebook's workspace: the app, the migrations,
the endpoints (called in a subprocess, in-process through httpx), the start-up refusal, the
learner's own tests, the compose file. The solutions are ``Step.solution()`` of
``course.capstone.steps``: the same steps the notebook shows and the end-to-end test follows.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

from sqlalchemy import text

from course import capstone
from course.capstone.steps import STEPS
from course.database import connect, fit_identifier, recreate_database
from course.exercises import Exercise, Verdict, WrongAttempt, not_started, solved, wrong
from course.i18n import N_, tr
from course.workspace import Workspace

NOTEBOOK = "16-capstone-your-own-fastapi-app"

APP_FILES = ("app/__init__.py", "app/settings.py", "app/database.py", "app/models.py", "app/main.py")
ROUTES = ("GET /categories", "POST /categories", "GET /products", "POST /products")


def _short(message: str, limit: int = 220) -> str:
    message = " ".join(message.split())
    return message if len(message) <= limit else message[:limit] + " …"


def _syntax_error(base: Path, relative: str) -> str | None:
    try:
        compile((base / relative).read_text(encoding="utf-8"), relative, "exec")
    except SyntaxError as error:
        return tr("{file} does not parse (line {line}: {error})", file=relative, line=error.lineno, error=error.msg)
    return None


def _last_line(output: str) -> str:
    lines = [line for line in output.splitlines() if line.strip()]
    return _short(lines[-1]) if lines else ""


# The app, seen from outside: imported in a new process, as uvicorn would ---------------------------

PROBE = r"""
import asyncio, json, sys, traceback
out = {}
try:
    from app.main import app
    from app.database import Base
except Exception as error:
    print(json.dumps({"error": traceback.format_exception_only(error)[-1].strip()}))
    raise SystemExit(0)
out["routes"] = sorted(f"{m} {r.path}" for r in app.routes for m in (getattr(r, "methods", None) or ()))
out["tables"] = sorted(Base.metadata.tables)


async def answers():
    from httpx import ASGITransport, AsyncClient
    found = {}
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://check") as client:
        for path in sys.argv[1:]:
            try:
                response = await client.get(path)
                found[path] = [response.status_code, response.text[:300]]
            except Exception as error:
                found[path] = [0, traceback.format_exception_only(error)[-1].strip()]
    return found

out["answers"] = asyncio.run(answers()) if sys.argv[1:] else {}
print(json.dumps(out))
"""

LIFESPAN = r"""
import asyncio
from app.main import app


async def start():
    async with app.router.lifespan_context(app):
        print("STARTED")

asyncio.run(start())
"""


def _python(base: Path, code: str, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    from course.alembic_runner import subprocess_env

    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        cwd=base,
        env=subprocess_env() | {"PYTHONDONTWRITEBYTECODE": "1"} | (env or {}),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        encoding="utf-8",
    )


def _probe(base: Path, *paths: str) -> dict:
    proc = _python(base, PROBE, *paths)
    output, _ = proc.communicate(timeout=120)
    lines = [line for line in output.splitlines() if line.startswith("{")]
    if not lines:
        return {"error": _last_line(output) or tr("exit code {code}", code=proc.returncode)}
    return json.loads(lines[-1])


def _answers(found: dict, paths: tuple[str, ...]) -> str | None:
    """What is wrong with the endpoints' answers (None: every one said 200)."""
    for path in paths:
        status, body = found["answers"][path]
        if status == 0:
            return tr("GET {path} answers nothing: {body}", path=path, body=_short(body, 160))
        if status != 200:
            return tr("GET {path} answers {status}: {body}", path=path, status=status, body=_short(body, 160))
    return None


# The database ---------------------------------------------------------------------------------------


def _database_versions() -> set[str] | None:
    """The capstone database's alembic_version (None: no such table)."""
    with connect(capstone.sync_url()) as conn:
        if conn.execute(text("SELECT to_regclass('alembic_version')")).scalar() is None:
            return None
        return set(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())


def _column(table: str, column: str) -> bool:
    query = text(
        "SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = :t AND column_name = :c"
    )
    with connect(capstone.sync_url()) as conn:
        return conn.execute(query, {"t": table, "c": column}).scalar() is not None


def _code_heads(base: Path) -> set[str]:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    return set(ScriptDirectory.from_config(Config(str(base / "alembic.ini"))).get_heads())


def _revisions(base: Path) -> list[Path]:
    versions = base / "migrations" / "versions"
    return sorted(versions.glob("*.py")) if versions.exists() else []


def _upgrades(path: Path) -> str:
    return path.read_text(encoding="utf-8").split("def downgrade")[0]


def _at_head(base: Path) -> Verdict | None:
    """Not at head: what to do. None: the database is where the scripts are."""
    heads = _code_heads(base)
    found = _database_versions()
    if not found:
        return wrong(
            tr(
                "your database has no revision yet: `python -m alembic upgrade head` (the head is {heads}).",
                heads=", ".join(sorted(heads)),
            )
        )
    if found != heads:
        return wrong(
            tr(
                "your database is at {current}, the scripts' head is {heads}: `python -m alembic upgrade head`.",
                current=", ".join(sorted(found)),
                heads=", ".join(sorted(heads)),
            )
        )
    return None


def _start(base: Path) -> Verdict | None:
    """Anything before the folder's own checks: its .env (the notebook's prepare cell writes it)."""
    if not (base / ".env").exists():
        return not_started(tr("your project folder is not ready: run the cell `capstone.prepare()` near the top first."))
    return None


# 16.1 ------------------------------------------------------------------------------------------------


def check_app(ws: Workspace) -> Verdict:
    base = capstone.folder()
    if (early := _start(base)) is not None:
        return early
    if not (base / "app" / "main.py").exists():
        return not_started(tr("your folder ({folder}) has no app/main.py yet.", folder=capstone.where()))
    missing = [f for f in (*APP_FILES, ".gitignore") if not (base / f).exists()]
    if len(missing) == 1:
        return wrong(tr("{file} is missing (step 1 lists the files).", file=missing[0]))
    if missing:
        return wrong(tr("{files} are missing (step 1 lists the files).", files=", ".join(missing)))
    for relative in APP_FILES:
        if error := _syntax_error(base, relative):
            return wrong(error + ".")
    ignored = [line.strip().strip("/") for line in (base / ".gitignore").read_text(encoding="utf-8").splitlines()]
    if ".env" not in ignored:
        return wrong(tr("`.gitignore` does not list `.env`: the file with your database's password would go into git."))
    found = _probe(base)
    if "error" in found:
        return wrong(tr("`import app.main` fails: {error}", error=found["error"]))
    absent = [route for route in ROUTES if route not in found["routes"]]
    if absent:
        return wrong(tr("the app has no {routes} yet (step 1: list and create, for both).", routes=", ".join(absent)))
    tables = {"categories", "products"} - set(found["tables"])
    if tables:
        return wrong(
            tr(
                "`Base.metadata` has no table {tables}: a model per table, on `app.database.Base`.",
                tables=", ".join(sorted(tables)),
            )
        )
    return solved(tr("app.main imports, with {routes}; the models are tables categories and products.", routes=", ".join(ROUTES)))


# 16.2 ------------------------------------------------------------------------------------------------


def check_alembic(ws: Workspace) -> Verdict:
    base = capstone.folder()
    if (early := _start(base)) is not None:
        return early
    if not (base / "alembic.ini").exists():
        return not_started(tr("there is no alembic.ini in your folder yet: `python -m alembic init -t async migrations`."))
    env = base / "migrations" / "env.py"
    if not env.exists():
        return wrong(tr("alembic.ini is there but migrations/env.py is not: `alembic init -t async migrations` makes both."))
    if error := _syntax_error(base, "migrations/env.py"):
        return wrong(error + ".")
    source = env.read_text(encoding="utf-8")
    if "async_engine_from_config" not in source and "create_async_engine" not in source:
        return wrong(
            tr(
                "migrations/env.py is not the async template's: move alembic.ini and migrations/ aside (into another folder), "
                "then `python -m alembic init -t async migrations` (init refuses a folder that is not empty)."
            )
        )
    if re.search(r"^target_metadata\s*=\s*None", source, re.M):
        return wrong(
            tr("in migrations/env.py `target_metadata` is still None: autogenerate would see no model (`Base.metadata`).")
        )
    if "settings" not in source:
        return wrong(tr("migrations/env.py does not read the URL from your settings (`from app.settings import settings`)."))
    if "driver://user:pass@localhost/dbname" in (base / "alembic.ini").read_text(encoding="utf-8"):
        return wrong(
            tr("alembic.ini still has the template's `sqlalchemy.url = driver://…` line: remove it (env.py sets the URL).")
        )
    revisions = _revisions(base)
    if not revisions:
        return wrong(tr("migrations/versions/ has no revision yet: `python -m alembic revision --autogenerate -m …`."))
    creates = " ".join(_upgrades(p) for p in revisions)
    missing = [t for t in ("categories", "products") if not re.search(rf"create_table\(\s*['\"]{t}['\"]", creates)]
    if len(missing) == 1:
        return wrong(
            tr(
                "no revision creates {table}: is `target_metadata = Base.metadata`, with `import app.models`?",
                table=missing[0],
            )
        )
    if missing:
        return wrong(
            tr("no revision creates categories and products: is `target_metadata = Base.metadata`, with `import app.models`?")
        )
    if (behind := _at_head(base)) is not None:
        return behind
    found = _probe(base, "/categories", "/products")
    if "error" in found:
        return wrong(tr("`import app.main` fails: {error}", error=found["error"]))
    if (answer := _answers(found, ("/categories", "/products"))) is not None:
        return wrong(answer)
    return solved(
        tr(
            "the database is at the head ({heads}), and GET /categories and /products answer 200.",
            heads=", ".join(sorted(_code_heads(base))),
        )
    )


# 16.3 ------------------------------------------------------------------------------------------------

ADDS_STOCK = re.compile(r"add_column\(\s*['\"]products['\"],\s*sa\.Column\(\s*['\"]stock['\"]")


def check_stock(ws: Workspace) -> Verdict:
    base = capstone.folder()
    if (early := _start(base)) is not None:
        return early
    models = base / "app" / "models.py"
    has_model = models.exists() and re.search(r"^\s+stock\s*:", models.read_text(encoding="utf-8"), re.M)
    revision = next((p for p in _revisions(base) if ADDS_STOCK.search(_upgrades(p))), None)
    if not has_model and revision is None:
        return not_started(tr("`Product` has no `stock` yet, and no revision adds it."))
    if revision is None:
        return wrong(
            tr("`Product` has a `stock`, but no revision adds the column: `python -m alembic revision --autogenerate -m …`.")
        )
    if not has_model:
        return wrong(tr("{file} adds products.stock, but the `Product` model has no `stock`.", file=revision.name))
    if "server_default" not in ADDS_STOCK.split(_upgrades(revision), 1)[-1].split("\n")[0]:
        return wrong(
            tr(
                "{file} adds a NOT NULL column without a server default: rows already there would have no value "
                '(`mapped_column(server_default="0")`).',
                file=revision.name,
            )
        )
    if (behind := _at_head(base)) is not None:
        return behind
    if not _column("products", "stock"):
        return wrong(tr("the database is at head but has no products.stock: was the revision edited after the upgrade?"))
    found = _probe(base, "/products/in-stock")
    if "error" in found:
        return wrong(tr("`import app.main` fails: {error}", error=found["error"]))
    if (answer := _answers(found, ("/products/in-stock",))) is not None:
        return wrong(answer)
    return solved(
        tr(
            "{file} added products.stock, the database is at head, and GET /products/in-stock answers 200.",
            file=revision.name,
        )
    )


# 16.4 ------------------------------------------------------------------------------------------------


def check_refuses(ws: Workspace) -> Verdict:
    base = capstone.folder()
    if (early := _start(base)) is not None:
        return early
    main = base / "app" / "main.py"
    if not main.exists() or "lifespan" not in main.read_text(encoding="utf-8"):
        return not_started(tr("app/main.py has no lifespan yet."))
    if (behind := _at_head(base)) is not None:
        return behind
    empty = recreate_database(fit_identifier(capstone.database_name() + "_empty"))  # the app's start on no revision at all
    url = empty.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)
    on_empty = _python(base, LIFESPAN, env={capstone.SETTING: url})
    on_yours = _python(base, LIFESPAN)
    empty_out, _ = on_empty.communicate(timeout=120)
    yours_out, _ = on_yours.communicate(timeout=120)
    if on_yours.returncode != 0 or "STARTED" not in yours_out:
        return wrong(tr("your app does not start on your own database (at head): {error}", error=_last_line(yours_out)))
    if on_empty.returncode == 0:
        return wrong(
            tr(
                "your app started on an empty database (no revision at all): the lifespan must compare the database's "
                "revision with the scripts' head and raise before `yield`."
            )
        )
    said = re.sub(r"^[\w.]+: ", "", _last_line(empty_out).replace(url, "<url>"))  # without the exception's module path
    if "upgrade" not in said:
        return wrong(tr("your app refuses an empty database, but its message does not say what to do: {message}", message=said))
    return solved(tr("on an empty database the app stops with “{message}”; on yours, it starts.", message=said.rstrip(".")))


# 16.5 ------------------------------------------------------------------------------------------------

_RUNS: dict[tuple[str, str], subprocess.CompletedProcess[str]] = {}
CACHES = {"__pycache__", ".pytest_cache", ".course-attempts"}


def _fingerprint(base: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(base.rglob("*")):
        if path.is_file() and not CACHES.intersection(path.relative_to(base).parts):
            digest.update(path.relative_to(base).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _pytest(base: Path) -> subprocess.CompletedProcess[str]:
    key = (str(base), _fingerprint(base))
    if key not in _RUNS:
        proc = capstone.run_command("python -m pytest -q -rA --color=no", base)
        if proc.returncode in (0, 1):
            _RUNS[key] = proc
        return proc
    return _RUNS[key]


def check_tests(ws: Workspace) -> Verdict:
    base = capstone.folder()
    if (early := _start(base)) is not None:
        return early
    tests = sorted((base / "tests").glob("test_*.py")) if (base / "tests").exists() else []
    if not tests:
        return not_started(tr("there is no tests/test_*.py in your folder yet."))
    for path in tests:
        if error := _syntax_error(base, path.relative_to(base).as_posix()):
            return wrong(error + ".")
    sources = "\n".join(p.read_text(encoding="utf-8") for p in [*tests, base / "tests" / "conftest.py"] if p.exists())
    if "AsyncClient" not in sources:
        return wrong(tr("no test calls the app through httpx's `AsyncClient` (with `ASGITransport(app=app)`)."))
    if "downgrade" not in sources:
        return wrong(tr("no stairway test yet: for every revision, upgrade to it, `downgrade -1`, upgrade again."))
    proc = _pytest(base)
    if proc.returncode == 5:
        return wrong(tr("pytest collected no test: is there a pytest.ini with `testpaths = tests`?"))
    if proc.returncode != 0:
        failed = [line.split(" ", 1)[1] for line in proc.stdout.splitlines() if line.startswith(("FAILED ", "ERROR "))]
        return wrong(
            tr("`python -m pytest` is red: {failures}", failures=_short("; ".join(failed[:2]) or _last_line(proc.stdout)))
        )
    passed = sum(1 for line in proc.stdout.splitlines() if line.startswith("PASSED "))
    return solved(tr("`python -m pytest` is green: {count} tests passed, the API's and the stairway.", count=passed))


# 16.6 ------------------------------------------------------------------------------------------------

COMPOSE_FILES = ("compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml")


def _words(command: object) -> str:
    return " ".join(command) if isinstance(command, list) else str(command or "")


def check_compose(ws: Workspace) -> Verdict:
    import yaml

    base = capstone.folder()
    if (early := _start(base)) is not None:
        return early
    compose = next((base / name for name in COMPOSE_FILES if (base / name).exists()), None)
    dockerfile = base / "Dockerfile"
    if compose is None and not dockerfile.exists():
        return not_started(tr("there is no Dockerfile and no compose.yaml in your folder yet."))
    if not dockerfile.exists():
        return wrong(tr("there is a compose file but no Dockerfile: the services build the app's image from it."))
    if compose is None:
        return wrong(tr("there is a Dockerfile but no compose.yaml."))
    image = dockerfile.read_text(encoding="utf-8")
    lacking = [name for name in ("alembic.ini", "migrations") if name not in image]
    if len(lacking) == 1:
        return wrong(
            tr(
                "the Dockerfile does not copy {name}: the migrate service runs Alembic from the image.",
                name=lacking[0],
            )
        )
    if lacking:
        return wrong(
            tr("the Dockerfile does not copy alembic.ini or migrations: the migrate service runs Alembic from the image.")
        )
    ignore = base / ".dockerignore"
    if not ignore.exists() or ".env" not in [line.strip() for line in ignore.read_text(encoding="utf-8").splitlines()]:
        return wrong(tr("no .dockerignore listing `.env`: your password would be copied into the image."))
    try:
        services = (yaml.safe_load(compose.read_text(encoding="utf-8")) or {}).get("services") or {}
    except yaml.YAMLError as error:
        return wrong(tr("{file} is not valid YAML: {error}", file=compose.name, error=_short(str(error), 160)))
    migrate = [n for n, s in services.items() if re.search(r"alembic\s+upgrade\s+head", _words((s or {}).get("command")))]
    if not migrate:
        return wrong(tr("no service in {file} runs `python -m alembic upgrade head` as its command.", file=compose.name))
    waiting = [
        n
        for n, s in services.items()
        if isinstance((s or {}).get("depends_on"), dict)
        and ((s["depends_on"].get(migrate[0]) or {}).get("condition") == "service_completed_successfully")
    ]
    if not waiting:
        return wrong(
            tr(
                "no service waits for {service!r} to finish: the app's `depends_on: {service}: "
                "condition: service_completed_successfully`.",
                service=migrate[0],
            )
        )
    return solved(
        tr(
            "{file}: {service!r} runs `alembic upgrade head` once, and {app!r} starts when it has succeeded.",
            file=compose.name,
            service=migrate[0],
            app=waiting[0],
        )
    )


# The exercises -----------------------------------------------------------------------------------------


WRONG = {
    "16.1": WrongAttempt(
        "from course.capstone import write\nfrom course.capstone.steps import reference_files\n\n"
        "for path, content in reference_files(1).items():  # main.py without its POST endpoints\n"
        "    write(path, content.split('\\n\\n\\n@app.post')[0] + '\\n' if path == 'app/main.py' else content)",
        "POST /categories",
    ),
    "16.2": WrongAttempt(
        "from course.capstone import edit, run\nfrom course.capstone.steps import INI_URL_NEW, INI_URL_OLD, ENV_IMPORTS_NEW, ENV_IMPORTS_OLD\n\n"
        "run('python -m alembic init -t async migrations', unless='migrations/env.py')\n"
        "edit('alembic.ini', INI_URL_OLD, INI_URL_NEW)\n"
        "edit('migrations/env.py', ENV_IMPORTS_OLD, ENV_IMPORTS_NEW)  # and target_metadata stays None",
        "target_metadata",
    ),
    "16.3": WrongAttempt(
        "from course.capstone import write\nfrom course.capstone.steps import reference_files\n\n"
        "write('app/models.py', reference_files(3)['app/models.py'])  # the model, and no revision yet",
        "no revision adds",
    ),
    "16.4": WrongAttempt(
        "from course.capstone import write\nfrom course.capstone.steps import reference_files\n\n"
        "main = reference_files(3)['app/main.py']\n"
        "main = main.replace('from app.database import get_session', 'from contextlib import asynccontextmanager\\n\\n"
        "from app.database import engine, get_session')\n"
        "main = main.replace('app = FastAPI(title=\"My shop\")', '@asynccontextmanager\\nasync def lifespan(app):\\n"
        "    yield  # no check before the first request\\n    await engine.dispose()\\n\\n\\n"
        'app = FastAPI(title="My shop", lifespan=lifespan)\')\n'
        "write('app/main.py', main)",
        "started on an empty database",
    ),
    "16.5": WrongAttempt(
        "from course.capstone import write\nfrom course.capstone.steps import reference_files\n\n"
        "for path in ('pytest.ini', 'tests/__init__.py', 'tests/conftest.py', 'tests/test_api.py'):  # no stairway\n"
        "    write(path, reference_files(5)[path])",
        "no stairway test",
    ),
    "16.6": WrongAttempt(
        "from course.capstone import write\nfrom course.capstone.steps import reference_files\n\n"
        "for path in ('requirements.txt', '.dockerignore', 'Dockerfile'):\n"
        "    write(path, reference_files(6)[path])\n"
        "write('compose.yaml', reference_files(6)['compose.yaml'].replace('service_completed_successfully', 'service_started'))",
        "service_completed_successfully",
    ),
}

CHECKS = {1: check_app, 2: check_alembic, 3: check_stock, 4: check_refuses, 5: check_tests, 6: check_compose}

EXPLANATIONS = {
    1: N_(
        "The app is an ordinary async FastAPI app: settings from pydantic-settings, one engine, one `AsyncSession` per "
        "request through a dependency. Nothing in it knows about Alembic yet; the models are what Alembic will compare."
    ),
    2: N_(
        "`alembic init -t async migrations` writes an `env.py` that runs migrations over an async engine "
        "(`connection.run_sync`). Two edits make it yours: `target_metadata` (what autogenerate compares) and the URL from "
        "the settings (with `%` doubled, because `alembic.ini` is read by configparser)."
    ),
    3: N_(
        "A column the rows already there cannot fill needs a server default: `server_default='0'` in the model appears in "
        "the generated `add_column`, so the upgrade works on a table with rows. The endpoint ships with its revision."
    ),
    4: N_(
        "The lifespan runs before the first request. It reads the scripts' heads (`ScriptDirectory`) and the "
        "database's `alembic_version` (`MigrationContext`), and raises if they differ: uvicorn then exits with "
        "*Application startup failed* instead of serving errors later."
    ),
    5: N_(
        "Every test gets a database of its own, migrated by the project's own `alembic.ini` with the URL set on the "
        "Config (env.py keeps it), and the app's `get_session` is overridden to use it. The stairway runs each "
        "revision up, down and up again."
    ),
    6: N_(
        "The image holds the app and its migrations; the `migrate` service runs them once and exits. "
        "`service_completed_successfully` makes the app wait for that exit code 0, so it never starts on an old schema "
        "(and if it did, step 4's check would stop it)."
    ),
}

EXERCISES = [
    Exercise(
        id=f"16.{s.number}",
        title=s.title,
        check=CHECKS[s.number],
        solution=s.solution(),
        explanation=EXPLANATIONS[s.number],
        wrong=(WRONG[f"16.{s.number}"],),
        on_your_own=s.number == len(STEPS),
    )
    for s in STEPS
]
