from datetime import UTC, date, datetime

from projections.queries import audit_events, connect, timeline
from tests.projections.scenarios import exchanges_and_advice


async def test_a_twinnings_timeline_is_newest_first_with_who_and_when(
    regiotwin, clock, read_models
):
    story = exchanges_and_advice(regiotwin, clock)
    read_models.refresh()
    async with connect(read_models.path) as db:
        page = await timeline(db, twinning_id=story.pair.twinning_id, per_page=3)
    newest = page.items[0]
    assert newest.event_type == "Exchange.FollowUpDone"
    assert newest.at == datetime(2016, 6, 28, 9, tzinfo=UTC)
    assert newest.actor == story.pair.muenchen_staff.hex
    assert newest.actor_name == "Anna Huber"
    assert newest.details == {"note": "", "number": 2}
    assert [entry.event_type for entry in page.items[1:]] == ["Advice.Declined", "Advice.Adopted"]
    positions = [entry.position for entry in page.items]
    assert positions == sorted(positions, reverse=True)


async def test_the_twinning_timeline_can_be_paged_back_to_its_formation(
    regiotwin, clock, read_models
):
    story = exchanges_and_advice(regiotwin, clock)
    read_models.refresh()
    async with connect(read_models.path) as db:
        first = await timeline(db, twinning_id=story.pair.twinning_id, per_page=5)
        last = await timeline(db, twinning_id=story.pair.twinning_id, page=first.pages, per_page=5)
    assert first.total == (first.pages - 1) * 5 + len(last.items)
    assert last.items[-1].event_type == "Twinning.Formed"
    assert last.items[-1].actor == "system:test"
    assert last.items[-1].actor_name is None


async def test_a_measures_timeline_includes_the_advice_it_was_adopted_from(
    regiotwin, clock, read_models
):
    story = exchanges_and_advice(regiotwin, clock)
    read_models.refresh()
    async with connect(read_models.path) as db:
        page = await timeline(db, measure_id=story.adopted_measure_id)
    assert {entry.event_type for entry in page.items} == {"Measure.Proposed", "Advice.Adopted"}
    assert {entry.at for entry in page.items} == {datetime(2016, 6, 27, 11, tzinfo=UTC)}


async def test_a_regions_timeline_holds_its_own_affairs_and_its_twinnings(
    regiotwin, clock, read_models
):
    story = exchanges_and_advice(regiotwin, clock)
    read_models.refresh()
    async with connect(read_models.path) as db:
        steinfurt = await timeline(db, region_id=story.pair.steinfurt_id, per_page=50)
    types = [entry.event_type for entry in steinfurt.items]
    assert "Region.Registered" in types
    assert "Member.Joined" in types  # Jan Brinkmann joined Steinfurt
    assert types.count("Advice.Given") == 4
    assert "Measure.Proposed" not in types  # the adopted measure is München's


async def test_the_audit_index_finds_events_by_actor_aggregate_and_day(
    regiotwin, clock, read_models
):
    story = exchanges_and_advice(regiotwin, clock)
    read_models.refresh()
    async with connect(read_models.path) as db:
        by_jan = await audit_events(db, actor=story.pair.steinfurt_staff, per_page=50)
        first_advice = await audit_events(db, aggregate_id=story.advice_ids[0])
        on_27th = await audit_events(db, on=date(2016, 6, 27), per_page=50)
        system = await audit_events(db, actor="system:test", per_page=1)
    assert [e.event_type for e in by_jan.items if e.aggregate_type != "CommandReceipt"] == [
        "Advice.Given",
        "Advice.Given",
        "Advice.Given",
        "AdviceRequest.Answered",  # saved with the first advice, which answered it
        "TelegramAccount.Linked",
        "Member.Joined",
    ]
    assert [(e.event_type, e.version) for e in first_advice.items] == [
        ("Advice.Acknowledged", 2),
        ("Advice.Given", 1),
    ]
    assert sorted(e.event_type for e in on_27th.items if e.aggregate_type != "CommandReceipt") == [
        "Advice.Acknowledged",
        "Advice.Adopted",
        "Advice.Declined",
        "Measure.Proposed",
    ]
    assert system.total > 10
    assert system.items[0].actor == "system:test"
