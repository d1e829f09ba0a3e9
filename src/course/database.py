"""The course's PostgreSQL server and the per-notebook databases on it.

The server is whatever the learner configured (``DATABASE_URL`` or ``DB_*`` in the
environment or in the checkout's ``.env``), else the embedded one. Every notebook gets
its own database on that server, dropped and created again by each setup call.
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import URL, Connection, Engine, create_engine, make_url, text

from course.explain import explain_connection_error
from course.i18n import tr
from course.paths import CHECKOUT

SYNC_DRIVER = "postgresql+psycopg"  # what %sql (ipython-sql) and the course's own queries use
ASYNC_DRIVER = "postgresql+asyncpg"


class ServerSettings(BaseSettings):
    """Where the course's server is: the same settings a learner's app reads (the shop's DB_config)."""

    model_config = SettingsConfigDict(extra="ignore", env_file_encoding="utf-8")

    DB_HOST: str | None = None  # a host name, an IP, or a Unix-socket directory
    DB_PORT: int = 5432
    DB_USER: str = "postgres"
    DB_PASS: SecretStr = SecretStr("")
    DB_NAME: str = "postgres"
    DATABASE_URL: SecretStr | None = None  # wins over the parts
    # Whose databases these are, on a server several learners share (see learner_namespace).
    COURSE_LEARNER: str | None = None

    @property
    def uses_embedded_server(self) -> bool:
        return self.DATABASE_URL is None and not self.DB_HOST

    @property
    def url(self) -> URL:
        """The server's maintenance database, for the synchronous driver (starts the embedded server if needed)."""
        if self.DATABASE_URL is not None:
            return make_url(self.DATABASE_URL.get_secret_value()).set(drivername=SYNC_DRIVER)
        if self.uses_embedded_server:
            from course.embedded import ensure_running

            server = ensure_running()
            return URL.create(
                SYNC_DRIVER,
                username=server.user,
                password=server.password,
                database="postgres",
                port=server.port,
                **_host(server.host),
            )
        assert self.DB_HOST is not None
        return URL.create(
            SYNC_DRIVER,
            username=self.DB_USER,
            password=self.DB_PASS.get_secret_value() or None,
            port=self.DB_PORT,
            database=self.DB_NAME,
            **_host(self.DB_HOST),
        )

    def describe(self) -> str:
        """Where the database is, in words, without the password (starts nothing)."""
        if self.uses_embedded_server:
            return tr("embedded PostgreSQL (nothing configured)")
        url = self.url
        where = (
            tr("the socket in {folder}", folder=url.query["host"])
            if "host" in url.query
            else f"{url.host or 'localhost'}:{url.port or 5432}"
        )
        return tr(
            "configured PostgreSQL: database {database!r} as user {user!r} via {where}",
            database=url.database,
            user=url.username,
            where=where,
        )


SETTING_NAMES = tuple(ServerSettings.model_fields)


def _host(host: str) -> dict[str, object]:
    """A Unix-socket directory goes in the URL's query, a host name in its netloc."""
    return {"query": {"host": host}} if host.startswith("/") else {"host": host}


# The settings the process started with. Setup removes them from os.environ so that a
# workspace's own .env decides where its `alembic` commands go; the server stays known here.
_STARTUP_SETTINGS: dict[str, str] = {k: os.environ[k] for k in SETTING_NAMES if k in os.environ}


def server_settings(environ: Mapping[str, str] | None = None) -> ServerSettings:
    """The server's settings: the startup environment, then the checkout's ``.env``.

    Given ``environ``, exactly those settings and nothing else (no environment, no ``.env``).
    """
    if environ is None:
        return ServerSettings(_env_file=CHECKOUT / ".env", **_STARTUP_SETTINGS)  # pydantic-settings' init-only argument
    defaults = {name: field.default for name, field in ServerSettings.model_fields.items()}
    given = {k: v for k, v in environ.items() if k in SETTING_NAMES}
    return ServerSettings(_env_file=None, **{**defaults, **given})


class DatabaseUnavailable(RuntimeError):
    """The configured database cannot be reached. Shown in a notebook as a few plain lines."""

    def _render_traceback_(self) -> list[str]:  # IPython shows this instead of a traceback
        return [str(self)]


# One small pool per server address and database, for the course's own queries (checks, setup,
# snapshots): a new PostgreSQL connection costs about 10 ms of CPU, and a notebook makes thousands.
# pre_ping: a pooled connection to a database that was dropped or copied since (its backend
# terminated) is noticed and replaced before it is handed out.
_ENGINES: dict[tuple[str, bool], Engine] = {}


def _engine(url: URL, autocommit: bool) -> Engine:
    key = (url.render_as_string(hide_password=False), autocommit)
    if key not in _ENGINES:
        _ENGINES[key] = create_engine(
            url, pool_size=1, max_overflow=4, pool_pre_ping=True, isolation_level="AUTOCOMMIT" if autocommit else None
        )
    return _ENGINES[key]


def release(database: str) -> None:
    """Close the course's pooled connections to ``database`` (before it is dropped or copied)."""
    for engine in list(_ENGINES.values()):
        if engine.url.database == database:
            engine.dispose()


@contextmanager
def connect(url: URL, *, autocommit: bool = False) -> Iterator[Connection]:
    """A connection to ``url`` from the course's pool (committed at the end unless ``autocommit``).

    Refused because the database is another learner's (a shared server): DatabaseUnavailable, saying so.
    """
    from sqlalchemy.exc import OperationalError

    try:
        opened = _engine(url, autocommit).connect()
    except OperationalError as error:
        if "permission denied for database" not in str(error):
            raise
        tried = tr("database {database!r} as {user!r}", database=url.database, user=url.username)
        raise DatabaseUnavailable(explain_connection_error(error.orig or error, tried)) from None
    with opened as conn:
        yield conn
        if not autocommit:
            conn.commit()


def check_server(settings: ServerSettings | None = None) -> str:
    """Connect once; return the server version or raise DatabaseUnavailable with a short message."""
    from course.embedded import EmbeddedServerError

    settings = settings or server_settings()
    try:
        url = settings.url.update_query_dict({"connect_timeout": "5"})
        with connect(url) as conn:
            return str(conn.execute(text("SHOW server_version")).scalar())
    except EmbeddedServerError as error:  # its message already says what to do
        raise DatabaseUnavailable(str(error)) from None
    except Exception as error:  # noqa: BLE001 - every failure becomes the short message
        raise DatabaseUnavailable(explain_connection_error(error, settings.describe())) from None


MAX_IDENTIFIER = 63  # PostgreSQL's NAMEDATALEN - 1, in bytes (the names here are ASCII)


def fit_identifier(name: str) -> str:
    """``name`` if PostgreSQL takes it whole, else cut and ended by 6 hex digits of its hash (so still distinct)."""
    if len(name) <= MAX_IDENTIFIER:
        return name
    return name[: MAX_IDENTIFIER - 7] + "_" + hashlib.sha256(name.encode()).hexdigest()[:6]


def learner_namespace(settings: ServerSettings | None = None, environ: Mapping[str, str] | None = None) -> str:
    """Who owns the course's databases on this server, as an identifier part: ``""`` for a learner alone.

    ``COURSE_LEARNER`` when set; else nothing on the embedded server (one learner, one server);
    else, on a configured server that others may share, ``JUPYTERHUB_USER`` or the OS user name.
    The name is folded to ASCII letters, digits and ``_`` (20 at most) and followed by 6 hex
    digits of its hash, so ``o'brien``, ``o_brien`` and ``O'Brien`` stay three learners.
    """
    import getpass

    settings = settings or server_settings()
    environ = os.environ if environ is None else environ
    who = (settings.COURSE_LEARNER or "").strip()
    if not who and not settings.uses_embedded_server:
        who = environ.get("JUPYTERHUB_USER", "").strip() or getpass.getuser()
    if not who:
        return ""
    folded = unicodedata.normalize("NFKD", who).encode("ascii", "ignore").decode().lower()
    slug = re.sub(r"[^a-z0-9]+", "_", folded).strip("_")[:20] or "learner"
    return f"{slug}_{hashlib.sha256(who.encode()).hexdigest()[:6]}"


def database_prefix(settings: ServerSettings | None = None) -> str:
    """What every database of this learner's course starts with: ``course_``, or ``<learner>__course_``."""
    namespace = learner_namespace(settings)
    return f"{namespace}__course_" if namespace else "course_"


def database_name_for(name: str, settings: ServerSettings | None = None) -> str:
    """``03-configure-async-env`` -> ``course_03_configure_async_env`` (a valid, lower-case identifier).

    On a shared server the learner's namespace comes first (``ivan_3f2a1c__course_03_…``); a name
    too long for PostgreSQL is cut and ends with 6 hex digits of its hash, so names stay distinct.
    """
    slug = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
    full = database_prefix(settings) + slug
    if len(full) <= MAX_IDENTIFIER:
        return full
    if not full.startswith("course_"):
        return fit_identifier(full)
    return full[:MAX_IDENTIFIER]  # a learner alone: as before


def recreate_database(name: str, settings: ServerSettings | None = None, template: str | None = None) -> URL:
    """Drop (forcing out old connections) and create database ``name``, a copy of ``template`` if given; its sync URL."""
    settings = settings or server_settings()
    check_server(settings)
    release(name)
    with connect(settings.url, autocommit=True) as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        create_database(conn, name, settings, template)
    return settings.url.set(database=name)


def create_database(conn: Connection, name: str, settings: ServerSettings, template: str | None = None) -> None:
    """``CREATE DATABASE`` (a copy of ``template`` if given); on a shared server, closed to everyone but its owner.

    A new database lets ``PUBLIC`` connect (a copy does not inherit its template's privileges), so
    for a learner with a namespace ``CONNECT`` and ``TEMPORARY`` are revoked from ``PUBLIC``.
    """
    conn.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
    if learner_namespace(settings):
        conn.execute(text(f'REVOKE CONNECT, TEMPORARY ON DATABASE "{name}" FROM PUBLIC'))


def drop_course_databases(settings: ServerSettings | None = None) -> list[str]:
    """Drop this learner's course databases (every name starting with ``database_prefix``), nobody else's."""
    settings = settings or server_settings()
    with connect(settings.url, autocommit=True) as conn:
        query = text("SELECT datname FROM pg_database WHERE starts_with(datname, :prefix) ORDER BY 1")
        names = list(conn.execute(query, {"prefix": database_prefix(settings)}).scalars())
    for name in names:
        drop_database(name, settings)
    return names


def drop_database(name: str, settings: ServerSettings | None = None) -> None:
    settings = settings or server_settings()
    release(name)
    with connect(settings.url, autocommit=True) as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def env_file_text(url: URL) -> str:
    """The ``.env`` a workspace gets: the DB_* parts of ``url``, quoted so any password survives.

    python-dotenv reads single-quoted values literally, except for ``\\'`` and ``\\\\``. A password
    holding a quote or a backslash therefore goes in DATABASE_URL instead, percent-encoded.
    """
    header = "# Written by course.setup(): where this workspace's database is. Not committed.\n"
    password = url.password or ""
    if "'" in password or "\\" in password:
        return header + f"DATABASE_URL='{url.set(drivername='postgresql').render_as_string(hide_password=False)}'\n"
    host = url.query.get("host") or url.host or "localhost"
    if isinstance(host, tuple):
        host = host[0]
    lines = [
        f"DB_HOST='{host}'",
        f"DB_PORT={url.port or 5432}",
        f"DB_USER='{url.username or 'postgres'}'",
        f"DB_PASS='{password}'",
        f"DB_NAME='{url.database or ''}'",
    ]
    return header + "\n".join(lines) + "\n"
