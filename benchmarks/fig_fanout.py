"""Figure 5: notification fan-out through the real sender, against Telegram's limits.

A programme where the learning region has 1,000 members (each with a private chat) and
its partner records 10 exchanges: the outbox projection turns them into 10,000
notifications (the partner region's members hear of each exchange). The bot's sender
(``bot.notifier.Notifier``, default policy: 30 messages/s overall, 1 s per private chat,
one message in flight) delivers them over HTTP to the local Bot API stand-in
(:mod:`benchmarks.botapi`), which notes when each arrives and where.

Measured at the stand-in, as Telegram would see it: messages/s from the first to the
last, the most in any one-second window, and the shortest gap between two messages to
one chat.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode

from benchmarks.botapi import BotAPIStandIn, max_in_window, min_gap_per_chat
from benchmarks.core import Config, Row, ratio_row
from benchmarks.programme import SYSTEM, ScriptedClock
from domain.application import sqlite_env
from domain.commands import (
    FormTwinning,
    InviteMember,
    JoinWithInvite,
    RecordExchange,
    RegisterRegion,
    StartProgramme,
    StartTwinning,
)
from domain.service import RegioTwin

TELEGRAM_LIMIT = 30.0
CHAT_BASE = 8_000_000
TOKEN = "4242:BENCH-fan-out"


def sizes(config: Config) -> tuple[int, int]:
    """(chats, notifications per chat)."""
    return (40, 3) if config.quick else (1_000, 10)


def build(config: Config, folder: Path, chats: int, per_chat: int) -> dict[str, str]:
    """The programme, members and exchanges, through the batch path; the store's env."""
    env = sqlite_env(str(folder / "events.sqlite"))
    service = RegioTwin.from_env(env, ScriptedClock(10**7))  # a few seconds per command
    try:
        setup = [
            StartProgramme.parse(
                code="FANOUT1",
                name="Fan-out",
                starts_on="2014-12-01",
                ends_on="2017-12-31",
                office="Programmbüro",
                funder="Benchmark",
            ),
            RegisterRegion.parse(
                key="09184",
                slug="lk-muenchen",
                name="Landkreis München",
                kind="Landkreis",
                land="Bayern",
            ),
            RegisterRegion.parse(
                key="05566",
                slug="kreis-steinfurt",
                name="Kreis Steinfurt",
                kind="Kreis",
                land="Nordrhein-Westfalen",
            ),
            FormTwinning.parse(
                programme="FANOUT1",
                first_region="05566",
                second_region="09184",
                starts_on="2015-01-01",
                ends_on="2017-12-31",
                topics=[{"topic": "cycling", "teaching_region": "05566"}],
            ),
        ]
        outcomes = service.handle_batch([(c, SYSTEM, None) for c in setup])
        twinning = outcomes[-1].aggregate_id
        service.handle_batch([(StartTwinning.parse(twinning_id=twinning), SYSTEM, None)])
        invites = [(InviteMember.parse(region="05566", role="staff"), SYSTEM, None)]
        invites += [
            (InviteMember.parse(region="09184", role="staff"), SYSTEM, None) for _ in range(chats)
        ]
        invited = service.handle_batch(invites)
        joins = [
            (
                JoinWithInvite.parse(
                    code=outcome.secret,
                    telegram_user_id=CHAT_BASE + number,
                    name=f"Person {number}",
                ),
                "system:onboarding",
                None,
            )
            for number, outcome in enumerate(invited)
        ]
        for start in range(0, len(joins), 500):
            service.handle_batch(joins[start : start + 500])
        recorder = invited[0].aggregate_id  # Steinfurt's staff: München's members hear of it
        exchanges = [
            (
                RecordExchange.parse(
                    twinning_id=twinning,
                    kind="meeting",
                    held_on="2015-03-01",
                    place="Online",
                    summary=f"Austausch {number}: Radverkehr und Ladeinfrastruktur.",
                ),
                recorder,
                None,
            )
            for number in range(per_chat)
        ]
        service.handle_batch(exchanges)
    finally:
        service.close()
    return env


