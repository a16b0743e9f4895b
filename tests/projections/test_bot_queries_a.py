"""The read-model lookups behind the bot's status, measure, goal and timeline screens."""

from __future__ import annotations

from datetime import UTC, date, datetime
from uuid import UUID

from domain.commands import (
    FormTwinning,
    GiveAdvice,
    MarkGoalAchieved,
    ReviseGoal,
    StartTwinning,
)
from projections import queries
from tests import builders
from tests.projections.scenarios import exchanges_and_advice
from tests.projections.support import at, move, progress


async def test_programmes_and_regions_are_found_by_key_slug_or_id(regiotwin, read_models):
    pair = builders.muenchen_and_steinfurt(regiotwin)
    read_models.refresh()
    async with queries.connect(read_models.path) as db:
        [programme] = await queries.programmes(db)
        by_key = await queries.find_region(db, "09184")
        by_slug = await queries.find_region(db, " LK-Muenchen ")
        by_id = await queries.find_region(db, pair.muenchen_id)
        by_hex = await queries.find_region(db, pair.muenchen_id.hex)
        unknown = await queries.find_region(db, "radweg")
    assert (programme.code, programme.name) == ("03KF0003", "RegioTwin")
    assert by_key == by_slug == by_id == by_hex
    assert by_key is not None
    assert (by_key.name, by_key.key, by_key.slug) == ("Landkreis München", "09184", "lk-muenchen")
    assert unknown is None


async def test_twinnings_are_listed_running_first_with_their_partners(regiotwin, read_models):
    pair = builders.muenchen_and_steinfurt(regiotwin)
    builders.marburg(regiotwin)
    formed = regiotwin.handle(
        FormTwinning.parse(
            programme="03KF0003",
            first_region="lk-marburg-biedenkopf",
            second_region="09184",
            starts_on="01.01.2017",
            ends_on="31.12.2017",
        ),
        actor="system:test",
    ).aggregate_id
    read_models.refresh()
    async with queries.connect(read_models.path) as db:
        everything = await queries.twinnings(db)
        of_steinfurt = await queries.twinnings(db, region_id=pair.steinfurt_id)
        of_programme = await queries.twinnings(db, programme_id=everything[0].programme_id)
        one = await queries.twinning_ref(db, formed)
        none = await queries.twinning_ref(db, UUID(int=1))
    assert [t.twinning_id for t in everything] == [pair.twinning_id, formed]
    assert [t.status for t in everything] == ["running", "formed"]
    assert of_programme == everything
    [running] = of_steinfurt
    assert running.includes(pair.muenchen_id)
    assert not running.includes(UUID(int=1))
    assert running.partner_of(pair.steinfurt_id).name == "Landkreis München"
    assert running.partner_of(UUID(int=1)) is None
    assert one is not None
    assert (one.first.name, one.second.name, one.starts_on) == (
        "Landkreis Marburg-Biedenkopf",
        "Landkreis München",
        date(2017, 1, 1),
    )
    assert none is None


async def test_twinning_progress_is_the_learning_regions_rate_at_the_start_and_now(
    regiotwin, clock, read_models
):
    pair = builders.muenchen_and_steinfurt(regiotwin)
    first = builders.measure(regiotwin, pair.muenchen_staff, code="LKM-01")
    second = builders.measure(regiotwin, pair.muenchen_staff, code="LKM-02")
    move(regiotwin, pair.muenchen_staff, first, "implemented")
    at(clock, 2016, 7, 1, 10)
    progress(regiotwin, pair.muenchen_staff, second, 50)
    read_models.refresh()
    async with queries.connect(read_models.path) as db:
        [learner] = await queries.twinning_progress(db, pair.twinning_id, date(2016, 7, 2))
    assert learner.region.region_id == pair.muenchen_id
    assert (learner.at_start.value, learner.now.value) == (0.5, 0.5)
    assert learner.now.weighted == 0.75
    assert learner.change == 0.0


async def test_in_a_mutual_pair_both_partners_progress(regiotwin, read_models):
    builders.programme(regiotwin)
    for key, slug in (("09184", "lk-muenchen"), ("06534", "lk-marburg")):
        builders.region(
            regiotwin, key, slug, slug, "Landkreis", "Bayern" if key[1] == "9" else "Hessen"
        )
    twinning = regiotwin.handle(
        FormTwinning.parse(
            programme="03KF0003",
            first_region="lk-muenchen",
            second_region="lk-marburg",
            starts_on="01.07.2016",
            ends_on="30.06.2017",
            topics=[{"topic": "heat", "teaching_region": None}],
        ),
        actor="system:test",
    ).aggregate_id
    regiotwin.handle(StartTwinning.parse(twinning_id=twinning), actor="system:test")
    read_models.refresh()
    async with queries.connect(read_models.path) as db:
        sides = await queries.twinning_progress(db, twinning, date(2016, 7, 2))
    assert {side.region.name for side in sides} == {"lk-muenchen", "lk-marburg"}
    assert all(side.now.value is None for side in sides)


