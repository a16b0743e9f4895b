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
    """The read models hold no such item."""


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


# --- bot: measures/goals (lookups for the bot's status, measure, goal, timeline screens) ---

from projections.models import (  # noqa: E402  (kept with the bot's queries)
    AdviceNote,
    MeasureDetail,
    ProgrammeRef,
    RegionGoal,
    TwinningRef,
)

TWINNING_STATUS_ORDER = {"running": 0, "formed": 1}


async def programmes(db: aiosqlite.Connection) -> tuple[ProgrammeRef, ...]:
    """Every programme, oldest first."""
    rows = await _all(db, "SELECT * FROM programmes ORDER BY starts_on, code")
    return tuple(ProgrammeRef(UUID(r["programme_id"]), r["code"], r["name"]) for r in rows)


async def find_region(db: aiosqlite.Connection, ref: UUID | str) -> RegionRef | None:
    """A region by id, official key or slug (any case); None if there is none."""
    if isinstance(ref, UUID):
        row = await _one(db, "SELECT * FROM regions WHERE region_id = ?", (ref.hex,))
    else:
        text_ref = ref.strip()
        row = await _one(
            db,
            "SELECT * FROM regions WHERE region_id = ? OR key = ? OR slug = ?",
            (text_ref.replace("-", "").lower(), text_ref, text_ref.lower()),
        )
    if row is None:
        return None
    return RegionRef(UUID(row["region_id"]), row["name"], row["key"], row["slug"])


async def _twinning_ref(db: aiosqlite.Connection, row: Any) -> TwinningRef:
    return TwinningRef(
        twinning_id=UUID(row["twinning_id"]),
        programme_id=UUID(row["programme_id"]),
        first=await region_ref(db, row["first_region_id"]),
        second=await region_ref(db, row["second_region_id"]),
        status=row["status"],
        starts_on=date.fromisoformat(row["starts_on"]),
        ends_on=date.fromisoformat(row["ends_on"]),
    )


async def twinnings(
    db: aiosqlite.Connection,
    *,
    region_id: UUID | str | None = None,
    programme_id: UUID | str | None = None,
) -> tuple[TwinningRef, ...]:
    """Twinnings (of a region, of a programme, or all): running first, then formed, then
    the closed ones; newest start first; then by the partners' names."""
    where, params = ["1"], []
    if region_id is not None:
        where.append("(first_region_id = ? OR second_region_id = ?)")
        params += [_id(region_id), _id(region_id)]
    if programme_id is not None:
        where.append("programme_id = ?")
        params.append(_id(programme_id))
    rows = await _all(db, f"SELECT * FROM twinnings WHERE {' AND '.join(where)}", params)
    refs = [await _twinning_ref(db, row) for row in rows]
    refs.sort(
        key=lambda t: (
            TWINNING_STATUS_ORDER.get(t.status, 2),
            -t.starts_on.toordinal(),
            t.first.name,
            t.second.name,
            t.twinning_id.hex,
        )
    )
    return tuple(refs)


async def twinning_ref(db: aiosqlite.Connection, twinning_id: UUID | str) -> TwinningRef | None:
    row = await _one(db, "SELECT * FROM twinnings WHERE twinning_id = ?", (_id(twinning_id),))
    return None if row is None else await _twinning_ref(db, row)


async def twinning_progress(
    db: aiosqlite.Connection, twinning_id: UUID | str, today: date
) -> tuple[RegionProgress, ...]:
    """The learning region's implementation rate at the twinning's start and as of the end
    of ``today`` (both partners of a mutual pair), as in the programme overview."""
    tid = _id(twinning_id)
    row = await _one(db, "SELECT * FROM twinnings WHERE twinning_id = ?", (tid,))
    if row is None:
        raise NotFound(f"twinning {tid}")
    topics = [
        (r["topic"], r["teaching_region_id"])
        for r in await _all(db, "SELECT * FROM twinning_topics WHERE twinning_id = ?", (tid,))
    ]
    started = start_of(date.fromisoformat(row["starts_on"]))
    tomorrow = start_of(today + timedelta(days=1))
    return tuple(
        [
            RegionProgress(
                await region_ref(db, side),
                await rate_before(db, side, started),
                await rate_before(db, side, tomorrow),
            )
            for side in learning_sides(row["first_region_id"], row["second_region_id"], topics)
        ]
    )


