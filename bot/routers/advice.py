"""Advice between the partners: /askadvice (learning side), /advise (teaching side) and
/advice, where the receiving region acknowledges, adopts or declines what it was given.

Every button of an advice carries the version it showed; a press on an older version is
not carried out but shows where the advice stands now.
"""

from __future__ import annotations

import re
from contextlib import suppress
from typing import Any
from uuid import UUID

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot import catalog
from bot.acting import BERLIN, require_member
from bot.buttons import PAGE_LIMIT, Page
from bot.catalog import RECORDERS
from bot.gateway import DomainGateway
from bot.labels import status_label, topic_label
from bot.partners import (
    SidePick,
    TwinningPick,
    chosen_twinning,
    from_short_id,
    region_ref_text,
    short_id,
    twinning_keyboard,
    twinning_name,
    twinnings_for,
)
from bot.read_models import ReadModels
from bot.rendering import day, esc
from bot.replies import answer_long
from bot.screens import (
    button,
    clip,
    edit,
    in_private,
    keyboard,
    locale,
    message_of,
    pairs,
    require_command,
)
from domain.commands import (
    AcknowledgeAdvice,
    AdoptAdvice,
    DeclineAdvice,
    GiveAdvice,
    RequestAdvice,
)
from domain.errors import NotAllowed, NotFound, RuleViolated
from domain.service import MemberProfile
from domain.values import MEASURE_CODE_PATTERN
from projections import queries
from projections.models import AdviceItem, RegionTwinning

ASK = "ask"
ADVISE = "adv"
ADVICE_PER_PAGE = 5
QUESTIONS_PER_PAGE = 5
MEASURES_PER_PAGE = 6
TEXT_MAX = 4000
REASON_MAX = 1000
NAME_MAX = 200


class AskDialog(StatesGroup):
    twinning = State()
    side = State()
    topic = State()
    measure = State()
    question = State()


class AdviseDialog(StatesGroup):
    twinning = State()
    side = State()
    subject = State()
    text = State()


class NewMeasureDialog(StatesGroup):
    code = State()
    title = State()
    responsible = State()


class DeclineDialog(StatesGroup):
    reason = State()


class AskStep(CallbackData, prefix="aska"):
    action: str  # topic, no_measure
    value: str = ""


class AdviseStep(CallbackData, prefix="advs"):
    action: str  # q (a question), t (a topic), page
    value: str = ""


class AdviceAct(CallbackData, prefix="adv"):
    action: str  # ack, adopt, decline, new, back
    advice: str
    version: int


class AdviceMeasure(CallbackData, prefix="adm"):
    advice: str
    version: int
    code: str


class AdviceMeasures(CallbackData, prefix="admp"):
    advice: str
    version: int
    page: Page


class AdvicePage(CallbackData, prefix="advp"):
    page: Page


def _text(message: Message) -> str:
    return (message.text or "").strip()


async def _too_long(message: Message, text: str, limit: int) -> bool:
    if text and len(text) <= limit:
        return False
    await message.answer(
        _("Please write at most {limit} characters (yours: {length}).").format(
            limit=limit, length=len(text)
        )
    )
    return True


# --- choosing the twinning and the side (shared by /askadvice and /advise) ---------------------


async def _start(
    message: Message,
    member: MemberProfile,
    state: FSMContext,
    read_models: ReadModels,
    flow: str,
) -> None:
    await state.clear()
    twinnings = await twinnings_for(read_models, member, open_only=True)
    if not twinnings:
        await message.answer(_("There is no open twinning for this."))
        return
    if len(twinnings) == 1:
        await _twinning_chosen(message, state, twinnings[0], member, read_models, flow)
        return
    await state.set_state(AskDialog.twinning if flow == ASK else AdviseDialog.twinning)
    await message.answer(
        _("Which twinning?"), reply_markup=twinning_keyboard(flow, twinnings, member)
    )


async def _twinning_chosen(
    message: Message,
    state: FSMContext,
    twinning: RegionTwinning,
    member: MemberProfile,
    read_models: ReadModels,
    flow: str,
) -> None:
    await state.set_data({"twinning": twinning.twinning_id.hex})
    if member.region_id is not None:
        await _side_chosen(message, state, twinning, member.region_id, read_models, flow, False)
        return
    await state.set_state(AskDialog.side if flow == ASK else AdviseDialog.side)
    await message.answer(
        _("For which region do you act?"),
        reply_markup=keyboard(
            [
                [button(r.name, SidePick(flow=flow, region=short_id(r.region_id)))]
                for r in twinning.regions
            ]
        ),
    )


