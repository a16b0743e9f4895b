"""The references: the same work done with bare sqlite3 / psycopg, nothing else.

Rows have the sizes RegioTwin's own rows have (they are read from a generated store),
tables the schema eventsourcing gives them, connections the same durability (SQLite:
WAL, ``synchronous=FULL`` like eventsourcing's connections; PostgreSQL: the server's
defaults, ``synchronous_commit=on``).
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

EVENTS_DDL = (
    "CREATE TABLE IF NOT EXISTS stored_events (originator_id TEXT, originator_version INTEGER, "
    "topic TEXT, state BLOB, PRIMARY KEY (originator_id, originator_version))"
)
"""eventsourcing's SQLiteApplicationRecorder table (rowid = notification id)."""
INSERT = "INSERT INTO stored_events VALUES (?, ?, ?, ?)"

PG_EVENTS_DDL = (
    "CREATE TABLE IF NOT EXISTS {table} (originator_id uuid NOT NULL, "
    "originator_version bigint NOT NULL, topic text, state bytea, "
    "notification_id bigserial, PRIMARY KEY (originator_id, originator_version))"
)
PG_INDEX_DDL = "CREATE UNIQUE INDEX IF NOT EXISTS {table}_nid ON {table} (notification_id)"

Rowtuple = tuple[str, int, str, bytes]


def connect(path: Path | str, synchronous: str = "FULL") -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute(f"PRAGMA synchronous={synchronous}")
    return db


def event_store(path: Path | str) -> sqlite3.Connection:
    db = connect(path)
    db.execute(EVENTS_DDL)
    return db


def stored_rows(events_file: Path, after: int = 0, limit: int = 10**9) -> list[Rowtuple]:
    """RegioTwin's stored event rows, in log order."""
    db = sqlite3.connect(f"file:{events_file}?mode=ro", uri=True)
    try:
        return [
            (row[0], row[1], row[2], bytes(row[3]))
            for row in db.execute(
                "SELECT originator_id, originator_version, topic, state FROM stored_events "
                "WHERE rowid > ? ORDER BY rowid LIMIT ?",
                (after, limit),
            )
        ]
    finally:
        db.close()


def fresh_ids(rows: Sequence[Rowtuple]) -> list[Rowtuple]:
    """The same rows under new originator ids (same length), so they can be appended again."""
    renamed: dict[str, str] = {}
    out = []
    for originator_id, version, topic, state in rows:
        new = renamed.setdefault(originator_id, uuid.uuid4().hex)
        out.append((new, version, topic, state))
    return out


def append(db: sqlite3.Connection, rows: Sequence[Rowtuple]) -> None:
    """One transaction, one INSERT per row (as eventsourcing's recorder inserts)."""
    cursor = db.cursor()
    cursor.execute("BEGIN")
    for row in rows:
        cursor.execute(INSERT, row)
    cursor.execute("COMMIT")


def append_many(db: sqlite3.Connection, rows: Sequence[Rowtuple]) -> None:
    db.execute("BEGIN")
    db.executemany(INSERT, rows)
    db.execute("COMMIT")


def scan_decode(events_file: Path, page: int = 1000) -> int:
    """Read every event in log order, in pages, and decode its JSON state."""
    db = sqlite3.connect(f"file:{events_file}?mode=ro", uri=True)
    count, last = 0, 0
    try:
        while True:
            rows = db.execute(
                "SELECT rowid, originator_id, originator_version, topic, state "
                "FROM stored_events WHERE rowid > ? ORDER BY rowid LIMIT ?",
                (last, page),
            ).fetchall()
            for row in rows:
                json.loads(row[4])
            count += len(rows)
            if len(rows) < page:
                return count
            last = rows[-1][0]
    finally:
        db.close()


# --- read models: the same rows, plainly inserted ---------------------------------------------


def read_model_tables(path: Path) -> list[tuple[str, str, list[str], bool]]:
    """(table, DDL, index DDLs, virtual) of every read-model table in a rebuilt file."""
    from projections.registry import READ_MODELS

    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = []
        for projection in READ_MODELS:
            for name in projection.tables():
                row = db.execute(
                    "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)
                ).fetchone()
                indexes = [
                    r[0]
                    for r in db.execute(
                        "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
                        "AND sql IS NOT NULL",
                        (name,),
                    )
                ]
                tables.append((name, row[0], indexes, row[0].upper().startswith("CREATE V")))
        return tables
    finally:
        db.close()


def table_rows(path: Path, table: str, virtual: bool) -> tuple[list[str], list[tuple[Any, ...]]]:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        if virtual:
            columns = ["rowid"] + [r[1] for r in db.execute(f'PRAGMA table_info("{table}")')]
        else:
            columns = [r[1] for r in db.execute(f'PRAGMA table_info("{table}")')]
        names = ", ".join(columns)
        return columns, db.execute(f'SELECT {names} FROM "{table}"').fetchall()
    finally:
        db.close()


def insert_rows(
    db: sqlite3.Connection,
    table: str,
    columns: list[str],
    rows: list[tuple[Any, ...]],
    per_transaction: int = 1000,
) -> None:
    sql = f'INSERT INTO "{table}" ({", ".join(columns)}) VALUES ({", ".join("?" * len(columns))})'
    for start in range(0, len(rows), per_transaction):
        db.execute("BEGIN")
        db.executemany(sql, rows[start : start + per_transaction])
        db.execute("COMMIT")


def chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
