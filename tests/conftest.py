from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rich.console import Console

from domain.clock import ManualClock
from domain.service import RegioTwin
from settings import Settings
from tests.stores import STORES, store_env


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    """The environment of a fresh, empty event store, once per kind of store."""
    with store_env(request.param, tmp_path) as env:
        yield env


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2016, 6, 1, 9, 0, tzinfo=UTC))


@pytest.fixture
def service(store: dict[str, str], clock: ManualClock) -> Iterator[RegioTwin]:
    regiotwin = RegioTwin.from_env(store, clock)
    yield regiotwin
    regiotwin.close()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings of a fresh embedded store (no .env file read)."""
    return Settings(_env_file=None, data_dir=tmp_path / "data")


@pytest.fixture
def console() -> Console:
    """A console that records what the command-line tools print."""
    return Console(record=True, width=240, color_system=None)
