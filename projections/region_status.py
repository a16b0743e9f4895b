"""Region status: measures by status, the implementation rate over time, and goals.

Every measure event that changes a region's figures appends a row to
``region_rate_history`` with the region's counts after it; the rate "as of" any moment
is the last row before that moment (see projections/README.md for the definitions).
"""

from __future__ import annotations

import sqlite3
from typing import Any

from domain.goal import Goal
from domain.measure import Measure
from projections.encoding import decimal, instant, text, uid
from projections.read_model import EventHandlers, ReadModelProjection, RowMissing, change_one

HANDLERS = EventHandlers()
STATUSES = ("proposed", "planned", "in_progress", "implemented", "discontinued")


class RegionStatus(ReadModelProjection):
    name = "region_status"
    schema_version = 1
    handlers = HANDLERS
    schema = """
    CREATE TABLE region_measures (
        measure_id TEXT PRIMARY KEY,
        region_id TEXT NOT NULL,
        status TEXT NOT NULL,
        progress INTEGER NOT NULL
    );
    CREATE INDEX region_measures_by_region ON region_measures (region_id, status);
    CREATE TABLE region_rate_history (
        region_id TEXT NOT NULL,
        position INTEGER NOT NULL,
        at TEXT NOT NULL,
        proposed INTEGER NOT NULL,
        planned INTEGER NOT NULL,
        in_progress INTEGER NOT NULL,
        implemented INTEGER NOT NULL,
        discontinued INTEGER NOT NULL,
        progress_points INTEGER NOT NULL,
        PRIMARY KEY (region_id, position)
    ) WITHOUT ROWID;
    CREATE INDEX region_rate_history_by_time ON region_rate_history (region_id, at);
    CREATE TABLE goals (
        goal_id TEXT PRIMARY KEY,
        region_id TEXT NOT NULL,
        topic TEXT NOT NULL,
        metric TEXT NOT NULL,
        unit TEXT NOT NULL,
        target_value TEXT NOT NULL,
        target_year INTEGER NOT NULL,
        status TEXT NOT NULL,
        revision_count INTEGER NOT NULL,
        set_at TEXT NOT NULL,
        changed_at TEXT NOT NULL
    );
    CREATE INDEX goals_by_region ON goals (region_id);
    CREATE TABLE goal_targets (
        goal_id TEXT NOT NULL,
        revision INTEGER NOT NULL,
        target_value TEXT NOT NULL,
        target_year INTEGER NOT NULL,
        reason TEXT,
        recorded_at TEXT NOT NULL,
        recorded_by TEXT NOT NULL,
        PRIMARY KEY (goal_id, revision)
    ) WITHOUT ROWID
    """


def _record_figures(db: sqlite3.Cursor, region_id: str, event: Any, position: int) -> None:
    """Append the region's counts after this event to its rate history."""
    counts = dict.fromkeys(STATUSES, 0)
    for status, count in db.execute(
        "SELECT status, count(*) FROM region_measures WHERE region_id = ? GROUP BY status",
        (region_id,),
    ):
        counts[status] = count
    (points,) = db.execute(
        "SELECT coalesce(sum(CASE status WHEN 'implemented' THEN 100 "
        "WHEN 'discontinued' THEN 0 ELSE progress END), 0) "
        "FROM region_measures WHERE region_id = ?",
        (region_id,),
    ).fetchone()
    db.execute(
        "INSERT INTO region_rate_history VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (region_id, position, instant(event.timestamp), *counts.values(), points),
    )


def _region_of(db: sqlite3.Cursor, measure_id: str | None) -> str:
    row = db.execute(
        "SELECT region_id FROM region_measures WHERE measure_id = ?", (measure_id,)
    ).fetchone()
    if row is None:
        raise RowMissing(f"measure {measure_id}")
    return str(row[0])


@HANDLERS.on(Measure.Proposed)
def _measure_proposed(db: sqlite3.Cursor, event: Any, position: int) -> None:
    region_id = uid(event.region_id)
    assert region_id is not None
    db.execute(
        "INSERT INTO region_measures VALUES (?, ?, 'proposed', 0)",
        (uid(event.originator_id), region_id),
    )
    _record_figures(db, region_id, event, position)


@HANDLERS.on(Measure.StatusChanged)
def _measure_status_changed(db: sqlite3.Cursor, event: Any, position: int) -> None:
    measure_id = uid(event.originator_id)
    change_one(
        db,
        "UPDATE region_measures SET status = ? WHERE measure_id = ?",
        (text(event.status), measure_id),
    )
    _record_figures(db, _region_of(db, measure_id), event, position)


@HANDLERS.on(Measure.ProgressReported)
def _measure_progress_reported(db: sqlite3.Cursor, event: Any, position: int) -> None:
    measure_id = uid(event.originator_id)
    change_one(
        db,
        "UPDATE region_measures SET progress = ? WHERE measure_id = ?",
        (int(event.percent), measure_id),
    )
    _record_figures(db, _region_of(db, measure_id), event, position)


@HANDLERS.on(Goal.Set)
def _goal_set(db: sqlite3.Cursor, event: Any, position: int) -> None:
    goal_id = uid(event.originator_id)
    at = instant(event.timestamp)
    db.execute(
        "INSERT INTO goals VALUES (?, ?, ?, ?, ?, ?, ?, 'active', 0, ?, ?)",
        (
            goal_id,
            uid(event.region_id),
            text(event.topic),
            event.metric,
            event.unit,
            decimal(event.target_value),
            int(event.target_year),
            at,
            at,
        ),
    )
    db.execute(
        "INSERT INTO goal_targets VALUES (?, 0, ?, ?, NULL, ?, ?)",
        (goal_id, decimal(event.target_value), int(event.target_year), at, event.actor),
    )


@HANDLERS.on(Goal.Revised)
def _goal_revised(db: sqlite3.Cursor, event: Any, position: int) -> None:
    goal_id = uid(event.originator_id)
    at = instant(event.timestamp)
    change_one(
        db,
        "UPDATE goals SET target_value = ?, target_year = ?, revision_count = revision_count + 1,"
        " changed_at = ? WHERE goal_id = ?",
        (decimal(event.target_value), int(event.target_year), at, goal_id),
    )
    db.execute(
        "INSERT INTO goal_targets SELECT goal_id, revision_count, ?, ?, ?, ?, ? "
        "FROM goals WHERE goal_id = ?",
        (
            decimal(event.target_value),
            int(event.target_year),
            event.reason,
            at,
            event.actor,
            goal_id,
        ),
    )


@HANDLERS.on(Goal.Achieved, Goal.Dropped)
def _goal_closed(db: sqlite3.Cursor, event: Any, position: int) -> None:
    status = "achieved" if type(event) is Goal.Achieved else "dropped"
    change_one(
        db,
        "UPDATE goals SET status = ?, changed_at = ? WHERE goal_id = ?",
        (status, instant(event.timestamp), uid(event.originator_id)),
    )
