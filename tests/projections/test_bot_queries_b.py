"""The read-model queries behind the bot's exchange, advice and member screens."""

from __future__ import annotations

from datetime import UTC, date, datetime
from uuid import UUID

import domain.exchange
from domain.commands import (
    AcknowledgeAdvice,
    AdoptAdvice,
    CompleteFollowUp,
    DeclineAdvice,
    GiveAdvice,
    InviteMember,
    RemoveMember,
    RequestAdvice,
)
from projections import queries
from projections.queries import connect
from tests import builders

SUMMER = date(2016, 8, 1)


def follow_ups(pair: builders.Pair) -> list[dict[str, str]]:
    return [
        {"text": "Send the counting data", "owner_region": "05566", "due_on": "15.07.2016"},
        {
            "text": "Draft the cycling plan",
            "owner_member_id": pair.muenchen_staff.hex,
            "due_on": "30.09.2016",
        },
    ]


async def test_twinnings_of_a_region_carry_both_partners_and_each_topics_direction(
    regiotwin, read_models
):
    pair = builders.muenchen_and_steinfurt(regiotwin)
    other = builders.marburg(regiotwin)
    read_models.refresh()
    async with connect(read_models.path) as db:
        [twinning] = await queries.twinnings_of_region(db, pair.muenchen_id)
        none = await queries.twinnings_of_region(db, other)
        every = await queries.twinnings_of_region(db, None, open_only=True)
    assert twinning.twinning_id == pair.twinning_id
    assert twinning.partner_of(pair.muenchen_id).name == "Kreis Steinfurt"
    assert twinning.teacher_of("cycling") == pair.steinfurt_id
    assert twinning.teacher_of("public_participation") is None
    assert twinning.status == "running"
    assert none == ()
    assert every == (twinning,)


async def test_open_follow_ups_come_overdue_first_with_short_codes(regiotwin, read_models):
    pair = builders.muenchen_and_steinfurt(regiotwin)
    july = builders.exchange(regiotwin, pair, held_on="01.07.2016", follow_ups=follow_ups(pair))
    later_visit = builders.exchange(
        regiotwin,
        pair,
        held_on="20.07.2016",
        follow_ups=[{"text": "Give feedback", "owner_region": "09184", "due_on": "01.08.2016"}],
    )
    read_models.refresh()
    async with connect(read_models.path) as db:
        listing = await queries.open_follow_ups(db, [pair.twinning_id], SUMMER)
        nothing = await queries.open_follow_ups(db, [], SUMMER)
        second_page = await queries.open_follow_ups(db, None, SUMMER, page=2, per_page=2)
    first, due_today, later = listing.page.items
    assert (listing.page.total, listing.overdue) == (3, 1)
    assert first.code == f"{july.aggregate_id.hex[:4]}-1"
    assert first.overdue
    assert first.owner_region is not None
    assert first.owner_region.name == "Kreis Steinfurt"
    assert first.exchange_kind == "site_visit"
    assert first.exchange_held_on == date(2016, 7, 1)
    assert due_today.code == f"{later_visit.aggregate_id.hex[:4]}-1"
    assert not due_today.overdue  # due today is not yet overdue
    assert later.owner_member_name == "Anna Huber"
    assert later.owner_region is None
    assert nothing.page.total == 0
    assert [item.text for item in second_page.page.items] == ["Draft the cycling plan"]


async def test_done_follow_ups_leave_the_list_but_are_found_by_code(regiotwin, read_models):
    pair = builders.muenchen_and_steinfurt(regiotwin)
    july = builders.exchange(regiotwin, pair, held_on="01.07.2016", follow_ups=follow_ups(pair))
    builders.act(
        regiotwin, pair.steinfurt_staff, CompleteFollowUp, exchange_id=july.aggregate_id, number=1
    )
    read_models.refresh()
    code = f"{july.aggregate_id.hex[:4]}-1"
    async with connect(read_models.path) as db:
        listing = await queries.open_follow_ups(db, None, SUMMER)
        [found] = await queries.follow_ups_by_code(db, code.upper(), None, SUMMER)
        elsewhere = await queries.follow_ups_by_code(db, code, [], SUMMER)
        malformed = await queries.follow_ups_by_code(db, "zz-1", None, SUMMER)
        unknown_number = await queries.follow_ups_by_code(db, f"{code[:-1]}9", None, SUMMER)
    assert [item.number for item in listing.page.items] == [2]
    assert found.done
    assert not found.overdue
    assert elsewhere == ()
    assert malformed == ()
    assert unknown_number == ()


