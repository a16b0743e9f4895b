"""The goals of a region's energy vision: /goals lists them, /goal sets or revises one."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

from aiogram import F, Router
from aiogram.filters import CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from pydantic import TypeAdapter, ValidationError

from bot import catalog
from bot.acting import require_member
from bot.buttons import GoalConfirm, GoalPick, GoalTopic
from bot.gateway import DomainGateway
from bot.i18n import N_
from bot.labels import topic_label
from bot.lookups import NO_VALUE, decimal_of, region_named, topic_keyboard
from bot.read_models import ReadModels
from bot.rendering import esc, number
from bot.replies import answer_long
from bot.screens import locale, private, require_recorder, shorten, show
from domain.commands import Name, Reason, ReviseGoal, SetGoal, TargetValue, Year
from domain.errors import Conflict, NotAllowed, NotFound, RuleViolated
from domain.service import MemberProfile
from domain.values import Topic
from projections import queries
from projections.models import GoalSummary, RegionRef

GOAL_STATUSES = {
    "active": N_("active"),
    "achieved": N_("achieved"),
    "dropped": N_("dropped"),
}
UNIT_LENGTH = 40

NAME = TypeAdapter(Name)
VALUE = TypeAdapter(TargetValue)
YEAR = TypeAdapter(Year)
REASON = TypeAdapter(Reason)


def goal_status_label(status: str) -> str:
    return _(GOAL_STATUSES[status]) if status in GOAL_STATUSES else esc(status)


def target(value: Decimal, unit: str, year: int, lang: str) -> str:
    return _("{value} {unit} by {year}").format(
        value=number(value, lang), unit=esc(unit), year=year
    )


def render_goals(region: RegionRef, goals: tuple[GoalSummary, ...], lang: str) -> str:
    lines = [_("<b>Goals of {region}</b>").format(region=esc(region.name))]
    if not goals:
        lines.append(_("No goals yet. /goal sets one."))
    for goal in goals:
        lines.append(
            _("• <b>{metric}</b> ({topic}): {target} – {status}, revisions: {revisions}").format(
                metric=esc(goal.metric),
                topic=esc(topic_label(goal.topic)),
                target=target(goal.target_value, goal.unit, goal.target_year, lang),
                status=goal_status_label(goal.status),
                revisions=goal.revision_count,
            )
        )
        earlier = [
            target(t.value, goal.unit, t.year, lang) for t in goal.targets[:-1]
        ]  # revision 0 is the target as set
        if earlier:
            lines.append("  " + _("earlier: {targets}").format(targets="; ".join(earlier)))
    return "\n".join(lines)


async def goals(
    message: Message,
    command: CommandObject,
    member: MemberProfile | None,
    read_models: ReadModels,
) -> None:
    acting = require_member(member)
    ref = (command.args or "").strip()
    if not ref and acting.region_id is None:
        await message.answer(
            _("Usage: {usage}").format(usage=esc(catalog.GOALS.usage))
            + "\n"
            + _("Name the region, e.g. /goals 09184.")
        )
        return
    async with read_models.fresh() as db:
        region = await region_named(db, ref) if ref else None
        if region is None:
            region = await queries.find_region(db, acting.region_id)  # type: ignore[arg-type]
        if region is None:
            raise NotFound("region.not_found", ref=ref)
        found = await queries.region_goals(db, region.region_id)
    await answer_long(message, render_goals(region, found, locale()))


# --- /goal: set or revise, guided -----------------------------------------------------------


class GoalDialog(StatesGroup):
    region = State()
    pick = State()
    topic = State()
    metric = State()
    value = State()
    unit = State()
    year = State()
    new_value = State()
    new_year = State()
    reason = State()
    confirm = State()


def confirm_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=_("Record"), callback_data=GoalConfirm(record=True).pack()
                ),
                InlineKeyboardButton(
                    text=_("Cancel"), callback_data=GoalConfirm(record=False).pack()
                ),
            ]
        ]
    )


async def goal(
    message: Message, member: MemberProfile | None, state: FSMContext, read_models: ReadModels
) -> None:
    acting = require_member(member)
    require_recorder(acting)
    if not private(message):
        await message.answer(_("Guided dialogs run in a private chat with me."))
        return
    await state.clear()
    if acting.region_id is None:
        await state.set_state(GoalDialog.region)
        await message.answer(
            _("Goals of which region? Send its key or short name (e.g. 09184).")
            + "\n"
            + _("/cancel stops.")
        )
        return
    async with read_models.fresh() as db:
        region = await queries.find_region(db, acting.region_id)
    assert region is not None
    await _offer_goals(message, state, read_models, region)


async def _offer_goals(
    message: Message, state: FSMContext, read_models: ReadModels, region: RegionRef
) -> None:
    lang = locale()
    async with read_models.fresh() as db:
        active = [
            g for g in await queries.region_goals(db, region.region_id) if g.status == "active"
        ]
    await state.update_data(region=region.key or region.slug, region_id=region.region_id.hex)
    await state.set_state(GoalDialog.pick)
    rows = [[InlineKeyboardButton(text=_("➕ New goal"), callback_data=GoalPick().pack())]]
    rows += [
        [
            InlineKeyboardButton(
                text=shorten(
                    f"{g.metric}: {number(g.target_value, lang)} {g.unit} ({g.target_year})", 60
                ),
                callback_data=GoalPick(goal=g.goal_id).pack(),
            )
        ]
        for g in active
    ]
    await message.answer(
        _("Set a new goal for {region}, or revise one of its goals?").format(
            region=esc(region.name)
        )
        + "\n"
        + _("/cancel stops."),
        reply_markup=InlineKeyboardMarkup(inline_keyboard=rows),
    )


async def goal_region(message: Message, state: FSMContext, read_models: ReadModels) -> None:
    async with read_models.fresh() as db:
        region = await queries.find_region(db, (message.text or "").strip())
    if region is None:
        await message.answer(_("I know no region by that name. Its key or short name, please."))
        return
    await _offer_goals(message, state, read_models, region)


async def goal_pick(
    query: CallbackQuery,
    callback_data: GoalPick,
    member: MemberProfile | None,
    state: FSMContext,
    read_models: ReadModels,
) -> None:
    require_member(member)
    data = await state.get_data()
    if callback_data.goal is None:
        await state.set_state(GoalDialog.topic)
        await query.answer()
        await show(query, _("A new goal. Its topic?"), topic_keyboard(GoalTopic))
        return
    async with read_models.fresh() as db:
        found = await queries.goal_of(db, callback_data.goal)
    if found is None:
        raise NotFound("goal.not_found")
    if found.region.region_id.hex != data.get("region_id"):
        raise NotAllowed("auth.other_region")
    current = found.goal
    if current.status != "active":
        raise RuleViolated("goal.closed", status=goal_status_label(current.status))
    lang = locale()
    await state.update_data(
        goal_id=current.goal_id.hex,
        version=found.version,
        metric=current.metric,
        unit=current.unit,
        value=str(current.target_value),
        year=current.target_year,
    )
    await state.set_state(GoalDialog.new_value)
    await query.answer()
    await show(
        query,
        _("Revise “{metric}”: now {target}.").format(
            metric=esc(current.metric),
            target=target(current.target_value, current.unit, current.target_year, lang),
        )
        + "\n"
        + _("The new target value (- keeps {value})?").format(
            value=number(current.target_value, lang)
        ),
    )


async def goal_topic(query: CallbackQuery, callback_data: GoalTopic, state: FSMContext) -> None:
    if callback_data.topic not in {topic.value for topic in Topic}:
        await query.answer(_("This button is no longer valid."), show_alert=True)
        return
    await state.update_data(topic=callback_data.topic)
    await state.set_state(GoalDialog.metric)
    await query.answer()
    await show(query, _("Topic: {topic}").format(topic=esc(topic_label(callback_data.topic))))
    if isinstance(query.message, Message):
        await query.message.answer(_("What is measured (e.g. share of renewable electricity)?"))


async def goal_topic_typed(message: Message) -> None:
    await message.answer(_("Please choose the topic with a button."))


async def goal_metric(message: Message, state: FSMContext) -> None:
    try:
        metric = NAME.validate_python(message.text or "")
    except ValidationError:
        await message.answer(_("A name of at most 200 characters, please."))
        return
    await state.update_data(metric=metric)
    await state.set_state(GoalDialog.value)
    await message.answer(_("The target value (a number, e.g. 100 or 42,5)?"))


def _value(text: str) -> Decimal | None:
    try:
        return VALUE.validate_python(decimal_of(text))
    except (ValueError, ValidationError):
        return None


def _year(text: str) -> int | None:
    try:
        return YEAR.validate_python(text.strip())
    except ValidationError:
        return None


async def goal_value(message: Message, state: FSMContext) -> None:
    value = _value(message.text or "")
    if value is None:
        await message.answer(_("A number, please (e.g. 100 or 42,5)."))
        return
    await state.update_data(value=str(value))
    await state.set_state(GoalDialog.unit)
    await message.answer(_("The unit (e.g. %, MWh, t CO₂)?"))


async def goal_unit(message: Message, state: FSMContext) -> None:
    unit = (message.text or "").strip()
    if not 1 <= len(unit) <= UNIT_LENGTH:
        await message.answer(_("A unit of at most 40 characters, please."))
        return
    await state.update_data(unit=unit)
    await state.set_state(GoalDialog.year)
    await message.answer(_("The target year (e.g. 2030)?"))


async def goal_year(message: Message, state: FSMContext) -> None:
    year = _year(message.text or "")
    if year is None:
        await message.answer(_("A year from 1990 to 2100, please."))
        return
    await state.update_data(year=year)
    await state.set_state(GoalDialog.confirm)
    data = await state.get_data()
    await message.answer(
        _("<b>Set this goal?</b>")
        + "\n"
        + _("<b>{metric}</b> ({topic}): {target}").format(
            metric=esc(data["metric"]),
            topic=esc(topic_label(data["topic"])),
            target=target(Decimal(data["value"]), data["unit"], year, locale()),
        ),
        reply_markup=confirm_keyboard(),
    )


async def goal_new_value(message: Message, state: FSMContext) -> None:
    text = (message.text or "").strip()
    value = None
    if text != NO_VALUE:
        value = _value(text)
        if value is None:
            await message.answer(_("A number, please (e.g. 100 or 42,5), or - to keep it."))
            return
    data = await state.get_data()
    await state.update_data(new_value=None if value is None else str(value))
    await state.set_state(GoalDialog.new_year)
    await message.answer(_("The new target year (- keeps {year})?").format(year=data["year"]))


async def goal_new_year(message: Message, state: FSMContext) -> None:
    text = (message.text or "").strip()
    year = None
    if text != NO_VALUE:
        year = _year(text)
        if year is None:
            await message.answer(_("A year from 1990 to 2100, please, or - to keep it."))
            return
    data = await state.get_data()
    new_value = data.get("new_value")
    same_value = new_value is None or Decimal(new_value) == Decimal(data["value"])
    if same_value and (year is None or year == data["year"]):
        await state.set_state(GoalDialog.new_value)
        await message.answer(
            _("A revision must change the target value or year.")
            + "\n"
            + _("The new target value (- keeps {value})?").format(
                value=number(Decimal(data["value"]), locale())
            )
        )
        return
    await state.update_data(new_year=year)
    await state.set_state(GoalDialog.reason)
    await message.answer(_("Why is the target revised?"))


async def goal_reason(message: Message, state: FSMContext) -> None:
    try:
        reason = REASON.validate_python(message.text or "")
    except ValidationError:
        await message.answer(_("A reason of at most 1000 characters, please."))
        return
    await state.update_data(reason=reason)
    await state.set_state(GoalDialog.confirm)
    data = await state.get_data()
    lang = locale()
    new = _revised_target(data)
    await message.answer(
        _("<b>Revise this goal?</b>")
        + "\n"
        + _("<b>{metric}</b>: {before} → {after}").format(
            metric=esc(data["metric"]),
            before=target(Decimal(data["value"]), data["unit"], data["year"], lang),
            after=target(new[0], data["unit"], new[1], lang),
        )
        + "\n"
        + _("Reason: {reason}").format(reason=esc(reason)),
        reply_markup=confirm_keyboard(),
    )


def _revised_target(data: dict[str, Any]) -> tuple[Decimal, int]:
    value = data["new_value"] if data.get("new_value") is not None else data["value"]
    year = data["new_year"] if data.get("new_year") is not None else data["year"]
    return Decimal(value), int(year)


async def goal_confirm(
    query: CallbackQuery,
    callback_data: GoalConfirm,
    member: MemberProfile | None,
    state: FSMContext,
    gateway: DomainGateway,
    command_id: str,
) -> None:
    acting = require_member(member)
    data = await state.get_data()
    await state.clear()
    await query.answer()
    if not callback_data.record:
        await show(query, _("Cancelled. Nothing was recorded."))
        return
    lang = locale()
    if "goal_id" not in data:
        await gateway.handle(
            SetGoal.parse(
                region=data["region"],
                topic=data["topic"],
                metric=data["metric"],
                target_value=data["value"],
                unit=data["unit"],
                target_year=data["year"],
            ),
            actor=acting.member_id,
            command_id=command_id,
        )
        await show(
            query,
            _("✅ {name} set the goal “{metric}”: {target}.").format(
                name=esc(acting.name),
                metric=esc(data["metric"]),
                target=target(Decimal(data["value"]), data["unit"], data["year"], lang),
            ),
        )
        return
    try:
        await gateway.handle(
            ReviseGoal.parse(
                goal_id=UUID(data["goal_id"]),
                target_value=data.get("new_value"),
                target_year=data.get("new_year"),
                reason=data["reason"],
                expected_version=data["version"],
            ),
            actor=acting.member_id,
            command_id=command_id,
        )
    except Conflict:
        await show(
            query,
            _(
                "Someone changed this goal in the meantime. Nothing was recorded; "
                "/goals shows it as it is now, /goal starts again."
            ),
        )
        return
    value, year = _revised_target(data)
    await show(
        query,
        _("✅ {name} revised the goal “{metric}”: now {target}.").format(
            name=esc(acting.name),
            metric=esc(data["metric"]),
            target=target(value, data["unit"], year, lang),
        ),
    )


def _dialog_text(step: State) -> tuple[Any, ...]:
    return (StateFilter(step), F.text, ~F.text.startswith("/"))


def build() -> Router:
    router = Router(name="goals")
    router.message.register(goals, catalog.GOALS.filter)
    router.message.register(goal, catalog.GOAL.filter)
    router.message.register(goal_region, *_dialog_text(GoalDialog.region))
    router.callback_query.register(goal_pick, GoalDialog.pick, GoalPick.filter())
    router.callback_query.register(goal_topic, GoalDialog.topic, GoalTopic.filter())
    router.message.register(goal_topic_typed, *_dialog_text(GoalDialog.topic))
    router.message.register(goal_metric, *_dialog_text(GoalDialog.metric))
    router.message.register(goal_value, *_dialog_text(GoalDialog.value))
    router.message.register(goal_unit, *_dialog_text(GoalDialog.unit))
    router.message.register(goal_year, *_dialog_text(GoalDialog.year))
    router.message.register(goal_new_value, *_dialog_text(GoalDialog.new_value))
    router.message.register(goal_new_year, *_dialog_text(GoalDialog.new_year))
    router.message.register(goal_reason, *_dialog_text(GoalDialog.reason))
    router.callback_query.register(goal_confirm, GoalDialog.confirm, GoalConfirm.filter())
    return router
