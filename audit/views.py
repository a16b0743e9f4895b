"""Plain-text views of read-model answers, shared by the bot (escaped) and the CLI.

Each view is a title and lines, in the language of the ``translate`` given.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from audit.history import HistoryEntry, Names, Translate, describe
from bot.i18n import N_
from bot.labels import MEASURE_STATUSES, TOPICS
from bot.rendering import day, moment, percent
from projections.models import (
    MeasureSummary,
    Page,
    ProgrammeOverview,
    RegionStatusSummary,
    TwinningStatusSummary,
)

TWINNING_STATUSES = {
    "formed": N_("formed"),
    "running": N_("running"),
    "completed": N_("completed"),
    "cancelled": N_("cancelled"),
}

GOAL_STATUSES = {"active": N_("active"), "achieved": N_("achieved"), "dropped": N_("dropped")}


@dataclass
class View:
    title: str
    lines: list[str] = field(default_factory=list)


def _label(mapping: dict[object, str], value: str, _: Translate) -> str:
    for key, msgid in mapping.items():
        if str(key) == value:
            return _(msgid)
    return value


def _points(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value * 100:+.1f}"


def programme_view(overview: ProgrammeOverview, _: Translate, locale: str) -> View:
    view = View(
        _("{name} ({code}) as of {day}").format(
            name=overview.name, code=overview.code, day=day(overview.today, locale)
        )
    )
    if not overview.twinnings:
        view.lines.append(_("No twinnings yet."))
    for ranked in overview.twinnings:
        learning = "; ".join(
            _("{region}: {start} → {now}").format(
                region=progress.region.name,
                start=percent(progress.at_start.value, locale),
                now=percent(progress.now.value, locale),
            )
            for progress in ranked.learning
        )
        view.lines.append(
            _("{rank}. {first} – {second} ({status}): {learning}; change {change} pp").format(
                rank=ranked.rank,
                first=ranked.first.name,
                second=ranked.second.name,
                status=_label(TWINNING_STATUSES, ranked.status, _),  # type: ignore[arg-type]
                learning=learning or "–",
                change=_points(ranked.change),
            )
        )
    return view


def region_view(status: RegionStatusSummary, _: Translate, locale: str) -> View:
    view = View(
        _("{region} as of {day}").format(region=status.region.name, day=day(status.today, locale))
    )
    rate = status.rate
    view.lines.append(
        _(
            "Implementation rate: {rate} ({implemented} of {counted}); progress-weighted {weighted}"
        ).format(
            rate=percent(rate.value, locale),
            implemented=rate.implemented,
            counted=rate.counted,
            weighted=percent(rate.weighted, locale),
        )
    )
    counts = ", ".join(
        f"{_label(MEASURE_STATUSES, name, _)}: {count}"  # type: ignore[arg-type]
        for name, count in status.measures_by_status.items()
        if count
    )
    view.lines.append(_("Measures: {counts}").format(counts=counts or "–"))
    if status.rate_at_start is not None and status.series_start is not None:
        view.lines.append(
            _("At the start ({day}): {rate}").format(
                day=day(status.series_start, locale),
                rate=percent(status.rate_at_start.value, locale),
            )
        )
    for point in status.monthly[-6:]:
        view.lines.append(f"{point.month}: {percent(point.rate.value, locale)}")
    for goal in status.goals:
        view.lines.append(
            _("Goal {metric}: {value} {unit} by {year} ({status})").format(
                metric=goal.metric,
                value=goal.target_value,
                unit=goal.unit,
                year=goal.target_year,
                status=_label(GOAL_STATUSES, goal.status, _),  # type: ignore[arg-type]
            )
        )
    return view


def twinning_view(status: TwinningStatusSummary, today: date, _: Translate, locale: str) -> View:
    view = View(
        _("{first} – {second} as of {day}").format(
            first=status.first.name, second=status.second.name, day=day(today, locale)
        )
    )
    view.lines.append(
        _("{status}, {start} – {end}").format(
            status=_label(TWINNING_STATUSES, status.status, _),  # type: ignore[arg-type]
            start=day(status.starts_on, locale),
            end=day(status.ends_on, locale),
        )
    )
    for topic in status.topics:
        teacher = (
            _("mutual")
            if topic.teaching_region_id is None
            else (
                status.first.name
                if topic.teaching_region_id == status.first.region_id
                else status.second.name
            )
        )
        view.lines.append(
            f"· {_label(TOPICS, topic.topic, _)}: {teacher}"  # type: ignore[arg-type]
        )
    view.lines.append(
        _("Exchanges: {held} held, {planned} planned").format(
            held=status.exchanges_held, planned=status.exchanges_planned
        )
    )
    advice = status.advice
    view.lines.append(
        _(
            "Advice: {requested} asked, {given} given, {adopted} adopted, {declined} declined, "
            "{open} open"
        ).format(
            requested=advice.requested,
            given=advice.given,
            adopted=advice.adopted,
            declined=advice.declined,
            open=advice.open,
        )
    )
    view.lines.append(
        _("Follow-ups: {open} open, {overdue} overdue").format(
            open=status.follow_ups_open, overdue=status.follow_ups_overdue
        )
    )
    return view


def measures_view(page: Page[MeasureSummary], title: str, _: Translate, locale: str) -> View:
    view = View(title)
    if not page.items:
        view.lines.append(_("No measures."))
    for measure in page.items:
        view.lines.append(
            _("{code} {title}: {status}, {progress} %").format(
                code=measure.code,
                title=measure.title,
                status=_label(MEASURE_STATUSES, measure.status, _),  # type: ignore[arg-type]
                progress=measure.progress,
            )
        )
    remaining = page.total - (page.page - 1) * page.per_page - len(page.items)
    if remaining > 0:
        view.lines.append(_("… {more} more").format(more=remaining))
    return view


def history_line(entry: HistoryEntry, names: Names, _: Translate, locale: str) -> str:
    """``#position date time – who: what``"""
    return _("#{position} {at} – {who}: {what}").format(
        position=entry.position,
        at=moment(entry.at, locale),
        who=names.actor(entry.actor, entry.actor_name, _),
        what=describe(entry, names, _, locale),
    )
