"""Long polling that confirms an update to Telegram only once it has been handled.

Telegram forgets an update when a later ``getUpdates`` names an offset past it. aiogram's
polling handles updates as tasks and asks for the next ones at once, so a bot killed
meanwhile loses what it had in hand: never answered, never delivered again, recorded or
not. Here the offset stays at the oldest update still being handled: after a crash
Telegram delivers everything unfinished again, and the handled-updates log and the
command receipts make a second delivery of a finished one harmless. Updates are still
handled concurrently (the per-chat ordering middleware keeps each chat in order).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.exceptions import (
    TelegramConflictError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import GetUpdates
from aiogram.types import Update

log = logging.getLogger("regiotwin.polling")

LONG_POLL = 25
"""Seconds Telegram may hold a ``getUpdates`` open while nothing is in hand."""
IN_HAND_LOOK = 0.1
"""Seconds between looks for new updates while older ones are still being handled (the
offset cannot move on, so Telegram answers at once with what we have)."""
SHUTDOWN_GRACE = 20.0
"""Seconds a stopping bot waits for the updates in hand to finish."""
MAX_BACKOFF = 30.0


class ConfirmingPoller:
    def __init__(self, dispatcher: Dispatcher, bot: Bot, **workflow_data: Any) -> None:
        self.dispatcher = dispatcher
        self.bot = bot
        self.workflow_data = workflow_data
        self.in_hand: dict[int, asyncio.Task[None]] = {}
        self.newest: int | None = None
        """The highest update id taken; everything up to it is in hand or finished."""

    @property
    def offset(self) -> int | None:
        """What to confirm: everything below the oldest update in hand."""
        if self.in_hand:
            return min(self.in_hand)
        return None if self.newest is None else self.newest + 1

    async def run(self, stop: asyncio.Event) -> None:
        allowed = self.dispatcher.resolve_used_update_types()
        backoff = 1.0
        while not stop.is_set():
            waiting = 0 if self.in_hand else LONG_POLL
            poll = asyncio.ensure_future(
                self.bot(
                    GetUpdates(offset=self.offset, timeout=waiting, allowed_updates=allowed),
                    request_timeout=waiting + 10,
                )
            )
            stopping = asyncio.ensure_future(stop.wait())
            await asyncio.wait({poll, stopping}, return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            if not poll.done():
                poll.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await poll
                break
            try:
                updates = poll.result()
            except TelegramRetryAfter as error:
                await self._pause(stop, error.retry_after)
                continue
            except (TelegramNetworkError, TelegramServerError, TelegramConflictError) as error:
                log.warning("getUpdates failed (%s); again in %.0f s", error, backoff)
                await self._pause(stop, backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)
                continue
            backoff = 1.0
            taken = [self._take(update) for update in updates if self._is_new(update)]
            if self.in_hand and not taken:
                await asyncio.wait(
                    set(self.in_hand.values()),
                    timeout=IN_HAND_LOOK,
                    return_when=asyncio.FIRST_COMPLETED,
                )
        await self._finish()

    def _is_new(self, update: Update) -> bool:
        return self.newest is None or update.update_id > self.newest

    def _take(self, update: Update) -> int:
        self.newest = update.update_id
        task = asyncio.create_task(self._handle(update), name=f"update-{update.update_id}")
        self.in_hand[update.update_id] = task
        task.add_done_callback(lambda _task: self.in_hand.pop(update.update_id, None))
        return update.update_id

    async def _handle(self, update: Update) -> None:
        try:
            await self.dispatcher.feed_update(self.bot, update, **self.workflow_data)
        except Exception:  # the error middleware answered; this is for the log
            log.exception("update %s failed", update.update_id)

    async def _finish(self) -> None:
        """Let the updates in hand finish, then confirm them (so they are not delivered
        again after a clean stop)."""
        if self.in_hand:
            await asyncio.wait(set(self.in_hand.values()), timeout=SHUTDOWN_GRACE)
        if self.offset is not None and not self.in_hand:
            with contextlib.suppress(TelegramNetworkError, TelegramServerError):
                await self.bot(GetUpdates(offset=self.offset, timeout=0, limit=1))

    @staticmethod
    async def _pause(stop: asyncio.Event, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), seconds)


async def poll(
    dispatcher: Dispatcher, bot: Bot, *, stop: asyncio.Event | None = None, signals: bool = True
) -> None:
    """Long polling until ``stop`` is set (or SIGINT/SIGTERM with ``signals``), with the
    dispatcher's startup and shutdown hooks around it."""
    stop = stop or asyncio.Event()
    if signals:
        loop = asyncio.get_running_loop()
        for number in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(number, stop.set)
    await dispatcher.emit_startup(bot=bot, dispatcher=dispatcher, bots=[bot])
    try:
        await ConfirmingPoller(dispatcher, bot).run(stop)
    finally:
        await dispatcher.emit_shutdown(bot=bot, dispatcher=dispatcher, bots=[bot])