async def test_exchange_codes_grow_where_two_exchanges_share_their_first_digits(
    regiotwin, read_models, monkeypatch
):
    pair = builders.muenchen_and_steinfurt(regiotwin)
    ids = iter([UUID("abcd1111" + "0" * 24), UUID("abcd2222" + "0" * 24)])
    monkeypatch.setattr(domain.exchange, "uuid4", lambda: next(ids))
    for _ in range(2):
        builders.exchange(
            regiotwin,
            pair,
            follow_ups=[{"text": "Call back", "owner_region": "09184", "due_on": "30.09.2016"}],
        )
    read_models.refresh()
    async with connect(read_models.path) as db:
        listing = await queries.open_follow_ups(db, None, SUMMER)
        ambiguous = await queries.follow_ups_by_code(db, "abcd-1", None, SUMMER)
        exact = await queries.follow_ups_by_code(db, "abcd2-1", None, SUMMER)
    assert [item.code for item in listing.page.items] == ["abcd1-1", "abcd2-1"]
    assert len(ambiguous) == 2
    assert [item.exchange_id.hex[:5] for item in exact] == ["abcd2"]


async def test_open_advice_for_a_region_has_its_text_question_version_and_last_actor(
    regiotwin, clock, read_models
):
    pair = builders.muenchen_and_steinfurt(regiotwin)
    request = builders.act(
        regiotwin,
        pair.muenchen_staff,
        RequestAdvice,
        twinning_id=pair.twinning_id,
        topic="cycling",
        question="How do you count cyclists?",
    )
    answered = builders.act(
        regiotwin,
        pair.steinfurt_staff,
        GiveAdvice,
        twinning_id=pair.twinning_id,
        topic="cycling",
        text="Use <b>induction loops</b>.",
        request_id=request.aggregate_id,
    ).aggregate_id
    clock.set(datetime(2016, 6, 2, 9, 0, tzinfo=UTC))
    builders.act(regiotwin, pair.muenchen_staff, AcknowledgeAdvice, advice_id=answered)
    declined = builders.advice(regiotwin, pair)
    builders.act(regiotwin, pair.muenchen_staff, DeclineAdvice, advice_id=declined, reason="No.")
    read_models.refresh()
    async with connect(read_models.path) as db:
        listing = await queries.open_advice_for_region(db, pair.muenchen_id)
        for_steinfurt = await queries.open_advice_for_region(db, pair.steinfurt_id)
        everywhere = await queries.open_advice_for_region(db, None)
        decided = await queries.advice_item(db, declined)
        missing = await queries.advice_item(db, UUID(int=1))
    [item] = listing.items
    assert item.advice_id == answered
    assert item.text == "Use <b>induction loops</b>."
    assert item.question == "How do you count cyclists?"
    assert item.from_region.name == "Kreis Steinfurt"
    assert item.given_by == "Jan Brinkmann"
    assert item.status == "acknowledged"
    assert item.version == 2
    assert item.last_event == "Advice.Acknowledged"
    assert item.last_actor_name == "Anna Huber"
    assert item.last_at == datetime(2016, 6, 2, 9, 0, tzinfo=UTC)
    assert item.open
    assert for_steinfurt.total == 0
    assert everywhere.total == 1
    assert decided is not None
    assert (decided.status, decided.decline_reason, decided.open) == ("declined", "No.", False)
    assert missing is None


