"""The bot's door into the domain: synchronous use cases run off the event loop.

eventsourcing's stores are synchronous; one worker thread carries every command so
the event loop keeps answering while a write waits for the disk, and writes from
this process reach the store one after the other.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from uuid import UUID

from domain.commands import Command
from domain.service import MemberProfile, Outcome, RegioTwin


class DomainGateway:
    def __init__(self, service: RegioTwin) -> None:
        self.service = service
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="regiotwin-domain")
        self.last_position = 0
        """The newest log position this process wrote: reads wait for the read models to
        reach it, so a member always sees what they just recorded."""

    async def handle(self, command: Command, *, actor: UUID | str, command_id: str) -> Outcome:
        call = partial(self.service.handle, command, actor=actor, command_id=command_id)
        outcome = await asyncio.get_running_loop().run_in_executor(self._worker, call)
        if outcome.position is not None:
            self.last_position = max(self.last_position, outcome.position)
        return outcome

    async def member_profile(self, telegram_user_id: int) -> MemberProfile | None:
        call = partial(self.service.member_profile, telegram_user_id)
        return await asyncio.get_running_loop().run_in_executor(self._worker, call)

    def close(self) -> None:
        self._worker.shutdown(wait=True)
