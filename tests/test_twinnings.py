"""Twinnings: two different regions, topics with a direction, and a lifecycle."""

import pytest

from domain.commands import (
    AddTopic,
    CancelTwinning,
    CompleteTwinning,
    FormTwinning,
    GiveAdvice,
    RecordExchange,
    RemoveTopic,
    RequestAdvice,
    StartProgramme,
    StartTwinning,
)
from domain.errors import NotAllowed, RuleViolated
from domain.values import Topic, TwinningStatus
from tests import builders
from tests.builders import SYSTEM, act, get, refused


def form(service, first, second, **fields):
    defaults = {
        "programme": "03KF0003",
        "first_region": first,
        "second_region": second,
        "starts_on": "21.06.2016",
        "ends_on": "20.06.2017",
    }
    return act(service, SYSTEM, FormTwinning, **{**defaults, **fields})


@pytest.fixture
def formed(service):
    """München and Steinfurt are paired but have not started yet."""
    return builders.muenchen_and_steinfurt(service, start=False)


def close(service, twinning_id, how):
    if how == "completed":
        act(service, SYSTEM, CompleteTwinning, twinning_id=twinning_id)
    else:
        act(service, SYSTEM, CancelTwinning, twinning_id=twinning_id, reason="Funding ended.")


def test_a_twinning_pairs_two_regions_with_a_direction_per_topic(service, formed):
    twinning = get(service, formed.twinning_id)
    assert set(twinning.region_ids) == {formed.muenchen_id, formed.steinfurt_id}
    assert twinning.status == TwinningStatus.FORMED
    assert twinning.topics == {
        Topic.CYCLING: formed.steinfurt_id,
        Topic.E_MOBILITY: formed.steinfurt_id,
        Topic.ENERGY_VISION: formed.steinfurt_id,
        Topic.PUBLIC_PARTICIPATION: None,
    }


def test_a_region_cannot_be_twinned_with_itself(service, formed):
    with refused(service, "twinning.same_region", RuleViolated):
        form(service, "lk-muenchen", "lk-muenchen", programme="03KF0003")


def test_a_region_named_once_by_key_and_once_by_slug_is_still_the_same_region(service, formed):
    with refused(service, "twinning.same_region"):
        form(service, "09184", "lk-muenchen")


@pytest.mark.parametrize(("first", "second"), [("05566", "09184"), ("lk-muenchen", "05566")])
def test_a_pair_is_twinned_only_once_per_programme_in_either_order(service, formed, first, second):
    with refused(service, "twinning.exists"):
        form(service, first, second)


def test_a_twinning_ends_after_it_starts(service, formed):
    builders.marburg(service)
    with refused(service, "twinning.ends_before_start"):
        form(service, "06534", "09184", starts_on="21.06.2016", ends_on="21.06.2016")


def test_a_topic_can_only_be_taught_by_one_of_the_two_partners(service, formed):
    builders.marburg(service)
    with refused(service, "twinning.region_not_partner"):
        act(
            service,
            SYSTEM,
            AddTopic,
            twinning_id=formed.twinning_id,
            topic="companies",
            teaching_region="06534",
        )
    with refused(service, "twinning.region_not_partner"):
        form(
            service,
            "06534",
            "09184",
            programme="03KF0003",
            topics=[{"topic": "heat", "teaching_region": "05566"}],
        )


def test_a_topic_is_in_a_twinning_once_and_removed_only_if_there(service, formed):
    with refused(service, "twinning.topic_exists"):
        act(service, SYSTEM, AddTopic, twinning_id=formed.twinning_id, topic="cycling")
    with refused(service, "twinning.topic_not_in_twinning"):
        act(service, SYSTEM, RemoveTopic, twinning_id=formed.twinning_id, topic="heat")
    act(service, SYSTEM, RemoveTopic, twinning_id=formed.twinning_id, topic="cycling")
    act(
        service,
        SYSTEM,
        AddTopic,
        twinning_id=formed.twinning_id,
        topic="heat",
        teaching_region="lk-muenchen",
    )
    topics = get(service, formed.twinning_id).topics
    assert Topic.CYCLING not in topics
    assert topics[Topic.HEAT] == formed.muenchen_id


def test_a_twinning_runs_from_formed_to_running_to_completed(service, formed):
    act(service, SYSTEM, StartTwinning, twinning_id=formed.twinning_id)
    assert get(service, formed.twinning_id).status == TwinningStatus.RUNNING
    act(service, SYSTEM, CompleteTwinning, twinning_id=formed.twinning_id)
    assert get(service, formed.twinning_id).status == TwinningStatus.COMPLETED


