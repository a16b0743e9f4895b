"""The local SQLite file of the read models, and the tracking of each projection in it.

One :class:`ReadModelStore` per process holds one writing connection, shared by the
projections' threads under a lock: writes never contend inside the process, and a
transaction is ``BEGIN IMMEDIATE`` so it never has to upgrade a read lock. The bot's
queries read through their own (aiosqlite) connections; WAL lets them read while a
projection writes.

``synchronous=NORMAL``: a commit is atomic (the tracked position and the rows it covers
land together or not at all); after a power cut the last commits may be gone, and the
projections just apply those events again from the position that did land.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Self

from eventsourcing.persistence import IntegrityError, Tracking, TrackingRecorder

OPERATIONAL_SCHEMA = """
CREATE TABLE IF NOT EXISTS projection_tracking (
    projection TEXT NOT NULL,
    application_name TEXT NOT NULL,
    notification_id INTEGER NOT NULL,
    PRIMARY KEY (projection, application_name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS projection_schema (
    projection TEXT PRIMARY KEY,
    version TEXT NOT NULL,
    tables TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS projection_failures (
    projection TEXT PRIMARY KEY,
    notification_id INTEGER,
    event_type TEXT,
    originator_id TEXT,
    originator_version INTEGER,
    error TEXT NOT NULL,
    first_failed_at TEXT NOT NULL,
    last_failed_at TEXT NOT NULL,
    attempts INTEGER NOT NULL
) WITHOUT ROWID;
"""

OPERATIONAL_TABLES = ("projection_failures",)
"""Tables about this process's operation (wall-clock times): not part of the read models."""


class TrackingConflict(IntegrityError):
    """The tracked position is not the one this projection continued from."""


class ReadModelStore:
    def __init__(self, path: Path | str, *, lock_timeout: float = 10.0) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._connection = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False, timeout=lock_timeout
        )
        self._connection.row_factory = sqlite3.Row
        self._connection.execute("PRAGMA journal_mode=WAL")
        self._connection.execute("PRAGMA synchronous=NORMAL")
        with self.transaction() as cursor:
            for statement in split_statements(OPERATIONAL_SCHEMA):
                cursor.execute(statement)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Cursor]:
        """One write transaction: everything in it commits together or not at all."""
        with self._lock:
            cursor = self._connection.cursor()
            cursor.execute("BEGIN IMMEDIATE")
            try:
                yield cursor
            except BaseException:
                self._connection.rollback()
                raise
            else:
                cursor.execute("COMMIT")
            finally:
                cursor.close()

    def read(self, sql: str, params: tuple[object, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._connection.execute(sql, params).fetchall()

    def close(self) -> None:
        with self._lock:
            self._connection.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class ReadModelRecorder(TrackingRecorder):
    """eventsourcing's tracking recorder for one projection's rows in a ReadModelStore.

    Unlike ``SQLiteTrackingRecorder`` (one ``tracking`` table per database, one row per
    application) it keeps one row per projection *and* application, so that all read
    models share one file while each follows the log at its own pace. Positions move
    by compare-and-set (:meth:`advance`): a writer that did not continue from the
    stored position fails instead of applying an event twice or skipping one.
    """

    def __init__(self, store: ReadModelStore, projection: str) -> None:
        self.store = store
        self.projection = projection

    def max_tracking_id(self, application_name: str) -> int | None:
        rows = self.store.read(
            "SELECT notification_id FROM projection_tracking "
            "WHERE projection = ? AND application_name = ?",
            (self.projection, application_name),
        )
        return rows[0][0] if rows else None

    def insert_tracking(self, tracking: Tracking) -> None:
        with self.store.transaction() as cursor:
            self.advance(cursor, tracking, self._position_in(cursor, tracking.application_name))

    def advance(self, cursor: sqlite3.Cursor, tracking: Tracking, expected: int | None) -> None:
        """Move the position from ``expected`` to ``tracking``, inside the caller's transaction."""
        if expected is not None and tracking.notification_id <= expected:
            raise TrackingConflict(
                f"{self.projection}: notification {tracking.notification_id} is not after "
                f"position {expected}"
            )
        if expected is None:
            cursor.execute(
                "INSERT INTO projection_tracking VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                (self.projection, tracking.application_name, tracking.notification_id),
            )
        else:
            cursor.execute(
                "UPDATE projection_tracking SET notification_id = ? "
                "WHERE projection = ? AND application_name = ? AND notification_id = ?",
                (tracking.notification_id, self.projection, tracking.application_name, expected),
            )
        if cursor.rowcount != 1:
            found = self._position_in(cursor, tracking.application_name)
            raise TrackingConflict(
                f"{self.projection}: expected position {expected}, found {found}"
            )

    def _position_in(self, cursor: sqlite3.Cursor, application_name: str) -> int | None:
        row = cursor.execute(
            "SELECT notification_id FROM projection_tracking "
            "WHERE projection = ? AND application_name = ?",
            (self.projection, application_name),
        ).fetchone()
        return None if row is None else int(row[0])


def split_statements(script: str) -> list[str]:
    """The statements of a DDL script (no semicolons inside our statements)."""
    return [part.strip() for part in script.split(";") if part.strip()]