async def twinning_button(
    query: CallbackQuery,
    callback_data: TwinningPick,
    member: MemberProfile | None,
    state: FSMContext,
    read_models: ReadModels,
) -> None:
    acting = require_member(member)
    twinning = await chosen_twinning(read_models, acting, callback_data)
    message = message_of(query)
    await query.answer()
    await edit(message, _("Twinning: {name}").format(name=esc(twinning_name(twinning, acting))))
    await _twinning_chosen(message, state, twinning, acting, read_models, callback_data.flow)


async def side_button(
    query: CallbackQuery,
    callback_data: SidePick,
    member: MemberProfile | None,
    state: FSMContext,
    read_models: ReadModels,
) -> None:
    acting = require_member(member)
    data = await state.get_data()
    region_id = from_short_id(callback_data.region, "region.not_found")
    twinning = next(
        (
            t
            for t in await twinnings_for(read_models, acting, open_only=True)
            if t.twinning_id.hex == data.get("twinning")
        ),
        None,
    )
    if twinning is None:
        raise NotFound("twinning.not_found")
    if not twinning.includes(region_id):
        raise RuleViolated("twinning.region_not_partner", region=twinning.twinning_id.hex)
    message = message_of(query)
    await query.answer()
    await edit(message, _("For: {region}").format(region=esc(twinning.region(region_id).name)))
    await _side_chosen(message, state, twinning, region_id, read_models, callback_data.flow, True)


async def _side_chosen(
    message: Message,
    state: FSMContext,
    twinning: RegionTwinning,
    region_id: UUID,
    read_models: ReadModels,
    flow: str,
    named: bool,
) -> None:
    partner = twinning.partner_of(region_id)
    await state.update_data(
        region=region_id.hex,
        from_region=region_ref_text(twinning.region(region_id)) if named else None,
        partner=partner.name,
        taught={
            t.topic: (t.teaching_region_id.hex if t.teaching_region_id else None)
            for t in twinning.topics
        },
    )
    if flow == ASK:
        await _ask_topic(message, state, twinning, region_id)
    else:
        await _advise_subject(message, state, read_models, page=1)


# --- /askadvice -------------------------------------------------------------------------------


async def ask_advice(
    message: Message, member: MemberProfile | None, state: FSMContext, read_models: ReadModels
) -> None:
    acting = require_member(member)
    require_command(acting, catalog.ASK_ADVICE)
    if await in_private(message, catalog.ASK_ADVICE):
        await _start(message, acting, state, read_models, ASK)


async def _ask_topic(
    message: Message, state: FSMContext, twinning: RegionTwinning, region_id: UUID
) -> None:
    topics = [t.topic for t in twinning.topics if t.teaching_region_id != region_id]
    if not topics:
        await state.clear()
        await message.answer(
            _(
                "Your region teaches every topic of this twinning: it gives advice "
                "(/advise) rather than asking for it."
            )
        )
        return
    await state.set_state(AskDialog.topic)
    await message.answer(
        _("<b>Ask {partner} for advice</b>\nOn which topic?").format(
            partner=esc(twinning.partner_of(region_id).name)
        ),
        reply_markup=keyboard(
            [[button(topic_label(t), AskStep(action="topic", value=t))] for t in topics]
        ),
    )


async def ask_topic_chosen(query: CallbackQuery, callback_data: AskStep, state: FSMContext) -> None:
    data = await state.get_data()
    topic = callback_data.value
    if topic not in data["taught"]:
        raise RuleViolated("twinning.topic_not_in_twinning", topic=topic)
    if data["taught"][topic] == data["region"]:
        raise RuleViolated("advice.teaching_side_cannot_ask", topic=topic)
    message = message_of(query)
    await state.update_data(topic=topic)
    await state.set_state(AskDialog.measure)
    await query.answer()
    await edit(message, _("Topic: {topic}").format(topic=esc(topic_label(topic))))
    await message.answer(
        _(
            "Is your question about one of your measures? Send its code (e.g. LKM-07), "
            "or press No particular measure."
        ),
        reply_markup=keyboard([[button(_("No particular measure"), AskStep(action="no_measure"))]]),
    )


