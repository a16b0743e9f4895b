"""A bot instance that only sends: ``python -m tests.notifications.fanout_worker CONFIG``.

CONFIG is JSON: ``{"env": <event store env>, "data_dir": ..., "api": <Bot API base URL>,
"stale_after": <seconds>}``. The crash test kills it with SIGKILL in the middle of a
fan-out and starts another.
"""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import timedelta

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode

from bot.i18n import build_i18n
from bot.notifier import Notifier, SenderPolicy
from domain.clock import SystemClock
from projections.outbox import open_outbox

TOKEN = "4242:TEST-TOKEN-fanout"


async def main(config: dict) -> None:
    store = open_outbox(config["env"], config["data_dir"])
    session = AiohttpSession(api=TelegramAPIServer.from_base(config["api"]))
    bot = Bot(TOKEN, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))
    policy = SenderPolicy(stale_after=timedelta(seconds=config["stale_after"]), idle_poll=0.1)
    notifier = Notifier(store, bot, SystemClock(), build_i18n(), policy=policy)
    print("READY", flush=True)
    try:
        await notifier.run()
    finally:
        await bot.session.close()
        store.close()


if __name__ == "__main__":
    asyncio.run(main(json.loads(sys.argv[1])))
