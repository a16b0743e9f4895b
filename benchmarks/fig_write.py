"""Figures 1 and 2: the write path, one command per transaction, and the bulk import."""

from __future__ import annotations

import itertools
import shutil
import sqlite3
from pathlib import Path
from typing import Any

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from benchmarks import raw
from benchmarks.core import Config, Row, Stopwatch, ratio_row
from benchmarks.programme import (
    Plan,
    ScriptedClock,
    Shape,
    batches,
    expected_commands,
    open_measures,
)
from benchmarks.stores import EVENTS_FILE, Generated, generate, sqlite_store
from domain.application import AGGREGATE_CACHE_SIZE, sqlite_env
from domain.clock import SystemClock
from domain.commands import (
    ChangeResponsible,
    Command,
    EditDescription,
    ProposeMeasure,
    ReportProgress,
)
from domain.service import Outcome, RegioTwin

ROUND = 50
"""Commands per side and round; the sides take turns, round after round."""


def write_base_events(config: Config) -> int:
    """The programme the write path works in: measures with a typical history (~50 events)."""
    return 2_000 if config.quick else 20_000


def write_commands(config: Config) -> int:
    return 150 if config.quick else 2_000


class CommandMix:
    """What members record in a running programme: progress (6 in 10), descriptions (2),
    a new responsible (1), a new measure (1) – on measures that are in progress."""

    def __init__(self, shape: Shape, plan_regions: list[Any]) -> None:
        self.measures = open_measures(shape, plan_regions)
        self.count = 0

    def next(self) -> tuple[Command, Any]:
        number = self.count
        self.count += 1
        region, _code, measure_id = self.measures[number % len(self.measures)]
        kind = number % 10
        if kind == 9:
            return (
                ProposeMeasure.parse(
                    region=region.key,
                    code=f"W{region.number:03d}-{number // 10 % 9999 + 1}",
                    title=f"Neue Maßnahme {number}",
                    topic="cycling",
                    responsible="Klimaschutzmanagement",
                    description="Aus dem Austausch mit der Partnerregion übernommen.",
                ),
                region.staff,
            )
        if kind in (3, 7):
            return (
                EditDescription.parse(
                    measure_id=measure_id, description=f"Stand {number}: Ausschreibung läuft."
                ),
                region.staff,
            )
        if kind == 5:
            return (
                ChangeResponsible.parse(measure_id=measure_id, responsible=f"Team {number}"),
                region.staff,
            )
        return (
            ReportProgress.parse(measure_id=measure_id, percent=number % 100, note="Wochenbericht"),
            region.staff,
        )


class BareEvent(Aggregate):
    """The bare eventsourcing loop: one aggregate, one event, one save."""

    @event("Noted")
    def note(self, text: str) -> None:
        self.text = text


def _base(config: Config, folder: Path) -> tuple[Shape, Plan]:
    shape = Shape.for_events(write_base_events(config), spare=0)
    service = RegioTwin.from_env(
        sqlite_env(str(folder / EVENTS_FILE)), ScriptedClock(expected_commands(shape))
    )
    try:
        plan = generate(service, shape)
    finally:
        service.close()
    return shape, plan


