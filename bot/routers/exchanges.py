"""Exchanges with the partner: /exchange (guided), /followups and /done.

A follow-up is named by a short code: the first hex digits of its exchange's id (as many
as make it unique, at least four) and its number, e.g. ``3fa2-1``. The code never
changes meaning: if a new exchange shares the digits, the short code is refused as
ambiguous and the lists show a longer one.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from aiogram import F, Router
from aiogram.filters import CommandObject, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot import catalog
from bot.acting import require_member, today
from bot.buttons import Page
from bot.gateway import DomainGateway
from bot.labels import EXCHANGE_KINDS, exchange_kind_label, topic_label
from bot.partners import (
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
    drop_buttons,
    edit,
    in_private,
    keyboard,
    locale,
    message_of,
    pairs,
    require_command,
)
from domain.clock import Clock
from domain.commands import CompleteFollowUp, RecordExchange
from domain.errors import NotFound, RuleViolated
from domain.service import MemberProfile
from domain.values import ExchangeKind, parse_date
from projections import queries
from projections.models import ListedFollowUp, RegionTwinning

FLOW = "ex"
MAX_FOLLOW_UPS = 50
FOLLOW_UPS_PER_PAGE = 8
PLACE_MAX = 200
PARTICIPANT_MAX = 200
PARTICIPANTS_MAX = 100
SUMMARY_MAX = 4000
FOLLOW_UP_MAX = 1000


class ExchangeDialog(StatesGroup):
    twinning = State()
    kind = State()
    held_on = State()
    place = State()
    participants = State()
    topics = State()
    summary = State()
    follow_up_text = State()
    follow_up_owner = State()
    follow_up_due = State()
    confirm = State()


BUTTON_STATES = (
    ExchangeDialog.twinning,
    ExchangeDialog.kind,
    ExchangeDialog.topics,
    ExchangeDialog.follow_up_owner,
    ExchangeDialog.confirm,
)


class ExchangeStep(CallbackData, prefix="ex"):
    """A button of the /exchange dialog: kind, topic, topics_done, owner, no_more,
    record, discard."""

    action: str
    value: str = ""


class FollowUpDone(CallbackData, prefix="fu"):
    exchange: str
    number: int
    page: Page


class FollowUpsPage(CallbackData, prefix="fup"):
    page: Page


def _text(message: Message) -> str:
    return (message.text or "").strip()


# --- /exchange: the dialog ----------------------------------------------------------------


async def start_exchange(
    message: Message, member: MemberProfile | None, state: FSMContext, read_models: ReadModels
) -> None:
    acting = require_member(member)
    require_command(acting, catalog.EXCHANGE)
    if not await in_private(message, catalog.EXCHANGE):
        return
    await state.clear()
    twinnings = await twinnings_for(read_models, acting, open_only=True)
    if not twinnings:
        await message.answer(_("There is no open twinning to record an exchange for."))
        return
    if len(twinnings) == 1:
        await _begin(message, state, twinnings[0], acting)
        return
    await state.set_state(ExchangeDialog.twinning)
    await message.answer(
        _("In which twinning was the exchange?"),
        reply_markup=twinning_keyboard(FLOW, twinnings, acting),
    )


async def twinning_chosen(
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
    await _begin(message, state, twinning, acting)


async def _begin(
    message: Message, state: FSMContext, twinning: RegionTwinning, member: MemberProfile
) -> None:
    await state.set_state(ExchangeDialog.kind)
    await state.set_data(
        {
            "twinning": twinning.twinning_id.hex,
            "title": twinning_name(twinning, member),
            "owners": [[region_ref_text(r), r.name] for r in twinning.regions],
            "offered_topics": [t.topic for t in twinning.topics],
            "topics": [],
            "follow_ups": [],
        }
    )
    await message.answer(
        _("<b>New exchange</b> with {partner}\nWhat kind of exchange was it?").format(
            partner=esc(twinning_name(twinning, member))
        ),
        reply_markup=keyboard(
            pairs(
                [
                    button(_(label), ExchangeStep(action="kind", value=kind.value))
                    for kind, label in EXCHANGE_KINDS.items()
                ]
            )
        ),
    )


async def kind_chosen(query: CallbackQuery, callback_data: ExchangeStep, state: FSMContext) -> None:
    if callback_data.value not in {kind.value for kind in ExchangeKind}:
        raise NotFound("item.not_found")
    message = message_of(query)
    await state.update_data(kind=callback_data.value)
    await state.set_state(ExchangeDialog.held_on)
    await query.answer()
    await edit(
        message, _("Kind: {kind}").format(kind=esc(exchange_kind_label(callback_data.value)))
    )
    await message.answer(
        _("When was it held (or when will it be)? Please write the date like 25.11.2026.")
    )


def _parse_day(text: str) -> date | None:
    try:
        value = parse_date(text)
    except ValueError:
        return None
    return value if isinstance(value, date) else None


async def held_on_given(message: Message, state: FSMContext) -> None:
    held_on = _parse_day(_text(message))
    if held_on is None:
        await message.answer(
            _("That is not a date. Please write it like 25.11.2026 or 2026-11-25.")
        )
        return
    await state.update_data(held_on=held_on.isoformat())
    await state.set_state(ExchangeDialog.place)
    await message.answer(_("Where did it take place? (e.g. Kreishaus Steinfurt, or video call)"))


async def place_given(message: Message, state: FSMContext) -> None:
    place = _text(message)
    if not place or len(place) > PLACE_MAX:
        await message.answer(
            _("Please keep it to {limit} characters at most.").format(limit=PLACE_MAX)
        )
        return
    await state.update_data(place=place)
    await state.set_state(ExchangeDialog.participants)
    await message.answer(
        _("Who took part? Names separated by commas, or - for nobody in particular.")
    )


async def participants_given(message: Message, state: FSMContext) -> None:
    text = _text(message)
    names = [] if text == "-" else [name.strip() for name in text.split(",") if name.strip()]
    if len(names) > PARTICIPANTS_MAX or any(len(name) > PARTICIPANT_MAX for name in names):
        await message.answer(
            _("At most {count} names of at most {limit} characters each, please.").format(
                count=PARTICIPANTS_MAX, limit=PARTICIPANT_MAX
            )
        )
        return
    await state.update_data(participants=names)
    await state.set_state(ExchangeDialog.topics)
    data = await state.get_data()
    await message.answer(_topics_question(), reply_markup=_topics_keyboard(data))


def _topics_question() -> str:
    return _("Which topics did you talk about? Tap to select, then press Done.")


def _topics_keyboard(data: dict[str, Any]) -> InlineKeyboardMarkup | None:
    chosen = set(data["topics"])
    toggles = [
        button(
            ("☑ " if topic in chosen else "☐ ") + topic_label(topic),
            ExchangeStep(action="topic", value=topic),
        )
        for topic in data["offered_topics"]
    ]
    return keyboard([*pairs(toggles), [button(_("Done"), ExchangeStep(action="topics_done"))]])


async def topic_toggled(
    query: CallbackQuery, callback_data: ExchangeStep, state: FSMContext
) -> None:
    data = await state.get_data()
    if callback_data.value not in data["offered_topics"]:
        raise RuleViolated("twinning.topic_not_in_twinning", topic=callback_data.value)
    chosen = [t for t in data["topics"] if t != callback_data.value]
    if len(chosen) == len(data["topics"]):
        chosen.append(callback_data.value)
    data["topics"] = [t for t in data["offered_topics"] if t in chosen]
    await state.update_data(topics=data["topics"])
    await query.answer()
    await edit(message_of(query), _topics_question(), _topics_keyboard(data))


def _topic_list(topics: list[str]) -> str:
    return ", ".join(esc(topic_label(topic)) for topic in topics) or "–"


async def topics_done(query: CallbackQuery, state: FSMContext) -> None:
    data = await state.get_data()
    message = message_of(query)
    await state.set_state(ExchangeDialog.summary)
    await query.answer()
    await edit(message, _("Topics: {topics}").format(topics=_topic_list(data["topics"])))
    await message.answer(
        _(
            "Please write a short summary: what did you learn, what was agreed? "
            "(at most {limit} characters)"
        ).format(limit=SUMMARY_MAX)
    )


async def summary_given(message: Message, state: FSMContext) -> None:
    summary = _text(message)
    if not summary or len(summary) > SUMMARY_MAX:
        await message.answer(
            _("The summary may have at most {limit} characters; yours has {length}.").format(
                limit=SUMMARY_MAX, length=len(summary)
            )
        )
        return
    await state.update_data(summary=summary)
    await state.set_state(ExchangeDialog.follow_up_text)
    await message.answer(
        _(
            "Did you agree on follow-ups? Send the first one (what is to be done), "
            "or press No follow-ups."
        ),
        reply_markup=keyboard([[button(_("No follow-ups"), ExchangeStep(action="no_more"))]]),
    )


async def follow_up_text_given(message: Message, state: FSMContext) -> None:
    text = _text(message)
    if not text or len(text) > FOLLOW_UP_MAX:
        await message.answer(
            _("Please keep it to {limit} characters at most.").format(limit=FOLLOW_UP_MAX)
        )
        return
    data = await state.get_data()
    await state.update_data(pending_text=text)
    await state.set_state(ExchangeDialog.follow_up_owner)
    await message.answer(
        _("Who takes care of it?"),
        reply_markup=keyboard(
            [
                [button(name, ExchangeStep(action="owner", value=str(index)))]
                for index, (_ref, name) in enumerate(data["owners"])
            ]
        ),
    )


async def owner_chosen(
    query: CallbackQuery, callback_data: ExchangeStep, state: FSMContext
) -> None:
    data = await state.get_data()
    if callback_data.value not in ("0", "1"):
        raise NotFound("item.not_found")
    ref, name = data["owners"][int(callback_data.value)]
    message = message_of(query)
    await state.update_data(pending_owner=ref)
    await state.set_state(ExchangeDialog.follow_up_due)
    await query.answer()
    await edit(message, _("Who takes care of it: {owner}").format(owner=esc(name)))
    await message.answer(_("By when? (e.g. 30.11.2026)"))


async def follow_up_due_given(message: Message, state: FSMContext) -> None:
    due_on = _parse_day(_text(message))
    if due_on is None:
        await message.answer(
            _("That is not a date. Please write it like 25.11.2026 or 2026-11-25.")
        )
        return
    data = await state.get_data()
    held_on = date.fromisoformat(data["held_on"])
    if due_on < held_on:
        raise RuleViolated(
            "follow_up.due_before_exchange",
            due_on=day(due_on, locale()),
            held_on=day(held_on, locale()),
        )
    follow_ups = [
        *data["follow_ups"],
        {
            "text": data["pending_text"],
            "owner_region": data["pending_owner"],
            "due_on": due_on.isoformat(),
        },
    ]
    await state.update_data(follow_ups=follow_ups, pending_text=None, pending_owner=None)
    if len(follow_ups) >= MAX_FOLLOW_UPS:
        await _confirm(message, state)
        return
    await state.set_state(ExchangeDialog.follow_up_text)
    await message.answer(
        _("Follow-up {number} noted. Send the next one, or press No more follow-ups.").format(
            number=len(follow_ups)
        ),
        reply_markup=keyboard([[button(_("No more follow-ups"), ExchangeStep(action="no_more"))]]),
    )


async def no_more_follow_ups(query: CallbackQuery, state: FSMContext) -> None:
    message = message_of(query)
    await query.answer()
    await drop_buttons(message)
    await _confirm(message, state)


def _owner_name(data: dict[str, Any], ref: str) -> str:
    return next((name for owner, name in data["owners"] if owner == ref), ref)


def _review(data: dict[str, Any]) -> str:
    loc = locale()
    lines = [
        _("<b>Exchange with {partner}</b>").format(partner=esc(data["title"])),
        _("Kind: {kind}").format(kind=esc(exchange_kind_label(data["kind"]))),
        _("Date: {date}").format(date=day(date.fromisoformat(data["held_on"]), loc)),
        _("Place: {place}").format(place=esc(data["place"])),
        _("Participants: {names}").format(names=esc(", ".join(data["participants"]) or "–")),
        _("Topics: {topics}").format(topics=_topic_list(data["topics"])),
        _("Summary: {summary}").format(summary=esc(data["summary"])),
    ]
    if data["follow_ups"]:
        lines.append(_("Follow-ups:"))
        for number, item in enumerate(data["follow_ups"], start=1):
            lines.append(
                _("{number}. {text} – {owner}, due {due}").format(
                    number=number,
                    text=esc(item["text"]),
                    owner=esc(_owner_name(data, item["owner_region"])),
                    due=day(date.fromisoformat(item["due_on"]), loc),
                )
            )
    else:
        lines.append(_("Follow-ups: none"))
    return "\n".join(lines)


async def _confirm(message: Message, state: FSMContext) -> None:
    await state.set_state(ExchangeDialog.confirm)
    data = await state.get_data()
    await answer_long(
        message,
        _review(data) + "\n\n" + _("Record this exchange?"),
        reply_markup=keyboard(
            [
                [
                    button(_("Record"), ExchangeStep(action="record")),
                    button(_("Cancel"), ExchangeStep(action="discard")),
                ]
            ]
        ),
    )


async def record(
    query: CallbackQuery,
    member: MemberProfile | None,
    state: FSMContext,
    gateway: DomainGateway,
    command_id: str,
    read_models: ReadModels,
) -> None:
    acting = require_member(member)
    data = await state.get_data()
    outcome = await gateway.handle(
        RecordExchange.parse(
            twinning_id=data["twinning"],
            kind=data["kind"],
            held_on=data["held_on"],
            place=data["place"],
            participants=data["participants"],
            topics=data["topics"],
            summary=data["summary"],
            follow_ups=data["follow_ups"],
        ),
        actor=acting.member_id,
        command_id=command_id,
    )
    await state.clear()
    async with read_models.fresh() as db:
        code = await queries.exchange_code(db, outcome.aggregate_id)
    lines = [
        _("Recorded: the {kind} of {date} with {partner}.").format(
            kind=esc(exchange_kind_label(data["kind"])),
            date=day(date.fromisoformat(data["held_on"]), locale()),
            partner=esc(data["title"]),
        )
    ]
    if data["follow_ups"]:
        codes = ", ".join(f"<code>{code}-{n}</code>" for n in range(1, len(data["follow_ups"]) + 1))
        lines.append(_("Follow-ups: {codes}. /followups lists the open ones.").format(codes=codes))
    await query.answer(_("Recorded."))
    await edit(message_of(query), "\n".join(lines))


async def discard(query: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await query.answer()
    await edit(message_of(query), _("Cancelled. Nothing was recorded."))


async def use_the_buttons(message: Message) -> None:
    await message.answer(_("Please use the buttons above, or /cancel to stop."))


# --- /followups and /done -------------------------------------------------------------------


async def _scope(read_models: ReadModels, member: MemberProfile) -> list[Any] | None:
    """The twinnings whose follow-ups the member sees: their region's; the office: all."""
    if member.region_id is None:
        return None
    return [t.twinning_id for t in await twinnings_for(read_models, member, open_only=False)]


