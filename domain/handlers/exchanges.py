from __future__ import annotations

from uuid import UUID

from domain.access import Actor
from domain.commands import AgreeFollowUp, CompleteFollowUp, FollowUpDraft, RecordExchange
from domain.errors import RuleViolated
from domain.exchange import Exchange
from domain.handlers import lookup
from domain.member import Member
from domain.service import Outcome, handles
from domain.twinning import Twinning
from domain.unit_of_work import UnitOfWork


@handles(RecordExchange)
def record_exchange(cmd: RecordExchange, uow: UnitOfWork, actor: Actor) -> Outcome:
    twinning = uow.get(Twinning, cmd.twinning_id)
    actor.require_any_region(twinning.region_ids)
    twinning.ensure_open()
    exchange = uow.add(
        Exchange(
            twinning_id=twinning.id,
            kind=cmd.kind,
            held_on=cmd.held_on,
            place=cmd.place,
            participants=list(cmd.participants),
            topics=list(cmd.topics),
            summary=cmd.summary,
        )
    )
    for draft in cmd.follow_ups:
        _agree(uow, twinning, exchange, draft)
    return Outcome.of(exchange, follow_ups=str(len(cmd.follow_ups)))


def _agree(uow: UnitOfWork, twinning: Twinning, exchange: Exchange, draft: FollowUpDraft) -> int:
    owner_region_id: UUID | None = None
    if draft.owner_region is not None:
        owner_region_id = lookup.region(uow, draft.owner_region).id
        if not twinning.includes(owner_region_id):
            raise RuleViolated("twinning.region_not_partner", region=draft.owner_region)
    if draft.owner_member_id is not None:
        owner = uow.get(Member, draft.owner_member_id)
        owner.ensure_active()
        if owner.region_id is not None and not twinning.includes(owner.region_id):
            raise RuleViolated("follow_up.owner_not_partner")
    return exchange.agree_follow_up(
        draft.text, owner_region_id, draft.owner_member_id, draft.due_on
    )


def _exchange(uow: UnitOfWork, actor: Actor, exchange_id: UUID) -> tuple[Twinning, Exchange]:
    exchange = uow.get(Exchange, exchange_id)
    twinning = uow.get(Twinning, exchange.twinning_id)
    actor.require_any_region(twinning.region_ids)
    return twinning, exchange


@handles(AgreeFollowUp)
def agree_follow_up(cmd: AgreeFollowUp, uow: UnitOfWork, actor: Actor) -> Outcome:
    twinning, exchange = _exchange(uow, actor, cmd.exchange_id)
    twinning.ensure_open()
    number = _agree(uow, twinning, exchange, cmd)
    return Outcome.of(exchange, number=str(number))


@handles(CompleteFollowUp)
def complete_follow_up(cmd: CompleteFollowUp, uow: UnitOfWork, actor: Actor) -> Outcome:
    _twinning, exchange = _exchange(uow, actor, cmd.exchange_id)
    exchange.complete_follow_up(cmd.number, cmd.note)
    return Outcome.of(exchange, number=str(cmd.number))
