"""The measure catalogue: /measures, /measure, /newmeasure, /setstatus, /progress."""

from __future__ import annotations

import asyncio
import hashlib
import re
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any
from uuid import UUID

from aiogram import F, Router
from aiogram.filters import CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from pydantic import TypeAdapter, ValidationError

from bot import catalog
from bot.acting import require_member
from bot.buttons import (
    MeasureOpen,
    MeasurePage,
    MeasureProgressAsk,
    MeasureProgressSet,
    MeasureStatusSet,
    NewMeasureConfirm,
    NewMeasureTopic,
    TimelinePage,
)
from bot.gateway import DomainGateway
from bot.labels import TOPICS, status_label, topic_label
from bot.lookups import (
    NO_VALUE,
    decimal_of,
    may_record_for,
    measures_meant,
    region_named,
    topic_keyboard,
)
from bot.read_models import ReadModels
from bot.rendering import day, esc, number, percent
from bot.replies import answer_long
from bot.screens import locale, private, require_recorder, send, shorten, show
from domain.commands import (
    ChangeMeasureStatus,
    Day,
    Description,
    MeasureCode,
    Name,
    ProposeMeasure,
    ReportProgress,
    Title,
    Tonnes,
)
from domain.errors import Conflict, NotAllowed, NotFound
from domain.service import MemberProfile
from domain.values import MEASURE_TRANSITIONS, REGION_KEY_PATTERN, MeasureStatus, Topic
from projections import queries
from projections.models import MeasureDetail, MeasureSummary, Page, RegionRef

PER_PAGE = 10
TOPIC_CODES = list(Topic)
STATUS_CODES = list(MeasureStatus)
SEARCHES = "measure_searches"  # FSM destiny of search words too long for a button
KEPT_SEARCHES = 50
BUTTON_WORDS = 18  # bytes of search words that still fit into a MeasurePage button
CATCH_UP_POLLS, CATCH_UP_POLL = 40, 0.05  # up to two seconds
PROGRESS_STEPS = tuple(range(10, 101, 10))

# Status words as members type them, English (the domain's) and German.
STATUS_WORDS: dict[str, MeasureStatus] = {
    "proposed": MeasureStatus.PROPOSED,
    "vorgeschlagen": MeasureStatus.PROPOSED,
    "planned": MeasureStatus.PLANNED,
    "geplant": MeasureStatus.PLANNED,
    "in_progress": MeasureStatus.IN_PROGRESS,
    "in-progress": MeasureStatus.IN_PROGRESS,
    "in progress": MeasureStatus.IN_PROGRESS,
    "in_umsetzung": MeasureStatus.IN_PROGRESS,
    "in-umsetzung": MeasureStatus.IN_PROGRESS,
    "in umsetzung": MeasureStatus.IN_PROGRESS,
    "implemented": MeasureStatus.IMPLEMENTED,
    "umgesetzt": MeasureStatus.IMPLEMENTED,
    "discontinued": MeasureStatus.DISCONTINUED,
    "eingestellt": MeasureStatus.DISCONTINUED,
}
# Short words for topics, besides their domain values and localized names.
TOPIC_WORDS: dict[str, Topic] = {
    "energievision": Topic.ENERGY_VISION,
    "energy vision": Topic.ENERGY_VISION,
    "beteiligung": Topic.PUBLIC_PARTICIPATION,
    "participation": Topic.PUBLIC_PARTICIPATION,
    "unternehmen": Topic.COMPANIES,
    "companies": Topic.COMPANIES,
    "radverkehr": Topic.CYCLING,
    "e-mobilität": Topic.E_MOBILITY,
    "elektromobilität": Topic.E_MOBILITY,
    "gebäude": Topic.BUILDINGS,
    "buildings": Topic.BUILDINGS,
    "erneuerbare": Topic.RENEWABLE_ENERGY,
    "renewables": Topic.RENEWABLE_ENERGY,
    "wärmeplanung": Topic.HEAT,
    "liegenschaften": Topic.MUNICIPAL_PROPERTIES,
    "öpnv": Topic.PUBLIC_TRANSPORT,
}
ALL_REGIONS = frozenset({"all", "alle"})


def status_word(words: str) -> MeasureStatus | None:
    return STATUS_WORDS.get(" ".join(words.lower().split()))