def _follow_up_lines(item: ListedFollowUp, loc: str) -> list[str]:
    owner = item.owner_region.name if item.owner_region else (item.owner_member_name or "–")
    facts = [
        esc(owner),
        _("due {date}").format(date=day(item.due_on, loc)),
        *([_("<b>overdue</b>")] if item.overdue else []),
        _("from the {kind} of {date}").format(
            kind=esc(exchange_kind_label(item.exchange_kind)), date=day(item.exchange_held_on, loc)
        ),
    ]
    mark = "⚠️ " if item.overdue else ""
    return [
        f"{mark}<code>{esc(item.code)}</code> {esc(clip(item.text, 300))}",
        "    " + " · ".join(facts),
    ]


async def _follow_ups_screen(
    read_models: ReadModels, member: MemberProfile, on: date, page: int
) -> tuple[str, InlineKeyboardMarkup | None]:
    scope = await _scope(read_models, member)
    async with read_models.fresh() as db:
        listing = await queries.open_follow_ups(db, scope, on, page, FOLLOW_UPS_PER_PAGE)
        if listing.page.items == () and page > 1:
            listing = await queries.open_follow_ups(
                db, scope, on, listing.page.pages, FOLLOW_UPS_PER_PAGE
            )
    found = listing.page
    if found.total == 0:
        return _("There are no open follow-ups."), None
    loc = locale()
    lines = [
        _("<b>Open follow-ups</b>: {open}, of which {overdue} overdue").format(
            open=found.total, overdue=listing.overdue
        )
    ]
    for item in found.items:
        lines += _follow_up_lines(item, loc)
    if found.pages > 1:
        lines.append(_("Page {page} of {pages}").format(page=found.page, pages=found.pages))
    may_complete = catalog.DONE.allowed_for(member)
    if may_complete:
        lines.append(_("Mark one as done with the buttons or /done CODE."))
    done_buttons = (
        [
            button(
                _("✓ {code}").format(code=item.code),
                FollowUpDone(
                    exchange=short_id(item.exchange_id), number=item.number, page=found.page
                ),
            )
            for item in found.items
        ]
        if may_complete
        else []
    )
    navigation = [
        *([button("‹", FollowUpsPage(page=found.page - 1))] if found.page > 1 else []),
        *([button("›", FollowUpsPage(page=found.page + 1))] if found.has_next else []),
    ]
    return "\n".join(lines), keyboard([*pairs(done_buttons), navigation])


