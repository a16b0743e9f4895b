"""Reports for the programme office: one self-contained HTML page per programme.

Each page lists every twinning of the programme (ranked as in the programme overview),
with the partners' implementation rates over time as a chart (PNG embedded as a data
URI), exchanges, advice and follow-ups. It is built from read models replayed up to a
log position, as of a day, and names both in its footer with the chain's head hash, so
it can be rebuilt byte for byte: the same position, day and language give the same
bytes. Issuing a report records its SHA-256 in the log (``Report.Issued``); a later
reader checks a copy with :func:`find_issued`.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from itertools import takewhile
from pathlib import Path
from uuid import UUID

import aiosqlite
from babel.numbers import format_decimal
from eventsourcing.utils import get_topic

from audit.as_of import BERLIN, position_at_end_of, replayed
from audit.charts import ChartLine, rate_chart_png, rate_points
from audit.records import decode_state, plain_of
from audit.texts import Translate, translator
from audit.verify import ChainVerdict, verify_chain, verify_store
from bot.i18n import N_
from bot.labels import TOPICS
from bot.rendering import day as format_day
from bot.rendering import percent
from domain.application import RegioTwinApplication
from domain.audit import Report
from domain.commands import IssueReport
from domain.service import RegioTwin
from projections import queries
from projections.models import RankedTwinning, RegionStatusSummary, TwinningStatusSummary

REPORT_TOPIC = get_topic(Report.Issued)

STATUSES = {
    "formed": N_("formed"),
    "running": N_("running"),
    "completed": N_("completed"),
    "cancelled": N_("cancelled"),
}

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;
max-width:60rem;padding:1.5rem;color:#1d2327;line-height:1.45}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.25rem;margin-top:2.2rem;
border-bottom:2px solid #1b7f3b;padding-bottom:.2rem}h3{font-size:1.05rem;margin-bottom:.3rem}
table{border-collapse:collapse;width:100%;margin:.6rem 0 1rem}th,td{text-align:left;
padding:.3rem .5rem;border-bottom:1px solid #dde3e6;vertical-align:top}
th{background:#f1f5f3}td.num,th.num{text-align:right;white-space:nowrap}
.muted{color:#5f6b70;font-size:.9rem}img{max-width:100%;height:auto}
section.twinning{page-break-inside:avoid}footer{margin-top:3rem;font-size:.85rem;
color:#5f6b70;border-top:1px solid #dde3e6;padding-top:.8rem;word-break:break-all}
"""


@dataclass(frozen=True)
class BuiltReport:
    programme_id: UUID
    code: str
    title: str
    file_name: str
    content: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


@dataclass(frozen=True)
class TwinningSection:
    ranked: RankedTwinning
    status: TwinningStatusSummary
    regions: tuple[RegionStatusSummary, ...]


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _points(value: float | None, locale: str) -> str:
    if value is None:
        return "–"
    return f"{'+' if value > 0 else ''}{format_decimal(round(value * 100, 1), locale=locale)}"


async def _sections(
    db: aiosqlite.Connection, programme_id: UUID, as_of: date
) -> tuple[str, str, str, str, tuple[TwinningSection, ...]]:
    async with db.execute(
        "SELECT code, name, office, funder FROM programmes WHERE programme_id = ?",
        (programme_id.hex,),
    ) as cursor:
        row = await cursor.fetchone()
    assert row is not None
    overview = await queries.programme_overview(db, programme_id, as_of)
    sections = []
    for ranked in overview.twinnings:
        status = await queries.twinning_status(db, ranked.twinning_id, as_of)
        regions = tuple(
            [
                await queries.region_status(db, side.region_id, as_of, since=status.starts_on)
                for side in (status.first, status.second)
            ]
        )
        sections.append(TwinningSection(ranked, status, regions))
    return row[0], row[1], row[2], row[3], tuple(sections)