def test_a_twinning_that_has_not_started_cannot_be_completed(service, formed):
    with refused(service, "twinning.not_running"):
        act(service, SYSTEM, CompleteTwinning, twinning_id=formed.twinning_id)


def test_a_running_twinning_cannot_be_started_again(service, formed):
    act(service, SYSTEM, StartTwinning, twinning_id=formed.twinning_id)
    with refused(service, "twinning.not_formed"):
        act(service, SYSTEM, StartTwinning, twinning_id=formed.twinning_id)


@pytest.mark.parametrize("started", [False, True], ids=["formed", "running"])
def test_a_formed_or_running_twinning_can_be_cancelled(service, formed, started):
    if started:
        act(service, SYSTEM, StartTwinning, twinning_id=formed.twinning_id)
    act(
        service,
        SYSTEM,
        CancelTwinning,
        twinning_id=formed.twinning_id,
        reason="München leaves the programme.",
    )
    twinning = get(service, formed.twinning_id)
    assert twinning.status == TwinningStatus.CANCELLED
    assert twinning.cancellation_reason == "München leaves the programme."


@pytest.mark.parametrize("how", ["completed", "cancelled"])
def test_a_closed_twinning_can_be_neither_restarted_nor_completed_nor_cancelled(
    service, formed, how
):
    act(service, SYSTEM, StartTwinning, twinning_id=formed.twinning_id)
    close(service, formed.twinning_id, how)
    with refused(service, "twinning.not_formed"):
        act(service, SYSTEM, StartTwinning, twinning_id=formed.twinning_id)
    with refused(service, "twinning.not_running"):
        act(service, SYSTEM, CompleteTwinning, twinning_id=formed.twinning_id)
    with refused(service, "twinning.closed"):
        act(service, SYSTEM, CancelTwinning, twinning_id=formed.twinning_id, reason="Again.")
    with refused(service, "twinning.closed"):
        act(service, SYSTEM, AddTopic, twinning_id=formed.twinning_id, topic="heat")


@pytest.mark.parametrize("how", ["completed", "cancelled"])
def test_a_closed_twinning_refuses_new_exchanges_and_advice(service, formed, how):
    act(service, SYSTEM, StartTwinning, twinning_id=formed.twinning_id)
    close(service, formed.twinning_id, how)
    with refused(service, "twinning.closed"):
        act(
            service,
            formed.muenchen_staff,
            RecordExchange,
            twinning_id=formed.twinning_id,
            kind="call",
            held_on="01.07.2017",
            place="Telefon",
            summary="A late call.",
        )
    with refused(service, "twinning.closed"):
        act(
            service,
            formed.steinfurt_staff,
            GiveAdvice,
            twinning_id=formed.twinning_id,
            topic="cycling",
            text="Keep counting cyclists.",
        )
    with refused(service, "twinning.closed"):
        act(
            service,
            formed.muenchen_staff,
            RequestAdvice,
            twinning_id=formed.twinning_id,
            topic="cycling",
            question="How did you fund the counting stations?",
        )


def test_partners_may_already_meet_before_the_twinning_has_started(service, formed):
    outcome = builders.exchange(service, formed, held_on="10.06.2016")
    assert get(service, outcome.aggregate_id).twinning_id == formed.twinning_id


def test_staff_of_a_region_cannot_form_or_run_twinnings(service, formed):
    with refused(service, "auth.programme_management", NotAllowed):
        act(service, formed.muenchen_staff, StartTwinning, twinning_id=formed.twinning_id)
    coordinator = builders.member(service, "09184", "coordinator")
    with refused(service, "auth.programme_management"):
        act(service, coordinator, StartTwinning, twinning_id=formed.twinning_id)


def test_a_coordinator_of_the_programme_office_runs_twinnings(service, formed):
    office = builders.member(service, None, "coordinator", "Programmbüro")
    act(service, office, StartTwinning, twinning_id=formed.twinning_id)
    assert get(service, formed.twinning_id).status == TwinningStatus.RUNNING


def test_a_twinning_needs_a_known_programme(service, formed):
    with refused(service, "programme.not_found"):
        form(service, "05566", "09184", programme="03KF9999")


def test_a_programme_is_started_once_and_ends_after_it_starts(service, formed):
    fields = {
        "code": "03KF0003",
        "name": "RegioTwin",
        "starts_on": "01.12.2014",
        "ends_on": "31.12.2017",
        "office": "IdE Kassel",
        "funder": "BMUB",
    }
    with refused(service, "programme.exists") as caught:
        act(service, SYSTEM, StartProgramme, **fields)
    assert caught.value.params == {"code": "03KF0003"}
    with refused(service, "programme.ends_before_start"):
        act(
            service, SYSTEM, StartProgramme, **{**fields, "code": "03KF0004", "ends_on": "1.1.2014"}
        )