async def follow_ups(
    message: Message, member: MemberProfile | None, read_models: ReadModels, clock: Clock
) -> None:
    acting = require_member(member)
    text, markup = await _follow_ups_screen(read_models, acting, today(clock), 1)
    await answer_long(message, text, markup)


async def follow_ups_page(
    query: CallbackQuery,
    callback_data: FollowUpsPage,
    member: MemberProfile | None,
    read_models: ReadModels,
    clock: Clock,
) -> None:
    acting = require_member(member)
    text, markup = await _follow_ups_screen(
        read_models, acting, today(clock), max(1, callback_data.page)
    )
    await query.answer()
    await edit(message_of(query), text, markup)


async def _find(
    read_models: ReadModels, member: MemberProfile, code: str, on: date
) -> tuple[ListedFollowUp, ...]:
    scope = await _scope(read_models, member)
    async with read_models.fresh() as db:
        return await queries.follow_ups_by_code(db, code, scope, on)


async def follow_up_done_button(
    query: CallbackQuery,
    callback_data: FollowUpDone,
    member: MemberProfile | None,
    gateway: DomainGateway,
    command_id: str,
    read_models: ReadModels,
    clock: Clock,
) -> None:
    acting = require_member(member)
    exchange_id = from_short_id(callback_data.exchange, "follow_up.not_found")
    on = today(clock)
    found = await _find(read_models, acting, f"{exchange_id.hex}-{callback_data.number}", on)
    if not found:
        raise NotFound("follow_up.not_found", number=callback_data.number)
    item = found[0]
    if item.done:
        await query.answer(
            _("Follow-up {number} is already done.").format(number=item.code), show_alert=True
        )
    else:
        await gateway.handle(
            CompleteFollowUp.parse(exchange_id=item.exchange_id, number=item.number),
            actor=acting.member_id,
            command_id=command_id,
        )
        await query.answer(_("Follow-up {code} is done.").format(code=item.code))
    text, markup = await _follow_ups_screen(read_models, acting, on, max(1, callback_data.page))
    await edit(message_of(query), text, markup)


