"""The read models RegioTwin keeps, in one place."""

from __future__ import annotations

from projections.audit_index import AuditIndex
from projections.directory import Directory
from projections.measure_catalogue import MeasureCatalogue
from projections.read_model import ReadModelProjection
from projections.region_status import RegionStatus
from projections.store import ReadModelStore
from projections.timelines import Timelines
from projections.twinning_status import TwinningStatus

READ_MODELS: tuple[type[ReadModelProjection], ...] = (
    Directory,
    TwinningStatus,
    RegionStatus,
    MeasureCatalogue,
    Timelines,
    AuditIndex,
)


def read_models(store: ReadModelStore) -> list[ReadModelProjection]:
    """One projection of each read model, attached to the store."""
    return [projection_class.attach(store) for projection_class in READ_MODELS]
