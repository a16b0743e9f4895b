"""A demo-like history: several twinnings over months, every kind of event."""

from __future__ import annotations

from domain.clock import ManualClock
from domain.commands import (
    AgreeFollowUp,
    CancelTwinning,
    ChangeDueDate,
    ChangeRole,
    ChooseLanguage,
    CompleteTwinning,
    EditDescription,
    FormTwinning,
    MarkGoalAchieved,
    RemoveMember,
    ReviseGoal,
    SetGoal,
    StartTwinning,
)
from domain.service import RegioTwin
from tests import builders
from tests.projections.scenarios import exchanges_and_advice
from tests.projections.support import at, move, progress

SYSTEM = builders.SYSTEM


def demo_like(service: RegioTwin, clock: ManualClock) -> None:
    story = exchanges_and_advice(service, clock)
    pair = story.pair
    muc, stf = pair.muenchen_staff, pair.steinfurt_staff
    builders.region(
        service, "08221", "heidelberg", "Stadt Heidelberg", "Stadt", "Baden-Württemberg"
    )
    builders.region(
        service, "03459", "lk-osnabrueck", "Landkreis Osnabrück", "Landkreis", "Niedersachsen"
    )
    builders.region(service, None, "verband-x", "Regionalverband X", "Verband", "Hessen")
    second = service.handle(
        FormTwinning.parse(
            programme="03KF0003",
            first_region="heidelberg",
            second_region="lk-osnabrueck",
            starts_on="01.07.2016",
            ends_on="30.06.2017",
            topics=[{"topic": "heat", "teaching_region": "03459"}, {"topic": "cycling"}],
        ),
        actor=SYSTEM,
    ).aggregate_id
    service.handle(StartTwinning.parse(twinning_id=second), actor=SYSTEM)
    cancelled = service.handle(
        FormTwinning.parse(
            programme="03KF0003",
            first_region="verband-x",
            second_region="heidelberg",
            starts_on="01.07.2016",
            ends_on="30.06.2017",
        ),
        actor=SYSTEM,
    ).aggregate_id
    service.handle(CancelTwinning.parse(twinning_id=cancelled, reason="Doppelt"), actor=SYSTEM)
    heidelberg = builders.member(service, "08221", "coordinator", "Eva Keller")
    at(clock, 2016, 7, 1, 8)
    measures = [builders.measure(service, muc, code=f"LKM-{n}") for n in range(1, 7)]
    hd = [builders.measure(service, heidelberg, region="08221", code=f"HD-{n}") for n in (1, 2)]
    at(clock, 2016, 7, 20, 14)
    move(service, muc, measures[0], "implemented")
    move(service, muc, measures[1], "in_progress")
    progress(service, muc, measures[1], 40)
    move(service, muc, measures[2], "discontinued", note="Kein Budget")
    move(service, heidelberg, hd[0], "planned")
    service.handle(
        EditDescription.parse(measure_id=measures[3], description="Neu gefasst: Wärmepumpen."),
        actor=muc,
    )
    service.handle(ChangeDueDate.parse(measure_id=measures[4], due_on="30.06.2018"), actor=muc)
    goal = service.handle(
        SetGoal.parse(
            region="09184",
            topic="energy_vision",
            metric="CO2-Minderung",
            target_value="50",
            unit="%",
            target_year=2030,
        ),
        actor=muc,
    ).aggregate_id
    at(clock, 2016, 9, 1, 9)
    service.handle(ReviseGoal.parse(goal_id=goal, target_value="55", reason="Kreistag"), actor=muc)
    progress(service, muc, measures[1], 80)
    move(service, muc, measures[5], "planned")
    service.handle(
        AgreeFollowUp.parse(
            exchange_id=story.kickoff_id,
            text="Zweiter Besuch",
            owner_region="09184",
            due_on="01.10.2016",
        ),
        actor=stf,
    )
    service.handle(ChooseLanguage.parse(member_id=heidelberg, language="en"), actor=heidelberg)
    at(clock, 2016, 12, 31, 23, 30)
    move(service, muc, measures[1], "implemented")
    service.handle(MarkGoalAchieved.parse(goal_id=goal, note="Früher als gedacht"), actor=muc)
    service.handle(ChangeRole.parse(member_id=heidelberg, role="staff"), actor=SYSTEM)
    service.handle(RemoveMember.parse(member_id=heidelberg, reason="Wechsel"), actor=SYSTEM)
    at(clock, 2017, 6, 21, 9)
    service.handle(CompleteTwinning.parse(twinning_id=pair.twinning_id), actor=SYSTEM)
