"""Loads the aggregates a command touches and collects them for one atomic save."""

from __future__ import annotations

from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from domain.application import RegioTwinApplication
from domain.errors import Conflict, NotFound
from domain.recording import DomainAggregate

A = TypeVar("A", bound=DomainAggregate)

NOT_FOUND_CODES = {
    "Programme": "programme.not_found",
    "Region": "region.not_found",
    "Twinning": "twinning.not_found",
    "Measure": "measure.not_found",
    "Goal": "goal.not_found",
    "Exchange": "exchange.not_found",
    "AdviceRequest": "advice_request.not_found",
    "Advice": "advice.not_found",
    "Member": "member.not_found",
}


class UnitOfWork:
    def __init__(self, app: RegioTwinApplication) -> None:
        self.app = app
        self._touched: dict[UUID, DomainAggregate] = {}

    def find(self, cls: type[A], aggregate_id: UUID) -> A | None:
        if aggregate_id in self._touched:
            found = self._touched[aggregate_id]
        else:
            try:
                found = self.app.repository.get(aggregate_id)
            except AggregateNotFoundError:
                return None
        if not isinstance(found, cls):
            return None
        self._touched[aggregate_id] = found
        return found

    def get(self, cls: type[A], aggregate_id: UUID, expected_version: int | None = None) -> A:
        found = self.find(cls, aggregate_id)
        if found is None:
            raise NotFound(
                NOT_FOUND_CODES.get(cls.__name__, "item.not_found"), id=str(aggregate_id)
            )
        if expected_version is not None and found.version != expected_version:
            raise Conflict(
                expected_version, found.version, self.changes_since(found, expected_version)
            )
        return found

    def exists(self, aggregate_id: UUID) -> bool:
        if aggregate_id in self._touched:
            return True
        return bool(list(self.app.recorder.select_events(aggregate_id, desc=True, limit=1)))

    def add(self, aggregate: A) -> A:
        self._touched[aggregate.id] = aggregate
        return aggregate

    def changes_since(self, aggregate: DomainAggregate, version: int) -> list[dict[str, str]]:
        """What happened to an aggregate after the version a user saw."""
        changes: list[dict[str, str]] = []
        for stored in self.app.events.get(aggregate.id, gt=version):
            changes.append(describe(stored))
        return changes

    def pending(self) -> list[DomainAggregate]:
        return [agg for agg in self._touched.values() if agg.pending_events]


def describe(stored: Any) -> dict[str, str]:
    return {
        "event": type(stored).__qualname__,
        "version": str(stored.originator_version),
        "actor": stored.actor,
        "recorded_at": stored.timestamp.isoformat(),
    }
