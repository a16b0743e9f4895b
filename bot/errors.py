"""Every failure gets an answer in the user's language; never a stack trace, never silence."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import CallbackQuery, Message, TelegramObject
from aiogram.utils.i18n import gettext as _

from bot.error_messages import render_error
from bot.middlewares import STORE_FAULT
from domain.errors import DomainError

log = logging.getLogger("regiotwin.bot")


async def reply(event: TelegramObject, text: str) -> None:
    if isinstance(event, Message):
        await event.answer(text)
    elif isinstance(event, CallbackQuery):
        await event.answer(text[:200], show_alert=True)


class ErrorReplyMiddleware(BaseMiddleware):
    """Registered inside the language middleware, so errors are told in the user's language."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        try:
            fault = data.get(STORE_FAULT)
            if fault is not None:  # not even the member could be looked up
                raise fault
            return await handler(event, data)
        except DomainError as error:
            log.info("refused: %s", error.code, extra={"params": error.params})
            await reply(event, render_error(error))
        except Exception:
            reference = secrets.token_hex(4)
            log.exception("unexpected error, reference %s", reference)
            await reply(
                event,
                _(
                    "Sorry, something went wrong on our side. Please try again; if it "
                    "happens again, tell your coordinator the reference {reference}."
                ).format(reference=reference),
            )
        return None