def topic_phrases() -> dict[str, Topic]:
    """Every way to name a topic: its value, TOPIC_WORDS and its name in each language."""
    i18n = get_i18n()
    phrases = dict(TOPIC_WORDS)
    for topic, msgid in TOPICS.items():
        phrases[topic.value] = topic
        phrases[topic.value.replace("_", "-")] = topic
        for lang in i18n.available_locales:
            phrases[i18n.gettext(msgid, locale=lang).lower()] = topic
    return phrases


def _phrase_at(
    tokens: list[str], start: int, phrases: dict[str, Any], longest: int = 5
) -> tuple[Any, int] | None:
    """The longest phrase starting at ``tokens[start]``: (its value, tokens used)."""
    for length in range(min(longest, len(tokens) - start), 0, -1):
        value = phrases.get(" ".join(tokens[start : start + length]).lower())
        if value is not None:
            return value, length
    return None


def search_words(text: str) -> str:
    """Only words count in a search (see queries.fts_query)."""
    return " ".join(re.findall(r"\w+", text))


# --- rendering ---------------------------------------------------------------------------


def co2(value: Decimal | None, lang: str) -> str:
    if value is None:
        return "–"
    return _("{tonnes} t CO₂ per year").format(tonnes=number(value, lang))


def render_measure(detail: MeasureDetail, lang: str) -> str:
    m = detail.measure
    lines = [
        f"<b>{esc(m.code)}</b> {esc(m.title)}",
        _("{region} · {topic}").format(region=esc(m.region.name), topic=esc(topic_label(m.topic))),
        "",
        _("Status: {status} · progress {progress}").format(
            status=status_label(m.status), progress=percent(m.progress / 100, lang)
        ),
        _("Due: {due}").format(due=day(m.due_on, lang) if m.due_on else "–"),
        _("Responsible: {responsible}").format(responsible=esc(m.responsible)),
        _("Expected saving: {co2}").format(co2=co2(m.expected_co2_t_per_year, lang)),
    ]
    if m.description:
        lines += ["", esc(m.description)]
    for note in detail.advice:
        template = (
            _("From the advice of {region} ({day}): «{text}»")
            if note.origin
            else _("Advice of {region} on it ({day}): «{text}»")
        )
        lines += [
            "",
            template.format(
                region=esc(note.from_region.name),
                day=day(note.given_at.date(), lang),
                text=esc(shorten(note.text, 600)),
            ),
        ]
    return "\n".join(lines)


def measure_keyboard(measure: MeasureSummary, member: MemberProfile) -> InlineKeyboardMarkup:
    rows: list[list[InlineKeyboardButton]] = []
    status = MeasureStatus(measure.status)
    if may_record_for(member, measure.region.region_id) and status.is_open:
        rows.append(
            [
                InlineKeyboardButton(
                    text=f"→ {status_label(target)}",
                    callback_data=MeasureStatusSet(
                        measure=measure.measure_id, status=target.value, version=measure.version
                    ).pack(),
                )
                for target in STATUS_CODES
                if target in MEASURE_TRANSITIONS[status]
            ]
        )
        rows.append(
            [
                InlineKeyboardButton(
                    text=_("Report progress"),
                    callback_data=MeasureProgressAsk(
                        measure=measure.measure_id, version=measure.version
                    ).pack(),
                )
            ]
        )
    rows.append(
        [
            InlineKeyboardButton(
                text=_("Timeline"),
                callback_data=TimelinePage(
                    kind="m", subject=measure.measure_id, page=1, fresh=True
                ).pack(),
            )
        ]
    )
    return InlineKeyboardMarkup(inline_keyboard=rows)


def progress_keyboard(measure: MeasureSummary) -> InlineKeyboardMarkup:
    values = [
        InlineKeyboardButton(
            text=f"{value} %",
            callback_data=MeasureProgressSet(
                measure=measure.measure_id, percent=value, version=measure.version
            ).pack(),
        )
        for value in PROGRESS_STEPS
    ]
    back = InlineKeyboardButton(
        text=_("◀ Back"), callback_data=MeasureOpen(measure=measure.measure_id, edit=True).pack()
    )
    return InlineKeyboardMarkup(inline_keyboard=[values[:5], values[5:], [back]])


async def measure_by_id(read_models: ReadModels, measure_id: UUID) -> MeasureDetail:
    async with read_models.fresh() as db:
        detail = await queries.measure_detail(db, measure_id)
    if detail is None:
        raise NotFound("measure.not_found")
    return detail


