"""Cross-cutting concerns of every update: idempotency and who is acting."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.types import TelegramObject, Update

from bot.gateway import DomainGateway
from bot.handled_updates import HandledUpdates
from domain.clock import Clock
from domain.errors import StoreUnavailable

log = logging.getLogger("regiotwin.bot")

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]

STORE_FAULT = "store_fault"
"""Set when the acting member could not be looked up because the event store failed."""


def idempotency_key(bot: Bot, update: Update) -> str:
    """The callback query's id for a button press, else the update's id."""
    if update.callback_query is not None:
        return f"tg-callback:{update.callback_query.id}"
    return f"tg-update:{bot.id}:{update.update_id}"


class UpdateIdempotencyMiddleware(BaseMiddleware):
    """A redelivered update is not handled again; its key becomes the command id."""

    def __init__(self, handled: HandledUpdates, clock: Clock) -> None:
        self.handled = handled
        self.clock = clock

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        assert isinstance(event, Update)
        key = idempotency_key(data["bot"], event)
        if await self.handled.seen(key):
            log.info("update redelivered, already handled", extra={"update_key": key})
            return None
        data["command_id"] = key
        try:
            return await handler(event, data)
        finally:
            try:
                await self.handled.mark(key, self.clock.now())
            except (OSError, sqlite3.Error):  # e.g. the disk is full: it was answered anyway
                log.warning("could not note update %s as handled", key, exc_info=True)


class MemberMiddleware(BaseMiddleware):
    """Looks up the member behind the Telegram account (None for strangers)."""

    def __init__(self, gateway: DomainGateway) -> None:
        self.gateway = gateway

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user = data.get("event_from_user")
        try:
            data["member"] = None if user is None else await self.gateway.member_profile(user.id)
        except StoreUnavailable as error:
            # Told by ErrorReplyMiddleware, in the user's language, instead of silence.
            data["member"] = None
            data[STORE_FAULT] = error
        data["gateway"] = self.gateway
        return await handler(event, data)
