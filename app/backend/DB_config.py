"""Connection settings for the shop, read with pydantic-settings.

Values come from environment variables first, then from a ``.env`` file in the current
folder. Either give the parts (``DB_HOST``, ``DB_PORT``, ``DB_USER``, ``DB_PASS``,
``DB_NAME``) or one ``DATABASE_URL``; with neither, a PostgreSQL on localhost:5432.

URLs are built with SQLAlchemy's ``URL.create``: a password such as ``p@ss:w%rd/#?`` needs
no escaping, and ``str()``/``repr()`` of a URL show ``***`` instead of the password.
"""

from __future__ import annotations

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import URL, make_url

ASYNC_DRIVER = "postgresql+asyncpg"
SYNC_DRIVER = "postgresql+psycopg"  # for synchronous tools (%sql in a notebook, scripts)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    DB_HOST: str = "localhost"  # a host name, an IP, or a Unix-socket directory such as /var/run/postgresql
    DB_PORT: int = 5432
    DB_USER: str = "postgres"
    DB_PASS: SecretStr = SecretStr("")
    DB_NAME: str = "postgres"
    DATABASE_URL: SecretStr | None = None  # one URL instead of the parts above; it wins if both are set

    @property
    def _base_url(self) -> URL:
        if self.DATABASE_URL is not None:
            return make_url(self.DATABASE_URL.get_secret_value())
        password = self.DB_PASS.get_secret_value() or None
        if self.DB_HOST.startswith("/"):  # a Unix-socket directory goes in the query, not in the host
            host, query = None, {"host": self.DB_HOST}
        else:
            host, query = self.DB_HOST, {}
        return URL.create(
            "postgresql",
            username=self.DB_USER,
            password=password,
            host=host,
            port=self.DB_PORT,
            database=self.DB_NAME,
            query=query,
        )

    @property
    def DATABASE_URL_asyncpg(self) -> URL:
        """The URL the app and Alembic use: async SQLAlchemy over asyncpg."""
        return self._base_url.set(drivername=ASYNC_DRIVER)

    @property
    def DATABASE_URL_sync(self) -> URL:
        """The same database for synchronous tools."""
        return self._base_url.set(drivername=SYNC_DRIVER)


settings = Settings()
