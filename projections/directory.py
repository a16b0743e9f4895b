"""Directory: programmes, regions and members, for names and "who" in every screen.

A member's name comes from the sealed personal data of ``Member.Joined``
(:mod:`domain.personal_data`): None once erased. ``Member.PersonalDataErased`` blanks it
in the live read model, and a rebuild never sees it, so both give the same rows.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from domain.member import Member
from domain.programme import Programme
from domain.region import Region
from projections.encoding import day, instant, text, uid
from projections.read_model import EventHandlers, ReadModelProjection, change_one

HANDLERS = EventHandlers()


class Directory(ReadModelProjection):
    name = "directory"
    schema_version = 3
    handlers = HANDLERS
    schema = """
    CREATE TABLE programmes (
        programme_id TEXT PRIMARY KEY,
        code TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        starts_on TEXT NOT NULL,
        ends_on TEXT NOT NULL,
        office TEXT NOT NULL,
        funder TEXT NOT NULL,
        started_at TEXT NOT NULL
    );
    CREATE TABLE regions (
        region_id TEXT PRIMARY KEY,
        key TEXT,
        key_type TEXT,
        slug TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        kind TEXT NOT NULL,
        land TEXT NOT NULL,
        registered_at TEXT NOT NULL
    );
    CREATE TABLE members (
        member_id TEXT PRIMARY KEY,
        region_id TEXT,
        role TEXT NOT NULL,
        name TEXT,
        status TEXT NOT NULL,
        invited_at TEXT NOT NULL,
        invite_expires_at TEXT NOT NULL,
        joined_at TEXT,
        removed_at TEXT,
        erased_at TEXT
    );
    CREATE INDEX members_by_region ON members (region_id, status)
    """


@HANDLERS.on(Programme.Started)
def _programme_started(db: sqlite3.Cursor, event: Any, position: int) -> None:
    db.execute(
        "INSERT INTO programmes VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            uid(event.originator_id),
            event.code,
            event.name,
            day(event.starts_on),
            day(event.ends_on),
            event.office,
            event.funder,
            instant(event.timestamp),
        ),
    )


@HANDLERS.on(Region.Registered)
def _region_registered(db: sqlite3.Cursor, event: Any, position: int) -> None:
    db.execute(
        "INSERT INTO regions VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            uid(event.originator_id),
            event.key,
            text(event.key_type),
            event.slug,
            event.name,
            text(event.kind),
            event.land,
            instant(event.timestamp),
        ),
    )


@HANDLERS.on(Member.Invited)
def _member_invited(db: sqlite3.Cursor, event: Any, position: int) -> None:
    db.execute(
        "INSERT INTO members (member_id, region_id, role, status, invited_at, invite_expires_at) "
        "VALUES (?, ?, ?, 'invited', ?, ?)",
        (
            uid(event.originator_id),
            uid(event.region_id),
            text(event.role),
            instant(event.timestamp),
            instant(event.invite_expires_at),
        ),
    )


@HANDLERS.on(Member.Joined)
def _member_joined(db: sqlite3.Cursor, event: Any, position: int) -> None:
    change_one(
        db,
        "UPDATE members SET name = ?, status = 'active', joined_at = ? WHERE member_id = ?",
        (event.personal.name, instant(event.timestamp), uid(event.originator_id)),
    )


@HANDLERS.on(Member.RoleChanged)
def _member_role_changed(db: sqlite3.Cursor, event: Any, position: int) -> None:
    change_one(
        db,
        "UPDATE members SET role = ? WHERE member_id = ?",
        (text(event.role), uid(event.originator_id)),
    )


@HANDLERS.on(Member.Removed)
def _member_removed(db: sqlite3.Cursor, event: Any, position: int) -> None:
    change_one(
        db,
        "UPDATE members SET status = 'removed', removed_at = ? WHERE member_id = ?",
        (instant(event.timestamp), uid(event.originator_id)),
    )


@HANDLERS.on(Member.PersonalDataErased)
def _member_erased(db: sqlite3.Cursor, event: Any, position: int) -> None:
    change_one(
        db,
        "UPDATE members SET name = NULL, erased_at = ? WHERE member_id = ?",
        (instant(event.timestamp), uid(event.originator_id)),
    )
