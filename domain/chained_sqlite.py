"""Storing each event's chain hash in the same transaction as the event.

The recorders (SQLite here, PostgreSQL in :mod:`domain.chained_postgres`) are chosen
through eventsourcing's ``APPLICATION_RECORDER_TOPIC``. Both stores serialise inserts
already (SQLite's write lock; PostgreSQL's EXCLUSIVE table lock), so reading the chain
head inside the insert transaction is safe.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor

from domain.chain import GENESIS, ChainedEvent, link, record

CHAIN_TABLE = "event_chain"
PAGE = 1000


def originator_text(value: UUID | str) -> str:
    return str(value)


def chain_links(
    previous: str, ids: Sequence[int], events: Sequence[StoredEvent]
) -> list[tuple[int, str]]:
    rows = []
    for position, stored in zip(ids, events, strict=True):
        previous = link(
            previous,
            record(
                position,
                originator_text(stored.originator_id),
                stored.originator_version,
                stored.topic,
                stored.state,
            ),
        )
        rows.append((position, previous))
    return rows


class ChainedSQLiteApplicationRecorder(SQLiteApplicationRecorder):
    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            f"CREATE TABLE IF NOT EXISTS {CHAIN_TABLE} ("
            "notification_id INTEGER PRIMARY KEY, hash TEXT NOT NULL)",
        ]

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        ids = super()._insert_events(c, stored_events, **kwargs)
        assert ids is not None
        c.execute(f"SELECT hash FROM {CHAIN_TABLE} ORDER BY notification_id DESC LIMIT 1")
        head = c.fetchone()
        rows = chain_links(head[0] if head else GENESIS, ids, stored_events)
        c.executemany(f"INSERT INTO {CHAIN_TABLE} (notification_id, hash) VALUES (?, ?)", rows)
        return ids

    def chained_events(self) -> Iterator[ChainedEvent]:
        """Every stored event with its stored hash (None where it has none), in log order."""
        last = 0
        while True:
            with self.datastore.transaction(commit=False) as c:
                c.execute(
                    f"SELECT e.rowid, e.originator_id, e.originator_version, e.topic, e.state, "
                    f"h.hash FROM {self.events_table_name} e "
                    f"LEFT JOIN {CHAIN_TABLE} h ON h.notification_id = e.rowid "
                    "WHERE e.rowid > ? ORDER BY e.rowid LIMIT ?",
                    (last, PAGE),
                )
                rows = c.fetchall()
            for row in rows:
                yield ChainedEvent(
                    position=row[0],
                    originator_id=str(UUID(row[1])) if len(row[1]) == 32 else row[1],
                    originator_version=row[2],
                    topic=row[3],
                    state=bytes(row[4]),
                    stored_hash=row[5],
                )
            if len(rows) < PAGE:
                return
            last = rows[-1][0]
