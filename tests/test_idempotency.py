"""A redelivered command (the same idempotency key) never records twice."""

from collections.abc import Iterator

import pytest

from domain.commands import (
    ChangeMeasureStatus,
    InviteMember,
    ProposeMeasure,
    RecordExchange,
    ReportProgress,
)
from domain.errors import CommandIdReused
from domain.exchange import Exchange
from domain.service import RegioTwin
from tests import builders
from tests.builders import get, meanwhile, recorded, refused

PROPOSAL = ProposeMeasure.parse(
    region="09184",
    code="LKM-30",
    title="Mobilitätsstation am S-Bahnhof",
    topic="e_mobility",
    responsible="Fachbereich Mobilität",
)


@pytest.fixture
def pair(service):
    return builders.muenchen_and_steinfurt(service)


@pytest.fixture
def second_instance(store, clock) -> Iterator[RegioTwin]:
    """Another RegioTwin on the same event store, as after a restart or on a second worker."""
    other = RegioTwin.from_env(store, clock)
    yield other
    other.close()


def test_a_redelivered_command_records_once_and_returns_the_first_outcome(service, pair):
    first = service.handle(PROPOSAL, actor=pair.muenchen_staff, command_id="tg-update-1")
    after_first = recorded(service)
    again = service.handle(PROPOSAL, actor=pair.muenchen_staff, command_id="tg-update-1")
    assert first.replayed is False
    assert again.replayed is True
    assert (again.aggregate_id, again.version, again.details) == (
        first.aggregate_id,
        first.version,
        first.details,
    )
    assert recorded(service) == after_first


def test_a_redelivered_creation_is_not_mistaken_for_a_duplicate_code(service, pair):
    service.handle(PROPOSAL, actor=pair.muenchen_staff, command_id="tg-update-1")
    again = service.handle(PROPOSAL, actor=pair.muenchen_staff, command_id="tg-update-1")
    assert again.replayed
    with refused(service, "measure.code_taken"):
        service.handle(PROPOSAL, actor=pair.muenchen_staff, command_id="tg-update-2")


def test_a_redelivered_status_change_is_answered_not_refused_as_unchanged(service, pair):
    measure_id = builders.measure(service, pair.muenchen_staff)
    plan = ChangeMeasureStatus.parse(measure_id=measure_id, status="planned")
    service.handle(plan, actor=pair.muenchen_staff, command_id="tg-update-7")
    again = service.handle(plan, actor=pair.muenchen_staff, command_id="tg-update-7")
    assert again.replayed
    assert again.details["status"] == "planned"
    assert get(service, measure_id).version == 2


def test_a_late_redelivery_does_not_undo_later_edits(service, pair):
    measure_id = builders.measure(service, pair.muenchen_staff)
    forty = ReportProgress.parse(measure_id=measure_id, percent=40)
    sixty = ReportProgress.parse(measure_id=measure_id, percent=60)
    service.handle(forty, actor=pair.muenchen_staff, command_id="tg-40")
    service.handle(sixty, actor=pair.muenchen_staff, command_id="tg-60")
    late = service.handle(forty, actor=pair.muenchen_staff, command_id="tg-40")
    assert (late.replayed, late.details["percent"], late.version) == (True, "40", 2)
    measure = get(service, measure_id)
    assert (measure.progress, measure.version) == (60, 3)


def test_a_redelivery_after_a_restart_returns_the_first_outcome(store, clock):
    before_restart = RegioTwin.from_env(store, clock)
    pair = builders.muenchen_and_steinfurt(before_restart)
    first = before_restart.handle(PROPOSAL, actor=pair.muenchen_staff, command_id="tg-update-1")
    count = recorded(before_restart)
    before_restart.close()

    after_restart = RegioTwin.from_env(store, clock)
    try:
        again = after_restart.handle(PROPOSAL, actor=pair.muenchen_staff, command_id="tg-update-1")
        assert again.replayed
        assert (again.aggregate_id, again.version, again.details) == (
            first.aggregate_id,
            first.version,
            first.details,
        )
        assert recorded(after_restart) == count
    finally:
        after_restart.close()


def test_the_same_command_id_with_a_different_command_is_refused(service, pair):
    service.handle(PROPOSAL, actor=pair.muenchen_staff, command_id="tg-update-1")
    changed = PROPOSAL.model_copy(update={"title": "Mobilitätsstation am Bahnhof"})
    with refused(service, "command.id_reused", CommandIdReused) as caught:
        service.handle(changed, actor=pair.muenchen_staff, command_id="tg-update-1")
    assert caught.value.params == {"command_id": "tg-update-1"}
    other_kind = ReportProgress.parse(
        measure_id=builders.measure(service, pair.muenchen_staff), percent=5
    )
    with refused(service, "command.id_reused"):
        service.handle(other_kind, actor=pair.muenchen_staff, command_id="tg-update-1")


def test_the_same_command_id_from_another_member_is_refused_not_replayed(service, pair):
    first = service.handle(PROPOSAL, actor=pair.muenchen_staff, command_id="tg-update-7")
    with refused(service, "command.id_reused"):
        service.handle(PROPOSAL, actor=pair.steinfurt_staff, command_id="tg-update-7")
    again = service.handle(PROPOSAL, actor=pair.muenchen_staff, command_id="tg-update-7")
    assert again.replayed
    assert again.aggregate_id == first.aggregate_id


def test_a_redelivered_invite_creates_no_second_member_and_does_not_show_the_code_again(
    service, pair
):
    invite = InviteMember.parse(region="09184", role="staff")
    first = service.handle(invite, actor=builders.SYSTEM, command_id="invite-1")
    count = recorded(service)
    again = service.handle(invite, actor=builders.SYSTEM, command_id="invite-1")
    assert first.secret
    assert again.replayed
    assert again.secret is None
    assert again.aggregate_id == first.aggregate_id
    assert recorded(service) == count


def test_a_refused_command_redelivered_is_refused_again(service, pair):
    measure_id = builders.measure(service, pair.muenchen_staff)
    jump = ChangeMeasureStatus.parse(measure_id=measure_id, status="implemented")
    for _delivery in range(2):
        with refused(service, "measure.illegal_transition"):
            service.handle(jump, actor=pair.muenchen_staff, command_id="tg-jump")


def test_a_command_redelivered_while_its_first_delivery_is_saving_records_once(
    service, second_instance, pair, monkeypatch
):
    record = RecordExchange.parse(
        twinning_id=pair.twinning_id,
        kind="call",
        held_on="05.07.2016",
        place="Telefon",
        summary="Agreed the agenda of the site visit.",
    )
    outcomes = []
    meanwhile(
        monkeypatch,
        service,
        lambda: outcomes.append(
            second_instance.handle(record, actor=pair.muenchen_staff, command_id="tg-55")
        ),
    )
    first_delivery = service.handle(record, actor=pair.muenchen_staff, command_id="tg-55")
    (second_delivery,) = outcomes
    assert not second_delivery.replayed
    assert first_delivery.replayed
    assert first_delivery.aggregate_id == second_delivery.aggregate_id
    exchanges = [e for e in builders.events(service) if isinstance(e, Exchange.Recorded)]
    assert [e.originator_id for e in exchanges] == [second_delivery.aggregate_id]
    assert service.verify_log().intact
