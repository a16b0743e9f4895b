"""The sender against a fake clock and a Bot API that answers 429, 403, 4xx and 5xx."""

from __future__ import annotations

import itertools
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiogram.types import Chat

from bot.notifier import ReachableAgainMiddleware, SenderPolicy, SlidingWindow
from domain.application import sqlite_env
from domain.clock import ManualClock
from projections.outbox import NewNotification, OutboxStore, Recipient, open_outbox
from tests.notifications.support import (
    START,
    FakeBotAPI,
    bad_request,
    forbidden,
    notifier,
    server_error,
    too_many,
)

GROUP = -1001234


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def outbox_store(tmp_path: Path):
    store = open_outbox(sqlite_env(""), tmp_path)
    yield store
    store.close()


def enqueue(
    store: OutboxStore, chat_id: int, count: int = 1, *, language: str | None = None, tag: str = ""
) -> list[int]:
    member = f"m{chat_id}"
    ids = []
    with store.db.transaction() as tx:
        tx.execute(
            "INSERT INTO outbox_members VALUES (?, NULL, 'staff', ?, ?, ?, 1)"
            " ON CONFLICT (member_id) DO UPDATE SET language = excluded.language",
            (member, f"Member {chat_id}", chat_id, language),
        )
        for number in range(count):
            ids.append(
                store.insert(
                    tx,
                    NewNotification(
                        dedupe_key=f"test:{chat_id}:{tag}{number}",
                        recipient=Recipient(member, chat_id, None, "staff", "", language),
                        kind="twinnings",
                        template="twinning_started",
                        payload={"twinning": f"Pair {tag}{number}", "twinning_id": None},
                        created_at=START,
                    ),
                )
            )
    return [i for i in ids if i is not None]


def most_in_any_window(times: list[float], window: float) -> int:
    times = sorted(times)
    best = 0
    start = 0
    for end, moment in enumerate(times):
        while moment - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


def seconds(api: FakeBotAPI, chat_id: int | None = None) -> list[float]:
    return [
        (call.at - START).total_seconds()
        for call in api.calls
        if chat_id is None or call.chat_id == chat_id
    ]


def states(store: OutboxStore) -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in store.notifications():
        counts[row["state"]] = counts.get(row["state"], 0) + 1
    return counts


# --- limits --------------------------------------------------------------------------


def test_a_sliding_window_allows_exactly_its_limit_in_any_window() -> None:
    window = SlidingWindow(3, 1.0)
    for moment in (0.0, 0.1, 0.2):
        assert window.delay(moment) == 0
        window.record(moment)
    assert window.delay(0.5) == pytest.approx(0.5)
    assert window.delay(1.0) == 0


@pytest.mark.parametrize("in_flight", [1, 4])
async def test_a_fan_out_keeps_to_30_messages_a_second(outbox_store, clock, in_flight) -> None:
    for chat in range(1, 101):
        enqueue(outbox_store, chat)
    api = FakeBotAPI(clock)

    await notifier(outbox_store, api, clock, max_in_flight=in_flight).drain()

    assert len(api.delivered()) == 100
    assert most_in_any_window(seconds(api), 1.0) == 30
    assert seconds(api)[-1] >= 3.0  # 100 messages need more than 3 s
    assert states(outbox_store) == {"sent": 100}


async def test_one_chat_gets_at_most_one_message_a_second_in_order(outbox_store, clock) -> None:
    enqueue(outbox_store, 7, count=5)
    enqueue(outbox_store, 8, count=1)
    api = FakeBotAPI(clock)

    await notifier(outbox_store, api, clock).drain()

    times = seconds(api, 7)
    assert len(times) == 5
    assert all(later - earlier >= 1.0 for earlier, later in itertools.pairwise(times))
    assert [call.text for call in api.calls if call.chat_id == 7] == [
        f"🚀 RegioTwin hat das Twinning Pair {n} gestartet." for n in range(5)
    ]
    assert seconds(api, 8) == [0.0]  # another chat does not wait behind chat 7


async def test_a_group_gets_at_most_20_messages_a_minute(outbox_store, clock) -> None:
    enqueue(outbox_store, GROUP, count=25)
    api = FakeBotAPI(clock)

    await notifier(outbox_store, api, clock).drain()

    times = seconds(api, GROUP)
    assert len(times) == 25
    assert most_in_any_window(times, 60.0) <= 20


# --- Telegram's answers ----------------------------------------------------------------


async def test_a_429_is_obeyed_for_all_sending_and_the_message_comes_later(
    outbox_store, clock
) -> None:
    for chat in (1, 2, 3):
        enqueue(outbox_store, chat)
    api = FakeBotAPI(clock, lambda chat, tries: too_many(5) if chat == 1 and tries == 0 else None)

    await notifier(outbox_store, api, clock).drain()

    assert [(call.chat_id, call.status) for call in api.calls] == [
        (1, 429),
        (1, 200),
        (2, 200),
        (3, 200),
    ]
    first, *later = seconds(api)
    assert all(moment >= first + 5 for moment in later)  # nothing went out meanwhile
    row = outbox_store.notifications(chat_id=1)[0]
    assert (row["state"], row["attempts"]) == ("sent", 0)  # a 429 is no failed attempt