def _chart(section: TwinningSection, _: Translate) -> str:
    learning = set(section.status.learning_region_ids)
    lines = [
        ChartLine(
            region.region.name, rate_points(region.monthly), region.region.region_id in learning
        )
        for region in section.regions
        if any(point.rate.counted for point in region.monthly)
    ]
    if not lines:
        return '<p class="muted">' + _e(_("No measures recorded yet.")) + "</p>"
    png = rate_chart_png(
        lines,
        title=_("Implementation rate at the end of each month"),
        y_label=_("implemented ÷ counted measures"),
    )
    alt = _("Implementation rate of {regions} over time").format(
        regions=", ".join(line.label for line in lines)
    )
    data = base64.b64encode(png).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{_e(alt)}" width="700" height="360">'


def _section_html(section: TwinningSection, _: Translate, locale: str) -> str:
    status, ranked = section.status, section.ranked
    name = f"{status.first.name} – {status.second.name}"
    topics = []
    for topic in status.topics:
        label = _(TOPICS[topic.topic]) if topic.topic in TOPICS else topic.topic
        if topic.teaching_region_id is None:
            topics.append(_("{topic} (mutual)").format(topic=label))
        else:
            teacher = (
                status.first
                if status.first.region_id == topic.teaching_region_id
                else status.second
            )
            topics.append(
                _("{topic} (taught by {region})").format(topic=label, region=teacher.name)
            )
    advice = status.advice
    facts = [
        (
            _("Period"),
            f"{format_day(status.starts_on, locale)} – {format_day(status.ends_on, locale)}",
        ),
        (_("Status"), _(STATUSES.get(status.status, status.status))),
        (_("Topics"), "; ".join(topics) or "–"),
        (
            _("Exchanges"),
            _("{held} held, {planned} planned").format(
                held=status.exchanges_held, planned=status.exchanges_planned
            ),
        ),
        (
            _("Advice"),
            _(
                "{requested} asked, {given} given, {adopted} adopted, {declined} declined, "
                "{open} open"
            ).format(
                requested=advice.requested,
                given=advice.given,
                adopted=advice.adopted,
                declined=advice.declined,
                open=advice.open,
            ),
        ),
        (
            _("Follow-ups"),
            _("{open} open, {overdue} overdue").format(
                open=status.follow_ups_open, overdue=status.follow_ups_overdue
            ),
        ),
    ]
    rates = "".join(
        f"<tr><td>{_e(region.region.name)}</td>"
        f'<td class="num">{_e(percent(None if region.rate_at_start is None else region.rate_at_start.value, locale))}</td>'  # noqa: E501
        f'<td class="num">{_e(percent(region.rate.value, locale))}</td>'
        f'<td class="num">{_e(percent(region.rate.weighted, locale))}</td>'
        f'<td class="num">{region.rate.implemented} / {region.rate.counted}</td></tr>'
        for region in section.regions
    )
    return (
        f'<section class="twinning" id="t-{ranked.twinning_id.hex}">'
        f"<h2>{ranked.rank}. {_e(name)}</h2>"
        "<table>"
        + "".join(f"<tr><th>{_e(key)}</th><td>{_e(value)}</td></tr>" for key, value in facts)
        + "</table>"
        + _header(
            [
                _("Region"),
                _("Rate at the start"),
                _("Rate now"),
                _("Progress-weighted"),
                _("Implemented / counted"),
            ],
            numeric=(1, 2, 3, 4),
        )
        + f"{rates}</table>"
        f"{_chart(section, _)}</section>"
    )


def _header(labels: Sequence[str], numeric: Sequence[int]) -> str:
    """A table's opening and header row (the columns ``numeric`` right-aligned)."""
    cells = "".join(
        f'<th class="num">{_e(label)}</th>' if index in numeric else f"<th>{_e(label)}</th>"
        for index, label in enumerate(labels)
    )
    return f"<table><tr>{cells}</tr>"


