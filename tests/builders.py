"""A small world to tell scenarios in: the programme RegioTwin with München and Steinfurt."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import pytest

from domain.commands import (
    Command,
    FormTwinning,
    GiveAdvice,
    InviteMember,
    JoinWithInvite,
    ProposeMeasure,
    RecordExchange,
    RegisterRegion,
    SetGoal,
    StartProgramme,
    StartTwinning,
)
from domain.errors import DomainError
from domain.service import Outcome, RegioTwin

SYSTEM = "system:test"


@dataclass
class Pair:
    twinning_id: UUID
    muenchen_id: UUID
    steinfurt_id: UUID
    muenchen_staff: UUID
    steinfurt_staff: UUID


_next_telegram_id = iter(range(1000, 10**6))


def member(service: RegioTwin, region: str | None, role: str, name: str = "Test") -> UUID:
    """Invite and join a member; returns the member id to act as."""
    invite = service.handle(InviteMember.parse(region=region, role=role), actor=SYSTEM)
    assert invite.secret is not None
    joined = service.handle(
        JoinWithInvite.parse(
            code=invite.secret, telegram_user_id=next(_next_telegram_id), name=name
        ),
        actor="system:onboarding",
    )
    return joined.aggregate_id


def programme_and_pair() -> list[Command]:
    """The programme RegioTwin, München and Steinfurt, and their twinning (formed): Kreis
    Steinfurt teaches cycling, e-mobility and the energy vision; public participation is
    mutual."""
    return [
        StartProgramme.parse(
            code="03KF0003",
            name="RegioTwin",
            starts_on="01.12.2014",
            ends_on="31.12.2017",
            office="IdE Institut dezentrale Energietechnologien, Kassel",
            funder="BMUB, Nationale Klimaschutzinitiative",
        ),
        RegisterRegion.parse(
            key="09184",
            slug="lk-muenchen",
            name="Landkreis München",
            kind="Landkreis",
            land="Bayern",
        ),
        RegisterRegion.parse(
            key="05566",
            slug="kreis-steinfurt",
            name="Kreis Steinfurt",
            kind="Kreis",
            land="Nordrhein-Westfalen",
        ),
        FormTwinning.parse(
            programme="03KF0003",
            first_region="kreis-steinfurt",
            second_region="lk-muenchen",
            starts_on="21.06.2016",
            ends_on="20.06.2017",
            topics=[
                {"topic": "cycling", "teaching_region": "05566"},
                {"topic": "e_mobility", "teaching_region": "05566"},
                {"topic": "energy_vision", "teaching_region": "05566"},
                {"topic": "public_participation", "teaching_region": None},
            ],
        ),
    ]


def programme(service: RegioTwin) -> None:
    service.handle(programme_and_pair()[0], actor=SYSTEM)


def region(service: RegioTwin, key: str | None, slug: str, name: str, kind: str, land: str) -> UUID:
    return service.handle(
        RegisterRegion.parse(key=key, slug=slug, name=name, kind=kind, land=land), actor=SYSTEM
    ).aggregate_id


def muenchen_and_steinfurt(service: RegioTwin, *, start: bool = True) -> Pair:
    """The programme and the pair of :func:`programme_and_pair`, two staff members."""
    _programme, muenchen, steinfurt, twinning = (
        service.handle(command, actor=SYSTEM).aggregate_id for command in programme_and_pair()
    )
    if start:
        service.handle(StartTwinning.parse(twinning_id=twinning), actor=SYSTEM)
    return Pair(
        twinning_id=twinning,
        muenchen_id=muenchen,
        steinfurt_id=steinfurt,
        muenchen_staff=member(service, "09184", "staff", "Anna Huber"),
        steinfurt_staff=member(service, "05566", "staff", "Jan Brinkmann"),
    )


def measure(service: RegioTwin, actor: UUID, region: str = "09184", code: str = "LKM-07") -> UUID:
    return service.handle(
        ProposeMeasure.parse(
            region=region,
            code=code,
            title="Radschnellweg München–Garching",
            topic="cycling",
            responsible="Fachbereich Mobilität",
            due_on="31.12.2017",
            expected_co2_t_per_year="120.5",
            description="Illustrative measure for tests.",
        ),
        actor=actor,
    ).aggregate_id


# --- helpers to tell scenarios ------------------------------------------------------


def act(service: RegioTwin, actor: str | UUID, command: type[Command], **fields: Any) -> Outcome:
    """Parse user input into a command and carry it out for an actor."""
    return service.handle(command.parse(**fields), actor=actor)


def get(service: RegioTwin, aggregate_id: UUID) -> Any:
    """The current state of an aggregate, as the store has it."""
    return service.app.repository.get(aggregate_id)


def recorded(service: RegioTwin) -> int:
    """The highest notification id: it grows with every event recorded. (PostgreSQL skips
    the numbers of rolled-back inserts, so after a race it is no count of events.)"""
    return service.app.recorder.max_notification_id() or 0


@contextmanager
def refused(
    service: RegioTwin, code: str, error: type[DomainError] = DomainError
) -> Iterator[pytest.ExceptionInfo[DomainError]]:
    """The command inside is refused with ``code`` and the store is left as it was."""
    before = recorded(service)
    with pytest.raises(error) as caught:
        yield caught
    assert caught.value.code == code, f"refused with {caught.value.code}, expected {code}"
    assert recorded(service) == before, "a refused command recorded events"


def marburg(service: RegioTwin) -> UUID:
    """A third region, outside the München–Steinfurt twinning."""
    return region(
        service,
        "06534",
        "lk-marburg-biedenkopf",
        "Landkreis Marburg-Biedenkopf",
        "Landkreis",
        "Hessen",
    )


def advice(
    service: RegioTwin,
    pair: Pair,
    topic: str = "cycling",
    *,
    actor: UUID | None = None,
    **fields: Any,
) -> UUID:
    """Steinfurt advises München (by default on cycling, which Steinfurt teaches)."""
    return act(
        service,
        actor or pair.steinfurt_staff,
        GiveAdvice,
        twinning_id=pair.twinning_id,
        topic=topic,
        text="Start with a pilot corridor and count cyclists before and after.",
        **fields,
    ).aggregate_id


def exchange(
    service: RegioTwin,
    pair: Pair,
    held_on: str = "14.09.2016",
    follow_ups: list[dict[str, Any]] | None = None,
    actor: UUID | None = None,
) -> Outcome:
    return act(
        service,
        actor or pair.muenchen_staff,
        RecordExchange,
        twinning_id=pair.twinning_id,
        kind="site_visit",
        held_on=held_on,
        place="Steinfurt",
        participants=["Anna Huber", "Jan Brinkmann"],
        topics=["cycling"],
        summary="Visit of the Steinfurt cycling network and its counting stations.",
        follow_ups=follow_ups or [],
    )


def goal(service: RegioTwin, actor: UUID, region: str = "09184") -> UUID:
    return act(
        service,
        actor,
        SetGoal,
        region=region,
        topic="energy_vision",
        metric="Share of renewable electricity",
        target_value="100",
        unit="%",
        target_year=2030,
    ).aggregate_id


def events(service: RegioTwin, after: int = 0) -> list[Any]:
    """The domain events in the store, in the order they were recorded."""
    return [
        service.app.mapper.to_domain_event(notification)
        for notification in service.app.recorder.select_notifications(
            start=after + 1, limit=1_000_000
        )
    ]


def meanwhile(
    monkeypatch: pytest.MonkeyPatch, service: RegioTwin, *others: Callable[[], Any]
) -> None:
    """Race: after ``service`` has decided its next command, and before it saves, the
    ``others`` act (one before each save attempt), as a second instance would."""
    save = service.app.save
    pending = list(others)

    def save_after_the_others(*objects: Any, **kwargs: Any) -> Any:
        if pending:
            pending.pop(0)()
        return save(*objects, **kwargs)

    monkeypatch.setattr(service.app, "save", save_after_the_others)
