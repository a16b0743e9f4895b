"""What the read-model queries return: small frozen dataclasses, ready to render."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar
from uuid import UUID

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: tuple[T, ...]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


@dataclass(frozen=True)
class RegionRef:
    region_id: UUID
    name: str
    key: str | None
    slug: str | None


@dataclass(frozen=True)
class ImplementationRate:
    """Umsetzungsquote: implemented ÷ (all − discontinued); see projections/README.md."""

    implemented: int
    counted: int
    """All measures except the discontinued ones."""
    progress_points: int
    """Σ progress in percent over counted measures (implemented ones count 100)."""

    @property
    def value(self) -> float | None:
        return self.implemented / self.counted if self.counted else None

    @property
    def weighted(self) -> float | None:
        return self.progress_points / (100 * self.counted) if self.counted else None


NO_MEASURES = ImplementationRate(0, 0, 0)


# --- twinning status -------------------------------------------------------------------


@dataclass(frozen=True)
class TopicDirection:
    topic: str
    teaching_region_id: UUID | None
    """None: mutual ("auf Augenhöhe")."""

    @property
    def mutual(self) -> bool:
        return self.teaching_region_id is None


@dataclass(frozen=True)
class AdviceCounts:
    requested: int
    requests_unanswered: int
    given: int
    acknowledged: int
    """Acknowledged and not yet decided."""
    adopted: int
    declined: int
    open: int
    """Given and not yet decided (acknowledged or not)."""


@dataclass(frozen=True)
class FollowUpItem:
    exchange_id: UUID
    number: int
    text: str
    owner_region_id: UUID | None
    owner_member_id: UUID | None
    due_on: date
    overdue: bool


@dataclass(frozen=True)
class SideActivity:
    region: RegionRef
    last_at: datetime | None
    last_event: str | None
    last_actor: str | None


@dataclass(frozen=True)
class TwinningStatusSummary:
    twinning_id: UUID
    programme_id: UUID
    first: RegionRef
    second: RegionRef
    starts_on: date
    ends_on: date
    status: str
    topics: tuple[TopicDirection, ...]
    learning_region_ids: tuple[UUID, ...]
    """The learning side, or both sides of a mutual pair."""
    exchanges_held: int
    exchanges_planned: int
    last_exchange_on: date | None
    advice: AdviceCounts
    follow_ups_open: int
    follow_ups_overdue: int
    open_follow_ups: tuple[FollowUpItem, ...]
    activity: tuple[SideActivity, SideActivity]

    @property
    def mutual(self) -> bool:
        return len(self.learning_region_ids) != 1


# --- region status ---------------------------------------------------------------------


@dataclass(frozen=True)
class MonthlyRate:
    month: str
    """``2016-07``"""
    as_of: date
    """The month's last day, or today in the current month."""
    rate: ImplementationRate


@dataclass(frozen=True)
class GoalTarget:
    revision: int
    value: Decimal
    year: int
    reason: str | None
    recorded_at: datetime


@dataclass(frozen=True)
class GoalSummary:
    goal_id: UUID
    topic: str
    metric: str
    unit: str
    target_value: Decimal
    target_year: int
    status: str
    revision_count: int
    targets: tuple[GoalTarget, ...]


@dataclass(frozen=True)
class RegionStatusSummary:
    region: RegionRef
    today: date
    measures_by_status: dict[str, int]
    rate: ImplementationRate
    series_start: date | None
    rate_at_start: ImplementationRate | None
    monthly: tuple[MonthlyRate, ...]
    goals: tuple[GoalSummary, ...]


# --- programme overview ----------------------------------------------------------------


@dataclass(frozen=True)
class RegionProgress:
    region: RegionRef
    at_start: ImplementationRate
    now: ImplementationRate

    @property
    def change(self) -> float | None:
        """Change of the rate in rate points; a region without measures at the start had 0."""
        if self.now.value is None:
            return None
        return self.now.value - (self.at_start.value or 0.0)


@dataclass(frozen=True)
class RankedTwinning:
    rank: int
    twinning_id: UUID
    first: RegionRef
    second: RegionRef
    status: str
    starts_on: date
    mutual: bool
    learning: tuple[RegionProgress, ...]
    change: float | None
    """The learning region's change, or the mean of both partners' for a mutual pair."""


@dataclass(frozen=True)
class ProgrammeOverview:
    programme_id: UUID
    code: str
    name: str
    today: date
    twinnings: tuple[RankedTwinning, ...]


# --- catalogue, timelines, audit -------------------------------------------------------


@dataclass(frozen=True)
class MeasureSummary:
    measure_id: UUID
    region: RegionRef
    code: str
    title: str
    topic: str
    responsible: str
    status: str
    progress: int
    due_on: date | None
    expected_co2_t_per_year: Decimal | None
    description: str
    version: int
    changed_at: datetime


@dataclass(frozen=True)
class TimelineEntry:
    position: int
    at: datetime
    actor: str
    actor_name: str | None
    event_type: str
    aggregate_id: UUID
    version: int
    details: dict[str, Any]


