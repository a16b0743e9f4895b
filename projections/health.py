"""How far each read model has followed the log, and whether it is stopped."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from domain.application import RegioTwinApplication
from projections.failures import Failure, failures
from projections.read_model import ReadModelProjection
from projections.registry import READ_MODELS
from projections.store import ReadModelStore


@dataclass(frozen=True)
class ProjectionHealth:
    name: str
    position: int | None
    head: int
    schema_current: bool
    failure: Failure | None

    @property
    def lag(self) -> int:
        return max(0, self.head - (self.position or 0))

    @property
    def state(self) -> str:
        if self.failure is not None:
            return "failed"
        if not self.schema_current:
            return "rebuild pending"
        return "current" if self.lag == 0 else "behind"


def projection_health(
    store: ReadModelStore,
    head: int,
    read_models: Sequence[type[ReadModelProjection]] = READ_MODELS,
) -> list[ProjectionHealth]:
    noted = failures(store)
    report = []
    for projection_class in read_models:
        projection = projection_class.attach(store)
        report.append(
            ProjectionHealth(
                name=projection.name,
                position=projection.view.max_tracking_id(RegioTwinApplication.name),
                head=head,
                schema_current=projection.stored_version() == projection.version(),
                failure=noted.get(projection.name),
            )
        )
    return report
