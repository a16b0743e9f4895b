"""Erfahrungsaustausch: what the partners met about and what they agreed to do."""

from datetime import date

import pytest

from domain import ids
from domain.commands import AgreeFollowUp, CompleteFollowUp
from domain.errors import InvalidCommand, NotAllowed
from domain.values import ExchangeKind, Topic
from tests import builders
from tests.builders import act, get, refused


@pytest.fixture
def pair(service):
    return builders.muenchen_and_steinfurt(service)


def follow_up(due_on, owner_region="09184", text="Send the counting-station tender."):
    return {"text": text, "owner_region": owner_region, "due_on": due_on}


def test_partners_record_an_exchange_with_numbered_follow_ups(service, pair):
    outcome = builders.exchange(
        service,
        pair,
        follow_ups=[
            follow_up("30.09.2016"),
            {
                "text": "Share the e-mobility concept.",
                "owner_member_id": str(pair.steinfurt_staff),
                "due_on": "2016-10-15",
            },
        ],
    )
    assert outcome.details == {"follow_ups": "2"}
    exchange = get(service, outcome.aggregate_id)
    assert exchange.kind == ExchangeKind.SITE_VISIT
    assert exchange.held_on == date(2016, 9, 14)
    assert exchange.topics == [Topic.CYCLING]
    assert exchange.participants == ["Anna Huber", "Jan Brinkmann"]
    assert sorted(exchange.follow_ups) == [1, 2]
    assert exchange.follow_ups[1].owner_region_id == pair.muenchen_id
    assert exchange.follow_ups[2].owner_member_id == pair.steinfurt_staff
    assert exchange.follow_ups[2].due_on == date(2016, 10, 15)
    assert not any(item.done for item in exchange.follow_ups.values())


def test_a_follow_up_may_be_due_on_the_day_of_the_exchange(service, pair):
    outcome = builders.exchange(service, pair, follow_ups=[follow_up("14.09.2016")])
    assert get(service, outcome.aggregate_id).follow_ups[1].due_on == date(2016, 9, 14)


def test_a_follow_up_cannot_be_due_before_the_exchange(service, pair):
    with refused(service, "follow_up.due_before_exchange") as caught:
        builders.exchange(
            service, pair, follow_ups=[follow_up("30.09.2016"), follow_up("13.09.2016")]
        )
    assert caught.value.params == {"due_on": "2016-09-13", "held_on": "2016-09-14"}


def test_a_follow_up_agreed_later_is_not_due_before_the_exchange_either(service, pair):
    exchange_id = builders.exchange(service, pair).aggregate_id
    with refused(service, "follow_up.due_before_exchange"):
        act(
            service,
            pair.steinfurt_staff,
            AgreeFollowUp,
            exchange_id=exchange_id,
            **follow_up("01.09.2016"),
        )
    outcome = act(
        service,
        pair.steinfurt_staff,
        AgreeFollowUp,
        exchange_id=exchange_id,
        **follow_up("01.10.2016", owner_region="kreis-steinfurt"),
    )
    assert outcome.details == {"number": "1"}
    assert get(service, exchange_id).follow_ups[1].owner_region_id == pair.steinfurt_id


def test_a_follow_up_has_exactly_one_owner():
    for owners in ({}, {"owner_region": "09184", "owner_member_id": ids.NAMESPACE}):
        with pytest.raises(InvalidCommand) as caught:
            AgreeFollowUp.parse(
                exchange_id=ids.NAMESPACE, text="Call back.", due_on="1.1.2017", **owners
            )
        assert caught.value.problems == [("*", "value_error")]


def test_a_follow_up_is_owned_by_one_of_the_partners(service, pair):
    builders.marburg(service)
    with refused(service, "twinning.region_not_partner"):
        builders.exchange(service, pair, follow_ups=[follow_up("1.10.2016", owner_region="06534")])
    outsider = builders.member(service, "06534", "staff")
    with refused(service, "follow_up.owner_not_partner"):
        builders.exchange(
            service,
            pair,
            follow_ups=[{"text": "Report.", "owner_member_id": outsider, "due_on": "1.10.2016"}],
        )


def test_a_follow_up_is_completed_once(service, pair):
    exchange_id = builders.exchange(
        service, pair, follow_ups=[follow_up("30.09.2016")]
    ).aggregate_id
    act(service, pair.muenchen_staff, CompleteFollowUp, exchange_id=exchange_id, number=1)
    assert get(service, exchange_id).follow_ups[1].done
    with refused(service, "follow_up.already_done"):
        act(service, pair.muenchen_staff, CompleteFollowUp, exchange_id=exchange_id, number=1)
    with refused(service, "follow_up.not_found"):
        act(service, pair.muenchen_staff, CompleteFollowUp, exchange_id=exchange_id, number=2)


def test_a_region_outside_the_twinning_records_no_exchange(service, pair):
    builders.marburg(service)
    outsider = builders.member(service, "06534", "coordinator")
    with refused(service, "auth.not_a_partner", NotAllowed):
        builders.exchange(service, pair, actor=outsider)
    exchange_id = builders.exchange(service, pair, follow_ups=[follow_up("1.10.2016")]).aggregate_id
    with refused(service, "auth.not_a_partner"):
        act(service, outsider, CompleteFollowUp, exchange_id=exchange_id, number=1)


def test_the_programme_office_records_exchanges_of_every_twinning(service, pair):
    office = builders.member(service, None, "staff", "Programmbüro")
    outcome = builders.exchange(service, pair, actor=office)
    assert get(service, outcome.aggregate_id).twinning_id == pair.twinning_id


def test_an_auditor_records_no_exchange(service, pair):
    auditor = builders.member(service, None, "auditor")
    with refused(service, "auth.read_only"):
        builders.exchange(service, pair, actor=auditor)
