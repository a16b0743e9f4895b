"""A projection that cannot apply an event stops right before it, says so, and resumes."""

from __future__ import annotations

import logging
import time

import pytest

from domain.commands import ChangeMeasureStatus
from projections import log as event_log
from projections import measure_catalogue, region_status
from projections.catch_up import catch_up
from projections.dump import canonical_dump
from projections.health import projection_health
from projections.host import ProjectionHost
from projections.read_model import ProjectionFailed
from projections.store import ReadModelStore
from tests import builders
from tests.projections.support import rebuilt_dump


class Fault:
    """Breaks a helper of a handler while switched on."""

    def __init__(self, original):
        self.original = original
        self.on = True

    def __call__(self, *args, **kwargs):
        if self.on:
            raise RuntimeError("injected fault")
        return self.original(*args, **kwargs)


def plan(service, staff, measure_id):
    service.handle(ChangeMeasureStatus.parse(measure_id=measure_id, status="planned"), actor=staff)
    return service.app.recorder.max_notification_id() - 1  # the status change; then its receipt


def test_a_failure_after_a_first_write_leaves_nothing_of_that_event(
    regiotwin, read_models, sqlite_store, monkeypatch
):
    pair = builders.muenchen_and_steinfurt(regiotwin)
    measure = builders.measure(regiotwin, pair.muenchen_staff)
    read_models.refresh()
    projection = next(p for p in read_models.projections if p.name == "region_status")
    before = projection.position
    failing = plan(regiotwin, pair.muenchen_staff, measure)
    # the handler updates region_measures, then fails while writing the rate history
    monkeypatch.setattr(region_status, "_record_figures", Fault(region_status._record_figures))

    log = read_models.log
    batch = [(e.event, e.tracking) for e in event_log.read(log, before, 100, event_log.head(log))]
    with pytest.raises(ProjectionFailed) as failed:
        projection.process_batch(batch)

    assert failed.value.notification_id == failing
    assert failed.value.event_type == "Measure.StatusChanged"
    assert projection.position == failing - 1 == projection.view.max_tracking_id("RegioTwin")
    rows = read_models.store.read("SELECT status FROM region_measures")
    assert [row[0] for row in rows] == ["proposed"]  # the first write was rolled back
    monkeypatch.undo()
    read_models.refresh()
    assert read_models.dump() == rebuilt_dump(
        sqlite_store, read_models.path.with_name("rebuilt.sqlite")
    )


def test_a_batch_catch_up_stops_right_before_the_failing_event_and_keeps_the_others(
    regiotwin, read_models, monkeypatch
):
    pair = builders.muenchen_and_steinfurt(regiotwin)
    measure = builders.measure(regiotwin, pair.muenchen_staff)
    failing = plan(regiotwin, pair.muenchen_staff, measure)
    builders.measure(regiotwin, pair.muenchen_staff, code="LKM-99")
    monkeypatch.setattr(measure_catalogue, "_change", Fault(measure_catalogue._change))

    failures = catch_up(read_models.log, read_models.projections, batch_size=500)

    assert [(f.projection, f.notification_id) for f in failures] == [("measure_catalogue", failing)]
    head = regiotwin.app.recorder.max_notification_id()
    positions = {p.name: p.position for p in read_models.projections}
    assert positions.pop("measure_catalogue") == failing - 1
    assert set(positions.values()) == {head}


def test_a_failing_projection_stops_at_its_event_is_reported_and_resumes_after_the_fix(
    service, store, tmp_path, monkeypatch, caplog
):
    caplog.set_level(logging.ERROR, logger="regiotwin.projections")
    pair = builders.muenchen_and_steinfurt(service)
    measure = builders.measure(service, pair.muenchen_staff)
    fault = Fault(measure_catalogue._change)
    fault.on = False
    monkeypatch.setattr(measure_catalogue, "_change", fault)
    path = tmp_path / "read_models.sqlite"
    with ProjectionHost(store, path, retry_delays=(0.1,)) as host:
        assert host.wait_until_current(10)
        fault.on = True
        failing = plan(service, pair.muenchen_staff, measure)
        builders.measure(service, pair.muenchen_staff, code="LKM-99")  # the others go on
        assert host.wait_until_current(10)
        head = host.head()

        positions = host.positions()
        assert positions.pop("measure_catalogue") == failing - 1
        assert set(positions.values()) == {head}
        with ReadModelStore(path) as status_store:
            report = {h.name: h for h in projection_health(status_store, head)}
        stopped = report["measure_catalogue"]
        assert stopped.state == "failed"
        assert stopped.failure.notification_id == failing
        assert stopped.failure.event_type == "Measure.StatusChanged"
        assert "injected fault" in stopped.failure.error
        assert report["audit_index"].state == "current"
        assert f"stopped at notification {failing}" in caplog.text

        fault.on = False  # the fix
        deadline = time.monotonic() + 10
        while host.positions()["measure_catalogue"] != head:
            assert time.monotonic() < deadline, "the projection did not resume"
            time.sleep(0.02)
        time.sleep(0.2)  # the host notices it passed the failing event
        with ReadModelStore(path) as status_store:
            report = {h.name: h for h in projection_health(status_store, head)}
        assert report["measure_catalogue"].failure is None
    assert canonical_dump(path) == rebuilt_dump(store, tmp_path / "rebuilt.sqlite")


def test_a_projection_that_could_not_start_is_tried_again_soon(
    service, store, tmp_path, monkeypatch
):
    """Two bot processes starting at once may race to create a tracking table; the loser
    follows the log again after the first retry delay, not after the longest."""
    pair = builders.muenchen_and_steinfurt(service)
    failing_once = {"measure_catalogue"}
    start = ProjectionHost._start_runner

    def start_runner(host, followed):
        if followed.name in failing_once:
            failing_once.discard(followed.name)
            raise RuntimeError("tuple concurrently updated")
        start(host, followed)

    monkeypatch.setattr(ProjectionHost, "_start_runner", start_runner)
    with ProjectionHost(store, tmp_path / "read_models.sqlite", retry_delays=(0.2, 60.0)) as host:
        assert host.wait_until_current(5)  # caught up in one batch before following
        builders.measure(service, pair.muenchen_staff)  # only a follower sees this one
        assert host.wait_until_current(5), host.positions()
    assert not failing_once
