"""The bot's questions to the read models (async, aiosqlite, read-only).

Everything that depends on the day (overdue follow-ups, rates "now", the monthly
series) is computed here against the ``today`` the caller gives, never stored.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import aiosqlite

from projections.encoding import instant
from projections.models import (
    NO_MEASURES,
    AdviceCounts,
    AuditEntry,
    FollowUpItem,
    GoalSummary,
    GoalTarget,
    ImplementationRate,
    MeasureSummary,
    MonthlyRate,
    Page,
    ProgrammeOverview,
    RankedTwinning,
    RegionProgress,
    RegionRef,
    RegionStatusSummary,
    SideActivity,
    TimelineEntry,
    TopicDirection,
    TwinningStatusSummary,
)

BUSINESS_TIMEZONE = ZoneInfo("Europe/Berlin")
"""Days and months (today, month ends, a twinning's start) begin at midnight here."""

MAX_PER_PAGE = 50
STATUSES = ("proposed", "planned", "in_progress", "implemented", "discontinued")


class NotFound(LookupError):
    pass


@asynccontextmanager
async def connect(path: Path | str) -> AsyncIterator[aiosqlite.Connection]:
    """A read-only connection to the read models."""
    async with aiosqlite.connect(path) as db:
        db.row_factory = aiosqlite.Row
        await db.execute("PRAGMA query_only = ON")
        yield db


# --- small helpers ---------------------------------------------------------------------


def _id(value: UUID | str) -> str:
    return value.hex if isinstance(value, UUID) else UUID(value).hex


def _uuid(value: str | None) -> UUID | None:
    return None if value is None else UUID(value)


def _moment(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def _day(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


def start_of(day: date, tz: ZoneInfo = BUSINESS_TIMEZONE) -> str:
    """The first instant of a local day, in the read models' UTC text form."""
    return instant(datetime.combine(day, time(), tzinfo=tz))


def _page_bounds(page: int, per_page: int) -> tuple[int, int, int]:
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    page = max(1, page)
    return page, per_page, (page - 1) * per_page


async def _all(db: aiosqlite.Connection, sql: str, params: Iterable[Any] = ()) -> list[Any]:
    async with db.execute(sql, tuple(params)) as cursor:
        return list(await cursor.fetchall())


async def _one(db: aiosqlite.Connection, sql: str, params: Iterable[Any] = ()) -> Any:
    async with db.execute(sql, tuple(params)) as cursor:
        return await cursor.fetchone()


async def region_ref(db: aiosqlite.Connection, region_id: str) -> RegionRef:
    row = await _one(db, "SELECT name, key, slug FROM regions WHERE region_id = ?", (region_id,))
    if row is None:  # the directory may lag a moment behind the other read models
        return RegionRef(UUID(region_id), region_id, None, None)
    return RegionRef(UUID(region_id), row["name"], row["key"], row["slug"])


async def rate_before(db: aiosqlite.Connection, region_id: str, moment: str) -> ImplementationRate:
    """The region's rate with every event recorded before ``moment``."""
    row = await _figures_before(db, region_id, moment)
    if row is None:
        return NO_MEASURES
    counted = sum(row[status] for status in STATUSES) - row["discontinued"]
    return ImplementationRate(row["implemented"], counted, row["progress_points"])


async def _figures_before(db: aiosqlite.Connection, region_id: str, moment: str) -> Any:
    return await _one(
        db,
        "SELECT * FROM region_rate_history WHERE region_id = ? AND at < ? "
        "ORDER BY position DESC LIMIT 1",
        (region_id, moment),
    )


def learning_sides(first: str, second: str, topics: Iterable[tuple[str, str | None]]) -> list[str]:
    """The side taught on more topics learns; equal counts (e.g. all mutual): both learn."""
    taught = {first: 0, second: 0}
    for _topic, teacher in topics:
        if teacher == first:
            taught[second] += 1
        elif teacher == second:
            taught[first] += 1
    if taught[first] == taught[second]:
        return [first, second]
    return [first] if taught[first] > taught[second] else [second]


# --- twinning status -------------------------------------------------------------------


async def twinning_status(
    db: aiosqlite.Connection, twinning_id: UUID | str, today: date
) -> TwinningStatusSummary:
    tid = _id(twinning_id)
    row = await _one(db, "SELECT * FROM twinnings WHERE twinning_id = ?", (tid,))
    if row is None:
        raise NotFound(f"twinning {tid}")
    first, second = row["first_region_id"], row["second_region_id"]
    topic_rows = await _all(
        db,
        "SELECT topic, teaching_region_id FROM twinning_topics WHERE twinning_id = ? "
        "ORDER BY topic",
        (tid,),
    )
    topics = [(r["topic"], r["teaching_region_id"]) for r in topic_rows]
    today_text = today.isoformat()
    exchanges = await _one(
        db,
        "SELECT count(*) FILTER (WHERE held_on <= ?) AS held, "
        "count(*) FILTER (WHERE held_on > ?) AS planned, "
        "max(held_on) FILTER (WHERE held_on <= ?) AS last_held "
        "FROM exchanges WHERE twinning_id = ?",
        (today_text, today_text, today_text, tid),
    )
    open_rows = await _all(
        db,
        "SELECT * FROM follow_ups WHERE twinning_id = ? AND done = 0 "
        "ORDER BY due_on, exchange_id, number",
        (tid,),
    )
    open_follow_ups = tuple(
        FollowUpItem(
            exchange_id=UUID(r["exchange_id"]),
            number=r["number"],
            text=r["text"],
            owner_region_id=_uuid(r["owner_region_id"]),
            owner_member_id=_uuid(r["owner_member_id"]),
            due_on=date.fromisoformat(r["due_on"]),
            overdue=r["due_on"] < today_text,
        )
        for r in open_rows
    )
    return TwinningStatusSummary(
        twinning_id=UUID(tid),
        programme_id=UUID(row["programme_id"]),
        first=await region_ref(db, first),
        second=await region_ref(db, second),
        starts_on=date.fromisoformat(row["starts_on"]),
        ends_on=date.fromisoformat(row["ends_on"]),
        status=row["status"],
        topics=tuple(TopicDirection(topic, _uuid(teacher)) for topic, teacher in topics),
        learning_region_ids=tuple(UUID(side) for side in learning_sides(first, second, topics)),
        exchanges_held=exchanges["held"],
        exchanges_planned=exchanges["planned"],
        last_exchange_on=_day(exchanges["last_held"]),
        advice=await _advice_counts(db, tid),
        follow_ups_open=len(open_follow_ups),
        follow_ups_overdue=sum(item.overdue for item in open_follow_ups),
        open_follow_ups=open_follow_ups,
        activity=(await _activity(db, tid, first), await _activity(db, tid, second)),
    )


async def _advice_counts(db: aiosqlite.Connection, tid: str) -> AdviceCounts:
    requests = await _one(
        db,
        "SELECT count(*) AS requested, count(*) FILTER (WHERE answers = 0) AS unanswered "
        "FROM advice_requests WHERE twinning_id = ?",
        (tid,),
    )
    by_status = {
        r["status"]: r["n"]
        for r in await _all(
            db,
            "SELECT status, count(*) AS n FROM advice WHERE twinning_id = ? GROUP BY status",
            (tid,),
        )
    }
    return AdviceCounts(
        requested=requests["requested"],
        requests_unanswered=requests["unanswered"],
        given=sum(by_status.values()),
        acknowledged=by_status.get("acknowledged", 0),
        adopted=by_status.get("adopted", 0),
        declined=by_status.get("declined", 0),
        open=by_status.get("given", 0) + by_status.get("acknowledged", 0),
    )


async def _activity(db: aiosqlite.Connection, tid: str, region_id: str) -> SideActivity:
    row = await _one(
        db,
        "SELECT * FROM twinning_activity WHERE twinning_id = ? AND region_id = ?",
        (tid, region_id),
    )
    region = await region_ref(db, region_id)
    if row is None:
        return SideActivity(region, None, None, None)
    return SideActivity(region, _moment(row["last_at"]), row["last_event"], row["last_actor"])


# --- region status ---------------------------------------------------------------------


async def region_status(
    db: aiosqlite.Connection,
    region_id: UUID | str,
    today: date,
    *,
    since: date | None = None,
) -> RegionStatusSummary:
    """Figures as of the end of ``today``; the monthly series runs from ``since``
    (default: the start of the region's first twinning)."""
    rid = _id(region_id)
    tomorrow = start_of(today + timedelta(days=1))
    figures = await _figures_before(db, rid, tomorrow)
    by_status = {status: (figures[status] if figures else 0) for status in STATUSES}
    if since is None:
        row = await _one(
            db,
            "SELECT min(starts_on) AS start FROM twinnings "
            "WHERE first_region_id = ? OR second_region_id = ?",
            (rid, rid),
        )
        since = _day(row["start"])
    monthly: tuple[MonthlyRate, ...] = ()
    rate_at_start = None
    if since is not None and since <= today:
        rate_at_start = await rate_before(db, rid, start_of(since))
        monthly = tuple(
            [
                MonthlyRate(f"{as_of:%Y-%m}", as_of, await rate_before(db, rid, end))
                for as_of, end in _month_ends(since, today)
            ]
        )
    return RegionStatusSummary(
        region=await region_ref(db, rid),
        today=today,
        measures_by_status=by_status,
        rate=await rate_before(db, rid, tomorrow),
        series_start=since,
        rate_at_start=rate_at_start,
        monthly=monthly,
        goals=await _goals(db, rid),
    )


def _month_ends(since: date, today: date) -> list[tuple[date, str]]:
    """(as_of, end) for every month from since's to today's: its last day, or today."""
    ends = []
    month = since.replace(day=1)
    while month <= today:
        next_month = (month + timedelta(days=32)).replace(day=1)
        as_of = min(next_month - timedelta(days=1), today)
        ends.append((as_of, start_of(as_of + timedelta(days=1))))
        month = next_month
    return ends


async def _goals(db: aiosqlite.Connection, rid: str) -> tuple[GoalSummary, ...]:
    goals = []
    for g in await _all(
        db,
        "SELECT * FROM goals WHERE region_id = ? ORDER BY topic, metric, set_at, goal_id",
        (rid,),
    ):
        targets = await _all(
            db, "SELECT * FROM goal_targets WHERE goal_id = ? ORDER BY revision", (g["goal_id"],)
        )
        goals.append(
            GoalSummary(
                goal_id=UUID(g["goal_id"]),
                topic=g["topic"],
                metric=g["metric"],
                unit=g["unit"],
                target_value=Decimal(g["target_value"]),
                target_year=g["target_year"],
                status=g["status"],
                revision_count=g["revision_count"],
                targets=tuple(
                    GoalTarget(
                        t["revision"],
                        Decimal(t["target_value"]),
                        t["target_year"],
                        t["reason"],
                        _moment(t["recorded_at"]),
                    )
                    for t in targets
                ),
            )
        )
    return tuple(goals)


# --- programme overview ----------------------------------------------------------------


async def programme_overview(
    db: aiosqlite.Connection, programme: UUID | str, today: date
) -> ProgrammeOverview:
    """Every twinning of a programme (by id or code), ranked by the learning side's change
    of the implementation rate since the twinning started (mutual pairs: the mean)."""
    if isinstance(programme, UUID) or re.fullmatch(r"[0-9a-fA-F-]{32,36}", programme):
        row = await _one(db, "SELECT * FROM programmes WHERE programme_id = ?", (_id(programme),))
    else:
        row = await _one(db, "SELECT * FROM programmes WHERE code = ?", (programme,))
    if row is None:
        raise NotFound(f"programme {programme}")
    tomorrow = start_of(today + timedelta(days=1))
    unranked = []
    for t in await _all(
        db, "SELECT * FROM twinnings WHERE programme_id = ?", (row["programme_id"],)
    ):
        topics = [
            (r["topic"], r["teaching_region_id"])
            for r in await _all(
                db, "SELECT * FROM twinning_topics WHERE twinning_id = ?", (t["twinning_id"],)
            )
        ]
        started = start_of(date.fromisoformat(t["starts_on"]))
        learning = tuple(
            [
                RegionProgress(
                    await region_ref(db, side),
                    await rate_before(db, side, started),
                    await rate_before(db, side, tomorrow),
                )
                for side in learning_sides(t["first_region_id"], t["second_region_id"], topics)
            ]
        )
        changes = [p.change for p in learning if p.change is not None]
        unranked.append(
            (
                t,
                learning,
                sum(changes) / len(changes) if changes else None,
                await region_ref(db, t["first_region_id"]),
                await region_ref(db, t["second_region_id"]),
            )
        )
    unranked.sort(key=lambda x: (x[2] is None, -(x[2] or 0.0), x[3].name, x[4].name, x[0][0]))
    ranked: list[RankedTwinning] = []
    for index, (t, learning, change, first, second) in enumerate(unranked):
        rank = ranked[-1].rank if ranked and ranked[-1].change == change else index + 1
        ranked.append(
            RankedTwinning(
                rank=rank,
                twinning_id=UUID(t["twinning_id"]),
                first=first,
                second=second,
                status=t["status"],
                starts_on=date.fromisoformat(t["starts_on"]),
                mutual=len(learning) == 2,
                learning=learning,
                change=change,
            )
        )
    return ProgrammeOverview(
        UUID(row["programme_id"]), row["code"], row["name"], today, tuple(ranked)
    )


# --- measure catalogue -----------------------------------------------------------------


def fts_query(text: str) -> str | None:
    """User text as an FTS5 query: every word must occur (as a word prefix)."""
    words = re.findall(r"\w+", text)
    return " ".join(f'"{word}"*' for word in words) or None


async def measures(
    db: aiosqlite.Connection,
    region: UUID | str | None = None,
    topic: str | None = None,
    status: str | None = None,
    responsible: str | None = None,
    text: str | None = None,
    page: int = 1,
    per_page: int = 10,
) -> Page[MeasureSummary]:
    """Filter by region (id, key or slug), topic, status, responsible (any case) and words
    in title or description; best text matches first, otherwise by code."""
    page, per_page, offset = _page_bounds(page, per_page)
    where, params, order = ["1"], [], "m.code, m.measure_id"
    if region is not None:
        if isinstance(region, UUID):
            where.append("m.region_id = ?")
            params.append(region.hex)
        else:
            where.append(
                "m.region_id IN (SELECT region_id FROM regions "
                "WHERE region_id = ? OR key = ? OR slug = ?)"
            )
            params += [region.replace("-", "").lower(), region, region.lower()]
    for column, value in (("topic", topic), ("status", status)):
        if value is not None:
            where.append(f"m.{column} = ?")
            params.append(str(value))
    if responsible is not None:
        where.append("m.responsible = ? COLLATE NOCASE")
        params.append(responsible.strip())
    source = "catalogue_measures m"
    query = fts_query(text) if text else None
    if query is not None:
        source += " JOIN catalogue_search s ON s.rowid = m.seq"
        where.append("catalogue_search MATCH ?")
        params.append(query)
        order = "bm25(catalogue_search), m.code, m.measure_id"
    condition = " AND ".join(where)
    total = (await _one(db, f"SELECT count(*) FROM {source} WHERE {condition}", params))[0]
    rows = await _all(
        db,
        f"SELECT m.* FROM {source} WHERE {condition} ORDER BY {order} LIMIT ? OFFSET ?",
        [*params, per_page, offset],
    )
    items = tuple(
        [
            MeasureSummary(
                measure_id=UUID(r["measure_id"]),
                region=await region_ref(db, r["region_id"]),
                code=r["code"],
                title=r["title"],
                topic=r["topic"],
                responsible=r["responsible"],
                status=r["status"],
                progress=r["progress"],
                due_on=_day(r["due_on"]),
                expected_co2_t_per_year=(
                    None
                    if r["expected_co2_t_per_year"] is None
                    else Decimal(r["expected_co2_t_per_year"])
                ),
                description=r["description"],
                version=r["version"],
                changed_at=_moment(r["changed_at"]),
            )
            for r in rows
        ]
    )
    return Page(items, page, per_page, total)


# --- timelines and audit -----------------------------------------------------------------


async def timeline(
    db: aiosqlite.Connection,
    *,
    twinning_id: UUID | str | None = None,
    region_id: UUID | str | None = None,
    measure_id: UUID | str | None = None,
    page: int = 1,
    per_page: int = 10,
) -> Page[TimelineEntry]:
    """What happened to one twinning, region or measure, newest first, with who and when."""
    subjects = [
        (kind, value)
        for kind, value in (
            ("twinning", twinning_id),
            ("region", region_id),
            ("measure", measure_id),
        )
        if value is not None
    ]
    if len(subjects) != 1:
        raise ValueError("name exactly one of twinning_id, region_id, measure_id")
    kind, value = subjects[0]
    page, per_page, offset = _page_bounds(page, per_page)
    params = (kind, _id(value))
    total = (
        await _one(
            db,
            "SELECT count(*) FROM timeline_index WHERE subject_kind = ? AND subject_id = ?",
            params,
        )
    )[0]
    rows = await _all(
        db,
        "SELECT e.*, m.name AS actor_name FROM timeline_index i "
        "JOIN timeline_entries e ON e.position = i.position "
        "LEFT JOIN members m ON m.member_id = e.actor "
        "WHERE i.subject_kind = ? AND i.subject_id = ? "
        "ORDER BY i.position DESC LIMIT ? OFFSET ?",
        (*params, per_page, offset),
    )
    items = tuple(
        TimelineEntry(
            position=r["position"],
            at=_moment(r["at"]),
            actor=r["actor"],
            actor_name=r["actor_name"],
            event_type=r["event_type"],
            aggregate_id=UUID(r["aggregate_id"]),
            version=r["version"],
            details=json.loads(r["details"]),
        )
        for r in rows
    )
    return Page(items, page, per_page, total)


async def audit_events(
    db: aiosqlite.Connection,
    *,
    actor: UUID | str | None = None,
    aggregate_id: UUID | str | None = None,
    on: date | None = None,
    page: int = 1,
    per_page: int = 10,
) -> Page[AuditEntry]:
    """Events by actor (member id or ``system:<job>``), aggregate and local day, newest first."""
    page, per_page, offset = _page_bounds(page, per_page)
    where, params = ["1"], []
    if actor is not None:
        where.append("actor = ?")
        text = actor.hex if isinstance(actor, UUID) else actor
        params.append(text if text.startswith("system:") else _id(text))
    if aggregate_id is not None:
        where.append("aggregate_id = ?")
        params.append(_id(aggregate_id))
    if on is not None:
        where.append("recorded_at >= ? AND recorded_at < ?")
        params += [start_of(on), start_of(on + timedelta(days=1))]
    condition = " AND ".join(where)
    total = (await _one(db, f"SELECT count(*) FROM audit_events WHERE {condition}", params))[0]
    rows = await _all(
        db,
        f"SELECT * FROM audit_events WHERE {condition} ORDER BY position DESC LIMIT ? OFFSET ?",
        [*params, per_page, offset],
    )
    items = tuple(
        AuditEntry(
            position=r["position"],
            recorded_at=_moment(r["recorded_at"]),
            actor=r["actor"],
            aggregate_type=r["aggregate_type"],
            aggregate_id=UUID(r["aggregate_id"]),
            version=r["version"],
            event_type=r["event_type"],
            command_id=r["command_id"],
        )
        for r in rows
    )
    return Page(items, page, per_page, total)
