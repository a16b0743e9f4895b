from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.app import BotServices, build_dispatcher
from bot.gateway import DomainGateway
from bot.handled_updates import HandledUpdates
from bot.read_models import ReadModels
from domain.application import sqlite_env
from domain.clock import ManualClock
from domain.service import RegioTwin
from projections.host import ProjectionHost
from tests.bot.harness import BotHarness, Person, Reply

ADMIN = Person(id=1, first_name="Ada", language_code="en")


@dataclass
class BotWorld:
    """The real dispatcher on a real SQLite store, with read models following the log."""

    harness: BotHarness
    service: RegioTwin
    clock: ManualClock
    projections: ProjectionHost

    async def send(self, person: Person, text: str, **kwargs: object) -> list[Reply]:
        return await self.harness.send(person, text, **kwargs)  # type: ignore[arg-type]

    def settle(self) -> None:
        """Let the read models catch up with what the test wrote directly."""
        assert self.projections.wait_until_current(5.0)


@asynccontextmanager
async def open_world(folder: Path, clock: ManualClock) -> AsyncIterator[BotWorld]:
    """The real dispatcher on a real SQLite store in ``folder``, read models following."""
    env = sqlite_env(str(folder / "events.sqlite"))
    service = RegioTwin.from_env(env, clock)
    gateway = DomainGateway(service)
    handled = await HandledUpdates.open(folder / "bot_state.sqlite")
    projections = ProjectionHost(env, folder / "read_models.sqlite")
    projections.start()
    try:
        dispatcher = build_dispatcher(
            BotServices(
                gateway=gateway,
                handled_updates=handled,
                clock=clock,
                admins=frozenset({ADMIN.id}),
                read_models=ReadModels(folder / "read_models.sqlite", projections, gateway),
            )
        )
        yield BotWorld(
            harness=BotHarness(dispatcher), service=service, clock=clock, projections=projections
        )
    finally:
        projections.stop()
        await handled.close()
        gateway.close()
        service.close()


@pytest.fixture
async def world(tmp_path: Path, clock: ManualClock) -> AsyncIterator[BotWorld]:
    async with open_world(tmp_path, clock) as opened:
        yield opened
