"""Reminders over a simulated year: day 1, day 7, then every 30 days; never two of one kind
to one person within 5 days; nothing twice after a restart."""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.i18n import build_i18n
from bot.notification_texts import render
from bot.reminders import Reminders, reminders_due_by
from domain.application import sqlite_env
from domain.clock import ManualClock
from domain.commands import (
    ChangeMeasureStatus,
    CompleteFollowUp,
    GiveAdvice,
    MuteNotifications,
    ReportProgress,
    RequestAdvice,
    SetGoal,
    TakeHoliday,
)
from domain.service import RegioTwin
from projections.outbox import open_outbox
from projections.outbox_projection import OutboxProjection, apply_log
from tests import builders
from tests.builders import act
from tests.projections.support import ReadModels

BERLIN = ZoneInfo("Europe/Berlin")


class Year:
    """München and Steinfurt with things left undone, and the reminder tick."""

    def __init__(self, folder: Path, clock: ManualClock) -> None:
        env = sqlite_env(str(folder / "events.sqlite"))
        self.clock = clock
        self.service = RegioTwin.from_env(env, clock)
        self.read_models = ReadModels(env, folder / "read_models.sqlite")
        self.store = open_outbox(env, folder)
        self.store.initialise("RegioTwin", 0)
        self.projection = OutboxProjection(self.store)
        self.reminders = Reminders(self.store, folder / "read_models.sqlite", clock)
        self.folder = folder

    def close(self) -> None:
        self.store.close()
        self.read_models.close()
        self.service.close()

    def settle(self) -> None:
        self.read_models.refresh()
        apply_log(self.projection, self.service.app)

    def tick(self) -> int:
        return self.reminders.tick()

    def reminders_sent(self) -> list[dict]:
        return self.store.notifications(template="reminder")


@pytest.fixture
def year(tmp_path: Path, clock: ManualClock) -> Iterator[Year]:
    world = Year(tmp_path, clock)
    yield world
    world.close()


