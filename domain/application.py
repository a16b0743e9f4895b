"""The one eventsourcing Application behind the service layer, and its stores."""

from __future__ import annotations

import base64
import binascii
import threading
from datetime import date
from typing import Any, ClassVar
from urllib.parse import unquote, urlparse

from eventsourcing.application import Application, Repository
from eventsourcing.persistence import JSONTranscoder, MapperDeserialisationError, Transcoding

from domain.personal_data import PersonalDataAsCiphertext, personal_keys

CIPHER_TOPIC = "eventsourcing.cipher:AESCipher"
COMPRESSOR_TOPIC = "eventsourcing.compressor:ZlibCompressor"
CIPHER_KEY_BYTES = 32


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


AGGREGATE_CACHE_SIZE = 2_000
"""Aggregates kept in memory by default (a few KB each): a programme's twinnings, regions
and active members, and the measures being worked on. ``AGGREGATE_CACHE_MAXSIZE`` (or
``REGIOTWIN_AGGREGATE_CACHE_MAXSIZE``) in the environment sets another size; 0 turns the
cache off."""


class CachingRepository(Repository[Any]):
    """eventsourcing's repository with its aggregate cache, used only the safe way.

    * Fast-forward, always: each ``get`` of a cached aggregate reads the events stored
      after its version first (one indexed query), so it sees what other processes wrote.
    * A deep copy, always: a command changes its own copy; a refused or failed command
      leaves the cached aggregate as the store has it (only stored events change it).
    * One ``get`` at a time: eventsourcing copies a cached aggregate after releasing the
      lock under which another thread may be fast-forwarding that very object.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lock = threading.Lock()

    def get(self, aggregate_id: Any, *, version: int | None = None, **kwargs: Any) -> Any:
        if self.cache is None or version is not None:
            return super().get(aggregate_id, version=version, **kwargs)
        kwargs["deepcopy_from_cache"] = True
        with self._lock:
            return super().get(aggregate_id, **kwargs)


class RegioTwinApplication(Application[Any]):
    name = "RegioTwin"
    env: ClassVar[dict[str, str]] = {"AGGREGATE_CACHE_MAXSIZE": str(AGGREGATE_CACHE_SIZE)}

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())
        # Members' personal data: sealed per member, erasable (domain/personal_data.py).
        transcoder.register(PersonalDataAsCiphertext(lambda: personal_keys(self)))

    def construct_repository(self) -> Repository[Any]:
        size = int(self.env.get(self.AGGREGATE_CACHE_MAXSIZE) or 0)
        return CachingRepository(
            event_store=self.events,
            snapshot_store=self.snapshots,
            cache_maxsize=size if size > 0 else None,  # eventsourcing: 0 = unbounded
            fastforward=True,
            deepcopy_from_cache=True,
        )


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


# --- encryption at rest ------------------------------------------------------------------


def create_cipher_key() -> str:
    """A fresh AES-256 key, base64: the value of ``REGIOTWIN_CIPHER_KEY``."""
    from eventsourcing.cipher import AESCipher  # needs pycryptodome (eventsourcing[crypto])

    return AESCipher.create_key(num_bytes=CIPHER_KEY_BYTES)


def check_cipher_key(key: str) -> str:
    """The key if it is base64 of 16, 24 or 32 bytes (AES-128/192/256); else ValueError."""
    try:
        raw = base64.b64decode(key.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(
            "the cipher key must be base64 (create one with create_cipher_key)"
        ) from None
    if len(raw) not in (16, 24, 32):
        raise ValueError(f"the cipher key has {len(raw)} bytes; AES needs 16, 24 or 32")
    return key.strip()


def encrypted_env(env: dict[str, str], cipher_key: str | None) -> dict[str, str]:
    """``env`` with eventsourcing's AES cipher and zlib compression of every event's state
    (nothing changes without a key). Every application that opens the store must get the
    same keys: the service, the projections' followers (which copy this env), the outbox,
    the audit commands."""
    if not cipher_key:
        return dict(env)
    return {
        **env,
        "CIPHER_TOPIC": CIPHER_TOPIC,
        "CIPHER_KEY": check_cipher_key(cipher_key),
        "COMPRESSOR_TOPIC": COMPRESSOR_TOPIC,
    }


def is_encrypted(env: dict[str, str]) -> bool:
    return bool(env.get("CIPHER_KEY"))


def plain_state(app: Application[Any], state: bytes) -> bytes:
    """The JSON bytes of a stored state: decrypted and decompressed as the application's
    mapper does (unchanged for a store without cipher and compressor)."""
    mapper = app.mapper
    if mapper.cipher is not None:
        state = mapper.cipher.decrypt(state)
    if mapper.compressor is not None:
        state = mapper.compressor.decompress(state)
    return state


class UnreadableStore(RuntimeError):
    """The stored events cannot be read with this configuration (cipher key)."""


def ensure_readable(app: Application[Any]) -> None:
    """Read the first and the last stored event back: a wrong ``REGIOTWIN_CIPHER_KEY``, or
    a key set (or removed) for a store written the other way, stops here with a clear
    message instead of deep inside a projection."""
    recorder = app.recorder
    head = recorder.max_notification_id() or 0  # type: ignore[attr-defined]
    if not head:
        return
    found = recorder.select_notifications(start=1, limit=1)  # type: ignore[attr-defined]
    found += recorder.select_notifications(start=head, limit=1)  # type: ignore[attr-defined]
    for notification in found:
        try:
            app.mapper.to_domain_event(notification)
        except MapperDeserialisationError as error:
            configured = "with" if app.mapper.cipher is not None else "without"
            raise UnreadableStore(
                f"the event store cannot be read {configured} the configured "
                f"REGIOTWIN_CIPHER_KEY (position {notification.id}): a wrong key, or a "
                "store written with encryption switched the other way"
            ) from error
