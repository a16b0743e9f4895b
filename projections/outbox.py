"""The notification outbox: notifications waiting to be sent, and what decides them.

Not a cache: the outbox remembers what was sent, so it never lives in the rebuildable
read-model file (a ``rebuild`` must never send history again). It lives

* beside an SQLite event store in its own file, ``<data_dir>/outbox.sqlite``;
* with a PostgreSQL event store in PostgreSQL (same database and schema), so that
  several bot instances share one outbox and never both send one notification.

The outbox projection (``projections/outbox_projection.py``) writes notifications and
moves its tracked position in one transaction; the sender (``bot/notifier.py``)
claims one notification at a time, atomically across instances, and records how the
attempt ended. See ``bot/NOTIFICATIONS.md``.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from eventsourcing.persistence import Tracking, TrackingRecorder

from domain.postgres_schema import SCHEMA_LOCK
from projections.encoding import instant

SCHEMA_VERSION = "1"

SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox_meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox_tracking (
    application_name TEXT PRIMARY KEY,
    notification_id BIGINT NOT NULL,
    emit_after BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox_members (
    member_id TEXT PRIMARY KEY,
    region_id TEXT,
    role TEXT NOT NULL,
    name TEXT,
    chat_id BIGINT,
    language TEXT,
    active INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_members_by_region ON outbox_members (region_id, active);
CREATE TABLE IF NOT EXISTS outbox_regions (
    region_id TEXT PRIMARY KEY,
    name TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox_twinnings (
    twinning_id TEXT PRIMARY KEY,
    first_region_id TEXT NOT NULL,
    second_region_id TEXT NOT NULL,
    status TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox_measures (
    measure_id TEXT PRIMARY KEY,
    region_id TEXT NOT NULL,
    code TEXT NOT NULL,
    title TEXT NOT NULL,
    status TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox_advice (
    advice_id TEXT PRIMARY KEY,
    twinning_id TEXT NOT NULL,
    from_region_id TEXT NOT NULL,
    to_region_id TEXT NOT NULL,
    topic TEXT NOT NULL,
    adoption TEXT
);
CREATE TABLE IF NOT EXISTS outbox_exchanges (
    exchange_id TEXT PRIMARY KEY,
    twinning_id TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox_settings (
    member_id TEXT PRIMARY KEY,
    settings_id TEXT NOT NULL UNIQUE,
    holiday_until TEXT,
    digest TEXT NOT NULL,
    digest_time TEXT NOT NULL,
    timezone TEXT
);
CREATE TABLE IF NOT EXISTS outbox_mutes (
    member_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    twinning_id TEXT NOT NULL,
    PRIMARY KEY (member_id, kind, twinning_id)
);
CREATE TABLE IF NOT EXISTS outbox_notifications (
    id {serial},
    dedupe_key TEXT NOT NULL UNIQUE,
    member_id TEXT NOT NULL,
    chat_id BIGINT NOT NULL,
    kind TEXT NOT NULL,
    template TEXT NOT NULL,
    payload TEXT NOT NULL,
    twinning_id TEXT,
    position BIGINT,
    created_at TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at TEXT NOT NULL,
    claimed_by TEXT,
    claimed_at TEXT,
    sent_at TEXT,
    last_error TEXT,
    digest_id BIGINT
);
CREATE INDEX IF NOT EXISTS outbox_notifications_by_state
    ON outbox_notifications (state, id);
CREATE INDEX IF NOT EXISTS outbox_notifications_by_chat
    ON outbox_notifications (chat_id, state, id);
CREATE INDEX IF NOT EXISTS outbox_notifications_by_member
    ON outbox_notifications (member_id, state, id);
CREATE TABLE IF NOT EXISTS outbox_chats (
    chat_id BIGINT PRIMARY KEY,
    next_send_at TEXT NOT NULL,
    unreachable_since TEXT,
    unreachable_error TEXT
);
CREATE TABLE IF NOT EXISTS outbox_reminders (
    subject TEXT NOT NULL,
    member_id TEXT NOT NULL,
    sent INTEGER NOT NULL,
    last_sent_on TEXT NOT NULL,
    PRIMARY KEY (subject, member_id)
);
CREATE TABLE IF NOT EXISTS outbox_periods (
    key TEXT PRIMARY KEY,
    done_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox_reminder_kinds (
    member_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    last_sent_at TEXT NOT NULL,
    PRIMARY KEY (member_id, kind)
)
"""

