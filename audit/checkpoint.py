"""Checkpoints: the chain's head recorded in the log itself, now and then.

:func:`record_checkpoint` re-derives the whole chain and, if it is intact, records its
head (``RecordCheckpoint``, actor ``system:checkpoint``, command id
``checkpoint:<position>`` so that two processes checkpointing the same head record it
once). Nothing is recorded when the chain is broken, or when nothing but the previous
checkpoint happened since. :func:`checkpoint_periodically` runs it in the bot process.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from audit.verify import ChainVerdict, store_checkpoints, verify_store
from domain.audit import CHECKPOINT_ACTOR
from domain.commands import RecordCheckpoint
from domain.service import RegioTwin

if TYPE_CHECKING:
    from bot.gateway import DomainGateway

log = logging.getLogger("regiotwin.audit")

DEFAULT_INTERVAL = 24 * 60 * 60.0
"""Seconds between checkpoints in the bot process."""


@dataclass(frozen=True)
class CheckpointResult:
    verdict: ChainVerdict
    recorded: bool
    position: int | None
    """The position checkpointed (None when the chain is broken)."""


def command_id(position: int) -> str:
    return f"checkpoint:{position}"


def due_checkpoint(service: RegioTwin) -> tuple[ChainVerdict, RecordCheckpoint | None]:
    """Verify the chain; the checkpoint to record, unless the chain is broken or nothing but
    the previous checkpoint happened since."""
    verdict = verify_store(service.app)
    if not verdict.intact:
        log.error(
            "hash chain broken at position %s (%s): no checkpoint recorded",
            verdict.first_broken_position,
            verdict.reason,
        )
        return verdict, None
    if verdict.head_position == 0:
        return verdict, None
    last = None
    for checkpoint in store_checkpoints(service.app):
        last = checkpoint
    # The checkpoint command stores two events: the checkpoint and its command receipt.
    if last is not None and verdict.head_position <= last.recorded_at_position + 1:
        return verdict, None
    return verdict, RecordCheckpoint(position=verdict.head_position, head_hash=verdict.head)


def record_checkpoint(service: RegioTwin) -> CheckpointResult:
    """Verify the chain and record its head, unless broken or already checkpointed."""
    verdict, command = due_checkpoint(service)
    if command is None:
        return CheckpointResult(verdict, False, verdict.head_position if verdict.intact else None)
    outcome = service.handle(
        command, actor=CHECKPOINT_ACTOR, command_id=command_id(command.position)
    )
    return CheckpointResult(verdict, not outcome.replayed, command.position)


async def checkpoint_periodically(
    gateway: DomainGateway, interval: float = DEFAULT_INTERVAL, first_delay: float = 60.0
) -> None:
    """Record a checkpoint every ``interval`` seconds until cancelled (for the bot's runner).

    The chain is verified in a thread; the command goes through the bot's gateway (its one
    writing thread). A failure is logged and tried again next time.
    """
    await asyncio.sleep(first_delay)
    while True:
        try:
            _verdict, command = await asyncio.to_thread(due_checkpoint, gateway.service)
            if command is not None:
                await gateway.handle(
                    command, actor=CHECKPOINT_ACTOR, command_id=command_id(command.position)
                )
                log.info("checkpoint of the hash chain at position %s", command.position)
        except Exception:
            log.exception("recording a checkpoint failed")
        await asyncio.sleep(interval)
