"""Replaying the log to a date reproduces what the read models showed on that date.

A simulated year (the demo's twinning year, recorded with the manual clock) is played
while the live read models follow; at the end of several days the live status is
captured. Afterwards the read models replayed as of those days give the same answers,
and as of today the same as live. The live read models are never touched by a replay.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest

from audit.as_of import end_of, position_at_end_of, replayed
from demo.seed import seed_demo
from domain import ids
from domain.clock import ManualClock
from domain.service import RegioTwin
from projections import queries
from projections.dump import canonical_dump
from tests.projections.support import ReadModels

BERLIN = ZoneInfo("Europe/Berlin")
CAPTURE_DAYS = (
    date(2015, 6, 30),
    date(2016, 6, 21),  # the day the twinning starts (and the members join)
    date(2016, 9, 30),
    date(2016, 12, 31),
    date(2017, 3, 16),
    date(2017, 5, 31),
)
MUENCHEN = "09184"
STEINFURT = "05566"


@dataclass
class Status:
    """Everything the bot shows about the programme and the main twinning, as of a day."""

    overview: Any
    regions: tuple[Any, ...]
    twinning: Any
    measures: Any
    timeline: Any


async def status_of(path: Path, day: date, twinning_id: UUID) -> Status:
    async with queries.connect(path) as db:
        regions = [
            await queries.region_status(db, ids.region_id(key, "-"), day)
            for key in (MUENCHEN, STEINFURT)
        ]
        return Status(
            overview=await queries.programme_overview(db, "03KF0003", day),
            regions=tuple(regions),
            twinning=await queries.twinning_status(db, twinning_id, day)
            if await _has_twinning(db, twinning_id)
            else None,
            measures=await queries.measures(db, region=MUENCHEN, per_page=50),
            timeline=await queries.timeline(db, region_id=regions[0].region.region_id, per_page=50),
        )


async def _has_twinning(db: Any, twinning_id: UUID) -> bool:
    async with db.execute(
        "SELECT 1 FROM twinnings WHERE twinning_id = ?", (twinning_id.hex,)
    ) as rows:
        return bool(await rows.fetchall())


def berlin_day(moment: datetime) -> date:
    return moment.astimezone(BERLIN).date()


@dataclass
class Year:
    service: RegioTwin
    clock: ManualClock
    live: ReadModels
    twinning_id: UUID
    captured: dict[date, Status]


MAIN_TWINNING = ids.twinning_id(
    ids.programme_id("03KF0003"),
    ids.region_id(STEINFURT, "kreis-steinfurt"),
    ids.region_id(MUENCHEN, "lk-muenchen"),
)


@pytest.fixture
def year(
    service: RegioTwin, store: dict[str, str], clock: ManualClock, tmp_path: Path
) -> Iterator[Year]:
    """The demo year, with the live status captured at the end of each CAPTURE_DAYS day."""
    live = ReadModels(store, tmp_path / "live_read_models.sqlite")
    captured: dict[date, Status] = {}
    handle: Callable[..., Any] = service.handle

    def handle_and_capture(command: Any, **kwargs: Any) -> Any:
        # The clock stands at the new command: the days before it are over.
        for day in CAPTURE_DAYS:
            if day not in captured and berlin_day(clock.now()) > day:
                live.refresh()
                captured[day] = asyncio.run(status_of(live.path, day, MAIN_TWINNING))
        return handle(command, **kwargs)

    service.handle = handle_and_capture  # type: ignore[method-assign]
    try:
        report = seed_demo(service, clock)
    finally:
        del service.handle
    assert report.main_twinning_id == MAIN_TWINNING
    assert set(captured) == set(CAPTURE_DAYS)
    live.refresh()
    yield Year(service, clock, live, MAIN_TWINNING, captured)
    live.close()


def replayed_status(year: Year, day: date) -> Status:
    with replayed(year.service.app, day=day) as models:
        assert not models.failures
        return asyncio.run(status_of(models.path, day, year.twinning_id))


def test_as_of_a_past_day_equals_what_the_live_read_models_showed_then(year: Year):
    live_before = canonical_dump(year.live.path)
    for day in CAPTURE_DAYS:
        assert replayed_status(year, day) == year.captured[day], day
    # ... and the live read models were never touched by the replays.
    assert canonical_dump(year.live.path) == live_before
    # The days differ from each other: the comparison is not vacuous.
    rates = {year.captured[day].regions[0].rate for day in CAPTURE_DAYS}
    assert len(rates) >= 3
    totals = [year.captured[day].timeline.total for day in CAPTURE_DAYS]
    assert totals == sorted(set(totals))


def test_as_of_today_equals_the_live_status(year: Year):
    today = berlin_day(year.clock.now())
    live = asyncio.run(status_of(year.live.path, today, year.twinning_id))
    assert replayed_status(year, today) == live


def test_the_position_at_the_end_of_a_day_is_the_last_event_recorded_before_midnight(
    service: RegioTwin, clock: ManualClock
):
    seed_demo(service, clock)
    app = service.app
    stamps = [
        (notification.id, app.mapper.to_domain_event(notification).timestamp)
        for notification in app.recorder.select_notifications(1, 10_000)
    ]
    days = sorted({berlin_day(stamp) for _position, stamp in stamps})
    for day in [date(2014, 11, 30), *days, date(2030, 1, 1)]:
        expected = max((position for position, stamp in stamps if stamp < end_of(day)), default=0)
        assert position_at_end_of(app, day) == expected, day


def test_a_day_ends_at_midnight_in_berlin():
    assert end_of(date(2016, 12, 31)) == datetime(2016, 12, 31, 23, 0, tzinfo=UTC)
    assert end_of(date(2016, 6, 30)) == datetime(2016, 6, 30, 22, 0, tzinfo=UTC)
