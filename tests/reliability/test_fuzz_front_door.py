"""Fuzzing the front door: hypothesis writes Telegram updates, the real dispatcher takes them.

Commands with random and hostile arguments, HTML and Markdown, 10,000-character messages,
odd Unicode, edited messages, update types the bot has no handler for (and ones aiogram does
not know), forged and tampered button data, bursts; from strangers and from every role of
every region and the programme office, in private chats and in groups. What each update
must leave behind is checked in :mod:`tests.reliability.front`.

The four tests feed at least 10,000 updates together (their shares are asserted; each
prints its count). ``REGIOTWIN_LONG_TESTS=1`` feeds ten times as many.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from domain.clock import ManualClock
from tests.bot.conftest import open_world
from tests.reliability.cast import set_the_stage
from tests.reliability.front import Front
from tests.reliability.knocks import (
    Burst,
    bursts,
    commands,
    dialogs,
    odd_updates,
    presses,
    scaled,
    texts,
    well_formed,
)

PLANS = (20, 30)
"""Plans per example (a burst is one plan)."""
ROUND = 10
"""Examples per round of hypothesis; rounds go on until a test fed its share."""
FED: dict[str, int] = {}
"""Updates fed per test, for the summary (tests/reliability/conftest.py prints it)."""
STATS: dict[str, str] = {}

pytestmark = pytest.mark.filterwarnings("ignore:Detected unknown update type:RuntimeWarning")


def fast_folder() -> Path:
    """A folder for the world's SQLite files, on tmpfs where there is one (the fsync of
    every handled update would otherwise dominate the run)."""
    shm = Path("/dev/shm")
    base = shm if shm.is_dir() and shm.stat().st_mode & 0o002 else None
    return Path(tempfile.mkdtemp(prefix="regiotwin-fuzz-", dir=base))


async def _feed(front: Front, plans: list[Any]) -> None:
    for plan in plans:
        if isinstance(plan, Burst):
            knocks = [await plan.plan.resolve(front) for _ in range(plan.times)]
            await front.knock_together(knocks)
        else:
            await front.knock(await plan.resolve(front))


def fuzz(name: str, plans: st.SearchStrategy[Any], updates: int) -> int:
    """Feed hypothesis's sequences of plans until at least ``updates`` updates went through
    the door (in rounds of ``ROUND`` examples)."""
    target = scaled(updates)
    folder = fast_folder()
    clock = ManualClock(datetime(2016, 6, 1, 9, 0, tzinfo=UTC))
    started = time.perf_counter()
    try:
        with asyncio.Runner() as runner:
            world_context = open_world(folder, clock)
            world = runner.run(world_context.__aenter__())
            front = Front(set_the_stage(world))
            try:

                @settings(
                    max_examples=ROUND,
                    deadline=None,
                    database=None,
                    phases=(Phase.explicit, Phase.generate),  # the world moves on: no shrinking
                    suppress_health_check=list(HealthCheck),
                )
                @given(st.lists(plans, min_size=PLANS[0], max_size=PLANS[1]))
                def sequences(drawn: list[Any]) -> None:
                    runner.run(_feed(front, drawn))

                while front.fed < target:
                    sequences()
            finally:
                front.close()
                runner.run(world_context.__aexit__(None, None, None))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    for took, label in sorted(front.slow, reverse=True)[:8]:
        print(f"SLOW {took:.2f} s: {label}")
    for problem in front.failures:  # REGIOTWIN_FUZZ_COLLECT=1 (debugging)
        print("PROBLEM", problem[:700])
    took = time.perf_counter() - started
    FED[name] = front.fed
    STATS[name] = (
        f"{front.fed} updates fed in {took:.0f} s: {front.recorded} recorded something (each "
        f"allowed), {front.dropped} dropped by flood control, {len(front.slow)} slower than 0.25 s"
    )
    print(f"{name}: {STATS[name]}")
    assert front.fed >= target
    return front.fed


def test_commands_from_everyone_with_hostile_arguments():
    fuzz("commands", st.one_of(commands(), commands(), well_formed(), dialogs()), 3000)


def test_text_markup_unicode_and_long_messages_also_inside_dialogs():
    fuzz("texts", st.one_of(texts(), texts(), dialogs(), presses()), 2500)


def test_forged_and_tampered_buttons_from_everyone():
    fuzz("buttons", st.one_of(presses(), presses(), presses(), dialogs()), 2500)


def test_edited_messages_unknown_updates_and_bursts():
    fuzz(
        "odd updates and bursts",
        st.one_of(odd_updates, odd_updates, texts().map(_edited), bursts),
        2000,
    )


def _edited(say: Any) -> Any:
    return replace(say, edited=True)


def test_the_front_door_saw_at_least_10000_updates():
    """Runs last: the four tests above together fed the door at least 10,000 updates."""
    if len(FED) < 4:
        pytest.skip("only part of the fuzzing ran")
    total = sum(FED.values())
    print(f"front door: {total} updates fed in all")
    assert total >= 10_000