async def done(
    message: Message,
    command: CommandObject,
    member: MemberProfile | None,
    gateway: DomainGateway,
    command_id: str,
    read_models: ReadModels,
    clock: Clock,
) -> None:
    acting = require_member(member)
    parts = (command.args or "").split(maxsplit=1)
    if not parts:
        await message.answer(
            _("Usage: {usage} (e.g. /done 3fa2-1); /followups shows the codes.").format(
                usage=esc(catalog.DONE.usage)
            )
        )
        return
    code, note = parts[0], (parts[1] if len(parts) > 1 else "")
    found = await _find(read_models, acting, code, today(clock))
    if not found:
        raise NotFound("follow_up.not_found", number=code)
    if len(found) > 1:
        await message.answer(
            _(
                "The code {code} fits several follow-ups; please use the longer code that "
                "/followups shows."
            ).format(code=esc(code))
        )
        return
    item = found[0]
    if item.done:
        raise RuleViolated("follow_up.already_done", number=item.code)
    await gateway.handle(
        CompleteFollowUp.parse(exchange_id=item.exchange_id, number=item.number, note=note),
        actor=acting.member_id,
        command_id=command_id,
    )
    await message.answer(
        _("Follow-up {code} is done: {text}").format(
            code=esc(item.code), text=esc(clip(item.text, 300))
        )
    )


