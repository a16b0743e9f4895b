"""Read models of a test's event store, and small helpers to tell scenarios."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from domain.clock import ManualClock
from domain.commands import ChangeMeasureStatus, ReportProgress
from domain.service import RegioTwin
from projections import log as event_log
from projections.catch_up import catch_up
from projections.dump import canonical_dump
from projections.read_model import ReadModelProjection
from projections.registry import read_models
from projections.store import ReadModelStore

LADDER = ("planned", "in_progress", "implemented")


class ReadModels:
    """The read models of one event store, caught up on demand (batch catch-up)."""

    def __init__(self, event_store_env: dict[str, str], path: Path) -> None:
        self.path = path
        self.store = ReadModelStore(path)
        self.projections: list[ReadModelProjection] = read_models(self.store)
        for projection in self.projections:
            projection.ensure_schema()
        self.log = event_log.open_log(event_store_env)

    def refresh(self, batch_size: int = 500) -> None:
        failures = catch_up(self.log, self.projections, batch_size=batch_size)
        assert not failures, failures

    def dump(self) -> str:
        return canonical_dump(self.path)

    def close(self) -> None:
        self.log.close()
        self.store.close()


def rebuilt_dump(event_store_env: dict[str, str], path: Path, batch_size: int = 500) -> str:
    """The canonical dump of read models rebuilt from zero into a fresh file."""
    models = ReadModels(event_store_env, path)
    try:
        for projection in models.projections:
            projection.reset()
        models.refresh(batch_size)
        return models.dump()
    finally:
        models.close()


def move(service: RegioTwin, actor: UUID, measure_id: UUID, to: str, note: str = "") -> None:
    """Walk a measure along proposed → planned → in_progress → implemented up to ``to``;
    ``discontinued`` stops it where it is."""
    if to == "discontinued":
        service.handle(
            ChangeMeasureStatus.parse(measure_id=measure_id, status=to, note=note), actor=actor
        )
        return
    current = str(service.app.repository.get(measure_id).status)
    start = LADDER.index(current) + 1 if current in LADDER else 0
    for status in LADDER[start : LADDER.index(to) + 1]:
        service.handle(ChangeMeasureStatus.parse(measure_id=measure_id, status=status), actor=actor)


def progress(service: RegioTwin, actor: UUID, measure_id: UUID, percent: int) -> None:
    service.handle(ReportProgress.parse(measure_id=measure_id, percent=percent), actor=actor)


def at(clock: ManualClock, *args: Any) -> None:
    """Set the clock to a moment (UTC)."""
    clock.set(datetime(*args, tzinfo=UTC))
