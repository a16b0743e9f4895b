"""Scenarios told once and read by several tests; each step at a known time."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from domain.clock import ManualClock
from domain.commands import (
    AcknowledgeAdvice,
    AdoptAdvice,
    CompleteFollowUp,
    DeclineAdvice,
    GiveAdvice,
    RecordExchange,
    RequestAdvice,
)
from domain.service import RegioTwin
from tests import builders
from tests.projections.support import at


@dataclass
class Story:
    pair: builders.Pair
    kickoff_id: UUID
    planned_call_id: UUID
    request_id: UUID
    advice_ids: list[UUID]
    adopted_measure_id: UUID


def exchanges_and_advice(service: RegioTwin, clock: ManualClock) -> Story:
    """München learns from Steinfurt: a kickoff with two follow-ups, a call planned for
    September, one request and four pieces of advice (one acknowledged, one adopted,
    one declined, one not yet looked at)."""
    pair = builders.muenchen_and_steinfurt(service)
    muc, stf = pair.muenchen_staff, pair.steinfurt_staff
    at(clock, 2016, 6, 22, 10)
    kickoff = service.handle(
        RecordExchange.parse(
            twinning_id=pair.twinning_id,
            kind="joint_event",
            held_on="21.06.2016",
            place="Kassel",
            participants=["Anna Huber", "Jan Brinkmann"],
            topics=["cycling", "public_participation"],
            summary="Kickoff of the twinning in Kassel.",
            follow_ups=[
                {
                    "text": "Send the Radverkehrskonzept",
                    "owner_region": "05566",
                    "due_on": "15.07.2016",
                },
                {
                    "text": "Share the citizen survey",
                    "owner_member_id": muc,
                    "due_on": "01.08.2016",
                },
            ],
        ),
        actor=muc,
    ).aggregate_id
    at(clock, 2016, 6, 23, 10)
    call = service.handle(
        RecordExchange.parse(
            twinning_id=pair.twinning_id,
            kind="call",
            held_on="15.09.2016",
            place="Telefon",
            topics=["e_mobility"],
            summary="Planned: charging infrastructure.",
        ),
        actor=muc,
    ).aggregate_id
    at(clock, 2016, 6, 24, 10)
    request = service.handle(
        RequestAdvice.parse(
            twinning_id=pair.twinning_id, topic="cycling", question="How did you plan the routes?"
        ),
        actor=muc,
    ).aggregate_id
    advice = []
    for hour, (topic, request_id) in zip(
        (10, 11, 12),
        (("cycling", request), ("e_mobility", None), ("energy_vision", None)),
        strict=True,
    ):
        at(clock, 2016, 6, 25, hour)
        advice.append(
            service.handle(
                GiveAdvice.parse(
                    twinning_id=pair.twinning_id,
                    topic=topic,
                    text=f"Our experience with {topic}.",
                    request_id=request_id,
                ),
                actor=stf,
            ).aggregate_id
        )
    at(clock, 2016, 6, 26, 10)
    advice.append(
        service.handle(
            GiveAdvice.parse(
                twinning_id=pair.twinning_id,
                topic="public_participation",
                text="Our citizen panels worked well.",
            ),
            actor=muc,
        ).aggregate_id
    )
    at(clock, 2016, 6, 27, 10)
    service.handle(AcknowledgeAdvice.parse(advice_id=advice[0]), actor=muc)
    at(clock, 2016, 6, 27, 11)
    adopted = service.handle(
        AdoptAdvice.parse(
            advice_id=advice[1],
            new_measure={
                "code": "LKM-20",
                "title": "Ladesäulen an Landratsamt und Schulen",
                "topic": "e_mobility",
                "responsible": "Fachbereich Mobilität",
            },
        ),
        actor=muc,
    )
    at(clock, 2016, 6, 27, 12)
    service.handle(DeclineAdvice.parse(advice_id=advice[2], reason="Already decided."), actor=muc)
    at(clock, 2016, 6, 28, 9)
    service.handle(CompleteFollowUp.parse(exchange_id=kickoff, number=2), actor=muc)
    return Story(
        pair=pair,
        kickoff_id=kickoff,
        planned_call_id=call,
        request_id=request,
        advice_ids=advice,
        adopted_measure_id=UUID(adopted.details["measure_id"]),
    )
