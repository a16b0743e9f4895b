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