async def _measure_summary(db: aiosqlite.Connection, r: Any) -> MeasureSummary:
    return MeasureSummary(
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
            None if r["expected_co2_t_per_year"] is None else Decimal(r["expected_co2_t_per_year"])
        ),
        description=r["description"],
        version=r["version"],
        changed_at=_moment(r["changed_at"]),
    )


async def measures_by_code(db: aiosqlite.Connection, code: str) -> tuple[MeasureSummary, ...]:
    """Every region's measure with this code (codes are unique per region only)."""
    rows = await _all(
        db,
        "SELECT * FROM catalogue_measures WHERE code = ? ORDER BY region_id",
        (code.strip().upper(),),
    )
    return tuple([await _measure_summary(db, r) for r in rows])


async def measure_detail(db: aiosqlite.Connection, measure_id: UUID | str) -> MeasureDetail | None:
    """One measure with the advice it came from and the advice given on it."""
    mid = _id(measure_id)
    row = await _one(db, "SELECT * FROM catalogue_measures WHERE measure_id = ?", (mid,))
    if row is None:
        return None
    advice_rows = await _all(
        db,
        "SELECT a.*, e.details AS given FROM advice a "
        "LEFT JOIN timeline_entries e ON e.aggregate_id = a.advice_id AND e.version = 1 "
        "WHERE a.advice_id = ? OR a.adopted_measure_id = ? OR a.measure_id = ? "
        "ORDER BY a.given_at, a.advice_id",
        (row["advice_id"], mid, mid),
    )
    notes = []
    for a in advice_rows:
        given = json.loads(a["given"]) if a["given"] else {}
        notes.append(
            AdviceNote(
                advice_id=UUID(a["advice_id"]),
                from_region=await region_ref(db, a["from_region_id"]),
                topic=a["topic"],
                text=str(given.get("text", "")),
                given_at=_moment(a["given_at"]),
                status=a["status"],
                origin=a["advice_id"] == row["advice_id"] or a["adopted_measure_id"] == mid,
            )
        )
    return MeasureDetail(await _measure_summary(db, row), tuple(notes))


async def measure_codes(
    db: aiosqlite.Connection, measure_ids: Iterable[UUID | str]
) -> dict[UUID, str]:
    """The codes of measures by id (those the catalogue knows)."""
    wanted = sorted({_id(measure_id) for measure_id in measure_ids})
    if not wanted:
        return {}
    marks = ", ".join("?" for _ in wanted)
    rows = await _all(
        db,
        f"SELECT measure_id, code FROM catalogue_measures WHERE measure_id IN ({marks})",
        wanted,
    )
    return {UUID(r["measure_id"]): r["code"] for r in rows}


async def region_goals(db: aiosqlite.Connection, region_id: UUID | str) -> tuple[GoalSummary, ...]:
    """A region's goals by topic and metric, each with every target it had."""
    return await _goals(db, _id(region_id))


async def goal_of(db: aiosqlite.Connection, goal_id: UUID | str) -> RegionGoal | None:
    row = await _one(db, "SELECT region_id FROM goals WHERE goal_id = ?", (_id(goal_id),))
    if row is None:
        return None
    goals = await _goals(db, row["region_id"])
    goal = next(goal for goal in goals if goal.goal_id.hex == _id(goal_id))
    return RegionGoal(await region_ref(db, row["region_id"]), goal)


async def member_names(db: aiosqlite.Connection, actors: Iterable[str | UUID]) -> dict[str, str]:
    """Names of members by id (hex); system actors and unknown ids are left out."""
    wanted = sorted(
        {
            actor.hex if isinstance(actor, UUID) else actor
            for actor in actors
            if isinstance(actor, UUID) or re.fullmatch(r"[0-9a-f]{32}", actor)
        }
    )
    if not wanted:
        return {}
    marks = ", ".join("?" for _ in wanted)
    rows = await _all(
        db,
        f"SELECT member_id, name FROM members WHERE name IS NOT NULL AND member_id IN ({marks})",
        wanted,
    )
    return {r["member_id"]: r["name"] for r in rows}


