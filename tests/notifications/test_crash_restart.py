"""A restart in the middle of a fan-out loses nothing and repeats at most one message.

A sending process is killed (SIGKILL) while its request to the Bot API is in flight: the
Bot API got the message, the process never learnt it. A new sender takes over from what the
outbox remembers once the claim is stale: every member gets the notification, and only that
one message twice.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiohttp import web

from bot.i18n import build_i18n
from bot.notifier import Notifier, SenderPolicy
from domain.clock import SystemClock
from domain.commands import ChooseLanguage
from tests import builders
from tests.notifications.fanout_worker import TOKEN
from tests.notifications.support import Outbox

REPO = Path(__file__).resolve().parents[2]
MEMBERS = 25
HOLD_AT = 10  # the Bot API keeps the 10th request waiting: that message is in flight


class BotAPI:
    """Records sendMessage calls; holds one request open for good."""

    def __init__(self) -> None:
        self.received: list[int] = []
        self.held = asyncio.Event()
        self._never = asyncio.Event()

    async def handle(self, request: web.Request) -> web.Response:
        form = await request.post()
        chat_id = int(str(form["chat_id"]))
        self.received.append(chat_id)
        if len(self.received) == HOLD_AT:
            self.held.set()
            await self._never.wait()  # the sender dies waiting
        return web.json_response(
            {
                "ok": True,
                "result": {
                    "message_id": len(self.received),
                    "date": int(time.time()),
                    "chat": {"id": chat_id, "type": "private"},
                    "text": str(form.get("text", "")),
                },
            }
        )


def start_worker(config: dict, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.notifications.fanout_worker", json.dumps(config)],
        cwd=REPO,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


async def wait_until(condition, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(0.02)


async def test_a_killed_sender_loses_nothing_and_repeats_at_most_one(
    outbox: Outbox, store: dict[str, str], tmp_path: Path
) -> None:
    api = BotAPI()
    app = web.Application()
    app.router.add_post("/bot{token}/sendMessage", api.handle)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    url = f"http://127.0.0.1:{port}"
    config = {"env": store, "data_dir": str(tmp_path), "api": url, "stale_after": 1.0}
    log = tmp_path / "worker.log"
    crashing = start_worker(config, log)  # a sending process, waiting for work
    takeover = None
    try:
        service = outbox.service
        pair = builders.muenchen_and_steinfurt(service)
        members = [pair.muenchen_staff] + [
            builders.member(service, "09184", "staff", f"Kollegin {n}") for n in range(MEMBERS - 1)
        ]
        for member in members[::2]:
            builders.act(service, member, ChooseLanguage, member_id=member, language="en")
        builders.advice(service, pair)  # Steinfurt advises: one event, 25 members to tell
        outbox.apply()

        await asyncio.wait_for(api.held.wait(), 30)
        crashing.send_signal(signal.SIGKILL)  # the crash, with one request in flight
        crashing.wait(5)
        assert Counter(row["state"] for row in outbox.rows()) == {
            "sent": HOLD_AT - 1,
            "sending": 1,
            "pending": MEMBERS - HOLD_AT,
        }

        # The restarted instance: only what the outbox remembers.
        session = AiohttpSession(api=TelegramAPIServer.from_base(url))
        policy = SenderPolicy(stale_after=timedelta(seconds=1), idle_poll=0.05)
        takeover = Notifier(
            outbox.store, Bot(TOKEN, session=session), SystemClock(), build_i18n(), policy=policy
        )
        takeover.start()
        await wait_until(lambda: all(row["state"] == "sent" for row in outbox.rows()), 20)
    finally:
        if crashing.poll() is None:
            crashing.kill()
            crashing.wait(5)
        if takeover is not None:
            await takeover.stop()
            await takeover.bot.session.close()
        await runner.cleanup()

    received = Counter(api.received)
    chats = {row["chat_id"] for row in outbox.rows()}
    assert set(received) == chats, "a member got nothing"
    repeated = {chat: count for chat, count in received.items() if count > 1}
    in_flight = api.received[HOLD_AT - 1]
    assert repeated == {in_flight: 2}, log.read_text()
