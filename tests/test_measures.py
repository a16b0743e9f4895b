"""Klimaschutzmaßnahmen: their status path, their progress and their codes."""

from decimal import Decimal

import pytest

from domain.commands import (
    ChangeDueDate,
    ChangeMeasureStatus,
    ChangeResponsible,
    ProposeMeasure,
    ReportProgress,
)
from domain.errors import InvalidCommand, NotFound, RuleViolated
from domain.values import MeasureStatus, Topic
from tests import builders
from tests.builders import act, get, refused

# The legal path, and how to reach each status from a fresh (proposed) measure.
PATH_TO = {
    "proposed": [],
    "planned": ["planned"],
    "in_progress": ["planned", "in_progress"],
    "implemented": ["planned", "in_progress", "implemented"],
    "discontinued": ["discontinued"],
}
STATUSES = list(PATH_TO)
OPEN = ["proposed", "planned", "in_progress"]


@pytest.fixture
def pair(service):
    return builders.muenchen_and_steinfurt(service)


@pytest.fixture
def measure_id(service, pair):
    return builders.measure(service, pair.muenchen_staff)


def move(service, actor, measure_id, *statuses):
    for status in statuses:
        act(service, actor, ChangeMeasureStatus, measure_id=measure_id, status=status)


def test_a_proposed_measure_belongs_to_its_region_starts_proposed_and_has_no_progress(
    service, pair, measure_id
):
    measure = get(service, measure_id)
    assert measure.region_id == pair.muenchen_id
    assert measure.code == "LKM-07"
    assert measure.topic == Topic.CYCLING
    assert measure.status == MeasureStatus.PROPOSED
    assert measure.progress == 0
    assert measure.expected_co2_t_per_year == Decimal("120.5")


def test_a_measure_walks_from_proposed_through_planned_and_in_progress_to_implemented(
    service, pair, measure_id
):
    for status in ("planned", "in_progress", "implemented"):
        outcome = act(
            service, pair.muenchen_staff, ChangeMeasureStatus, measure_id=measure_id, status=status
        )
        assert outcome.details["status"] == status
        assert get(service, measure_id).status == status
    assert get(service, measure_id).version == 4


def test_a_measure_cannot_jump_from_proposed_to_implemented(service, pair, measure_id):
    with refused(service, "measure.illegal_transition", RuleViolated) as caught:
        act(
            service,
            pair.muenchen_staff,
            ChangeMeasureStatus,
            measure_id=measure_id,
            status="implemented",
        )
    assert caught.value.params == {"from_status": "proposed", "to_status": "implemented"}
    assert get(service, measure_id).status == MeasureStatus.PROPOSED


@pytest.mark.parametrize(
    ("current", "target"),
    [
        ("proposed", "in_progress"),
        ("planned", "proposed"),
        ("planned", "implemented"),
        ("in_progress", "planned"),
        ("in_progress", "proposed"),
    ],
)
def test_a_measure_neither_skips_a_step_nor_goes_back(service, pair, measure_id, current, target):
    move(service, pair.muenchen_staff, measure_id, *PATH_TO[current])
    with refused(service, "measure.illegal_transition"):
        act(service, pair.muenchen_staff, ChangeMeasureStatus, measure_id=measure_id, status=target)
    assert get(service, measure_id).status == current


@pytest.mark.parametrize("target", ["proposed", "planned", "in_progress", "discontinued"])
def test_an_implemented_measure_changes_to_nothing_else(service, pair, measure_id, target):
    move(service, pair.muenchen_staff, measure_id, *PATH_TO["implemented"])
    with refused(service, "measure.illegal_transition"):
        act(service, pair.muenchen_staff, ChangeMeasureStatus, measure_id=measure_id, status=target)


@pytest.mark.parametrize("target", ["proposed", "planned", "in_progress", "implemented"])
def test_a_discontinued_measure_stays_discontinued(service, pair, measure_id, target):
    move(service, pair.muenchen_staff, measure_id, "planned", "discontinued")
    with refused(service, "measure.illegal_transition"):
        act(service, pair.muenchen_staff, ChangeMeasureStatus, measure_id=measure_id, status=target)


@pytest.mark.parametrize("current", OPEN)
def test_a_measure_can_be_discontinued_from_every_open_state(service, pair, measure_id, current):
    move(service, pair.muenchen_staff, measure_id, *PATH_TO[current])
    outcome = act(
        service,
        pair.muenchen_staff,
        ChangeMeasureStatus,
        measure_id=measure_id,
        status="discontinued",
        note="The Land funds the corridor instead.",
    )
    assert outcome.details["status"] == "discontinued"
    assert get(service, measure_id).status == MeasureStatus.DISCONTINUED


@pytest.mark.parametrize("current", STATUSES)
def test_setting_the_status_a_measure_already_has_is_refused(service, pair, measure_id, current):
    move(service, pair.muenchen_staff, measure_id, *PATH_TO[current])
    with refused(service, "measure.status_unchanged"):
        act(
            service, pair.muenchen_staff, ChangeMeasureStatus, measure_id=measure_id, status=current
        )


