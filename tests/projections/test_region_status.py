from datetime import date
from decimal import Decimal

import pytest

from domain.commands import DropGoal, ReviseGoal, SetGoal
from projections.queries import connect, region_status
from tests import builders
from tests.projections.support import at, move, progress


def five_measures_of_muenchen(service, clock):
    """Before the twinning starts (21 June 2016): one of five implemented, one dropped.
    In July one more is implemented and one is half done; the fourth is discontinued
    at 00:30 on 1 August in Berlin (22:30 UTC on 31 July)."""
    pair = builders.muenchen_and_steinfurt(service)
    staff = pair.muenchen_staff
    at(clock, 2016, 6, 10, 9)
    m = [builders.measure(service, staff, code=f"LKM-0{n}") for n in range(1, 6)]
    at(clock, 2016, 6, 15, 9)
    move(service, staff, m[0], "implemented")
    move(service, staff, m[4], "discontinued")
    at(clock, 2016, 7, 10, 9)
    move(service, staff, m[1], "implemented")
    move(service, staff, m[2], "in_progress")
    progress(service, staff, m[2], 50)
    at(clock, 2016, 7, 31, 22, 30)
    move(service, staff, m[3], "discontinued")
    return pair


async def test_the_implementation_rate_leaves_discontinued_measures_out(
    regiotwin, clock, read_models
):
    pair = five_measures_of_muenchen(regiotwin, clock)
    read_models.refresh()
    async with connect(read_models.path) as db:
        status = await region_status(db, pair.muenchen_id, date(2016, 9, 10))
    assert status.measures_by_status == {
        "proposed": 0,
        "planned": 0,
        "in_progress": 1,
        "implemented": 2,
        "discontinued": 2,
    }
    # implemented ÷ (all − discontinued) = 2 ÷ (5 − 2)
    assert (status.rate.implemented, status.rate.counted) == (2, 3)
    assert status.rate.value == pytest.approx(2 / 3)
    # progress-weighted: (100 + 100 + 50) ÷ (3 × 100)
    assert status.rate.weighted == pytest.approx(250 / 300)


async def test_the_monthly_series_starts_with_the_twinning_and_months_end_in_berlin(
    regiotwin, clock, read_models
):
    pair = five_measures_of_muenchen(regiotwin, clock)
    read_models.refresh()
    async with connect(read_models.path) as db:
        status = await region_status(db, pair.muenchen_id, date(2016, 9, 10))
    assert status.series_start == date(2016, 6, 21)
    assert status.rate_at_start is not None
    assert status.rate_at_start.value == pytest.approx(1 / 4)
    series = [(point.month, point.as_of, point.rate.value) for point in status.monthly]
    assert series == [
        ("2016-06", date(2016, 6, 30), pytest.approx(1 / 4)),
        ("2016-07", date(2016, 7, 31), pytest.approx(2 / 4)),
        ("2016-08", date(2016, 8, 31), pytest.approx(2 / 3)),
        ("2016-09", date(2016, 9, 10), pytest.approx(2 / 3)),
    ]
    assert status.monthly[1].rate.weighted == pytest.approx(250 / 400)


async def test_the_rate_as_of_an_earlier_day_shows_what_was_known_then(
    regiotwin, clock, read_models
):
    pair = five_measures_of_muenchen(regiotwin, clock)
    read_models.refresh()
    async with connect(read_models.path) as db:
        june = await region_status(db, pair.muenchen_id, date(2016, 6, 12))
        before_anything = await region_status(db, pair.muenchen_id, date(2016, 6, 1))
    assert june.measures_by_status["proposed"] == 5
    assert june.rate.value == 0
    assert june.monthly == ()  # the twinning had not started yet
    assert before_anything.rate.value is None  # no measures: no rate


async def test_goals_show_their_current_target_and_how_often_it_was_revised(
    regiotwin, clock, read_models
):
    pair = builders.muenchen_and_steinfurt(regiotwin)
    staff = pair.muenchen_staff
    goal = regiotwin.handle(
        SetGoal.parse(
            region="09184",
            topic="energy_vision",
            metric="CO2-Minderung gegenüber 1990",
            target_value="50",
            unit="%",
            target_year=2030,
        ),
        actor=staff,
    ).aggregate_id
    regiotwin.handle(
        ReviseGoal.parse(goal_id=goal, target_value="55", reason="Kreistag 2016"), actor=staff
    )
    regiotwin.handle(
        ReviseGoal.parse(goal_id=goal, target_year=2035, reason="Realistischer"), actor=staff
    )
    dropped = regiotwin.handle(
        SetGoal.parse(
            region="09184",
            topic="e_mobility",
            metric="Ladepunkte",
            target_value="400",
            unit="Stück",
            target_year=2020,
        ),
        actor=staff,
    ).aggregate_id
    regiotwin.handle(DropGoal.parse(goal_id=dropped, reason="Landkreis zuständig"), actor=staff)
    read_models.refresh()
    async with connect(read_models.path) as db:
        goals = {
            g.goal_id: g
            for g in (await region_status(db, pair.muenchen_id, date(2016, 7, 1))).goals
        }
    revised = goals[goal]
    assert (revised.target_value, revised.target_year) == (Decimal("55"), 2035)
    assert revised.revision_count == 2
    assert [(t.revision, t.value, t.year, t.reason) for t in revised.targets] == [
        (0, Decimal("50"), 2030, None),
        (1, Decimal("55"), 2030, "Kreistag 2016"),
        (2, Decimal("55"), 2035, "Realistischer"),
    ]
    assert (goals[dropped].status, goals[dropped].revision_count) == ("dropped", 0)
