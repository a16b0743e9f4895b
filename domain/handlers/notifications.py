"""Notification settings: only the member themselves (or an admin) changes them."""

from __future__ import annotations

from uuid import UUID
from zoneinfo import ZoneInfo

from domain import ids
from domain.access import Actor
from domain.commands import (
    ChooseDigest,
    ChooseDigestTime,
    EndHoliday,
    MuteNotifications,
    TakeHoliday,
    UnmuteNotifications,
)
from domain.errors import NotAllowed, RuleViolated
from domain.member import Member
from domain.notification_settings import NotificationSettings
from domain.recording import recorded_now
from domain.service import Outcome, handles
from domain.twinning import Twinning
from domain.unit_of_work import UnitOfWork

BUSINESS_TIMEZONE = ZoneInfo("Europe/Berlin")


def _settings(uow: UnitOfWork, actor: Actor, member_id: UUID) -> NotificationSettings:
    if not actor.is_admin and actor.member_id != member_id:
        raise NotAllowed("auth.own_settings_only")
    member = uow.get(Member, member_id)
    if member.removed:
        raise RuleViolated("member.removed")
    found = uow.find(NotificationSettings, ids.notification_settings_id(member_id))
    return found or uow.add(NotificationSettings(member_id=member_id))


def _twinning_of_member(uow: UnitOfWork, member_id: UUID, twinning_id: UUID | None) -> None:
    """A twinning named in a setting exists and concerns the member (the office: all)."""
    if twinning_id is None:
        return
    twinning = uow.get(Twinning, twinning_id)
    member = uow.get(Member, member_id)
    if member.region_id is not None and not twinning.includes(member.region_id):
        raise NotAllowed("auth.not_a_partner")


def _outcome(settings: NotificationSettings, **details: str) -> Outcome:
    return Outcome.of(settings, **details)


@handles(MuteNotifications)
def mute(cmd: MuteNotifications, uow: UnitOfWork, actor: Actor) -> Outcome:
    settings = _settings(uow, actor, cmd.member_id)
    _twinning_of_member(uow, cmd.member_id, cmd.twinning_id)
    settings.mute(cmd.kind, cmd.twinning_id)
    return _outcome(settings, kind=str(cmd.kind))


@handles(UnmuteNotifications)
def unmute(cmd: UnmuteNotifications, uow: UnitOfWork, actor: Actor) -> Outcome:
    settings = _settings(uow, actor, cmd.member_id)
    if cmd.kind is None:
        if cmd.twinning_id is not None:
            raise RuleViolated("notifications.name_the_kind")
        settings.unmute_all()
        return _outcome(settings, kind="all")
    _twinning_of_member(uow, cmd.member_id, cmd.twinning_id)
    settings.unmute(cmd.kind, cmd.twinning_id)
    return _outcome(settings, kind=str(cmd.kind))


@handles(TakeHoliday)
def take_holiday(cmd: TakeHoliday, uow: UnitOfWork, actor: Actor) -> Outcome:
    settings = _settings(uow, actor, cmd.member_id)
    today = recorded_now().astimezone(BUSINESS_TIMEZONE).date()
    settings.take_holiday(cmd.until, today)
    return _outcome(settings, until=cmd.until.isoformat())


@handles(EndHoliday)
def end_holiday(cmd: EndHoliday, uow: UnitOfWork, actor: Actor) -> Outcome:
    settings = _settings(uow, actor, cmd.member_id)
    settings.end_holiday()
    return _outcome(settings)


@handles(ChooseDigest)
def choose_digest(cmd: ChooseDigest, uow: UnitOfWork, actor: Actor) -> Outcome:
    settings = _settings(uow, actor, cmd.member_id)
    settings.choose_digest(cmd.mode)
    return _outcome(settings, mode=str(cmd.mode), at=settings.digest_time)


@handles(ChooseDigestTime)
def choose_digest_time(cmd: ChooseDigestTime, uow: UnitOfWork, actor: Actor) -> Outcome:
    settings = _settings(uow, actor, cmd.member_id)
    settings.choose_digest_time(cmd.at, cmd.timezone)
    return _outcome(settings, at=cmd.at, timezone=cmd.timezone or "")