@pytest.mark.parametrize("percent", [0, 1, 55, 100])
def test_progress_from_0_to_100_percent_is_reported_on_an_open_measure(
    service, pair, measure_id, percent
):
    move(service, pair.muenchen_staff, measure_id, "planned", "in_progress")
    act(service, pair.muenchen_staff, ReportProgress, measure_id=measure_id, percent=percent)
    assert get(service, measure_id).progress == percent


@pytest.mark.parametrize("current", OPEN)
def test_progress_may_be_reported_in_every_open_state(service, pair, measure_id, current):
    move(service, pair.muenchen_staff, measure_id, *PATH_TO[current])
    act(service, pair.muenchen_staff, ReportProgress, measure_id=measure_id, percent=10)
    assert get(service, measure_id).progress == 10


@pytest.mark.parametrize("percent", [-1, 101, 250])
def test_progress_outside_0_to_100_percent_is_not_a_valid_report(percent):
    with pytest.raises(InvalidCommand) as caught:
        ReportProgress.parse(measure_id="6f1d2a0e-4b7c-5e8a-9c3d-2f1e0b9a8c7d", percent=percent)
    assert [field for field, _ in caught.value.problems] == ["percent"]


@pytest.mark.parametrize("closed", ["implemented", "discontinued"])
def test_progress_cannot_be_reported_on_a_closed_measure(service, pair, measure_id, closed):
    act(service, pair.muenchen_staff, ReportProgress, measure_id=measure_id, percent=30)
    move(service, pair.muenchen_staff, measure_id, *PATH_TO[closed])
    with refused(service, "measure.closed"):
        act(service, pair.muenchen_staff, ReportProgress, measure_id=measure_id, percent=100)
    assert get(service, measure_id).progress == 30


@pytest.mark.parametrize("closed", ["implemented", "discontinued"])
def test_a_closed_measure_keeps_its_due_date_and_responsible(service, pair, measure_id, closed):
    move(service, pair.muenchen_staff, measure_id, *PATH_TO[closed])
    with refused(service, "measure.closed"):
        act(service, pair.muenchen_staff, ChangeDueDate, measure_id=measure_id, due_on="1.1.2018")
    with refused(service, "measure.closed"):
        act(
            service,
            pair.muenchen_staff,
            ChangeResponsible,
            measure_id=measure_id,
            responsible="Landratsamt",
        )


def test_an_edit_that_changes_nothing_is_refused(service, pair, measure_id):
    with refused(service, "measure.unchanged"):
        act(service, pair.muenchen_staff, ChangeDueDate, measure_id=measure_id, due_on="2017-12-31")
    with refused(service, "measure.unchanged"):
        act(
            service,
            pair.muenchen_staff,
            ChangeResponsible,
            measure_id=measure_id,
            responsible="Fachbereich Mobilität",
        )


def test_the_due_date_can_be_moved_and_cleared(service, pair, measure_id):
    act(service, pair.muenchen_staff, ChangeDueDate, measure_id=measure_id, due_on="30.06.2018")
    assert get(service, measure_id).due_on.isoformat() == "2018-06-30"
    act(service, pair.muenchen_staff, ChangeDueDate, measure_id=measure_id, due_on=None)
    assert get(service, measure_id).due_on is None


def test_a_region_cannot_have_two_measures_with_the_same_code(service, pair, measure_id):
    with refused(service, "measure.code_taken") as caught:
        builders.measure(service, pair.muenchen_staff, code="LKM-07")
    assert caught.value.params == {"code": "LKM-07"}


def test_a_measure_code_is_taken_whatever_its_spelling_or_the_region_reference(
    service, pair, measure_id
):
    with refused(service, "measure.code_taken"):
        builders.measure(service, pair.muenchen_staff, region="lk-muenchen", code=" lkm-07 ")


def test_another_region_may_use_the_same_measure_code(service, pair, measure_id):
    other = builders.measure(service, pair.steinfurt_staff, region="05566", code="LKM-07")
    assert other != measure_id
    assert get(service, other).region_id == pair.steinfurt_id
    assert get(service, other).code == get(service, measure_id).code == "LKM-07"


def test_a_measure_of_an_unknown_region_is_refused(service, pair):
    with refused(service, "region.not_found", NotFound):
        act(
            service,
            builders.SYSTEM,
            ProposeMeasure,
            region="08221",
            code="HD-1",
            title="Wärmeplan",
            topic="heat",
            responsible="Amt für Umweltschutz",
        )


def test_an_unknown_measure_cannot_be_moved(service, pair):
    with refused(service, "measure.not_found", NotFound):
        act(
            service,
            pair.muenchen_staff,
            ChangeMeasureStatus,
            measure_id=pair.twinning_id,  # an id, but not of a measure
            status="planned",
        )
