"""The sender: delivers the outbox's notifications within Telegram's limits.

An asyncio task in the bot process. It claims one notification at a time from the
outbox (atomically, also across bot instances), renders it in the recipient's
language, sends it and records how that ended:

* sent → ``sent``;
* 429 Too Many Requests → pending again after ``retry_after``; all sending pauses as long;
* 403 Forbidden (the user blocked the bot or left) and 400 "chat not found" → the chat
  is unreachable: its notifications wait until the member writes to the bot again;
* another 400 (the message itself is wrong) → ``failed`` at once;
* anything else (5xx, network, timeouts) → pending again after a capped exponential
  backoff; after ``max_attempts`` → ``failed`` (shown by ``run_bot.py health``).

Limits: at most ``overall_per_second`` messages in any second (a sliding window, in this
process); one message per second per private chat and one per 3 s per group (kept in the
outbox per chat, so they hold across instances). Both count a message from the moment its
request was answered: Telegram saw it at some point between request and answer, so no
latency can put more than the limit into any second as Telegram counts it (the price: the
rate is ``overall_per_second / (1 s + round trip)``). Clock and sleep are injected, so the
limits are tested on a fake clock.

A crash loses nothing: a claim not finished within ``stale_after`` is pending again, so
the message in flight at the crash is the only one that may be sent twice
(``max_in_flight`` = 1; more in flight trade that guarantee for throughput).
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramRetryAfter,
)
from aiogram.types import TelegramObject
from aiogram.utils.i18n import I18n

from bot.notification_texts import render
from domain.clock import Clock
from projections.outbox import Claimed, OutboxStore

log = logging.getLogger("regiotwin.notifier")

Sleep = Callable[[float], Awaitable[Any]]


class SlidingWindow:
    """At most ``limit`` events in any ``window`` seconds (exact, unlike a token bucket
    whose burst adds to its rate).

    An event may take time (a request in flight): ``begin`` takes its place at once and
    ``end`` dates it when it is over, so an event is never dated before it may have
    happened. ``record`` is an instant event."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._times: deque[float] = deque()
        self._open = 0

    def delay(self, now: float) -> float:
        """Seconds until one more event may begin (0: now)."""
        while self._times and self._times[0] <= now - self.window:
            self._times.popleft()
        excess = len(self._times) + self._open - self.limit
        if excess < 0:
            return 0.0
        if excess < len(self._times):
            return self._times[excess] + self.window - now
        return self.window  # only open events fill the window: wait for one to end

    def begin(self) -> None:
        self._open += 1

    def end(self, now: float) -> None:
        self._open -= 1
        self._times.append(now)

    def record(self, now: float) -> None:
        self.begin()
        self.end(now)


class Limits:
    """The process-wide part of Telegram's limits: overall rate and 429 pauses."""

    def __init__(self, per_second: int) -> None:
        self.overall = SlidingWindow(per_second, 1.0)
        self.paused_until = 0.0

    def delay(self, now: float) -> float:
        return max(self.overall.delay(now), self.paused_until - now, 0.0)

    def begin(self) -> None:
        self.overall.begin()

    def end(self, now: float) -> None:
        self.overall.end(now)

    def pause_until(self, moment: float) -> None:
        self.paused_until = max(self.paused_until, moment)


@dataclass(frozen=True)
class SenderPolicy:
    overall_per_second: int = 30
    max_in_flight: int = 1
    stale_after: timedelta = timedelta(seconds=90)
    request_timeout: int = 30  # seconds; well below stale_after
    backoff_base: float = 2.0
    backoff_cap: float = 600.0
    max_attempts: int = 8
    idle_poll: float = 1.0
    """Seconds between looks at the outbox when nobody wakes the sender."""
    unreachable_refresh: float = 30.0

    def backoff(self, attempt: int) -> float:
        """Seconds to wait after the ``attempt``-th failed try (1, 2, …)."""
        return float(min(self.backoff_cap, self.backoff_base * 2 ** (attempt - 1)))


