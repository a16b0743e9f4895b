"""Members' personal data, stored so that it can be erased without breaking the hash chain.

The log is immutable and every stored event's bytes are covered by the hash chain
(:mod:`domain.chain`), so personal data can never be deleted from an event. RegioTwin
therefore never stores it in clear (*crypto-shredding*):

* A member's name and Telegram user id travel in events as one :class:`PersonalData`
  value. The event store's transcoder (:class:`PersonalDataAsCiphertext`, registered by
  :class:`domain.application.RegioTwinApplication`) seals it with AES-256-GCM under the
  member's own random *data key* when the event is stored, and opens it when the event is
  read back. The stored state holds only ``{"subject": member id, "sealed": base64}``.
* The data keys live in a small mutable table beside the events, ``personal_data_keys``
  (in the SQLite file of the event store, or in the PostgreSQL schema of its tables).
  The table is *not* part of the log: no event, no chain hash, no export covers it.
* Erasing a member (``EraseMemberData``) records ``Member.PersonalDataErased`` (who,
  when and why; no personal data) and destroys the member's key: the row keeps the
  member id with the key set to NULL, a tombstone. The key goes when that event is
  written (encoding its erased marker, right before the insert), so a command refused
  on the way destroys nothing. The old events keep their exact bytes, so the chain
  still verifies, but nobody can open them any more: they read back as
  :meth:`PersonalData.erased_for` (no name, no Telegram id), in the service, in every
  projection and in every rebuild. An erased subject never gets a new key.
* The index from a Telegram account to its member (``TelegramAccount``) needs an id
  derived from the Telegram user id. A plain hash would let anyone with the log try all
  ~10¹⁰ Telegram ids; the id is an HMAC under the *index key*, a random secret generated
  once and kept in the same table (row ``index``). The log alone reveals no Telegram id.
  (Whoever holds the key table as well can test a given Telegram id, and can read every
  member not erased: the key table is as sensitive as the data it protects.)

A key that is missing without a tombstone is an error (:class:`KeyMissing`), never read
as "erased": restoring the events without their key table must not silently erase
everybody. Back up the key table with the events, and know that a backup keeps a
destroyed key until the backup itself expires.

Where the key store keeps its data physically: SQLite with ``secure_delete`` on and the
write-ahead log truncated after the key is destroyed, so the key's bytes leave the file;
PostgreSQL rewrites the (tiny) key table with ``VACUUM FULL`` (best effort: the server's
WAL and its backups keep old row versions until they are recycled).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from Crypto.Cipher import AES
from Crypto.Random import get_random_bytes
from eventsourcing.persistence import Transcoding

from domain.postgres_schema import SCHEMA_LOCK

log = logging.getLogger(__name__)

KEYS_TABLE = "personal_data_keys"
INDEX_SUBJECT = "index"
"""The key table's row of the index key (member rows are 32 hex digits)."""
KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
PAD_TO = 64
"""Sealed JSON is padded to a multiple of this, so its length says little about a name."""
AAD_PREFIX = b"regiotwin/personal-data/1/"


class PersonalDataError(Exception):
    """The key store cannot do what is asked (not a business rule: an operational fault)."""


class KeyMissing(PersonalDataError):
    """Personal data of a subject whose key the key store has never seen: the key table
    was lost, or not restored with the events. Not treated as an erasure."""

    def __init__(self, subject: UUID) -> None:
        super().__init__(
            f"no personal-data key for {subject.hex}: restore the table {KEYS_TABLE} "
            "together with the events"
        )


class AlreadyErased(PersonalDataError):
    """New personal data for a subject whose key was destroyed."""

    def __init__(self, subject: UUID) -> None:
        super().__init__(f"the personal data of {subject.hex} was erased")


@dataclass(frozen=True, repr=False)
class PersonalData:
    """A member's name and Telegram user id, sealed under the member's key when stored.

    ``subject`` is the member id (whose key seals it). After erasure both values are
    None and ``erased`` is True. The repr never shows the values (logs, tracebacks).
    """

    subject: UUID
    name: str | None = None
    telegram_user_id: int | None = None
    erased: bool = False

    @classmethod
    def erased_for(cls, subject: UUID) -> PersonalData:
        return cls(subject=subject, erased=True)

    def shown(self) -> dict[str, Any]:
        """What read models may show of it: the name (None once erased), never the
        Telegram id."""
        return {"name": self.name}

    def __repr__(self) -> str:
        state = "erased" if self.erased else "sealed"
        return f"PersonalData(subject={self.subject.hex}, {state})"


