"""Replaying the log to a date: read models as they were at the end of a day.

"As of a day" means every event recorded before midnight at the end of that day in
Europe/Berlin (projections/README.md). The read models are rebuilt from zero into a
temporary folder from the events up to the last position recorded before then; the
live read models are never touched.

Recording times follow log order (each event is stamped when its command is handled,
just before it is stored), so the position is found by bisecting the log: a few reads
however long it is.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from audit.records import decode_state, plain_of
from domain.application import RegioTwinApplication
from projections import log as event_log
from projections.catch_up import catch_up
from projections.read_model import ProjectionFailed
from projections.registry import read_models
from projections.store import ReadModelStore

BERLIN = ZoneInfo("Europe/Berlin")


def end_of(day: date, tz: ZoneInfo = BERLIN) -> datetime:
    """Midnight at the end of a local day, in UTC."""
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=tz).astimezone(UTC)


def recorded_at(log: RegioTwinApplication, position: int) -> tuple[int, datetime] | None:
    """The first event at or after ``position``: its position and recording time."""
    found = log.recorder.select_notifications(start=position, limit=1)
    if not found:
        return None
    stamp = decode_state(found[0].state, plain_of(log))["timestamp"]
    return found[0].id, datetime.fromisoformat(stamp).astimezone(UTC)


def position_at_end_of(log: RegioTwinApplication, day: date, tz: ZoneInfo = BERLIN) -> int:
    """The last position recorded before the end of ``day`` (0: nothing yet)."""
    end = end_of(day, tz)
    low, high = 0, event_log.head(log)
    while low < high:
        middle = (low + high + 1) // 2
        found = recorded_at(log, middle)
        if found is not None and found[1] < end:
            low = found[0]
        else:
            high = middle - 1
    return low


@dataclass(frozen=True)
class ReplayedReadModels:
    day: date | None
    position: int
    """The last log position applied."""
    path: Path
    failures: tuple[ProjectionFailed, ...]


def build_read_models(log: RegioTwinApplication, until: int, path: Path) -> list[ProjectionFailed]:
    """Read models from zero up to position ``until``, into a fresh file at ``path``."""
    with ReadModelStore(path) as store:
        projections = read_models(store)
        for projection in projections:
            projection.reset()
        return catch_up(log, projections, until=until)


def replay(
    log: RegioTwinApplication, *, day: date | None = None, until: int | None = None
) -> ReplayedReadModels:
    """Temporary read models as of the end of ``day`` (or up to position ``until``, or the
    whole log); :func:`discard` them afterwards."""
    if until is None:
        until = position_at_end_of(log, day) if day is not None else event_log.head(log)
    folder = Path(tempfile.mkdtemp(prefix="regiotwin-replay-"))
    path = folder / "read_models.sqlite"
    try:
        failures = build_read_models(log, until, path)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return ReplayedReadModels(day, until, path, tuple(failures))


def discard(replayed_models: ReplayedReadModels) -> None:
    shutil.rmtree(replayed_models.path.parent, ignore_errors=True)


@contextmanager
def replayed(
    log: RegioTwinApplication, *, day: date | None = None, until: int | None = None
) -> Iterator[ReplayedReadModels]:
    """:func:`replay` as a context: the temporary read models go when it ends."""
    models = replay(log, day=day, until=until)
    try:
        yield models
    finally:
        discard(models)
