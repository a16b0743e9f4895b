"""The one eventsourcing Application behind the service layer, and its stores."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import unquote, urlparse

from eventsourcing.application import Application
from eventsourcing.persistence import JSONTranscoder, Transcoding


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class RegioTwinApplication(Application[Any]):
    name = "RegioTwin"

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())


def sqlite_env(path: str) -> dict[str, str]:
    return {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": path,
        "SQLITE_LOCK_TIMEOUT": "10",
        "APPLICATION_RECORDER_TOPIC": "domain.chained_sqlite:ChainedSQLiteApplicationRecorder",
    }


def postgres_env(url: str, schema: str | None = None) -> dict[str, str]:
    """Environment for eventsourcing's postgres module from a ``postgresql://`` URL."""
    parsed = urlparse(url)
    if parsed.scheme not in ("postgresql", "postgres"):
        raise ValueError("the database URL must start with postgresql://")
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": parsed.path.lstrip("/") or "regiotwin",
        "POSTGRES_HOST": parsed.hostname or "127.0.0.1",
        "POSTGRES_PORT": str(parsed.port or 5432),
        "POSTGRES_USER": unquote(parsed.username or ""),
        "POSTGRES_PASSWORD": unquote(parsed.password or ""),
        "POSTGRES_CONNECT_TIMEOUT": "5",
        "POSTGRES_LOCK_TIMEOUT": "5",
        "POSTGRES_POOL_SIZE": "5",
        "APPLICATION_RECORDER_TOPIC": "domain.chained_postgres:ChainedPostgresApplicationRecorder",
    }
    if schema:
        env["POSTGRES_SCHEMA"] = schema
    return env