# States of a notification.
PENDING = "pending"  # waiting to be sent (now, or at next_attempt_at)
SENDING = "sending"  # claimed by a sender (claimed_by, claimed_at)
SENT = "sent"
FAILED = "failed"  # failed permanently; shown by health
DIGEST = "digest"  # kept for the member's next digest instead of sent alone
DIGESTED = "digested"  # went out inside a digest (digest_id)
CANCELLED = "cancelled"  # its member was removed before it went out

PRIVATE_CHAT_INTERVAL = timedelta(seconds=1)
"""Telegram: about one message per second to one chat."""
GROUP_CHAT_INTERVAL = timedelta(seconds=3)
"""Telegram: 20 messages per minute to one group; kept as at least 3 s between two."""

SYSTEM_NAME = "RegioTwin"


def chat_interval(chat_id: int) -> timedelta:
    """Groups and channels have negative ids; private chats the user's (positive) id."""
    return GROUP_CHAT_INTERVAL if chat_id < 0 else PRIVATE_CHAT_INTERVAL


# --- the database underneath: an SQLite file or PostgreSQL ---------------------------


class Transaction:
    """Statements of one transaction; SQL is written with ``?`` placeholders."""

    def __init__(self, cursor: Any, postgres: bool) -> None:
        self._cursor = cursor
        self._postgres = postgres

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self._postgres else sql

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> int:
        self._cursor.execute(self._sql(sql), params)
        return int(self._cursor.rowcount)

    def one(self, sql: str, params: tuple[Any, ...] = ()) -> dict[str, Any] | None:
        self._cursor.execute(self._sql(sql), params)
        row = self._cursor.fetchone()
        return None if row is None else dict(row)

    def all(self, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        self._cursor.execute(self._sql(sql), params)
        return [dict(row) for row in self._cursor.fetchall()]


class OutboxDatabase(ABC):
    postgres: bool = False

    @abstractmethod
    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """One transaction: everything in it commits together or not at all."""

    @contextmanager
    def read(self) -> Iterator[Transaction]:
        """A read-only look (takes no write lock)."""
        with self.transaction() as tx:
            yield tx

    @abstractmethod
    def close(self) -> None: ...

    def create_schema(self) -> None:
        serial = "BIGSERIAL PRIMARY KEY" if self.postgres else "INTEGER PRIMARY KEY"
        with self.transaction() as tx:
            if self.postgres:  # two instances starting at once: one creates, one waits
                tx.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
            for statement in SCHEMA.replace("{serial}", serial).split(";"):
                if statement.strip():
                    tx.execute(statement)
            tx.execute(
                "INSERT INTO outbox_meta (key, value) VALUES ('schema_version', ?) "
                "ON CONFLICT (key) DO NOTHING",
                (SCHEMA_VERSION,),
            )

    @property
    def description(self) -> str:
        return type(self).__name__


class SQLiteOutboxDatabase(OutboxDatabase):
    """One connection under a lock; ``BEGIN IMMEDIATE`` makes each transaction the only
    writer, also against other processes on the same file."""

    def __init__(self, path: Path | str, *, lock_timeout: float = 10.0) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._connection = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False, timeout=lock_timeout
        )
        self._connection.row_factory = sqlite3.Row
        self._connection.execute("PRAGMA journal_mode=WAL")
        # FULL: a notification marked sent stays marked after a power cut.
        self._connection.execute("PRAGMA synchronous=FULL")

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        with self._lock:
            cursor = self._connection.cursor()
            cursor.execute("BEGIN IMMEDIATE")
            try:
                yield Transaction(cursor, postgres=False)
            except BaseException:
                self._connection.rollback()
                raise
            else:
                cursor.execute("COMMIT")
            finally:
                cursor.close()

    @contextmanager
    def read(self) -> Iterator[Transaction]:
        with self._lock:
            cursor = self._connection.cursor()
            cursor.execute("BEGIN DEFERRED")  # a snapshot; WAL: writers go on meanwhile
            try:
                yield Transaction(cursor, postgres=False)
            finally:
                self._connection.rollback()
                cursor.close()

    def close(self) -> None:
        with self._lock:
            self._connection.close()

    @property
    def description(self) -> str:
        return str(self.path)


