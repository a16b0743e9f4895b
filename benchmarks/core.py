"""What every figure shares: the run's settings, result rows, timing and memory helpers."""

from __future__ import annotations

import hashlib
import math
import os
import statistics
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console

REPO = Path(__file__).resolve().parent.parent
CACHE = REPO / "benchmarks" / ".cache"
FULL_EVENTS = 1_000_000
QUICK_EVENTS = 4_000


@dataclass
class Row:
    """One line of the table: a figure, RegioTwin's value beside its reference."""

    figure: str
    name: str
    value: float | None
    unit: str
    reference: float | None = None
    reference_name: str = ""
    target: str = ""
    ratio: float | None = None
    """value ÷ reference (or as the target defines it); None where there is no reference."""
    met: bool | None = None
    """None: informational, no target."""
    note: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Config:
    """The run: how big, where things go, what to print to."""

    quick: bool
    events: int
    console: Console
    work: Path
    """A scratch folder for this run (working copies of cached stores)."""
    postgres_url: str | None = None
    cache: Path = CACHE
    sample_count: int | None = None
    cleanups: list[Callable[[], None]] = field(default_factory=list)
    """Run at the end of the run (scratch databases of quick runs)."""

    @property
    def mid_events(self) -> int:
        """The smaller log that export/verify memory is compared with (10⁵ at full)."""
        return max(1_000, self.events // 10)

    @property
    def small_events(self) -> int:
        """The short history that bot latency and start-up are compared with (10³)."""
        return 1_000 if not self.quick else 600

    @property
    def samples(self) -> int:
        """Samples per bot command and per store (figure 4)."""
        if self.sample_count is not None:
            return self.sample_count
        return 200 if not self.quick else 25

    def say(self, text: str) -> None:
        self.console.print(f"[dim]{time.strftime('%H:%M:%S')}[/dim] {text}", highlight=False)


def ratio_row(
    figure: str,
    name: str,
    value: float,
    unit: str,
    reference: float,
    reference_name: str,
    minimum: float,
    **extra: Any,
) -> Row:
    """A throughput figure whose target is ``value ≥ minimum × reference``."""
    ratio = value / reference if reference else math.nan
    return Row(
        figure,
        name,
        value,
        unit,
        reference,
        reference_name,
        target=f"≥ {minimum:g}× ref",
        ratio=ratio,
        met=bool(ratio >= minimum),
        **extra,
    )


# --- timing --------------------------------------------------------------------------


class Stopwatch:
    """Adds up the time spent inside ``with stopwatch:`` blocks."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.laps = 0

    def __enter__(self) -> Stopwatch:
        self._started = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds += time.perf_counter() - self._started
        self.laps += 1


def percentile(values: Iterable[float], p: float) -> float:
    """The p-th percentile (nearest rank, as latency reports count it)."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def median(values: Iterable[float]) -> float:
    return statistics.median(list(values))


def interleave(rounds: int, *steps: Callable[[int], None]) -> None:
    """Run each step once per round, in turn, so that they share the machine's noise."""
    for number in range(rounds):
        for step in steps:
            step(number)


# --- memory --------------------------------------------------------------------------


def rss_mb(pid: int | None = None) -> float:
    """Resident memory of a process now, in MB (Linux /proc)."""
    path = Path(f"/proc/{pid or os.getpid()}/status")
    for line in path.read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return math.nan


def peak_rss_mb(pid: int | None = None) -> float:
    """The highest resident memory this process had, in MB (``VmHWM``: unlike
    ``ru_maxrss``, which a child inherits from its parent across fork, it starts afresh
    with each program)."""
    path = Path(f"/proc/{pid or os.getpid()}/status")
    for line in path.read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return math.nan


# --- what the cached stores depend on ---------------------------------------------------


def code_version(*folders: str, extra: Iterable[Path] = ()) -> str:
    """A hash of the source that decides what a generated store contains."""
    digest = hashlib.sha256()
    files = sorted(
        path for folder in folders for path in (REPO / folder).rglob("*.py") if path.is_file()
    )
    for path in [*files, *extra]:
        digest.update(str(path.relative_to(REPO)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


@contextmanager
def elapsed(config: Config, what: str) -> Iterator[None]:
    started = time.perf_counter()
    config.say(f"{what} …")
    yield
    config.say(f"{what}: {time.perf_counter() - started:.1f} s")
