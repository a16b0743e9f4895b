"""Every event says who acted, when it was recorded and which command caused it."""

import re
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

import pytest

from domain import ids
from domain.commands import (
    ChangeMeasureStatus,
    InviteMember,
    JoinWithInvite,
    ProposeMeasure,
    ReportProgress,
    SetGoal,
)
from domain.measure import Measure
from domain.member import Member
from domain.receipt import CommandReceipt
from domain.values import Topic
from tests import builders
from tests.builders import SYSTEM, events, get, recorded

MEMBER_HEX = re.compile(r"^[0-9a-f]{32}$")


@pytest.fixture
def pair(service):
    return builders.muenchen_and_steinfurt(service)


def test_the_events_of_a_command_carry_its_actor_its_recording_time_and_its_id(
    service, clock, pair
):
    clock.set(datetime(2016, 7, 4, 14, 30, tzinfo=UTC))
    before = recorded(service)
    outcome = service.handle(
        ProposeMeasure.parse(
            region="09184",
            code="LKM-21",
            title="Bürgerwerkstatt Energievision",
            topic="public_participation",
            responsible="Klimaschutzmanagement",
        ),
        actor=pair.muenchen_staff,
        command_id="telegram-update-1001",
    )
    new = events(service, after=before)
    assert {type(event).__qualname__ for event in new} == {
        "Measure.Proposed",
        "CommandReceipt.Handled",
    }
    for event in new:
        assert event.actor == pair.muenchen_staff.hex
        assert event.command_id == "telegram-update-1001"
        assert event.timestamp == datetime(2016, 7, 4, 14, 30, tzinfo=UTC)
    assert get(service, outcome.aggregate_id).created_on == clock.now()


def test_the_recording_time_is_the_clocks_and_each_command_has_its_own(service, clock, pair):
    measure_id = builders.measure(service, pair.muenchen_staff)
    proposed_at = clock.now()
    clock.advance(timedelta(days=30, minutes=7))
    service.handle(
        ChangeMeasureStatus.parse(measure_id=measure_id, status="planned"),
        actor=pair.muenchen_staff,
        command_id="c-plan",
    )
    clock.advance(timedelta(hours=2))
    service.handle(
        ReportProgress.parse(measure_id=measure_id, percent=20),
        actor=pair.muenchen_staff,
        command_id="c-progress",
    )
    history = list(service.app.events.get(measure_id))
    assert [(type(e).__name__, e.command_id, e.timestamp) for e in history] == [
        ("Proposed", history[0].command_id, proposed_at),
        ("StatusChanged", "c-plan", proposed_at + timedelta(days=30, minutes=7)),
        ("ProgressReported", "c-progress", proposed_at + timedelta(days=30, hours=2, minutes=7)),
    ]
    measure = get(service, measure_id)
    assert (measure.created_on, measure.modified_on) == (proposed_at, clock.now())


def test_the_date_of_an_exchange_is_a_business_date_apart_from_its_recording_time(
    service, clock, pair
):
    clock.set(datetime(2016, 10, 2, 8, 15, tzinfo=UTC))
    exchange_id = builders.exchange(service, pair, held_on="14.09.2016").aggregate_id
    (recorded_event,) = service.app.events.get(exchange_id)
    assert recorded_event.held_on == date(2016, 9, 14)
    assert recorded_event.timestamp == datetime(2016, 10, 2, 8, 15, tzinfo=UTC)
    assert recorded_event.actor == pair.muenchen_staff.hex


def test_a_system_job_is_recorded_as_such(service, pair):
    before = recorded(service)
    service.handle(
        SetGoal.parse(
            region="05566",
            topic="energy_vision",
            metric="Energieautarkie",
            target_value="100",
            unit="%",
            target_year=2050,
        ),
        actor="system:seed-demo",
    )
    assert {event.actor for event in events(service, after=before)} == {"system:seed-demo"}


def test_a_person_joining_by_invite_is_recorded_as_acting_themselves(service, pair):
    invite = service.handle(InviteMember.parse(region="09184", role="staff"), actor=SYSTEM)
    before = recorded(service)
    service.handle(
        JoinWithInvite.parse(code=invite.secret, telegram_user_id=4242, name="Eva Maier"),
        actor="system:onboarding",
        command_id="join-1",
    )
    actors = {type(e).__qualname__: e.actor for e in events(service, after=before)}
    assert actors == {
        "Member.Joined": invite.aggregate_id.hex,
        "TelegramAccount.Linked": invite.aggregate_id.hex,
        "CommandReceipt.Handled": "system:onboarding",
    }


def test_every_event_in_the_store_names_a_member_or_a_system_job_and_a_handled_command(
    service, pair
):
    measure_id = builders.measure(service, pair.muenchen_staff)
    builders.advice(service, pair, measure_id=measure_id)
    builders.exchange(
        service,
        pair,
        follow_ups=[{"text": "Call.", "owner_region": "09184", "due_on": "1.10.2016"}],
    )
    builders.goal(service, pair.muenchen_staff)
    stored = events(service)
    assert len(stored) == recorded(service)
    command_ids = set()
    for event in stored:
        if MEMBER_HEX.match(event.actor):
            assert isinstance(get(service, UUID(event.actor)), Member)
        else:
            assert event.actor.startswith("system:")
        assert event.command_id
        command_ids.add(event.command_id)
    for command_id in command_ids:
        receipt = get(service, ids.receipt_id(command_id))
        assert isinstance(receipt, CommandReceipt)


def test_no_event_can_be_recorded_outside_a_command_of_the_service_layer():
    with pytest.raises(RuntimeError, match="service layer"):
        Measure(
            region_id=ids.NAMESPACE,
            code="X-1",
            title="Sneaked in",
            topic=Topic.HEAT,
            responsible="Nobody",
            due_on=None,
            expected_co2_t_per_year=None,
            description="",
        )
