"""The base of every read-model projection: event handlers, one transaction per step.

A projection applies events to its own tables only (never reads another projection's
tables, whose progress may differ), and moves its tracked position in the same
transaction. Each schema carries a version; a changed schema rebuilds that projection.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, Self

from eventsourcing.persistence import Notification, Tracking
from eventsourcing.projection import Projection

from domain.application import RegioTwinApplication
from projections.encoding import uid
from projections.store import ReadModelRecorder, ReadModelStore, TrackingConflict, split_statements

Handler = Callable[[sqlite3.Cursor, Any, int], None]
"""Applies one event to a projection's tables: (cursor, event, log position)."""

TABLE_NAME = re.compile(r"CREATE\s+(VIRTUAL\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)", re.I)


class EventHandlers:
    """Which handler applies which event class (exactly that class, no subclasses)."""

    def __init__(self) -> None:
        self._by_type: dict[type[Any], list[Handler]] = {}
        self._for_every_event: list[Handler] = []

    def on(self, *event_types: type[Any]) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            for event_type in event_types:
                self._by_type.setdefault(event_type, []).append(handler)
            return handler

        return register

    def on_every_event(self, handler: Handler) -> Handler:
        self._for_every_event.append(handler)
        return handler

    def apply(self, cursor: sqlite3.Cursor, event: Any, position: int) -> None:
        for handler in self._for_every_event + self._by_type.get(type(event), []):
            handler(cursor, event, position)


class ProjectionFailed(Exception):
    """A projection could not apply an event: it stays before that event."""

    def __init__(
        self,
        projection: str,
        notification_id: int,
        cause: BaseException,
        *,
        event_type: str | None,
        originator_id: str | None,
        originator_version: int | None,
    ) -> None:
        self.projection = projection
        self.notification_id = notification_id
        self.cause = cause
        self.event_type = event_type
        self.originator_id = originator_id
        self.originator_version = originator_version
        super().__init__(
            f"{projection} stopped at notification {notification_id} "
            f"({event_type} {originator_id} v{originator_version}): "
            f"{type(cause).__name__}: {cause}"
        )

    @classmethod
    def at_event(
        cls, projection: str, notification_id: int, event: Any, cause: BaseException
    ) -> ProjectionFailed:
        return cls(
            projection,
            notification_id,
            cause,
            event_type=type(event).__qualname__,
            originator_id=uid(getattr(event, "originator_id", None)),
            originator_version=getattr(event, "originator_version", None),
        )

    @classmethod
    def at_notification(
        cls, projection: str, notification: Notification, cause: BaseException
    ) -> ProjectionFailed:
        """For an event that could not even be read back from the log."""
        return cls(
            projection,
            notification.id,
            cause,
            event_type=notification.topic.rpartition(":")[2],
            originator_id=uid(notification.originator_id),
            originator_version=notification.originator_version,
        )


class ReadModelProjection(Projection[ReadModelRecorder]):
    name: ClassVar[str]
    schema_version: ClassVar[int]
    """Bump when the handlers change what they write; a changed DDL also counts."""
    schema: ClassVar[str]
    handlers: ClassVar[EventHandlers]
    application_name: ClassVar[str] = RegioTwinApplication.name

    def __init__(self, view: ReadModelRecorder) -> None:
        super().__init__(view)
        self.position: int | None = view.max_tracking_id(self.application_name)

    @classmethod
    def attach(cls, store: ReadModelStore) -> Self:
        return cls(ReadModelRecorder(store, cls.name))

    @property
    def store(self) -> ReadModelStore:
        return self.view.store

    # --- schema ------------------------------------------------------------------

    @classmethod
    def version(cls) -> str:
        digest = hashlib.sha256(cls.schema.encode()).hexdigest()[:12]
        return f"{cls.schema_version}:{digest}"

    @classmethod
    def tables(cls) -> list[str]:
        return [match.group(2) for match in TABLE_NAME.finditer(cls.schema)]

    def stored_version(self) -> str | None:
        rows = self.store.read(
            "SELECT version FROM projection_schema WHERE projection = ?", (self.name,)
        )
        return rows[0][0] if rows else None

    def ensure_schema(self) -> bool:
        """Create the tables, or rebuild them from zero if the schema changed. True if so."""
        if self.stored_version() == self.version():
            return False
        self.reset()
        return True

    def reset(self) -> None:
        """Drop this projection's tables and position: it starts again from the log's start."""
        with self.store.transaction() as cursor:
            row = cursor.execute(
                "SELECT tables FROM projection_schema WHERE projection = ?", (self.name,)
            ).fetchone()
            names = set(self.tables()) | set(json.loads(row[0]) if row else [])
            drop_tables(cursor, names)
            cursor.execute("DELETE FROM projection_tracking WHERE projection = ?", (self.name,))
            cursor.execute("DELETE FROM projection_failures WHERE projection = ?", (self.name,))
            for statement in split_statements(self.schema):
                cursor.execute(statement)
            cursor.execute(
                "INSERT INTO projection_schema VALUES (?, ?, ?) ON CONFLICT (projection) "
                "DO UPDATE SET version = excluded.version, tables = excluded.tables",
                (self.name, self.version(), json.dumps(self.tables())),
            )
        self.position = None

    # --- applying events ---------------------------------------------------------

    def sync_position(self) -> None:
        """Continue from the stored position (before a runner starts following)."""
        self.position = self.view.max_tracking_id(self.application_name)

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.process_batch([(domain_event, tracking)])

    def process_batch(self, items: Sequence[tuple[Any, Tracking]]) -> None:
        """Apply events in log order in one transaction, with the position after the last.

        If the batch fails, its events are applied one by one, so that the projection
        stops right before the event that fails (:class:`ProjectionFailed`).
        """
        if not items:
            return
        try:
            with self.store.transaction() as cursor:
                self.view.advance(cursor, items[-1][1], self.position)
                previous = self.position
                for event, tracking in items:
                    if previous is not None and tracking.notification_id <= previous:
                        raise TrackingConflict(f"{self.name}: events out of order")
                    previous = tracking.notification_id
                    self.handlers.apply(cursor, event, tracking.notification_id)
        except Exception as error:
            if len(items) == 1:
                event, tracking = items[0]
                raise ProjectionFailed.at_event(
                    self.name, tracking.notification_id, event, error
                ) from error
            for item in items:  # a transient failure passes now; a real one stops at its event
                self.process_batch([item])
            return
        self.position = items[-1][1].notification_id


def drop_tables(cursor: sqlite3.Cursor, names: set[str]) -> None:
    """Drop tables by name; virtual (FTS5) tables first, which takes their shadow tables."""
    rows = cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'").fetchall()
    existing = {row[0]: row[1] or "" for row in rows if row[0] in names}
    virtual = sorted(name for name, sql in existing.items() if sql.upper().startswith("CREATE V"))
    for name in virtual + sorted(set(existing) - set(virtual)):
        cursor.execute(f'DROP TABLE IF EXISTS "{name}"')


class RowMissing(LookupError):
    """An event refers to a row its projection never saw: the read model would be wrong."""


def change_one(db: sqlite3.Cursor, sql: str, params: Sequence[object]) -> None:
    """Run an UPDATE that must change exactly one row."""
    db.execute(sql, params)
    if db.rowcount != 1:
        raise RowMissing(f"{db.rowcount} rows for: {' '.join(sql.split())} {list(params)!r}")