# --- bot: exchanges/advice/members (helper B: twinnings of a region, follow-ups, advice,
# questions, members) ---------------------------------------------------------------------

from projections.models import (  # noqa: E402  (kept with the bot's queries)
    AdviceItem,
    FollowUpList,
    ListedFollowUp,
    MeasureRef,
    MemberItem,
    QuestionItem,
    RegionTwinning,
)

FOLLOW_UP_CODE_MIN = 4
"""Hex digits of the exchange id in a follow-up's code (``3fa2-1``); more where needed."""
MEMBER_HANDLE_MIN = 6
"""Hex digits of the member id in a member's handle (``3fa2c1``); more where needed."""


_CREATED = "LEFT JOIN audit_events c ON c.version = 1 AND c.aggregate_id = "
"""Followed by an id column: where the aggregate's creation stands in the log
(``c.position``), so that equal recording times still sort in log order."""


async def _unique_prefix(
    db: aiosqlite.Connection, table: str, column: str, value: str, minimum: int
) -> str:
    """The shortest prefix of ``value`` (at least ``minimum`` characters) that no other row's
    ``column`` shares: stable until another id with the same prefix appears, never ambiguous
    (lookups by prefix refuse a prefix that fits several rows)."""
    for length in range(minimum, len(value)):
        prefix = value[:length]
        row = await _one(
            db,
            f"SELECT count(*) FROM {table} WHERE substr({column}, 1, ?) = ?",
            (length, prefix),
        )
        if row[0] <= 1:
            return prefix
    return value


async def _version(db: aiosqlite.Connection, aggregate_id: str) -> tuple[int, Any]:
    """The aggregate's current version and its last event (from the audit index)."""
    row = await _one(
        db,
        "SELECT a.version, a.event_type, a.actor, a.recorded_at, m.name AS actor_name "
        "FROM audit_events a LEFT JOIN members m ON m.member_id = a.actor "
        "WHERE a.aggregate_id = ? ORDER BY a.version DESC LIMIT 1",
        (aggregate_id,),
    )
    return (0 if row is None else row["version"]), row


async def twinnings_of_region(
    db: aiosqlite.Connection, region_id: UUID | None, *, open_only: bool = False
) -> tuple[RegionTwinning, ...]:
    """The twinnings a region is a partner of (``None``: every twinning), by start and names."""
    where, params = ["1"], []
    if region_id is not None:
        where.append("(first_region_id = ? OR second_region_id = ?)")
        params += [region_id.hex, region_id.hex]
    if open_only:
        where.append("status IN ('formed', 'running')")
    rows = await _all(
        db,
        f"SELECT * FROM twinnings WHERE {' AND '.join(where)} ORDER BY starts_on, twinning_id",
        params,
    )
    result = []
    for row in rows:
        topics = await _all(
            db,
            "SELECT topic, teaching_region_id FROM twinning_topics WHERE twinning_id = ? "
            "ORDER BY topic",
            (row["twinning_id"],),
        )
        result.append(
            RegionTwinning(
                twinning_id=UUID(row["twinning_id"]),
                first=await region_ref(db, row["first_region_id"]),
                second=await region_ref(db, row["second_region_id"]),
                status=row["status"],
                starts_on=date.fromisoformat(row["starts_on"]),
                ends_on=date.fromisoformat(row["ends_on"]),
                topics=tuple(
                    TopicDirection(t["topic"], _uuid(t["teaching_region_id"])) for t in topics
                ),
            )
        )
    return tuple(sorted(result, key=lambda t: (t.starts_on, t.first.name, t.second.name)))


async def exchange_code(db: aiosqlite.Connection, exchange_id: UUID | str) -> str:
    """The short code of an exchange: the first hex digits of its id that are unique."""
    return await _unique_prefix(
        db, "exchanges", "exchange_id", _id(exchange_id), FOLLOW_UP_CODE_MIN
    )


def _twinning_filter(twinning_ids: Iterable[UUID] | None, column: str) -> tuple[str, list[str]]:
    if twinning_ids is None:
        return "1", []
    ids = [tid.hex for tid in twinning_ids]
    if not ids:
        return "0", []
    return f"{column} IN ({', '.join('?' for _ in ids)})", ids


