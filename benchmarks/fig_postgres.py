"""Figure 8: figures 1, 3 and 6 with PostgreSQL as the event store, and two bot instances.

The server is the local one (``scripts/ensure-postgres.sh`` starts it on 127.0.0.1).
Generated stores are cached as databases of their own; the write path and the two
instances work in scratch databases that are dropped afterwards.

* 8 (write path): ``RegioTwin.handle`` one command per transaction, against raw psycopg
  inserting the same rows (one transaction per command) into a table of the schema
  eventsourcing gives its events (bigserial notification id, unique index), interleaved.
* 8 (rebuild): every read model rebuilt from the PostgreSQL log, against a raw psycopg
  read of the same events (pages of 1000) with a JSON decode of each, plus the plain
  batched inserts of the same read-model rows (as in figure 3).
* 8 (start-up): figure 6 with ``REGIOTWIN_DATABASE_URL``.
* 8 (two instances): two bot processes on one store and one outbox, each running its
  members' commands through its own dispatcher; combined commands/s, and every
  notification delivered once.
"""

from __future__ import annotations

import itertools
import json
import select
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks import raw
from benchmarks.botapi import BotAPIStandIn, duplicates, max_in_window
from benchmarks.core import REPO, Config, Row, Stopwatch, ratio_row
from benchmarks.fig_rebuild import insert_reference, rebuild
from benchmarks.fig_startup import measure as measure_startup
from benchmarks.fig_startup import outbox_at_head, rows_for
from benchmarks.fig_write import ROUND, CommandMix, write_base_events, write_commands
from benchmarks.programme import (
    BENCH_STAFF_TELEGRAM_ID,
    TELEGRAM_BASE,
    Plan,
    ScriptedClock,
    Shape,
    expected_commands,
    open_measures,
)
from benchmarks.stores import (
    Generated,
    generate,
    postgres_store,
    scratch_database,
)
from domain.application import RegioTwinApplication, postgres_env
from domain.clock import SystemClock
from domain.service import Outcome, RegioTwin


def run_postgres(config: Config) -> list[Row]:
    if not config.postgres_url:
        raise RuntimeError("no PostgreSQL server (scripts/ensure-postgres.sh failed)")
    rows: list[Row] = []
    failed: list[str] = []
    write = attempt(config, "write path", failed, lambda: write_path(config))
    rows += write
    large = postgres_store(config, config.events)
    small = postgres_store(config, config.small_events)
    rebuilt = config.work / "pg-rebuilt.sqlite"
    rows += attempt(config, "rebuild", failed, lambda: rebuild_figure(config, large, rebuilt))
    if rebuilt.exists():
        rows += attempt(config, "start-up", failed, lambda: startup(config, small, large, rebuilt))
    single = write[0].value if write else None
    rows += attempt(config, "two instances", failed, lambda: two_instances(config, single))
    if failed:
        raise PartlyFailed(rows, failed)
    return rows


class PartlyFailed(RuntimeError):
    """Some parts of the figure ran (``rows``), others did not."""

    def __init__(self, rows: list[Row], failed: list[str]) -> None:
        self.rows = rows
        super().__init__("; ".join(failed))


def attempt(config: Config, part: str, failed: list[str], run: Any, tries: int = 2) -> list[Row]:
    """Run a part of the figure; a shared server may be busy (other clients took its
    connections): try once more after a pause, then note the failure and go on."""
    for number in range(tries):
        try:
            return list(run())
        except Exception as error:
            if number + 1 < tries:
                config.say(f"[yellow]figure 8, {part}: {error}; trying again in 30 s[/yellow]")
                time.sleep(30)
            else:
                failed.append(f"{part}: {type(error).__name__}: {error}")
    return []


def _generate(config: Config, url: str, shape: Shape) -> Plan:
    service = RegioTwin.from_env(
        postgres_env(url, "public"), ScriptedClock(expected_commands(shape))
    )
    try:
        return generate(service, shape)
    finally:
        service.close()


# --- write path ------------------------------------------------------------------------------


