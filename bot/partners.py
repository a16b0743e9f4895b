"""What the exchange, advice and member screens share: which twinning and which side a
member acts in, compact ids for buttons, and small rendering helpers.

Button data is client-controlled: every id that comes back in a button is looked up again
in the read models and checked against what the pressing member may see.
"""

from __future__ import annotations

import base64
import binascii
from uuid import UUID

from aiogram.exceptions import TelegramBadRequest
from aiogram.filters.callback_data import CallbackData
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _

from bot.catalog import BotCommand
from bot.read_models import ReadModels
from bot.rendering import esc, split_message
from domain.errors import NotAllowed, NotFound
from domain.service import MemberProfile
from projections import queries
from projections.models import RegionRef, RegionTwinning

BUTTON_TEXT = 60


class TwinningPick(CallbackData, prefix="twp"):
    """A twinning chosen at the start of a dialog (``flow``: ex, ask, adv)."""

    flow: str
    twinning: str


class SidePick(CallbackData, prefix="sdp"):
    """The region a programme-office member acts for in a twinning."""

    flow: str
    region: str


# --- compact ids ------------------------------------------------------------------------


def short_id(value: UUID) -> str:
    """A UUID in 22 URL-safe characters (its hex needs 32; button data has 64 bytes)."""
    return base64.urlsafe_b64encode(value.bytes).rstrip(b"=").decode()


def from_short_id(text: str, not_found: str = "item.not_found") -> UUID:
    """The UUID of a button's compact id; a forged or broken one is simply not found."""
    try:
        raw = base64.urlsafe_b64decode(text + "==")
        return UUID(bytes=raw)
    except (binascii.Error, ValueError):
        raise NotFound(not_found) from None


# --- who may do what ----------------------------------------------------------------------


def require_command(member: MemberProfile, entry: BotCommand, code: str = "auth.read_only") -> None:
    """Refuse a command the member's role may not use, before any dialog starts."""
    if not entry.allowed_for(member):
        raise NotAllowed(code, role=str(member.role))


async def in_private(message: Message, entry: BotCommand) -> bool:
    """Guided dialogs run in a private chat: in a group the bot sees commands only."""
    if message.chat.type == "private":
        return True
    name = entry.aliases[0] if locale() == "de" and entry.aliases else entry.name
    await message.answer(
        _("Please use {command} in a private chat with me.").format(command=esc(f"/{name}"))
    )
    return False


def locale() -> str:
    return get_i18n().current_locale


def clip(text: str, limit: int) -> str:
    """Shorten a stored text for a list (callers escape the result)."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def button(text: str, data: CallbackData) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=clip(text, BUTTON_TEXT), callback_data=data.pack())


def keyboard(rows: list[list[InlineKeyboardButton]]) -> InlineKeyboardMarkup | None:
    rows = [row for row in rows if row]
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


def pairs(buttons: list[InlineKeyboardButton]) -> list[list[InlineKeyboardButton]]:
    return [buttons[i : i + 2] for i in range(0, len(buttons), 2)]


async def edit(message: Message, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """Show a new state of a screen in place (the rest in new messages if it grew long)."""
    parts = split_message(text)
    try:
        await message.edit_text(parts[0], reply_markup=markup if len(parts) == 1 else None)
    except TelegramBadRequest as error:
        if "not modified" not in str(error):
            raise
    for index, part in enumerate(parts[1:], start=2):
        await message.answer(part, reply_markup=markup if index == len(parts) else None)


async def drop_buttons(message: Message) -> None:
    """Take the buttons off a message whose question is answered."""
    try:
        await message.edit_reply_markup(reply_markup=None)
    except TelegramBadRequest as error:
        if "not modified" not in str(error):
            raise


def message_of(query: CallbackQuery) -> Message:
    """The message a button belongs to (too old to be shown again: nothing to act on)."""
    if not isinstance(query.message, Message):
        raise NotFound("item.not_found")
    return query.message


# --- twinnings ----------------------------------------------------------------------------


async def twinnings_for(
    read_models: ReadModels, member: MemberProfile, *, open_only: bool
) -> tuple[RegionTwinning, ...]:
    """The twinnings of the member's region; the programme office sees every twinning."""
    async with read_models.fresh() as db:
        return await queries.twinnings_of_region(db, member.region_id, open_only=open_only)


async def chosen_twinning(
    read_models: ReadModels, member: MemberProfile, pick: TwinningPick
) -> RegionTwinning:
    """The twinning a button names, if it is one the member may act in."""
    twinning_id = from_short_id(pick.twinning, "twinning.not_found")
    for twinning in await twinnings_for(read_models, member, open_only=True):
        if twinning.twinning_id == twinning_id:
            return twinning
    raise NotFound("twinning.not_found")


def twinning_name(twinning: RegionTwinning, member: MemberProfile) -> str:
    """The partner's name for a partner's member, both names for the office (not escaped)."""
    if member.region_id is not None and twinning.includes(member.region_id):
        return twinning.partner_of(member.region_id).name
    return f"{twinning.first.name} – {twinning.second.name}"


def twinning_keyboard(
    flow: str, twinnings: tuple[RegionTwinning, ...], member: MemberProfile
) -> InlineKeyboardMarkup | None:
    return keyboard(
        [
            [
                button(
                    twinning_name(t, member),
                    TwinningPick(flow=flow, twinning=short_id(t.twinning_id)),
                )
            ]
            for t in twinnings
        ]
    )


def side_keyboard(flow: str, twinning: RegionTwinning) -> InlineKeyboardMarkup | None:
    return keyboard(
        [
            [button(region.name, SidePick(flow=flow, region=short_id(region.region_id)))]
            for region in twinning.regions
        ]
    )


def region_ref_text(region: RegionRef) -> str:
    """How commands name a region: its official key, else its slug."""
    return region.key or region.slug or region.region_id.hex
