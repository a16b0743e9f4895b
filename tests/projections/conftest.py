from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from domain.application import sqlite_env
from domain.clock import ManualClock
from domain.service import RegioTwin
from tests.projections.support import ReadModels


@pytest.fixture
def sqlite_store(tmp_path: Path) -> dict[str, str]:
    """An SQLite event store, for tests of figures that do not depend on the store."""
    return sqlite_env(str(tmp_path / "events.sqlite"))


@pytest.fixture
def regiotwin(sqlite_store: dict[str, str], clock: ManualClock) -> Iterator[RegioTwin]:
    service = RegioTwin.from_env(sqlite_store, clock)
    yield service
    service.close()


@pytest.fixture
def read_models(sqlite_store: dict[str, str], tmp_path: Path) -> Iterator[ReadModels]:
    models = ReadModels(sqlite_store, tmp_path / "read_models.sqlite")
    yield models
    models.close()
