from datetime import date

import pytest

from domain.commands import FormTwinning, StartTwinning
from projections.queries import connect, programme_overview
from tests import builders
from tests.projections.support import at, move

SYSTEM = builders.SYSTEM


def pair_of(service, first, second, topics):
    twinning = service.handle(
        FormTwinning.parse(
            programme="03KF0003",
            first_region=first,
            second_region=second,
            starts_on="21.06.2016",
            ends_on="20.06.2017",
            topics=topics,
        ),
        actor=SYSTEM,
    ).aggregate_id
    service.handle(StartTwinning.parse(twinning_id=twinning), actor=SYSTEM)
    return twinning


def measures(service, staff, key, prefix, implemented_before, implemented_after, total):
    """``total`` measures; some implemented before the start (10 June), more in July."""
    at_ = []
    for n in range(1, total + 1):
        at_.append(builders.measure(service, staff, region=key, code=f"{prefix}-{n}"))
    return at_[:implemented_before], at_[
        implemented_before : implemented_before + implemented_after
    ]


def three_twinnings(service, clock):
    pair = builders.muenchen_and_steinfurt(service)
    builders.region(
        service, "08221", "heidelberg", "Stadt Heidelberg", "Stadt", "Baden-Württemberg"
    )
    builders.region(
        service, "03459", "lk-osnabrueck", "Landkreis Osnabrück", "Landkreis", "Niedersachsen"
    )
    builders.region(service, "05766", "kreis-lippe", "Kreis Lippe", "Kreis", "Nordrhein-Westfalen")
    builders.region(
        service,
        "06534",
        "lk-marburg-biedenkopf",
        "Landkreis Marburg-Biedenkopf",
        "Landkreis",
        "Hessen",
    )
    heidelberg = pair_of(
        service,
        "heidelberg",
        "lk-osnabrueck",
        [
            {"topic": "heat", "teaching_region": "03459"},
            {"topic": "cycling", "teaching_region": None},
        ],
    )
    mutual = pair_of(
        service,
        "kreis-lippe",
        "lk-marburg-biedenkopf",
        [{"topic": "heat"}, {"topic": "cycling"}],
    )
    staff = {
        key: builders.member(service, key, "staff") for key in ("08221", "03459", "05766", "06534")
    }
    staff["09184"] = pair.muenchen_staff
    plan = {  # key: (prefix, implemented before start, implemented in July, total)
        "09184": ("LKM", 1, 2, 4),  # 1/4 → 3/4: +0.50
        "08221": ("HD", 0, 1, 4),  # none at start → 1/4: +0.25
        "03459": ("OS", 0, 2, 2),  # teaching side: not ranked by
        "05766": ("LIP", 0, 2, 2),  # 0 → 1: +1.00
        "06534": ("MR", 1, 1, 2),  # 1/2 → 1: +0.50; mutual pair: mean +0.75
    }
    later = []
    at(clock, 2016, 6, 10, 9)
    for key, (prefix, before, after, total) in plan.items():
        done_before, done_later = measures(service, staff[key], key, prefix, before, after, total)
        for measure_id in done_before:
            move(service, staff[key], measure_id, "implemented")
        later += [(staff[key], measure_id) for measure_id in done_later]
    at(clock, 2016, 7, 15, 9)
    for actor, measure_id in later:
        move(service, actor, measure_id, "implemented")
    return pair, heidelberg, mutual


async def test_twinnings_are_ranked_by_the_learning_regions_change_since_the_start(
    regiotwin, clock, read_models
):
    pair, heidelberg, mutual = three_twinnings(regiotwin, clock)
    read_models.refresh()
    async with connect(read_models.path) as db:
        overview = await programme_overview(db, "03KF0003", date(2016, 8, 1))
    ranking = [(t.rank, t.twinning_id, t.change) for t in overview.twinnings]
    assert ranking == [
        (1, mutual, pytest.approx(0.75)),
        (2, pair.twinning_id, pytest.approx(0.50)),
        (3, heidelberg, pytest.approx(0.25)),
    ]
    muenchen = overview.twinnings[1]
    assert not muenchen.mutual
    (learner,) = muenchen.learning
    assert learner.region.name == "Landkreis München"
    assert (learner.at_start.value, learner.now.value) == (0.25, 0.75)


async def test_a_mutual_pair_is_ranked_by_the_mean_change_of_both_partners(
    regiotwin, clock, read_models
):
    _pair, _heidelberg, mutual = three_twinnings(regiotwin, clock)
    read_models.refresh()
    async with connect(read_models.path) as db:
        overview = await programme_overview(db, "03KF0003", date(2016, 8, 1))
    pair = next(t for t in overview.twinnings if t.twinning_id == mutual)
    assert pair.mutual
    changes = {p.region.name: p.change for p in pair.learning}
    assert changes == {
        "Kreis Lippe": pytest.approx(1.0),
        "Landkreis Marburg-Biedenkopf": pytest.approx(0.5),
    }
    assert pair.change == pytest.approx(0.75)


async def test_before_anything_changed_no_twinning_has_moved(regiotwin, clock, read_models):
    three_twinnings(regiotwin, clock)
    read_models.refresh()
    async with connect(read_models.path) as db:
        overview = await programme_overview(db, "03KF0003", date(2016, 6, 30))
    assert [t.change for t in overview.twinnings] == [0.0, 0.0, 0.0]
    assert [t.rank for t in overview.twinnings] == [1, 1, 1]  # a tie shares its rank