async def test_adopted_advice_names_the_measure(regiotwin, read_models):
    pair = builders.muenchen_and_steinfurt(regiotwin)
    measure_id = builders.measure(regiotwin, pair.muenchen_staff)
    advice_id = builders.advice(regiotwin, pair, measure_id=measure_id)
    builders.act(
        regiotwin, pair.muenchen_staff, AdoptAdvice, advice_id=advice_id, measure_id=measure_id
    )
    read_models.refresh()
    async with connect(read_models.path) as db:
        item = await queries.advice_item(db, advice_id)
        measure = await queries.region_measure_by_code(db, pair.muenchen_id, "lkm-07")
        other = await queries.region_measure_by_code(db, pair.steinfurt_id, "LKM-07")
        refs = await queries.region_measure_refs(db, pair.muenchen_id)
    assert item is not None
    assert item.measure is not None
    assert item.measure.code == "LKM-07"
    assert item.adopted_measure is not None
    assert item.adopted_measure.measure_id == measure_id
    assert measure is not None
    assert (measure.measure_id, measure.title) == (measure_id, "Radschnellweg München–Garching")
    assert other is None
    assert [m.code for m in refs.items] == ["LKM-07"]


async def test_questions_asked_of_a_region_oldest_first_unanswered_ones_by_default(
    regiotwin, read_models
):
    pair = builders.muenchen_and_steinfurt(regiotwin)
    asked = [
        builders.act(
            regiotwin,
            pair.muenchen_staff,
            RequestAdvice,
            twinning_id=pair.twinning_id,
            topic="cycling",
            question=f"Question {n}",
        ).aggregate_id
        for n in range(3)
    ]
    builders.advice(regiotwin, pair, request_id=asked[0])
    read_models.refresh()
    async with connect(read_models.path) as db:
        open_ones = await queries.questions_for_region(db, pair.steinfurt_id)
        all_ones = await queries.questions_for_region(
            db, pair.steinfurt_id, pair.twinning_id, unanswered_only=False
        )
        asked_of_muenchen = await queries.questions_for_region(db, pair.muenchen_id)
        one = await queries.advice_request_item(db, asked[1])
    assert [q.question for q in open_ones.items] == ["Question 1", "Question 2"]
    assert [q.answers for q in all_ones.items] == [1, 0, 0]
    assert asked_of_muenchen.total == 0
    assert one is not None
    assert (one.asked_by, one.from_region.name, one.to_region.name) == (
        "Anna Huber",
        "Landkreis München",
        "Kreis Steinfurt",
    )


async def test_members_of_a_region_with_handles_state_and_version(regiotwin, read_models):
    pair = builders.muenchen_and_steinfurt(regiotwin)
    invited = regiotwin.handle(
        InviteMember.parse(region="09184", role="coordinator", valid_days=3), actor="system:test"
    ).aggregate_id
    leaving = builders.member(regiotwin, "09184", "staff", "Zoe Zett")
    builders.act(regiotwin, "system:test", RemoveMember, member_id=leaving, reason="left")
    office = builders.member(regiotwin, None, "admin", "Ada")
    read_models.refresh()
    async with connect(read_models.path) as db:
        listing = await queries.members_of_region(db, pair.muenchen_id)
        office_members = await queries.members_of_region(db, None)
        [by_handle] = await queries.members_by_handle(db, invited.hex[:6].upper())
        removed = await queries.members_by_handle(db, leaving.hex[:8])
        too_short = await queries.members_by_handle(db, invited.hex[:5])
        one = await queries.member_item(db, pair.muenchen_staff)
    assert [m.name for m in listing.items] == ["Anna Huber", None]  # joined first
    anna, newcomer = listing.items
    assert anna.handle == pair.muenchen_staff.hex[:6]
    assert (anna.status, anna.role, anna.version) == ("active", "staff", 2)
    assert anna.joined_at is not None
    assert newcomer.status == "invited"
    assert newcomer.invite_expires_at == datetime(2016, 6, 4, 9, 0, tzinfo=UTC)
    assert [m.member_id for m in office_members.items] == [office]
    assert by_handle.member_id == invited
    assert removed == ()
    assert too_short == ()
    assert one == anna