def fill_outbox(env: dict[str, str], folder: Path) -> tuple[object, int]:
    """The outbox projection applied to the whole log (preparation, not measured)."""
    from projections.outbox import PENDING, open_outbox
    from projections.outbox_projection import OutboxProjection, apply_log

    store = open_outbox(env, folder)
    connection = store.db._connection  # type: ignore[attr-defined]
    connection.execute("PRAGMA synchronous=OFF")  # preparing: no fsync per event
    store.initialise("RegioTwin", 0)
    log = RegioTwin.from_env(env)
    try:
        apply_log(OutboxProjection(store), log.app)
    finally:
        log.close()
    connection.execute("PRAGMA synchronous=FULL")  # sending: as the bot has it
    return store, len(store.notifications(state=PENDING))


async def send_all(store: object, api: BotAPIStandIn, expected: int, timeout: float) -> float:
    from bot.i18n import build_i18n
    from bot.notifier import Notifier, SenderPolicy
    from domain.clock import SystemClock

    session = AiohttpSession(api=TelegramAPIServer.from_base(api.url))
    bot = Bot(TOKEN, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))
    notifier = Notifier(
        store,  # type: ignore[arg-type]
        bot,
        SystemClock(),
        build_i18n(),
        policy=SenderPolicy(idle_poll=0.05),
        instance="bench",
    )
    started = time.monotonic()
    notifier.start()
    try:
        while len(api.recorded.deliveries) < expected:
            if time.monotonic() - started > timeout:
                break
            await asyncio.sleep(0.1)
    finally:
        await notifier.stop()
        await bot.session.close()
    return time.monotonic() - started


def run_fanout(config: Config) -> list[Row]:
    chats, per_chat = sizes(config)
    folder = config.work / "fan-out"
    folder.mkdir(parents=True)
    config.say(f"figure 5: {chats * per_chat:,} notifications to {chats:,} chats …")
    env = build(config, folder, chats, per_chat)
    store, pending = fill_outbox(env, folder)
    if pending != chats * per_chat:
        raise RuntimeError(f"expected {chats * per_chat} notifications, the outbox has {pending}")
    timeout = pending / TELEGRAM_LIMIT * 2 + 30
    try:
        with BotAPIStandIn() as api:
            seconds = asyncio.run(send_all(store, api, pending, timeout))
            recorded = api.snapshot()
    finally:
        store.close()  # type: ignore[attr-defined]
    deliveries = recorded.deliveries
    times = [d.at for d in deliveries]
    span = max(times) - min(times) if len(times) > 1 else float("nan")
    rate = (len(times) - 1) / span if span and span == span else float("nan")
    peak = max_in_window(times)
    gap = min_gap_per_chat(deliveries)
    per_chat_counts = {d.chat_id for d in deliveries}
    details = {
        "notifications": pending,
        "delivered": len(deliveries),
        "chats": len(per_chat_counts),
        "seconds": round(seconds, 1),
        "span_seconds": round(span, 2),
    }
    return [
        ratio_row(
            "5",
            f"Notification fan-out: {len(deliveries):,} of {pending:,} messages to {chats:,} chats",
            rate,
            "msg/s",
            TELEGRAM_LIMIT,
            "Telegram's limit, 30 messages/s",
            0.9,
            details=details,
        ),
        Row(
            "5b",
            "  most messages in any 1-second window (at the Bot API)",
            float(peak),
            "messages",
            TELEGRAM_LIMIT,
            "the limit",
            target="≤ 30",
            ratio=peak / TELEGRAM_LIMIT,
            met=peak <= TELEGRAM_LIMIT,
        ),
        Row(
            "5c",
            "  shortest gap between two messages to one chat",
            gap,
            "s",
            1.0,
            "1 message/s per chat",
            target="≥ 1 s",
            ratio=gap / 1.0,
            met=gap >= 1.0 and len(deliveries) == pending,
            note="" if len(deliveries) == pending else f"only {len(deliveries)} delivered",
        ),
    ]