def choice_of_measures(found: tuple[MeasureSummary, ...]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=shorten(f"{m.code} · {m.region.name} · {m.title}", 60),
                    callback_data=MeasureOpen(measure=m.measure_id).pack(),
                )
            ]
            for m in found
        ]
    )


async def _one_measure(
    message: Message, read_models: ReadModels, member: MemberProfile, code: str
) -> MeasureSummary | None:
    """The measure a member means by ``code``; otherwise they are told, and None."""
    async with read_models.fresh() as db:
        found = await measures_meant(db, member, code)
    if not found:
        await message.answer(  # what was typed, shortened: it may be 4096 characters long
            _("There is no measure {code}.").format(code=esc(shorten(code.upper(), 60)))
        )
        return None
    if len(found) > 1:
        await message.answer(
            _("Several regions have a measure {code}. Which one?").format(
                code=esc(shorten(code.upper(), 60))
            ),
            reply_markup=choice_of_measures(found),
        )
        return None
    return found[0]


# --- /measures -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    region: RegionRef | None
    topic: Topic | None
    status: MeasureStatus | None
    words: str


async def parse_filters(args: str, member: MemberProfile, db: Any) -> Filters:
    tokens = args.split()
    phrases: dict[str, Any] = {**topic_phrases(), **STATUS_WORDS}
    region: RegionRef | None = None
    every_region = False
    topic = status = None
    rest: list[str] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        match = _phrase_at(tokens, index, phrases)
        if match is not None and (
            (isinstance(match[0], Topic) and topic is None)
            or (isinstance(match[0], MeasureStatus) and status is None)
        ):
            if isinstance(match[0], Topic):
                topic = match[0]
            else:
                status = match[0]
            index += match[1]
            continue
        index += 1
        if token.lower() in ALL_REGIONS and region is None:
            every_region = True
            continue
        if region is None and not every_region:
            if re.fullmatch(REGION_KEY_PATTERN, token):
                region = await region_named(db, token)
                continue
            found = await queries.find_region(db, token) if len(token) >= 2 else None
            if found is not None:
                region = found
                continue
        rest.append(token)
    if region is None and not every_region and member.region_id is not None:
        region = await queries.find_region(db, member.region_id)
    return Filters(region, topic, status, search_words(" ".join(rest)))


def _search_state(state: FSMContext, chat_id: int) -> FSMContext:
    """Search words kept per chat, apart from any dialog's data (which /cancel clears)."""
    key = replace(state.key, user_id=chat_id, thread_id=None, destiny=SEARCHES)
    return FSMContext(storage=state.storage, key=key)


async def words_to_button(words: str, state: FSMContext, chat_id: int) -> str:
    """The words themselves if they fit into a button, else a token of the kept words."""
    if len(words.encode()) <= BUTTON_WORDS:
        return words
    token = "#" + hashlib.sha256(words.encode()).hexdigest()[:8]
    kept = _search_state(state, chat_id)
    searches = dict(await kept.get_data())
    searches.pop(token, None)
    searches[token] = words
    await kept.set_data(dict(list(searches.items())[-KEPT_SEARCHES:]))
    return token


async def words_from_button(q: str, state: FSMContext, chat_id: int) -> str | None:
    if not q.startswith("#"):
        return q
    searches = await _search_state(state, chat_id).get_data()
    words = searches.get(q)
    return words if isinstance(words, str) else None


def page_button(
    text: str, filters: Filters, q: str, page: int, fresh: bool = False
) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        text=text,
        callback_data=MeasurePage(
            region=filters.region.region_id if filters.region else None,
            topic=str(TOPIC_CODES.index(filters.topic)) if filters.topic else "",
            status=str(STATUS_CODES.index(filters.status)) if filters.status else "",
            q=q,
            page=page,
            fresh=fresh,
        ).pack(),
    )


