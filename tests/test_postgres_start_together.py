"""Bot instances starting at the same moment on a fresh PostgreSQL database all come up:
the tables are created once, by one of them, while the others wait."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from domain.service import RegioTwin
from projections.outbox import open_outbox
from tests.stores import postgres_schema

pytestmark = pytest.mark.postgres

INSTANCES = 6


def test_instances_starting_together_on_a_fresh_database_all_start(tmp_path) -> None:
    with postgres_schema() as env:
        together = threading.Barrier(INSTANCES)

        def start(number: int) -> int:
            together.wait()
            service = RegioTwin.from_env(env)  # events, chain and key tables
            outbox = open_outbox(env, tmp_path / f"instance-{number}")
            try:
                return service.app.recorder.max_notification_id() or 0
            finally:
                outbox.close()
                service.close()

        with ThreadPoolExecutor(INSTANCES) as pool:
            heads = list(pool.map(start, range(INSTANCES)))
    assert heads == [0] * INSTANCES