async def ask_measure_given(message: Message, state: FSMContext, read_models: ReadModels) -> None:
    data = await state.get_data()
    async with read_models.fresh() as db:
        measure = await queries.region_measure_by_code(db, UUID(data["region"]), _text(message))
    if measure is None:
        raise NotFound("measure.not_found")
    await state.update_data(measure=measure.measure_id.hex)
    await _ask_question(message, state)


async def ask_no_measure(query: CallbackQuery, state: FSMContext) -> None:
    message = message_of(query)
    await query.answer()
    await edit(message, _("No particular measure."))
    await _ask_question(message, state)


async def _ask_question(message: Message, state: FSMContext) -> None:
    await state.set_state(AskDialog.question)
    await message.answer(
        _("What is your question? (at most {limit} characters)").format(limit=TEXT_MAX)
    )


async def ask_question_given(
    message: Message,
    member: MemberProfile | None,
    state: FSMContext,
    gateway: DomainGateway,
    command_id: str,
) -> None:
    acting = require_member(member)
    question = _text(message)
    if await _too_long(message, question, TEXT_MAX):
        return
    data = await state.get_data()
    await gateway.handle(
        RequestAdvice.parse(
            twinning_id=data["twinning"],
            topic=data["topic"],
            question=question,
            measure_id=data.get("measure"),
            from_region=data.get("from_region"),
        ),
        actor=acting.member_id,
        command_id=command_id,
    )
    await state.clear()
    await message.answer(
        _("Your question on {topic} went to {partner}; their advice will show in /advice.").format(
            topic=esc(topic_label(data["topic"])), partner=esc(data["partner"])
        )
    )


# --- /advise ----------------------------------------------------------------------------------


async def advise(
    message: Message, member: MemberProfile | None, state: FSMContext, read_models: ReadModels
) -> None:
    acting = require_member(member)
    require_command(acting, catalog.ADVISE)
    if await in_private(message, catalog.ADVISE):
        await _start(message, acting, state, read_models, ADVISE)


async def _subject_screen(
    data: dict[str, Any], read_models: ReadModels, page: int
) -> tuple[str, InlineKeyboardMarkup | None] | None:
    region = data["region"]
    async with read_models.fresh() as db:
        questions = await queries.questions_for_region(
            db,
            UUID(region),
            UUID(data["twinning"]),
            page=page,
            per_page=QUESTIONS_PER_PAGE,
        )
    topics = [topic for topic, teacher in data["taught"].items() if teacher in (None, region)]
    if not topics and questions.total == 0:
        return None
    loc = locale()
    partner = esc(data["partner"])
    lines = [_("<b>Advice for {partner}</b>").format(partner=partner)]
    answer_buttons = []
    if questions.total:
        lines.append(_("Open questions of {partner}:").format(partner=partner))
        first = (questions.page - 1) * questions.per_page + 1
        for number, item in enumerate(questions.items, start=first):
            about = esc(topic_label(item.topic))
            if item.measure is not None:
                about += f" · {esc(item.measure.code)}"
            lines.append(
                _("{number}. [{about}] {question} – {name}, {date}").format(
                    number=number,
                    about=about,
                    question=esc(clip(item.question, 300)),
                    name=esc(item.asked_by or "–"),
                    date=day(item.requested_at.astimezone(BERLIN).date(), loc),
                )
            )
            answer_buttons.append(
                button(
                    _("Answer {number}").format(number=number),
                    AdviseStep(action="q", value=short_id(item.request_id)),
                )
            )
        if questions.pages > 1:
            lines.append(
                _("Page {page} of {pages}").format(page=questions.page, pages=questions.pages)
            )
    lines.append(
        _("Answer a question, or advise on a topic:")
        if questions.total
        else _("On which topic do you advise?")
    )
    navigation = [
        *(
            [button("‹", AdviseStep(action="page", value=str(questions.page - 1)))]
            if questions.page > 1
            else []
        ),
        *(
            [button("›", AdviseStep(action="page", value=str(questions.page + 1)))]
            if questions.has_next
            else []
        ),
    ]
    topic_buttons = [button(topic_label(t), AdviseStep(action="t", value=t)) for t in topics]
    markup = keyboard([*pairs(answer_buttons), navigation, *pairs(topic_buttons)])
    return "\n".join(lines), markup


