from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from demo.seed import SeedReport, seed_demo
from domain.application import sqlite_env
from domain.clock import ManualClock
from domain.service import RegioTwin
from tests.projections.support import ReadModels


@dataclass
class Demo:
    """The demo's twinning year on SQLite, with its read models caught up."""

    service: RegioTwin
    clock: ManualClock
    report: SeedReport
    read_models: ReadModels


@pytest.fixture
def demo_year(tmp_path: Path, clock: ManualClock) -> Iterator[Demo]:
    env = sqlite_env(str(tmp_path / "events.sqlite"))
    service = RegioTwin.from_env(env, clock)
    report = seed_demo(service, clock)
    models = ReadModels(env, tmp_path / "read_models.sqlite")
    models.refresh()
    yield Demo(service, clock, report, models)
    models.close()
    service.close()
