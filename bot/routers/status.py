"""Where a twinning stands (/status) and the programme's ranking (/programme)."""

from __future__ import annotations

from uuid import UUID

from aiogram import Router
from aiogram.filters import CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from babel.numbers import format_decimal

from bot import catalog
from bot.acting import require_member, today
from bot.buttons import MeasurePage, ProgrammePage, StatusOpen, TimelinePage
from bot.i18n import N_
from bot.labels import topic_label
from bot.lookups import member_twinnings, twinning_name, twinnings_meant
from bot.read_models import ReadModels
from bot.rendering import day, esc, moment, percent
from bot.replies import answer_long
from bot.screens import locale, send, shorten, show
from domain.clock import Clock
from domain.errors import NotFound
from domain.service import MemberProfile
from projections import queries
from projections.models import (
    ImplementationRate,
    RankedTwinning,
    RegionProgress,
    TwinningRef,
    TwinningStatusSummary,
)

PROGRAMME_PAGE = 10

TWINNING_STATUSES = {
    "formed": N_("formed"),
    "running": N_("running"),
    "completed": N_("completed"),
    "cancelled": N_("cancelled"),
}
# What a side did last, as the twinning status read model names it.
ACTIVITIES = {
    "AdviceRequest.Requested": N_("asked for advice"),
    "Advice.Given": N_("gave advice"),
    "Advice.Acknowledged": N_("acknowledged advice"),
    "Advice.Adopted": N_("adopted advice"),
    "Advice.Declined": N_("declined advice"),
    "Exchange.Recorded": N_("exchange recorded"),
    "Exchange.FollowUpAgreed": N_("follow-up agreed"),
    "Exchange.FollowUpDone": N_("follow-up done"),
}


def twinning_status_label(status: str) -> str:
    return _(TWINNING_STATUSES[status]) if status in TWINNING_STATUSES else esc(status)


def points(change: float | None, lang: str) -> str:
    """A change of the rate in percentage points, with its sign."""
    if change is None:
        return "–"
    value = format_decimal(round(change * 100, 1), format="+#,##0.0;-#,##0.0", locale=lang)
    return _("{points} percentage points").format(points=value)


def rate_figure(rate: ImplementationRate, lang: str) -> str:
    if rate.value is None:
        return _("– (no measures)")
    return _("{rate} ({implemented} of {counted} implemented)").format(
        rate=percent(rate.value, lang), implemented=rate.implemented, counted=rate.counted
    )


def choice_keyboard(twinnings: tuple[TwinningRef, ...]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=twinning_name(twinning),
                    callback_data=StatusOpen(twinning=twinning.twinning_id).pack(),
                )
            ]
            for twinning in twinnings
        ]
    )


# --- /status ---------------------------------------------------------------------------


def _direction(summary: TwinningStatusSummary, teaching: UUID | None) -> str:
    if teaching is None:
        return _("on equal terms")
    for region in (summary.first, summary.second):
        if region.region_id == teaching:
            return _("{region} teaches").format(region=esc(region.name))
    return esc(teaching.hex)


def _progress_lines(progress: tuple[RegionProgress, ...], lang: str) -> list[str]:
    lines = []
    for side in progress:
        lines += [
            _("<b>Implementation rate of {region}</b>").format(region=esc(side.region.name)),
            _("• now: {figure}").format(figure=rate_figure(side.now, lang)),
            _("• at the start: {figure}").format(figure=rate_figure(side.at_start, lang)),
            _("• change: {points}").format(points=points(side.change, lang)),
            _("• progress-weighted now: {rate}").format(rate=percent(side.now.weighted, lang)),
        ]
    return lines


