from __future__ import annotations

from uuid import UUID

from domain.access import Actor
from domain.advice import Advice, AdviceRequest
from domain.commands import (
    AcknowledgeAdvice,
    AdoptAdvice,
    DeclineAdvice,
    GiveAdvice,
    RequestAdvice,
)
from domain.errors import RuleViolated
from domain.handlers import lookup
from domain.handlers.measures import propose
from domain.measure import Measure
from domain.service import Outcome, handles
from domain.twinning import Twinning
from domain.unit_of_work import UnitOfWork


def _measure_of(uow: UnitOfWork, measure_id: UUID | None, region_id: UUID) -> None:
    if measure_id is not None and uow.get(Measure, measure_id).region_id != region_id:
        raise RuleViolated("advice.measure_of_other_region")


@handles(RequestAdvice)
def request_advice(cmd: RequestAdvice, uow: UnitOfWork, actor: Actor) -> Outcome:
    twinning = uow.get(Twinning, cmd.twinning_id)
    actor.require_any_region(twinning.region_ids)
    twinning.ensure_open()
    asking = lookup.acting_region(uow, actor, cmd.from_region, twinning)
    if twinning.teacher_of(cmd.topic) == asking:
        raise RuleViolated("advice.teaching_side_cannot_ask", topic=str(cmd.topic))
    _measure_of(uow, cmd.measure_id, asking)
    request = uow.add(
        AdviceRequest(
            twinning_id=twinning.id,
            from_region_id=asking,
            to_region_id=twinning.partner_of(asking),
            topic=cmd.topic,
            question=cmd.question,
            measure_id=cmd.measure_id,
        )
    )
    return Outcome.of(request)


@handles(GiveAdvice)
def give_advice(cmd: GiveAdvice, uow: UnitOfWork, actor: Actor) -> Outcome:
    twinning = uow.get(Twinning, cmd.twinning_id)
    actor.require_any_region(twinning.region_ids)
    twinning.ensure_open()
    adviser = lookup.acting_region(uow, actor, cmd.from_region, twinning)
    if not twinning.may_advise(adviser, cmd.topic):
        raise RuleViolated("advice.not_teaching_side", topic=str(cmd.topic))
    receiver = twinning.partner_of(adviser)
    _measure_of(uow, cmd.measure_id, receiver)
    request = None
    if cmd.request_id is not None:
        request = uow.get(AdviceRequest, cmd.request_id)
        if request.twinning_id != twinning.id or request.to_region_id != adviser:
            raise RuleViolated("advice.request_not_for_you")
    advice = uow.add(
        Advice(
            twinning_id=twinning.id,
            from_region_id=adviser,
            to_region_id=receiver,
            topic=cmd.topic,
            text=cmd.text,
            measure_id=cmd.measure_id,
            request_id=cmd.request_id,
        )
    )
    if request is not None:
        request.answer(advice.id)
    return Outcome.of(advice)


def _received(
    uow: UnitOfWork, actor: Actor, cmd: AcknowledgeAdvice | AdoptAdvice | DeclineAdvice
) -> Advice:
    advice = uow.get(Advice, cmd.advice_id)
    actor.require_region(advice.to_region_id)
    return uow.get(Advice, cmd.advice_id, cmd.expected_version)


@handles(AcknowledgeAdvice)
def acknowledge_advice(cmd: AcknowledgeAdvice, uow: UnitOfWork, actor: Actor) -> Outcome:
    advice = _received(uow, actor, cmd)
    advice.acknowledge()
    return Outcome.of(advice, status=str(advice.status))


@handles(AdoptAdvice)
def adopt_advice(cmd: AdoptAdvice, uow: UnitOfWork, actor: Actor) -> Outcome:
    advice = _received(uow, actor, cmd)
    advice.ensure_undecided()
    if cmd.new_measure is not None:
        measure = propose(uow, advice.to_region_id, cmd.new_measure, advice_id=advice.id)
    else:
        assert cmd.measure_id is not None
        measure = uow.get(Measure, cmd.measure_id)
        if measure.region_id != advice.to_region_id:
            raise RuleViolated("advice.measure_of_other_region")
    advice.adopt(measure.id)
    return Outcome.of(
        advice, status=str(advice.status), measure_id=measure.id.hex, measure_code=measure.code
    )


@handles(DeclineAdvice)
def decline_advice(cmd: DeclineAdvice, uow: UnitOfWork, actor: Actor) -> Outcome:
    advice = _received(uow, actor, cmd)
    advice.decline(cmd.reason)
    return Outcome.of(advice, status=str(advice.status))
