"""seed-demo: the programme's facts and an illustrative year, loaded once and only once."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime
from pathlib import Path

from demo.seed import SeedReport, seed_demo
from domain.service import RegioTwin
from domain.values import AdviceStatus, MeasureStatus, Role, Topic, TwinningStatus

DATA = Path(__file__).resolve().parent.parent / "demo" / "data"


def get(service: RegioTwin, aggregate_id):
    return service.app.repository.get(aggregate_id)


def all_events(service: RegioTwin) -> list:
    head = service.app.recorder.max_notification_id() or 0
    return [
        service.app.mapper.to_domain_event(notification)
        for notification in service.app.recorder.select_notifications(1, head)
    ]


def pairs_csv() -> list[dict[str, str]]:
    with (DATA / "pairs.csv").open(encoding="utf-8") as file:
        return list(csv.DictReader(file))


def test_seeding_loads_the_programme_and_the_main_twinning(service, clock):
    report = seed_demo(service, clock)

    assert report.commands_handled > 100
    assert report.commands_replayed == 0
    programme = get(service, report.programme_id)
    assert (programme.code, programme.name) == ("03KF0003", "RegioTwin")
    assert (programme.starts_on, programme.ends_on) == (date(2014, 12, 1), date(2017, 12, 31))
    assert programme.office == "IdE Institut dezentrale Energietechnologien, Kassel"
    assert programme.funder.startswith("Bundesministerium für Umwelt, Naturschutz, Bau")

    twinning = get(service, report.main_twinning_id)
    steinfurt = get(service, twinning.first_region_id)
    muenchen = get(service, twinning.second_region_id)
    assert (steinfurt.key, steinfurt.name) == ("05566", "Kreis Steinfurt")
    assert (muenchen.key, muenchen.name, muenchen.slug) == (
        "09184",
        "Landkreis München",
        "lk-muenchen",
    )
    assert twinning.status == TwinningStatus.RUNNING
    assert (twinning.starts_on, twinning.ends_on) == (date(2016, 6, 21), date(2017, 6, 20))
    assert twinning.topics == {
        Topic.ENERGY_VISION: steinfurt.id,
        Topic.PUBLIC_PARTICIPATION: steinfurt.id,
        Topic.COMPANIES: steinfurt.id,
        Topic.CYCLING: steinfurt.id,
        Topic.E_MOBILITY: steinfurt.id,
    }


def test_demo_members_act_for_their_region_through_made_up_accounts(service, clock):
    report = seed_demo(service, clock)

    sides = {
        ("lk-muenchen", Role.COORDINATOR),
        ("lk-muenchen", Role.STAFF),
        ("kreis-steinfurt", Role.COORDINATOR),
        ("kreis-steinfurt", Role.STAFF),
        ("office", Role.AUDITOR),
    }
    assert {(m.side, m.role) for m in report.members.values()} == sides
    for demo_member in report.members.values():
        member = get(service, demo_member.member_id)
        assert member.name == demo_member.name
        assert member.name.startswith("Demo: ")
        assert member.role == demo_member.role
        expected_region = (
            None if demo_member.side == "office" else report.region_ids[demo_member.side]
        )
        assert member.region_id == expected_region
        assert service.member_for_telegram(demo_member.telegram_user_id) == member.id
    assert report.member("lk-muenchen", "staff").name == "Demo: Lukas Maier (LK München)"


def test_seeding_twice_records_nothing_new(service, clock):
    first = seed_demo(service, clock)
    head = service.app.recorder.max_notification_id()

    second = seed_demo(service, clock)

    assert service.app.recorder.max_notification_id() == head
    assert second.commands_handled == 0
    assert second.commands_replayed == first.commands_handled
    assert second.main_twinning_id == first.main_twinning_id
    assert second.members == first.members
    assert second.measure_ids == first.measure_ids
    assert clock.now() == second.final_moment == first.final_moment


def test_every_pair_becomes_a_twinning_between_regions_with_their_official_keys(service, clock):
    report = seed_demo(service, clock)

    twinnings = [get(service, twinning_id) for twinning_id in report.twinning_ids.values()]
    by_keys = {}
    for twinning in twinnings:
        first, second = (get(service, region_id) for region_id in twinning.region_ids)
        by_keys[(first.key, second.key)] = (twinning, first, second)
    rows = pairs_csv()
    assert len(rows) == len(twinnings) == 11
    for row in rows:
        keys = (row["teaching_key"] or None, row["learning_key"] or None)
        twinning, teaching, learning = by_keys[keys]
        round_start = date(2015, 6, 17) if row["round"].startswith("1") else date(2016, 6, 21)
        assert twinning.starts_on == round_start
        for column, region in (("teaching", teaching), ("learning", learning)):
            if not row[f"{column}_key"]:  # "Metropole Ruhr": the Regionalverband Ruhr
                assert row[column] in region.name
        teaches = row["direction"] in ("teaching->learning", "probably teaching->learning")
        expected_teacher = teaching.id if teaches else None
        assert set(twinning.topics.values()) == {expected_teacher}, row

    regions = {
        region.name: region
        for twinning in twinnings
        for region in (get(service, region_id) for region_id in twinning.region_ids)
    }
    assert regions["Landkreis München"].key == "09184"
    assert regions["Verband Region Rhein-Neckar"].key is None
    assert regions["Verband Region Rhein-Neckar"].land == "Baden-Württemberg/Hessen/Rheinland-Pfalz"
    assert regions["Regionalverband Ruhr (Metropole Ruhr)"].key is None
    assert regions["Verbandsgemeinde Mansfelder Grund-Helbra"].key == "150875052"
    assert regions["Enkenbach-Alsenborn"].key == "07335004"

    woerrstadt_birkenfeld, woerrstadt, birkenfeld = by_keys[("073315006", "071345002")]
    assert (woerrstadt.name, birkenfeld.name) == (
        "Verbandsgemeinde Wörrstadt",
        "Verbandsgemeinde Birkenfeld",
    )
    assert woerrstadt_birkenfeld.topics
    assert all(teacher is None for teacher in woerrstadt_birkenfeld.topics.values())


def test_every_region_of_regions_csv_is_registered_with_its_key_exactly(service, clock):
    report = seed_demo(service, clock)

    with (DATA / "regions.csv").open(encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    registered = {
        get(service, region_id).name: get(service, region_id)
        for region_id in (report.region_ids.values())
    }
    assert len(registered) == len(rows) == len(report.region_ids)
    for row in rows:
        region = registered[row["name"]]
        assert region.key == (row["key"] or None)
        assert str(region.kind) == row["kind"]
        assert region.land == row["land"]
        assert (str(region.key_type) if region.key_type else "none") == row["key_type"]


def test_round_one_ran_its_year_out_and_round_two_is_running(service, clock):
    report = seed_demo(service, clock)

    statuses = {
        get(service, twinning_id).starts_on: set() for twinning_id in report.twinning_ids.values()
    }
    for twinning_id in report.twinning_ids.values():
        twinning = get(service, twinning_id)
        statuses[twinning.starts_on].add(twinning.status)
    assert statuses == {
        date(2015, 6, 17): {TwinningStatus.COMPLETED},
        date(2016, 6, 21): {TwinningStatus.RUNNING},
    }


def test_muenchen_measures_end_with_implemented_and_discontinued_ones(service, clock):
    report = seed_demo(service, clock)

    muenchen = report.region_ids["lk-muenchen"]
    measures = [get(service, measure_id) for measure_id in report.measure_ids.values()]
    own = [measure for measure in measures if measure.region_id == muenchen]
    statuses = [measure.status for measure in own]
    assert len(own) >= 8
    assert statuses.count(MeasureStatus.IMPLEMENTED) >= 1
    assert statuses.count(MeasureStatus.DISCONTINUED) == 1
    assert all(measure.code.startswith("LKM-") for measure in own)
    assert all(measure.description.endswith("(illustrativ)") for measure in measures)


def test_muenchen_implementation_rate_rises_over_the_year(service, clock):
    report = seed_demo(service, clock)
    muenchen_measures = {
        measure_id for code, measure_id in report.measure_ids.items() if code.startswith("LKM-")
    }
    status: dict = {}
    rates = []
    for event in all_events(service):
        if event.originator_id not in muenchen_measures:
            continue
        if type(event).__name__ == "Proposed":
            status[event.originator_id] = MeasureStatus.PROPOSED
        elif type(event).__name__ == "StatusChanged":
            status[event.originator_id] = MeasureStatus(event.status)
        counted = [s for s in status.values() if s != MeasureStatus.DISCONTINUED]
        rates.append(
            sum(s == MeasureStatus.IMPLEMENTED for s in counted) / len(counted) if counted else 0
        )
    assert rates[0] == 0
    assert rates[-1] >= 0.4
    assert max(rates) == rates[-1]


def test_the_illustrative_history_has_advice_follow_ups_and_a_revised_goal(service, clock):
    report = seed_demo(service, clock)
    events = all_events(service)
    main = report.main_twinning_id

    def aggregates(class_name):
        ids = {e.originator_id for e in events if type(e).__qualname__.startswith(class_name)}
        return [get(service, aggregate_id) for aggregate_id in sorted(ids)]

    advice = [a for a in aggregates("Advice.") if a.twinning_id == main]
    assert sorted(str(a.status) for a in advice) == sorted(
        [AdviceStatus.ADOPTED, AdviceStatus.DECLINED, AdviceStatus.ACKNOWLEDGED]
    )
    adopted = next(a for a in advice if a.status == AdviceStatus.ADOPTED)
    new_measure = get(service, adopted.adopted_measure_id)
    assert new_measure.advice_id == adopted.id
    assert new_measure.region_id == report.region_ids["lk-muenchen"]
    assert all(a.text.startswith("Illustrativ:") for a in advice)

    exchanges = sorted(
        (e for e in aggregates("Exchange.") if e.twinning_id == main),
        key=lambda exchange: exchange.held_on,
    )
    assert str(exchanges[0].kind) == "joint_event"
    assert exchanges[0].place == "Kassel"
    assert exchanges[0].held_on == date(2016, 6, 21)
    assert {"call", "site_visit", "workshop"} <= {str(e.kind) for e in exchanges}
    assert all(e.summary.startswith("Illustrativ:") for e in exchanges)
    follow_ups = [f for e in exchanges for f in e.follow_ups.values()]
    final_day = report.final_moment.date()
    assert any(f.done for f in follow_ups)
    assert any(not f.done and f.due_on < final_day for f in follow_ups)

    goals = [g for g in aggregates("Goal.") if g.region_id == report.region_ids["lk-muenchen"]]
    assert [g.revision_count for g in goals].count(1) == 1
    assert all("(illustrativ)" in g.metric for g in goals)


def test_the_log_reads_in_the_order_of_the_story(service, clock):
    report = seed_demo(service, clock)

    moments = [event.timestamp for event in all_events(service)]
    assert moments == sorted(moments)
    assert moments[0] == datetime(2014, 12, 1, 9, 0, tzinfo=UTC)
    assert moments[-1] == report.final_moment == clock.now()
    assert report.final_moment.date() < date(2017, 6, 20)  # the twinning still runs
    assert isinstance(report, SeedReport)


def test_members_record_for_their_region_and_the_seed_for_the_programme(service, clock):
    report = seed_demo(service, clock)
    actors = {}
    for event in all_events(service):
        actors.setdefault(event.originator_id, event.actor)

    assert actors[report.programme_id] == "system:seed-demo"
    assert actors[report.main_twinning_id] == "system:seed-demo"
    assert (
        actors[report.measure_ids["LKM-01"]] == report.member("lk-muenchen", "staff").member_id.hex
    )
    assert (
        actors[report.measure_ids["KST-01"]]
        == report.member("kreis-steinfurt", "staff").member_id.hex
    )