def _overview_html(sections: Sequence[TwinningSection], _: Translate, locale: str) -> str:
    rows = []
    for section in sections:
        ranked = section.ranked
        learning = ", ".join(p.region.name for p in ranked.learning) or "–"
        status = _(STATUSES.get(ranked.status, ranked.status))
        rows.append(
            f'<tr><td class="num">{ranked.rank}</td>'
            f'<td><a href="#t-{ranked.twinning_id.hex}">'
            f"{_e(ranked.first.name)} – {_e(ranked.second.name)}</a></td>"
            f"<td>{_e(status)}</td>"
            f"<td>{_e(learning)}</td>"
            f'<td class="num">{_e(_points(ranked.change, locale))}</td></tr>'
        )
    return (
        "<h2>"
        + _e(_("Overview"))
        + "</h2><p>"
        + _e(
            _(
                "Twinnings ranked by the change of the learning region’s implementation rate "
                "since the twinning started, in percentage points (a mutual pair: the mean of "
                "both partners)."
            )
        )
        + "</p>"
        + _header(
            [
                "#",
                _("Twinning"),
                _("Status"),
                _("Learning region"),
                _("Change (percentage points)"),
            ],
            numeric=(0, 4),
        )
        + "".join(rows)
        + "</table>"
    )


async def _build(
    path: Path,
    programme_id: UUID,
    as_of: date,
    position: int,
    chain_head: str,
    locale: str,
) -> BuiltReport:
    _ = translator(locale)
    async with queries.connect(path) as db:
        code, name, office, funder, sections = await _sections(db, programme_id, as_of)
    title = _("{programme}: report as of {day}").format(
        programme=name, day=format_day(as_of, locale)
    )
    body = (
        f"<h1>{_e(title)}</h1>"
        + '<p class="muted">'
        + _e(
            _("Programme {code} · {office} · funded by {funder}").format(
                code=code, office=office, funder=funder
            )
        )
        + "</p>"
        + _overview_html(sections, _, locale)
        + "".join(_section_html(section, _, locale) for section in sections)
        + "<footer>"
        + _e(
            _(
                "Built by RegioTwin from its event log up to position {position} as of {day}; "
                "the log's hash chain has the head {head} there. The SHA-256 of this file "
                "is recorded in the log when the report is issued."
            ).format(position=position, day=format_day(as_of, locale), head=chain_head)
        )
        + "</footer>"
    )
    page = (
        f'<!DOCTYPE html>\n<html lang="{_e(locale)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="generator" content="RegioTwin">'
        f'<meta name="regiotwin-log-position" content="{position}">'
        f'<meta name="regiotwin-chain-head" content="{_e(chain_head)}">'
        f'<meta name="regiotwin-as-of" content="{as_of.isoformat()}">'
        f"<title>{_e(title)}</title><style>{STYLE}</style></head>"
        f"<body>{body}</body></html>\n"
    )
    return BuiltReport(
        programme_id=programme_id,
        code=code,
        title=title,
        file_name=f"{code}-{as_of.isoformat()}-{locale}.html",
        content=page.encode("utf-8"),
    )


async def _programme_ids(path: Path) -> list[UUID]:
    async with (
        queries.connect(path) as db,
        db.execute("SELECT programme_id FROM programmes ORDER BY starts_on, code") as cursor,
    ):
        return [UUID(row[0]) for row in await cursor.fetchall()]


def build_reports(
    log: RegioTwinApplication, as_of: date, until: int, chain_head: str, locale: str = "de"
) -> list[BuiltReport]:
    """One report per programme, from the log up to position ``until``, as of ``as_of``."""
    with replayed(log, until=until) as models:
        return asyncio.run(_build_all(models.path, as_of, until, chain_head, locale))


async def _build_all(
    path: Path, as_of: date, until: int, chain_head: str, locale: str
) -> list[BuiltReport]:
    return [
        await _build(path, programme_id, as_of, until, chain_head, locale)
        for programme_id in await _programme_ids(path)
    ]