@dataclass(frozen=True)
class AuditEntry:
    position: int
    recorded_at: datetime
    actor: str
    aggregate_type: str
    aggregate_id: UUID
    version: int
    event_type: str
    command_id: str


# --- bot: measures/goals (lookups for the bot's status, measure, goal, timeline screens) ---


@dataclass(frozen=True)
class ProgrammeRef:
    programme_id: UUID
    code: str
    name: str


@dataclass(frozen=True)
class TwinningRef:
    """A twinning with its partners' names, to list, choose and resolve twinnings."""

    twinning_id: UUID
    programme_id: UUID
    first: RegionRef
    second: RegionRef
    status: str
    starts_on: date
    ends_on: date

    def includes(self, region_id: UUID | None) -> bool:
        return region_id in (self.first.region_id, self.second.region_id)

    def partner_of(self, region_id: UUID | None) -> RegionRef | None:
        if region_id == self.first.region_id:
            return self.second
        if region_id == self.second.region_id:
            return self.first
        return None


@dataclass(frozen=True)
class AdviceNote:
    """Advice that concerns a measure, with its text (from the timeline's record of it)."""

    advice_id: UUID
    from_region: RegionRef
    topic: str
    text: str
    given_at: datetime
    status: str
    origin: bool
    """True: the measure came from this advice (proposed from it or adopted into it);
    False: advice given on the measure."""


@dataclass(frozen=True)
class MeasureDetail:
    measure: MeasureSummary
    advice: tuple[AdviceNote, ...]


@dataclass(frozen=True)
class RegionGoal:
    region: RegionRef
    goal: GoalSummary

    @property
    def version(self) -> int:
        """The goal aggregate's version: one event per target (Set, each Revised), and one
        more once achieved or dropped. Passed as ``expected_version`` with a revision."""
        return len(self.goal.targets) + (0 if self.goal.status == "active" else 1)


# --- bot: exchanges/advice/members (helper B: twinnings of a region, follow-ups, advice,
# questions, members) ---------------------------------------------------------------------


@dataclass(frozen=True)
class RegionTwinning:
    """A twinning as one of its partners sees it: both regions and each topic's direction."""

    twinning_id: UUID
    first: RegionRef
    second: RegionRef
    status: str
    starts_on: date
    ends_on: date
    topics: tuple[TopicDirection, ...]

    @property
    def regions(self) -> tuple[RegionRef, RegionRef]:
        return (self.first, self.second)

    def includes(self, region_id: UUID | None) -> bool:
        return region_id in (self.first.region_id, self.second.region_id)

    def partner_of(self, region_id: UUID) -> RegionRef:
        return self.second if region_id == self.first.region_id else self.first

    def region(self, region_id: UUID) -> RegionRef:
        return self.first if region_id == self.first.region_id else self.second

    def teacher_of(self, topic: str) -> UUID | None:
        return next(t.teaching_region_id for t in self.topics if t.topic == topic)

    def has_topic(self, topic: str) -> bool:
        return any(t.topic == topic for t in self.topics)


@dataclass(frozen=True)
class ListedFollowUp:
    code: str
    """``3fa2-1``: the shortest unique prefix of the exchange id, and the number."""
    exchange_id: UUID
    number: int
    twinning_id: UUID
    text: str
    owner_region: RegionRef | None
    owner_member_name: str | None
    due_on: date
    done: bool
    overdue: bool
    exchange_kind: str
    exchange_held_on: date


@dataclass(frozen=True)
class FollowUpList:
    page: Page[ListedFollowUp]
    overdue: int
    """Overdue among all open follow-ups listed (every page)."""


@dataclass(frozen=True)
class MeasureRef:
    measure_id: UUID
    code: str
    title: str
    topic: str
    status: str
    version: int


@dataclass(frozen=True)
class AdviceItem:
    advice_id: UUID
    twinning_id: UUID
    from_region: RegionRef
    to_region: RegionRef
    topic: str
    text: str
    measure: MeasureRef | None
    request_id: UUID | None
    question: str | None
    """The question this advice answers, if any."""
    status: str
    adopted_measure: MeasureRef | None
    decline_reason: str | None
    given_at: datetime
    given_by: str | None
    version: int
    """The advice's version, to pass as ``expected_version``."""
    last_event: str | None
    last_actor_name: str | None
    last_at: datetime | None

    @property
    def open(self) -> bool:
        return self.status in ("given", "acknowledged")


@dataclass(frozen=True)
class QuestionItem:
    request_id: UUID
    twinning_id: UUID
    from_region: RegionRef
    to_region: RegionRef
    topic: str
    question: str
    measure: MeasureRef | None
    requested_at: datetime
    asked_by: str | None
    answers: int


@dataclass(frozen=True)
class MemberItem:
    member_id: UUID
    handle: str
    """The shortest unique prefix of the member id, at least 6 hex digits."""
    region_id: UUID | None
    name: str | None
    role: str
    status: str
    """invited, active or removed"""
    invited_at: datetime
    invite_expires_at: datetime
    joined_at: datetime | None
    version: int
