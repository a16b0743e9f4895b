"""The one settings object (pydantic-settings, prefix ``REGIOTWIN_``, ``.env`` supported)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated
from urllib.parse import unquote, urlparse

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from domain.application import check_cipher_key, encrypted_env, postgres_env, sqlite_env

TELEGRAM_API_URL = "https://api.telegram.org"
WEBHOOK_SECRET_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,256}")
"""What Telegram accepts as a webhook's ``secret_token``."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="REGIOTWIN_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        hide_input_in_errors=True,  # a rejected value may be a secret
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
    cipher_key: SecretStr | None = Field(
        default=None,
        description="base64 AES key (16, 24 or 32 bytes): encrypts and compresses every "
        "event's payload in the event store",
    )
    webhook_url: str | None = Field(
        default=None,
        description="public HTTPS URL Telegram posts updates to; set: webhook mode, "
        "unset: long polling",
    )
    webhook_secret: SecretStr | None = Field(
        default=None,
        description="Telegram's X-Telegram-Bot-Api-Secret-Token (1-256 of A-Z a-z 0-9 _ -); "
        "default: a random one per start",
    )
    webhook_host: str = Field(default="127.0.0.1", description="the webhook server listens here")
    webhook_port: int = Field(default=8080, ge=1, le=65535)

    @field_validator("admins", mode="before")
    @classmethod
    def _split_admins(cls, value: object) -> object:
        if isinstance(value, str):
            return [int(part) for part in value.replace(" ", "").split(",") if part]
        return value

    @field_validator("cipher_key", "webhook_secret", "webhook_url", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("cipher_key")
    @classmethod
    def _check_cipher_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        return SecretStr(check_cipher_key(value.get_secret_value()))

    @field_validator("webhook_secret")
    @classmethod
    def _check_webhook_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not WEBHOOK_SECRET_PATTERN.fullmatch(value.get_secret_value()):
            raise ValueError("the webhook secret must be 1-256 characters of A-Z a-z 0-9 _ -")
        return value

    @field_validator("webhook_url")
    @classmethod
    def _check_webhook_url(cls, value: str | None) -> str | None:
        if value is not None and urlparse(value).scheme not in ("https", "http"):
            raise ValueError("the webhook URL must be https://… (Telegram posts only to HTTPS)")
        return value

    @property
    def webhook_path(self) -> str:
        """The path the webhook server answers on: the public URL's (a reverse proxy
        forwards it unchanged)."""
        return urlparse(self.webhook_url or "").path or "/"

    @property
    def event_store_env(self) -> dict[str, str]:
        """eventsourcing's environment for the configured event store (with the cipher and
        the compressor when a cipher key is set: every application opening the store
        gets it from here)."""
        if self.database_url is not None:
            env = postgres_env(self.database_url.get_secret_value())
        else:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            env = sqlite_env(str(self.data_dir / "events.sqlite"))
        key = self.cipher_key.get_secret_value() if self.cipher_key is not None else None
        return encrypted_env(env, key)

    def secret_values(self) -> list[str]:
        """Everything that must never appear in a log: the bot token, the webhook secret,
        the cipher key, the database password."""
        values = [
            secret.get_secret_value()
            for secret in (self.bot_token, self.webhook_secret, self.cipher_key)
            if secret is not None
        ]
        if self.database_url is not None:
            password = urlparse(self.database_url.get_secret_value()).password
            if password:
                values += {password, unquote(password)}
        return values

    @property
    def read_model_path(self) -> Path:
        """Read models are caches of the log: always local SQLite, rebuildable."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return self.data_dir / "read_models.sqlite"