async def test_measures_are_found_by_code_in_every_region(regiotwin, read_models):
    pair = builders.muenchen_and_steinfurt(regiotwin)
    muenchen = builders.measure(regiotwin, pair.muenchen_staff, code="K-01")
    steinfurt = builders.measure(regiotwin, pair.steinfurt_staff, "05566", "K-01")
    read_models.refresh()
    async with queries.connect(read_models.path) as db:
        found = await queries.measures_by_code(db, " k-01 ")
        none = await queries.measures_by_code(db, "K-02")
        codes = await queries.measure_codes(db, [muenchen, steinfurt.hex, UUID(int=1)])
        nothing = await queries.measure_codes(db, [])
    assert {m.measure_id for m in found} == {muenchen, steinfurt}
    assert {m.region.name for m in found} == {"Landkreis München", "Kreis Steinfurt"}
    assert none == ()
    assert codes == {muenchen: "K-01", steinfurt: "K-01"}
    assert nothing == {}


async def test_a_measures_detail_has_the_advice_it_came_from_and_advice_on_it(
    regiotwin, clock, read_models
):
    story = exchanges_and_advice(regiotwin, clock)
    at(clock, 2016, 6, 29, 10)
    on_it = regiotwin.handle(
        GiveAdvice.parse(
            twinning_id=story.pair.twinning_id,
            topic="e_mobility",
            text="Put the first chargers at the schools.",
            measure_id=story.adopted_measure_id,
        ),
        actor=story.pair.steinfurt_staff,
    ).aggregate_id
    read_models.refresh()
    async with queries.connect(read_models.path) as db:
        detail = await queries.measure_detail(db, story.adopted_measure_id)
        missing = await queries.measure_detail(db, UUID(int=1))
    assert detail is not None
    assert detail.measure.code == "LKM-20"
    assert detail.measure.version == 1
    origin, later = detail.advice
    assert (origin.advice_id, origin.origin, origin.status) == (
        story.advice_ids[1],
        True,
        "adopted",
    )
    assert origin.text == "Our experience with e_mobility."
    assert origin.from_region.name == "Kreis Steinfurt"
    assert origin.given_at == datetime(2016, 6, 25, 11, tzinfo=UTC)
    assert (later.advice_id, later.origin, later.text) == (
        on_it,
        False,
        "Put the first chargers at the schools.",
    )
    assert missing is None


async def test_goals_of_a_region_and_one_goal_with_its_version(regiotwin, read_models):
    pair = builders.muenchen_and_steinfurt(regiotwin)
    goal = builders.goal(regiotwin, pair.muenchen_staff)
    builders.act(
        regiotwin,
        pair.muenchen_staff,
        ReviseGoal,
        goal_id=goal,
        target_year=2035,
        reason="later",
    )
    read_models.refresh()
    async with queries.connect(read_models.path) as db:
        [listed] = await queries.region_goals(db, pair.muenchen_id)
        active = await queries.goal_of(db, goal)
        none = await queries.goal_of(db, UUID(int=1))
    builders.act(regiotwin, pair.muenchen_staff, MarkGoalAchieved, goal_id=goal)
    read_models.refresh()
    async with queries.connect(read_models.path) as db:
        achieved = await queries.goal_of(db, goal)
    assert (listed.target_year, listed.revision_count) == (2035, 1)
    assert active is not None
    assert active.region.name == "Landkreis München"
    assert active.goal == listed
    assert active.version == builders.get(regiotwin, goal).version - 1  # before achieving
    assert none is None
    assert achieved is not None
    assert achieved.version == builders.get(regiotwin, goal).version


async def test_member_names_by_id_leave_out_system_actors(regiotwin, read_models):
    pair = builders.muenchen_and_steinfurt(regiotwin)
    read_models.refresh()
    async with queries.connect(read_models.path) as db:
        names = await queries.member_names(
            db, [pair.muenchen_staff, pair.steinfurt_staff.hex, "system:test", UUID(int=1)]
        )
        nobody = await queries.member_names(db, ["system:test"])
    assert names == {
        pair.muenchen_staff.hex: "Anna Huber",
        pair.steinfurt_staff.hex: "Jan Brinkmann",
    }
    assert nobody == {}