def instance_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class Notifier:
    def __init__(
        self,
        store: OutboxStore,
        bot: Bot,
        clock: Clock,
        i18n: I18n,
        *,
        policy: SenderPolicy | None = None,
        sleep: Sleep = asyncio.sleep,
        instance: str | None = None,
    ) -> None:
        self.store = store
        self.bot = bot
        self.clock = clock
        self.i18n = i18n
        self.policy = policy or SenderPolicy()
        self.sleep = sleep
        self.instance = instance or instance_name()
        self.limits = Limits(self.policy.overall_per_second)
        self.unreachable: set[int] = set()
        """Chats known to be unreachable (for the middleware that clears them)."""
        self._slots = asyncio.Semaphore(self.policy.max_in_flight)
        self._in_flight: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()
        self._stopping = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None

    # --- life cycle ------------------------------------------------------------------

    def start(self) -> asyncio.Task[None]:
        self._task = asyncio.create_task(self.run(), name="notifier")
        return self._task

    async def stop(self, timeout: float = 10.0) -> None:
        """Finish the message in flight (so nothing is sent twice), then stop."""
        self._stopping = True
        self._wake.set()
        if self._task is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout)
        except TimeoutError:
            self._task.cancel()
        except Exception:
            log.exception("the notifier stopped with an error")

    def wake(self) -> None:
        """New notifications are waiting (callable from any thread)."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._wake.set)

    async def run(self) -> None:
        self._loop = asyncio.get_running_loop()
        await self._refresh_unreachable()
        refreshed = self._seconds()
        while not self._stopping:
            try:
                if await self.step():
                    continue
                if self._seconds() - refreshed >= self.policy.unreachable_refresh:
                    await self._refresh_unreachable()
                    refreshed = self._seconds()
                await self._idle(await self._until_next())
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("the notifier failed; trying again shortly")
                await self._idle(self.policy.idle_poll)
        await self._finish_in_flight()

    # --- one notification --------------------------------------------------------------

    async def step(self) -> bool:
        """Claim and send the next notification that may go now; False if none may."""
        self._wake.clear()
        await self._slots.acquire()
        try:
            await self._wait_for_rate()
            now = self.clock.now()
            claimed = await asyncio.to_thread(
                self.store.claim, self.instance, now, stale_after=self.policy.stale_after
            )
        except BaseException:
            self._slots.release()
            raise
        if claimed is None:
            self._slots.release()
            return False
        self.limits.begin()
        task = asyncio.create_task(self._deliver(claimed))
        self._in_flight.add(task)
        task.add_done_callback(self._done)
        return True

    def _done(self, task: asyncio.Task[None]) -> None:
        self._in_flight.discard(task)
        self._slots.release()
        if not task.cancelled() and task.exception() is not None:
            log.error("delivering a notification failed", exc_info=task.exception())

    async def _deliver(self, claimed: Claimed) -> None:
        try:
            try:
                rendered = render(self.i18n, claimed.template, claimed.payload, claimed.language)
                await self.bot.send_message(
                    chat_id=claimed.chat_id,
                    text=rendered.text,
                    reply_markup=rendered.markup,
                    request_timeout=self.policy.request_timeout,
                )
            finally:
                self.limits.end(self._seconds())
        except TelegramRetryAfter as error:
            await self._retry_after(claimed, error)
        except TelegramForbiddenError as error:
            await self._unreachable(claimed, f"403 {error.message}")
        except TelegramBadRequest as error:
            if "chat not found" in error.message.lower():
                await self._unreachable(claimed, f"400 {error.message}")
            else:
                log.error("notification %s refused: %s", claimed.id, error.message)
                await asyncio.to_thread(
                    self.store.fail, claimed.id, self.clock.now(), f"400 {error.message}"
                )
        except Exception as error:
            await self._failed_attempt(claimed, error)
        else:
            await asyncio.to_thread(self.store.mark_sent, claimed.id, self.clock.now())

    async def _retry_after(self, claimed: Claimed, error: TelegramRetryAfter) -> None:
        now = self.clock.now()
        until = now + timedelta(seconds=error.retry_after)
        self.limits.pause_until(until.timestamp())
        log.warning("429 from Telegram: pausing %s s", error.retry_after)
        await asyncio.to_thread(
            self.store.retry_at,
            claimed.id,
            until,
            f"429 retry after {error.retry_after} s",
            count_attempt=False,
        )

    async def _unreachable(self, claimed: Claimed, reason: str) -> None:
        log.info("chat %s unreachable (%s): holding its notifications", claimed.chat_id, reason)
        self.unreachable.add(claimed.chat_id)
        await asyncio.to_thread(
            self.store.mark_unreachable, claimed.chat_id, claimed.id, self.clock.now(), reason
        )

    async def _failed_attempt(self, claimed: Claimed, error: Exception) -> None:
        attempt = claimed.attempts + 1
        reason = f"{type(error).__name__}: {error}"
        now = self.clock.now()
        if attempt >= self.policy.max_attempts:
            log.error(
                "notification %s failed for good after %s tries: %s", claimed.id, attempt, reason
            )
            await asyncio.to_thread(self.store.fail, claimed.id, now, reason)
            return
        delay = self.policy.backoff(attempt)
        log.warning(
            "notification %s: try %s failed (%s); again in %s s", claimed.id, attempt, reason, delay
        )
        await asyncio.to_thread(
            self.store.retry_at,
            claimed.id,
            now + timedelta(seconds=delay),
            reason,
            count_attempt=True,
        )

    # --- waiting ---------------------------------------------------------------------

    def _seconds(self) -> float:
        return self.clock.now().timestamp()

    async def _wait_for_rate(self) -> None:
        while True:
            await asyncio.sleep(0)  # answers already in are dated now, not after the wait
            delay = self.limits.delay(self._seconds())
            if delay <= 0:
                return
            await self.sleep(delay)

    async def _until_next(self) -> float:
        now = self.clock.now()
        due = await asyncio.to_thread(self.store.next_due, now, self.policy.stale_after)
        if due is None:
            return self.policy.idle_poll
        seconds = (due - now).total_seconds()
        return min(self.policy.idle_poll, max(seconds, 0.02))

    async def _idle(self, seconds: float) -> None:
        """Sleep, unless woken by new notifications (or a stop) first."""
        if self._wake.is_set():
            return
        sleeper = asyncio.ensure_future(self.sleep(seconds))
        waker = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sleeper, waker):
                task.cancel()

    async def _finish_in_flight(self) -> None:
        if self._in_flight:
            await asyncio.gather(*self._in_flight, return_exceptions=True)

    async def _refresh_unreachable(self) -> None:
        try:
            self.unreachable = await asyncio.to_thread(self.store.unreachable_chats)
        except Exception:
            log.exception("could not read the unreachable chats")

    # --- for tests and tools ---------------------------------------------------------

    async def drain(self, *, within: timedelta = timedelta(days=1)) -> None:
        """Send until nothing is left that could go (or ``within`` of clock time passed),
        sleeping with the injected sleep in between (a fake clock makes this instant)."""
        deadline = self.clock.now() + within
        while self.clock.now() < deadline:
            if await self.step():
                continue
            await self._finish_in_flight()
            if await self.step():
                continue
            now = self.clock.now()
            due = await asyncio.to_thread(self.store.next_due, now, self.policy.stale_after)
            if due is None:
                return
            await self.sleep(max((due - now).total_seconds(), 0.001))
        await self._finish_in_flight()


class ReachableAgainMiddleware(BaseMiddleware):
    """A member who writes to the bot again (after blocking it) can be reached again."""

    def __init__(self, notifier: Notifier) -> None:
        self.notifier = notifier

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        chat = data.get("event_chat")
        if chat is not None and chat.type == "private" and chat.id in self.notifier.unreachable:
            try:
                await asyncio.to_thread(self.notifier.store.mark_reachable, chat.id)
                self.notifier.unreachable.discard(chat.id)
                log.info("chat %s wrote again: reachable", chat.id)
                self.notifier.wake()
            except Exception:
                log.exception("could not mark chat %s reachable", chat.id)
        return await handler(event, data)