def local_day(row: dict) -> date:
    moment = datetime.strptime(row["created_at"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    return moment.astimezone(BERLIN).date()


def days_of(rows: list[dict], member, kind: str) -> list[date]:
    return [
        local_day(row)
        for row in rows
        if row["member_id"] == member.hex and row["payload"]["reminder"] == kind
    ]


def test_the_schedule_is_day_1_day_7_then_every_30_days() -> None:
    assert [reminders_due_by(day) for day in (0, 1, 6, 7, 36, 37, 66, 67, 97)] == [
        0,
        1,
        1,
        2,
        2,
        3,
        3,
        4,
        5,
    ]


def test_a_year_of_reminders(year: Year) -> None:
    service, clock = year.service, year.clock
    pair = builders.muenchen_and_steinfurt(service)
    anna, jan = pair.muenchen_staff, pair.steinfurt_staff
    karl = builders.member(service, "09184", "coordinator", "Karl Koch")
    exchange = builders.exchange(
        service,
        pair,
        held_on="01.06.2016",
        follow_ups=[
            {"text": "Send the counting data", "owner_member_id": anna, "due_on": "10.06.2016"},
            {"text": "Book the bus", "owner_member_id": anna, "due_on": "12.06.2016"},
        ],
    ).aggregate_id
    request = act(
        service,
        anna,
        RequestAdvice,
        twinning_id=pair.twinning_id,
        topic="cycling",
        question="How do you count cyclists?",
    ).aggregate_id
    measure = builders.measure(service, anna)
    for status in ("planned", "in_progress"):
        act(service, anna, ChangeMeasureStatus, measure_id=measure, status=status)
    act(
        service,
        karl,
        SetGoal,
        region="09184",
        topic="energy_vision",
        metric="Renewable electricity",
        target_value="100",
        unit="%",
        target_year=2017,
    )
    year.settle()

    happenings = {
        date(2016, 9, 1): lambda: act(
            service, anna, CompleteFollowUp, exchange_id=exchange, number=1
        ),
        date(2016, 10, 1): lambda: act(
            service,
            jan,
            GiveAdvice,
            twinning_id=pair.twinning_id,
            topic="cycling",
            text="Induction loops.",
            request_id=request,
        ),
        date(2016, 12, 1): lambda: act(
            service, anna, ReportProgress, measure_id=measure, percent=50
        ),
    }
    day = date(2016, 6, 1)
    while day < date(2017, 6, 1):
        for hour in (5, 7, 19):  # 07:00 / 09:00 Berlin in summer, 06:00 / 08:00 in winter
            clock.set(datetime(day.year, day.month, day.day, hour, tzinfo=UTC))
            if hour == 7 and day in happenings:
                happenings[day]()
                year.settle()
            year.tick()
        # A restart: a fresh tick on the same moment sends nothing again.
        assert Reminders(year.store, year.folder / "read_models.sqlite", clock).tick() == 0
        day += timedelta(days=1)

    sent = year.reminders_sent()
    assert all(
        datetime.strptime(row["created_at"], "%Y-%m-%dT%H:%M:%S.%fZ")
        .replace(tzinfo=UTC)
        .astimezone(BERLIN)
        .hour
        >= 8
        for row in sent
    ), "a reminder before 08:00"

    # One subject alone in its kind: exactly day 1, 7, 37, 67, 97 – until it is answered.
    assert days_of(sent, jan, "advice_unanswered") == [
        date(2016, 6, 8),
        date(2016, 6, 14),
        date(2016, 7, 14),
        date(2016, 8, 13),
        date(2016, 9, 12),
    ]
    # A progress report starts the 30 days again.
    assert days_of(sent, karl, "measure_stale") == [
        date(2016, 7, 1),
        date(2016, 7, 7),
        date(2016, 8, 6),
        date(2016, 9, 5),
        date(2016, 10, 5),
        date(2016, 11, 4),
        date(2016, 12, 31),
        date(2017, 1, 6),
        date(2017, 2, 5),
        date(2017, 3, 7),
        date(2017, 4, 6),
        date(2017, 5, 6),
    ]
    assert days_of(sent, karl, "goal_due") == [
        date(2017, 1, 1),
        date(2017, 1, 7),
        date(2017, 2, 6),
        date(2017, 3, 8),
        date(2017, 4, 7),
        date(2017, 5, 7),
    ]
    # Two follow-ups of one person: never two reminders of a kind within 5 days, so the
    # second "due tomorrow" (two days after the first) is not sent, and overdue ones wait
    # and come together.
    assert days_of(sent, anna, "follow_up_due") == [date(2016, 6, 9)]
    overdue = [row for row in sent if row["payload"]["reminder"] == "follow_up_overdue"]
    overdue_days = [local_day(row) for row in overdue]
    assert overdue_days[:4] == [
        date(2016, 6, 11),
        date(2016, 6, 16),
        date(2016, 6, 21),
        date(2016, 7, 17),
    ]
    by_kind: dict[tuple[str, str], list[date]] = defaultdict(list)
    for row in sent:
        by_kind[(row["member_id"], row["payload"]["reminder"])].append(local_day(row))
    for days in by_kind.values():
        assert all((later - earlier).days >= 5 for earlier, later in itertools.pairwise(days))
    items_after_done = [
        item["text"]
        for row in overdue
        if local_day(row) > date(2016, 9, 1)
        for item in row["payload"]["items"]
    ]
    assert "Book the bus" in items_after_done
    assert "Send the counting data" not in items_after_done  # done on 1 September
    assert all(row["state"] == "pending" for row in sent)
    german = render(build_i18n(), "reminder", overdue[2]["payload"], "de").text
    assert "überfällige Folgeaufgaben" in german
    assert "Send the counting data" in german
    assert "Book the bus" in german


def test_muted_reminders_and_holidays_send_nothing(year: Year) -> None:
    service, clock = year.service, year.clock
    pair = builders.muenchen_and_steinfurt(service)
    anna, jan = pair.muenchen_staff, pair.steinfurt_staff
    act(
        service,
        anna,
        RequestAdvice,
        twinning_id=pair.twinning_id,
        topic="cycling",
        question="How do you count cyclists?",
    )
    act(
        service,
        anna,
        RequestAdvice,
        twinning_id=pair.twinning_id,
        topic="e_mobility",
        question="Where do you put chargers?",
    )
    act(service, jan, TakeHoliday, member_id=jan, until="10.06.2016")
    year.settle()
    for day in range(1, 20):
        clock.set(datetime(2016, 6, day, 12, tzinfo=UTC))
        year.tick()
    # Day 1 (8 June) fell into the holiday: the first reminder comes on the day back, the
    # second (day 7, 14 June) five days after it.
    assert days_of(year.reminders_sent(), jan, "advice_unanswered") == [
        date(2016, 6, 11),
        date(2016, 6, 16),
    ]
    [first, _second] = year.reminders_sent()
    assert len(first["payload"]["items"]) == 2  # both questions in one reminder

    act(service, jan, MuteNotifications, member_id=jan, kind="reminders")
    year.settle()
    for day in range(20, 31):
        clock.set(datetime(2016, 7, day, 12, tzinfo=UTC))
        year.tick()
    assert len(year.reminders_sent()) == 2


def test_a_reminder_names_what_is_due_in_both_languages(year: Year) -> None:
    service, clock = year.service, year.clock
    pair = builders.muenchen_and_steinfurt(service)
    builders.exchange(
        service,
        pair,
        held_on="01.06.2016",
        follow_ups=[{"text": "Send the <data>", "owner_region": "05566", "due_on": "03.06.2016"}],
    )
    year.settle()
    clock.set(datetime(2016, 6, 2, 7, tzinfo=UTC))
    assert year.tick() == 1
    [row] = year.reminders_sent()
    assert row["member_id"] == pair.steinfurt_staff.hex  # no coordinator: the region's staff
    i18n = build_i18n()
    german = render(i18n, row["template"], row["payload"], "de")
    english = render(i18n, row["template"], row["payload"], "en")
    assert "Erinnerung: morgen fällig" in german.text
    assert "Send the &lt;data&gt; (fällig am 03.06.2016" in german.text
    assert "Reminder: due tomorrow" in english.text
    assert german.markup.inline_keyboard[0][0].text == "Zum Twinning"