def run_write_path(config: Config) -> list[Row]:
    """Figure 1: commands/s through RegioTwin.handle, one command per transaction."""
    folder = config.work / "write-path"
    base = folder / "base"
    base.mkdir(parents=True)
    shape, plan = _base(config, base)
    copies = {}
    for name in ("regiotwin", "uncached"):
        (folder / name).mkdir()
        shutil.copyfile(base / EVENTS_FILE, folder / name / EVENTS_FILE)
        copies[name] = folder / name / EVENTS_FILE
    service = RegioTwin(_app(sqlite_env(str(copies["regiotwin"]))), SystemClock())
    uncached_env = sqlite_env(str(copies["uncached"])) | {"AGGREGATE_CACHE_MAXSIZE": "0"}
    uncached = RegioTwin(_app(uncached_env), SystemClock())
    bare = Application[Any](
        env={"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(folder / "bare.db")}
    )
    reference = raw.event_store(folder / "raw.sqlite")
    mix, uncached_mix = CommandMix(shape, plan.regions), CommandMix(shape, plan.regions)
    try:
        # Warm up (not timed), and take the rows of real commands for the reference.
        warm: list[Outcome] = []
        for _ in range(ROUND):
            command, actor = mix.next()
            warm.append(service.handle(command, actor=actor))
            command, actor = uncached_mix.next()
            uncached.handle(command, actor=actor)
        transactions = _transactions_of(copies["regiotwin"], warm)
        row_bytes = sum(len(r[3]) + len(r[2]) + 34 for t in transactions for r in t)
        rows_per_command = sum(len(t) for t in transactions) / len(transactions)
        text = "x" * int(row_bytes / sum(len(t) for t in transactions))
        aggregates = [BareEvent() for _ in range(ROUND)]
        bare.save(*aggregates)

        times = {name: Stopwatch() for name in ("regiotwin", "raw", "bare", "uncached")}
        done = dict.fromkeys(times, 0)

        def regiotwin(_: int) -> None:
            with times["regiotwin"]:
                for _ in range(ROUND):
                    command, actor = mix.next()
                    service.handle(command, actor=actor)
            done["regiotwin"] += ROUND

        def without_cache(_: int) -> None:
            with times["uncached"]:
                for _ in range(ROUND):
                    command, actor = uncached_mix.next()
                    uncached.handle(command, actor=actor)
            done["uncached"] += ROUND

        def appends(number: int) -> None:
            rows = [
                raw.fresh_ids(transactions[(number + i) % len(transactions)]) for i in range(ROUND)
            ]
            with times["raw"]:
                for transaction in rows:
                    raw.append(reference, transaction)
            done["raw"] += ROUND

        def bare_loop(_: int) -> None:
            with times["bare"]:
                for aggregate in aggregates:
                    aggregate.note(text)
                    bare.save(aggregate)
            done["bare"] += ROUND

        rounds = max(1, write_commands(config) // ROUND)
        config.say(f"figure 1: {rounds} rounds of {ROUND} commands per side …")
        for number in range(rounds):
            for step in (regiotwin, appends, bare_loop, without_cache):
                step(number)
        rate = {name: done[name] / times[name].seconds for name in times}
    finally:
        service.close()
        uncached.close()
        bare.close()
        reference.close()
    details = {
        "commands": done["regiotwin"],
        "rows_per_command": round(rows_per_command, 2),
        "avg_row_bytes": round(row_bytes / sum(len(t) for t in transactions)),
        "base_events": plan.head,
        "measures_in_the_mix": len(mix.measures),
        "aggregate_cache_size": AGGREGATE_CACHE_SIZE,
        "synchronous": _synchronous(copies["regiotwin"]),
    }
    return [
        ratio_row(
            "1",
            "Write path: commands/s, SQLite, 1 command per transaction",
            rate["regiotwin"],
            "cmd/s",
            rate["raw"],
            "raw sqlite3 appends of the same rows (WAL, synchronous=FULL)",
            0.4,
            details=details,
        ),
        Row(
            "1b",
            "  bare eventsourcing save loop (1 event per save, no domain)",
            rate["bare"],
            "saves/s",
            rate["raw"],
            "raw appends",
            ratio=rate["bare"] / rate["raw"],
            note="context: what eventsourcing itself costs",
        ),
        Row(
            "1c",
            "  write path without the aggregate cache (AGGREGATE_CACHE_MAXSIZE=0)",
            rate["uncached"],
            "cmd/s",
            rate["raw"],
            "raw appends",
            ratio=rate["uncached"] / rate["raw"],
            note="context: every command replays its aggregates from the store",
        ),
    ]


def _app(env: dict[str, str]) -> Any:
    from domain.application import RegioTwinApplication

    return RegioTwinApplication(env=env)


def _synchronous(path: Path) -> str:
    service = RegioTwin(_app(sqlite_env(str(path))), SystemClock())
    try:
        with service.app.recorder.datastore.transaction(commit=False) as cursor:  # type: ignore[attr-defined]
            cursor.execute("PRAGMA synchronous")
            level = cursor.fetchone()[0]
            cursor.execute("PRAGMA journal_mode")
            mode = cursor.fetchone()[0]
    finally:
        service.close()
    names = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}
    return f"journal_mode={mode}, synchronous={names[level]}"


def _transactions_of(events_file: Path, outcomes: list[Outcome]) -> list[list[raw.Rowtuple]]:
    """The rows each command wrote (its events and its receipt): from the position after
    the previous command's last event to its own last (the first command is left out)."""
    db = sqlite3.connect(f"file:{events_file}?mode=ro", uri=True)
    try:
        out = []
        for previous, outcome in itertools.pairwise(outcomes):
            assert previous.position is not None
            assert outcome.position is not None
            rows = db.execute(
                "SELECT originator_id, originator_version, topic, state FROM stored_events "
                "WHERE rowid > ? AND rowid <= ? ORDER BY rowid",
                (previous.position, outcome.position),
            ).fetchall()
            out.append([(r[0], r[1], r[2], bytes(r[3])) for r in rows])
        return out
    finally:
        db.close()


# --- figure 2 -----------------------------------------------------------------------------


def import_events(config: Config) -> int:
    """10⁵ events at full scale (the store export/verify memory is compared with)."""
    return config.events if config.quick else config.mid_events


def run_import(config: Config, cached_rows_from: Generated | None = None) -> list[Row]:
    """Figure 2: events/s of the batch path, against raw batched inserts (1000 per transaction).

    RegioTwin imports the synthetic programme into a fresh store; between its batches the
    reference inserts as many rows, taken from a cached store of the same programme
    (same sizes), 1000 per transaction.
    """
    events = import_events(config)
    source = cached_rows_from or sqlite_store(config, events)
    assert source.folder is not None
    rows = raw.stored_rows(source.folder / EVENTS_FILE)
    folder = config.work / "import"
    folder.mkdir(parents=True)
    shape = Shape.for_events(events, spare=source.spare)
    service = RegioTwin.from_env(
        sqlite_env(str(folder / EVENTS_FILE)), ScriptedClock(expected_commands(shape))
    )
    reference = raw.event_store(folder / "raw.sqlite")
    imported, inserted = Stopwatch(), Stopwatch()
    plan = Plan(shape)
    steps = batches(shape, plan)
    outcomes: list[Outcome] | None = None
    position = 0
    owed = 0
    config.say(f"figure 2: importing {events:,} events, raw inserts in between …")
    try:
        while True:
            try:
                batch = steps.send(outcomes)  # type: ignore[arg-type]
            except StopIteration:
                break
            before = plan.head
            with imported:
                outcomes = service.handle_batch(batch)
            head = max([o.position for o in outcomes if o.position] or [before])
            owed += head - before
            while owed >= 1000 and position < len(rows):
                chunk = rows[position : position + 1000]
                with inserted:
                    raw.append_many(reference, chunk)
                position += len(chunk)
                owed -= len(chunk)
        if position < len(rows):
            with inserted:
                raw.append_many(reference, rows[position:])
            position = len(rows)
    finally:
        service.close()
        reference.close()
    rate = plan.head / imported.seconds
    reference_rate = position / inserted.seconds
    return [
        ratio_row(
            "2",
            "Bulk import: events/s of the batch path (≈1000 events per transaction)",
            rate,
            "events/s",
            reference_rate,
            "raw sqlite3 batched inserts, 1000 per transaction",
            0.3,
            details={
                "events": plan.head,
                "commands": plan.commands,
                "seconds": round(imported.seconds, 2),
                "reference_rows": position,
                "reference_seconds": round(inserted.seconds, 2),
                "generation_of_cached_store_events_per_s": round(source.rate),
            },
        )
    ]
