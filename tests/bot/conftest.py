from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.app import BotServices, build_dispatcher
from bot.gateway import DomainGateway
from bot.handled_updates import HandledUpdates
from domain.application import sqlite_env
from domain.clock import ManualClock
from domain.service import RegioTwin
from tests.bot.harness import BotHarness, Person

ADMIN = Person(id=1, first_name="Ada", language_code="en")


@dataclass
class BotWorld:
    harness: BotHarness
    service: RegioTwin
    clock: ManualClock

    async def send(self, person: Person, text: str, **kwargs):  # type: ignore[no-untyped-def]
        return await self.harness.send(person, text, **kwargs)


@pytest.fixture
async def world(tmp_path: Path, clock: ManualClock) -> AsyncIterator[BotWorld]:
    service = RegioTwin.from_env(sqlite_env(str(tmp_path / "events.sqlite")), clock)
    gateway = DomainGateway(service)
    handled = await HandledUpdates.open(tmp_path / "bot_state.sqlite")
    dispatcher = build_dispatcher(
        BotServices(
            gateway=gateway, handled_updates=handled, clock=clock, admins=frozenset({ADMIN.id})
        )
    )
    harness = BotHarness(dispatcher)
    yield BotWorld(harness=harness, service=service, clock=clock)
    await handled.close()
    gateway.close()
    service.close()
