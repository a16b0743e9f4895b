"""Commands: strict pydantic models, validated before anything reaches an aggregate.

A command that fails validation raises :class:`domain.errors.InvalidCommand`,
naming each field and the rule it broke; nothing is recorded.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Self
from uuid import UUID

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from domain.errors import InvalidCommand
from domain.notification_settings import DigestMode, NotificationKind
from domain.values import (
    LAENDER,
    MEASURE_CODE_PATTERN,
    REGION_KEY_PATTERN,
    SLUG_PATTERN,
    ExchangeKind,
    Language,
    MeasureStatus,
    RegionKind,
    Role,
    Topic,
)

# Bidirectional overrides and isolates can make a text read differently than it is stored.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _printable(text: str) -> str:
    """Refuse control characters other than line breaks and tabs, and bidi overrides."""
    for char in text:
        if char in BIDI_CONTROLS or (
            char not in "\n\t" and unicodedata.category(char) in ("Cc", "Cs")
        ):
            raise ValueError("contains control characters")
    return text


def _text(max_length: int, min_length: int = 1) -> Any:
    return Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length),
        AfterValidator(_printable),
    ]


Name = _text(200)
Title = _text(200)
Summary = _text(4000)
Description = _text(4000, min_length=0)
Note = _text(1000, min_length=0)
Reason = _text(1000)
Question = _text(4000)
RegionKey = Annotated[str, StringConstraints(strip_whitespace=True, pattern=REGION_KEY_PATTERN)]
Slug = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=60, pattern=SLUG_PATTERN),
    # A reference shaped like a key is looked up as a key: such a slug could never be found.
    AfterValidator(
        lambda slug: (
            _fail("looks like an official key") if re.fullmatch(REGION_KEY_PATTERN, slug) else slug
        )
    ),
]
RegionRef = Annotated[
    str,
    StringConstraints(min_length=2, max_length=60),
    BeforeValidator(lambda value: value.strip().lower() if isinstance(value, str) else value),
    AfterValidator(
        lambda ref: (
            ref
            if re.fullmatch(REGION_KEY_PATTERN, ref) or re.fullmatch(SLUG_PATTERN, ref)
            else _fail("not a region key (e.g. 09184) or slug (e.g. lk-muenchen)")
        )
    ),
]
MeasureCode = Annotated[
    str,
    StringConstraints(pattern=MEASURE_CODE_PATTERN),
    BeforeValidator(lambda value: value.strip().upper() if isinstance(value, str) else value),
]
Day = Annotated[date, BeforeValidator(lambda value: _parse_day(value))]
Id = Annotated[UUID, Field(strict=False)]
Percent = Annotated[int, Field(ge=0, le=100)]
Tonnes = Annotated[Decimal, Field(ge=0, le=10_000_000, strict=False, decimal_places=3)]
TargetValue = Annotated[Decimal, Field(ge=-1e12, le=1e12, strict=False, decimal_places=6)]
Year = Annotated[int, Field(ge=1990, le=2100)]
Version = Annotated[int, Field(ge=1)]


def _fail(message: str) -> str:
    raise ValueError(message)


def _parse_day(value: object) -> object:
    from domain.values import parse_date

    return parse_date(value)


def _land(value: str) -> str:
    # A Verband may span several Länder: "Baden-Württemberg/Hessen/Rheinland-Pfalz".
    if not all(part in LAENDER for part in value.split("/")):
        raise ValueError("not a German Land")
    return value


Land = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(_land)]


class Command(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, str_strip_whitespace=True)

    @classmethod
    def parse(cls, **fields: Any) -> Self:
        """Build the command from user input, or raise InvalidCommand naming field and rule."""
        try:
            return cls.model_validate(fields, strict=False)
        except ValidationError as error:
            raise invalid_command(error) from None


def invalid_command(error: ValidationError) -> InvalidCommand:
    return InvalidCommand(
        [
            (".".join(str(part) for part in problem["loc"]) or "*", problem["type"])
            for problem in error.errors()
        ]
    )


class Edit(Command):
    """An edit may carry the version the user saw; a stale one is refused as a conflict."""

    expected_version: Version | None = None


# --- programme, regions, twinnings ------------------------------------------------


class StartProgramme(Command):
    code: Annotated[str, StringConstraints(pattern=r"^[A-Z0-9]{4,20}$")]
    name: Name
    starts_on: Day
    ends_on: Day
    office: Name
    funder: Name


class RegisterRegion(Command):
    key: RegionKey | None
    slug: Slug
    name: Name
    kind: RegionKind
    land: Land

    @model_validator(mode="after")
    def _key_fits_kind(self) -> Self:
        nine_digits = self.key is not None and len(self.key) == 9
        if nine_digits != (self.kind == RegionKind.VERBANDSGEMEINDE) and self.key is not None:
            raise ValueError("a 9-digit key belongs to a Verbandsgemeinde, and only to one")
        if self.kind == RegionKind.VERBAND and self.key is not None:
            raise ValueError("a Verband has no official key")
        return self


class TopicDirection(Command):
    topic: Topic
    teaching_region: RegionRef | None = None  # None: mutual, "auf Augenhöhe"


class FormTwinning(Command):
    programme: str
    first_region: RegionRef
    second_region: RegionRef
    starts_on: Day
    ends_on: Day
    topics: Annotated[list[TopicDirection], Field(max_length=len(Topic))] = []


class AddTopic(Edit):
    twinning_id: Id
    topic: Topic
    teaching_region: RegionRef | None = None


class RemoveTopic(Edit):
    twinning_id: Id
    topic: Topic


class StartTwinning(Edit):
    twinning_id: Id


class CompleteTwinning(Edit):
    twinning_id: Id


class CancelTwinning(Edit):
    twinning_id: Id
    reason: Reason


# --- measures ----------------------------------------------------------------------


class MeasureDraft(Command):
    code: MeasureCode
    title: Title
    topic: Topic
    responsible: Name
    due_on: Day | None = None
    expected_co2_t_per_year: Tonnes | None = None
    description: Description = ""


class ProposeMeasure(MeasureDraft):
    region: RegionRef


class ChangeMeasureStatus(Edit):
    measure_id: Id
    status: MeasureStatus
    note: Note = ""


class ReportProgress(Edit):
    measure_id: Id
    percent: Percent
    note: Note = ""


class ChangeDueDate(Edit):
    measure_id: Id
    due_on: Day | None


class ChangeResponsible(Edit):
    measure_id: Id
    responsible: Name


class EditDescription(Edit):
    measure_id: Id
    description: Description


# --- goals -------------------------------------------------------------------------


class SetGoal(Command):
    region: RegionRef
    topic: Topic
    metric: Name
    target_value: TargetValue
    unit: _text(40)  # type: ignore[valid-type]
    target_year: Year


class ReviseGoal(Edit):
    goal_id: Id
    target_value: TargetValue | None = None
    target_year: Year | None = None
    reason: Reason

    @model_validator(mode="after")
    def _changes_something(self) -> Self:
        if self.target_value is None and self.target_year is None:
            raise ValueError("a revision needs a new value or a new year")
        return self


class MarkGoalAchieved(Edit):
    goal_id: Id
    note: Note = ""


class DropGoal(Edit):
    goal_id: Id
    reason: Reason


# --- exchanges ---------------------------------------------------------------------


class FollowUpDraft(Command):
    text: _text(1000)  # type: ignore[valid-type]
    owner_region: RegionRef | None = None
    owner_member_id: Id | None = None
    due_on: Day

    @model_validator(mode="after")
    def _one_owner(self) -> Self:
        if (self.owner_region is None) == (self.owner_member_id is None):
            raise ValueError("a follow-up has one owner: a region or a member")
        return self


class RecordExchange(Command):
    twinning_id: Id
    kind: ExchangeKind
    held_on: Day
    place: _text(200)  # type: ignore[valid-type]
    participants: Annotated[list[_text(200)], Field(max_length=100)] = []  # type: ignore[valid-type]
    topics: Annotated[list[Topic], Field(max_length=len(Topic))] = []
    summary: Summary
    follow_ups: Annotated[list[FollowUpDraft], Field(max_length=50)] = []


class AgreeFollowUp(FollowUpDraft):
    exchange_id: Id


class CompleteFollowUp(Command):
    exchange_id: Id
    number: Annotated[int, Field(ge=1)]
    note: Note = ""


# --- advice ------------------------------------------------------------------------


class RequestAdvice(Command):
    twinning_id: Id
    topic: Topic
    question: Question
    measure_id: Id | None = None
    from_region: RegionRef | None = None  # default: the acting member's region


class GiveAdvice(Command):
    twinning_id: Id
    topic: Topic
    text: Question
    measure_id: Id | None = None
    request_id: Id | None = None
    from_region: RegionRef | None = None  # default: the acting member's region


class AcknowledgeAdvice(Edit):
    advice_id: Id


class AdoptAdvice(Edit):
    """Adopt advice into an existing measure of the receiving region, or a new one."""

    advice_id: Id
    measure_id: Id | None = None
    new_measure: MeasureDraft | None = None

    @model_validator(mode="after")
    def _one_measure(self) -> Self:
        if (self.measure_id is None) == (self.new_measure is None):
            raise ValueError("adopt into an existing measure or a new one, not both")
        return self


class DeclineAdvice(Edit):
    advice_id: Id
    reason: Reason


# --- members -----------------------------------------------------------------------


class InviteMember(Command):
    region: RegionRef | None  # None: the programme office
    role: Role
    valid_days: Annotated[int, Field(ge=1, le=30)] = 7


class JoinWithInvite(Command):
    code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=16, max_length=64)]
    telegram_user_id: Annotated[int, Field(gt=0, lt=2**53)]
    name: Name


class ChangeRole(Edit):
    member_id: Id
    role: Role


class ChooseLanguage(Command):
    member_id: Id
    language: Language


class RemoveMember(Edit):
    member_id: Id
    reason: Reason


class EnrolAdmin(Command):
    """Bootstrap: make a Telegram account named in the settings an admin (system only)."""

    telegram_user_id: Annotated[int, Field(gt=0, lt=2**53)]
    name: Name


# --- audit -------------------------------------------------------------------------

Sha256 = Annotated[
    str,
    BeforeValidator(lambda value: value.strip().lower() if isinstance(value, str) else value),
    StringConstraints(pattern=r"^[0-9a-f]{64}$"),
]


class RecordCheckpoint(Command):
    """Note the hash chain's head at a log position (system only: ``system:checkpoint``)."""

    position: Annotated[int, Field(ge=1)]
    head_hash: Sha256


