"""Flood control: 20 updates at once per user, then one every two seconds; one friendly
message per spell of flooding; button presses always answered; and one user's flood does
not slow the others down (concurrent feeders, as aiogram's polling runs updates as tasks)."""

from __future__ import annotations

import asyncio
import statistics
import time
from datetime import UTC, datetime, timedelta

from aiogram.types import Update

from bot.buttons import StatusOpen
from bot.flood import BURST, FORGET_ABOVE, FloodControlMiddleware
from bot.middlewares import MemberMiddleware
from domain.clock import ManualClock
from domain.values import Role
from tests.bot.conftest import BotWorld
from tests.bot.harness import GROUP, Person, Reply
from tests.bot.people import forged
from tests.reliability.cast import MARBURG, MUENCHEN, STEINFURT, set_the_stage
from tests.reliability.cast import seat as seat_of

ANNA = seat_of(Role.STAFF, MUENCHEN).person  # German
CORA = seat_of(Role.COORDINATOR, MUENCHEN).person  # English on Telegram
SLOW_DOWN_DE = "Bitte etwas langsamer"
SLOW_DOWN_EN = "Please slow down"
STATUS = "<b>Twinning "


def middleware(world: BotWorld) -> FloodControlMiddleware:
    [flood] = [
        m
        for m in world.harness.dispatcher.update.outer_middleware
        if isinstance(m, FloodControlMiddleware)
    ]
    return flood


async def test_a_burst_is_cut_at_the_limit_with_one_friendly_message(world: BotWorld):
    set_the_stage(world)

    answers = [await world.send(ANNA, "/hilfe") for _ in range(BURST + 10)]

    helped = [a for a in answers if a and not a[0].text.startswith(SLOW_DOWN_DE)]
    told = [a for a in answers if a and SLOW_DOWN_DE in a[0].text]
    assert len(helped) == BURST
    assert len(told) == 1
    assert answers[BURST] == told[0]
    assert all(a == [] for a in answers[BURST + 1 :]), "told once per spell, not per update"
    assert middleware(world).dropped == 10

    world.clock.advance(timedelta(seconds=2))  # one token back
    [again] = await world.send(ANNA, "/hilfe")
    assert not again.text.startswith(SLOW_DOWN_DE)
    [told_again] = await world.send(ANNA, "/hilfe")
    assert told_again.text.startswith(SLOW_DOWN_DE), "a new spell is told again"

    world.clock.advance(timedelta(seconds=40))  # the bucket is full again
    for _ in range(BURST):
        [helped_again] = await world.send(ANNA, "/hilfe")
        assert not helped_again.text.startswith(SLOW_DOWN_DE)


async def test_button_presses_are_still_answered_but_nothing_is_posted(world: BotWorld):
    stage = set_the_stage(world)
    for _ in range(BURST):
        await world.send(ANNA, "/hilfe")
    button = forged(ANNA, StatusOpen(twinning=stage.pair.twinning_id).pack())

    presses = [await world.harness.press(ANNA, button, "x") for _ in range(5)]

    for replies in presses:
        [answer] = replies
        assert answer.method == "AnswerCallbackQuery"
        assert answer.text.startswith("Zu viel auf einmal – bitte warten Sie einen Moment")


async def test_the_message_is_in_the_language_the_member_chose(world: BotWorld):
    set_the_stage(world)
    await world.send(CORA, "/lang de")  # Telegram says English; Cora chose German

    answers = [await world.send(CORA, "/help") for _ in range(BURST + 3)]

    told = [a[0].text for a in answers if a and "/help" not in a[0].text]
    assert len(told) == 1
    assert told[0].startswith(SLOW_DOWN_DE)


async def test_a_flood_in_a_group_is_answered_there_once(world: BotWorld):
    set_the_stage(world)
    updates = [world.harness.message_update(CORA, "/status", GROUP) for _ in range(BURST + 15)]

    answers = [await world.harness.feed(update) for update in updates]

    told = [a for a in answers if a and a[0].text.startswith(SLOW_DOWN_EN)]
    assert len(told) == 1
    assert told[0][0].chat_id == GROUP.id


# --- one user floods, the others do not notice -----------------------------------------------


async def _timed(world: BotWorld, update: Update) -> tuple[float, list[Reply]]:
    started = time.perf_counter()
    replies = await world.harness.feed(update)
    return time.perf_counter() - started, replies


