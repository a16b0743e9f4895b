"""Timelines: what happened, by whom and when, per twinning, region and measure.

Each business event becomes one entry; ``timeline_index`` files it under every subject
it concerns. An aggregate's subjects are fixed by its creation event (an exchange belongs
to its twinning and both partner regions, a measure to itself and its region ...), and
its later events follow them.

Personal data: an entry shows a member's name (``Member.Joined``), never the Telegram
id; ``Member.PersonalDataErased`` blanks the name in the member's earlier entries, as a
rebuild (which reads the name as erased) writes them.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from domain.advice import Advice, AdviceRequest
from domain.exchange import Exchange
from domain.goal import Goal
from domain.measure import Measure
from domain.member import Member
from domain.personal_data import PersonalData
from domain.programme import Programme
from domain.region import Region
from domain.twinning import Twinning
from projections.encoding import canonical_json, instant, uid
from projections.read_model import EventHandlers, ReadModelProjection

HANDLERS = EventHandlers()

# Receipts and the index aggregates (slugs, invitations, Telegram accounts) belong to no
# subject and get no entry; a member's events are filed under the member's region.
NOT_SHOWN = frozenset(
    {
        "originator_id",
        "originator_version",
        "originator_topic",
        "timestamp",
        "actor",
        "command_id",
        "invite_code_hash",
        "telegram_user_id",
        "account_id",
    }
)

Subject = tuple[str, str]


class Timelines(ReadModelProjection):
    name = "timelines"
    schema_version = 2
    handlers = HANDLERS
    schema = """
    CREATE TABLE timeline_entries (
        position INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        event_type TEXT NOT NULL,
        aggregate_id TEXT NOT NULL,
        version INTEGER NOT NULL,
        details TEXT NOT NULL
    );
    CREATE TABLE timeline_index (
        subject_kind TEXT NOT NULL,
        subject_id TEXT NOT NULL,
        position INTEGER NOT NULL,
        PRIMARY KEY (subject_kind, subject_id, position)
    ) WITHOUT ROWID;
    CREATE TABLE timeline_memberships (
        aggregate_id TEXT NOT NULL,
        subject_kind TEXT NOT NULL,
        subject_id TEXT NOT NULL,
        PRIMARY KEY (aggregate_id, subject_kind, subject_id)
    ) WITHOUT ROWID
    """


def _memberships(db: sqlite3.Cursor, aggregate_id: str | None) -> list[Subject]:
    rows = db.execute(
        "SELECT subject_kind, subject_id FROM timeline_memberships WHERE aggregate_id = ? "
        "ORDER BY subject_kind, subject_id",
        (aggregate_id,),
    ).fetchall()
    return [(row[0], row[1]) for row in rows]


def _subjects_of_new(db: sqlite3.Cursor, event: Any) -> list[Subject]:
    """The subjects an aggregate belongs to, from its creation event."""
    kind = type(event)
    own = uid(event.originator_id)
    assert own is not None
    if kind is Programme.Started:
        return [("programme", own)]
    if kind is Region.Registered:
        return [("region", own)]
    if kind is Twinning.Formed:
        return [
            ("twinning", own),
            ("region", uid(event.first_region_id) or ""),
            ("region", uid(event.second_region_id) or ""),
        ]
    if kind in (Exchange.Recorded, AdviceRequest.Requested, Advice.Given):
        subjects = _memberships(db, uid(event.twinning_id))
        measure_id = uid(getattr(event, "measure_id", None))
        return subjects + ([("measure", measure_id)] if measure_id else [])
    if kind is Measure.Proposed:
        return [("measure", own), ("region", uid(event.region_id) or "")]
    if kind is Goal.Set:
        return [("region", uid(event.region_id) or "")]
    if kind is Member.Invited:
        region_id = uid(event.region_id)
        return [("region", region_id)] if region_id else []
    return []


def _details(event: Any) -> str:
    shown: dict[str, Any] = {}
    for key, value in vars(event).items():
        if key in NOT_SHOWN:
            continue
        if isinstance(value, PersonalData):
            shown.update(value.shown())
        else:
            shown[key] = value
    return canonical_json(shown)


@HANDLERS.on_every_event
def _entry(db: sqlite3.Cursor, event: Any, position: int) -> None:
    aggregate_id = uid(event.originator_id)
    for subject_kind, subject_id in _subjects_of_new(db, event):
        db.execute(
            "INSERT OR IGNORE INTO timeline_memberships VALUES (?, ?, ?)",
            (aggregate_id, subject_kind, subject_id),
        )
    subjects = _memberships(db, aggregate_id)
    if type(event) is Advice.Adopted:
        subjects.append(("measure", uid(event.measure_id) or ""))
    if not subjects:
        return
    db.execute(
        "INSERT INTO timeline_entries VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            position,
            instant(event.timestamp),
            event.actor,
            type(event).__qualname__,
            aggregate_id,
            event.originator_version,
            _details(event),
        ),
    )
    for subject_kind, subject_id in subjects:
        db.execute(
            "INSERT OR IGNORE INTO timeline_index VALUES (?, ?, ?)",
            (subject_kind, subject_id, position),
        )


@HANDLERS.on(Member.PersonalDataErased)
def _erased(db: sqlite3.Cursor, event: Any, position: int) -> None:
    """The member's earlier entries, as a rebuild after the erasure writes them."""
    rows = db.execute(
        "SELECT position, details FROM timeline_entries WHERE aggregate_id = ? AND position < ?",
        (uid(event.originator_id), position),
    ).fetchall()
    for entry_position, text in rows:
        details = json.loads(text)
        if details.get("name") is None:
            continue
        details["name"] = None
        db.execute(
            "UPDATE timeline_entries SET details = ? WHERE position = ?",
            (canonical_json(details), entry_position),
        )