class PostgresOutboxDatabase(OutboxDatabase):
    """A small connection pool on the event store's database and schema."""

    postgres = True

    def __init__(self, conninfo: str, *, schema: str | None = None, max_size: int = 4) -> None:
        from psycopg.rows import dict_row
        from psycopg_pool import ConnectionPool

        kwargs: dict[str, Any] = {"row_factory": dict_row}
        if schema:
            kwargs["options"] = f"-c search_path={schema}"
        self.schema = schema or "public"
        self._pool = ConnectionPool(
            conninfo, kwargs=kwargs, min_size=1, max_size=max_size, open=True, timeout=10
        )

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> PostgresOutboxDatabase:
        from psycopg.conninfo import make_conninfo

        conninfo = make_conninfo(
            dbname=env.get("POSTGRES_DBNAME", "regiotwin"),
            host=env.get("POSTGRES_HOST", "127.0.0.1"),
            port=env.get("POSTGRES_PORT", "5432"),
            user=env.get("POSTGRES_USER", ""),
            password=env.get("POSTGRES_PASSWORD", ""),
            connect_timeout=env.get("POSTGRES_CONNECT_TIMEOUT", "5"),
        )
        return cls(conninfo, schema=env.get("POSTGRES_SCHEMA") or None)

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        with (
            self._pool.connection() as connection,
            connection.transaction(),
            connection.cursor() as cursor,
        ):
            yield Transaction(cursor, postgres=True)

    def close(self) -> None:
        self._pool.close()

    @property
    def description(self) -> str:
        return f"PostgreSQL schema {self.schema}"


# --- what the sender and the reminders work with ---------------------------------------


@dataclass(frozen=True)
class Recipient:
    member_id: str
    chat_id: int
    region_id: str | None
    role: str
    name: str
    language: str | None


@dataclass(frozen=True)
class MemberSettings:
    holiday_until: date | None = None
    digest: str = "off"
    digest_time: str = "08:00"
    timezone: str | None = None
    muted: frozenset[tuple[str, str]] = frozenset()
    """(kind, twinning id hex or '' for every twinning)."""

    def is_muted(self, kind: str, twinning_id: str | None) -> bool:
        return (kind, "") in self.muted or (
            twinning_id is not None and (kind, twinning_id) in self.muted
        )

    def zone(self, default: ZoneInfo) -> ZoneInfo:
        return ZoneInfo(self.timezone) if self.timezone else default


@dataclass(frozen=True)
class NewNotification:
    dedupe_key: str
    recipient: Recipient
    kind: str
    template: str
    payload: dict[str, Any]
    created_at: datetime
    twinning_id: str | None = None
    position: int | None = None


@dataclass(frozen=True)
class Claimed:
    """A notification a sender has claimed: it alone sends it now."""

    id: int
    chat_id: int
    member_id: str
    kind: str
    template: str
    payload: dict[str, Any]
    language: str | None
    attempts: int
    created_at: str


@dataclass(frozen=True)
class OutboxStats:
    counts: dict[str, int]
    unreachable_chats: int
    oldest_pending_at: str | None
    failures: list[dict[str, Any]]
    position: int | None
    emit_after: int | None

    def count(self, state: str) -> int:
        return self.counts.get(state, 0)


BUSINESS_TIMEZONE = ZoneInfo("Europe/Berlin")

DIGEST_KINDS = frozenset({"digest", "summaries"})
"""Never collected into a digest themselves."""


def route(
    settings: MemberSettings,
    kind: str,
    twinning_id: str | None,
    at: datetime,
    default_zone: ZoneInfo = BUSINESS_TIMEZONE,
) -> str | None:
    """How a notification of ``kind`` at ``at`` reaches a member: sent alone
    (``pending``), kept for their digest (``digest``), or not at all (None: muted, or on
    holiday that day in the member's time zone)."""
    if kind != "digest" and settings.is_muted(kind, twinning_id):
        return None
    if settings.holiday_until is not None:
        local_day = at.astimezone(settings.zone(default_zone)).date()
        if local_day <= settings.holiday_until:
            return None
    if settings.digest != "off" and kind not in DIGEST_KINDS:
        return DIGEST
    return PENDING


