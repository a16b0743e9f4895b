"""Rat: only inside a twinning, only from the side that teaches the topic."""

import pytest

from domain import ids
from domain.commands import (
    AcknowledgeAdvice,
    AdoptAdvice,
    DeclineAdvice,
    GiveAdvice,
    RequestAdvice,
)
from domain.errors import NotAllowed, RuleViolated
from domain.values import AdviceStatus, MeasureStatus, Topic
from tests import builders
from tests.builders import act, get, refused

NEW_MEASURE = {
    "code": "LKM-12",
    "title": "Fahrradzählstellen an Hauptrouten",
    "topic": "cycling",
    "responsible": "Fachbereich Mobilität",
    "due_on": "30.06.2017",
}


@pytest.fixture
def pair(service):
    return builders.muenchen_and_steinfurt(service)


@pytest.fixture
def advice_id(service, pair):
    return builders.advice(service, pair)


def ask(service, pair, actor, topic="cycling", **fields):
    return act(
        service,
        actor,
        RequestAdvice,
        twinning_id=pair.twinning_id,
        topic=topic,
        question="How did you win the farmers over for the cycle path?",
        **fields,
    ).aggregate_id


def decide(service, actor, advice_id, how):
    if how == "adopt":
        return act(service, actor, AdoptAdvice, advice_id=advice_id, new_measure=NEW_MEASURE)
    if how == "decline":
        return act(service, actor, DeclineAdvice, advice_id=advice_id, reason="No budget in 2017.")
    return act(service, actor, AcknowledgeAdvice, advice_id=advice_id)


def test_the_teaching_region_advises_the_learning_region_on_its_topic(service, pair, advice_id):
    advice = get(service, advice_id)
    assert advice.from_region_id == pair.steinfurt_id
    assert advice.to_region_id == pair.muenchen_id
    assert advice.topic == Topic.CYCLING
    assert advice.status == AdviceStatus.GIVEN


def test_the_learning_region_cannot_advise_on_a_topic_its_partner_teaches(service, pair):
    with refused(service, "advice.not_teaching_side", RuleViolated):
        builders.advice(service, pair, "e_mobility", actor=pair.muenchen_staff)


@pytest.mark.parametrize("adviser", ["muenchen", "steinfurt"])
def test_on_a_mutual_topic_either_side_advises_the_other(service, pair, adviser):
    actor = getattr(pair, f"{adviser}_staff")
    advice = get(service, builders.advice(service, pair, "public_participation", actor=actor))
    own = getattr(pair, f"{adviser}_id")
    assert advice.from_region_id == own
    assert advice.to_region_id == ({pair.muenchen_id, pair.steinfurt_id} - {own}).pop()


def test_advice_on_a_topic_outside_the_twinning_is_refused(service, pair):
    with refused(service, "twinning.topic_not_in_twinning"):
        builders.advice(service, pair, "companies")
    with refused(service, "twinning.topic_not_in_twinning"):
        ask(service, pair, pair.muenchen_staff, topic="companies")


def test_a_region_outside_the_twinning_gives_no_advice(service, pair):
    builders.marburg(service)
    outsider = builders.member(service, "06534", "staff")
    with refused(service, "auth.not_a_partner", NotAllowed):
        builders.advice(service, pair, actor=outsider)
    office = builders.member(service, None, "staff")
    with refused(service, "twinning.region_not_partner"):
        builders.advice(service, pair, actor=office, from_region="06534")


def test_the_programme_office_advises_in_the_name_of_the_teaching_region(service, pair):
    office = builders.member(service, None, "staff")
    with refused(service, "twinning.name_the_region"):
        builders.advice(service, pair, actor=office)
    advice = get(service, builders.advice(service, pair, actor=office, from_region="05566"))
    assert advice.from_region_id == pair.steinfurt_id


def test_a_member_advises_only_in_the_name_of_their_own_region(service, pair):
    with refused(service, "auth.other_region"):
        builders.advice(service, pair, actor=pair.muenchen_staff, from_region="kreis-steinfurt")


def test_the_learning_region_asks_the_teaching_region_for_advice(service, pair):
    request = get(service, ask(service, pair, pair.muenchen_staff))
    assert request.from_region_id == pair.muenchen_id
    assert request.to_region_id == pair.steinfurt_id
    assert request.answers == []


def test_the_teaching_side_cannot_ask_for_advice_on_its_own_topic(service, pair):
    with refused(service, "advice.teaching_side_cannot_ask"):
        ask(service, pair, pair.steinfurt_staff, topic="cycling")


@pytest.mark.parametrize("asker", ["muenchen", "steinfurt"])
def test_on_a_mutual_topic_either_side_may_ask(service, pair, asker):
    request = get(
        service, ask(service, pair, getattr(pair, f"{asker}_staff"), "public_participation")
    )
    assert request.from_region_id == getattr(pair, f"{asker}_id")


def test_advice_given_in_reply_marks_the_request_answered(service, pair):
    request_id = ask(service, pair, pair.muenchen_staff)
    advice_id = builders.advice(service, pair, request_id=request_id)
    assert get(service, request_id).answers == [advice_id]
    assert get(service, advice_id).request_id == request_id


