"""The whole bot in-process, wired as ``bot/runner.py`` wires it, for the fault tests.

Domain gateway, handled-updates log, read models following the log, the notification
outbox with its projection and the notifier – only Telegram is replaced: updates are fed
to the real dispatcher (``BotHarness``) and the notifier sends to a recording session.
An error that escapes the dispatcher is noted, as aiogram's polling loop logs it, instead
of failing the test on the spot.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from uuid import UUID

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.enums import ParseMode
from aiogram.methods import SendMessage

from bot.app import BotServices, build_dispatcher
from bot.gateway import DomainGateway
from bot.handled_updates import HandledUpdates
from bot.i18n import build_i18n
from bot.middlewares import idempotency_key
from bot.notifier import Notifier, SenderPolicy
from bot.read_models import ReadModels
from bot.transcript import BOT_TOKEN, BotHarness, Person, RecordingSession, Reply, _reply
from domain.clock import ManualClock, SystemClock
from domain.service import RegioTwin
from projections.host import ProjectionHost
from projections.outbox import OutboxStore, open_outbox
from projections.outbox_projection import OutboxProjection
from tests.bot.conftest import ADMIN, BotWorld
from tests.bot.people import join

log = logging.getLogger("tests.reliability")

FAST_RETRIES = (0.05, 0.1, 0.2)
"""Seconds before a stopped projection tries again (the bot's are 1 s … 60 s)."""


@dataclass
class BotStack:
    env: dict[str, str]
    data_dir: Path
    clock: ManualClock
    service: RegioTwin
    gateway: DomainGateway
    handled: HandledUpdates
    outbox: OutboxStore
    notifier: Notifier
    sent: RecordingSession
    """What the notifier sent."""
    projections: ProjectionHost
    harness: BotHarness
    escaped: list[BaseException] = field(default_factory=list)
    """Errors that escaped the dispatcher (polling would log them)."""
    last_command_id: str = ""
    """The idempotency key (command id) of the last update sent."""

    @property
    def read_model_path(self) -> Path:
        return self.data_dir / "read_models.sqlite"

    @property
    def world(self) -> BotWorld:
        return BotWorld(self.harness, self.service, self.clock, self.projections)

    def join(self, person: Person, region: str | None, role: str) -> UUID:
        return join(self.world, person, region, role)

    async def send(self, person: Person, text: str) -> list[Reply]:
        session = self.harness.session
        before = len(session.calls)
        update = self.harness.message_update(person, text)
        self.last_command_id = idempotency_key(self.harness.bot, update)
        try:
            await self.harness.dispatcher.feed_update(self.harness.bot, update)
        except Exception as error:  # polling logs it and goes on with the next update
            log.warning("an error escaped the dispatcher: %r", error)
            self.escaped.append(error)
        replies = [_reply(call, result) for call, result in session.calls[before:]]
        return [reply for reply in replies if reply is not None]

    def notified(self, chat_id: int) -> list[str]:
        return [
            str(call.text)
            for call, _result in self.sent.calls
            if isinstance(call, SendMessage) and int(call.chat_id) == chat_id
        ]

    async def wait_notified(self, chat_id: int, count: int, timeout: float = 10.0) -> list[str]:
        deadline = time.monotonic() + timeout
        while len(self.notified(chat_id)) < count:
            assert time.monotonic() < deadline, f"chat {chat_id}: {self.notified(chat_id)}"
            await asyncio.sleep(0.02)
        return self.notified(chat_id)

    async def settled(self, timeout: float = 20.0) -> None:
        """Wait until every projection (read models and outbox) has applied the whole log
        and none is noted as stopped: a fault is over for the background too."""
        deadline = time.monotonic() + timeout
        state: object = None
        while time.monotonic() < deadline:
            try:
                head = await asyncio.to_thread(self.projections.head)
                positions = await asyncio.to_thread(self.projections.positions)
            except Exception as error:  # the store may still be coming back
                state = error
            else:
                stopped = [f.name for f in self.projections._followed if f.failed_at is not None]
                state = (head, positions, stopped)
                if not stopped and all((p or 0) >= head for p in positions.values()):
                    return
            await asyncio.sleep(0.05)
        raise AssertionError(f"the projections did not settle: {state}")


def small_pool(env: dict[str, str]) -> dict[str, str]:
    """The gateway writes from one thread: two connections are plenty (the shared test
    server has room for only so many, and a test may run two bots)."""
    if env.get("PERSISTENCE_MODULE", "").endswith("postgres"):
        return {"POSTGRES_POOL_SIZE": "2", "POSTGRES_MAX_OVERFLOW": "2", **env}
    return env


@asynccontextmanager
async def running_stack(
    env: dict[str, str], data_dir: Path, clock: ManualClock
) -> AsyncIterator[BotStack]:
    """The bot, started in the order of ``bot/runner.py`` and stopped in reverse, also when
    starting fails half-way (a leaked half bot would hold its database connections)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    async with AsyncExitStack() as started:
        service = RegioTwin.from_env(small_pool(env), clock)
        started.callback(service.close)
        gateway = DomainGateway(service)
        started.callback(gateway.close)
        handled = await HandledUpdates.open(data_dir / "bot_state.sqlite")
        started.push_async_callback(handled.close)
        outbox = await asyncio.to_thread(open_outbox, env, data_dir)
        started.push_async_callback(asyncio.to_thread, outbox.close)
        head = service.app.recorder.max_notification_id() or 0
        await asyncio.to_thread(outbox.initialise, service.app.name, head)
        sent = RecordingSession()
        notifier = Notifier(
            outbox,
            Bot(BOT_TOKEN, session=sent, default=DefaultBotProperties(parse_mode=ParseMode.HTML)),
            SystemClock(),
            build_i18n(),
            policy=SenderPolicy(idle_poll=0.05, stale_after=timedelta(seconds=2)),
        )
        read_model_path = data_dir / "read_models.sqlite"
        projections = ProjectionHost(
            env,
            read_model_path,
            followers=[OutboxProjection(outbox, on_added=notifier.wake)],
            retry_delays=FAST_RETRIES,
        )
        started.push_async_callback(asyncio.to_thread, projections.stop)
        projections.start()
        dispatcher = build_dispatcher(
            BotServices(
                gateway=gateway,
                handled_updates=handled,
                clock=clock,
                admins=frozenset({ADMIN.id}),
                read_models=ReadModels(read_model_path, projections, gateway),
            )
        )
        dispatcher["outbox"] = outbox
        started.push_async_callback(notifier.stop)
        notifier.start()
        yield BotStack(
            env=env,
            data_dir=data_dir,
            clock=clock,
            service=service,
            gateway=gateway,
            handled=handled,
            outbox=outbox,
            notifier=notifier,
            sent=sent,
            projections=projections,
            harness=BotHarness(dispatcher),
        )
