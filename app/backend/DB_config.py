"""Connection settings for the shop, read with pydantic-settings.

Values come from environment variables first, then from a ``.env`` file in the current
folder. Either give the parts (``DB_HOST``, ``DB_PORT``, ``DB_USER``, ``DB_PASS``,
``DB_NAME``) or one ``DATABASE_URL``. With neither, the course's embedded PostgreSQL is
used (see ``app/backend/dev_database.py``).

URLs are built with SQLAlchemy's ``URL.create``: a password such as ``p@ss:w%rd/#?`` needs
no escaping, and ``str()``/``repr()`` of a URL show ``***`` instead of the password.
"""

from __future__ import annotations

from functools import cached_property

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import URL, make_url

ASYNC_DRIVER = "postgresql+asyncpg"
SYNC_DRIVER = "postgresql+psycopg"  # what %sql (ipython-sql) and other sync tools use


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    DB_HOST: str | None = None  # a host name, an IP, or a Unix-socket directory such as /var/run/postgresql
    DB_PORT: int = 5432
    DB_USER: str = "postgres"
    DB_PASS: SecretStr = SecretStr("")
    DB_NAME: str = "postgres"
    DATABASE_URL: SecretStr | None = None  # one URL instead of the parts above; it wins if both are set

    @property
    def uses_embedded_server(self) -> bool:
        return self.DATABASE_URL is None and not self.DB_HOST

    @cached_property
    def _base_url(self) -> URL:
        if self.DATABASE_URL is not None:
            return make_url(self.DATABASE_URL.get_secret_value())
        host, port = self.DB_HOST, self.DB_PORT
        if not host:
            from app.backend.dev_database import ensure_running

            server = ensure_running()
            host, port = server.host, server.port
        password = self.DB_PASS.get_secret_value() or None
        query = {}
        if host.startswith("/"):  # a Unix-socket directory goes in the query, not in the netloc
            query, host = {"host": host}, None
        return URL.create(
            "postgresql", username=self.DB_USER, password=password, host=host, port=port, database=self.DB_NAME, query=query
        )

    @property
    def DATABASE_URL_asyncpg(self) -> URL:
        """The URL the app and Alembic use: async SQLAlchemy over asyncpg."""
        return self._base_url.set(drivername=ASYNC_DRIVER)

    @property
    def DATABASE_URL_sync(self) -> URL:
        """The same database for synchronous tools (``%sql``, pandas, psql-like checks)."""
        return self._base_url.set(drivername=SYNC_DRIVER)

    def describe(self) -> str:
        """Where the database is, in words, without the password."""
        url = self._base_url
        socket = url.query.get("host")
        where = "a local socket" if socket else f"{url.host or 'localhost'}:{url.port or 5432}"
        kind = "embedded PostgreSQL (nothing configured)" if self.uses_embedded_server else "configured PostgreSQL"
        return f"{kind}: database {url.database!r} as user {url.username!r} via {where}"


def explain_connection_error(exc: BaseException, settings: Settings) -> str:
    """A few lines a learner can act on, instead of a long traceback."""
    text = f"{type(exc).__name__}: {exc}".strip()
    lowered = text.lower()
    if "password" in lowered and ("authentication" in lowered or "invalid" in lowered):
        why, fix = "the server rejected the user name or password", "DB_USER / DB_PASS (or the password inside DATABASE_URL)"
    elif "does not exist" in lowered and "database" in lowered:
        why, fix = "the database does not exist on that server", "DB_NAME (or the path of DATABASE_URL), or create the database"
    elif any(s in lowered for s in ("name or service not known", "nodename nor servname", "getaddrinfo", "no address associated")):
        why, fix = "the host name could not be resolved", "DB_HOST (or the host inside DATABASE_URL)"
    elif any(s in lowered for s in ("refused", "connect call failed", "no such file", "timeout", "timed out", "unreachable")):
        why, fix = "no PostgreSQL server answered at that address", "DB_HOST / DB_PORT (or DATABASE_URL), and check that the server is running"
    else:
        why, fix = "the connection failed", "DATABASE_URL or the DB_* settings"
    first_line = text.splitlines()[0][:300] if text else type(exc).__name__
    return (
        f"Cannot connect to the database.\n"
        f"  Tried:  {settings.describe()}\n"
        f"  Why:    {why} ({first_line})\n"
        f"  Fix:    set {fix} in the environment or in .env (see .env.example);\n"
        f"          unset them all to use the course's embedded PostgreSQL."
    )


settings = Settings()


if __name__ == "__main__":  # python -m app.backend.DB_config: is the database reachable?
    import sys

    from sqlalchemy import create_engine, text

    try:
        engine = create_engine(settings.DATABASE_URL_sync)
        with engine.connect() as conn:
            version = conn.execute(text("SHOW server_version")).scalar()
        engine.dispose()
    except Exception as error:  # noqa: BLE001 - any failure becomes the short message
        print(explain_connection_error(error, settings), file=sys.stderr)
        raise SystemExit(1) from None
    print(f"Database reachable: {settings.describe()} (PostgreSQL {version}).")
