"""Twinning status: partners, topics, exchanges, follow-ups, advice and each side's activity.

Nothing here depends on "today": whether a follow-up is overdue is decided by the query
against the date it is given, so a rebuild writes the same rows on any day.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from domain.advice import Advice, AdviceRequest
from domain.exchange import Exchange
from domain.member import Member
from domain.twinning import Twinning
from projections.encoding import canonical_json, day, instant, text, uid
from projections.read_model import EventHandlers, ReadModelProjection, RowMissing, change_one

HANDLERS = EventHandlers()


class TwinningStatus(ReadModelProjection):
    name = "twinning_status"
    schema_version = 1
    handlers = HANDLERS
    schema = """
    CREATE TABLE twinnings (
        twinning_id TEXT PRIMARY KEY,
        programme_id TEXT NOT NULL,
        first_region_id TEXT NOT NULL,
        second_region_id TEXT NOT NULL,
        starts_on TEXT NOT NULL,
        ends_on TEXT NOT NULL,
        status TEXT NOT NULL,
        cancellation_reason TEXT,
        formed_at TEXT NOT NULL,
        changed_at TEXT NOT NULL
    );
    CREATE INDEX twinnings_by_programme ON twinnings (programme_id);
    CREATE TABLE twinning_topics (
        twinning_id TEXT NOT NULL,
        topic TEXT NOT NULL,
        teaching_region_id TEXT,
        PRIMARY KEY (twinning_id, topic)
    ) WITHOUT ROWID;
    CREATE TABLE exchanges (
        exchange_id TEXT PRIMARY KEY,
        twinning_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        held_on TEXT NOT NULL,
        place TEXT NOT NULL,
        participants TEXT NOT NULL,
        topics TEXT NOT NULL,
        summary TEXT NOT NULL,
        recorded_by TEXT NOT NULL,
        recorded_at TEXT NOT NULL
    );
    CREATE INDEX exchanges_by_twinning ON exchanges (twinning_id, held_on);
    CREATE TABLE follow_ups (
        exchange_id TEXT NOT NULL,
        number INTEGER NOT NULL,
        twinning_id TEXT NOT NULL,
        text TEXT NOT NULL,
        owner_region_id TEXT,
        owner_member_id TEXT,
        due_on TEXT NOT NULL,
        done INTEGER NOT NULL,
        done_at TEXT,
        PRIMARY KEY (exchange_id, number)
    ) WITHOUT ROWID;
    CREATE INDEX follow_ups_by_twinning ON follow_ups (twinning_id, done, due_on);
    CREATE TABLE advice_requests (
        request_id TEXT PRIMARY KEY,
        twinning_id TEXT NOT NULL,
        from_region_id TEXT NOT NULL,
        to_region_id TEXT NOT NULL,
        topic TEXT NOT NULL,
        measure_id TEXT,
        question TEXT NOT NULL,
        requested_at TEXT NOT NULL,
        answers INTEGER NOT NULL
    );
    CREATE INDEX advice_requests_by_twinning ON advice_requests (twinning_id);
    CREATE TABLE advice (
        advice_id TEXT PRIMARY KEY,
        twinning_id TEXT NOT NULL,
        from_region_id TEXT NOT NULL,
        to_region_id TEXT NOT NULL,
        topic TEXT NOT NULL,
        measure_id TEXT,
        request_id TEXT,
        status TEXT NOT NULL,
        adopted_measure_id TEXT,
        decline_reason TEXT,
        given_at TEXT NOT NULL,
        decided_at TEXT
    );
    CREATE INDEX advice_by_twinning ON advice (twinning_id, status);
    CREATE TABLE twinning_activity (
        twinning_id TEXT NOT NULL,
        region_id TEXT NOT NULL,
        last_at TEXT NOT NULL,
        last_event TEXT NOT NULL,
        last_actor TEXT NOT NULL,
        PRIMARY KEY (twinning_id, region_id)
    ) WITHOUT ROWID;
    CREATE TABLE twinning_member_regions (
        member_id TEXT PRIMARY KEY,
        region_id TEXT
    ) WITHOUT ROWID
    """


# --- helpers -------------------------------------------------------------------------


def _regions_of(db: sqlite3.Cursor, twinning_id: str) -> tuple[str, str]:
    row = db.execute(
        "SELECT first_region_id, second_region_id FROM twinnings WHERE twinning_id = ?",
        (twinning_id,),
    ).fetchone()
    if row is None:
        raise RowMissing(f"twinning {twinning_id}")
    return row[0], row[1]


def _active(db: sqlite3.Cursor, twinning_id: str, region_id: str | None, event: Any) -> None:
    """Note a side's activity in the twinning: the latest recording time wins."""
    if region_id is None:
        return
    db.execute(
        "INSERT INTO twinning_activity VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (twinning_id, region_id) DO UPDATE SET last_at = excluded.last_at, "
        "last_event = excluded.last_event, last_actor = excluded.last_actor "
        "WHERE excluded.last_at >= twinning_activity.last_at",
        (twinning_id, region_id, instant(event.timestamp), type(event).__qualname__, event.actor),
    )


