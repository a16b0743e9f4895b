"""The bot's read side: queries on the read models, consistent with this process's writes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiosqlite

from bot.gateway import DomainGateway
from projections.host import ProjectionHost
from projections.queries import connect

log = logging.getLogger("regiotwin.bot")

CATCH_UP_WAIT = 2.0  # seconds; the projections usually need a few milliseconds


class ReadModels:
    def __init__(self, path: Path, host: ProjectionHost, gateway: DomainGateway) -> None:
        self.path = path
        self.host = host
        self.gateway = gateway

    @asynccontextmanager
    async def fresh(self) -> AsyncIterator[aiosqlite.Connection]:
        """A connection once the read models show everything this process recorded."""
        target = self.gateway.last_position
        if target and not await asyncio.to_thread(self.host.wait_until, target, CATCH_UP_WAIT):
            log.warning("read models behind position %s; answering from what they have", target)
        async with connect(self.path) as db:
            yield db