async def _advise_subject(
    message: Message, state: FSMContext, read_models: ReadModels, page: int
) -> None:
    screen = await _subject_screen(await state.get_data(), read_models, page)
    if screen is None:
        await state.clear()
        await message.answer(
            _(
                "Your region teaches no topic of this twinning and was asked nothing: "
                "ask for advice with /askadvice."
            )
        )
        return
    await state.set_state(AdviseDialog.subject)
    await answer_long(message, *screen)


async def advise_page(
    query: CallbackQuery, callback_data: AdviseStep, state: FSMContext, read_models: ReadModels
) -> None:
    value = callback_data.value  # "²".isdigit() too; and a forged page may be huge
    page = int(value) if value.isascii() and value.isdigit() else 1
    page = page if page <= PAGE_LIMIT else 1
    screen = await _subject_screen(await state.get_data(), read_models, max(1, page))
    await query.answer()
    if screen is not None:
        await edit(message_of(query), *screen)


async def advise_question_chosen(
    query: CallbackQuery, callback_data: AdviseStep, state: FSMContext, read_models: ReadModels
) -> None:
    data = await state.get_data()
    request_id = from_short_id(callback_data.value, "advice_request.not_found")
    async with read_models.fresh() as db:
        item = await queries.advice_request_item(db, request_id)
    if (
        item is None
        or item.to_region.region_id.hex != data["region"]
        or item.twinning_id.hex != data["twinning"]
    ):
        raise NotFound("advice_request.not_found")
    await state.update_data(
        topic=item.topic,
        request=item.request_id.hex,
        measure=None if item.measure is None else item.measure.measure_id.hex,
    )
    await state.set_state(AdviseDialog.text)
    message = message_of(query)
    await query.answer()
    about = esc(topic_label(item.topic))
    if item.measure is not None:
        about += f" · {esc(item.measure.code)} {esc(item.measure.title)}"
    await edit(
        message,
        _("Question of {partner} on {about}:\n<i>{question}</i>").format(
            partner=esc(data["partner"]), about=about, question=esc(clip(item.question, 3500))
        ),
    )
    await _ask_advice_text(message)


async def advise_topic_chosen(
    query: CallbackQuery, callback_data: AdviseStep, state: FSMContext
) -> None:
    data = await state.get_data()
    topic = callback_data.value
    if topic not in data["taught"]:
        raise RuleViolated("twinning.topic_not_in_twinning", topic=topic)
    if data["taught"][topic] not in (None, data["region"]):
        raise RuleViolated("advice.not_teaching_side", topic=topic)
    await state.update_data(topic=topic, request=None, measure=None)
    await state.set_state(AdviseDialog.text)
    message = message_of(query)
    await query.answer()
    await edit(message, _("Advice on {topic}").format(topic=esc(topic_label(topic))))
    await _ask_advice_text(message)


async def _ask_advice_text(message: Message) -> None:
    await message.answer(
        _("Please write your advice (at most {limit} characters).").format(limit=TEXT_MAX)
    )


async def advice_text_given(
    message: Message,
    member: MemberProfile | None,
    state: FSMContext,
    gateway: DomainGateway,
    command_id: str,
) -> None:
    acting = require_member(member)
    text = _text(message)
    if await _too_long(message, text, TEXT_MAX):
        return
    data = await state.get_data()
    await gateway.handle(
        GiveAdvice.parse(
            twinning_id=data["twinning"],
            topic=data["topic"],
            text=text,
            measure_id=data.get("measure"),
            request_id=data.get("request"),
            from_region=data.get("from_region"),
        ),
        actor=acting.member_id,
        command_id=command_id,
    )
    await state.clear()
    await message.answer(
        _("Your advice on {topic} went to {partner}.").format(
            topic=esc(topic_label(data["topic"])), partner=esc(data["partner"])
        )
    )


# --- /advice: what the receiving region does with it -------------------------------------------