# --- sealing -------------------------------------------------------------------------


def _aad(subject: UUID) -> bytes:
    return AAD_PREFIX + subject.bytes


def seal(key: bytes, subject: UUID, fields: dict[str, Any]) -> str:
    """AES-256-GCM of the fields' JSON (padded), bound to the subject; base64 of
    nonce + ciphertext + tag."""
    plain = json.dumps(fields, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    data = plain.encode("utf-8")
    data += b" " * (-len(data) % PAD_TO)  # JSON allows trailing white space
    nonce = get_random_bytes(NONCE_BYTES)
    cipher = AES.new(key, AES.MODE_GCM, nonce=nonce, mac_len=TAG_BYTES)
    cipher.update(_aad(subject))
    ciphertext, tag = cipher.encrypt_and_digest(data)
    return base64.b64encode(nonce + ciphertext + tag).decode("ascii")


def unseal(key: bytes, subject: UUID, sealed: str) -> dict[str, Any]:
    raw = base64.b64decode(sealed, validate=True)
    nonce, ciphertext, tag = raw[:NONCE_BYTES], raw[NONCE_BYTES:-TAG_BYTES], raw[-TAG_BYTES:]
    cipher = AES.new(key, AES.MODE_GCM, nonce=nonce, mac_len=TAG_BYTES)
    cipher.update(_aad(subject))
    fields = json.loads(cipher.decrypt_and_verify(ciphertext, tag).decode("utf-8"))
    if not isinstance(fields, dict):
        raise ValueError("sealed personal data is not a JSON object")
    return fields


# --- the key store -------------------------------------------------------------------


class KeyStore(ABC):
    """Data keys per subject (member) and the index key, beside the events.

    A row ``(subject, key)``; a destroyed key leaves ``(subject, NULL)``. Data keys are
    read from the table every time (never cached), so an erasure is seen at once by
    every process; only the index key, which never changes, is cached.
    """

    def __init__(self) -> None:
        self._ready = False
        self._lock = threading.Lock()
        self._index_key: bytes | None = None

    # the table underneath

    @abstractmethod
    def _create_table(self) -> None: ...

    @abstractmethod
    def _fetch(self, subject: str) -> tuple[bytes | None] | None:
        """None: no row; ``(None,)``: a tombstone; ``(key,)``: the key."""

    @abstractmethod
    def _insert(self, subject: str, key: bytes) -> None:
        """Add a row unless the subject has one already (another process may race)."""

    @abstractmethod
    def _destroy(self, subject: str) -> None:
        """Leave a tombstone, whether or not the subject had a key."""

    def _purge(self) -> None:  # noqa: B027  (optional: not every store can)
        """Make the destroyed key's bytes leave the storage, as far as it can."""

    def _ensure_table(self) -> None:
        if self._ready:
            return
        with self._lock:
            if not self._ready:
                self._create_table()
                self._ready = True

    # what the rest of RegioTwin uses

    def key_for_writing(self, subject: UUID) -> bytes:
        """The subject's key, created on first use; :class:`AlreadyErased` after erasure."""
        self._ensure_table()
        row = self._fetch(subject.hex)
        if row is None:
            self._insert(subject.hex, get_random_bytes(KEY_BYTES))
            row = self._fetch(subject.hex)
        assert row is not None
        if row[0] is None:
            raise AlreadyErased(subject)
        return row[0]

    def key_for_reading(self, subject: UUID) -> bytes | None:
        """The subject's key; None once erased; :class:`KeyMissing` if never known."""
        self._ensure_table()
        row = self._fetch(subject.hex)
        if row is None:
            raise KeyMissing(subject)
        return row[0]

    def erase(self, subject: UUID) -> None:
        """Destroy the subject's key (idempotent): its sealed data can never be read again."""
        self._ensure_table()
        self._destroy(subject.hex)
        try:
            self._purge()
        except Exception:  # the key is gone from the table; only its old bytes may linger
            log.warning("could not purge the destroyed key's old bytes", exc_info=True)

    def index_key(self) -> bytes:
        """The secret of the Telegram-account index, generated once per store."""
        if self._index_key is None:
            self._ensure_table()
            row = self._fetch(INDEX_SUBJECT)
            if row is None:
                self._insert(INDEX_SUBJECT, get_random_bytes(KEY_BYTES))
                row = self._fetch(INDEX_SUBJECT)
            assert row is not None
            assert row[0] is not None
            self._index_key = row[0]
        return self._index_key


class MemoryKeyStore(KeyStore):
    """For an event store in memory (eventsourcing's POPO module)."""

    def __init__(self) -> None:
        super().__init__()
        self._rows: dict[str, bytes | None] = {}

    def _create_table(self) -> None:
        pass

    def _fetch(self, subject: str) -> tuple[bytes | None] | None:
        return (self._rows[subject],) if subject in self._rows else None

    def _insert(self, subject: str, key: bytes) -> None:
        self._rows.setdefault(subject, key)

    def _destroy(self, subject: str) -> None:
        self._rows[subject] = None


class SQLiteKeyStore(KeyStore):
    """The key table in the event store's SQLite file (eventsourcing's datastore)."""

    def __init__(self, datastore: Any) -> None:
        super().__init__()
        self.datastore = datastore

    def _create_table(self) -> None:
        with self.datastore.transaction(commit=False) as c:  # a read-only store can read
            c.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (KEYS_TABLE,)
            )
            if c.fetchone() is not None:
                return
        with self.datastore.transaction(commit=True) as c:
            c.execute(
                f"CREATE TABLE IF NOT EXISTS {KEYS_TABLE} ("
                "subject TEXT PRIMARY KEY, data_key BLOB) WITHOUT ROWID"
            )

    def _fetch(self, subject: str) -> tuple[bytes | None] | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT data_key FROM {KEYS_TABLE} WHERE subject = ?", (subject,))
            row = c.fetchone()
        if row is None:
            return None
        return (None if row[0] is None else bytes(row[0]),)

    def _insert(self, subject: str, key: bytes) -> None:
        with self.datastore.transaction(commit=True) as c:
            c.execute(
                f"INSERT OR IGNORE INTO {KEYS_TABLE} (subject, data_key) VALUES (?, ?)",
                (subject, key),
            )

    def _destroy(self, subject: str) -> None:
        with self.datastore.transaction(commit=True) as c:
            c.execute("PRAGMA secure_delete = ON")  # freed space is overwritten with zeros
            c.execute(
                f"INSERT INTO {KEYS_TABLE} (subject, data_key) VALUES (?, NULL) "
                "ON CONFLICT (subject) DO UPDATE SET data_key = NULL",
                (subject,),
            )

    def _purge(self) -> None:
        # The old page with the key may still sit in the write-ahead log: copy the log into
        # the database file and truncate it.
        with self.datastore.get_connection(commit=True) as connection:
            connection.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")


