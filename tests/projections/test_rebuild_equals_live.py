"""A rebuild from zero gives the read models the live catch-up gave, byte for byte."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.application import sqlite_env
from projections.dump import canonical_dump
from projections.host import ProjectionHost
from tests.projections.generated import Operation, apply_operation, operations, world
from tests.projections.histories import demo_like
from tests.projections.support import ReadModels, rebuilt_dump


def test_read_models_followed_live_equal_a_rebuild_from_zero(service, clock, store, tmp_path):
    with ProjectionHost(store, tmp_path / "live.sqlite") as host:
        demo_like(service, clock)
        assert host.wait_until_current(timeout=20)
        live_dump = canonical_dump(tmp_path / "live.sqlite")
    assert live_dump.count("\n") > 300
    assert rebuilt_dump(store, tmp_path / "rebuilt.sqlite") == live_dump
    assert rebuilt_dump(store, tmp_path / "small_batches.sqlite", batch_size=7) == live_dump


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(steps=st.lists(operations(), min_size=5, max_size=40))
def test_any_history_applied_event_by_event_equals_its_rebuild(steps: list[Operation]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        env = sqlite_env(str(Path(folder) / "events.sqlite"))
        service, clock, actors = world(env)
        live = ReadModels(env, Path(folder) / "live.sqlite")
        try:
            for step in steps:
                apply_operation(service, clock, actors, step)
                live.refresh(batch_size=1)  # every event in its own transaction, as live
            live_dump = live.dump()
        finally:
            live.close()
            service.close()
        assert rebuilt_dump(env, Path(folder) / "rebuilt.sqlite") == live_dump