def _twinning_of(db: sqlite3.Cursor, table: str, key: str, value: str) -> str:
    row = db.execute(f"SELECT twinning_id FROM {table} WHERE {key} = ?", (value,)).fetchone()
    if row is None:
        raise RowMissing(f"{table} {value}")
    return str(row[0])


# --- twinnings -----------------------------------------------------------------------


@HANDLERS.on(Twinning.Formed)
def _formed(db: sqlite3.Cursor, event: Any, position: int) -> None:
    at = instant(event.timestamp)
    db.execute(
        "INSERT INTO twinnings VALUES (?, ?, ?, ?, ?, ?, 'formed', NULL, ?, ?)",
        (
            uid(event.originator_id),
            uid(event.programme_id),
            uid(event.first_region_id),
            uid(event.second_region_id),
            day(event.starts_on),
            day(event.ends_on),
            at,
            at,
        ),
    )


@HANDLERS.on(Twinning.TopicAdded)
def _topic_added(db: sqlite3.Cursor, event: Any, position: int) -> None:
    db.execute(
        "INSERT INTO twinning_topics VALUES (?, ?, ?)",
        (uid(event.originator_id), text(event.topic), uid(event.teaching_region_id)),
    )


@HANDLERS.on(Twinning.TopicRemoved)
def _topic_removed(db: sqlite3.Cursor, event: Any, position: int) -> None:
    change_one(
        db,
        "DELETE FROM twinning_topics WHERE twinning_id = ? AND topic = ?",
        (uid(event.originator_id), text(event.topic)),
    )


@HANDLERS.on(Twinning.Started, Twinning.Completed, Twinning.Cancelled)
def _status_changed(db: sqlite3.Cursor, event: Any, position: int) -> None:
    status = {
        Twinning.Started: "running",
        Twinning.Completed: "completed",
        Twinning.Cancelled: "cancelled",
    }[type(event)]
    change_one(
        db,
        "UPDATE twinnings SET status = ?, cancellation_reason = ?, changed_at = ? "
        "WHERE twinning_id = ?",
        (
            status,
            getattr(event, "reason", None),
            instant(event.timestamp),
            uid(event.originator_id),
        ),
    )


@HANDLERS.on(Member.Invited)
def _member_invited(db: sqlite3.Cursor, event: Any, position: int) -> None:
    db.execute(
        "INSERT INTO twinning_member_regions VALUES (?, ?)",
        (uid(event.originator_id), uid(event.region_id)),
    )


# --- exchanges and follow-ups ----------------------------------------------------------


@HANDLERS.on(Exchange.Recorded)
def _exchange_recorded(db: sqlite3.Cursor, event: Any, position: int) -> None:
    twinning_id = uid(event.twinning_id)
    assert twinning_id is not None
    db.execute(
        "INSERT INTO exchanges VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            uid(event.originator_id),
            twinning_id,
            text(event.kind),
            day(event.held_on),
            event.place,
            canonical_json(list(event.participants)),
            canonical_json([text(topic) for topic in event.topics]),
            event.summary,
            event.actor,
            instant(event.timestamp),
        ),
    )
    for region_id in _regions_of(db, twinning_id):
        _active(db, twinning_id, region_id, event)


