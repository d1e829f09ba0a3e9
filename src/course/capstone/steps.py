"""The capstone's steps, in one place: the notebook shows them, the solutions apply them, the test follows them.

A step is a list of actions in the order a learner does them: ``Command`` (typed in a terminal,
the same in bash, zsh and PowerShell), ``Write`` (a file from the reference solution in
``reference/<step>/``) and ``Edit`` (a change to a file a command wrote, such as ``alembic init``'s
``env.py``). ``Step.markdown()`` is what the notebook shows; ``Step.solution()`` is the notebook
code ``course.solution("16.n")`` shows and the exercise tests run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from course.i18n import N_, tr

REFERENCE = Path(__file__).resolve().parent / "reference"


@dataclass(frozen=True)
class Command:
    text: str  # exactly what the learner types, after `python` (the venv's): the same in every shell
    why: str = ""  # one sentence of Markdown under it
    serve: bool = False  # a server: it runs until Ctrl+C (the test starts it on a free port and calls it)
    fails: bool = False  # it fails, on purpose
    demo: bool = False  # a demonstration: not part of the solution
    done_when: str | None = None  # a glob in the folder that means the command has run (a solution skips it then)


@dataclass(frozen=True)
class Write:
    path: str
    why: str
    step: int  # whose reference folder holds it
    excerpt: str = ""  # the lines shown in the instructions: parts of the file, "..." between them

    @property
    def excerpt_parts(self) -> list[str]:
        return [part.strip("\n") for part in self.excerpt.split("\n...\n")] if self.excerpt else []

    @property
    def content(self) -> str:
        return (REFERENCE / str(self.step) / self.path).read_text(encoding="utf-8")


@dataclass(frozen=True)
class Edit:
    path: str
    why: str
    old: str
    new: str


Action = Command | Write | Edit


@dataclass(frozen=True)
class Step:
    number: int
    title: str
    intro: str
    actions: tuple[Action, ...] = field(default_factory=tuple)

    @property
    def exercise(self) -> str:
        return f"16.{self.number}"

    def markdown(self) -> str:
        header = tr(
            '**Step {number} · {title}** (then `course.check("{exercise}")`)',
            number=self.number,
            title=tr(self.title),
            exercise=self.exercise,
        )
        lines = [header, "", tr(self.intro), ""]
        groups: list[list[Action]] = []
        for action in self.actions:  # commands in a row share one block, up to one with a note
            last = groups[-1] if groups else []
            if isinstance(action, Command) and last and all(isinstance(a, Command) and not a.why for a in last):
                groups[-1].append(action)
            else:
                groups.append([action])
        for n, group in enumerate(groups, 1):
            first = group[0]
            if isinstance(first, Command):
                commands = [a for a in group if isinstance(a, Command)]
                note = tr(commands[-1].why) if commands[-1].why else ""
                if len(commands) == 1:
                    if note:
                        lines.append(f"{n}. " + tr("In the terminal: `{command}`. {note}", command=commands[0].text, note=note))
                    else:
                        lines.append(f"{n}. " + tr("In the terminal: `{command}`", command=commands[0].text))
                else:
                    lines += [f"{n}. " + tr("In the terminal:"), "", "   ```"] + [f"   {c.text}" for c in commands] + ["   ```"]
                    lines += ["", f"   {note}"] if note else []
            elif isinstance(first, Write):
                lines.append(f"{n}. " + tr("Write **`{path}`**: {why}", path=first.path, why=tr(first.why)))
                if first.excerpt:
                    lines += ["", "   ```python" if first.path.endswith(".py") else "   ```"]
                    lines += [_indent(line) for line in first.excerpt.splitlines()] + ["   ```"]
            else:
                assert isinstance(first, Edit)
                path, why, old = first.path, tr(first.why), first.old.strip()
                if "\n" not in first.old.rstrip("\n") and "\n" not in first.new.rstrip("\n"):
                    lines.append(
                        f"{n}. "
                        + tr(
                            "In **`{path}`**, {why}: `{old}` becomes `{new}`", path=path, why=why, old=old, new=first.new.strip()
                        )
                    )
                elif first.new.startswith(first.old):
                    added = first.new[len(first.old) :].strip("\n")
                    lines += [
                        f"{n}. " + tr("In **`{path}`**, {why}: after `{old}` add", path=path, why=why, old=old),
                        "",
                        "   ```python",
                    ]
                    lines += [_indent(line) for line in added.splitlines()] + ["   ```"]
                else:
                    lines += [
                        f"{n}. " + tr("In **`{path}`**, {why}: `{old}` becomes", path=path, why=why, old=old),
                        "",
                        "   ```python",
                    ]
                    lines += [_indent(line) for line in first.new.strip("\n").splitlines()] + ["   ```"]
            lines.append("")
        return "\n".join(lines).rstrip() + "\n"

    def solution(self) -> str:
        """Notebook code that does this step in the learner's folder (what they would type, done for them)."""
        out = [
            f"# Step {self.number}, done for you in your folder: a file of yours that differs is kept in .course-attempts/ first.",
            "from course.capstone import edit, run, write",
            "",
        ]
        for action in self.actions:
            if isinstance(action, Command):
                if action.fails or action.demo:
                    continue
                if action.serve:
                    out.append(f"# then, in your terminal: {action.text}")
                    continue
                unless = f", unless={action.done_when!r}" if action.done_when else ""
                out.append(f"run({action.text!r}{unless})")
            elif isinstance(action, Write):
                out.append(f"write({action.path!r}, {_literal(action.content)})")
            else:
                out.append(f"edit({action.path!r}, {_literal(action.old)}, {_literal(action.new)})")
        return "\n".join(out) + "\n"


