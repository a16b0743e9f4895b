"""Notification settings are events: who muted what, holidays and digests, on both stores."""

from datetime import timedelta

import pytest

from domain import ids
from domain.commands import (
    ChooseDigest,
    ChooseDigestTime,
    EndHoliday,
    InviteMember,
    MuteNotifications,
    RemoveMember,
    TakeHoliday,
    UnmuteNotifications,
)
from domain.errors import InvalidCommand, NotAllowed, NotFound, RuleViolated
from domain.notification_settings import DigestMode, NotificationKind, NotificationSettings
from tests import builders
from tests.builders import SYSTEM, act, get, refused


@pytest.fixture
def pair(service):
    return builders.muenchen_and_steinfurt(service)


def settings_of(service, member_id) -> NotificationSettings:
    return get(service, ids.notification_settings_id(member_id))


def test_a_member_mutes_a_kind_and_the_event_names_who_did_it(service, pair):
    outcome = act(
        service,
        pair.muenchen_staff,
        MuteNotifications,
        member_id=pair.muenchen_staff,
        kind="advice",
    )

    settings = settings_of(service, pair.muenchen_staff)
    assert outcome.aggregate_id == ids.notification_settings_id(pair.muenchen_staff)
    assert settings.is_muted(NotificationKind.ADVICE, pair.twinning_id)
    assert not settings.is_muted(NotificationKind.EXCHANGES, None)
    muted = builders.events(service)[-2]  # then the command receipt
    assert type(muted).__qualname__ == "NotificationSettings.KindMuted"
    assert muted.actor == pair.muenchen_staff.hex
    assert muted.kind == "advice"


def test_muting_one_twinning_and_unmuting_it(service, pair):
    act(
        service,
        pair.muenchen_staff,
        MuteNotifications,
        member_id=pair.muenchen_staff,
        kind="exchanges",
        twinning_id=pair.twinning_id,
    )
    settings = settings_of(service, pair.muenchen_staff)
    assert settings.is_muted(NotificationKind.EXCHANGES, pair.twinning_id)
    assert not settings.is_muted(NotificationKind.EXCHANGES, None)

    act(
        service,
        pair.muenchen_staff,
        UnmuteNotifications,
        member_id=pair.muenchen_staff,
        kind="exchanges",
        twinning_id=pair.twinning_id,
    )
    assert settings_of(service, pair.muenchen_staff).muted == []


def test_muting_twice_or_unmuting_what_is_not_muted_is_refused(service, pair):
    act(
        service,
        pair.muenchen_staff,
        MuteNotifications,
        member_id=pair.muenchen_staff,
        kind="advice",
    )
    with refused(service, "notifications.already_muted", RuleViolated):
        act(
            service,
            pair.muenchen_staff,
            MuteNotifications,
            member_id=pair.muenchen_staff,
            kind="advice",
            twinning_id=pair.twinning_id,
        )
    with refused(service, "notifications.not_muted", RuleViolated):
        act(
            service,
            pair.muenchen_staff,
            UnmuteNotifications,
            member_id=pair.muenchen_staff,
            kind="measures",
        )


def test_unmuting_a_kind_lifts_it_everywhere(service, pair):
    act(
        service,
        pair.muenchen_staff,
        MuteNotifications,
        member_id=pair.muenchen_staff,
        kind="advice",
        twinning_id=pair.twinning_id,
    )
    act(
        service,
        pair.muenchen_staff,
        UnmuteNotifications,
        member_id=pair.muenchen_staff,
        kind="advice",
    )
    assert settings_of(service, pair.muenchen_staff).muted == []


def test_a_twinning_of_other_regions_cannot_be_muted(service, pair):
    builders.marburg(service)
    other = builders.member(service, "06534", "staff", "Mia Marburg")
    with refused(service, "auth.not_a_partner", NotAllowed):
        act(
            service,
            other,
            MuteNotifications,
            member_id=other,
            kind="advice",
            twinning_id=pair.twinning_id,
        )


def test_the_programme_office_may_mute_any_twinning(service, pair):
    office = builders.member(service, None, "coordinator", "Paula Büro")
    act(
        service,
        office,
        MuteNotifications,
        member_id=office,
        kind="twinnings",
        twinning_id=pair.twinning_id,
    )
    assert settings_of(service, office).is_muted(NotificationKind.TWINNINGS, pair.twinning_id)


def test_an_unknown_twinning_is_not_found(service, pair):
    with refused(service, "twinning.not_found", NotFound):
        act(
            service,
            pair.muenchen_staff,
            MuteNotifications,
            member_id=pair.muenchen_staff,
            kind="advice",
            twinning_id=pair.steinfurt_id,
        )


def test_only_the_member_or_an_admin_changes_the_settings(service, pair):
    with refused(service, "auth.own_settings_only", NotAllowed):
        act(
            service,
            pair.steinfurt_staff,
            MuteNotifications,
            member_id=pair.muenchen_staff,
            kind="advice",
        )
    coordinator = builders.member(service, "09184", "coordinator", "Karl Koordinator")
    with refused(service, "auth.own_settings_only", NotAllowed):
        act(service, coordinator, ChooseDigest, member_id=pair.muenchen_staff, mode="weekly")

    admin = builders.member(service, None, "admin", "Ada Admin")
    act(service, admin, ChooseDigest, member_id=pair.muenchen_staff, mode="weekly")
    assert settings_of(service, pair.muenchen_staff).digest == DigestMode.WEEKLY
    assert builders.events(service)[-2].actor == admin.hex