@HANDLERS.on(Exchange.FollowUpAgreed)
def _follow_up_agreed(db: sqlite3.Cursor, event: Any, position: int) -> None:
    exchange_id = uid(event.originator_id)
    assert exchange_id is not None
    twinning_id = _twinning_of(db, "exchanges", "exchange_id", exchange_id)
    db.execute(
        "INSERT INTO follow_ups VALUES (?, ?, ?, ?, ?, ?, ?, 0, NULL)",
        (
            exchange_id,
            event.number,
            twinning_id,
            event.text,
            uid(event.owner_region_id),
            uid(event.owner_member_id),
            day(event.due_on),
        ),
    )
    for region_id in _regions_of(db, twinning_id):
        _active(db, twinning_id, region_id, event)


@HANDLERS.on(Exchange.FollowUpDone)
def _follow_up_done(db: sqlite3.Cursor, event: Any, position: int) -> None:
    exchange_id = uid(event.originator_id)
    change_one(
        db,
        "UPDATE follow_ups SET done = 1, done_at = ? WHERE exchange_id = ? AND number = ?",
        (instant(event.timestamp), exchange_id, event.number),
    )
    row = db.execute(
        "SELECT f.twinning_id, coalesce(f.owner_region_id, m.region_id) FROM follow_ups f "
        "LEFT JOIN twinning_member_regions m ON m.member_id = f.owner_member_id "
        "WHERE f.exchange_id = ? AND f.number = ?",
        (exchange_id, event.number),
    ).fetchone()
    _active(db, row[0], row[1], event)


# --- advice ----------------------------------------------------------------------------


@HANDLERS.on(AdviceRequest.Requested)
def _advice_requested(db: sqlite3.Cursor, event: Any, position: int) -> None:
    twinning_id = uid(event.twinning_id)
    assert twinning_id is not None
    db.execute(
        "INSERT INTO advice_requests VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)",
        (
            uid(event.originator_id),
            twinning_id,
            uid(event.from_region_id),
            uid(event.to_region_id),
            text(event.topic),
            uid(event.measure_id),
            event.question,
            instant(event.timestamp),
        ),
    )
    _active(db, twinning_id, uid(event.from_region_id), event)


@HANDLERS.on(AdviceRequest.Answered)
def _advice_request_answered(db: sqlite3.Cursor, event: Any, position: int) -> None:
    change_one(
        db,
        "UPDATE advice_requests SET answers = answers + 1 WHERE request_id = ?",
        (uid(event.originator_id),),
    )


@HANDLERS.on(Advice.Given)
def _advice_given(db: sqlite3.Cursor, event: Any, position: int) -> None:
    twinning_id = uid(event.twinning_id)
    assert twinning_id is not None
    db.execute(
        "INSERT INTO advice VALUES (?, ?, ?, ?, ?, ?, ?, 'given', NULL, NULL, ?, NULL)",
        (
            uid(event.originator_id),
            twinning_id,
            uid(event.from_region_id),
            uid(event.to_region_id),
            text(event.topic),
            uid(event.measure_id),
            uid(event.request_id),
            instant(event.timestamp),
        ),
    )
    _active(db, twinning_id, uid(event.from_region_id), event)


@HANDLERS.on(Advice.Acknowledged, Advice.Adopted, Advice.Declined)
def _advice_answered(db: sqlite3.Cursor, event: Any, position: int) -> None:
    advice_id = uid(event.originator_id)
    status = {
        Advice.Acknowledged: "acknowledged",
        Advice.Adopted: "adopted",
        Advice.Declined: "declined",
    }[type(event)]
    decided_at = None if status == "acknowledged" else instant(event.timestamp)
    change_one(
        db,
        "UPDATE advice SET status = ?, adopted_measure_id = ?, decline_reason = ?, "
        "decided_at = ? WHERE advice_id = ?",
        (
            status,
            uid(getattr(event, "measure_id", None)),
            getattr(event, "reason", None),
            decided_at,
            advice_id,
        ),
    )
    row = db.execute(
        "SELECT twinning_id, to_region_id FROM advice WHERE advice_id = ?", (advice_id,)
    ).fetchone()
    _active(db, row[0], row[1], event)
