from __future__ import annotations

from uuid import UUID

from domain import ids
from domain.access import Actor
from domain.commands import (
    ChangeDueDate,
    ChangeMeasureStatus,
    ChangeResponsible,
    EditDescription,
    MeasureDraft,
    ProposeMeasure,
    ReportProgress,
)
from domain.errors import RuleViolated
from domain.handlers import lookup
from domain.measure import Measure
from domain.service import Outcome, handles
from domain.unit_of_work import UnitOfWork


def propose(
    uow: UnitOfWork, region_id: UUID, draft: MeasureDraft, advice_id: UUID | None = None
) -> Measure:
    if uow.exists(ids.measure_id(region_id, draft.code)):
        raise RuleViolated("measure.code_taken", code=draft.code)
    return uow.add(
        Measure(
            region_id=region_id,
            code=draft.code,
            title=draft.title,
            topic=draft.topic,
            responsible=draft.responsible,
            due_on=draft.due_on,
            expected_co2_t_per_year=draft.expected_co2_t_per_year,
            description=draft.description,
            advice_id=advice_id,
        )
    )


@handles(ProposeMeasure)
def propose_measure(cmd: ProposeMeasure, uow: UnitOfWork, actor: Actor) -> Outcome:
    region = lookup.region(uow, cmd.region)
    actor.require_region(region.id)
    measure = propose(uow, region.id, cmd)
    return Outcome.of(measure, code=measure.code)


def _measure(
    uow: UnitOfWork,
    actor: Actor,
    cmd: ChangeMeasureStatus | ReportProgress | ChangeDueDate | ChangeResponsible | EditDescription,
) -> Measure:
    measure = uow.get(Measure, cmd.measure_id)
    actor.require_region(measure.region_id)
    return uow.get(Measure, cmd.measure_id, cmd.expected_version)


@handles(ChangeMeasureStatus)
def change_status(cmd: ChangeMeasureStatus, uow: UnitOfWork, actor: Actor) -> Outcome:
    measure = _measure(uow, actor, cmd)
    measure.change_status(cmd.status, cmd.note)
    return Outcome.of(measure, code=measure.code, status=str(measure.status))


@handles(ReportProgress)
def report_progress(cmd: ReportProgress, uow: UnitOfWork, actor: Actor) -> Outcome:
    measure = _measure(uow, actor, cmd)
    measure.report_progress(cmd.percent, cmd.note)
    return Outcome.of(measure, code=measure.code, percent=str(cmd.percent))


@handles(ChangeDueDate)
def change_due_date(cmd: ChangeDueDate, uow: UnitOfWork, actor: Actor) -> Outcome:
    measure = _measure(uow, actor, cmd)
    measure.change_due_date(cmd.due_on)
    return Outcome.of(measure, code=measure.code)


@handles(ChangeResponsible)
def change_responsible(cmd: ChangeResponsible, uow: UnitOfWork, actor: Actor) -> Outcome:
    measure = _measure(uow, actor, cmd)
    measure.change_responsible(cmd.responsible)
    return Outcome.of(measure, code=measure.code)


@handles(EditDescription)
def edit_description(cmd: EditDescription, uow: UnitOfWork, actor: Actor) -> Outcome:
    measure = _measure(uow, actor, cmd)
    measure.edit_description(cmd.description)
    return Outcome.of(measure, code=measure.code)