def render_list(
    filters: Filters, found: Page[MeasureSummary], q: str, own_region: UUID | None
) -> tuple[str, InlineKeyboardMarkup]:
    lang = locale()
    conditions = [
        esc(topic_label(filters.topic)) if filters.topic else None,
        esc(status_label(filters.status)) if filters.status else None,
        f"«{esc(filters.words)}»" if filters.words else None,
    ]
    title = (
        _("<b>Measures of {region}</b>").format(region=esc(filters.region.name))
        if filters.region
        else _("<b>Measures of all regions</b>")
    )
    shown = [condition for condition in conditions if condition]
    lines = [title + (" · " + " · ".join(shown) if shown else "")]
    if not found.items:
        lines.append(_("No measure matches."))
    else:
        lines.append(
            _("{total} found · page {page} of {pages}").format(
                total=found.total, page=found.page, pages=found.pages
            )
        )
        lines.append("")
    for m in found.items:
        where = "" if filters.region else f" ({esc(m.region.name)})"
        lines.append(
            f"<b>{esc(m.code)}</b> {esc(shorten(m.title, 80))}{where} – "
            + _("{status}, {progress}").format(
                status=status_label(m.status), progress=percent(m.progress / 100, lang)
            )
        )
    if filters.region and filters.region.region_id == own_region:
        lines += ["", _("/measures all … searches every region.")]
    rows = [
        [
            InlineKeyboardButton(
                text=shorten(f"{m.code} · {m.title}", 60),
                callback_data=MeasureOpen(measure=m.measure_id).pack(),
            )
        ]
        for m in found.items
    ]
    navigation = []
    if found.page > 1:
        navigation.append(page_button("◀", filters, q, found.page - 1))
    if found.has_next:
        navigation.append(page_button("▶", filters, q, found.page + 1))
    if navigation:
        rows.append(navigation)
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows)


async def _list(db: Any, filters: Filters, page: int) -> Page[MeasureSummary]:
    return await queries.measures(
        db,
        region=filters.region.region_id if filters.region else None,
        topic=filters.topic.value if filters.topic else None,
        status=filters.status.value if filters.status else None,
        text=filters.words or None,
        page=page,
        per_page=PER_PAGE,
    )


async def measures(
    message: Message,
    command: CommandObject,
    member: MemberProfile | None,
    read_models: ReadModels,
    state: FSMContext,
) -> None:
    acting = require_member(member)
    async with read_models.fresh() as db:
        filters = await parse_filters(command.args or "", acting, db)
        found = await _list(db, filters, 1)
    q = await words_to_button(filters.words, state, message.chat.id)
    text, keyboard = render_list(filters, found, q, acting.region_id)
    await answer_long(message, text, reply_markup=keyboard)


async def measures_page(
    query: CallbackQuery,
    callback_data: MeasurePage,
    member: MemberProfile | None,
    read_models: ReadModels,
    state: FSMContext,
) -> None:
    acting = require_member(member)
    chat_id = query.message.chat.id if query.message else query.from_user.id
    words = await words_from_button(callback_data.q, state, chat_id)
    if words is None:
        await query.answer(_("This list is out of date; please search again."), show_alert=True)
        return
    try:
        topic = TOPIC_CODES[int(callback_data.topic)] if callback_data.topic else None
        status = STATUS_CODES[int(callback_data.status)] if callback_data.status else None
    except (ValueError, IndexError):
        await query.answer(_("This button is no longer valid."), show_alert=True)
        return
    async with read_models.fresh() as db:
        region = None
        if callback_data.region is not None:
            region = await queries.find_region(db, callback_data.region)
            if region is None:
                raise NotFound("region.not_found", ref=callback_data.region.hex)
        filters = Filters(region, topic, status, search_words(words))
        found = await _list(db, filters, max(1, callback_data.page))
        if not found.items and found.total:  # the list shrank since: its last page
            found = await _list(db, filters, found.pages)
    text, keyboard = render_list(filters, found, callback_data.q, acting.region_id)
    await query.answer()
    if callback_data.fresh:
        await send(query, text, keyboard)
    else:
        await show(query, text, keyboard)


# --- /measure and its buttons ---------------------------------------------------------------


async def measure(
    message: Message,
    command: CommandObject,
    member: MemberProfile | None,
    read_models: ReadModels,
) -> None:
    acting = require_member(member)
    code = (command.args or "").strip()
    if not code:
        await message.answer(_("Usage: {usage}").format(usage=esc(catalog.MEASURE.usage)))
        return
    found = await _one_measure(message, read_models, acting, code)
    if found is None:
        return
    detail = await measure_by_id(read_models, found.measure_id)
    await answer_long(
        message, render_measure(detail, locale()), reply_markup=measure_keyboard(found, acting)
    )


