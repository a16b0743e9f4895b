from datetime import UTC, date, datetime

from projections.queries import connect, twinning_status
from tests.projections.scenarios import exchanges_and_advice


async def test_the_status_names_partners_and_topics_with_their_direction(
    regiotwin, clock, read_models
):
    story = exchanges_and_advice(regiotwin, clock)
    read_models.refresh()
    async with connect(read_models.path) as db:
        status = await twinning_status(db, story.pair.twinning_id, date(2016, 7, 1))
    assert {status.first.name, status.second.name} == {"Kreis Steinfurt", "Landkreis München"}
    assert status.status == "running"
    directions = {topic.topic: topic.teaching_region_id for topic in status.topics}
    assert directions == {
        "cycling": story.pair.steinfurt_id,
        "e_mobility": story.pair.steinfurt_id,
        "energy_vision": story.pair.steinfurt_id,
        "public_participation": None,
    }
    assert status.learning_region_ids == (story.pair.muenchen_id,)
    assert not status.mutual


async def test_exchanges_held_are_those_on_or_before_today(regiotwin, clock, read_models):
    story = exchanges_and_advice(regiotwin, clock)
    read_models.refresh()
    async with connect(read_models.path) as db:
        july = await twinning_status(db, story.pair.twinning_id, date(2016, 7, 1))
        autumn = await twinning_status(db, story.pair.twinning_id, date(2016, 9, 15))
    assert (july.exchanges_held, july.exchanges_planned) == (1, 1)
    assert july.last_exchange_on == date(2016, 6, 21)
    assert (autumn.exchanges_held, autumn.exchanges_planned) == (2, 0)
    assert autumn.last_exchange_on == date(2016, 9, 15)


async def test_advice_is_counted_by_where_it_stands(regiotwin, clock, read_models):
    story = exchanges_and_advice(regiotwin, clock)
    read_models.refresh()
    async with connect(read_models.path) as db:
        advice = (await twinning_status(db, story.pair.twinning_id, date(2016, 7, 1))).advice
    assert advice.requested == 1
    assert advice.requests_unanswered == 0
    assert advice.given == 4
    assert (advice.acknowledged, advice.adopted, advice.declined) == (1, 1, 1)
    assert advice.open == 2  # the acknowledged one and the one nobody looked at yet


async def test_a_follow_up_is_overdue_only_from_the_day_after_it_was_due(
    regiotwin, clock, read_models
):
    story = exchanges_and_advice(regiotwin, clock)
    read_models.refresh()
    async with connect(read_models.path) as db:
        on_due_date = await twinning_status(db, story.pair.twinning_id, date(2016, 7, 15))
        day_after = await twinning_status(db, story.pair.twinning_id, date(2016, 7, 16))
    # the second follow-up is done; the first (Steinfurt's) is still open
    assert (on_due_date.follow_ups_open, on_due_date.follow_ups_overdue) == (1, 0)
    assert (day_after.follow_ups_open, day_after.follow_ups_overdue) == (1, 1)
    (item,) = day_after.open_follow_ups
    assert item.text == "Send the Radverkehrskonzept"
    assert item.owner_region_id == story.pair.steinfurt_id
    assert item.overdue


async def test_overdue_follow_ups_do_not_depend_on_the_day_of_the_rebuild(
    regiotwin, clock, read_models
):
    story = exchanges_and_advice(regiotwin, clock)
    read_models.refresh()
    before = read_models.dump()
    for projection in read_models.projections:
        projection.reset()
    clock.set(datetime(2030, 1, 1, tzinfo=UTC))  # a rebuild years later
    read_models.refresh()
    assert read_models.dump() == before
    async with connect(read_models.path) as db:
        status = await twinning_status(db, story.pair.twinning_id, date(2016, 7, 15))
    assert status.follow_ups_overdue == 0


async def test_last_activity_is_noted_per_side(regiotwin, clock, read_models):
    story = exchanges_and_advice(regiotwin, clock)
    read_models.refresh()
    async with connect(read_models.path) as db:
        status = await twinning_status(db, story.pair.twinning_id, date(2016, 7, 1))
    by_region = {side.region.region_id: side for side in status.activity}
    muenchen = by_region[story.pair.muenchen_id]
    steinfurt = by_region[story.pair.steinfurt_id]
    assert muenchen.last_at == datetime(2016, 6, 28, 9, tzinfo=UTC)
    assert muenchen.last_event == "Exchange.FollowUpDone"
    assert muenchen.last_actor == story.pair.muenchen_staff.hex
    assert steinfurt.last_at == datetime(2016, 6, 25, 12, tzinfo=UTC)
    assert steinfurt.last_event == "Advice.Given"