async def _follow_up(db: aiosqlite.Connection, r: Any, today: date) -> ListedFollowUp:
    owner_region = (
        None if r["owner_region_id"] is None else await region_ref(db, r["owner_region_id"])
    )
    return ListedFollowUp(
        code=f"{await exchange_code(db, r['exchange_id'])}-{r['number']}",
        exchange_id=UUID(r["exchange_id"]),
        number=r["number"],
        twinning_id=UUID(r["twinning_id"]),
        text=r["text"],
        owner_region=owner_region,
        owner_member_name=r["owner_name"],
        due_on=date.fromisoformat(r["due_on"]),
        done=bool(r["done"]),
        overdue=not r["done"] and r["due_on"] < today.isoformat(),
        exchange_kind=r["kind"],
        exchange_held_on=date.fromisoformat(r["held_on"]),
    )


_FOLLOW_UP_SELECT = (
    "SELECT f.*, e.kind, e.held_on, m.name AS owner_name FROM follow_ups f "
    "JOIN exchanges e ON e.exchange_id = f.exchange_id "
    "LEFT JOIN members m ON m.member_id = f.owner_member_id "
)


async def open_follow_ups(
    db: aiosqlite.Connection,
    twinning_ids: Iterable[UUID] | None,
    today: date,
    page: int = 1,
    per_page: int = 10,
) -> FollowUpList:
    """Open follow-ups of some twinnings (``None``: all), overdue first: by due date, then
    by exchange and number."""
    page, per_page, offset = _page_bounds(page, per_page)
    condition, params = _twinning_filter(twinning_ids, "f.twinning_id")
    counts = await _one(
        db,
        "SELECT count(*) AS open, count(*) FILTER (WHERE f.due_on < ?) AS overdue "
        f"FROM follow_ups f WHERE f.done = 0 AND {condition}",
        [today.isoformat(), *params],
    )
    rows = await _all(
        db,
        f"{_FOLLOW_UP_SELECT} {_CREATED}f.exchange_id "
        f"WHERE f.done = 0 AND {condition} "
        "ORDER BY f.due_on, e.held_on, c.position, f.exchange_id, f.number LIMIT ? OFFSET ?",
        [*params, per_page, offset],
    )
    items = tuple([await _follow_up(db, r, today) for r in rows])
    return FollowUpList(Page(items, page, per_page, counts["open"]), counts["overdue"])


async def follow_ups_by_code(
    db: aiosqlite.Connection, code: str, twinning_ids: Iterable[UUID] | None, today: date
) -> tuple[ListedFollowUp, ...]:
    """The follow-ups a code such as ``3fa2-1`` (a prefix of the exchange id, the number)
    names within some twinnings (``None``: all). More than one: the code is ambiguous."""
    match = re.fullmatch(r"([0-9a-f]{4,32})[-/](\d{1,6})", code.strip().lower())
    if match is None:
        return ()
    prefix, number = match.group(1), int(match.group(2))
    condition, params = _twinning_filter(twinning_ids, "f.twinning_id")
    rows = await _all(
        db,
        f"{_FOLLOW_UP_SELECT} WHERE substr(f.exchange_id, 1, ?) = ? AND f.number = ? "
        f"AND {condition} ORDER BY f.exchange_id",
        [len(prefix), prefix, number, *params],
    )
    return tuple([await _follow_up(db, r, today) for r in rows])


async def _measure_ref(db: aiosqlite.Connection, measure_id: str | None) -> MeasureRef | None:
    if measure_id is None:
        return None
    row = await _one(db, "SELECT * FROM catalogue_measures WHERE measure_id = ?", (measure_id,))
    if row is None:
        return MeasureRef(UUID(measure_id), "?", "", "", "", 0)
    return _measure_from(row)


def _measure_from(row: Any) -> MeasureRef:
    return MeasureRef(
        UUID(row["measure_id"]),
        row["code"],
        row["title"],
        row["topic"],
        row["status"],
        row["version"],
    )


async def region_measure_by_code(
    db: aiosqlite.Connection, region_id: UUID, code: str
) -> MeasureRef | None:
    row = await _one(
        db,
        "SELECT * FROM catalogue_measures WHERE region_id = ? AND code = ?",
        (region_id.hex, code.strip().upper()),
    )
    return None if row is None else _measure_from(row)