# --- charts for the bot -------------------------------------------------------------------


def region_chart_png(status: RegionStatusSummary, _: Translate) -> bytes:
    """One region's implementation rate per month, and its progress-weighted rate."""
    return rate_chart_png(
        [
            ChartLine(_("Implementation rate"), rate_points(status.monthly), True),
            ChartLine(_("Progress-weighted"), rate_points(status.monthly, weighted=True), False),
        ],
        title=_("Implementation rate of {region}").format(region=status.region.name),
        y_label=_("share of counted measures"),
    )


# --- writing and issuing ------------------------------------------------------------------

REPORT_ACTOR = "system:report"


class ChainBroken(Exception):
    def __init__(self, verdict: ChainVerdict) -> None:
        super().__init__(f"the log's chain is broken at position {verdict.first_broken_position}")
        self.verdict = verdict


@dataclass(frozen=True)
class PublishedReport:
    path: Path
    built: BuiltReport
    issued_at: int | None
    """The position of its ``Report.Issued`` event (None: not issued)."""


def publish_reports(
    service: RegioTwin,
    folder: Path,
    *,
    as_of: date | None = None,
    language: str = "de",
    issue: bool = True,
) -> list[PublishedReport]:
    """Verify the chain, write one page per programme into ``folder`` as of a day (default
    the clock's today, with the whole log; else the log up to the end of that day), and
    record each as issued. Raises :class:`ChainBroken` instead of reporting a broken log."""
    verdict = verify_store(service.app)
    if not verdict.intact:
        raise ChainBroken(verdict)
    day = as_of or service.clock.now().astimezone(BERLIN).date()
    until = verdict.head_position
    if as_of is not None:
        until = min(until, position_at_end_of(service.app, as_of))
        events = takewhile(
            lambda event: event.position <= until,
            service.app.recorder.chained_events(),  # type: ignore[attr-defined]
        )
        verdict = verify_chain((None, event) for event in events)
    folder.mkdir(parents=True, exist_ok=True)
    published = []
    for built in build_reports(service.app, day, until, verdict.head, language):
        path = folder / built.file_name
        path.write_bytes(built.content)
        position = None
        if issue:
            outcome = service.handle(
                IssueReport(
                    programme=built.code,
                    title=built.title,
                    as_of=day,
                    content_sha256=built.sha256,
                    log_position=until,
                    chain_head=verdict.head,
                ),
                actor=REPORT_ACTOR,
                command_id=f"report:{built.code}:{language}:{day.isoformat()}:{built.sha256}",
            )
            position = outcome.position
        published.append(PublishedReport(path, built, position))
    return published


# --- issued reports -----------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedReport:
    position: int
    recorded_at: str
    actor: str
    programme_id: str
    title: str
    as_of: str
    content_sha256: str
    log_position: int
    chain_head: str


def issued_reports(log: RegioTwinApplication) -> list[IssuedReport]:
    found: list[IssuedReport] = []
    plain = plain_of(log)
    for notification in log.recorder.select_notifications(
        start=1, limit=1_000_000, topics=[REPORT_TOPIC]
    ):
        data = decode_state(notification.state, plain)
        found.append(
            IssuedReport(
                position=notification.id,
                recorded_at=data["timestamp"],
                actor=data["actor"],
                programme_id=data["programme_id"],
                title=data["title"],
                as_of=data["as_of"],
                content_sha256=data["content_sha256"],
                log_position=int(data["log_position"]),
                chain_head=data["chain_head"],
            )
        )
    return found


def find_issued(log: RegioTwinApplication, content: bytes) -> list[IssuedReport]:
    """Where the log records that exactly this content was issued (empty: never)."""
    digest = hashlib.sha256(content).hexdigest()
    return [report for report in issued_reports(log) if report.content_sha256 == digest]