async def measure_button(
    query: CallbackQuery,
    callback_data: MeasureOpen,
    member: MemberProfile | None,
    read_models: ReadModels,
) -> None:
    acting = require_member(member)
    detail = await measure_by_id(read_models, callback_data.measure)
    text = render_measure(detail, locale())
    keyboard = measure_keyboard(detail.measure, acting)
    await query.answer()
    if callback_data.edit:
        await show(query, text, keyboard)
    else:
        await send(query, text, keyboard)


async def _show_current(
    query: CallbackQuery,
    read_models: ReadModels,
    member: MemberProfile,
    measure_id: UUID,
    at_least: int = 0,
) -> None:
    """A stale button: nothing is recorded; the member sees the measure as it is now.

    After a conflict, the winning change may come from another process: wait a moment
    for the read models to show it (its version is ``at_least``)."""
    notice = _("This measure was changed in the meantime. Nothing was recorded.")
    detail = await measure_by_id(read_models, measure_id)
    for _attempt in range(CATCH_UP_POLLS):
        if detail.measure.version >= at_least:
            break
        await asyncio.sleep(CATCH_UP_POLL)
        detail = await measure_by_id(read_models, measure_id)
    await query.answer(notice, show_alert=True)
    await show(
        query,
        f"⚠️ {notice}\n\n{render_measure(detail, locale())}",
        measure_keyboard(detail.measure, member),
    )


async def _act_on_measure(
    query: CallbackQuery,
    read_models: ReadModels,
    gateway: DomainGateway,
    member: MemberProfile,
    measure_id: UUID,
    version: int,
    command: ChangeMeasureStatus | ReportProgress,
    command_id: str,
    done: str,
) -> None:
    current = await measure_by_id(read_models, measure_id)
    if current.measure.version != version:
        await _show_current(query, read_models, member, measure_id)
        return
    try:
        await gateway.handle(command, actor=member.member_id, command_id=command_id)
    except Conflict as conflict:
        await _show_current(query, read_models, member, measure_id, conflict.actual)
        return
    detail = await measure_by_id(read_models, measure_id)
    await query.answer()
    await show(
        query,
        f"✅ {done}\n\n{render_measure(detail, locale())}",
        measure_keyboard(detail.measure, member),
    )


async def status_button(
    query: CallbackQuery,
    callback_data: MeasureStatusSet,
    member: MemberProfile | None,
    read_models: ReadModels,
    gateway: DomainGateway,
    command_id: str,
) -> None:
    acting = require_member(member)
    if callback_data.status not in {status.value for status in MeasureStatus}:
        await query.answer(_("This button is no longer valid."), show_alert=True)
        return
    target = MeasureStatus(callback_data.status)
    await _act_on_measure(
        query,
        read_models,
        gateway,
        acting,
        callback_data.measure,
        callback_data.version,
        ChangeMeasureStatus.parse(
            measure_id=callback_data.measure,
            status=target.value,
            expected_version=callback_data.version,
        ),
        command_id,
        _("{name} changed the status to {status}.").format(
            name=esc(acting.name), status=status_label(target)
        ),
    )


async def progress_ask_button(
    query: CallbackQuery,
    callback_data: MeasureProgressAsk,
    member: MemberProfile | None,
    read_models: ReadModels,
) -> None:
    acting = require_member(member)
    detail = await measure_by_id(read_models, callback_data.measure)
    if detail.measure.version != callback_data.version:
        await _show_current(query, read_models, acting, callback_data.measure)
        return
    if not may_record_for(acting, detail.measure.region.region_id):
        require_recorder(acting)
        raise NotAllowed("auth.other_region")
    await query.answer()
    await show(
        query,
        render_measure(detail, locale()) + "\n\n" + _("<b>Report progress:</b> how far is it?"),
        progress_keyboard(detail.measure),
    )


async def progress_button(
    query: CallbackQuery,
    callback_data: MeasureProgressSet,
    member: MemberProfile | None,
    read_models: ReadModels,
    gateway: DomainGateway,
    command_id: str,
) -> None:
    acting = require_member(member)
    await _act_on_measure(
        query,
        read_models,
        gateway,
        acting,
        callback_data.measure,
        callback_data.version,
        ReportProgress.parse(
            measure_id=callback_data.measure,
            percent=callback_data.percent,
            expected_version=callback_data.version,
        ),
        command_id,
        _("{name} reported progress of {percent}.").format(
            name=esc(acting.name), percent=percent(callback_data.percent / 100, locale())
        ),
    )


# --- /setstatus and /progress ----------------------------------------------------------------