def render_status(
    summary: TwinningStatusSummary,
    progress: tuple[RegionProgress, ...],
    names: dict[str, str],
    lang: str,
) -> str:
    learning = [
        region.name
        for region in (summary.first, summary.second)
        if region.region_id in summary.learning_region_ids
    ]
    lines = [
        _("<b>Twinning {first} – {second}</b>").format(
            first=esc(summary.first.name), second=esc(summary.second.name)
        ),
        _("{status}, {starts} to {ends}").format(
            status=twinning_status_label(summary.status),
            starts=day(summary.starts_on, lang),
            ends=day(summary.ends_on, lang),
        ),
        (
            _("Both regions learn (a mutual pair).")
            if summary.mutual
            else _("Learning region: {region}").format(region=esc(learning[0]))
        ),
        "",
        _("<b>Topics</b>"),
    ]
    lines += [
        f"• {esc(topic_label(topic.topic))}: {_direction(summary, topic.teaching_region_id)}"
        for topic in summary.topics
    ] or [_("• none yet")]
    advice = summary.advice
    last_exchange = (
        _(", the last on {day}").format(day=day(summary.last_exchange_on, lang))
        if summary.last_exchange_on
        else ""
    )
    lines += [
        "",
        _("<b>Exchanges:</b> {held} held, {planned} planned{last}").format(
            held=summary.exchanges_held, planned=summary.exchanges_planned, last=last_exchange
        ),
        _(
            "<b>Advice:</b> {given} given, {open} open ({acknowledged} acknowledged), "
            "{adopted} adopted, {declined} declined; {requested} requested, "
            "{unanswered} unanswered"
        ).format(
            given=advice.given,
            open=advice.open,
            acknowledged=advice.acknowledged,
            adopted=advice.adopted,
            declined=advice.declined,
            requested=advice.requested,
            unanswered=advice.requests_unanswered,
        ),
        _("<b>Follow-ups:</b> {open} open, {overdue} overdue").format(
            open=summary.follow_ups_open, overdue=summary.follow_ups_overdue
        ),
        "",
        _("<b>Last activity</b>"),
    ]
    for side in summary.activity:
        if side.last_at is None:
            lines.append(_("• {region}: none yet").format(region=esc(side.region.name)))
            continue
        what = ACTIVITIES.get(side.last_event or "")
        who = names.get(side.last_actor or "")
        lines.append(
            "• "
            + _("{region}: {when}").format(
                region=esc(side.region.name), when=moment(side.last_at, lang)
            )
            + (f", {esc(who)}" if who else "")
            + (f" ({_(what)})" if what else "")
        )
    lines += ["", *_progress_lines(progress, lang)]
    return "\n".join(lines)


def status_keyboard(summary: TwinningStatusSummary) -> InlineKeyboardMarkup:
    rows = [
        [
            InlineKeyboardButton(
                text=_("Measures: {region}").format(region=region.name),
                callback_data=MeasurePage(region=region.region_id, page=1, fresh=True).pack(),
            )
        ]
        for region in (summary.first, summary.second)
    ]
    rows.append(
        [
            InlineKeyboardButton(
                text=_("Timeline"),
                callback_data=TimelinePage(
                    kind="t", subject=summary.twinning_id, page=1, fresh=True
                ).pack(),
            )
        ]
    )
    return InlineKeyboardMarkup(inline_keyboard=rows)


async def status_screen(
    read_models: ReadModels, twinning_id: UUID, clock: Clock
) -> tuple[str, InlineKeyboardMarkup]:
    lang = locale()
    async with read_models.fresh() as db:
        try:
            summary = await queries.twinning_status(db, twinning_id, today(clock))
            progress = await queries.twinning_progress(db, twinning_id, today(clock))
        except queries.NotFound:
            raise NotFound("twinning.not_found") from None
        names = await queries.member_names(
            db, [side.last_actor for side in summary.activity if side.last_actor]
        )
    return render_status(summary, progress, names, lang), status_keyboard(summary)


async def status(
    message: Message,
    command: CommandObject,
    member: MemberProfile | None,
    read_models: ReadModels,
    clock: Clock,
) -> None:
    acting = require_member(member)
    ref = (command.args or "").strip()
    async with read_models.fresh() as db:
        twinnings = await twinnings_meant(db, acting, ref or None)
    if not twinnings:
        await message.answer(
            _("There is no twinning with {region} yet.").format(region=esc(shorten(ref, 60)))
            if ref
            else _("Your region has no twinning yet.")
            if acting.region_id is not None
            else _("There are no twinnings yet.")
        )
        return
    if len(twinnings) > 1:
        await message.answer(_("Which twinning?"), reply_markup=choice_keyboard(twinnings))
        return
    text, keyboard = await status_screen(read_models, twinnings[0].twinning_id, clock)
    await answer_long(message, text, reply_markup=keyboard)


async def status_button(
    query: CallbackQuery,
    callback_data: StatusOpen,
    member: MemberProfile | None,
    read_models: ReadModels,
    clock: Clock,
) -> None:
    require_member(member)
    text, keyboard = await status_screen(read_models, callback_data.twinning, clock)
    await query.answer()
    await send(query, text, keyboard)


# --- /programme ------------------------------------------------------------------------


