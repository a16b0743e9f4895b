"""Figure 4: bot latency in-process, with a short and a long history in the store.

The real dispatcher (``bot.app.build_dispatcher``) with the real middlewares, domain
gateway, read models followed by a ``ProjectionHost``, fed through
``Dispatcher.feed_update`` with the recording session of ``bot.transcript`` (no network).
Per round, for each store in turn: a bare aiogram handler that only answers "ok" (same
session, same loop: the reference), then ``/status``, ``/measures``, ``/timeline`` and
``/setstatus SP-n planned`` as the benchmark's staff member of region 0. After a write
the read models are let catch up (untimed), as a person would read the answer first.
The bot's flood control is given an endless bucket (one person sends hundreds of
commands here); every reply is checked to be the real answer, not an error.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from aiogram import Dispatcher, Router
from aiogram.types import Message

from benchmarks.core import Config, Row, percentile
from benchmarks.programme import BENCH_STAFF_TELEGRAM_ID
from benchmarks.stores import (
    EVENTS_FILE,
    READ_MODELS_FILE,
    Generated,
    ensure_read_models,
    sqlite_store,
    working_copy,
)
from bot.transcript import BotHarness, Person

READS = ("/status", "/measures", "/timeline")
WRITES = ("/setstatus",)
COMMANDS = (*READS, *WRITES)
READ_LIMIT = 10.0
WRITE_LIMIT = 30.0
GROWTH_LIMIT = 1.3

EXPECTED = {
    "/status": "Twinning",
    "/measures": "Measures of",
    "/timeline": "Timeline of",
    "/setstatus": "is now planned",
}
STAFF = Person(id=BENCH_STAFF_TELEGRAM_ID, first_name="Bench", language_code="en")


@dataclass
class World:
    """One store with the bot around it."""

    name: str
    head: int
    harness: BotHarness
    closers: list[Any]
    projections: Any
    samples: dict[str, list[float]] = field(default_factory=dict)
    first_replies: dict[str, str] = field(default_factory=dict)
    spare: int = 0

    async def time(self, command: str, text: str) -> None:
        started = time.perf_counter()
        replies = await self.harness.send(STAFF, text)
        elapsed = (time.perf_counter() - started) * 1000
        self.samples.setdefault(command, []).append(elapsed)
        text = replies[0].text if replies else "(no reply)"
        if command not in self.first_replies:
            self.first_replies[command] = text[:160]
        if not replies or EXPECTED[command] not in text:
            raise RuntimeError(f"{command} was not answered as expected: {text[:300]!r}")


async def open_world(config: Config, store: Generated) -> World:
    from bot.app import BotServices, build_dispatcher
    from bot.gateway import DomainGateway
    from bot.handled_updates import HandledUpdates
    from bot.read_models import ReadModels
    from domain.application import sqlite_env
    from domain.clock import SystemClock
    from domain.service import RegioTwin
    from projections.host import ProjectionHost

    ensure_read_models(config, store)
    folder = working_copy(config, store)
    env = sqlite_env(str(folder / EVENTS_FILE))
    clock = SystemClock()
    service = RegioTwin.from_env(env, clock)
    gateway = DomainGateway(service)
    handled = await HandledUpdates.open(folder / "bot_state.sqlite")
    projections = ProjectionHost(env, folder / READ_MODELS_FILE)
    await asyncio.to_thread(projections.start)
    await asyncio.to_thread(projections.wait_until_current, 120.0)
    dispatcher = build_dispatcher(
        BotServices(
            gateway=gateway,
            handled_updates=handled,
            clock=clock,
            admins=frozenset(),
            read_models=ReadModels(folder / READ_MODELS_FILE, projections, gateway),
        )
    )

    unlimited_flood_control(dispatcher)

    async def close() -> None:
        await asyncio.to_thread(projections.stop)
        await handled.close()
        gateway.close()
        service.close()

    return World(
        name=f"{store.head:,}",
        head=store.head,
        harness=BotHarness(dispatcher),
        closers=[close],
        projections=projections,
        spare=store.spare,
    )


def unlimited_flood_control(dispatcher: Dispatcher) -> None:
    """One person sends hundreds of commands here; the bot's flood control (20 at once,
    30 a minute per user) would drop most. It stays in the chain (its cost is measured)
    with a bucket that never runs dry."""
    for middleware in dispatcher.update.outer_middleware:
        if type(middleware).__name__ == "FloodControlMiddleware":
            middleware.burst = 10**9  # type: ignore[attr-defined]
            middleware.rate = 10.0**9  # type: ignore[attr-defined]


def bare_harness() -> BotHarness:
    router = Router()

    @router.message()
    async def ok(message: Message) -> None:
        await message.answer("ok")

    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    return BotHarness(dispatcher)


async def measure(config: Config, small: Generated, large: Generated) -> dict[str, Any]:
    worlds = [await open_world(config, small), await open_world(config, large)]
    bare = bare_harness()
    bare_samples: list[float] = []
    rounds = min(config.samples, *(w.spare for w in worlds))
    try:
        for world in worlds:  # warm up: imports, caches, first connections (not counted)
            for text in ("/status", "/measures", "/timeline", "/help"):
                await world.harness.send(STAFF, text)
        await bare.send(STAFF, "hello")
        for number in range(1, rounds + 1):
            for world in worlds:
                started = time.perf_counter()
                await bare.send(STAFF, "hello")
                bare_samples.append((time.perf_counter() - started) * 1000)
                await world.time("/status", "/status")
                await world.time("/measures", "/measures")
                await world.time("/timeline", "/timeline")
                await world.time("/setstatus", f"/setstatus SP-{number} planned")
                await asyncio.to_thread(world.projections.wait_until_current, 10.0)
    finally:
        for world in worlds:
            for close in world.closers:
                await close()
    return {"bare": bare_samples, "worlds": worlds, "rounds": rounds}


def run_bot_latency(config: Config) -> list[Row]:
    small = sqlite_store(config, config.small_events)
    large = sqlite_store(config, config.events)
    config.say(
        f"figure 4: bot latency with {small.head:,} and {large.head:,} events, "
        f"{config.samples} samples each …"
    )
    measured = asyncio.run(measure(config, small, large))
    bare_p99 = percentile(measured["bare"], 99)
    bare_p50 = percentile(measured["bare"], 50)
    small_world, large_world = measured["worlds"]
    rows: list[Row] = []
    for command in COMMANDS:
        limit = READ_LIMIT if command in READS else WRITE_LIMIT
        large_samples = large_world.samples[command]
        small_samples = small_world.samples[command]
        p99, p50 = percentile(large_samples, 99), percentile(large_samples, 50)
        small_p99, small_p50 = percentile(small_samples, 99), percentile(small_samples, 50)
        details = {
            "samples": len(large_samples),
            "p50_ms": round(p50, 2),
            "p99_ms": round(p99, 2),
            "p50_ms_small": round(small_p50, 2),
            "p99_ms_small": round(small_p99, 2),
            "bare_p50_ms": round(bare_p50, 2),
            "bare_p99_ms": round(bare_p99, 2),
            "events_large": large_world.head,
            "events_small": small_world.head,
            "first_reply": large_world.first_replies.get(command, ""),
        }
        rows.append(
            Row(
                "4",
                f"{command} p99 at {large_world.name} events (p50 {p50:.1f} ms)",
                p99,
                "ms",
                bare_p99,
                f'bare aiogram handler answering "ok", p99 (p50 {bare_p50:.2f} ms)',
                target=f"≤ {limit:g}× bare p99",
                ratio=p99 / bare_p99,
                met=p99 <= limit * bare_p99,
                details=details,
            )
        )
        rows.append(
            Row(
                "4",
                f"  {command} p99 at {large_world.name} vs {small_world.name} events",
                p99,
                "ms",
                small_p99,
                f"p99 at {small_world.name} events (p50 {small_p50:.1f} ms)",
                target=f"≤ {GROWTH_LIMIT:g}×",
                ratio=p99 / small_p99,
                met=p99 <= GROWTH_LIMIT * small_p99,
            )
        )
    return rows
