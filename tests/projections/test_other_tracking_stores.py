"""The host follows any eventsourcing projection, whatever keeps its position.

A sketch of the coming notification outbox: its position lives in the event store's
own database (PostgreSQL in production), not in the bot's SQLite read models.
"""

from __future__ import annotations

from typing import Any

from eventsourcing.persistence import InfrastructureFactory, Tracking, TrackingRecorder
from eventsourcing.postgres import PostgresTrackingRecorder
from eventsourcing.projection import Projection
from eventsourcing.utils import Environment

from domain.measure import Measure
from projections.host import ProjectionHost
from tests import builders


class OutboxSketch(Projection[TrackingRecorder]):
    name = "outbox_sketch"

    def __init__(self, view: TrackingRecorder) -> None:
        super().__init__(view)
        self.announced: list[str] = []

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        if isinstance(domain_event, Measure.Proposed):
            self.announced.append(domain_event.code)
        self.view.insert_tracking(tracking)


def test_a_projection_tracked_in_the_event_store_is_followed_beside_the_read_models(
    service, store, tmp_path
):
    factory = InfrastructureFactory.construct(Environment(OutboxSketch.name, store))
    outbox = OutboxSketch(factory.tracking_recorder())
    pair = builders.muenchen_and_steinfurt(service)
    with ProjectionHost(store, tmp_path / "read_models.sqlite", followers=[outbox]) as host:
        builders.measure(service, pair.muenchen_staff, code="LKM-42")
        assert host.wait_until_current(10)
        assert host.positions()["outbox_sketch"] == host.head()
    assert outbox.announced == ["LKM-42"]
    if store["PERSISTENCE_MODULE"].endswith("postgres"):
        assert isinstance(outbox.view, PostgresTrackingRecorder)
    factory.close()