async def test_a_403_holds_the_chat_until_the_member_writes_again(outbox_store, clock) -> None:
    enqueue(outbox_store, 2, count=3)
    enqueue(outbox_store, 3)
    blocked = {"yes": True}
    api = FakeBotAPI(
        clock, lambda chat, tries: forbidden() if chat == 2 and blocked["yes"] else None
    )
    sender = notifier(outbox_store, api, clock)

    await sender.drain()

    assert [(call.chat_id, call.status) for call in api.calls] == [(2, 403), (3, 200)]
    assert outbox_store.stats("RegioTwin").unreachable_chats == 1
    assert states(outbox_store) == {"pending": 3, "sent": 1}  # held, not lost
    assert sender.unreachable == {2}

    # The member unblocks the bot and writes to it: the middleware clears the chat.
    blocked["yes"] = False
    handled: list[Any] = []

    async def handler(event: Any, data: dict[str, Any]) -> str:
        handled.append(event)
        return "answered"

    middleware = ReachableAgainMiddleware(sender)
    chat = Chat(id=2, type="private")
    assert await middleware(handler, object(), {"event_chat": chat}) == "answered"
    assert handled
    await sender.drain()

    assert [call.chat_id for call in api.delivered()] == [3, 2, 2, 2]
    assert states(outbox_store) == {"sent": 4}
    assert outbox_store.stats("RegioTwin").unreachable_chats == 0


async def test_5xx_backs_off_exponentially_capped_and_ends_failed(outbox_store, clock) -> None:
    enqueue(outbox_store, 3)
    enqueue(outbox_store, 4)
    api = FakeBotAPI(clock, lambda chat, tries: server_error() if chat == 3 else None)

    await notifier(outbox_store, api, clock, backoff_cap=30, max_attempts=8).drain()

    times = seconds(api, 3)
    assert len(times) == 8
    gaps = [round(later - earlier) for earlier, later in itertools.pairwise(times)]
    assert gaps == [2, 4, 8, 16, 30, 30, 30]
    failed = outbox_store.notifications(chat_id=3)[0]
    assert (failed["state"], failed["attempts"]) == ("failed", 8)
    assert "Bad Gateway" in failed["last_error"]
    stats = outbox_store.stats("RegioTwin")
    assert stats.count("failed") == 1
    assert stats.failures[0]["chat_id"] == 3
    assert outbox_store.notifications(chat_id=4)[0]["state"] == "sent"


async def test_a_passing_5xx_is_retried_until_sent(outbox_store, clock) -> None:
    enqueue(outbox_store, 5)
    api = FakeBotAPI(clock, lambda chat, tries: server_error() if tries < 2 else None)

    await notifier(outbox_store, api, clock).drain()

    assert [call.status for call in api.calls] == [502, 502, 200]
    row = outbox_store.notifications(chat_id=5)[0]
    assert (row["state"], row["attempts"]) == ("sent", 2)


async def test_a_message_telegram_refuses_fails_at_once(outbox_store, clock) -> None:
    enqueue(outbox_store, 6)
    api = FakeBotAPI(clock, lambda chat, tries: bad_request())

    await notifier(outbox_store, api, clock).drain()

    assert len(api.calls) == 1
    assert outbox_store.notifications(chat_id=6)[0]["state"] == "failed"


async def test_a_chat_that_never_started_the_bot_is_unreachable(outbox_store, clock) -> None:
    enqueue(outbox_store, 9)
    api = FakeBotAPI(clock, lambda chat, tries: bad_request("Bad Request: chat not found"))

    await notifier(outbox_store, api, clock).drain()

    assert outbox_store.is_unreachable(9)
    assert outbox_store.notifications(chat_id=9)[0]["state"] == "pending"


async def test_messages_are_rendered_at_send_time_in_the_recipients_language(
    outbox_store, clock
) -> None:
    enqueue(outbox_store, 11, language=None)
    enqueue(outbox_store, 12, language="en")
    api = FakeBotAPI(clock)

    await notifier(outbox_store, api, clock).drain()

    texts = {call.chat_id: call.text for call in api.calls}
    assert texts[11] == "🚀 RegioTwin hat das Twinning Pair 0 gestartet."
    assert texts[12] == "🚀 RegioTwin started the twinning Pair 0."


def test_backoff_doubles_up_to_its_cap() -> None:
    policy = SenderPolicy(backoff_base=2, backoff_cap=600)
    assert [policy.backoff(n) for n in (1, 2, 3, 9, 10, 20)] == [2, 4, 8, 512, 600, 600]


# --- claiming, on both stores -------------------------------------------------------------


def test_two_instances_never_claim_one_notification(outbox, store, tmp_path) -> None:
    first = outbox.store
    for chat in range(1, 121):
        enqueue(first, chat)
    second = open_outbox(store, tmp_path)
    claimed: dict[str, list[int]] = {"a": [], "b": []}
    now = START

    def claim_all(instance: str, outbox_store: OutboxStore) -> None:
        while got := outbox_store.claim(instance, now, stale_after=timedelta(seconds=90)):
            claimed[instance].append(got.id)

    try:
        threads = [
            threading.Thread(target=claim_all, args=("a", first)),
            threading.Thread(target=claim_all, args=("b", second)),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        second.close()
    everything = claimed["a"] + claimed["b"]
    assert len(everything) == 120
    assert len(set(everything)) == 120


def test_a_stale_claim_is_taken_over_after_the_timeout(outbox) -> None:
    store = outbox.store
    [notification] = enqueue(store, 1)
    stale = timedelta(seconds=90)
    assert store.claim("crashed", START, stale_after=stale).id == notification
    assert store.claim("other", START + timedelta(seconds=60), stale_after=stale) is None
    taken = store.claim("other", START + timedelta(seconds=91), stale_after=stale)
    assert taken is not None
    assert taken.id == notification
    assert store.notifications()[0]["claimed_by"] == "other"