def illegal_transition(
    measure: MeasureSummary, current: MeasureStatus, target: MeasureStatus
) -> str:
    allowed = [
        status_label(status) for status in STATUS_CODES if status in MEASURE_TRANSITIONS[current]
    ]
    if not allowed:
        return _("{code} is {status}; its status cannot change any more.").format(
            code=esc(measure.code), status=status_label(current)
        )
    return _(
        "{code} cannot go from {current} to {target}; from {current} it can go to: {allowed}."
    ).format(
        code=esc(measure.code),
        current=status_label(current),
        target=status_label(target),
        allowed=", ".join(allowed),
    )


def split_status(words: list[str]) -> tuple[MeasureStatus | None, str]:
    """The status at the start of ``words`` (one or two words) and the note after it."""
    for length in (2, 1):
        if len(words) >= length:
            found = status_word(" ".join(words[:length]))
            if found is not None:
                return found, " ".join(words[length:])
    return None, ""


async def setstatus(
    message: Message,
    command: CommandObject,
    member: MemberProfile | None,
    read_models: ReadModels,
    gateway: DomainGateway,
    command_id: str,
) -> None:
    acting = require_member(member)
    words = (command.args or "").split()
    if len(words) < 2:
        await message.answer(
            _("Usage: {usage}").format(usage=esc(catalog.SET_STATUS.usage))
            + "\n"
            + _("Statuses: planned, in_progress, implemented, discontinued (or proposed).")
        )
        return
    target, note = split_status(words[1:])
    if target is None:
        await message.answer(
            _(
                "“{word}” is not a status. Use planned, in_progress, implemented or "
                "discontinued (or proposed)."
            ).format(word=esc(shorten(words[1], 60)))
        )
        return
    found = await _one_measure(message, read_models, acting, words[0])
    if found is None:
        return
    current = MeasureStatus(found.status)
    if target == current:
        await message.answer(
            _("{code} is already {status}.").format(
                code=esc(found.code), status=status_label(current)
            )
        )
        return
    if target not in MEASURE_TRANSITIONS[current]:
        await message.answer(illegal_transition(found, current, target))
        return
    await gateway.handle(
        ChangeMeasureStatus.parse(measure_id=found.measure_id, status=target.value, note=note),
        actor=acting.member_id,
        command_id=command_id,
    )
    await message.answer(
        _("{code} is now {status} (was {before}).").format(
            code=esc(found.code), status=status_label(target), before=status_label(found.status)
        )
    )


async def progress(
    message: Message,
    command: CommandObject,
    member: MemberProfile | None,
    read_models: ReadModels,
    gateway: DomainGateway,
    command_id: str,
) -> None:
    acting = require_member(member)
    words = (command.args or "").split()
    value = words[1].rstrip("%") if len(words) >= 2 else ""
    # "²" and "٣" are digits to isdigit(), and int() refuses 5,000 of them: ASCII, short
    if not (value.isascii() and value.isdigit() and len(value) <= 3) or int(value) > 100:
        await message.answer(
            _("Usage: {usage}").format(usage=esc(catalog.PROGRESS.usage))
            + "\n"
            + _("The progress is a whole number from 0 to 100.")
        )
        return
    found = await _one_measure(message, read_models, acting, words[0])
    if found is None:
        return
    await gateway.handle(
        ReportProgress.parse(
            measure_id=found.measure_id, percent=int(value), note=" ".join(words[2:])
        ),
        actor=acting.member_id,
        command_id=command_id,
    )
    await message.answer(
        _("{code}: progress of {percent} recorded.").format(
            code=esc(found.code), percent=percent(int(value) / 100, locale())
        )
    )


# --- /newmeasure -------------------------------------------------------------------------------


class NewMeasure(StatesGroup):
    region = State()
    code = State()
    title = State()
    topic = State()
    responsible = State()
    due = State()
    co2 = State()
    description = State()
    confirm = State()


CODE = TypeAdapter(MeasureCode)
TITLE = TypeAdapter(Title)
NAME = TypeAdapter(Name)
DAY = TypeAdapter(Day)
TONNES = TypeAdapter(Tonnes)
DESCRIPTION = TypeAdapter(Description)


