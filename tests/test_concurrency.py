"""Two staff editing one measure at once: one wins, the other is told, nothing is lost."""

from collections.abc import Iterator
from datetime import timedelta

import pytest

from domain import ids
from domain.commands import (
    AcknowledgeAdvice,
    ChangeMeasureStatus,
    DeclineAdvice,
    ProposeMeasure,
    ReportProgress,
    ReviseGoal,
)
from domain.errors import Conflict, DomainError
from domain.service import RegioTwin
from tests import builders
from tests.builders import act, get, meanwhile, refused


@pytest.fixture
def pair(service):
    return builders.muenchen_and_steinfurt(service)


@pytest.fixture
def measure_id(service, pair):
    return builders.measure(service, pair.muenchen_staff)


@pytest.fixture
def colleague(service, pair):
    """A second member of München who edits the same measures."""
    return builders.member(service, "09184", "coordinator", "Bernd Vogl")


@pytest.fixture
def other_instance(store, clock) -> Iterator[RegioTwin]:
    """A second RegioTwin on the same store (another worker of the bot)."""
    other = RegioTwin.from_env(store, clock)
    yield other
    other.close()


def test_an_edit_based_on_a_stale_version_is_refused_with_what_happened_meanwhile(
    service, clock, pair, measure_id, colleague
):
    clock.advance(timedelta(hours=1))
    progress_at = clock.now()
    act(service, colleague, ReportProgress, measure_id=measure_id, percent=25)
    clock.advance(timedelta(minutes=5))
    act(service, pair.muenchen_staff, ChangeMeasureStatus, measure_id=measure_id, status="planned")
    with refused(service, "conflict.stale_version", Conflict) as caught:
        act(
            service,
            pair.muenchen_staff,
            ReportProgress,
            measure_id=measure_id,
            percent=40,
            expected_version=1,  # the version she saw
        )
    conflict = caught.value
    assert (conflict.expected, conflict.actual) == (1, 3)
    assert conflict.changes == [
        {
            "event": "Measure.ProgressReported",
            "version": "2",
            "actor": colleague.hex,
            "recorded_at": progress_at.isoformat(),
        },
        {
            "event": "Measure.StatusChanged",
            "version": "3",
            "actor": pair.muenchen_staff.hex,
            "recorded_at": clock.now().isoformat(),
        },
    ]
    assert get(service, measure_id).progress == 25


def test_an_edit_based_on_the_current_version_goes_through(service, pair, measure_id):
    act(service, pair.muenchen_staff, ReportProgress, measure_id=measure_id, percent=10)
    outcome = act(
        service,
        pair.muenchen_staff,
        ChangeMeasureStatus,
        measure_id=measure_id,
        status="planned",
        expected_version=2,
    )
    assert outcome.version == 3


def test_stale_decisions_on_advice_and_goals_are_conflicts_too(service, pair):
    advice_id = builders.advice(service, pair)
    goal_id = builders.goal(service, pair.muenchen_staff)
    act(service, pair.muenchen_staff, ReviseGoal, goal_id=goal_id, target_year=2035, reason="A")
    act(service, pair.muenchen_staff, AcknowledgeAdvice, advice_id=advice_id)
    with refused(service, "conflict.stale_version"):
        act(
            service,
            pair.muenchen_staff,
            DeclineAdvice,
            advice_id=advice_id,
            reason="Too expensive.",
            expected_version=1,
        )
    with refused(service, "conflict.stale_version"):
        act(
            service,
            pair.muenchen_staff,
            ReviseGoal,
            goal_id=goal_id,
            target_year=2040,
            reason="B",
            expected_version=1,
        )