def test_a_removed_member_has_no_settings_to_change(service, pair):
    act(service, SYSTEM, RemoveMember, member_id=pair.muenchen_staff, reason="Moved away.")
    with refused(service, "member.removed", RuleViolated):
        act(service, SYSTEM, MuteNotifications, member_id=pair.muenchen_staff, kind="advice")


def test_a_holiday_mutes_everything_until_a_date(service, pair, clock):
    today = clock.now().date()
    act(
        service,
        pair.muenchen_staff,
        TakeHoliday,
        member_id=pair.muenchen_staff,
        until=(today + timedelta(days=14)).strftime("%d.%m.%Y"),
    )
    assert settings_of(service, pair.muenchen_staff).holiday_until == today + timedelta(days=14)

    with refused(service, "notifications.holiday_in_past", RuleViolated):
        act(
            service,
            pair.muenchen_staff,
            TakeHoliday,
            member_id=pair.muenchen_staff,
            until=(today - timedelta(days=1)).isoformat(),
        )

    act(service, pair.muenchen_staff, EndHoliday, member_id=pair.muenchen_staff)
    assert settings_of(service, pair.muenchen_staff).holiday_until is None
    with refused(service, "notifications.no_holiday", RuleViolated):
        act(service, pair.muenchen_staff, EndHoliday, member_id=pair.muenchen_staff)


def test_subscribing_to_all_ends_the_holiday_and_lifts_every_mute(service, pair, clock):
    member = pair.muenchen_staff
    with refused(service, "notifications.nothing_muted", RuleViolated):
        act(service, member, UnmuteNotifications, member_id=member)
    act(service, member, MuteNotifications, member_id=member, kind="advice")
    act(
        service,
        member,
        MuteNotifications,
        member_id=member,
        kind="reminders",
        twinning_id=pair.twinning_id,
    )
    act(
        service,
        member,
        TakeHoliday,
        member_id=member,
        until=(clock.now().date() + timedelta(days=3)).isoformat(),
    )

    act(service, member, UnmuteNotifications, member_id=member)

    settings = settings_of(service, member)
    assert settings.muted == []
    assert settings.holiday_until is None
    kinds = [type(event).__qualname__ for event in builders.events(service)[-4:-1]]
    assert kinds == [
        "NotificationSettings.HolidayEnded",
        "NotificationSettings.KindUnmuted",
        "NotificationSettings.KindUnmuted",
    ]


def test_digest_and_its_time(service, pair):
    member = pair.steinfurt_staff
    act(service, member, ChooseDigest, member_id=member, mode="daily")
    with refused(service, "notifications.digest_unchanged", RuleViolated):
        act(service, member, ChooseDigest, member_id=member, mode="daily")
    act(service, member, ChooseDigestTime, member_id=member, at="07:30", timezone="Europe/Lisbon")
    settings = settings_of(service, member)
    assert (settings.digest, settings.digest_time, settings.timezone) == (
        DigestMode.DAILY,
        "07:30",
        "Europe/Lisbon",
    )
    act(service, member, ChooseDigest, member_id=member, mode="off")
    assert settings_of(service, member).digest == DigestMode.OFF


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"at": "24:00"}, "at"),
        ({"at": "8"}, "at"),
        ({"at": "08:00", "timezone": "Mars/Olympus_Mons"}, "timezone"),
        ({"at": "08:00", "timezone": "../../etc/passwd"}, "timezone"),
    ],
)
def test_a_bad_digest_time_or_zone_is_invalid(service, pair, fields, problem):
    with pytest.raises(InvalidCommand) as caught:
        ChooseDigestTime.parse(member_id=pair.muenchen_staff, **fields)
    assert [field for field, _rule in caught.value.problems] == [problem]


def test_an_unknown_kind_or_mode_is_invalid(pair):
    with pytest.raises(InvalidCommand):
        MuteNotifications.parse(member_id=pair.muenchen_staff, kind="gossip")
    with pytest.raises(InvalidCommand):
        ChooseDigest.parse(member_id=pair.muenchen_staff, mode="hourly")


def test_a_redelivered_settings_command_records_once(service, pair):
    command = MuteNotifications.parse(member_id=pair.muenchen_staff, kind="advice")
    first = service.handle(command, actor=pair.muenchen_staff, command_id="tg-update:1:77")
    head = builders.recorded(service)
    again = service.handle(command, actor=pair.muenchen_staff, command_id="tg-update:1:77")
    assert again.replayed
    assert again.aggregate_id == first.aggregate_id
    assert builders.recorded(service) == head


def test_an_invited_member_who_has_not_joined_can_be_set_up_by_an_admin(service, pair):
    invited = act(service, SYSTEM, InviteMember, region="09184", role="staff").aggregate_id
    act(service, SYSTEM, ChooseDigest, member_id=invited, mode="weekly")
    assert settings_of(service, invited).digest == DigestMode.WEEKLY
