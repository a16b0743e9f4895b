"""The plumbing every screen shares: the answer's language, who may start a dialog,
where dialogs run, short texts for lists and buttons, keyboards, and showing a new state
of a screen in place.
"""

from __future__ import annotations

from aiogram.exceptions import TelegramBadRequest
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _

from bot.catalog import RECORDERS, BotCommand
from bot.labels import role_label
from bot.rendering import esc, split_message
from bot.replies import answer_long
from domain.errors import NotAllowed, NotFound
from domain.service import MemberProfile

BUTTON_TEXT = 60
"""Characters of a button's text (Telegram cuts longer ones)."""


def locale() -> str:
    """The language of the current answer (set by the language middleware)."""
    return str(get_i18n().current_locale)


def private(message: Message) -> bool:
    return message.chat.type == "private"


def require_recorder(member: MemberProfile) -> None:
    """Refuse read-only roles before a guided dialog rather than at its end."""
    if member.role not in RECORDERS:
        raise NotAllowed("auth.read_only", role=role_label(member.role))


def require_command(member: MemberProfile, entry: BotCommand, code: str = "auth.read_only") -> None:
    """Refuse a command the member's role may not use, before any dialog starts."""
    if not entry.allowed_for(member):
        raise NotAllowed(code, role=role_label(member.role))


async def in_private(message: Message, entry: BotCommand) -> bool:
    """Guided dialogs run in a private chat: in a group the bot sees commands only."""
    if message.chat.type == "private":
        return True
    name = entry.aliases[0] if locale() == "de" and entry.aliases else entry.name
    await message.answer(
        _("Please use {command} in a private chat with me.").format(command=esc(f"/{name}"))
    )
    return False


def shorten(text: str, limit: int) -> str:
    """One line of at most ``limit`` characters (for buttons and lists)."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


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


async def show(
    query: CallbackQuery, text: str, reply_markup: InlineKeyboardMarkup | None = None
) -> None:
    """Replace the pressed message with a new screen (a new message if it is gone)."""
    if isinstance(query.message, Message):
        await edit(query.message, text, reply_markup)
    elif query.bot is not None:
        await query.bot.send_message(query.from_user.id, text, reply_markup=reply_markup)


async def send(
    query: CallbackQuery, text: str, reply_markup: InlineKeyboardMarkup | None = None
) -> None:
    """Answer a button with a new message below the pressed one."""
    if isinstance(query.message, Message):
        await answer_long(query.message, text, reply_markup=reply_markup)
    elif query.bot is not None:
        await query.bot.send_message(query.from_user.id, text, reply_markup=reply_markup)


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