class OutboxStore:
    """The outbox's tables and the operations on them (all synchronous)."""

    def __init__(self, db: OutboxDatabase) -> None:
        self.db = db
        db.create_schema()

    def close(self) -> None:
        self.db.close()

    # --- tracking ---------------------------------------------------------------------

    def initialise(self, application_name: str, emit_after: int) -> None:
        """Start tracking the log; events up to ``emit_after`` (the log's head when the
        outbox is created) only build state and notify nobody. Idempotent."""
        with self.db.transaction() as tx:
            tx.execute(
                "INSERT INTO outbox_tracking (application_name, notification_id, emit_after) "
                "VALUES (?, 0, ?) ON CONFLICT (application_name) DO NOTHING",
                (application_name, emit_after),
            )

    def max_tracking_id(self, application_name: str) -> int | None:
        with self.db.read() as tx:
            row = tx.one(
                "SELECT notification_id FROM outbox_tracking WHERE application_name = ?",
                (application_name,),
            )
        if row is None or not row["notification_id"]:
            return None
        return int(row["notification_id"])

    def lock_position(self, tx: Transaction, application_name: str) -> tuple[int, int]:
        """The tracked position and ``emit_after``, locked until the transaction ends."""
        lock = " FOR UPDATE" if self.db.postgres else ""
        sql = (
            "SELECT notification_id, emit_after FROM outbox_tracking "
            f"WHERE application_name = ?{lock}"
        )
        row = tx.one(sql, (application_name,))
        if row is None:
            tx.execute(
                "INSERT INTO outbox_tracking VALUES (?, 0, 0) ON CONFLICT DO NOTHING",
                (application_name,),
            )
            row = tx.one(sql, (application_name,))
            assert row is not None
        return int(row["notification_id"]), int(row["emit_after"])

    def set_position(self, tx: Transaction, application_name: str, position: int) -> None:
        tx.execute(
            "UPDATE outbox_tracking SET notification_id = ? WHERE application_name = ?",
            (position, application_name),
        )

    # --- members and their settings ---------------------------------------------------

    @staticmethod
    def recipients(
        tx: Transaction,
        *,
        region_id: str | None = None,
        office: bool = False,
        role: str | None = None,
        member_id: str | None = None,
    ) -> list[Recipient]:
        """Active members with a chat: of a region, of the programme office, or one."""
        where = ["active = 1", "chat_id IS NOT NULL"]
        params: list[Any] = []
        if member_id is not None:
            where.append("member_id = ?")
            params.append(member_id)
        elif office:
            where.append("region_id IS NULL")
        else:
            where.append("region_id = ?")
            params.append(region_id)
        if role is not None:
            where.append("role = ?")
            params.append(role)
        rows = tx.all(
            f"SELECT * FROM outbox_members WHERE {' AND '.join(where)} ORDER BY member_id",
            tuple(params),
        )
        return [_recipient(row) for row in rows]

    @staticmethod
    def settings_of(tx: Transaction, member_id: str) -> MemberSettings:
        row = tx.one("SELECT * FROM outbox_settings WHERE member_id = ?", (member_id,))
        mutes = tx.all(
            "SELECT kind, twinning_id FROM outbox_mutes WHERE member_id = ?", (member_id,)
        )
        muted = frozenset((m["kind"], m["twinning_id"]) for m in mutes)
        if row is None:
            return MemberSettings(muted=muted)
        return MemberSettings(
            holiday_until=date.fromisoformat(row["holiday_until"])
            if row["holiday_until"]
            else None,
            digest=row["digest"],
            digest_time=row["digest_time"],
            timezone=row["timezone"],
            muted=muted,
        )

    def active_members(self) -> list[tuple[Recipient, MemberSettings]]:
        with self.db.read() as tx:
            rows = tx.all(
                "SELECT * FROM outbox_members WHERE active = 1 AND chat_id IS NOT NULL "
                "ORDER BY member_id"
            )
            return [(_recipient(row), self.settings_of(tx, row["member_id"])) for row in rows]

    # --- writing notifications --------------------------------------------------------

    def insert(self, tx: Transaction, note: NewNotification, state: str = PENDING) -> int | None:
        """Add a notification unless its dedupe key exists; its id, or None."""
        row = tx.one(
            "INSERT INTO outbox_notifications (dedupe_key, member_id, chat_id, kind, template,"
            " payload, twinning_id, position, created_at, state, attempts, next_attempt_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, '')"
            " ON CONFLICT (dedupe_key) DO NOTHING RETURNING id",
            (
                note.dedupe_key,
                note.recipient.member_id,
                note.recipient.chat_id,
                note.kind,
                note.template,
                json.dumps(note.payload, sort_keys=True, ensure_ascii=False),
                note.twinning_id,
                note.position,
                instant(note.created_at),
                state,
            ),
        )
        return None if row is None else int(row["id"])

    def deliver(
        self, tx: Transaction, note: NewNotification, default_zone: ZoneInfo = BUSINESS_TIMEZONE
    ) -> int | None:
        """Add a notification as the member's settings want it (alone, into their digest,
        or not at all); its id if added."""
        settings = self.settings_of(tx, note.recipient.member_id)
        state = route(settings, note.kind, note.twinning_id, note.created_at, default_zone)
        if state is None:
            return None
        return self.insert(tx, note, state)

    def collect_digest(
        self, tx: Transaction, note: NewNotification, before: datetime | None = None
    ) -> int | None:
        """Send what a member's digest collected (before ``before``) as one notification;
        its id, or None if there was nothing."""
        items = tx.all(
            "SELECT id, template, payload, created_at FROM outbox_notifications "
            "WHERE member_id = ? AND state = ? AND created_at < ? ORDER BY id",
            (note.recipient.member_id, DIGEST, "9" if before is None else instant(before)),
        )
        if not items:
            return None
        payload = dict(note.payload)
        payload["items"] = [
            {
                "template": item["template"],
                "payload": json.loads(item["payload"]),
                "created_at": item["created_at"],
            }
            for item in items
        ]
        digest_id = self.insert(
            tx,
            NewNotification(
                dedupe_key=note.dedupe_key,
                recipient=note.recipient,
                kind=note.kind,
                template=note.template,
                payload=payload,
                created_at=note.created_at,
            ),
        )
        if digest_id is None:
            return None
        for item in items:
            tx.execute(
                "UPDATE outbox_notifications SET state = ?, digest_id = ? WHERE id = ?",
                (DIGESTED, digest_id, item["id"]),
            )
        return digest_id

    # --- the sender's side ------------------------------------------------------------

    def claim(self, instance: str, now: datetime, *, stale_after: timedelta) -> Claimed | None:
        """Claim the next notification that may be sent now, or None.

        Atomic across processes and instances: on PostgreSQL ``FOR UPDATE SKIP LOCKED``
        (two instances never get one row), on SQLite ``BEGIN IMMEDIATE``. Eligible is a
        chat's oldest open notification (chats get theirs in order), if it is due, the
        chat is reachable and its per-chat interval has passed. A claim older than
        ``stale_after`` belongs to a sender that died: it is pending again.
        """
        at = instant(now)
        lock = " FOR UPDATE OF n SKIP LOCKED" if self.db.postgres else ""
        with self.db.transaction() as tx:
            tx.execute(
                "UPDATE outbox_notifications SET state = ?, claimed_by = NULL, claimed_at = NULL"
                " WHERE state = ? AND claimed_at < ?",
                (PENDING, SENDING, instant(now - stale_after)),
            )
            row = tx.one(
                "SELECT n.id, n.chat_id FROM outbox_notifications n"
                " LEFT JOIN outbox_chats c ON c.chat_id = n.chat_id"
                " WHERE n.state = 'pending' AND n.next_attempt_at <= ?"
                " AND (c.chat_id IS NULL OR (c.unreachable_since IS NULL AND c.next_send_at <= ?))"
                " AND NOT EXISTS (SELECT 1 FROM outbox_notifications e"
                "   WHERE e.chat_id = n.chat_id AND e.state IN ('pending', 'sending')"
                "   AND e.id < n.id)"
                f" ORDER BY n.id LIMIT 1{lock}",
                (at, at),
            )
            if row is None:
                return None
            tx.execute(
                "UPDATE outbox_notifications SET state = ?, claimed_by = ?, claimed_at = ?"
                " WHERE id = ?",
                (SENDING, instance, at, row["id"]),
            )
            chat_id = int(row["chat_id"])
            tx.execute(
                "INSERT INTO outbox_chats (chat_id, next_send_at) VALUES (?, ?)"
                " ON CONFLICT (chat_id) DO UPDATE SET next_send_at = excluded.next_send_at",
                (chat_id, instant(now + chat_interval(chat_id))),
            )
            claimed = tx.one(
                "SELECT n.*, m.language FROM outbox_notifications n"
                " LEFT JOIN outbox_members m ON m.member_id = n.member_id WHERE n.id = ?",
                (row["id"],),
            )
        assert claimed is not None
        return Claimed(
            id=int(claimed["id"]),
            chat_id=int(claimed["chat_id"]),
            member_id=claimed["member_id"],
            kind=claimed["kind"],
            template=claimed["template"],
            payload=json.loads(claimed["payload"]),
            language=claimed["language"],
            attempts=int(claimed["attempts"]),
            created_at=claimed["created_at"],
        )

    def mark_sent(self, notification_id: int, now: datetime) -> None:
        """``now``: when Telegram answered. The chat's interval counts from then too (the
        claim set it from the claim): Telegram saw the message at some point before."""
        with self.db.transaction() as tx:
            tx.execute(
                "UPDATE outbox_notifications SET state = ?, sent_at = ?, claimed_by = NULL,"
                " claimed_at = NULL, last_error = NULL WHERE id = ?",
                (SENT, instant(now), notification_id),
            )
            row = tx.one(
                "SELECT chat_id FROM outbox_notifications WHERE id = ?", (notification_id,)
            )
            if row is not None:
                chat_id = int(row["chat_id"])
                after = instant(now + chat_interval(chat_id))
                tx.execute(
                    "UPDATE outbox_chats SET next_send_at = ?"
                    " WHERE chat_id = ? AND next_send_at < ?",
                    (after, chat_id, after),
                )

    def retry_at(
        self, notification_id: int, at: datetime, error: str, *, count_attempt: bool
    ) -> None:
        """Back to pending until ``at`` (a 429's retry_after, or a backoff after an error)."""
        with self.db.transaction() as tx:
            tx.execute(
                "UPDATE outbox_notifications SET state = ?, next_attempt_at = ?,"
                " attempts = attempts + ?, last_error = ?, claimed_by = NULL, claimed_at = NULL"
                " WHERE id = ?",
                (PENDING, instant(at), 1 if count_attempt else 0, error[:500], notification_id),
            )

    def fail(self, notification_id: int, now: datetime, error: str) -> None:
        with self.db.transaction() as tx:
            tx.execute(
                "UPDATE outbox_notifications SET state = ?, attempts = attempts + 1,"
                " last_error = ?, claimed_by = NULL, claimed_at = NULL, sent_at = NULL"
                " WHERE id = ?",
                (FAILED, f"{instant(now)} {error}"[:500], notification_id),
            )

    def mark_unreachable(
        self, chat_id: int, notification_id: int, now: datetime, error: str
    ) -> None:
        """The user blocked the bot (or left): hold the chat's notifications until they
        write again; the one just tried waits with them."""
        with self.db.transaction() as tx:
            tx.execute(
                "UPDATE outbox_notifications SET state = ?, last_error = ?, claimed_by = NULL,"
                " claimed_at = NULL WHERE id = ?",
                (PENDING, error[:500], notification_id),
            )
            tx.execute(
                "INSERT INTO outbox_chats (chat_id, next_send_at, unreachable_since,"
                " unreachable_error) VALUES (?, ?, ?, ?) ON CONFLICT (chat_id) DO UPDATE SET"
                " unreachable_since = excluded.unreachable_since,"
                " unreachable_error = excluded.unreachable_error",
                (chat_id, instant(now), instant(now), error[:500]),
            )

    def mark_reachable(self, chat_id: int) -> bool:
        """The user wrote to the bot again: their chat is reachable. True if it was not."""
        with self.db.transaction() as tx:
            row = tx.one("SELECT unreachable_since FROM outbox_chats WHERE chat_id = ?", (chat_id,))
            if row is None or row["unreachable_since"] is None:
                return False
            tx.execute(
                "UPDATE outbox_chats SET unreachable_since = NULL, unreachable_error = NULL"
                " WHERE chat_id = ?",
                (chat_id,),
            )
            return True

    def unreachable_chats(self) -> set[int]:
        with self.db.read() as tx:
            rows = tx.all("SELECT chat_id FROM outbox_chats WHERE unreachable_since IS NOT NULL")
        return {int(row["chat_id"]) for row in rows}

    def is_unreachable(self, chat_id: int) -> bool:
        with self.db.read() as tx:
            row = tx.one("SELECT unreachable_since FROM outbox_chats WHERE chat_id = ?", (chat_id,))
        return row is not None and row["unreachable_since"] is not None

    def next_due(self, now: datetime, stale_after: timedelta) -> datetime | None:
        """When the next notification may be claimed (None: nothing is waiting)."""
        with self.db.read() as tx:
            row = tx.one(
                "SELECT min(CASE WHEN c.next_send_at > n.next_attempt_at THEN c.next_send_at"
                " ELSE n.next_attempt_at END) AS due FROM outbox_notifications n"
                " LEFT JOIN outbox_chats c ON c.chat_id = n.chat_id"
                " WHERE n.state = 'pending' AND (c.chat_id IS NULL OR c.unreachable_since IS NULL)"
                " AND NOT EXISTS (SELECT 1 FROM outbox_notifications e"
                "   WHERE e.chat_id = n.chat_id AND e.state IN ('pending', 'sending')"
                "   AND e.id < n.id)"
            )
            claims = tx.one(
                "SELECT min(claimed_at) AS at FROM outbox_notifications WHERE state = 'sending'"
            )
        candidates = []
        if row is not None and row["due"] is not None:
            candidates.append(now if row["due"] == "" else parse_instant(row["due"]))
        if claims is not None and claims["at"] is not None:
            candidates.append(parse_instant(claims["at"]) + stale_after)
        return min(candidates) if candidates else None

    # --- health -----------------------------------------------------------------------

    def stats(self, application_name: str, failures: int = 10) -> OutboxStats:
        with self.db.read() as tx:
            counts = {
                row["state"]: int(row["n"])
                for row in tx.all(
                    "SELECT state, count(*) AS n FROM outbox_notifications GROUP BY state"
                )
            }
            unreachable = tx.one(
                "SELECT count(*) AS n FROM outbox_chats WHERE unreachable_since IS NOT NULL"
            )
            oldest = tx.one(
                "SELECT min(created_at) AS at FROM outbox_notifications WHERE state = 'pending'"
            )
            failed = tx.all(
                "SELECT id, chat_id, template, attempts, last_error FROM outbox_notifications"
                " WHERE state = 'failed' ORDER BY id DESC LIMIT ?",
                (failures,),
            )
            tracking = tx.one(
                "SELECT notification_id, emit_after FROM outbox_tracking"
                " WHERE application_name = ?",
                (application_name,),
            )
        return OutboxStats(
            counts=counts,
            unreachable_chats=int(unreachable["n"]) if unreachable else 0,
            oldest_pending_at=oldest["at"] if oldest else None,
            failures=failed,
            position=int(tracking["notification_id"]) if tracking else None,
            emit_after=int(tracking["emit_after"]) if tracking else None,
        )

    def notifications(self, **where: Any) -> list[dict[str, Any]]:
        """Rows of the outbox (for tests and tools), filtered by column values."""
        clauses = " AND ".join(f"{column} = ?" for column in where) or "1 = 1"
        with self.db.read() as tx:
            rows = tx.all(
                f"SELECT * FROM outbox_notifications WHERE {clauses} ORDER BY id",
                tuple(where.values()),
            )
        for row in rows:
            row["payload"] = json.loads(row["payload"])
        return rows


