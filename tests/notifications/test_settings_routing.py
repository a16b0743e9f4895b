"""Mute, holiday and digest decide whether and how a notification reaches a member."""

from __future__ import annotations

from datetime import timedelta

from bot.i18n import build_i18n
from bot.notification_texts import render
from bot.reminders import Reminders
from domain.commands import (
    ChooseDigest,
    ChooseDigestTime,
    MuteNotifications,
    RemoveMember,
    TakeHoliday,
    UnmuteNotifications,
)
from tests import builders
from tests.builders import SYSTEM, act
from tests.notifications.support import Outbox, people


def advice_for(outbox: Outbox, member) -> list[dict]:
    return [row for row in outbox.rows(member_id=member.hex) if row["template"] == "advice_given"]


def test_a_muted_kind_is_not_sent_and_unmuting_brings_it_back(outbox: Outbox) -> None:
    world = people(outbox.service)
    anna = world.pair.muenchen_staff
    act(outbox.service, anna, MuteNotifications, member_id=anna, kind="advice")
    builders.advice(outbox.service, world.pair)
    outbox.apply()
    assert advice_for(outbox, anna) == []
    assert len(advice_for(outbox, world.muenchen_coordinator)) == 1  # only Anna muted it

    act(outbox.service, anna, UnmuteNotifications, member_id=anna, kind="advice")
    builders.advice(outbox.service, world.pair)
    outbox.apply()
    assert len(advice_for(outbox, anna)) == 1


def test_muting_one_twinning_leaves_the_others(outbox: Outbox) -> None:
    world = people(outbox.service)
    anna = world.pair.muenchen_staff
    act(
        outbox.service,
        anna,
        MuteNotifications,
        member_id=anna,
        kind="exchanges",
        twinning_id=world.pair.twinning_id,
    )
    builders.exchange(outbox.service, world.pair, actor=world.pair.steinfurt_staff)
    builders.advice(outbox.service, world.pair)
    outbox.apply()
    assert [row["template"] for row in outbox.rows(member_id=anna.hex)] == ["advice_given"]


def test_a_holiday_mutes_everything_to_its_last_day_inclusive(outbox: Outbox) -> None:
    world = people(outbox.service)
    anna = world.pair.muenchen_staff
    last_day = (outbox.clock.now() + timedelta(days=3)).date()
    act(outbox.service, anna, TakeHoliday, member_id=anna, until=last_day.isoformat())

    outbox.clock.advance(timedelta(days=3))  # the last day of the holiday
    builders.advice(outbox.service, world.pair)
    outbox.clock.advance(timedelta(days=1))  # back at work
    builders.advice(outbox.service, world.pair)
    outbox.apply()

    [row] = advice_for(outbox, anna)
    assert row["created_at"].startswith((last_day + timedelta(days=1)).isoformat())


def test_a_daily_digest_collects_and_sends_one_summary_at_eight(outbox: Outbox, tmp_path) -> None:
    world = people(outbox.service)
    anna = world.pair.muenchen_staff
    act(outbox.service, anna, ChooseDigest, member_id=anna, mode="daily")
    builders.advice(outbox.service, world.pair)
    builders.exchange(outbox.service, world.pair, actor=world.pair.steinfurt_staff)
    outbox.apply()
    collected = outbox.rows(member_id=anna.hex)
    assert [row["state"] for row in collected] == ["digest", "digest"]

    reminders = Reminders(outbox.store, tmp_path / "no-read-models.sqlite", outbox.clock)
    reminders._digests(outbox.store.active_members(), outbox.clock.now(), _Tally())
    assert [row["state"] for row in outbox.rows(member_id=anna.hex)] == ["digest", "digest"]

    outbox.clock.set(outbox.clock.now().replace(hour=6) + timedelta(days=1))  # 08:00 Berlin
    for _ in range(3):  # every tick after 08:00 the same day: one digest only
        reminders._digests(outbox.store.active_members(), outbox.clock.now(), _Tally())
        outbox.clock.advance(timedelta(minutes=1))

    rows = outbox.rows(member_id=anna.hex)
    assert [row["state"] for row in rows] == ["digested", "digested", "pending"]
    digest = rows[-1]
    assert digest["template"] == "digest"
    assert digest["dedupe_key"] == f"digest:{anna.hex}:2016-06-02"
    german = render(build_i18n(), "digest", digest["payload"], "de").text
    assert "Ihre Zusammenfassung: 2 Benachrichtigungen" in german
    assert "Rat" in german
    assert "Erfahrungsaustausch" in german


def test_turning_the_digest_off_sends_what_it_collected_at_once(outbox: Outbox) -> None:
    world = people(outbox.service)
    anna = world.pair.muenchen_staff
    act(outbox.service, anna, ChooseDigest, member_id=anna, mode="weekly")
    builders.advice(outbox.service, world.pair)
    act(outbox.service, anna, ChooseDigest, member_id=anna, mode="off")
    builders.advice(outbox.service, world.pair)
    outbox.apply()
    rows = outbox.rows(member_id=anna.hex)
    assert [(row["template"], row["state"]) for row in rows] == [
        ("advice_given", "digested"),
        ("digest", "pending"),
        ("advice_given", "pending"),
    ]


def test_settings_follow_the_log_in_the_outbox(outbox: Outbox) -> None:
    world = people(outbox.service)
    anna = world.pair.muenchen_staff
    act(
        outbox.service, anna, ChooseDigestTime, member_id=anna, at="07:15", timezone="Europe/Lisbon"
    )
    act(outbox.service, anna, MuteNotifications, member_id=anna, kind="reminders")
    outbox.apply()
    with outbox.store.db.transaction() as tx:
        settings = outbox.store.settings_of(tx, anna.hex)
    assert (settings.digest_time, settings.timezone) == ("07:15", "Europe/Lisbon")
    assert settings.is_muted("reminders", world.pair.twinning_id.hex)
    assert not settings.is_muted("advice", None)


class _Tally:
    added = 0

    def __init__(self) -> None:
        from collections import defaultdict

        self.kinds = defaultdict(int)


def test_a_removed_member_gets_nothing_more(outbox: Outbox) -> None:
    world = people(outbox.service)
    anna = world.pair.muenchen_staff
    builders.advice(outbox.service, world.pair)
    act(outbox.service, SYSTEM, RemoveMember, member_id=anna, reason="Moved to Freising.")
    builders.advice(outbox.service, world.pair)
    outbox.apply()
    assert [row["state"] for row in outbox.rows(member_id=anna.hex)] == ["cancelled"]
    assert [row["state"] for row in advice_for(outbox, world.muenchen_coordinator)] == [
        "pending",
        "pending",
    ]