def _may_see(member: MemberProfile, item: AdviceItem) -> bool:
    return member.region_id is None or member.region_id in (
        item.from_region.region_id,
        item.to_region.region_id,
    )


def _may_decide(member: MemberProfile, item: AdviceItem) -> bool:
    return member.role in RECORDERS and member.region_id in (None, item.to_region.region_id)


def _ensure_may_decide(member: MemberProfile, item: AdviceItem) -> None:
    if member.role not in RECORDERS:
        raise NotAllowed("auth.read_only", role=str(member.role))
    if member.region_id not in (None, item.to_region.region_id):
        raise NotAllowed("auth.other_region")


async def _advice(read_models: ReadModels, member: MemberProfile, advice: UUID | str) -> AdviceItem:
    """The advice a button names, if the member may see it (a forged id: not found)."""
    advice_id = advice if isinstance(advice, UUID) else from_short_id(advice, "advice.not_found")
    async with read_models.fresh() as db:
        item = await queries.advice_item(db, advice_id)
    if item is None or not _may_see(member, item):
        raise NotFound("advice.not_found")
    return item


def _status_line(item: AdviceItem) -> str:
    loc = locale()
    name = esc(item.last_actor_name or "–")
    on = day(item.last_at.astimezone(BERLIN).date(), loc) if item.last_at else "–"
    if item.status == "acknowledged":
        return _("Status: acknowledged by {name} on {date}").format(name=name, date=on)
    if item.status == "adopted":
        code = esc(item.adopted_measure.code) if item.adopted_measure else "–"
        return _("Status: adopted into {code} by {name} on {date}").format(
            code=code, name=name, date=on
        )
    if item.status == "declined":
        return _("Status: declined by {name} on {date}: {reason}").format(
            name=name, date=on, reason=esc(item.decline_reason or "")
        )
    return _("Status: new")


def render_advice(item: AdviceItem, *, limit: int | None = None) -> str:
    """One advice: topic, sides, who gave it, what it answers, the text and where it stands."""
    loc = locale()
    lines = [
        _("<b>Advice on {topic}</b> from {giver} for {receiver}").format(
            topic=esc(topic_label(item.topic)),
            giver=esc(item.from_region.name),
            receiver=esc(item.to_region.name),
        ),
        _("given by {name} on {date}").format(
            name=esc(item.given_by or "–"),
            date=day(item.given_at.astimezone(BERLIN).date(), loc),
        ),
    ]
    if item.measure is not None:
        lines.append(
            _("On measure {code} {title}").format(
                code=esc(item.measure.code), title=esc(clip(item.measure.title, 100))
            )
        )
    if item.question is not None:
        lines.append(
            _("Answers the question: <i>{question}</i>").format(
                question=esc(clip(item.question, 300))
            )
        )
    text = item.text if limit is None else clip(item.text, limit)
    lines += ["", esc(text), "", _status_line(item)]
    return "\n".join(lines)


def advice_keyboard(item: AdviceItem, member: MemberProfile) -> InlineKeyboardMarkup | None:
    if not item.open or not _may_decide(member, item):
        return None
    ref = {"advice": short_id(item.advice_id), "version": item.version}
    first = (
        [button(_("Acknowledge"), AdviceAct(action="ack", **ref))] if item.status == "given" else []
    )
    return keyboard(
        [
            first,
            [
                button(_("Adopt"), AdviceAct(action="adopt", **ref)),
                button(_("Decline"), AdviceAct(action="decline", **ref)),
            ],
        ]
    )


async def _show(
    message: Message, item: AdviceItem, member: MemberProfile, note: str | None = None
) -> None:
    """The advice in place of its message, with the buttons that fit where it stands."""
    text = render_advice(item, limit=1500)
    if note:
        text += "\n\n" + note
    await edit(message, text, advice_keyboard(item, member))


async def _send_advice_page(
    message: Message, member: MemberProfile, read_models: ReadModels, page: int
) -> None:
    async with read_models.fresh() as db:
        listing = await queries.open_advice_for_region(db, member.region_id, page, ADVICE_PER_PAGE)
    if listing.total == 0:
        await message.answer(_("There is no open advice for your region."))
        return
    header = _("<b>Open advice</b>: {count}").format(count=listing.total)
    if listing.pages > 1:
        header += " · " + _("Page {page} of {pages}").format(page=listing.page, pages=listing.pages)
    await message.answer(header)
    for item in listing.items:
        await answer_long(message, render_advice(item), advice_keyboard(item, member))
    if listing.has_next:
        await message.answer(
            _("There is more advice."),
            reply_markup=keyboard([[button(_("Next page ›"), AdvicePage(page=listing.page + 1))]]),
        )


