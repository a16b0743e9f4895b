"""Bad input gets a clear answer naming field and rule, and changes nothing."""

from datetime import date
from decimal import Decimal
from uuid import uuid4

import pytest

from domain.commands import (
    AcknowledgeAdvice,
    CompleteFollowUp,
    FormTwinning,
    InviteMember,
    JoinWithInvite,
    ProposeMeasure,
    RecordExchange,
    RemoveMember,
    ReportProgress,
    ReviseGoal,
    StartTwinning,
)
from domain.errors import InvalidCommand, NotFound
from tests import builders
from tests.builders import SYSTEM, act, get, recorded, refused

MEASURE = {
    "region": "09184",
    "code": "LKM-07",
    "title": "Radschnellweg München–Garching",
    "topic": "cycling",
    "responsible": "Fachbereich Mobilität",
}
EXCHANGE = {
    "twinning_id": str(uuid4()),
    "kind": "meeting",
    "held_on": "2016-09-14",
    "place": "Kassel",
    "summary": "Kickoff of round 2.",
}


def problems(command, **fields):
    with pytest.raises(InvalidCommand) as caught:
        command.parse(**fields)
    assert caught.value.code == "command.invalid"
    return caught.value.problems


def test_a_valid_measure_proposal_passes():
    command = ProposeMeasure.parse(**MEASURE, expected_co2_t_per_year="0")
    assert command.code == "LKM-07"
    assert command.expected_co2_t_per_year == Decimal("0")


def test_a_title_of_up_to_200_characters_is_accepted_and_a_longer_one_refused():
    assert len(ProposeMeasure.parse(**{**MEASURE, "title": "T" * 200}).title) == 200
    assert problems(ProposeMeasure, **{**MEASURE, "title": "T" * 201}) == [
        ("title", "string_too_long")
    ]


def test_a_blank_title_is_refused():
    assert problems(ProposeMeasure, **{**MEASURE, "title": "   "}) == [
        ("title", "string_too_short")
    ]


def test_a_summary_of_up_to_4000_characters_is_accepted_and_a_longer_one_refused():
    assert len(RecordExchange.parse(**{**EXCHANGE, "summary": "S" * 4000}).summary) == 4000
    assert problems(RecordExchange, **{**EXCHANGE, "summary": "S" * 4001}) == [
        ("summary", "string_too_long")
    ]


@pytest.mark.parametrize(
    "region", ["München", "lk_muenchen", "<b>lk</b>", "1", "-lk", "x" * 61, ""]
)
def test_a_region_reference_must_be_a_key_or_a_slug(region):
    assert problems(ProposeMeasure, **{**MEASURE, "region": region})[0][0] == "region"


@pytest.mark.parametrize(
    ("written", "meant"),
    [
        ("2026-11-25", date(2026, 11, 25)),
        ("25.11.2026", date(2026, 11, 25)),
        (" 25.11.2026 ", date(2026, 11, 25)),
        ("5.1.2026", date(2026, 1, 5)),
        ("29.02.2028", date(2028, 2, 29)),
    ],
)
def test_dates_are_accepted_in_iso_and_german_form(written, meant):
    assert ProposeMeasure.parse(**MEASURE, due_on=written).due_on == meant


@pytest.mark.parametrize(
    "written", ["31.02.2026", "2026-02-31", "29.02.2026", "25/11/2026", "11.25.2026", "morgen"]
)
def test_impossible_or_foreign_dates_are_refused(written):
    assert problems(ProposeMeasure, **MEASURE, due_on=written) == [("due_on", "value_error")]


@pytest.mark.parametrize(
    ("percent", "rule"), [(-1, "greater_than_equal"), (101, "less_than_equal")]
)
def test_progress_is_a_percentage(percent, rule):
    assert problems(ReportProgress, measure_id=uuid4(), percent=percent) == [("percent", rule)]


def test_expected_co2_savings_cannot_be_negative():
    assert problems(ProposeMeasure, **MEASURE, expected_co2_t_per_year="-0.5") == [
        ("expected_co2_t_per_year", "greater_than_equal")
    ]


@pytest.mark.parametrize(
    "text", ["Rad\x00weg", "Rad\x1b[31mweg", "Rad\x07weg", "Rad\rweg", "Rad\u202egew"]
)
def test_control_characters_are_refused(text):
    assert problems(ProposeMeasure, **{**MEASURE, "title": text}) == [("title", "value_error")]


def test_line_breaks_and_tabs_are_allowed_in_longer_texts():
    command = ProposeMeasure.parse(**MEASURE, description="Erstens:\n\tPilotstrecke")
    assert command.description == "Erstens:\n\tPilotstrecke"


