"""Inside the bot process the read models follow the log within 100 ms."""

from __future__ import annotations

import statistics
import time

from projections.host import ProjectionHost
from tests import builders


def test_a_new_event_reaches_every_read_model_within_100_ms(service, store, tmp_path):
    pair = builders.muenchen_and_steinfurt(service)
    with ProjectionHost(store, tmp_path / "read_models.sqlite") as host:
        assert host.wait_until_current(10)
        delays = []
        for n in range(5):
            builders.measure(service, pair.muenchen_staff, code=f"LKM-{n + 1}")
            recorded = time.perf_counter()
            assert host.wait_until_current(2, poll=0.001)
            delays.append(time.perf_counter() - recorded)
    assert statistics.median(delays) < 0.1, delays
