"""One bot instance of figure 8's pair: ``python -m benchmarks.instance CONFIG_JSON``.

The real dispatcher fed in-process (as in figure 4), on a PostgreSQL event store shared
with the other instance, with its own read models following the log and the shared
outbox's projection and sender (sending over HTTP to the Bot API stand-in). It prints
``READY`` when caught up, runs its commands when it reads ``GO``, prints ``RESULT`` and
a JSON line, keeps sending notifications until it reads ``STOP``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any


async def main(config: dict[str, Any]) -> None:
    from aiogram import Bot
    from aiogram.client.default import DefaultBotProperties
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer
    from aiogram.enums import ParseMode

    from benchmarks.fig_bot import unlimited_flood_control
    from bot.app import BotServices, build_dispatcher
    from bot.gateway import DomainGateway
    from bot.handled_updates import HandledUpdates
    from bot.i18n import build_i18n
    from bot.notifier import Notifier, SenderPolicy
    from bot.read_models import ReadModels
    from bot.transcript import BotHarness, Person
    from domain.clock import SystemClock
    from domain.service import RegioTwin
    from projections.host import ProjectionHost
    from projections.outbox import open_outbox
    from projections.outbox_projection import OutboxProjection

    env: dict[str, str] = config["env"]
    folder = Path(config["data_dir"])
    clock = SystemClock()
    service = RegioTwin.from_env(env, clock)
    gateway = DomainGateway(service)
    handled = await HandledUpdates.open(folder / "bot_state.sqlite")
    outbox = open_outbox(env, folder)
    session = AiohttpSession(api=TelegramAPIServer.from_base(config["api"]))
    bot = Bot(
        config["token"], session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML)
    )
    notifier = Notifier(
        outbox,
        bot,
        clock,
        build_i18n(),
        policy=SenderPolicy(idle_poll=0.05),
        instance=config["name"],
    )
    projections = ProjectionHost(
        env,
        folder / "read_models.sqlite",
        followers=[OutboxProjection(outbox, on_added=notifier.wake)],
    )
    projections.start()
    if not await asyncio.to_thread(projections.wait_until_current, 300.0):
        raise RuntimeError("the read models did not catch up")
    dispatcher = build_dispatcher(
        BotServices(
            gateway=gateway,
            handled_updates=handled,
            clock=clock,
            admins=frozenset(),
            read_models=ReadModels(folder / "read_models.sqlite", projections, gateway),
        )
    )
    unlimited_flood_control(dispatcher)
    harness = BotHarness(dispatcher)
    # Telegram's update ids are unique per bot: the instances share a range between them.
    harness._update_ids = itertools.count(config["first_update_id"])
    notifier.start()
    print("READY", flush=True)
    await asyncio.to_thread(sys.stdin.readline)
    started = time.time()
    replies: dict[str, str] = {}
    durations: list[float] = []
    for person_id, text in config["commands"]:
        person = Person(id=person_id, first_name="Bench", language_code="en")
        sent = time.perf_counter()
        answered = await harness.send(person, text)
        durations.append(time.perf_counter() - sent)
        reply = answered[0].text if answered else "(no reply)"
        kind = text.split()[0]
        replies.setdefault(kind, reply[:200])
        if not answered or config["expect"][kind] not in reply:
            raise RuntimeError(f"{text} was not answered as expected: {reply[:300]!r}")
    finished = time.time()
    print("RESULT", flush=True)
    print(
        json.dumps(
            {
                "commands": len(config["commands"]),
                "started": started,
                "finished": finished,
                "replies": replies,
                "durations": durations,
            }
        ),
        flush=True,
    )
    await asyncio.to_thread(sys.stdin.readline)
    await notifier.stop()
    await asyncio.to_thread(projections.stop)
    outbox.close()
    await bot.session.close()
    await handled.close()
    gateway.close()
    service.close()


if __name__ == "__main__":
    try:
        asyncio.run(main(json.loads(sys.argv[1])))
    except BaseException:
        traceback.print_exc()
        sys.stderr.flush()
        os._exit(1)  # the projection threads would keep a failed instance alive
