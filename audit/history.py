"""History for auditors: every event of a measure, twinning, region or member, readable.

Reads the read models (the timelines for measures, twinnings and regions; the audit
index for members – everything they did and everything done to them), newest first,
page by page. Command receipts (one per command, bookkeeping) are left out; the export
holds them.

Descriptions are English msgids (``N_``), translated by the caller's ``translate``
(the bot's gettext, or :func:`audit.texts.translator` for the CLI and reports).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import aiosqlite

from bot.i18n import N_
from bot.labels import EXCHANGE_KINDS, MEASURE_STATUSES, ROLES, TOPICS
from bot.rendering import day as format_day
from domain.values import MEASURE_CODE_PATTERN
from projections.models import Page

Translate = Callable[[str], str]
HEX_ID = re.compile(r"^[0-9a-f]{32}$")
UUID_TEXT = re.compile(r"^[0-9a-fA-F]{8}-?([0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12}$")
MAX_PER_PAGE = 50
TEXT_LIMIT = 160

MEASURE = "measure"
TWINNING = "twinning"
REGION = "region"
MEMBER = "member"


@dataclass(frozen=True)
class Subject:
    kind: str
    """measure, twinning, region or member"""
    id: UUID
    label: str
    region_ids: tuple[UUID, ...]
    """The regions it belongs to (none: the programme office's member)."""

    def concerns(self, region_id: UUID | None) -> bool:
        return region_id in self.region_ids


@dataclass(frozen=True)
class HistoryEntry:
    position: int
    at: datetime
    actor: str
    actor_name: str | None
    event_type: str
    aggregate_id: UUID
    version: int
    details: dict[str, Any]


# --- finding what is meant -----------------------------------------------------------------


async def _rows(db: aiosqlite.Connection, sql: str, params: Iterable[Any] = ()) -> list[Any]:
    async with db.execute(sql, tuple(params)) as cursor:
        return list(await cursor.fetchall())


def _uuid(value: str | None) -> UUID | None:
    return None if value is None else UUID(value)


async def _region_rows(db: aiosqlite.Connection, ref: str) -> list[Any]:
    text = ref.strip()
    return await _rows(
        db,
        "SELECT region_id, name FROM regions WHERE region_id = ? OR key = ? OR slug = ?",
        (text.replace("-", "").lower(), text, text.lower()),
    )


async def _measure_subjects(
    db: aiosqlite.Connection, code: str, region_id: str | None = None
) -> list[Subject]:
    sql = (
        "SELECT m.measure_id, m.region_id, m.code, m.title, r.name AS region "
        "FROM catalogue_measures m LEFT JOIN regions r ON r.region_id = m.region_id "
        "WHERE m.code = ?"
    )
    params: list[Any] = [code.strip().upper()]
    if region_id is not None:
        sql += " AND m.region_id = ?"
        params.append(region_id)
    rows = await _rows(db, sql + " ORDER BY r.name, m.region_id", params)
    return [
        Subject(
            MEASURE,
            UUID(r["measure_id"]),
            f"{r['code']} {r['title']} ({r['region'] or '?'})",
            (UUID(r["region_id"]),),
        )
        for r in rows
    ]


async def twinning_subjects(
    db: aiosqlite.Connection, where: str, params: Iterable[Any]
) -> list[Subject]:
    rows = await _rows(
        db,
        "SELECT t.twinning_id, t.first_region_id, t.second_region_id, "
        "coalesce(f.name, '?') AS first, coalesce(s.name, '?') AS second FROM twinnings t "
        "LEFT JOIN regions f ON f.region_id = t.first_region_id "
        "LEFT JOIN regions s ON s.region_id = t.second_region_id "
        f"WHERE {where} ORDER BY t.starts_on DESC, t.twinning_id",
        params,
    )
    return [
        Subject(
            TWINNING,
            UUID(r["twinning_id"]),
            f"{r['first']} – {r['second']}",
            (UUID(r["first_region_id"]), UUID(r["second_region_id"])),
        )
        for r in rows
    ]


async def find_region(db: aiosqlite.Connection, ref: str) -> Subject | None:
    """A region by id, official key or slug."""
    rows = await _region_rows(db, ref)
    if not rows:
        return None
    region_id = UUID(rows[0]["region_id"])
    return Subject(REGION, region_id, rows[0]["name"], (region_id,))


def _member_subject(row: Any) -> Subject:
    region = _uuid(row["region_id"])
    return Subject(
        MEMBER,
        UUID(row["member_id"]),
        row["name"] or row["member_id"][:8],
        () if region is None else (region,),
    )


async def find_subjects(
    db: aiosqlite.Connection, ref: str, own_region: UUID | None = None
) -> list[Subject]:
    """What a reference means: a measure code (``LKM-07``, or ``09184/LKM-07``), a partner
    region (the twinning with it; otherwise the region itself), two regions
    (``09184+05566``), an id, or a member's name or id prefix. Several for an ambiguous
    code or name (the member's own region's measure first)."""
    text = " ".join(ref.split())
    if not text:
        return []
    scoped = re.fullmatch(r"(\S+)\s*[/:]\s*(\S+)", text)
    if scoped and re.fullmatch(MEASURE_CODE_PATTERN, scoped.group(2).upper()):
        found = []
        for region in await _region_rows(db, scoped.group(1)):
            found += await _measure_subjects(db, scoped.group(2), region["region_id"])
        return found
    if re.fullmatch(MEASURE_CODE_PATTERN, text.upper()):
        found = await _measure_subjects(db, text)
        if found:
            own = [subject for subject in found if subject.concerns(own_region)]
            return own or found
    pair = re.fullmatch(r"(\S+)\s*\+\s*(\S+)", text)
    if pair:
        firsts = await _region_rows(db, pair.group(1))
        seconds = await _region_rows(db, pair.group(2))
        if firsts and seconds:
            a, b = firsts[0]["region_id"], seconds[0]["region_id"]
            return await twinning_subjects(
                db,
                "(t.first_region_id = ? AND t.second_region_id = ?) OR "
                "(t.first_region_id = ? AND t.second_region_id = ?)",
                (a, b, b, a),
            )
    if UUID_TEXT.fullmatch(text):
        return await subjects_by_id(db, UUID(text).hex)
    regions = await _region_rows(db, text)
    if regions:
        region_id = regions[0]["region_id"]
        if own_region is not None and own_region.hex != region_id:
            shared = await twinning_subjects(
                db,
                "(t.first_region_id = ? AND t.second_region_id = ?) OR "
                "(t.first_region_id = ? AND t.second_region_id = ?)",
                (region_id, own_region.hex, own_region.hex, region_id),
            )
            if shared:
                return shared
        return [Subject(REGION, UUID(region_id), regions[0]["name"], (UUID(region_id),))]
    return await _members_named(db, text)


async def subjects_by_id(db: aiosqlite.Connection, hex_id: str) -> list[Subject]:
    found = await twinning_subjects(db, "t.twinning_id = ?", (hex_id,))
    rows = await _rows(
        db, "SELECT code, region_id FROM catalogue_measures WHERE measure_id = ?", (hex_id,)
    )
    for row in rows:
        found += await _measure_subjects(db, row["code"], row["region_id"])
    for row in await _rows(
        db, "SELECT region_id, name FROM regions WHERE region_id = ?", (hex_id,)
    ):
        found.append(
            Subject(REGION, UUID(row["region_id"]), row["name"], (UUID(row["region_id"]),))
        )
    for row in await _rows(db, "SELECT * FROM members WHERE member_id = ?", (hex_id,)):
        found.append(_member_subject(row))
    return found


async def _members_named(db: aiosqlite.Connection, text: str) -> list[Subject]:
    wanted = text.casefold()
    rows = await _rows(db, "SELECT * FROM members ORDER BY name, member_id")
    named = [row for row in rows if (row["name"] or "").casefold() == wanted]
    if not named and re.fullmatch(r"[0-9a-fA-F]{6,32}", text):
        named = [row for row in rows if row["member_id"].startswith(text.lower())]
    return [_member_subject(row) for row in named]


# --- the entries ---------------------------------------------------------------------------


def _moment(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


async def history(
    db: aiosqlite.Connection, subject: Subject, page: int = 1, per_page: int = 10
) -> Page[HistoryEntry]:
    """The subject's events, newest first."""
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    page = max(1, page)
    offset = (page - 1) * per_page
    if subject.kind == MEMBER:
        source = (
            "FROM audit_events x LEFT JOIN timeline_entries e ON e.position = x.position "
            "WHERE (x.actor = ? OR x.aggregate_id = ?) AND x.aggregate_type != 'CommandReceipt'"
        )
        params: tuple[Any, ...] = (subject.id.hex, subject.id.hex)
        columns = (
            "x.position, x.recorded_at AS at, x.actor, x.event_type, x.aggregate_id, "
            "x.version, e.details"
        )
    else:
        source = (
            "FROM timeline_index i JOIN timeline_entries x ON x.position = i.position "
            "WHERE i.subject_kind = ? AND i.subject_id = ?"
        )
        params = (subject.kind, subject.id.hex)
        columns = "x.position, x.at, x.actor, x.event_type, x.aggregate_id, x.version, x.details"
    total = (await _rows(db, f"SELECT count(*) {source}", params))[0][0]
    rows = await _rows(
        db,
        f"SELECT {columns}, "
        f"(SELECT name FROM members WHERE member_id = x.actor) AS actor_name {source} "
        "ORDER BY x.position DESC LIMIT ? OFFSET ?",
        (*params, per_page, offset),
    )
    items = tuple(
        HistoryEntry(
            position=r["position"],
            at=_moment(r["at"]),
            actor=r["actor"],
            actor_name=r["actor_name"],
            event_type=r["event_type"],
            aggregate_id=UUID(r["aggregate_id"]),
            version=r["version"],
            details=json.loads(r["details"]) if r["details"] else {},
        )
        for r in rows
    )
    return Page(items, page, per_page, total)


# --- names of what the events refer to ------------------------------------------------------


ERASED_MEMBER = N_("erased member")
"""Who a member whose personal data was erased is, in every history line."""


@dataclass
class Names:
    regions: dict[str, str] = field(default_factory=dict)
    measures: dict[str, str] = field(default_factory=dict)
    members: dict[str, str] = field(default_factory=dict)
    erased: set[str] = field(default_factory=set)
    """Members (hex ids) whose personal data was erased."""

    def region(self, hex_id: Any) -> str:
        return self.regions.get(str(hex_id), str(hex_id)[:8])

    def measure(self, hex_id: Any) -> str:
        return self.measures.get(str(hex_id), str(hex_id)[:8])

    def actor(self, actor: str, name: str | None = None, translate: Translate = str) -> str:
        if actor in self.erased:
            return translate(ERASED_MEMBER)
        return name or self.members.get(actor) or actor


async def names_for(db: aiosqlite.Connection, entries: Iterable[HistoryEntry]) -> Names:
    ids: set[str] = set()
    for entry in entries:
        ids.add(entry.actor)
        ids.update(
            value
            for value in entry.details.values()
            if isinstance(value, str) and HEX_ID.fullmatch(value)
        )
    names = Names()
    if not ids:
        return names
    wanted = sorted(ids)
    marks = ", ".join("?" for _ in wanted)
    for r in await _rows(
        db, f"SELECT region_id, name FROM regions WHERE region_id IN ({marks})", wanted
    ):
        names.regions[r["region_id"]] = r["name"]
    for r in await _rows(
        db,
        f"SELECT measure_id, code FROM catalogue_measures WHERE measure_id IN ({marks})",
        wanted,
    ):
        names.measures[r["measure_id"]] = r["code"]
    for r in await _rows(
        db, f"SELECT member_id, name, erased_at FROM members WHERE member_id IN ({marks})", wanted
    ):
        if r["erased_at"] is not None:
            names.erased.add(r["member_id"])
        elif r["name"] is not None:
            names.members[r["member_id"]] = r["name"]
    return names


# --- readable descriptions ------------------------------------------------------------------

DESCRIPTIONS: dict[str, str] = {
    "Programme.Started": N_("Programme {code} started: {name}"),
    "Region.Registered": N_("Region registered: {name} ({kind}, {land})"),
    "RegionSlug.Claimed": N_("Short name {slug} claimed"),
    "Twinning.Formed": N_("Twinning formed for {starts_on} – {ends_on}"),
    "Twinning.TopicAdded": N_("Topic added: {topic}, taught by {teacher}"),
    "Twinning.TopicRemoved": N_("Topic removed: {topic}"),
    "Twinning.Started": N_("Twinning started"),
    "Twinning.Completed": N_("Twinning completed"),
    "Twinning.Cancelled": N_("Twinning cancelled: {reason}"),
    "Measure.Proposed": N_("Measure {code} proposed: {title}"),
    "Measure.StatusChanged": N_("Status changed to {status}"),
    "Measure.ProgressReported": N_("Progress reported: {percent} %"),
    "Measure.DueDateChanged": N_("Due date changed to {due_on}"),
    "Measure.ResponsibleChanged": N_("Responsible changed to {responsible}"),
    "Measure.DescriptionEdited": N_("Description edited"),
    "Goal.Set": N_("Goal set: {metric} {target_value} {unit} by {target_year}"),
    "Goal.Revised": N_("Goal revised to {target_value} by {target_year}: {reason}"),
    "Goal.Achieved": N_("Goal achieved"),
    "Goal.Dropped": N_("Goal dropped: {reason}"),
    "Exchange.Recorded": N_("{kind} on {held_on} in {place}: {summary}"),
    "Exchange.FollowUpAgreed": N_("Follow-up {number} agreed, due {due_on}: {text}"),
    "Exchange.FollowUpDone": N_("Follow-up {number} done"),
    "AdviceRequest.Requested": N_("Advice asked on {topic}: {question}"),
    "AdviceRequest.Answered": N_("Question answered"),
    "Advice.Given": N_("Advice given on {topic}: {text}"),
    "Advice.Acknowledged": N_("Advice acknowledged"),
    "Advice.Adopted": N_("Advice adopted into measure {measure}"),
    "Advice.Declined": N_("Advice declined: {reason}"),
    "Member.Invited": N_("Invited as {role}"),
    "Member.Joined": N_("{name} joined"),
    "Member.RoleChanged": N_("Role changed to {role}"),
    "Member.LanguageChosen": N_("Language chosen: {language}"),
    "Member.Removed": N_("Removed: {reason}"),
    "Member.PersonalDataErased": N_("Personal data erased: {reason}"),
    "Invitation.Issued": N_("Invite code issued"),
    "TelegramAccount.Linked": N_("Telegram account linked"),
    "TelegramAccount.Relinked": N_("Telegram account linked to another member"),
    "TelegramAccount.Retired": N_("Telegram account retired"),
    "ChainCheckpoint.Recorded": N_("Checkpoint of the hash chain at position {position}"),
    "Report.Issued": N_("Report issued: {title} (as of {as_of})"),
}
BARE = {
    "Member.Invited": N_("Invited"),
    "Member.Joined": N_("Joined"),
    "Member.RoleChanged": N_("Role changed"),
    "Member.LanguageChosen": N_("Language chosen"),
    "Member.Removed": N_("Removed"),
    "Member.PersonalDataErased": N_("Personal data erased"),
    "RegionSlug.Claimed": N_("Short name claimed"),
    "ChainCheckpoint.Recorded": N_("Checkpoint of the hash chain"),
    "Report.Issued": N_("Report issued"),
}
"""Where an event has no details in the read models (e.g. a member of the programme
office's, filed under no region), what it did without them."""
MUTUAL_TOPIC = N_("Topic added: {topic}, mutual")
NO_DUE_DATE = N_("Due date removed")
WITH_NOTE = N_("{description} – {note}")
LANGUAGES = {"de": N_("German"), "en": N_("English")}


def shorten(text: Any, limit: int = TEXT_LIMIT) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


MISSING = "‹?›"
"""Stands in for a detail an event lacks (e.g. a member of the office has no timeline)."""


class _Missing(dict[str, Any]):
    missed = False

    def __missing__(self, key: str) -> str:
        self.missed = True
        return MISSING


def describe(
    entry: HistoryEntry, names: Names, translate: Translate = str, locale: str = "en"
) -> str:
    """One line, in the translator's language, of what an event did."""
    details = entry.details
    template = DESCRIPTIONS.get(entry.event_type)
    if template is None:
        return entry.event_type
    labels: dict[str, Any] = {}

    def label(mapping: dict[Any, str], value: Any) -> str:
        for key, msgid in mapping.items():
            if str(key) == str(value):
                return translate(msgid)
        return str(value)

    for key, value in details.items():
        if value is None:
            continue
        if key == "topic":
            labels[key] = label(TOPICS, value)
        elif key == "status":
            labels[key] = label(MEASURE_STATUSES, value)
        elif key == "role":
            labels[key] = label(ROLES, value)
        elif key == "kind" and entry.event_type == "Exchange.Recorded":
            labels[key] = label(EXCHANGE_KINDS, value)
        elif key == "language":
            labels[key] = label(LANGUAGES, value)
        elif key in ("starts_on", "ends_on", "held_on", "due_on", "as_of"):
            labels[key] = format_day(date.fromisoformat(value), locale)
        elif key in ("summary", "question", "text", "title", "reason"):
            labels[key] = shorten(value)
        else:
            labels[key] = value
    if entry.event_type == "Twinning.TopicAdded":
        teacher = details.get("teaching_region_id")
        if teacher is None:
            template = MUTUAL_TOPIC
        else:
            labels["teacher"] = names.region(teacher)
    if (
        entry.event_type == "Measure.DueDateChanged"
        and "due_on" in details
        and not details["due_on"]
    ):
        template = NO_DUE_DATE
    if entry.event_type == "Advice.Adopted":
        labels["measure"] = names.measure(details.get("measure_id", ""))
    if entry.event_type == "Exchange.Recorded" and "kind" in labels:
        labels["kind"] = str(labels["kind"])[:1].upper() + str(labels["kind"])[1:]
    missing = _Missing(labels)
    text = translate(template).format_map(missing)
    if missing.missed and entry.event_type in BARE:
        text = translate(BARE[entry.event_type])
    note = details.get("note")
    if note:
        text = translate(WITH_NOTE).format(description=text, note=shorten(note))
    return text
