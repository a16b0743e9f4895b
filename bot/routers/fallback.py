"""The last router: whatever no other router took still gets an answer in private chats."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _


async def unknown_command(message: Message) -> None:
    await message.answer(_("I don't know this command; /help lists what you can do."))


async def not_a_command(message: Message) -> None:
    await message.answer(_("I understand commands; /help lists them."))


async def unknown_button(query: CallbackQuery) -> None:
    await query.answer(_("This button is no longer valid."), show_alert=True)


def build() -> Router:
    router = Router(name="fallback")
    router.message.register(unknown_command, F.chat.type == "private", F.text.startswith("/"))
    router.message.register(not_a_command, F.chat.type == "private")
    router.callback_query.register(unknown_button)
    return router