def _indent(line: str) -> str:
    return f"   {line}" if line else ""


def _literal(text: str) -> str:
    """``text`` as a readable Python literal: triple-quoted where it spans lines."""
    if "\n" in text and "'''" not in text and "\\" not in text:
        return "'''\\\n" + text + "'''"
    return repr(text)


SERVE = "python -m uvicorn app.main:app --port 8000"

ENV_IMPORTS_OLD = "from alembic import context\n"
ENV_IMPORTS_NEW = """from alembic import context

import app.models  # noqa: F401 - puts every model on Base.metadata
from app.database import Base
from app.settings import settings
"""
ENV_METADATA_OLD = "target_metadata = None\n"
ENV_METADATA_NEW = """target_metadata = Base.metadata

if not config.get_main_option("sqlalchemy.url"):  # a test may have set one already
    url = settings.database_url.get_secret_value()
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))  # configparser: "%" is doubled
"""
INI_URL_OLD = "sqlalchemy.url = driver://user:pass@localhost/dbname\n"
INI_URL_NEW = "# sqlalchemy.url is not here: migrations/env.py reads it from app/settings.py (.env)\n"

STEPS: tuple[Step, ...] = (
    Step(
        1,
        N_("A small async FastAPI app"),
        N_("Five files in `app/` and a `.gitignore`; the notebook has written `.env` already."),
        (
            Write(".gitignore", N_("keeps `.env` (it holds the password) and the caches out of git."), 1),
            Write("app/__init__.py", N_("empty: `app` is a package."), 1),
            Write(
                "app/settings.py",
                N_("a pydantic-settings class that reads `SHOP_DATABASE_URL` from the environment, else from `.env`."),
                1,
                excerpt="class Settings(BaseSettings):\n...\n"
                '    model_config = SettingsConfigDict(env_prefix="SHOP_", env_file=PROJECT / ".env", extra="ignore")\n\n'
                "    database_url: SecretStr  # postgresql+asyncpg://user:password@host:port/database",
            ),
            Write(
                "app/database.py",
                N_(
                    "the async `engine`, an `async_sessionmaker`, the declarative `Base` (with a naming convention) "
                    "and `get_session()`, the dependency that gives each request an `AsyncSession`."
                ),
                1,
                excerpt="engine = create_async_engine(settings.database_url.get_secret_value())\n"
                "SessionLocal = async_sessionmaker(engine, expire_on_commit=False)",
            ),
            Write(
                "app/models.py",
                N_(
                    "`Category` (table `categories`: `id`, unique `name`) and `Product` (table `products`: "
                    "`id`, `name`, `price_cents`, `category_id` → `categories.id`)."
                ),
                1,
            ),
            Write(
                "app/main.py",
                N_(
                    "`app = FastAPI(...)` with `GET` and `POST` on `/categories` and `/products`, Pydantic models "
                    "in and out, and a session per request:"
                ),
                1,
                excerpt="Session = Annotated[AsyncSession, Depends(get_session)]\n"
                "...\n"
                '@app.post("/categories", response_model=CategoryOut, status_code=201)\n'
                "async def create_category(data: CategoryIn, session: Session):\n"
                "    category = Category(**data.model_dump())\n"
                "    session.add(category)\n"
                "    await session.commit()\n"
                "    return category",
            ),
            Command('python -c "import app.main"', N_("No output means the app imports: settings read, engine made.")),
        ),
    ),
    Step(
        2,
        N_("Alembic, from the async template"),
        N_("This time `alembic init` starts from the **async** template, and `env.py` gets its URL from your settings."),
        (
            Command("python -m alembic init -t async migrations", done_when="migrations/env.py"),
            Edit("alembic.ini", N_("the URL goes"), INI_URL_OLD, INI_URL_NEW),
            Edit("migrations/env.py", N_("import the models, `Base` and the settings"), ENV_IMPORTS_OLD, ENV_IMPORTS_NEW),
            Edit("migrations/env.py", N_("give autogenerate your metadata and the URL"), ENV_METADATA_OLD, ENV_METADATA_NEW),
            Command(
                'python -m alembic revision --autogenerate -m "create categories and products" --rev-id 0001',
                N_("Then **read** `migrations/versions/0001_create_categories_and_products.py` in the editor."),
                done_when="migrations/versions/0001_*.py",
            ),
            Command("python -m alembic upgrade head"),
            Command(
                SERVE, N_("Open <http://127.0.0.1:8000/docs>, create a category and a product; Ctrl+C stops it."), serve=True
            ),
        ),
    ),
    Step(
        3,
        N_("A second change: a column and the endpoint that uses it"),
        N_("Products get a stock count; a new endpoint lists the products in stock."),
        (
            Write(
                "app/models.py",
                N_("a new column on `Product`."),
                3,
                excerpt='    stock: Mapped[int] = mapped_column(server_default="0")  # existing rows get 0',
            ),
            Write(
                "app/main.py",
                N_("`stock: int = 0` in `ProductIn`, and a new endpoint."),
                3,
                excerpt='@app.get("/products/in-stock", response_model=list[ProductOut])\n'
                "async def list_products_in_stock(session: Session):\n"
                "    return (await session.scalars(select(Product).where(Product.stock > 0).order_by(Product.id))).all()",
            ),
            Command(
                'python -m alembic revision --autogenerate -m "add products.stock" --rev-id 0002',
                N_("Read it: one `add_column` with `server_default='0'`, so the rows already there get a value."),
                done_when="migrations/versions/0002_*.py",
            ),
            Command("python -m alembic upgrade head"),
            Command(SERVE, N_("<http://127.0.0.1:8000/products/in-stock> answers."), serve=True),
        ),
    ),
    Step(
        4,
        N_("Refuse to start on a database that is not at head"),
        N_(
            "At start-up the app compares the database's revision with the scripts' head, and stops with a clear message if they differ."
        ),
        (
            Write(
                "app/schema_check.py",
                N_(
                    "`require_head(engine)` compares `alembic heads` (the scripts) with `alembic_version` "
                    "(the database) and raises `DatabaseNotAtHead` if they differ."
                ),
                4,
            ),
            Write(
                "app/main.py",
                N_('a lifespan that calls it before the first request, and `FastAPI(title="My shop", lifespan=lifespan)`.'),
                4,
                excerpt="@asynccontextmanager\nasync def lifespan(app: FastAPI) -> AsyncIterator[None]:\n"
                "    await require_head(engine)  # before the first request: refuse a database that is not at head\n"
                "    yield\n    await engine.dispose()",
            ),
            Command(
                "python -m alembic downgrade -1", N_("One step back, on purpose (your `stock` numbers go with it)."), demo=True
            ),
            Command(SERVE, N_("It stops at start-up: *the database is at 0001, this code needs 0002*."), serve=True, fails=True),
            Command("python -m alembic upgrade head"),
            Command(SERVE, N_("Now it starts."), serve=True),
        ),
    ),
    Step(
        5,
        N_("Tests for the app and its migrations"),
        N_("pytest with httpx's `AsyncClient` against a throw-away database migrated to head, and the stairway."),
        (
            Write("pytest.ini", N_("where the tests are, and `pythonpath = .` so they import `app`."), 5),
            Write("tests/__init__.py", N_("empty."), 5),
            Write(
                "tests/conftest.py",
                N_(
                    "fixtures: `test_database_url` (a database of its own per test, dropped after), `migrated` "
                    "(`alembic upgrade head` on it), `client` (an `AsyncClient` on the app, its sessions on that database)."
                ),
                5,
            ),
            Write("tests/test_api.py", N_("create and list, the in-stock endpoint, and the refusal of an empty database."), 5),
            Write("tests/test_migrations.py", N_("the stairway: for every revision, up, down one, up again."), 5),
            Command("python -m pytest", N_("Four tests pass.")),
        ),
    ),
    Step(
        6,
        N_("A Dockerfile, and migrations before the app starts"),
        N_("A one-off `migrate` service runs `alembic upgrade head`; the app starts when it has finished successfully."),
        (
            Write("requirements.txt", N_("what the image installs, pinned."), 6),
            Write(".dockerignore", N_("keeps `.env` and the tests out of the image."), 6),
            Write("Dockerfile", N_("the app's image: the app, `alembic.ini` and `migrations/`; it runs uvicorn."), 6),
            Write(
                "compose.yaml",
                N_(
                    "three services: `db` (PostgreSQL 15), `migrate` and `app`, which waits for `migrate` "
                    "with `condition: service_completed_successfully`."
                ),
                6,
                excerpt="  migrate:  # a one-off service: runs, exits 0, and the app may start\n"
                "    build: .\n"
                '    command: ["python", "-m", "alembic", "upgrade", "head"]',
            ),
        ),
    ),
)


def step(number: int) -> Step:
    for found in STEPS:
        if found.number == number:
            return found
    raise KeyError(f"the capstone has steps 1 to {len(STEPS)}, not {number}")


def reference_files(upto: int) -> dict[str, str]:
    """Every file the reference solution has written after step ``upto`` (later steps replace earlier versions)."""
    files: dict[str, str] = {}
    for found in STEPS[:upto]:
        for action in found.actions:
            if isinstance(action, Write):
                files[action.path] = action.content
    return files
