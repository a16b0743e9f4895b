from __future__ import annotations

from domain import ids
from domain.access import Actor
from domain.commands import (
    AddTopic,
    CancelTwinning,
    CompleteTwinning,
    FormTwinning,
    RegisterRegion,
    RemoveTopic,
    StartProgramme,
    StartTwinning,
)
from domain.errors import RuleViolated
from domain.handlers import lookup
from domain.programme import Programme
from domain.region import Region, RegionSlug
from domain.service import Outcome, handles
from domain.twinning import Twinning
from domain.unit_of_work import UnitOfWork
from domain.values import key_type_of, land_of_key


@handles(StartProgramme)
def start_programme(cmd: StartProgramme, uow: UnitOfWork, actor: Actor) -> Outcome:
    actor.require_programme_management()
    if uow.exists(ids.programme_id(cmd.code)):
        raise RuleViolated("programme.exists", code=cmd.code)
    if cmd.ends_on <= cmd.starts_on:
        raise RuleViolated("programme.ends_before_start")
    programme = uow.add(Programme(**cmd.model_dump()))
    return Outcome.of(programme, code=cmd.code)


@handles(RegisterRegion)
def register_region(cmd: RegisterRegion, uow: UnitOfWork, actor: Actor) -> Outcome:
    actor.require_programme_management()
    if cmd.key is not None:
        if land_of_key(cmd.key) not in cmd.land.split("/"):
            raise RuleViolated("region.key_not_in_land", key=cmd.key, land=cmd.land)
        if uow.exists(ids.region_id(cmd.key, cmd.slug)):
            raise RuleViolated("region.key_taken", key=cmd.key)
    if uow.exists(ids.region_slug_index_id(cmd.slug)):
        raise RuleViolated("region.slug_taken", slug=cmd.slug)
    region = uow.add(
        Region(
            key=cmd.key,
            key_type=key_type_of(cmd.key) if cmd.key else None,
            slug=cmd.slug,
            name=cmd.name,
            kind=cmd.kind,
            land=cmd.land,
        )
    )
    uow.add(RegionSlug(slug=cmd.slug, region_id=region.id))
    return Outcome.of(region, slug=cmd.slug)


@handles(FormTwinning)
def form_twinning(cmd: FormTwinning, uow: UnitOfWork, actor: Actor) -> Outcome:
    actor.require_programme_management()
    programme = uow.get(Programme, ids.programme_id(cmd.programme))
    first = lookup.region(uow, cmd.first_region)
    second = lookup.region(uow, cmd.second_region)
    if first.id != second.id and uow.exists(ids.twinning_id(programme.id, first.id, second.id)):
        raise RuleViolated("twinning.exists")
    twinning = uow.add(Twinning.form(programme.id, first.id, second.id, cmd.starts_on, cmd.ends_on))
    for direction in cmd.topics:
        teacher = (
            None
            if direction.teaching_region is None
            else lookup.region(uow, direction.teaching_region).id
        )
        twinning.add_topic(direction.topic, teacher)
    return Outcome.of(twinning)


def _twinning(
    uow: UnitOfWork,
    actor: Actor,
    cmd: AddTopic | RemoveTopic | StartTwinning | CompleteTwinning | CancelTwinning,
) -> Twinning:
    actor.require_programme_management()
    return uow.get(Twinning, cmd.twinning_id, cmd.expected_version)


@handles(AddTopic)
def add_topic(cmd: AddTopic, uow: UnitOfWork, actor: Actor) -> Outcome:
    twinning = _twinning(uow, actor, cmd)
    teacher = None if cmd.teaching_region is None else lookup.region(uow, cmd.teaching_region).id
    twinning.add_topic(cmd.topic, teacher)
    return Outcome.of(twinning, topic=str(cmd.topic))


@handles(RemoveTopic)
def remove_topic(cmd: RemoveTopic, uow: UnitOfWork, actor: Actor) -> Outcome:
    twinning = _twinning(uow, actor, cmd)
    twinning.remove_topic(cmd.topic)
    return Outcome.of(twinning, topic=str(cmd.topic))


@handles(StartTwinning)
def start_twinning(cmd: StartTwinning, uow: UnitOfWork, actor: Actor) -> Outcome:
    twinning = _twinning(uow, actor, cmd)
    twinning.start()
    return Outcome.of(twinning)


@handles(CompleteTwinning)
def complete_twinning(cmd: CompleteTwinning, uow: UnitOfWork, actor: Actor) -> Outcome:
    twinning = _twinning(uow, actor, cmd)
    twinning.complete()
    return Outcome.of(twinning)


@handles(CancelTwinning)
def cancel_twinning(cmd: CancelTwinning, uow: UnitOfWork, actor: Actor) -> Outcome:
    twinning = _twinning(uow, actor, cmd)
    twinning.cancel(cmd.reason)
    return Outcome.of(twinning)