def test_only_the_region_that_was_asked_replies(service, pair):
    request_id = ask(service, pair, pair.steinfurt_staff, "public_participation")
    with refused(service, "advice.request_not_for_you"):
        builders.advice(
            service, pair, "public_participation", actor=pair.steinfurt_staff, request_id=request_id
        )
    assert get(service, request_id).answers == []


def test_advice_about_a_measure_must_concern_a_measure_of_the_receiving_region(service, pair):
    steinfurt_measure = builders.measure(service, pair.steinfurt_staff, "05566", "KST-3")
    with refused(service, "advice.measure_of_other_region"):
        builders.advice(service, pair, measure_id=steinfurt_measure)
    muenchen_measure = builders.measure(service, pair.muenchen_staff)
    advice = get(service, builders.advice(service, pair, measure_id=muenchen_measure))
    assert advice.measure_id == muenchen_measure


def test_a_request_about_a_measure_concerns_a_measure_of_the_asking_region(service, pair):
    steinfurt_measure = builders.measure(service, pair.steinfurt_staff, "05566", "KST-3")
    with refused(service, "advice.measure_of_other_region"):
        ask(service, pair, pair.muenchen_staff, measure_id=steinfurt_measure)


def test_received_advice_is_acknowledged_once(service, pair, advice_id):
    outcome = act(service, pair.muenchen_staff, AcknowledgeAdvice, advice_id=advice_id)
    assert outcome.details["status"] == "acknowledged"
    with refused(service, "advice.already_acknowledged"):
        act(service, pair.muenchen_staff, AcknowledgeAdvice, advice_id=advice_id)


def test_adopting_advice_into_a_new_measure_creates_the_measure_linked_to_the_advice(
    service, pair, advice_id
):
    act(service, pair.muenchen_staff, AcknowledgeAdvice, advice_id=advice_id)
    outcome = act(
        service, pair.muenchen_staff, AdoptAdvice, advice_id=advice_id, new_measure=NEW_MEASURE
    )
    measure = get(service, ids.measure_id(pair.muenchen_id, "LKM-12"))
    assert outcome.details["measure_id"] == measure.id.hex
    assert outcome.details["measure_code"] == "LKM-12"
    assert measure.region_id == pair.muenchen_id
    assert measure.advice_id == advice_id
    assert measure.status == MeasureStatus.PROPOSED
    advice = get(service, advice_id)
    assert advice.status == AdviceStatus.ADOPTED
    assert advice.adopted_measure_id == measure.id


def test_adopting_advice_into_an_existing_measure_of_the_receiving_region(service, pair, advice_id):
    measure_id = builders.measure(service, pair.muenchen_staff)
    act(service, pair.muenchen_staff, AdoptAdvice, advice_id=advice_id, measure_id=measure_id)
    assert get(service, advice_id).adopted_measure_id == measure_id


def test_advice_cannot_be_adopted_into_a_measure_of_the_other_region(service, pair, advice_id):
    steinfurt_measure = builders.measure(service, pair.steinfurt_staff, "05566", "KST-3")
    with refused(service, "advice.measure_of_other_region"):
        act(
            service,
            pair.muenchen_staff,
            AdoptAdvice,
            advice_id=advice_id,
            measure_id=steinfurt_measure,
        )
    assert get(service, advice_id).status == AdviceStatus.GIVEN


def test_adopting_into_a_new_measure_whose_code_is_taken_records_nothing(service, pair, advice_id):
    builders.measure(service, pair.muenchen_staff, code="LKM-12")
    with refused(service, "measure.code_taken"):
        act(service, pair.muenchen_staff, AdoptAdvice, advice_id=advice_id, new_measure=NEW_MEASURE)
    assert get(service, advice_id).status == AdviceStatus.GIVEN


def test_declined_advice_keeps_the_reason(service, pair, advice_id):
    decide(service, pair.muenchen_staff, advice_id, "decline")
    advice = get(service, advice_id)
    assert advice.status == AdviceStatus.DECLINED
    assert advice.decline_reason == "No budget in 2017."


@pytest.mark.parametrize("first", ["adopt", "decline"])
@pytest.mark.parametrize("then", ["adopt", "decline", "acknowledge"])
def test_decided_advice_cannot_be_decided_again(service, pair, advice_id, first, then):
    decide(service, pair.muenchen_staff, advice_id, first)
    status = get(service, advice_id).status
    with refused(service, "advice.already_decided"):
        decide(service, pair.muenchen_staff, advice_id, then)
    assert get(service, advice_id).status == status


@pytest.mark.parametrize("how", ["adopt", "decline", "acknowledge"])
def test_only_the_receiving_region_decides_on_advice(service, pair, advice_id, how):
    with refused(service, "auth.other_region"):
        decide(service, pair.steinfurt_staff, advice_id, how)


def test_an_auditor_of_the_receiving_region_cannot_decide_on_advice(service, pair, advice_id):
    auditor = builders.member(service, "09184", "auditor")
    with refused(service, "auth.read_only"):
        decide(service, auditor, advice_id, "adopt")


def test_advice_for_an_unknown_twinning_is_refused(service, pair):
    with refused(service, "twinning.not_found"):
        act(
            service,
            pair.steinfurt_staff,
            GiveAdvice,
            twinning_id=pair.muenchen_id,
            topic="cycling",
            text="Anything.",
        )
