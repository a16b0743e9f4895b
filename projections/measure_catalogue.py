"""Measure catalogue: every measure with its current state, searchable in full text (FTS5).

``seq`` numbers measures in the order they were proposed and is the FTS row id, so the
search index is as deterministic as the rows it indexes.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from domain.measure import Measure
from projections.encoding import day, decimal, instant, text, uid
from projections.read_model import EventHandlers, ReadModelProjection, change_one

HANDLERS = EventHandlers()


class MeasureCatalogue(ReadModelProjection):
    name = "measure_catalogue"
    schema_version = 1
    handlers = HANDLERS
    schema = """
    CREATE TABLE catalogue_measures (
        seq INTEGER PRIMARY KEY,
        measure_id TEXT NOT NULL UNIQUE,
        region_id TEXT NOT NULL,
        code TEXT NOT NULL,
        title TEXT NOT NULL,
        topic TEXT NOT NULL,
        responsible TEXT NOT NULL,
        status TEXT NOT NULL,
        progress INTEGER NOT NULL,
        due_on TEXT,
        expected_co2_t_per_year TEXT,
        description TEXT NOT NULL,
        advice_id TEXT,
        proposed_at TEXT NOT NULL,
        changed_at TEXT NOT NULL,
        version INTEGER NOT NULL
    );
    CREATE INDEX catalogue_by_region ON catalogue_measures (region_id, code);
    CREATE INDEX catalogue_by_topic ON catalogue_measures (topic, code);
    CREATE INDEX catalogue_by_status ON catalogue_measures (status, code);
    CREATE INDEX catalogue_by_responsible ON catalogue_measures (responsible COLLATE NOCASE);
    CREATE VIRTUAL TABLE catalogue_search USING fts5 (
        title, description, tokenize = 'unicode61 remove_diacritics 2'
    )
    """


@HANDLERS.on(Measure.Proposed)
def _proposed(db: sqlite3.Cursor, event: Any, position: int) -> None:
    at = instant(event.timestamp)
    db.execute(
        "INSERT INTO catalogue_measures (measure_id, region_id, code, title, topic, responsible,"
        " status, progress, due_on, expected_co2_t_per_year, description, advice_id,"
        " proposed_at, changed_at, version) VALUES (?, ?, ?, ?, ?, ?, 'proposed', 0, ?, ?, ?, ?,"
        " ?, ?, ?)",
        (
            uid(event.originator_id),
            uid(event.region_id),
            event.code,
            event.title,
            text(event.topic),
            event.responsible,
            day(event.due_on),
            decimal(event.expected_co2_t_per_year),
            event.description,
            uid(event.advice_id),
            at,
            at,
            event.originator_version,
        ),
    )
    db.execute(
        "INSERT INTO catalogue_search (rowid, title, description) VALUES (?, ?, ?)",
        (db.lastrowid, event.title, event.description),
    )


def _change(db: sqlite3.Cursor, event: Any, column: str, value: object) -> None:
    change_one(
        db,
        f"UPDATE catalogue_measures SET {column} = ?, changed_at = ?, version = ? "
        "WHERE measure_id = ?",
        (value, instant(event.timestamp), event.originator_version, uid(event.originator_id)),
    )


@HANDLERS.on(Measure.StatusChanged)
def _status_changed(db: sqlite3.Cursor, event: Any, position: int) -> None:
    _change(db, event, "status", text(event.status))


@HANDLERS.on(Measure.ProgressReported)
def _progress_reported(db: sqlite3.Cursor, event: Any, position: int) -> None:
    _change(db, event, "progress", int(event.percent))


@HANDLERS.on(Measure.DueDateChanged)
def _due_date_changed(db: sqlite3.Cursor, event: Any, position: int) -> None:
    _change(db, event, "due_on", day(event.due_on))


@HANDLERS.on(Measure.ResponsibleChanged)
def _responsible_changed(db: sqlite3.Cursor, event: Any, position: int) -> None:
    _change(db, event, "responsible", event.responsible)


@HANDLERS.on(Measure.DescriptionEdited)
def _description_edited(db: sqlite3.Cursor, event: Any, position: int) -> None:
    _change(db, event, "description", event.description)
    change_one(
        db,
        "UPDATE catalogue_search SET description = ? WHERE rowid = "
        "(SELECT seq FROM catalogue_measures WHERE measure_id = ?)",
        (event.description, uid(event.originator_id)),
    )
