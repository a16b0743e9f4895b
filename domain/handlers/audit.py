"""Audit use cases: checkpoints of the hash chain and issued reports."""

from __future__ import annotations

import re
from uuid import UUID

from domain import ids
from domain.access import Actor
from domain.audit import ChainCheckpoint, Report, checkpoint_id
from domain.commands import IssueReport, RecordCheckpoint
from domain.errors import NotAllowed, RuleViolated
from domain.programme import Programme
from domain.service import Outcome, handles
from domain.unit_of_work import UnitOfWork

UUID_TEXT = re.compile(r"^[0-9a-fA-F]{8}-?([0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12}$")


@handles(RecordCheckpoint)
def record_checkpoint(cmd: RecordCheckpoint, uow: UnitOfWork, actor: Actor) -> Outcome:
    if not actor.is_system:
        raise NotAllowed("auth.system_only")
    if uow.exists(checkpoint_id(cmd.position)):
        raise RuleViolated("checkpoint.exists", position=cmd.position)
    checkpoint = uow.add(ChainCheckpoint(position=cmd.position, head_hash=cmd.head_hash))
    return Outcome.of(checkpoint, position=str(cmd.position))


@handles(IssueReport)
def issue_report(cmd: IssueReport, uow: UnitOfWork, actor: Actor) -> Outcome:
    actor.require_programme_management()
    programme_id = (
        UUID(cmd.programme) if UUID_TEXT.match(cmd.programme) else ids.programme_id(cmd.programme)
    )
    programme = uow.get(Programme, programme_id)
    report = uow.add(
        Report(
            programme_id=programme.id,
            title=cmd.title,
            as_of=cmd.as_of,
            content_sha256=cmd.content_sha256,
            log_position=cmd.log_position,
            chain_head=cmd.chain_head,
        )
    )
    return Outcome.of(report, content_sha256=cmd.content_sha256)