class PostgresKeyStore(KeyStore):
    """The key table in the event store's PostgreSQL schema."""

    def __init__(self, datastore: Any) -> None:
        super().__init__()
        from psycopg.sql import SQL, Identifier

        self.datastore = datastore
        self._sql = SQL
        self._table = SQL("{}.{}").format(Identifier(datastore.schema), Identifier(KEYS_TABLE))

    def _create_table(self) -> None:
        with self.datastore.transaction(commit=False) as c:  # a read-only role can read
            c.execute(
                "SELECT 1 FROM information_schema.tables "
                "WHERE table_schema = %s AND table_name = %s",
                (self.datastore.schema, KEYS_TABLE),
            )
            if c.fetchone() is not None:
                return
        statement = self._sql(
            "CREATE TABLE IF NOT EXISTS {} (subject text PRIMARY KEY, data_key bytea)"
        ).format(self._table)
        with self.datastore.transaction(commit=True) as c:
            c.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
            c.execute(statement)

    def _fetch(self, subject: str) -> tuple[bytes | None] | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                self._sql("SELECT data_key FROM {} WHERE subject = %s").format(self._table),
                (subject,),
            )
            row = c.fetchone()
        if row is None:
            return None
        return (None if row["data_key"] is None else bytes(row["data_key"]),)

    def _insert(self, subject: str, key: bytes) -> None:
        with self.datastore.transaction(commit=True) as c:
            c.execute(
                self._sql(
                    "INSERT INTO {} (subject, data_key) VALUES (%s, %s) "
                    "ON CONFLICT (subject) DO NOTHING"
                ).format(self._table),
                (subject, key),
            )

    def _destroy(self, subject: str) -> None:
        with self.datastore.transaction(commit=True) as c:
            c.execute(
                self._sql(
                    "INSERT INTO {} (subject, data_key) VALUES (%s, NULL) "
                    "ON CONFLICT (subject) DO UPDATE SET data_key = NULL"
                ).format(self._table),
                (subject,),
            )

    def _purge(self) -> None:
        # An UPDATE leaves the old row version in the table file: rewrite the table.
        with self.datastore.get_connection() as connection:
            autocommit = connection.autocommit
            connection.autocommit = True
            try:
                connection.execute(self._sql("VACUUM FULL {}").format(self._table))
            finally:
                connection.autocommit = autocommit


