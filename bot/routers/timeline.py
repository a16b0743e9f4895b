"""What happened, newest first: /timeline of a measure (by code) or a twinning."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from aiogram import Router
from aiogram.filters import CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot import catalog
from bot.acting import require_member
from bot.buttons import TimelinePage
from bot.labels import (
    EXCHANGE_KINDS,
    ROLES,
    exchange_kind_label,
    role_label,
    status_label,
    topic_label,
)
from bot.lookups import measures_meant, twinning_name, twinnings_meant
from bot.read_models import ReadModels
from bot.rendering import day, esc, moment, number, percent
from bot.replies import answer_long
from bot.screens import locale, send, shorten, show
from domain.errors import NotFound
from domain.service import MemberProfile
from domain.values import MEASURE_CODE_PATTERN
from projections import queries
from projections.models import Page, TimelineEntry

PER_PAGE = 10
TEXT_LENGTH = 160  # of quoted texts (advice, questions, summaries) in an entry
REGION_FIELDS = (
    "region_id",
    "first_region_id",
    "second_region_id",
    "teaching_region_id",
    "from_region_id",
    "to_region_id",
    "owner_region_id",
)


@dataclass(frozen=True)
class Names:
    """Names for the ids in a page of entries: regions, measures and members."""

    regions: dict[str, str]
    measures: dict[str, str]
    members: dict[str, str]
    lang: str

    def region(self, value: Any) -> str:
        return esc(self.regions.get(str(value), "–")) if value else _("nobody")

    def measure(self, value: Any) -> str:
        return esc(self.measures.get(str(value), "–"))

    def member(self, value: Any) -> str:
        return esc(self.members.get(str(value), "–"))

    def day(self, value: Any) -> str:
        return day(date.fromisoformat(value), self.lang) if value else "–"


def _text(value: Any) -> str:
    return esc(shorten(str(value or ""), TEXT_LENGTH))


def _topic(value: Any) -> str:
    try:
        return esc(topic_label(str(value)))
    except (KeyError, ValueError):
        return esc(value)


def _kind(value: Any) -> str:
    return esc(exchange_kind_label(value)) if value in set(EXCHANGE_KINDS) else esc(value)


def _role(value: Any) -> str:
    return esc(role_label(value)) if value in set(ROLES) else esc(value)


Describe = Callable[[str, dict[str, Any], "Names", str], str]

# Each event type as a sentence: (who, the event's details, names, the code of its measure).
SENTENCES: dict[str, Describe] = {
    "Programme.Started": lambda who, d, n, code: _("{who} started the programme {name}.").format(
        who=who, name=esc(d.get("name"))
    ),
    "Region.Registered": lambda who, d, n, code: _("{who} registered {name}.").format(
        who=who, name=esc(d.get("name"))
    ),
    "Twinning.Formed": lambda who, d, n, code: _(
        "{who} formed the twinning of {first} and {second} ({starts} to {ends})."
    ).format(
        who=who,
        first=n.region(d.get("first_region_id")),
        second=n.region(d.get("second_region_id")),
        starts=n.day(d.get("starts_on")),
        ends=n.day(d.get("ends_on")),
    ),
    "Twinning.TopicAdded": lambda who, d, n, code: (
        _("{who} added the topic {topic}, taught by {region}.").format(
            who=who, topic=_topic(d.get("topic")), region=n.region(d["teaching_region_id"])
        )
        if d.get("teaching_region_id")
        else _("{who} added the topic {topic}, on equal terms.").format(
            who=who, topic=_topic(d.get("topic"))
        )
    ),
    "Twinning.TopicRemoved": lambda who, d, n, code: _("{who} removed the topic {topic}.").format(
        who=who, topic=_topic(d.get("topic"))
    ),
    "Twinning.Started": lambda who, d, n, code: _("{who} started the twinning.").format(who=who),
    "Twinning.Completed": lambda who, d, n, code: _("{who} completed the twinning.").format(
        who=who
    ),
    "Twinning.Cancelled": lambda who, d, n, code: _(
        "{who} cancelled the twinning: {reason}"
    ).format(who=who, reason=_text(d.get("reason"))),
    "Exchange.Recorded": lambda who, d, n, code: _(
        "{who} recorded a {kind} on {day} in {place}: {summary}"
    ).format(
        who=who,
        kind=_kind(d.get("kind")),
        day=n.day(d.get("held_on")),
        place=esc(d.get("place")),
        summary=_text(d.get("summary")),
    ),
    "Exchange.FollowUpAgreed": lambda who, d, n, code: _(
        "{who} agreed follow-up {number}, due {day}: {text}"
    ).format(
        who=who, number=d.get("number"), day=n.day(d.get("due_on")), text=_text(d.get("text"))
    ),
    "Exchange.FollowUpDone": lambda who, d, n, code: _(
        "{who} marked follow-up {number} as done."
    ).format(who=who, number=d.get("number")),
    "AdviceRequest.Requested": lambda who, d, n, code: _(
        "{who} asked {region} for advice on {topic}: {question}"
    ).format(
        who=who,
        region=n.region(d.get("to_region_id")),
        topic=_topic(d.get("topic")),
        question=_text(d.get("question")),
    ),
    "AdviceRequest.Answered": lambda who, d, n, code: _(
        "{who} answered a request for advice."
    ).format(who=who),
    "Advice.Given": lambda who, d, n, code: (
        _("{who} advised {region} on {topic} ({measure}): {text}")
        if d.get("measure_id")
        else _("{who} advised {region} on {topic}: {text}")
    ).format(
        who=who,
        region=n.region(d.get("to_region_id")),
        topic=_topic(d.get("topic")),
        measure=n.measure(d.get("measure_id")),
        text=_text(d.get("text")),
    ),
    "Advice.Acknowledged": lambda who, d, n, code: _("{who} acknowledged advice.").format(who=who),
    "Advice.Adopted": lambda who, d, n, code: _("{who} adopted advice into {measure}.").format(
        who=who, measure=n.measure(d.get("measure_id"))
    ),
    "Advice.Declined": lambda who, d, n, code: _("{who} declined advice: {reason}").format(
        who=who, reason=_text(d.get("reason"))
    ),
    "Measure.Proposed": lambda who, d, n, code: _("{who} proposed {code} {title}.").format(
        who=who, code=code, title=esc(d.get("title"))
    ),
    "Measure.StatusChanged": lambda who, d, n, code: (
        _("{who} changed {code} to {status}: {note}")
        if d.get("note")
        else _("{who} changed {code} to {status}.")
    ).format(
        who=who, code=code, status=esc(status_label(d.get("status"))), note=_text(d.get("note"))
    ),
    "Measure.ProgressReported": lambda who, d, n, code: (
        _("{who} reported {code} at {percent}: {note}")
        if d.get("note")
        else _("{who} reported {code} at {percent}.")
    ).format(
        who=who,
        code=code,
        percent=percent(int(d.get("percent", 0)) / 100, n.lang),
        note=_text(d.get("note")),
    ),
    "Measure.DueDateChanged": lambda who, d, n, code: _(
        "{who} moved the due date of {code} to {day}."
    ).format(who=who, code=code, day=n.day(d.get("due_on"))),
    "Measure.ResponsibleChanged": lambda who, d, n, code: _(
        "{who} made {responsible} responsible for {code}."
    ).format(who=who, code=code, responsible=esc(d.get("responsible"))),
    "Measure.DescriptionEdited": lambda who, d, n, code: _(
        "{who} edited the description of {code}."
    ).format(who=who, code=code),
    "Goal.Set": lambda who, d, n, code: _(
        "{who} set the goal {metric}: {value} {unit} by {year}."
    ).format(
        who=who,
        metric=esc(d.get("metric")),
        value=number(Decimal(str(d.get("target_value", 0))), n.lang),
        unit=esc(d.get("unit")),
        year=d.get("target_year"),
    ),
    "Goal.Revised": lambda who, d, n, code: _(
        "{who} revised a goal to {value} by {year}: {reason}"
    ).format(
        who=who,
        value=number(Decimal(str(d.get("target_value", 0))), n.lang),
        year=d.get("target_year"),
        reason=_text(d.get("reason")),
    ),
    "Goal.Achieved": lambda who, d, n, code: _("{who} marked a goal as achieved.").format(who=who),
    "Goal.Dropped": lambda who, d, n, code: _("{who} dropped a goal: {reason}").format(
        who=who, reason=_text(d.get("reason"))
    ),
    "Member.Invited": lambda who, d, n, code: _("{who} invited a member as {role}.").format(
        who=who, role=_role(d.get("role"))
    ),
    "Member.Joined": lambda who, d, n, code: _("{name} joined.").format(
        name=esc(d["name"]) if d.get("name") else _("A former member")  # erased
    ),
    "Member.RoleChanged": lambda who, d, n, code: _(
        "{who} changed a member's role to {role}."
    ).format(who=who, role=_role(d.get("role"))),
    "Member.LanguageChosen": lambda who, d, n, code: _("{who} chose a language.").format(who=who),
    "Member.Removed": lambda who, d, n, code: _("{who} removed a member.").format(who=who),
    "Member.PersonalDataErased": lambda who, d, n, code: _(
        "{who} erased a member's personal data."
    ).format(who=who),
}


def who(entry: TimelineEntry) -> str:
    if entry.actor_name:
        return esc(entry.actor_name)
    if entry.actor.startswith("system:"):
        return _("RegioTwin")
    return _("A former member")


def describe(entry: TimelineEntry, names: Names) -> str:
    code = esc(names.measures.get(entry.aggregate_id.hex, ""))
    sentence = SENTENCES.get(entry.event_type)
    if sentence is None:
        return f"{who(entry)}: {esc(entry.event_type)}"
    return sentence(who(entry), entry.details, names, code)


async def _names(db: Any, entries: tuple[TimelineEntry, ...], lang: str) -> Names:
    regions: dict[str, str] = {}
    for entry in entries:
        for field in REGION_FIELDS:
            value = entry.details.get(field)
            if isinstance(value, str) and value not in regions:
                regions[value] = (await queries.region_ref(db, value)).name
    measure_ids = {
        entry.aggregate_id for entry in entries if entry.event_type.startswith("Measure.")
    }
    measure_ids |= {
        UUID(entry.details["measure_id"])
        for entry in entries
        if isinstance(entry.details.get("measure_id"), str)
    }
    codes = await queries.measure_codes(db, measure_ids)
    members = await queries.member_names(
        db,
        [
            value
            for entry in entries
            if isinstance(value := entry.details.get("owner_member_id"), str)
        ],
    )
    return Names(regions, {key.hex: code for key, code in codes.items()}, members, lang)


async def timeline_screen(
    read_models: ReadModels, kind: str, subject: UUID, page: int
) -> tuple[str, InlineKeyboardMarkup]:
    lang = locale()
    async with read_models.fresh() as db:
        if kind == "m":
            detail = await queries.measure_detail(db, subject)
            if detail is None:
                raise NotFound("measure.not_found")
            title = _("<b>Timeline of {code}</b> {title}").format(
                code=esc(detail.measure.code), title=esc(detail.measure.title)
            )
            entries: Page[TimelineEntry] = await queries.timeline(
                db, measure_id=subject, page=page, per_page=PER_PAGE
            )
        else:
            twinning = await queries.twinning_ref(db, subject)
            if twinning is None:
                raise NotFound("twinning.not_found")
            title = _("<b>Timeline of the twinning {name}</b>").format(
                name=esc(twinning_name(twinning))
            )
            entries = await queries.timeline(db, twinning_id=subject, page=page, per_page=PER_PAGE)
        if not entries.items and entries.total:  # fewer pages than the button knew
            entries = await queries.timeline(
                db,
                **{"measure_id" if kind == "m" else "twinning_id": subject},
                page=entries.pages,
                per_page=PER_PAGE,
            )
        names = await _names(db, entries.items, lang)
    lines = [title]
    if entries.pages > 1:
        lines.append(
            _("Page {page} of {pages}, newest first").format(page=entries.page, pages=entries.pages)
        )
    lines.append("")
    lines += [
        f"<i>{moment(entry.at, lang)}</i> · {describe(entry, names)}" for entry in entries.items
    ] or [_("Nothing has happened yet.")]
    navigation = []
    if entries.page > 1:
        navigation.append(
            InlineKeyboardButton(
                text="◀",
                callback_data=TimelinePage(
                    kind=kind, subject=subject, page=entries.page - 1
                ).pack(),
            )
        )
    if entries.has_next:
        navigation.append(
            InlineKeyboardButton(
                text="▶",
                callback_data=TimelinePage(
                    kind=kind, subject=subject, page=entries.page + 1
                ).pack(),
            )
        )
    return "\n".join(lines), InlineKeyboardMarkup(
        inline_keyboard=[navigation] if navigation else []
    )


async def timeline(
    message: Message,
    command: CommandObject,
    member: MemberProfile | None,
    read_models: ReadModels,
) -> None:
    acting = require_member(member)
    ref = (command.args or "").strip()
    if ref and re.fullmatch(MEASURE_CODE_PATTERN, ref.upper()):
        async with read_models.fresh() as db:
            found = await measures_meant(db, acting, ref)
            region = await queries.find_region(db, ref)
        if len(found) > 1:
            await message.answer(
                _("Several regions have a measure {code}. Which one?").format(
                    code=esc(ref.upper())
                ),
                reply_markup=InlineKeyboardMarkup(
                    inline_keyboard=[
                        [
                            InlineKeyboardButton(
                                text=shorten(f"{m.code} · {m.region.name}", 60),
                                callback_data=TimelinePage(
                                    kind="m", subject=m.measure_id, fresh=True
                                ).pack(),
                            )
                        ]
                        for m in found
                    ]
                ),
            )
            return
        if found:
            text, keyboard = await timeline_screen(read_models, "m", found[0].measure_id, 1)
            await answer_long(message, text, reply_markup=keyboard)
            return
        if region is None:
            await message.answer(_("There is no measure {code}.").format(code=esc(ref.upper())))
            return
    async with read_models.fresh() as db:
        twinnings = await twinnings_meant(db, acting, ref or None)
    if not twinnings:
        await message.answer(
            _("There is no twinning with {region} yet.").format(region=esc(ref))
            if ref
            else _("Your region has no twinning yet.")
            if acting.region_id is not None
            else _("There are no twinnings yet.")
        )
        return
    if len(twinnings) > 1:
        await message.answer(
            _("Which twinning?"),
            reply_markup=InlineKeyboardMarkup(
                inline_keyboard=[
                    [
                        InlineKeyboardButton(
                            text=twinning_name(t),
                            callback_data=TimelinePage(
                                kind="t", subject=t.twinning_id, fresh=True
                            ).pack(),
                        )
                    ]
                    for t in twinnings
                ]
            ),
        )
        return
    text, keyboard = await timeline_screen(read_models, "t", twinnings[0].twinning_id, 1)
    await answer_long(message, text, reply_markup=keyboard)


async def timeline_button(
    query: CallbackQuery,
    callback_data: TimelinePage,
    member: MemberProfile | None,
    read_models: ReadModels,
) -> None:
    require_member(member)
    if callback_data.kind not in ("m", "t"):
        await query.answer(_("This button is no longer valid."), show_alert=True)
        return
    text, keyboard = await timeline_screen(
        read_models, callback_data.kind, callback_data.subject, max(1, callback_data.page)
    )
    await query.answer()
    if callback_data.fresh:
        await send(query, text, keyboard)
    else:
        await show(query, text, keyboard)


def build() -> Router:
    router = Router(name="timeline")
    router.message.register(timeline, catalog.TIMELINE.filter)
    router.callback_query.register(timeline_button, TimelinePage.filter())
    return router
