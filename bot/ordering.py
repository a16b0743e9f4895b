"""One chat's updates are handled one after the other, in the order Telegram sent them.

aiogram handles each update as its own task; a quick second message could otherwise
overtake the button press before it and land in the wrong dialog step. Different chats
still run side by side, so one busy chat never holds up another.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update


def chat_key(update: Update) -> int | None:
    if update.message is not None:
        return update.message.chat.id
    if update.edited_message is not None:
        return update.edited_message.chat.id
    if update.callback_query is not None:
        return update.callback_query.from_user.id
    return None


class ChatOrderMiddleware(BaseMiddleware):
    """Must be the first outer middleware of the update observer (its lock is taken
    before anything else awaits, so tasks queue in the order they were created)."""

    def __init__(self) -> None:
        self._locks: dict[int, asyncio.Lock] = {}
        self._waiting: dict[int, int] = {}

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        assert isinstance(event, Update)
        key = chat_key(event)
        if key is None:
            return await handler(event, data)
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._waiting[key] = self._waiting.get(key, 0) + 1
        try:
            async with lock:
                return await handler(event, data)
        finally:
            self._waiting[key] -= 1
            if self._waiting[key] == 0:
                del self._waiting[key]
                del self._locks[key]