def write_path(config: Config) -> list[Row]:
    import psycopg

    assert config.postgres_url is not None
    with scratch_database(config.postgres_url, "write") as url:
        shape = Shape.for_events(write_base_events(config), spare=0)
        plan = _generate(config, url, shape)
        service = RegioTwin(RegioTwinApplication(env=postgres_env(url, "public")), SystemClock())
        table = service.app.recorder.events_table_name  # type: ignore[attr-defined]
        reference = psycopg.connect(url)
        reference.execute(raw.PG_EVENTS_DDL.format(table="raw_events"))
        reference.execute(raw.PG_INDEX_DDL.format(table="raw_events"))
        reference.commit()
        mix = CommandMix(shape, plan.regions)
        try:
            warm: list[Outcome] = []
            for _ in range(ROUND):
                command, actor = mix.next()
                warm.append(service.handle(command, actor=actor))
            transactions = _pg_transactions(url, table, warm)
            times = {"regiotwin": Stopwatch(), "raw": Stopwatch()}
            done = {"regiotwin": 0, "raw": 0}
            rounds = max(1, write_commands(config) // ROUND)
            config.say(f"figure 8: PostgreSQL write path, {rounds} rounds of {ROUND} …")
            for number in range(rounds):
                with times["regiotwin"]:
                    for _ in range(ROUND):
                        command, actor = mix.next()
                        service.handle(command, actor=actor)
                done["regiotwin"] += ROUND
                batch = [
                    raw.fresh_ids(transactions[(number + i) % len(transactions)])
                    for i in range(ROUND)
                ]
                with times["raw"]:
                    for rows in batch:
                        with reference.cursor() as cursor:
                            for originator_id, version, topic, state in rows:
                                cursor.execute(
                                    "INSERT INTO raw_events (originator_id, originator_version,"
                                    " topic, state) VALUES (%s, %s, %s, %s)",
                                    (originator_id, version, topic, state),
                                )
                        reference.commit()
                done["raw"] += ROUND
        finally:
            service.close()
            reference.close()
    rate = {name: done[name] / times[name].seconds for name in times}
    return [
        ratio_row(
            "8",
            "PostgreSQL write path: commands/s, 1 command per transaction",
            rate["regiotwin"],
            "cmd/s",
            rate["raw"],
            "raw psycopg inserts of the same rows, 1 transaction per command",
            0.4,
            details={"commands": done["regiotwin"], "base_events": plan.head},
        )
    ]


def _pg_transactions(url: str, table: str, outcomes: list[Outcome]) -> list[list[raw.Rowtuple]]:
    """The rows each warm-up command wrote (as in figure 1)."""
    import psycopg

    out = []
    with psycopg.connect(url) as db:
        for previous, outcome in itertools.pairwise(outcomes):
            rows = db.execute(
                f"SELECT originator_id, originator_version, topic, state FROM {table} "
                "WHERE notification_id > %s AND notification_id <= %s ORDER BY notification_id",
                (previous.position, outcome.position),
            ).fetchall()
            out.append([(str(r[0]), r[1], r[2], bytes(r[3])) for r in rows])
    return out


# --- rebuild -------------------------------------------------------------------------------------


def scan_decode_pg(url: str, table: str, page: int = 1000) -> int:
    import psycopg

    count, last = 0, 0
    with psycopg.connect(url) as db:
        while True:
            rows = db.execute(
                f"SELECT notification_id, originator_id, originator_version, topic, state "
                f"FROM {table} WHERE notification_id > %s ORDER BY notification_id LIMIT %s",
                (last, page),
            ).fetchall()
            for row in rows:
                json.loads(row[4])
            count += len(rows)
            if len(rows) < page:
                return count
            last = rows[-1][0]


def rebuild_figure(config: Config, store: Generated, built: Path) -> list[Row]:
    assert store.url is not None
    table = "regiotwin_events"
    config.say(f"figure 8: rebuilding the read models from {store.head:,} PostgreSQL events …")
    started = time.perf_counter()
    scanned = scan_decode_pg(store.url, table)
    scans = [time.perf_counter() - started]
    applied, seconds = rebuild(store.env(), built)
    started = time.perf_counter()
    scan_decode_pg(store.url, table)
    scans.append(time.perf_counter() - started)
    _, insert_seconds = insert_reference(config, built)
    reference_seconds = sum(scans) / len(scans) + insert_seconds
    return [
        ratio_row(
            "8",
            f"PostgreSQL: rebuild of {applied:,} events: events/s",
            applied / seconds,
            "events/s",
            scanned / reference_seconds,
            "raw psycopg read + JSON decode + batched inserts of the same rows",
            0.3,
            details={
                "seconds": round(seconds, 1),
                "reference_read_decode_seconds": round(sum(scans) / len(scans), 1),
                "reference_insert_seconds": round(insert_seconds, 1),
            },
        )
    ]


# --- start-up ---------------------------------------------------------------------------------


def startup(config: Config, small: Generated, large: Generated, built: Path) -> list[Row]:
    import shutil

    stores: dict[str, tuple[Path, dict[str, str]]] = {}
    for name, store in (("small", small), ("large", large)):
        folder = config.work / f"pg-start-{name}"
        folder.mkdir()
        if name == "large":
            shutil.copyfile(built, folder / "read_models.sqlite")
        else:
            rebuild(store.env(), folder / "read_models.sqlite")
        outbox_at_head(store.env(), folder, store.head)
        assert store.url is not None
        stores[name] = (folder, {"REGIOTWIN_DATABASE_URL": store.url})
    config.say(
        f"figure 8: starting the bot on PostgreSQL, {small.head:,} and {large.head:,} events …"
    )
    measured = measure_startup(config, stores)
    return rows_for("8", " (PostgreSQL)", measured, small, large)


# --- two instances -----------------------------------------------------------------------------


def instance_base_events(config: Config) -> int:
    return 2_000 if config.quick else 20_000


def two_instances(config: Config, single_rate: float | None) -> list[Row]:
    """Two bot processes on one PostgreSQL store: combined commands/s, no duplicates."""
    from projections.outbox import open_outbox
    from projections.outbox_projection import OutboxProjection, apply_log

    assert config.postgres_url is not None
    with scratch_database(config.postgres_url, "pair") as url:
        shape = Shape.for_events(instance_base_events(config), spare=0)
        plan = _generate(config, url, shape)
        env = postgres_env(url, "public")
        # The shared outbox, caught up with the programme (preparation, not measured).
        outbox = open_outbox(env, config.work)
        log = RegioTwinApplication(env=env)
        try:
            outbox.initialise("RegioTwin", plan.head)
            apply_log(OutboxProjection(outbox), log)
        finally:
            log.close()
        commands = _commands(
            shape,
            plan,
            progress_reports=1 if config.quick else 3,
            per_region=2 if config.quick else 0,
        )
        with BotAPIStandIn() as api:
            results, waited = _run_pair(config, env, api, commands, outbox)
            recorded = api.snapshot()
        sent = len(outbox.notifications(state="sent"))
        total = len(outbox.notifications())
        outbox.close()
    started = min(r["started"] for r in results)
    finished = max(r["finished"] for r in results)
    count = sum(r["commands"] for r in results)
    rate = count / (finished - started)
    doubled = duplicates(recorded.deliveries)
    delivered = len(recorded.deliveries)
    return [
        Row(
            "8",
            "Two bot instances, one PostgreSQL store: combined commands/s",
            rate,
            "cmd/s",
            single_rate,
            "one writer, service layer only (8, write path)",
            ratio=rate / single_rate if single_rate else None,
            details={"commands": count, "per_instance": [r["commands"] for r in results]},
            note="/progress and /setstatus through each instance's dispatcher",
        ),
        Row(
            "8",
            f"  duplicated notifications ({delivered:,} delivered of {total:,})",
            float(doubled),
            "count",
            0.0,
            "",
            target="= 0",
            met=doubled == 0 and delivered == total == sent,
            details={
                "outbox_sent": sent,
                "outbox_total": total,
                "delivered": delivered,
                "waited_seconds": round(waited, 1),
                "most_in_one_second": max_in_window([d.at for d in recorded.deliveries]),
            },
            note="" if delivered == total else f"{total - delivered} not delivered in time",
        ),
    ]


def _commands(
    shape: Shape, plan: Plan, progress_reports: int, per_region: int = 0
) -> list[list[tuple[int, str]]]:
    """Per instance: its regions' staff report progress on their open measures and finish
    them (regions alternate between the instances); ``per_region`` > 0: only so many."""
    per_instance: list[list[tuple[int, str]]] = [[], []]
    taken: dict[int, int] = {}
    for region, code, _measure_id in open_measures(shape, plan.regions):
        taken[region.number] = taken.get(region.number, 0) + 1
        if per_region and taken[region.number] > per_region:
            continue
        person = (
            BENCH_STAFF_TELEGRAM_ID if region.number == 0 else TELEGRAM_BASE + 2 * region.number
        )
        texts = [f"/progress {code} {90 + n}" for n in range(progress_reports)]
        texts.append(f"/setstatus {code} implemented")
        per_instance[region.number % 2].extend((person, text) for text in texts)
    return per_instance


def _run_pair(
    config: Config,
    env: dict[str, str],
    api: BotAPIStandIn,
    commands: list[list[tuple[int, str]]],
    outbox: Any,
) -> tuple[list[dict[str, Any]], float]:
    processes = []
    logs = []
    # With eventsourcing's default pools (5 + 10 overflow for the service, 1 + 2 for each of
    # the eight followers, one more each for LISTEN) two instances and the tools went past
    # PostgreSQL's default max_connections=100 ("too many clients"): one plus one each.
    env = {**env, "POSTGRES_POOL_SIZE": "1", "POSTGRES_MAX_OVERFLOW": "1"}
    for number, own in enumerate(commands):
        folder = Path(tempfile.mkdtemp(prefix=f"instance-{number}-", dir=config.work))
        instance_config = {
            "env": env,
            "data_dir": str(folder),
            "api": api.url,
            "token": "4242:BENCH-pair",
            "name": f"instance-{number}",
            "first_update_id": 1 + number * 10_000_000,
            "commands": own,
            "expect": {"/progress": "recorded", "/setstatus": "is now implemented"},
        }
        log = (folder / "instance.log").open("w")
        logs.append(log)
        processes.append(
            subprocess.Popen(
                [sys.executable, "-m", "benchmarks.instance", json.dumps(instance_config)],
                cwd=REPO,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
            )
        )
    try:
        for process in processes:
            _expect(process, "READY", 600)
        for process in processes:
            assert process.stdin is not None
            process.stdin.write("GO\n")
            process.stdin.flush()
        results = []
        for process in processes:
            _expect(process, "RESULT", 600)
            assert process.stdout is not None
            results.append(json.loads(process.stdout.readline()))
        # Let the notifications go out (both senders), then stop.
        started = time.monotonic()
        limit = 30 if config.quick else 240
        while time.monotonic() - started < limit:
            waiting = outbox.stats("RegioTwin")
            if waiting.count("pending") + waiting.count("sending") == 0:
                break
            time.sleep(0.5)
        waited = time.monotonic() - started
        for process in processes:
            assert process.stdin is not None
            process.stdin.write("STOP\n")
            process.stdin.flush()
        for process in processes:
            process.wait(60)
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait(10)
        for log in logs:
            log.close()
    return results, waited


def _log_tail(process: subprocess.Popen[str]) -> str:
    """The last line of an instance's log (its traceback's error)."""
    config = json.loads(process.args[-1])  # type: ignore[index]
    lines = (Path(config["data_dir"]) / "instance.log").read_text().strip().splitlines()
    return lines[-1] if lines else "(no log)"


def _expect(process: subprocess.Popen[str], line: str, timeout: float) -> None:
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    while (remaining := deadline - time.monotonic()) > 0:
        ready, _, _ = select.select([process.stdout], [], [], remaining)
        if not ready:
            break
        got = process.stdout.readline()
        if not got:
            code = process.wait(10)
            raise RuntimeError(
                f"an instance ended before {line} (exit {code}): {_log_tail(process)}"
            )
        if got.strip() == line:
            return
    raise RuntimeError(f"an instance did not say {line} within {timeout:.0f} s")