def build() -> Router:
    router = Router(name="exchanges")
    private = F.chat.type == "private"
    typed = F.text & ~F.text.startswith("/")
    router.message.register(start_exchange, catalog.EXCHANGE.filter)
    router.message.register(follow_ups, catalog.FOLLOW_UPS.filter)
    router.message.register(done, catalog.DONE.filter)
    router.callback_query.register(
        twinning_chosen, TwinningPick.filter(F.flow == FLOW), ExchangeDialog.twinning
    )
    router.callback_query.register(
        kind_chosen, ExchangeStep.filter(F.action == "kind"), ExchangeDialog.kind
    )
    router.callback_query.register(
        topic_toggled, ExchangeStep.filter(F.action == "topic"), ExchangeDialog.topics
    )
    router.callback_query.register(
        topics_done, ExchangeStep.filter(F.action == "topics_done"), ExchangeDialog.topics
    )
    router.callback_query.register(
        owner_chosen, ExchangeStep.filter(F.action == "owner"), ExchangeDialog.follow_up_owner
    )
    router.callback_query.register(
        no_more_follow_ups,
        ExchangeStep.filter(F.action == "no_more"),
        ExchangeDialog.follow_up_text,
    )
    router.callback_query.register(
        record, ExchangeStep.filter(F.action == "record"), ExchangeDialog.confirm
    )
    router.callback_query.register(
        discard, ExchangeStep.filter(F.action == "discard"), ExchangeDialog.confirm
    )
    for state, handler in (
        (ExchangeDialog.held_on, held_on_given),
        (ExchangeDialog.place, place_given),
        (ExchangeDialog.participants, participants_given),
        (ExchangeDialog.summary, summary_given),
        (ExchangeDialog.follow_up_text, follow_up_text_given),
        (ExchangeDialog.follow_up_due, follow_up_due_given),
    ):
        router.message.register(handler, state, private, typed)
    router.message.register(use_the_buttons, StateFilter(*BUTTON_STATES), private, typed)
    router.callback_query.register(follow_ups_page, FollowUpsPage.filter())
    router.callback_query.register(follow_up_done_button, FollowUpDone.filter())
    return router
