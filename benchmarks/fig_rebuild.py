"""Figure 3: rebuilding every read model from the whole log.

RegioTwin: what ``python run_bot.py rebuild`` does – reset the read models, then
``catch_up`` (batches of 500 events, one transaction per projection and batch).
Reference: a raw sqlite3 read of the same events in log order with a JSON decode of
each, plus plain batched inserts (1000 rows per transaction, the read-model store's
durability: WAL, ``synchronous=NORMAL``) of exactly the rows the rebuild produced, into
tables of the same schema. The read is measured before and after the rebuild (its mean
counts), the inserts after; the rows are loaded into memory first, untimed.
"""

from __future__ import annotations

import time
from pathlib import Path

from benchmarks import raw
from benchmarks.core import Config, Row, ratio_row
from benchmarks.stores import EVENTS_FILE, Generated, keep_read_models, sqlite_store

LIMIT_SECONDS = 120.0
"""Target at 10⁶ events on these machines: under two minutes."""


def rebuild(env: dict[str, str], path: Path) -> tuple[int, float]:
    """Rebuild every read model into ``path``; (events applied, seconds)."""
    from projections import log as event_log
    from projections.catch_up import catch_up
    from projections.registry import read_models
    from projections.store import ReadModelStore

    log = event_log.open_log(env)
    applied = 0
    try:
        with ReadModelStore(path) as store:
            projections = read_models(store)
            started = time.perf_counter()
            for projection in projections:
                projection.reset()

            def count(read: int, _position: int) -> None:
                nonlocal applied
                applied += read

            failed = catch_up(log, projections, on_progress=count)
            seconds = time.perf_counter() - started
    finally:
        log.close()
    if failed:
        raise RuntimeError(f"the rebuild stopped: {failed[0]}")
    return applied, seconds


def insert_reference(config: Config, built: Path) -> tuple[int, float]:
    """Plain batched inserts of the rebuilt rows into the same tables; (rows, seconds)."""
    target = config.work / f"reference-{time.monotonic_ns()}.sqlite"
    db = raw.connect(target, synchronous="NORMAL")
    rows_inserted, seconds = 0, 0.0
    try:
        for table, ddl, indexes, virtual in raw.read_model_tables(built):
            db.execute(ddl)
            for index in indexes:
                db.execute(index)
            columns, rows = raw.table_rows(built, table, virtual)
            started = time.perf_counter()
            raw.insert_rows(db, table, columns, rows)
            seconds += time.perf_counter() - started
            rows_inserted += len(rows)
            del rows
    finally:
        db.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
    return rows_inserted, seconds


def timed_scan(events_file: Path) -> tuple[int, float]:
    started = time.perf_counter()
    count = raw.scan_decode(events_file)
    return count, time.perf_counter() - started


def run_rebuild(config: Config, store: Generated | None = None) -> list[Row]:
    store = store or sqlite_store(config, config.events)
    assert store.folder is not None
    events_file = store.folder / EVENTS_FILE
    built = config.work / "rebuilt.sqlite"
    config.say(f"figure 3: rebuilding the read models of {store.head:,} events …")
    scanned, scan_before = timed_scan(events_file)
    applied, seconds = rebuild(store.env(), built)
    _, scan_after = timed_scan(events_file)
    rows, insert_seconds = insert_reference(config, built)
    keep_read_models(store, built)
    rate = applied / seconds
    reference_seconds = (scan_before + scan_after) / 2 + insert_seconds
    reference_rate = scanned / reference_seconds
    details = {
        "events": applied,
        "seconds": round(seconds, 1),
        "reference_read_decode_seconds": round((scan_before + scan_after) / 2, 1),
        "reference_insert_seconds": round(insert_seconds, 1),
        "read_model_rows": rows,
    }
    at_scale = applied >= 1_000_000
    return [
        ratio_row(
            "3",
            f"Projection rebuild of {applied:,} events: events/s",
            rate,
            "events/s",
            reference_rate,
            "raw read + JSON decode + batched inserts of the same rows",
            0.3,
            details=details,
        ),
        Row(
            "3b",
            f"  rebuild time ({applied:,} events)",
            seconds,
            "s",
            reference_seconds,
            "the reference's time",
            target=f"< {LIMIT_SECONDS:.0f} s at 10⁶",
            ratio=seconds / reference_seconds,
            met=(seconds < LIMIT_SECONDS) if at_scale else None,
            note="" if at_scale else "target applies at 10⁶ events",
        ),
    ]