def test_unknown_fields_and_missing_fields_are_named():
    fields = {key: value for key, value in MEASURE.items() if key != "topic"}
    assert sorted(problems(ProposeMeasure, **fields, colour="green")) == [
        ("colour", "extra_forbidden"),
        ("topic", "missing"),
    ]


def test_every_broken_field_is_named_at_once():
    found = problems(
        ProposeMeasure,
        **{**MEASURE, "code": "LKM 7", "title": "x" * 201, "topic": "weather"},
        due_on="31.02.2026",
    )
    assert sorted(field for field, _ in found) == ["code", "due_on", "title", "topic"]


def test_problems_in_nested_follow_ups_name_their_position():
    found = problems(
        RecordExchange,
        **EXCHANGE,
        follow_ups=[
            {"text": "Fine.", "owner_region": "09184", "due_on": "1.10.2016"},
            {"text": "Bad date.", "owner_region": "09184", "due_on": "30.02.2016"},
        ],
    )
    assert found == [("follow_ups.1.due_on", "value_error")]


@pytest.mark.parametrize("days", [0, 31])
def test_an_invite_is_valid_for_one_to_thirty_days(days):
    assert problems(InviteMember, region="09184", role="staff", valid_days=days) == [
        ("valid_days", "greater_than_equal" if days < 1 else "less_than_equal")
    ]


def test_an_invalid_command_never_reaches_the_store(service):
    pair = builders.muenchen_and_steinfurt(service)
    before = recorded(service)
    with pytest.raises(InvalidCommand):
        act(service, pair.muenchen_staff, ProposeMeasure, **{**MEASURE, "title": "x" * 201})
    assert recorded(service) == before


# A command refused half-way through its use case leaves no trace of its first half.


def test_an_exchange_whose_second_follow_up_is_refused_is_not_recorded_at_all(service):
    pair = builders.muenchen_and_steinfurt(service)
    with refused(service, "follow_up.due_before_exchange"):
        builders.exchange(
            service,
            pair,
            follow_ups=[
                {"text": "Fine.", "owner_region": "09184", "due_on": "1.10.2016"},
                {"text": "Too early.", "owner_region": "09184", "due_on": "1.9.2016"},
            ],
        )


def test_a_twinning_with_a_topic_taught_by_an_unknown_region_is_not_formed(service):
    pair = builders.muenchen_and_steinfurt(service)
    builders.marburg(service)
    with refused(service, "region.not_found"):
        act(
            service,
            SYSTEM,
            FormTwinning,
            programme="03KF0003",
            first_region="06534",
            second_region="09184",
            starts_on="1.7.2016",
            ends_on="30.6.2017",
            topics=[
                {"topic": "cycling", "teaching_region": "06534"},
                {"topic": "heat", "teaching_region": "08221"},
            ],
        )
    assert get(service, pair.twinning_id).status == "running"


def test_joining_with_a_telegram_account_in_use_leaves_the_invite_usable(service):
    builders.muenchen_and_steinfurt(service)
    first_code = act(service, SYSTEM, InviteMember, region="09184", role="staff").secret
    second = act(service, SYSTEM, InviteMember, region="09184", role="staff")
    act(service, SYSTEM, JoinWithInvite, code=first_code, telegram_user_id=1234, name="A")
    with refused(service, "invite.account_in_use"):
        act(service, SYSTEM, JoinWithInvite, code=second.secret, telegram_user_id=1234, name="B")
    assert not get(service, second.aggregate_id).has_joined
    act(service, SYSTEM, JoinWithInvite, code=second.secret, telegram_user_id=5678, name="B")
    assert get(service, second.aggregate_id).has_joined


@pytest.mark.parametrize(
    ("command", "fields", "code"),
    [
        (ReportProgress, {"measure_id": uuid4(), "percent": 5}, "measure.not_found"),
        (ReviseGoal, {"goal_id": uuid4(), "target_year": 2040, "reason": "x"}, "goal.not_found"),
        (CompleteFollowUp, {"exchange_id": uuid4(), "number": 1}, "exchange.not_found"),
        (AcknowledgeAdvice, {"advice_id": uuid4()}, "advice.not_found"),
        (RemoveMember, {"member_id": uuid4(), "reason": "x"}, "member.not_found"),
        (StartTwinning, {"twinning_id": uuid4()}, "twinning.not_found"),
    ],
    ids=["measure", "goal", "exchange", "advice", "member", "twinning"],
)
def test_an_unknown_id_is_answered_as_not_found_and_changes_nothing(service, command, fields, code):
    builders.muenchen_and_steinfurt(service)
    with refused(service, code, NotFound):
        act(service, SYSTEM, command, **fields)


@pytest.mark.parametrize("written", ["20261125", "2026-W48-3", "2026-330"])
def test_only_iso_and_german_dates_are_accepted(written):
    assert problems(ProposeMeasure, **MEASURE, due_on=written) == [("due_on", "value_error")]