def _recipient(row: Mapping[str, Any]) -> Recipient:
    return Recipient(
        member_id=row["member_id"],
        chat_id=int(row["chat_id"]),
        region_id=row["region_id"],
        role=row["role"],
        name=row["name"] or "",
        language=row["language"],
    )


def parse_instant(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def open_outbox(event_store_env: Mapping[str, str], data_dir: Path | str) -> OutboxStore:
    """The outbox beside the configured event store (see the module's docstring)."""
    if event_store_env.get("PERSISTENCE_MODULE", "").endswith("postgres"):
        return OutboxStore(PostgresOutboxDatabase.from_env(event_store_env))
    return OutboxStore(SQLiteOutboxDatabase(Path(data_dir) / "outbox.sqlite"))


class OutboxTracking(TrackingRecorder):
    """eventsourcing's view of the outbox's position (the runner starts from it).

    The position itself moves inside the outbox projection's transactions.
    """

    def __init__(self, store: OutboxStore) -> None:
        self.store = store

    def max_tracking_id(self, application_name: str) -> int | None:
        return self.store.max_tracking_id(application_name)

    def insert_tracking(self, tracking: Tracking) -> None:
        with self.store.db.transaction() as tx:
            position, _ = self.store.lock_position(tx, tracking.application_name)
            if tracking.notification_id > position:
                self.store.set_position(tx, tracking.application_name, tracking.notification_id)
