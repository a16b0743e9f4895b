"""A member's choices about notifications: what is muted, holidays, digests.

Settings are events like everything else, so the audit trail shows who muted what
and when. One aggregate per member (id = uuid5 of the member id), opened by the
first change.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import event

from domain import ids
from domain.errors import RuleViolated
from domain.recording import DomainAggregate


class NotificationKind(StrEnum):
    """What a notification is about; each kind can be muted on its own."""

    EXCHANGES = "exchanges"  # the partner recorded an exchange
    ADVICE = "advice"  # advice requested, given, adopted, declined
    FOLLOW_UPS = "follow_ups"  # a follow-up agreed for the member or their region
    MEASURES = "measures"  # a partner's measure implemented; own measures changed by others
    TWINNINGS = "twinnings"  # twinnings started and completed (programme office)
    SUMMARIES = "summaries"  # the weekly summary of a twinning
    REMINDERS = "reminders"  # due and overdue follow-ups, unanswered advice, stale measures …


class DigestMode(StrEnum):
    OFF = "off"  # every notification as it happens
    DAILY = "daily"  # one summary a day instead
    WEEKLY = "weekly"  # one summary a week (Monday) instead


DEFAULT_DIGEST_TIME = "08:00"


class NotificationSettings(DomainAggregate):
    @staticmethod
    def create_id(member_id: UUID) -> UUID:
        return ids.notification_settings_id(member_id)

    @event("Opened")
    def __init__(self, member_id: UUID) -> None:
        self.member_id = member_id
        self.muted: list[tuple[NotificationKind, UUID | None]] = []
        self.holiday_until: date | None = None
        self.digest = DigestMode.OFF
        self.digest_time = DEFAULT_DIGEST_TIME
        self.timezone: str | None = None  # None: the programme's time zone

    def is_muted(self, kind: NotificationKind, twinning_id: UUID | None) -> bool:
        return (kind, None) in self.muted or (kind, twinning_id) in self.muted

    def mute(self, kind: NotificationKind, twinning_id: UUID | None) -> None:
        if self.is_muted(kind, twinning_id):
            raise RuleViolated("notifications.already_muted", kind=str(kind))
        self._mute(kind=kind, twinning_id=twinning_id)

    @event("KindMuted")
    def _mute(self, kind: NotificationKind, twinning_id: UUID | None) -> None:
        self.muted.append((NotificationKind(kind), twinning_id))

    def unmute(self, kind: NotificationKind, twinning_id: UUID | None) -> None:
        """Unmute one twinning, or (``twinning_id`` None) the kind everywhere."""
        entries = [
            entry
            for entry in self.muted
            if entry[0] == kind and (twinning_id is None or entry[1] == twinning_id)
        ]
        if not entries:
            raise RuleViolated("notifications.not_muted", kind=str(kind))
        for muted_kind, muted_twinning in entries:
            self._unmute(kind=muted_kind, twinning_id=muted_twinning)

    @event("KindUnmuted")
    def _unmute(self, kind: NotificationKind, twinning_id: UUID | None) -> None:
        self.muted.remove((NotificationKind(kind), twinning_id))

    def unmute_all(self) -> None:
        """Everything back on: every mute lifted and the holiday ended."""
        if not self.muted and self.holiday_until is None:
            raise RuleViolated("notifications.nothing_muted")
        if self.holiday_until is not None:
            self._end_holiday()
        for kind, twinning_id in list(self.muted):
            self._unmute(kind=kind, twinning_id=twinning_id)

    def take_holiday(self, until: date, today: date) -> None:
        if until < today:
            raise RuleViolated("notifications.holiday_in_past", until=until.isoformat())
        if until == self.holiday_until:
            raise RuleViolated("notifications.holiday_unchanged", until=until.isoformat())
        self._take_holiday(until=until)

    @event("HolidayTaken")
    def _take_holiday(self, until: date) -> None:
        self.holiday_until = until

    def end_holiday(self) -> None:
        if self.holiday_until is None:
            raise RuleViolated("notifications.no_holiday")
        self._end_holiday()

    @event("HolidayEnded")
    def _end_holiday(self) -> None:
        self.holiday_until = None

    def choose_digest(self, mode: DigestMode) -> None:
        if mode == self.digest:
            raise RuleViolated("notifications.digest_unchanged", mode=str(mode))
        self._choose_digest(mode=mode)

    @event("DigestChosen")
    def _choose_digest(self, mode: DigestMode) -> None:
        self.digest = DigestMode(mode)

    def choose_digest_time(self, at: str, timezone: str | None) -> None:
        if (at, timezone) == (self.digest_time, self.timezone):
            raise RuleViolated("notifications.digest_time_unchanged", at=at)
        self._choose_digest_time(at=at, timezone=timezone)

    @event("DigestTimeChosen")
    def _choose_digest_time(self, at: str, timezone: str | None) -> None:
        self.digest_time = at
        self.timezone = timezone
