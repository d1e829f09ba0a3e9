"""The app's settings, read by pydantic-settings: the environment first, then the .env beside the project."""

from pathlib import Path

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT = Path(__file__).resolve().parents[1]  # the folder that holds app/, .env and alembic.ini


class Settings(BaseSettings):
    # SHOP_DATABASE_URL in the environment wins over the one in .env (a container sets it that way).
    model_config = SettingsConfigDict(env_prefix="SHOP_", env_file=PROJECT / ".env", extra="ignore")

    database_url: SecretStr  # postgresql+asyncpg://user:password@host:port/database


settings = Settings()