async def newmeasure(
    message: Message, member: MemberProfile | None, state: FSMContext, read_models: ReadModels
) -> None:
    acting = require_member(member)
    require_recorder(acting)
    if not private(message):
        await message.answer(_("Guided dialogs run in a private chat with me."))
        return
    await state.clear()
    if acting.region_id is None:
        await state.set_state(NewMeasure.region)
        await message.answer(
            _("A new measure. For which region? Send its key or short name (e.g. 09184).")
            + "\n"
            + _("/cancel stops.")
        )
        return
    async with read_models.fresh() as db:
        region = await queries.find_region(db, acting.region_id)
    assert region is not None
    await _ask_code(message, state, region)


async def _ask_code(message: Message, state: FSMContext, region: RegionRef) -> None:
    await state.update_data(region=region.key or region.slug, region_id=region.region_id.hex)
    await state.set_state(NewMeasure.code)
    await message.answer(
        _("A new measure of {region}. Its code (e.g. LKM-08)?").format(region=esc(region.name))
        + "\n"
        + _("/cancel stops.")
    )


async def new_region(message: Message, state: FSMContext, read_models: ReadModels) -> None:
    async with read_models.fresh() as db:
        region = await queries.find_region(db, (message.text or "").strip())
    if region is None:
        await message.answer(_("I know no region by that name. Its key or short name, please."))
        return
    await _ask_code(message, state, region)


async def new_code(message: Message, state: FSMContext, read_models: ReadModels) -> None:
    try:
        code = CODE.validate_python(message.text or "")
    except ValidationError:
        await message.answer(_("A code is letters, a hyphen and a number, e.g. LKM-08."))
        return
    data = await state.get_data()
    async with read_models.fresh() as db:
        taken = [
            m
            for m in await queries.measures_by_code(db, code)
            if m.region.region_id.hex == data["region_id"]
        ]
    if taken:
        await message.answer(
            _("Your region already has a measure {code}.").format(code=esc(code))
            + " "
            + _("Another code, please.")
        )
        return
    await state.update_data(code=code)
    await state.set_state(NewMeasure.title)
    await message.answer(_("The title?"))


async def new_title(message: Message, state: FSMContext) -> None:
    try:
        title = TITLE.validate_python(message.text or "")
    except ValidationError:
        await message.answer(_("A title of at most 200 characters, please."))
        return
    await state.update_data(title=title)
    await state.set_state(NewMeasure.topic)
    await message.answer(_("The topic?"), reply_markup=topic_keyboard(NewMeasureTopic))


async def new_topic(
    query: CallbackQuery, callback_data: NewMeasureTopic, state: FSMContext
) -> None:
    if callback_data.topic not in {topic.value for topic in Topic}:
        await query.answer(_("This button is no longer valid."), show_alert=True)
        return
    await state.update_data(topic=callback_data.topic)
    await state.set_state(NewMeasure.responsible)
    await query.answer()
    await show(query, _("Topic: {topic}").format(topic=esc(topic_label(callback_data.topic))))
    if isinstance(query.message, Message):
        await query.message.answer(_("Who is responsible (a person or a department)?"))


async def new_topic_typed(message: Message) -> None:
    await message.answer(_("Please choose the topic with a button."))


async def new_responsible(message: Message, state: FSMContext) -> None:
    try:
        responsible = NAME.validate_python(message.text or "")
    except ValidationError:
        await message.answer(_("A name of at most 200 characters, please."))
        return
    await state.update_data(responsible=responsible)
    await state.set_state(NewMeasure.due)
    await message.answer(_("Due by (e.g. 25.11.2026 or 2026-11-25; - for none)?"))


async def new_due(message: Message, state: FSMContext) -> None:
    text = (message.text or "").strip()
    if text == NO_VALUE:
        due = None
    else:
        try:
            due = DAY.validate_python(text).isoformat()
        except ValidationError:
            await message.answer(_("Not a date: use 25.11.2026 or 2026-11-25, or - for none."))
            return
    await state.update_data(due=due)
    await state.set_state(NewMeasure.co2)
    await message.answer(_("Expected CO₂ saving in tonnes per year (e.g. 120,5; - if unknown)?"))


async def new_co2(message: Message, state: FSMContext) -> None:
    text = (message.text or "").strip()
    tonnes = None
    if text != NO_VALUE:
        try:
            tonnes = str(TONNES.validate_python(decimal_of(text)))
        except (ValueError, ValidationError):
            await message.answer(
                _("Tonnes per year as a number from 0 (at most 3 decimals), or - if unknown.")
            )
            return
    await state.update_data(co2=tonnes)
    await state.set_state(NewMeasure.description)
    await message.answer(_("A short description (- for none)?"))


