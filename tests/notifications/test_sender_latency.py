"""Telegram's limits hold as Telegram counts them, at its end of a slow, uneven network.

A request reaches the Bot API some time after it was sent and is answered some time
later; the sender knows neither. On a fake clock, each request here travels for a
while (now and then much longer) before the Bot API notes it, and the answer travels back.
"""

from __future__ import annotations

import asyncio
import itertools
import random
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiogram import Bot
from aiogram.methods import TelegramMethod

from bot.notifier import SlidingWindow
from domain.application import sqlite_env
from domain.clock import ManualClock
from projections.outbox import open_outbox
from tests.notifications.support import START, FakeBotAPI, notifier
from tests.notifications.test_sender import enqueue, most_in_any_window, seconds


class SlowBotAPI(FakeBotAPI):
    """Each request arrives after ``there`` seconds, its answer ``back`` seconds later."""

    def __init__(self, clock: ManualClock, latencies: list[tuple[float, float]]) -> None:
        super().__init__(clock)
        self.latencies = itertools.cycle(latencies)

    async def make_request(
        self, bot: Bot, method: TelegramMethod[Any], timeout: int | None = None
    ) -> Any:
        there, back = next(self.latencies)
        self.clock.advance(timedelta(seconds=there))
        await asyncio.sleep(0)
        result = await super().make_request(bot, method, timeout)  # notes the arrival
        self.clock.advance(timedelta(seconds=back))
        await asyncio.sleep(0)
        return result


def uneven(count: int, seed: int) -> list[tuple[float, float]]:
    """Mostly 1 ms each way; one request in twenty takes 0.05–0.3 s to arrive."""
    rng = random.Random(seed)
    return [(rng.uniform(0.05, 0.3) if rng.random() < 0.05 else 0.001, 0.001) for _ in range(count)]


@pytest.fixture
def outbox_store(tmp_path: Path):
    store = open_outbox(sqlite_env(""), tmp_path)
    yield store
    store.close()


def test_a_request_in_flight_holds_its_place_until_it_is_answered() -> None:
    window = SlidingWindow(2, 1.0)
    window.begin()
    window.begin()
    assert window.delay(5.0) == 1.0  # both still open: wait for one to end
    window.end(5.5)
    window.end(5.6)
    assert window.delay(6.0) == pytest.approx(0.5)  # dated by their answers
    assert window.delay(6.5) == 0


@pytest.mark.parametrize(("in_flight", "seed"), [(1, 1), (1, 2), (4, 3)])
async def test_no_second_at_the_bot_api_gets_more_than_30_messages(
    outbox_store, in_flight: int, seed: int
) -> None:
    clock = ManualClock(START)
    for chat in range(1, 301):
        enqueue(outbox_store, chat)
    api = SlowBotAPI(clock, uneven(300, seed))

    await notifier(outbox_store, api, clock, max_in_flight=in_flight).drain()

    arrivals = seconds(api)
    assert len(api.delivered()) == 300
    assert most_in_any_window(arrivals, 1.0) <= 30
    rate = len(arrivals) / (arrivals[-1] - arrivals[0])
    assert rate >= 20  # the window costs one round trip per 30 messages, no more


async def test_one_chat_never_gets_two_messages_within_a_second_at_the_bot_api(
    outbox_store,
) -> None:
    clock = ManualClock(START)
    enqueue(outbox_store, 7, count=6)
    latencies = [(0.5, 0.001), (0.001, 0.001), (0.3, 0.2), (0.001, 0.5), (0.9, 0.001)]
    api = SlowBotAPI(clock, latencies)

    await notifier(outbox_store, api, clock).drain()

    times = seconds(api, 7)
    assert len(times) == 6
    assert all(later - earlier >= 1.0 for earlier, later in itertools.pairwise(times))
