"""The PostgreSQL twin of :mod:`domain.chained_sqlite` (needs the ``postgres`` extra)."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import Any

from eventsourcing.persistence import IntegrityError, InternalError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

from domain.chain import GENESIS, ChainedEvent
from domain.chained_sqlite import PAGE, chain_links
from domain.postgres_schema import SCHEMA_LOCK

CREATE_ATTEMPTS = 5


class ChainedPostgresApplicationRecorder(PostgresApplicationRecorder):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.chain_table = (
            Identifier(self.datastore.schema),
            Identifier(f"{self.events_table_name}_chain"),
        )
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {}.{} ("
                "notification_id bigint PRIMARY KEY, hash text NOT NULL)"
            ).format(*self.chain_table)
        )

    def create_table(self) -> None:
        # eventsourcing creates composite types first, each in a transaction of its own
        # (outside the lock below): a process starting beside another may collide there.
        for attempt in range(CREATE_ATTEMPTS):
            try:
                super().create_table()
                return
            except (IntegrityError, InternalError):
                if attempt + 1 == CREATE_ATTEMPTS:
                    raise
                time.sleep(0.05 * (attempt + 1))  # the other process finishes; then "exists"

    def _create_table(self, curs: Cursor[DictRow]) -> None:
        curs.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
        super()._create_table(curs)

    def _fetch_ids_after_insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        ids = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        assert ids is not None
        curs.execute(
            SQL("SELECT hash FROM {}.{} ORDER BY notification_id DESC LIMIT 1").format(
                *self.chain_table
            )
        )
        head = curs.fetchone()
        rows = chain_links(head["hash"] if head else GENESIS, ids, stored_events)
        curs.executemany(
            SQL("INSERT INTO {}.{} (notification_id, hash) VALUES (%s, %s)").format(
                *self.chain_table
            ),
            rows,
        )
        return ids

    def chained_events(self) -> Iterator[ChainedEvent]:
        last = 0
        while True:
            with self.datastore.get_connection() as conn, conn.cursor() as curs:
                curs.execute(
                    SQL(
                        "SELECT e.notification_id, e.originator_id, e.originator_version, "
                        "e.topic, e.state, h.hash FROM {}.{} e LEFT JOIN {}.{} h "
                        "ON h.notification_id = e.notification_id "
                        "WHERE e.notification_id > %s ORDER BY e.notification_id LIMIT %s"
                    ).format(
                        Identifier(self.datastore.schema),
                        Identifier(self.events_table_name),
                        *self.chain_table,
                    ),
                    (last, PAGE),
                )
                rows = curs.fetchall()
            for row in rows:
                yield ChainedEvent(
                    position=row["notification_id"],
                    originator_id=str(row["originator_id"]),
                    originator_version=row["originator_version"],
                    topic=row["topic"],
                    state=bytes(row["state"]),
                    stored_hash=row["hash"],
                )
            if len(rows) < PAGE:
                return
            last = rows[-1]["notification_id"]