async def new_description(message: Message, state: FSMContext) -> None:
    text = (message.text or "").strip()
    try:
        description = "" if text == NO_VALUE else DESCRIPTION.validate_python(text)
    except ValidationError:
        await message.answer(_("A description of at most 4000 characters, please."))
        return
    await state.update_data(description=description)
    await state.set_state(NewMeasure.confirm)
    data = await state.get_data()
    lang = locale()
    lines = [
        _("<b>Propose this measure?</b>"),
        f"<b>{esc(data['code'])}</b> {esc(data['title'])}",
        _("Topic: {topic}").format(topic=esc(topic_label(data["topic"]))),
        _("Responsible: {responsible}").format(responsible=esc(data["responsible"])),
        _("Due: {due}").format(
            due=day(DAY.validate_python(data["due"]), lang) if data["due"] else "–"
        ),
        _("Expected saving: {co2}").format(
            co2=co2(Decimal(data["co2"]) if data["co2"] else None, lang)
        ),
    ]
    if description:
        lines += ["", esc(description)]
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=_("Record"), callback_data=NewMeasureConfirm(record=True).pack()
                ),
                InlineKeyboardButton(
                    text=_("Cancel"), callback_data=NewMeasureConfirm(record=False).pack()
                ),
            ]
        ]
    )
    await answer_long(message, "\n".join(lines), reply_markup=keyboard)


async def new_confirm(
    query: CallbackQuery,
    callback_data: NewMeasureConfirm,
    member: MemberProfile | None,
    state: FSMContext,
    gateway: DomainGateway,
    command_id: str,
) -> None:
    acting = require_member(member)
    data = await state.get_data()
    await state.clear()
    if not callback_data.record:
        await query.answer()
        await show(query, _("Cancelled. Nothing was recorded."))
        return
    outcome = await gateway.handle(
        ProposeMeasure.parse(
            region=data["region"],
            code=data["code"],
            title=data["title"],
            topic=data["topic"],
            responsible=data["responsible"],
            due_on=data["due"],
            expected_co2_t_per_year=data["co2"],
            description=data["description"],
        ),
        actor=acting.member_id,
        command_id=command_id,
    )
    await query.answer()
    await show(
        query,
        _("✅ {name} proposed the measure {code} {title}.").format(
            name=esc(acting.name), code=esc(data["code"]), title=esc(data["title"])
        ),
        InlineKeyboardMarkup(
            inline_keyboard=[
                [
                    InlineKeyboardButton(
                        text=_("Open {code}").format(code=data["code"]),
                        callback_data=MeasureOpen(measure=outcome.aggregate_id).pack(),
                    )
                ]
            ]
        ),
    )


def _dialog_text(step: State) -> tuple[Any, ...]:
    return (StateFilter(step), F.text, ~F.text.startswith("/"))


def build() -> Router:
    router = Router(name="measures")
    router.message.register(measures, catalog.MEASURES.filter)
    router.message.register(measure, catalog.MEASURE.filter)
    router.message.register(newmeasure, catalog.NEW_MEASURE.filter)
    router.message.register(setstatus, catalog.SET_STATUS.filter)
    router.message.register(progress, catalog.PROGRESS.filter)
    router.callback_query.register(measures_page, MeasurePage.filter())
    router.callback_query.register(measure_button, MeasureOpen.filter())
    router.callback_query.register(status_button, MeasureStatusSet.filter())
    router.callback_query.register(progress_ask_button, MeasureProgressAsk.filter())
    router.callback_query.register(progress_button, MeasureProgressSet.filter())
    router.message.register(new_region, *_dialog_text(NewMeasure.region))
    router.message.register(new_code, *_dialog_text(NewMeasure.code))
    router.message.register(new_title, *_dialog_text(NewMeasure.title))
    router.callback_query.register(new_topic, NewMeasure.topic, NewMeasureTopic.filter())
    router.message.register(new_topic_typed, *_dialog_text(NewMeasure.topic))
    router.message.register(new_responsible, *_dialog_text(NewMeasure.responsible))
    router.message.register(new_due, *_dialog_text(NewMeasure.due))
    router.message.register(new_co2, *_dialog_text(NewMeasure.co2))
    router.message.register(new_description, *_dialog_text(NewMeasure.description))
    router.callback_query.register(new_confirm, NewMeasure.confirm, NewMeasureConfirm.filter())
    return router
