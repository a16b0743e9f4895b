"""A small world to tell scenarios in: the programme RegioTwin with München and Steinfurt."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from domain.commands import (
    FormTwinning,
    InviteMember,
    JoinWithInvite,
    ProposeMeasure,
    RegisterRegion,
    StartProgramme,
    StartTwinning,
)
from domain.service import RegioTwin

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


def programme(service: RegioTwin) -> None:
    service.handle(
        StartProgramme.parse(
            code="03KF0003",
            name="RegioTwin",
            starts_on="01.12.2014",
            ends_on="31.12.2017",
            office="IdE Institut dezentrale Energietechnologien, Kassel",
            funder="BMUB, Nationale Klimaschutzinitiative",
        ),
        actor=SYSTEM,
    )


def region(service: RegioTwin, key: str | None, slug: str, name: str, kind: str, land: str) -> UUID:
    return service.handle(
        RegisterRegion.parse(key=key, slug=slug, name=name, kind=kind, land=land), actor=SYSTEM
    ).aggregate_id


def muenchen_and_steinfurt(service: RegioTwin, *, start: bool = True) -> Pair:
    """Kreis Steinfurt teaches Landkreis München cycling and e-mobility; public
    participation is mutual."""
    programme(service)
    muenchen = region(service, "09184", "lk-muenchen", "Landkreis München", "Landkreis", "Bayern")
    steinfurt = region(
        service, "05566", "kreis-steinfurt", "Kreis Steinfurt", "Kreis", "Nordrhein-Westfalen"
    )
    twinning = service.handle(
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
        actor=SYSTEM,
    ).aggregate_id
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