def _ranked_line(item: RankedTwinning, lang: str) -> str:
    rank = str(item.rank) if item.change is not None else "–"
    if item.mutual:
        sides = "; ".join(
            _("{region} {start} → {now}").format(
                region=esc(side.region.name),
                start=percent(side.at_start.value or 0.0, lang),
                now=percent(side.now.value, lang),
            )
            for side in item.learning
        )
        return _(
            "{rank}. {first} ⇄ {second} (on equal terms): {change} on average ({sides})"
        ).format(
            rank=rank,
            first=esc(item.first.name),
            second=esc(item.second.name),
            change=points(item.change, lang),
            sides=sides,
        )
    (learner,) = item.learning
    teacher = item.second if learner.region.region_id == item.first.region_id else item.first
    return _("{rank}. {learner} (learns from {teacher}): {change} ({start} → {now})").format(
        rank=rank,
        learner=esc(learner.region.name),
        teacher=esc(teacher.name),
        change=points(item.change, lang),
        start=percent(learner.at_start.value or 0.0, lang),
        now=percent(learner.now.value, lang),
    )


async def programme_screen(
    read_models: ReadModels, programme_id: UUID, page: int, clock: Clock
) -> tuple[str, InlineKeyboardMarkup]:
    lang = locale()
    async with read_models.fresh() as db:
        try:
            overview = await queries.programme_overview(db, programme_id, today(clock))
        except queries.NotFound:
            raise NotFound("programme.not_found") from None
    pages = max(1, -(-len(overview.twinnings) // PROGRAMME_PAGE))
    page = min(max(1, page), pages)
    shown = overview.twinnings[(page - 1) * PROGRAMME_PAGE : page * PROGRAMME_PAGE]
    lines = [
        _("<b>{name} ({code})</b>: twinnings ranked on {day}").format(
            name=esc(overview.name), code=esc(overview.code), day=day(overview.today, lang)
        ),
        _("by the change of the learning region's implementation rate since the start"),
        "",
    ]
    lines += [_ranked_line(item, lang) for item in shown] or [_("No twinnings yet.")]
    if pages > 1:
        lines += ["", _("Page {page} of {pages}").format(page=page, pages=pages)]
    rows = [
        [
            InlineKeyboardButton(
                text=f"{item.rank if item.change is not None else '–'}. {twinning_name(item)}",
                callback_data=StatusOpen(twinning=item.twinning_id).pack(),
            )
        ]
        for item in shown
    ]
    navigation = []
    if page > 1:
        navigation.append(
            InlineKeyboardButton(
                text="◀",
                callback_data=ProgrammePage(programme=programme_id, page=page - 1).pack(),
            )
        )
    if page < pages:
        navigation.append(
            InlineKeyboardButton(
                text="▶",
                callback_data=ProgrammePage(programme=programme_id, page=page + 1).pack(),
            )
        )
    if navigation:
        rows.append(navigation)
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows)


async def programme(
    message: Message,
    command: CommandObject,
    member: MemberProfile | None,
    read_models: ReadModels,
    clock: Clock,
) -> None:
    acting = require_member(member)
    code = (command.args or "").strip().upper()
    async with read_models.fresh() as db:
        known = await queries.programmes(db)
        own = {twinning.programme_id for twinning in await member_twinnings(db, acting)}
    if code:
        chosen = [p for p in known if p.code == code]
        if not chosen:
            raise NotFound("programme.not_found")
    else:
        chosen = [p for p in known if p.programme_id in own] or list(known)
    if not chosen:
        await message.answer(_("There is no programme yet."))
        return
    text, keyboard = await programme_screen(read_models, chosen[0].programme_id, 1, clock)
    await answer_long(message, text, reply_markup=keyboard)


async def programme_button(
    query: CallbackQuery,
    callback_data: ProgrammePage,
    member: MemberProfile | None,
    read_models: ReadModels,
    clock: Clock,
) -> None:
    require_member(member)
    text, keyboard = await programme_screen(
        read_models, callback_data.programme, callback_data.page, clock
    )
    await query.answer()
    await show(query, text, keyboard)


def build() -> Router:
    router = Router(name="status")
    router.message.register(status, catalog.STATUS.filter)
    router.message.register(programme, catalog.PROGRAMME.filter)
    router.callback_query.register(status_button, StatusOpen.filter())
    router.callback_query.register(programme_button, ProgrammePage.filter())
    return router