async def advice_list(
    message: Message, member: MemberProfile | None, read_models: ReadModels
) -> None:
    acting = require_member(member)
    await _send_advice_page(message, acting, read_models, 1)


async def advice_page(
    query: CallbackQuery,
    callback_data: AdvicePage,
    member: MemberProfile | None,
    read_models: ReadModels,
) -> None:
    acting = require_member(member)
    message = message_of(query)
    await query.answer()
    await edit(message, _("There is more advice."))
    await _send_advice_page(message, acting, read_models, max(1, callback_data.page))


async def _fresh_or_stale(
    query: CallbackQuery,
    read_models: ReadModels,
    member: MemberProfile,
    advice: str,
    version: int,
) -> AdviceItem | None:
    """The advice if the button shows its current version; else say so and show it now."""
    item = await _advice(read_models, member, advice)
    if item.version == version:
        return item
    await query.answer(
        _("This advice has changed since this message was sent; here is where it stands now."),
        show_alert=True,
    )
    await _show(message_of(query), item, member)
    return None


async def _measures_screen(
    item: AdviceItem, read_models: ReadModels, page: int
) -> tuple[str, InlineKeyboardMarkup | None]:
    async with read_models.fresh() as db:
        measures = await queries.region_measure_refs(
            db, item.to_region.region_id, page, MEASURES_PER_PAGE
        )
    ref = {"advice": short_id(item.advice_id), "version": item.version}
    rows = [
        [
            button(
                f"{m.code} – {m.title}",
                AdviceMeasure(code=m.code, **ref),
            )
        ]
        for m in measures.items
    ]
    navigation = [
        *(
            [button("‹", AdviceMeasures(page=measures.page - 1, **ref))]
            if measures.page > 1
            else []
        ),
        *(
            [button("›", AdviceMeasures(page=measures.page + 1, **ref))]
            if measures.has_next
            else []
        ),
    ]
    text = render_advice(item, limit=1500) + "\n\n"
    text += _("<b>Adopt</b> into which measure of {region}? Or start a new one.").format(
        region=esc(item.to_region.name)
    )
    if measures.pages > 1:
        text += "\n" + _("Page {page} of {pages}").format(page=measures.page, pages=measures.pages)
    markup = keyboard(
        [
            *rows,
            navigation,
            [
                button(_("New measure"), AdviceAct(action="new", **ref)),
                button(_("‹ Back"), AdviceAct(action="back", **ref)),
            ],
        ]
    )
    return text, markup


async def advice_action(
    query: CallbackQuery,
    callback_data: AdviceAct,
    member: MemberProfile | None,
    state: FSMContext,
    gateway: DomainGateway,
    command_id: str,
    read_models: ReadModels,
) -> None:
    acting = require_member(member)
    item = await _fresh_or_stale(
        query, read_models, acting, callback_data.advice, callback_data.version
    )
    if item is None:
        return
    message = message_of(query)
    action = callback_data.action
    if action == "back":
        await query.answer()
        await _show(message, item, acting)
        return
    _ensure_may_decide(acting, item)
    if action == "ack":
        await gateway.handle(
            AcknowledgeAdvice.parse(advice_id=item.advice_id, expected_version=item.version),
            actor=acting.member_id,
            command_id=command_id,
        )
        await query.answer(_("Acknowledged."))
        await _show(message, await _advice(read_models, acting, item.advice_id), acting)
    elif action == "adopt":
        await query.answer()
        await edit(message, *await _measures_screen(item, read_models, 1))
    elif action in ("new", "decline"):
        if message.chat.type != "private":
            await query.answer(
                _("Please do this in a private chat with me (/advice)."), show_alert=True
            )
            return
        await state.set_state(NewMeasureDialog.code if action == "new" else DeclineDialog.reason)
        await state.set_data(
            {
                "advice": item.advice_id.hex,
                "version": item.version,
                "topic": item.topic,
                "region": item.to_region.region_id.hex,
                "chat": message.chat.id,
                "message": message.message_id,
            }
        )
        await query.answer()
        if action == "new":
            await message.answer(
                _(
                    "A new measure of {region} on {topic}, from this advice.\n"
                    "Its code? (e.g. LKM-12)"
                ).format(region=esc(item.to_region.name), topic=esc(topic_label(item.topic)))
            )
        else:
            await message.answer(
                _(
                    "Why do you decline this advice? Please send the reason "
                    "(at most {limit} characters), or /cancel."
                ).format(limit=REASON_MAX)
            )
    else:
        raise NotFound("item.not_found")