async def region_measure_refs(
    db: aiosqlite.Connection, region_id: UUID, page: int = 1, per_page: int = 10
) -> Page[MeasureRef]:
    """A region's measures by code (short references, e.g. to choose one)."""
    page, per_page, offset = _page_bounds(page, per_page)
    total = (
        await _one(
            db, "SELECT count(*) FROM catalogue_measures WHERE region_id = ?", (region_id.hex,)
        )
    )[0]
    rows = await _all(
        db,
        "SELECT * FROM catalogue_measures WHERE region_id = ? ORDER BY code, measure_id "
        "LIMIT ? OFFSET ?",
        (region_id.hex, per_page, offset),
    )
    return Page(tuple(_measure_from(r) for r in rows), page, per_page, total)


async def _advice_item(db: aiosqlite.Connection, r: Any) -> AdviceItem:
    given = await _one(
        db,
        "SELECT e.details, e.actor, m.name FROM timeline_entries e "
        "LEFT JOIN members m ON m.member_id = e.actor "
        "WHERE e.aggregate_id = ? AND e.event_type = 'Advice.Given'",
        (r["advice_id"],),
    )
    version, last = await _version(db, r["advice_id"])
    question = None
    if r["request_id"] is not None:
        row = await _one(
            db, "SELECT question FROM advice_requests WHERE request_id = ?", (r["request_id"],)
        )
        question = None if row is None else row["question"]
    return AdviceItem(
        advice_id=UUID(r["advice_id"]),
        twinning_id=UUID(r["twinning_id"]),
        from_region=await region_ref(db, r["from_region_id"]),
        to_region=await region_ref(db, r["to_region_id"]),
        topic=r["topic"],
        text="" if given is None else json.loads(given["details"]).get("text", ""),
        measure=await _measure_ref(db, r["measure_id"]),
        request_id=_uuid(r["request_id"]),
        question=question,
        status=r["status"],
        adopted_measure=await _measure_ref(db, r["adopted_measure_id"]),
        decline_reason=r["decline_reason"],
        given_at=_moment(r["given_at"]),
        given_by=None if given is None else given["name"],
        version=version,
        last_event=None if last is None else last["event_type"],
        last_actor_name=None if last is None else last["actor_name"],
        last_at=None if last is None else _moment(last["recorded_at"]),
    )


async def advice_item(db: aiosqlite.Connection, advice_id: UUID | str) -> AdviceItem | None:
    """One piece of advice with its text, the question it answers, where it stands, its
    version (for ``expected_version``) and who acted last."""
    row = await _one(db, "SELECT * FROM advice WHERE advice_id = ?", (_id(advice_id),))
    return None if row is None else await _advice_item(db, row)


async def open_advice_for_region(
    db: aiosqlite.Connection, region_id: UUID | None, page: int = 1, per_page: int = 5
) -> Page[AdviceItem]:
    """Advice given to a region (``None``: to any) and not yet adopted or declined, oldest
    first."""
    page, per_page, offset = _page_bounds(page, per_page)
    where, params = "status IN ('given', 'acknowledged')", []
    if region_id is not None:
        where += " AND to_region_id = ?"
        params.append(region_id.hex)
    total = (await _one(db, f"SELECT count(*) FROM advice WHERE {where}", params))[0]
    rows = await _all(
        db,
        f"SELECT advice.* FROM advice {_CREATED}advice.advice_id "
        f"WHERE {where} ORDER BY given_at, c.position, advice_id LIMIT ? OFFSET ?",
        [*params, per_page, offset],
    )
    return Page(tuple([await _advice_item(db, r) for r in rows]), page, per_page, total)


async def _question(db: aiosqlite.Connection, r: Any) -> QuestionItem:
    asked = await _one(
        db,
        "SELECT m.name FROM audit_events a LEFT JOIN members m ON m.member_id = a.actor "
        "WHERE a.aggregate_id = ? AND a.version = 1",
        (r["request_id"],),
    )
    return QuestionItem(
        request_id=UUID(r["request_id"]),
        twinning_id=UUID(r["twinning_id"]),
        from_region=await region_ref(db, r["from_region_id"]),
        to_region=await region_ref(db, r["to_region_id"]),
        topic=r["topic"],
        question=r["question"],
        measure=await _measure_ref(db, r["measure_id"]),
        requested_at=_moment(r["requested_at"]),
        asked_by=None if asked is None else asked["name"],
        answers=r["answers"],
    )


