"""Events carry a class version; an old version is read back in the new shape (upcast).

Shown on a test-local aggregate so the domain's events stay as they are: when a domain
event changes shape, its class gets ``class_version = 2`` and ``upcast_v1_v2`` the same way.
"""

from __future__ import annotations

import json

from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import StoredEvent

from domain.application import RegioTwinApplication
from projections import log as event_log


class Sensor(Aggregate):
    class Registered(Aggregate.Created):
        """Version 1 had no unit; every sensor then measured tonnes of CO₂ per year."""

        class_version = 2
        name: str
        unit: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, object]) -> None:
            state["unit"] = "t CO2/a"

    @event(Registered)
    def __init__(self, name: str, unit: str) -> None:
        self.name = name
        self.unit = unit


def as_written_by_version_1(app: RegioTwinApplication, sensor: Sensor) -> StoredEvent:
    stored = app.mapper.to_stored_event(sensor.collect_events()[0])
    state = json.loads(stored.state)
    del state["unit"], state["class_version"]
    return StoredEvent(
        originator_id=stored.originator_id,
        originator_version=stored.originator_version,
        topic=stored.topic,
        state=json.dumps(state).encode(),
    )


def test_new_events_are_stored_with_their_class_version(sqlite_store):
    app = RegioTwinApplication(env=sqlite_store)
    stored = app.mapper.to_stored_event(Sensor(name="Heizwerk", unit="MWh").collect_events()[0])
    assert json.loads(stored.state)["class_version"] == 2
    app.close()


def test_an_event_of_version_1_is_read_back_in_the_shape_of_version_2(sqlite_store):
    app = RegioTwinApplication(env=sqlite_store)
    old = as_written_by_version_1(app, Sensor(name="Radzählstelle Garching", unit="ignored"))
    app.recorder.insert_events([old])

    sensor = app.repository.get(old.originator_id)
    assert (sensor.name, sensor.unit) == ("Radzählstelle Garching", "t CO2/a")

    log = event_log.open_log(sqlite_store)  # what the projections read
    (entry,) = event_log.read(log, None, 10, event_log.head(log))
    assert isinstance(entry.event, Sensor.Registered)
    assert entry.event.unit == "t CO2/a"
    log.close()
    app.close()