async def advice_measures_page(
    query: CallbackQuery,
    callback_data: AdviceMeasures,
    member: MemberProfile | None,
    read_models: ReadModels,
) -> None:
    acting = require_member(member)
    item = await _fresh_or_stale(
        query, read_models, acting, callback_data.advice, callback_data.version
    )
    if item is None:
        return
    _ensure_may_decide(acting, item)
    await query.answer()
    await edit(
        message_of(query), *await _measures_screen(item, read_models, max(1, callback_data.page))
    )


async def advice_measure_chosen(
    query: CallbackQuery,
    callback_data: AdviceMeasure,
    member: MemberProfile | None,
    gateway: DomainGateway,
    command_id: str,
    read_models: ReadModels,
) -> None:
    acting = require_member(member)
    item = await _fresh_or_stale(
        query, read_models, acting, callback_data.advice, callback_data.version
    )
    if item is None:
        return
    _ensure_may_decide(acting, item)
    async with read_models.fresh() as db:
        measure = await queries.region_measure_by_code(
            db, item.to_region.region_id, callback_data.code
        )
    if measure is None:
        raise NotFound("measure.not_found")
    await gateway.handle(
        AdoptAdvice.parse(
            advice_id=item.advice_id, measure_id=measure.measure_id, expected_version=item.version
        ),
        actor=acting.member_id,
        command_id=command_id,
    )
    await query.answer(_("Adopted."))
    await _show(message_of(query), await _advice(read_models, acting, item.advice_id), acting)


async def _show_outcome(
    bot: Bot, data: dict[str, Any], member: MemberProfile, read_models: ReadModels
) -> None:
    """After a dialog: the advice's message shows how it was decided, without buttons."""
    item = await _advice(read_models, member, UUID(data["advice"]))
    with suppress(TelegramBadRequest):  # gone or too old to edit: the answer says it all
        await bot.edit_message_text(
            text=render_advice(item, limit=1500),
            chat_id=data["chat"],
            message_id=data["message"],
            reply_markup=advice_keyboard(item, member),
        )


async def new_measure_code_given(
    message: Message, state: FSMContext, read_models: ReadModels
) -> None:
    code = _text(message).upper()
    if not re.fullmatch(MEASURE_CODE_PATTERN, code):
        await message.answer(
            _(
                "A measure code looks like LKM-12: up to ten letters or digits, a hyphen, "
                "then up to four digits. Please try again."
            )
        )
        return
    data = await state.get_data()
    async with read_models.fresh() as db:
        taken = await queries.region_measure_by_code(db, UUID(data["region"]), code)
    if taken is not None:
        raise RuleViolated("measure.code_taken", code=code)
    await state.update_data(code=code)
    await state.set_state(NewMeasureDialog.title)
    await message.answer(_("Its title? (at most {limit} characters)").format(limit=NAME_MAX))


async def new_measure_title_given(message: Message, state: FSMContext) -> None:
    title = _text(message)
    if await _too_long(message, title, NAME_MAX):
        return
    await state.update_data(title=title)
    await state.set_state(NewMeasureDialog.responsible)
    await message.answer(
        _("Who is responsible for it? (a person or an office, e.g. Fachbereich Mobilität)")
    )