async def _others(world: BotWorld, people: list[Person], rounds: int) -> list[tuple[float, bool]]:
    """Each of ``people`` asks for a status, one after the other, ``rounds`` times; half of
    them in their private chat, half in the group the flooder floods too."""
    timings = []
    for round_ in range(rounds):
        for index, person in enumerate(people):
            chat = GROUP if (round_ + index) % 2 else None
            took, replies = await _timed(
                world, world.harness.message_update(person, "/status 09184", chat)
            )
            # other tasks' answers interleave: the status is the one to this chat
            served = any(
                reply.text.startswith(STATUS) and reply.chat_id == (chat or person).id
                for reply in replies
            )
            timings.append((took, served))
            await asyncio.sleep(0.005)
    return timings


def _flood(world: BotWorld, person: Person, count: int) -> list[asyncio.Task]:
    """``count`` updates at once, half in the private chat and half in the group, each as
    its own task (as aiogram's polling handles them)."""
    texts = ["/measures", "hello", "/help", "/programme"]
    harness = world.harness
    updates = [
        harness.message_update(person, texts[number % len(texts)], GROUP if number % 2 else None)
        for number in range(count)
    ]
    return [
        asyncio.create_task(harness.dispatcher.feed_update(harness.bot, update))
        for update in updates
    ]


def p90(values: list[float]) -> float:
    return statistics.quantiles(values, n=10)[-1]


async def test_one_user_flooding_does_not_slow_the_others(world: BotWorld, monkeypatch):
    set_the_stage(world)
    others = [
        seat_of(Role.STAFF, STEINFURT).person,
        seat_of(Role.COORDINATOR, STEINFURT).person,
        seat_of(Role.STAFF, MARBURG).person,
    ]
    [members] = [
        m
        for m in world.harness.dispatcher.update.outer_middleware
        if isinstance(m, MemberMiddleware)
    ]
    lookups: dict[int, int] = {}
    look_up = members.gateway.member_profile

    async def counting(telegram_user_id: int):
        lookups[telegram_user_id] = lookups.get(telegram_user_id, 0) + 1
        return await look_up(telegram_user_id)

    monkeypatch.setattr(members.gateway, "member_profile", counting)
    await _others(world, others, rounds=1)  # warm up
    alone = [took for took, _served in await _others(world, others, rounds=4)]

    flood = _flood(world, ANNA, 600)
    try:
        during = await _others(world, others, rounds=4)
    finally:
        answers = await asyncio.gather(*flood)

    assert all(served for _took, served in during), "the others were served"
    assert lookups.get(ANNA.id, 0) <= BURST, "dropped updates never reached the domain"
    assert middleware(world).dropped >= 600 - BURST
    told = [
        reply
        for method, _result in world.harness.session.calls
        if (reply := getattr(method, "text", None)) and reply.startswith(SLOW_DOWN_DE)
    ]
    assert len(told) == 1, "one friendly message for the whole spell"
    assert len(answers) == 600
    assert not [answer for answer in answers if isinstance(answer, BaseException)]
    under_flood = [took for took, _served in during]
    print(
        f"others' latency alone: median {statistics.median(alone) * 1000:.0f} ms, "
        f"p90 {p90(alone) * 1000:.0f} ms; while one user sent 600 updates at once: "
        f"median {statistics.median(under_flood) * 1000:.0f} ms, "
        f"p90 {p90(under_flood) * 1000:.0f} ms"
    )
    assert statistics.median(under_flood) <= 2 * statistics.median(alone) + 0.05

    # A dropped update costs the event loop a fraction of a millisecond.
    started = time.perf_counter()
    await asyncio.gather(*_flood(world, ANNA, 300))
    per_drop = (time.perf_counter() - started) / 300
    print(f"a dropped update: {per_drop * 1000:.2f} ms")

    # Without flood control (the control experiment), the same flood holds the group up.
    world.harness.dispatcher.update.outer_middleware.unregister(middleware(world))
    flood = _flood(world, ANNA, 150)
    try:
        unprotected = [took for took, _served in await _others(world, others, rounds=2)]
    finally:
        await asyncio.gather(*flood)
    print(f"without flood control: p90 {p90(unprotected) * 1000:.0f} ms")
    assert p90(unprotected) > p90(under_flood), "a quarter of the flood, unprotected, hurts more"


def test_the_buckets_of_quiet_users_are_forgotten():
    clock = ManualClock(datetime(2016, 6, 1, 9, 0, tzinfo=UTC))
    flood = FloodControlMiddleware(clock)
    for user_id in range(FORGET_ABOVE):
        assert flood._take(user_id, clock.now().timestamp()) is None
    clock.advance(timedelta(minutes=1))  # all full again

    flood._take(10**9, clock.now().timestamp())

    assert len(flood._buckets) == 1
