"""Sending answers that respect Telegram's limits."""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup, Message

from bot.rendering import split_message


async def answer_long(
    message: Message, text: str, reply_markup: InlineKeyboardMarkup | None = None
) -> None:
    """Answer in as many messages as needed; buttons go with the last part."""
    parts = split_message(text)
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        await message.answer(part, reply_markup=reply_markup if last else None)