async def advice_request_item(
    db: aiosqlite.Connection, request_id: UUID | str
) -> QuestionItem | None:
    row = await _one(db, "SELECT * FROM advice_requests WHERE request_id = ?", (_id(request_id),))
    return None if row is None else await _question(db, row)


async def questions_for_region(
    db: aiosqlite.Connection,
    region_id: UUID,
    twinning_id: UUID | None = None,
    *,
    unanswered_only: bool = True,
    page: int = 1,
    per_page: int = 5,
) -> Page[QuestionItem]:
    """Questions (advice requests) asked of a region, oldest first."""
    page, per_page, offset = _page_bounds(page, per_page)
    where, params = "to_region_id = ?", [region_id.hex]
    if twinning_id is not None:
        where += " AND twinning_id = ?"
        params.append(twinning_id.hex)
    if unanswered_only:
        where += " AND answers = 0"
    total = (await _one(db, f"SELECT count(*) FROM advice_requests WHERE {where}", params))[0]
    rows = await _all(
        db,
        f"SELECT r.* FROM advice_requests r {_CREATED}r.request_id "
        f"WHERE {where} ORDER BY r.requested_at, c.position, r.request_id LIMIT ? OFFSET ?",
        [*params, per_page, offset],
    )
    return Page(tuple([await _question(db, r) for r in rows]), page, per_page, total)


async def _member(db: aiosqlite.Connection, r: Any) -> MemberItem:
    version, _last = await _version(db, r["member_id"])
    return MemberItem(
        member_id=UUID(r["member_id"]),
        handle=await _unique_prefix(db, "members", "member_id", r["member_id"], MEMBER_HANDLE_MIN),
        region_id=_uuid(r["region_id"]),
        name=r["name"],
        role=r["role"],
        status=r["status"],
        invited_at=_moment(r["invited_at"]),
        invite_expires_at=_moment(r["invite_expires_at"]),
        joined_at=None if r["joined_at"] is None else _moment(r["joined_at"]),
        version=version,
    )


async def members_of_region(
    db: aiosqlite.Connection, region_id: UUID | None, page: int = 1, per_page: int = 10
) -> Page[MemberItem]:
    """A region's members (``None``: the programme office's) who were not removed: joined
    ones first, by name, then the invited ones by the time of the invitation."""
    page, per_page, offset = _page_bounds(page, per_page)
    where = "status != 'removed' AND " + (
        "region_id IS NULL" if region_id is None else "region_id = ?"
    )
    params = [] if region_id is None else [region_id.hex]
    total = (await _one(db, f"SELECT count(*) FROM members WHERE {where}", params))[0]
    rows = await _all(
        db,
        f"SELECT * FROM members WHERE {where} "
        "ORDER BY status = 'invited', name COLLATE NOCASE, invited_at, member_id "
        "LIMIT ? OFFSET ?",
        [*params, per_page, offset],
    )
    return Page(tuple([await _member(db, r) for r in rows]), page, per_page, total)


async def member_item(db: aiosqlite.Connection, member_id: UUID | str) -> MemberItem | None:
    row = await _one(db, "SELECT * FROM members WHERE member_id = ?", (_id(member_id),))
    return None if row is None else await _member(db, row)


async def members_by_handle(db: aiosqlite.Connection, handle: str) -> tuple[MemberItem, ...]:
    """The members (not removed) whose id starts with ``handle`` (at least 6 hex digits);
    more than one means the handle is ambiguous."""
    text = handle.strip().lower().replace("-", "")
    if not re.fullmatch(r"[0-9a-f]{6,32}", text):
        return ()
    rows = await _all(
        db,
        "SELECT * FROM members WHERE substr(member_id, 1, ?) = ? AND status != 'removed' "
        "ORDER BY member_id",
        (len(text), text),
    )
    return tuple([await _member(db, r) for r in rows])