def test_two_staff_editing_one_measure_at_once_one_wins_and_the_other_is_told(
    service, other_instance, pair, measure_id, colleague, monkeypatch
):
    # Anna opens the measure (version 1) and plans it; while her instance is saving,
    # Bernd's instance records progress on the version he saw, also version 1.
    meanwhile(
        monkeypatch,
        service,
        lambda: act(
            other_instance,
            colleague,
            ReportProgress,
            measure_id=measure_id,
            percent=30,
            expected_version=1,
        ),
    )
    with pytest.raises(Conflict) as caught:
        act(
            service,
            pair.muenchen_staff,
            ChangeMeasureStatus,
            measure_id=measure_id,
            status="planned",
            expected_version=1,
        )
    assert [change["event"] for change in caught.value.changes] == ["Measure.ProgressReported"]
    assert caught.value.changes[0]["actor"] == colleague.hex
    measure = get(service, measure_id)
    assert (measure.version, measure.status, measure.progress) == (2, "proposed", 30)
    assert service.verify_log().intact  # rolled-back saves leave no hole in the chain


def test_an_edit_without_a_version_is_decided_again_on_fresh_state_and_nothing_is_lost(
    service, other_instance, pair, measure_id, colleague, monkeypatch
):
    meanwhile(
        monkeypatch,
        service,
        lambda: act(
            other_instance, colleague, ChangeMeasureStatus, measure_id=measure_id, status="planned"
        ),
    )
    outcome = act(service, pair.muenchen_staff, ReportProgress, measure_id=measure_id, percent=50)
    assert outcome.version == 3
    measure = get(service, measure_id)
    assert (measure.status, measure.progress) == ("planned", 50)
    history = [type(event).__name__ for event in service.app.events.get(measure_id)]
    assert history == ["Proposed", "StatusChanged", "ProgressReported"]
    assert service.verify_log().intact  # rolled-back saves leave no hole in the chain


def test_an_edit_decided_again_is_refused_if_the_fresh_state_forbids_it(
    service, other_instance, pair, measure_id, colleague, monkeypatch
):
    meanwhile(
        monkeypatch,
        service,
        lambda: act(
            other_instance, colleague, ChangeMeasureStatus, measure_id=measure_id, status="planned"
        ),
    )
    with pytest.raises(DomainError) as caught:
        act(
            service,
            pair.muenchen_staff,
            ChangeMeasureStatus,
            measure_id=measure_id,
            status="planned",
        )
    assert caught.value.code == "measure.status_unchanged"
    assert [type(e).__name__ for e in service.app.events.get(measure_id)] == [
        "Proposed",
        "StatusChanged",
    ]


def test_two_members_racing_to_propose_the_same_code_get_one_measure(
    service, other_instance, pair, colleague, monkeypatch
):
    def proposal(title):
        return ProposeMeasure.parse(
            region="09184",
            code="LKM-40",
            title=title,
            topic="heat",
            responsible="Klimaschutzmanagement",
        )

    meanwhile(
        monkeypatch,
        service,
        lambda: other_instance.handle(proposal("Wärmeplan (Bernd)"), actor=colleague),
    )
    with pytest.raises(DomainError) as caught:
        service.handle(proposal("Wärmeplan (Anna)"), actor=pair.muenchen_staff)
    assert caught.value.code == "measure.code_taken"
    measure = get(service, ids.measure_id(pair.muenchen_id, "LKM-40"))
    assert (measure.title, measure.version) == ("Wärmeplan (Bernd)", 1)
    assert service.verify_log().intact  # rolled-back saves leave no hole in the chain


def test_a_store_that_stays_busy_is_reported_after_a_few_attempts(
    service, other_instance, pair, measure_id, colleague, monkeypatch
):
    def bernd_reports(percent):
        return lambda: act(
            other_instance, colleague, ReportProgress, measure_id=measure_id, percent=percent
        )

    meanwhile(monkeypatch, service, bernd_reports(10), bernd_reports(20), bernd_reports(30))
    before = len(builders.events(service))
    with pytest.raises(DomainError) as caught:
        act(service, pair.muenchen_staff, ReportProgress, measure_id=measure_id, percent=99)
    assert caught.value.code == "store.busy"
    measure = get(service, measure_id)
    assert (measure.version, measure.progress) == (4, 30)
    # Bernd's three reports and their receipts, nothing of Anna's (PostgreSQL's ids have gaps
    # where her inserts were rolled back, so count the events themselves).
    assert len(builders.events(service)) == before + 6
    assert service.verify_log().intact  # rolled-back saves leave no hole in the chain
