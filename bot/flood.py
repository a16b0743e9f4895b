"""Flood control: one Telegram user's burst of updates cannot crowd out everyone else.

Each user has a token bucket: it holds ``BURST`` tokens (20) and refills at ``PER_MINUTE``
(30 a minute, one every two seconds). Every update of the user takes a token, whatever it
is (commands, dialog answers, button presses; admins are no exception). An update without a
token is dropped at once, before it costs anything: no lookup of the member, no write to the
log of handled updates, no command for the domain. The user hears of it once per spell of
flooding (a friendly message in the chat, in their language); a button press always gets its
short answer, so the client stops its spinner, without a message in the chat.

The burst is generous for people: the longest guided dialog (/exchange) takes about fifteen
updates, and a person needs more than two seconds per answer. A script sending a hundred
updates a second gets twenty through, then one every two seconds.

Registered right after the per-chat ordering middleware: a dropped update releases its
chat's lock at once, so a flood in a group holds the others there up by microseconds per
update, and a flood in one chat holds up no other chat at all.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import ReplyParameters, TelegramObject, Update, User
from aiogram.utils.i18n import I18n

from bot.i18n import N_, build_i18n, guess_locale
from domain.clock import Clock
from domain.service import MemberProfile

log = logging.getLogger("regiotwin.bot")

BURST = 20
PER_MINUTE = 30
FORGET_ABOVE = 1000
"""Buckets kept before the full (idle) ones are forgotten."""

SLOW_DOWN = N_(
    "Please slow down a little: you sent more than I can take at once, so I skipped your "
    "last messages. Please send them again in a few seconds."
)
SLOW_DOWN_BUTTON = N_("Too many at once – please wait a moment and press again.")


@dataclass
class _Bucket:
    tokens: float
    at: float
    """When the tokens were counted (seconds since the epoch, from the clock)."""
    told: bool = False
    """Whether the user was told of this spell of flooding."""
    locale: str | None = None
    """The member's chosen language, as last seen."""


class FloodControlMiddleware(BaseMiddleware):
    def __init__(
        self,
        clock: Clock,
        *,
        burst: int = BURST,
        per_minute: int = PER_MINUTE,
        i18n: I18n | None = None,
    ) -> None:
        self.clock = clock
        self.burst = burst
        self.rate = per_minute / 60.0
        self.i18n = i18n or build_i18n()
        self._buckets: dict[int, _Bucket] = {}
        self.dropped = 0
        """Updates dropped since the start (for logs and tests)."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        assert isinstance(event, Update)
        user: User | None = data.get("event_from_user")
        if user is None:  # nobody to hold to account (e.g. a channel's post)
            return await handler(event, data)
        now = self.clock.now().timestamp()
        bucket = self._take(user.id, now)
        if bucket is None:
            try:
                return await handler(event, data)
            finally:
                if "member" in data:  # looked up further in (not for a redelivered update)
                    self._remember_language(user.id, data["member"])
        self.dropped += 1
        await self._tell(data["bot"], event, user, bucket)
        return None

    def _take(self, user_id: int, now: float) -> _Bucket | None:
        """Take a token: None if there was one, else the (empty) bucket."""
        bucket = self._buckets.get(user_id)
        if bucket is None:
            if len(self._buckets) >= FORGET_ABOVE:
                self._forget_idle(now)
            bucket = self._buckets[user_id] = _Bucket(tokens=self.burst, at=now)
        elapsed = max(0.0, now - bucket.at)  # a clock set back refills nothing
        bucket.tokens = min(float(self.burst), bucket.tokens + elapsed * self.rate)
        bucket.at = max(bucket.at, now)
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            bucket.told = False
            return None
        return bucket

    def _forget_idle(self, now: float) -> None:
        """Forget the buckets that are full again: those users are not flooding."""
        for user_id, bucket in list(self._buckets.items()):
            if bucket.tokens + max(0.0, now - bucket.at) * self.rate >= self.burst:
                del self._buckets[user_id]

    def _remember_language(self, user_id: int, member: MemberProfile | None) -> None:
        bucket = self._buckets.get(user_id)
        if bucket is not None:
            bucket.locale = (
                None if member is None or member.language is None else str(member.language)
            )

    async def _tell(self, bot: Bot, update: Update, user: User, bucket: _Bucket) -> None:
        locale = bucket.locale or guess_locale(None, user)
        try:
            if update.callback_query is not None:
                await bot.answer_callback_query(
                    update.callback_query.id,
                    text=self.i18n.gettext(SLOW_DOWN_BUTTON, locale=locale),
                )
            elif update.message is not None and not bucket.told:
                bucket.told = True
                log.info("flood control: user %s is sending too fast", user.id)
                message = update.message
                await bot.send_message(
                    message.chat.id,
                    self.i18n.gettext(SLOW_DOWN, locale=locale),
                    reply_parameters=None
                    if message.chat.type == "private"
                    else ReplyParameters(
                        message_id=message.message_id, allow_sending_without_reply=True
                    ),
                )
        except TelegramAPIError as error:  # telling is a courtesy; the flood stays dropped
            log.warning("could not tell user %s to slow down: %s", user.id, error)
