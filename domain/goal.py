from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID, uuid4

from eventsourcing.domain import event

from domain.errors import RuleViolated
from domain.recording import DomainAggregate
from domain.values import GoalStatus, Topic


@dataclass(frozen=True)
class Target:
    value: Decimal
    year: int


class Goal(DomainAggregate):
    """A target of a region's Energievision; revisions are kept, never overwritten."""

    @staticmethod
    def create_id() -> UUID:
        return uuid4()

    @event("Set")
    def __init__(
        self,
        region_id: UUID,
        topic: Topic,
        metric: str,
        target_value: Decimal,
        unit: str,
        target_year: int,
    ) -> None:
        self.region_id = region_id
        self.topic = Topic(topic)
        self.metric = metric
        self.unit = unit
        self.targets = [Target(target_value, target_year)]
        self.status = GoalStatus.ACTIVE

    @property
    def target(self) -> Target:
        return self.targets[-1]

    @property
    def revision_count(self) -> int:
        return len(self.targets) - 1

    def ensure_active(self) -> None:
        if self.status != GoalStatus.ACTIVE:
            raise RuleViolated("goal.closed", status=str(self.status))

    def revise(self, target_value: Decimal | None, target_year: int | None, reason: str) -> None:
        self.ensure_active()
        new = Target(
            self.target.value if target_value is None else target_value,
            self.target.year if target_year is None else target_year,
        )
        if new == self.target:
            raise RuleViolated("goal.revision_unchanged")
        self._revise(target_value=new.value, target_year=new.year, reason=reason)

    @event("Revised")
    def _revise(self, target_value: Decimal, target_year: int, reason: str) -> None:
        self.targets.append(Target(target_value, target_year))

    def achieve(self, note: str) -> None:
        self.ensure_active()
        self._achieve(note=note)

    @event("Achieved")
    def _achieve(self, note: str) -> None:
        self.status = GoalStatus.ACHIEVED

    def drop(self, reason: str) -> None:
        self.ensure_active()
        self._drop(reason=reason)

    @event("Dropped")
    def _drop(self, reason: str) -> None:
        self.status = GoalStatus.DROPPED
