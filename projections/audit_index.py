"""Audit index: every event of the log by actor, aggregate and recording time.

Only references and metadata: the event itself stays in the log, found by
``aggregate_id`` and ``version``.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from projections.encoding import instant, uid
from projections.read_model import EventHandlers, ReadModelProjection

HANDLERS = EventHandlers()


class AuditIndex(ReadModelProjection):
    name = "audit_index"
    schema_version = 1
    handlers = HANDLERS
    schema = """
    CREATE TABLE audit_events (
        position INTEGER PRIMARY KEY,
        recorded_at TEXT NOT NULL,
        actor TEXT NOT NULL,
        aggregate_type TEXT NOT NULL,
        aggregate_id TEXT NOT NULL,
        version INTEGER NOT NULL,
        event_type TEXT NOT NULL,
        command_id TEXT NOT NULL
    );
    CREATE INDEX audit_by_actor ON audit_events (actor, position);
    CREATE INDEX audit_by_aggregate ON audit_events (aggregate_id, version);
    CREATE INDEX audit_by_time ON audit_events (recorded_at, position)
    """


@HANDLERS.on_every_event
def _indexed(db: sqlite3.Cursor, event: Any, position: int) -> None:
    event_type = type(event).__qualname__
    db.execute(
        "INSERT INTO audit_events VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            position,
            instant(event.timestamp),
            getattr(event, "actor", "unknown"),
            event_type.split(".")[0],
            uid(event.originator_id),
            event.originator_version,
            event_type,
            getattr(event, "command_id", ""),
        ),
    )
