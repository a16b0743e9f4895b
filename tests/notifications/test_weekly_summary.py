"""The weekly summary: Monday 08:00 local time, across the daylight-saving changes of March
and October, once a week even across restarts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.i18n import build_i18n
from bot.notification_texts import render
from bot.reminders import Reminders
from domain.application import sqlite_env
from domain.clock import ManualClock
from domain.commands import (
    ChangeMeasureStatus,
    ChooseDigest,
    ChooseDigestTime,
    MuteNotifications,
)
from domain.service import RegioTwin
from projections.outbox import open_outbox
from projections.outbox_projection import OutboxProjection, apply_log
from tests import builders
from tests.builders import act
from tests.projections.support import ReadModels

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


class Weeks:
    def __init__(self, folder: Path) -> None:
        env = sqlite_env(str(folder / "events.sqlite"))
        self.folder = folder
        self.clock = ManualClock(datetime(2026, 2, 2, 9, tzinfo=UTC))
        self.service = RegioTwin.from_env(env, self.clock)
        self.read_models = ReadModels(env, folder / "read_models.sqlite")
        self.store = open_outbox(env, folder)
        self.store.initialise("RegioTwin", 0)
        self.projection = OutboxProjection(self.store)

    def reminders(self) -> Reminders:
        """A fresh instance each time: as after a restart."""
        return Reminders(self.store, self.folder / "read_models.sqlite", self.clock)

    def settle(self) -> None:
        self.read_models.refresh()
        apply_log(self.projection, self.service.app)

    def close(self) -> None:
        self.store.close()
        self.read_models.close()
        self.service.close()

    def run(self, start: datetime, end: datetime, step: timedelta) -> None:
        moment = start
        while moment < end:
            self.clock.set(moment)
            self.reminders().tick()
            moment += step

    def summaries(self, member) -> list[dict]:
        return [
            row
            for row in self.store.notifications(template="weekly_summary")
            if row["member_id"] == member.hex
        ]


@pytest.fixture
def weeks(tmp_path: Path) -> Iterator[Weeks]:
    world = Weeks(tmp_path)
    yield world
    world.close()


def at(row: dict, zone: ZoneInfo) -> datetime:
    moment = datetime.strptime(row["created_at"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    return moment.astimezone(zone)


@pytest.mark.parametrize(
    ("start", "changes_on"),
    [
        (datetime(2026, 3, 16, tzinfo=UTC), date(2026, 3, 29)),  # CET -> CEST
        (datetime(2026, 10, 12, tzinfo=UTC), date(2026, 10, 25)),  # CEST -> CET
    ],
    ids=["march", "october"],
)
def test_monday_eight_oclock_in_berlin_across_the_clock_change(
    weeks: Weeks, start: datetime, changes_on: date
) -> None:
    pair = builders.muenchen_and_steinfurt(weeks.service)
    office = builders.member(weeks.service, None, "coordinator", "Paula Programm")
    weeks.settle()

    weeks.run(start, start + timedelta(days=22), timedelta(minutes=20))

    sent = [at(row, BERLIN) for row in weeks.summaries(office)]
    assert [moment.date() for moment in sent] == [
        start.date() + timedelta(days=7 * week)
        for week in range(4)  # four Mondays
    ]
    for moment in sent:
        assert moment.weekday() == 0
        assert (moment.hour, moment.minute) == (8, 0)
    # In UTC the hour moves with the clock change, in Berlin it stays at 08:00.
    utc_hours = {row["created_at"][11:13] for row in weeks.summaries(office)}
    assert len(utc_hours) == 2
    assert any(moment.date() > changes_on for moment in sent)
    assert pair.twinning_id.hex == weeks.summaries(office)[0]["twinning_id"]


def test_a_members_own_time_and_time_zone(weeks: Weeks) -> None:
    pair = builders.muenchen_and_steinfurt(weeks.service)
    anna = pair.muenchen_staff
    act(weeks.service, anna, ChooseDigest, member_id=anna, mode="weekly")
    act(
        weeks.service,
        anna,
        ChooseDigestTime,
        member_id=anna,
        at="07:30",
        timezone="America/New_York",
    )
    weeks.settle()

    # New York changes its clocks on 8 March and 1 November 2026.
    weeks.run(
        datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 17, tzinfo=UTC), timedelta(minutes=30)
    )

    sent = [at(row, NEW_YORK) for row in weeks.summaries(anna)]
    assert [(moment.date(), moment.hour, moment.minute) for moment in sent] == [
        (date(2026, 3, 2), 7, 30),
        (date(2026, 3, 9), 7, 30),
        (date(2026, 3, 16), 7, 30),
    ]
    # Steinfurt's staff chose no weekly digest: no summary for them.
    assert weeks.summaries(pair.steinfurt_staff) == []


def test_once_a_week_even_if_the_bot_was_down_at_eight(weeks: Weeks) -> None:
    builders.muenchen_and_steinfurt(weeks.service)
    office = builders.member(weeks.service, None, "coordinator", "Paula Programm")
    weeks.settle()
    # Down over Monday morning; back at 11:40 – then every minute for the rest of the day.
    weeks.run(
        datetime(2026, 3, 16, 10, 40, tzinfo=UTC),
        datetime(2026, 3, 17, tzinfo=UTC),
        timedelta(minutes=1),
    )
    [row] = weeks.summaries(office)
    assert at(row, BERLIN).hour == 11
    assert row["dedupe_key"] == f"summary:{row['twinning_id']}:2026-W12:{office.hex}"


def test_the_summary_tells_what_each_side_did_and_what_is_due(weeks: Weeks) -> None:
    service, clock = weeks.service, weeks.clock
    pair = builders.muenchen_and_steinfurt(service)
    office = builders.member(service, None, "coordinator", "Paula Programm")
    measure = builders.measure(service, pair.muenchen_staff)
    builders.measure(service, pair.muenchen_staff, code="LKM-08")
    clock.set(datetime(2026, 3, 10, 9, tzinfo=UTC))  # Tuesday of week 11
    builders.advice(service, pair)
    builders.exchange(
        service,
        pair,
        held_on="10.03.2026",
        follow_ups=[{"text": "Data", "owner_region": "05566", "due_on": "18.03.2026"}],
    )
    for status in ("planned", "in_progress", "implemented"):
        act(service, pair.muenchen_staff, ChangeMeasureStatus, measure_id=measure, status=status)
    act(service, office, MuteNotifications, member_id=office, kind="twinnings")
    weeks.settle()

    weeks.run(
        datetime(2026, 3, 16, 7, tzinfo=UTC),
        datetime(2026, 3, 16, 8, tzinfo=UTC),
        timedelta(minutes=10),
    )

    [row] = weeks.summaries(office)
    payload = row["payload"]
    steinfurt, muenchen = payload["sides"]
    assert steinfurt["region"] == "Kreis Steinfurt"
    assert steinfurt["did"] == {"advice_given": 1}
    assert muenchen["did"] == {"exchanges": 1, "implemented": 1}
    assert muenchen["rate_then"] == [0, 2]
    assert muenchen["rate_now"] == [1, 2]
    assert payload["due"] == {
        "follow_ups_soon": 1,
        "follow_ups_overdue": 0,
        "questions_unanswered": 0,
        "advice_undecided": 1,
    }
    i18n = build_i18n()
    german = render(i18n, "weekly_summary", payload, "de").text
    english = render(i18n, "weekly_summary", payload, "en").text
    assert "Woche 12/2026: Kreis Steinfurt – Landkreis München" in german
    assert "Umsetzungsquote: vor einer Woche 0,0 %, jetzt 50,0 %" in german
    assert "Maßnahmen umgesetzt: 1" in german
    assert "Implementation rate: 0.0% a week ago, 50.0% now" in english.replace(" %", "%")
