"""The one settings object (pydantic-settings, prefix ``REGIOTWIN_``, ``.env`` supported)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from domain.application import postgres_env, sqlite_env

TELEGRAM_API_URL = "https://api.telegram.org"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="REGIOTWIN_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    data_dir: Path = Field(default=Path("data"), description="SQLite files live here")
    database_url: SecretStr | None = Field(
        default=None, description="postgresql://… to keep the event store in PostgreSQL"
    )
    bot_token: SecretStr | None = None
    telegram_api_url: str = TELEGRAM_API_URL
    admins: Annotated[list[int], NoDecode] = Field(
        default_factory=list, description="Telegram user ids of the first admins"
    )
    timezone: str = "Europe/Berlin"

    @field_validator("admins", mode="before")
    @classmethod
    def _split_admins(cls, value: object) -> object:
        if isinstance(value, str):
            return [int(part) for part in value.replace(" ", "").split(",") if part]
        return value

    @property
    def event_store_env(self) -> dict[str, str]:
        """eventsourcing's environment for the configured event store."""
        if self.database_url is not None:
            return postgres_env(self.database_url.get_secret_value())
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return sqlite_env(str(self.data_dir / "events.sqlite"))

    @property
    def read_model_path(self) -> Path:
        """Read models are caches of the log: always local SQLite, rebuildable."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return self.data_dir / "read_models.sqlite"
