from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from domain.clock import ManualClock
from domain.service import RegioTwin
from projections.outbox import open_outbox
from projections.outbox_projection import OutboxProjection
from tests.notifications.support import Outbox


@pytest.fixture
def outbox(
    service: RegioTwin, store: dict[str, str], clock: ManualClock, tmp_path: Path
) -> Iterator[Outbox]:
    """An outbox beside the test's event store (SQLite file, or the PostgreSQL schema)."""
    outbox_store = open_outbox(store, tmp_path)
    outbox_store.initialise("RegioTwin", 0)
    yield Outbox(service, outbox_store, OutboxProjection(outbox_store), clock)
    outbox_store.close()