async def new_measure_responsible_given(
    message: Message,
    member: MemberProfile | None,
    state: FSMContext,
    gateway: DomainGateway,
    command_id: str,
    read_models: ReadModels,
    bot: Bot,
) -> None:
    acting = require_member(member)
    responsible = _text(message)
    if await _too_long(message, responsible, NAME_MAX):
        return
    data = await state.get_data()
    outcome = await gateway.handle(
        AdoptAdvice.parse(
            advice_id=data["advice"],
            expected_version=data["version"],
            new_measure={
                "code": data["code"],
                "title": data["title"],
                "topic": data["topic"],
                "responsible": responsible,
            },
        ),
        actor=acting.member_id,
        command_id=command_id,
    )
    await state.clear()
    await message.answer(
        _("Adopted into the new measure {code} {title} ({status}).").format(
            code=esc(outcome.details.get("measure_code", data["code"])),
            title=esc(data["title"]),
            status=esc(status_label("proposed")),
        )
    )
    await _show_outcome(bot, data, acting, read_models)


async def decline_reason_given(
    message: Message,
    member: MemberProfile | None,
    state: FSMContext,
    gateway: DomainGateway,
    command_id: str,
    read_models: ReadModels,
    bot: Bot,
) -> None:
    acting = require_member(member)
    reason = _text(message)
    if await _too_long(message, reason, REASON_MAX):
        return
    data = await state.get_data()
    await gateway.handle(
        DeclineAdvice.parse(
            advice_id=data["advice"], reason=reason, expected_version=data["version"]
        ),
        actor=acting.member_id,
        command_id=command_id,
    )
    await state.clear()
    await message.answer(_("Declined. The partner sees your reason."))
    await _show_outcome(bot, data, acting, read_models)


async def use_the_buttons(message: Message) -> None:
    await message.answer(_("Please use the buttons above, or /cancel to stop."))


def build() -> Router:
    router = Router(name="advice")
    private = F.chat.type == "private"
    typed = F.text & ~F.text.startswith("/")
    router.message.register(ask_advice, catalog.ASK_ADVICE.filter)
    router.message.register(advise, catalog.ADVISE.filter)
    router.message.register(advice_list, catalog.ADVICE.filter)
    # /askadvice and /advise: twinning and side
    router.callback_query.register(
        twinning_button, TwinningPick.filter(F.flow == ASK), AskDialog.twinning
    )
    router.callback_query.register(
        twinning_button, TwinningPick.filter(F.flow == ADVISE), AdviseDialog.twinning
    )
    router.callback_query.register(side_button, SidePick.filter(F.flow == ASK), AskDialog.side)
    router.callback_query.register(
        side_button, SidePick.filter(F.flow == ADVISE), AdviseDialog.side
    )
    # /askadvice
    router.callback_query.register(
        ask_topic_chosen, AskStep.filter(F.action == "topic"), AskDialog.topic
    )
    router.callback_query.register(
        ask_no_measure, AskStep.filter(F.action == "no_measure"), AskDialog.measure
    )
    router.message.register(ask_measure_given, AskDialog.measure, private, typed)
    router.message.register(ask_question_given, AskDialog.question, private, typed)
    # /advise
    router.callback_query.register(
        advise_page, AdviseStep.filter(F.action == "page"), AdviseDialog.subject
    )
    router.callback_query.register(
        advise_question_chosen, AdviseStep.filter(F.action == "q"), AdviseDialog.subject
    )
    router.callback_query.register(
        advise_topic_chosen, AdviseStep.filter(F.action == "t"), AdviseDialog.subject
    )
    router.message.register(advice_text_given, AdviseDialog.text, private, typed)
    # /advice
    router.callback_query.register(advice_page, AdvicePage.filter())
    router.callback_query.register(advice_action, AdviceAct.filter())
    router.callback_query.register(advice_measures_page, AdviceMeasures.filter())
    router.callback_query.register(advice_measure_chosen, AdviceMeasure.filter())
    router.message.register(new_measure_code_given, NewMeasureDialog.code, private, typed)
    router.message.register(new_measure_title_given, NewMeasureDialog.title, private, typed)
    router.message.register(
        new_measure_responsible_given, NewMeasureDialog.responsible, private, typed
    )
    router.message.register(decline_reason_given, DeclineDialog.reason, private, typed)
    router.message.register(
        use_the_buttons,
        StateFilter(
            AskDialog.twinning,
            AskDialog.side,
            AskDialog.topic,
            AdviseDialog.twinning,
            AdviseDialog.side,
            AdviseDialog.subject,
        ),
        private,
        typed,
    )
    return router
