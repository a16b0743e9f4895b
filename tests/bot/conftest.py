from __future__ import annotations

from collections.abc import AsyncIterator
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


@pytest.fixture
async def world(tmp_path: Path, clock: ManualClock) -> AsyncIterator[BotWorld]:
    env = sqlite_env(str(tmp_path / "events.sqlite"))
    service = RegioTwin.from_env(env, clock)
    gateway = DomainGateway(service)
    handled = await HandledUpdates.open(tmp_path / "bot_state.sqlite")
    projections = ProjectionHost(env, tmp_path / "read_models.sqlite")
    projections.start()
    dispatcher = build_dispatcher(
        BotServices(
            gateway=gateway,
            handled_updates=handled,
            clock=clock,
            admins=frozenset({ADMIN.id}),
            read_models=ReadModels(tmp_path / "read_models.sqlite", projections, gateway),
        )
    )
    yield BotWorld(
        harness=BotHarness(dispatcher), service=service, clock=clock, projections=projections
    )
    projections.stop()
    await handled.close()
    gateway.close()
    service.close()