def key_store_for(recorder: Any) -> KeyStore:
    """The key store beside a recorder's events: same SQLite file, or same schema."""
    datastore = getattr(recorder, "datastore", None)
    if datastore is None:
        return MemoryKeyStore()
    from eventsourcing.sqlite import SQLiteDatastore

    if isinstance(datastore, SQLiteDatastore):
        return SQLiteKeyStore(datastore)
    return PostgresKeyStore(datastore)


def personal_keys(app: Any) -> KeyStore:
    """The key store of an application's event store (one per application object)."""
    keys = app.__dict__.get("_personal_keys")
    if keys is None:
        keys = app.__dict__.setdefault("_personal_keys", key_store_for(app.recorder))
    return keys


def telegram_account_id(app: Any, telegram_user_id: int) -> UUID:
    """The id of the ``TelegramAccount`` index aggregate of a Telegram user, keyed."""
    from domain import ids

    return ids.telegram_account_id(personal_keys(app).index_key(), telegram_user_id)


def keyed_digest(app: Any, text: str) -> str:
    """HMAC-SHA-256 under the index key: a fingerprint that cannot be tried from the log."""
    return hmac.new(personal_keys(app).index_key(), text.encode(), hashlib.sha256).hexdigest()


# --- the transcoding ------------------------------------------------------------------


class PersonalDataAsCiphertext(Transcoding):
    """Stores :class:`PersonalData` sealed under its subject's key; reads it back opened,
    or as erased once the key is destroyed.

    Storing an *erased* value (the marker ``Member.PersonalDataErased`` carries) destroys
    the subject's key: the one place where keys go, right before that event's insert.
    """

    type = PersonalData
    name = "personal_data"

    def __init__(self, keys: Callable[[], KeyStore]) -> None:
        self._keys = keys

    def encode(self, obj: PersonalData) -> dict[str, Any]:
        if obj.erased:  # the marker of Member.PersonalDataErased: its key goes now
            self._keys().erase(obj.subject)
            return {"subject": obj.subject.hex, "sealed": None}
        key = self._keys().key_for_writing(obj.subject)
        fields = {"name": obj.name, "telegram_user_id": obj.telegram_user_id}
        return {"subject": obj.subject.hex, "sealed": seal(key, obj.subject, fields)}

    def decode(self, data: dict[str, Any]) -> PersonalData:
        subject = UUID(data["subject"])
        sealed = data.get("sealed")
        if sealed is None:
            return PersonalData.erased_for(subject)
        key = self._keys().key_for_reading(subject)
        if key is None:
            return PersonalData.erased_for(subject)
        fields = unseal(key, subject, sealed)
        telegram_user_id = fields.get("telegram_user_id")
        return PersonalData(
            subject=subject,
            name=fields.get("name"),
            telegram_user_id=None if telegram_user_id is None else int(telegram_user_id),
        )