class IssueReport(Command):
    """Record that a report was issued: its content's SHA-256 and the log it was built from."""

    programme: str  # code or id
    title: Title
    as_of: Day
    content_sha256: Sha256
    log_position: Annotated[int, Field(ge=0)]
    chain_head: Sha256


# --- notification settings -----------------------------------------------------------


def _time_zone(name: str) -> str:
    from zoneinfo import available_timezones

    if name not in available_timezones():
        raise ValueError("not a time zone such as Europe/Berlin")
    return name


TimeZoneName = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=60), AfterValidator(_time_zone)
]
LocalTime = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
]


class MuteNotifications(Command):
    """Mute a kind of notification, everywhere or for one twinning."""

    member_id: Id
    kind: NotificationKind
    twinning_id: Id | None = None


class UnmuteNotifications(Command):
    """Unmute a kind (everywhere, or one twinning); ``kind`` None: everything, and the
    holiday ends."""

    member_id: Id
    kind: NotificationKind | None = None
    twinning_id: Id | None = None


class TakeHoliday(Command):
    """No notifications at all until the end of ``until``."""

    member_id: Id
    until: Day


class EndHoliday(Command):
    member_id: Id


class ChooseDigest(Command):
    member_id: Id
    mode: DigestMode


class ChooseDigestTime(Command):
    """When digests and summaries arrive: a local time, in the member's time zone."""

    member_id: Id
    at: LocalTime
    timezone: TimeZoneName | None = None


# --- privacy -------------------------------------------------------------------------


class EraseMemberData(Command):
    """Erase a member's personal data (name, Telegram account): admins, or the member.

    The log keeps that it happened, by whom and when, and the reason: say why (e.g.
    "request under GDPR Art. 17"), never name the person.
    """

    member_id: Id
    reason: Reason
