"""The bot killed with SIGKILL at random moments: 20 times per job on SQLite (and 10 more
on PostgreSQL) in CI, 300 times per job and store in the long runs.

After every kill, as the restarted bot finds it:

* the hash chain over the log verifies and no command is half-written (each command's
  events come with its receipt);
* every command acknowledged before the kill is in the log;
* the read models, caught up from where they were killed, equal a rebuild from zero;
* notifications: each one the outbox holds reaches its member at least once, none is
  repeated except the one in flight at a kill (at most one per kill), and the outbox holds
  exactly the notifications a fresh outbox built from the log holds.

The figures of each run (kills, commands, repeats, what was lost) are printed and, with
``REGIOTWIN_RELIABILITY_FIGURES=FILE``, appended to FILE; ``REGIOTWIN_LONG_TESTS=1`` runs
hundreds of kills per job (README, "Reliability").
"""

from __future__ import annotations

import os
import random
import sqlite3
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import asdict
from pathlib import Path

import pytest

from bot.i18n import build_i18n
from bot.notification_texts import render
from domain.clock import SystemClock
from domain.commands import GiveAdvice
from domain.service import RegioTwin
from projections import log as event_log
from projections.outbox import OutboxStore, SQLiteOutboxDatabase, open_outbox
from projections.outbox_projection import OutboxProjection, apply_log
from projections.registry import READ_MODELS
from tests import builders
from tests.projections.support import rebuilt_dump
from tests.reliability import crash_harness as harness
from tests.reliability.integrity import check_store, resumed_dump, resumed_equals_rebuild
from tests.stores import STORES, store_env


@pytest.fixture(scope="module")
def fork_server() -> harness.ForkServerContext:
    """Started (and its imports done) before any kill cycle is timed."""
    context = harness.fork_server()
    warm = context.Process(target=harness.warm_up)
    warm.start()
    warm.join(60)
    return context


def kills_for(env: dict[str, str]) -> int:
    """20 kills per job in CI on SQLite; 10 more on PostgreSQL (its workers start slower);
    300 each with ``REGIOTWIN_LONG_TESTS=1``."""
    return harness.kills(20 if kind_of(env) == "sqlite" else 10, 300)


def kind_of(env: dict[str, str]) -> str:
    return "postgres" if env["PERSISTENCE_MODULE"].endswith("postgres") else "sqlite"


def worker_env(env: dict[str, str]) -> dict[str, str]:
    """Smaller connection pools for the workers: killed ones leave their server processes
    for PostgreSQL to notice, and other tests share the server."""
    if kind_of(env) == "postgres":
        return {**env, "POSTGRES_POOL_SIZE": "2", "POSTGRES_MAX_OVERFLOW": "3"}
    return env


def seeded() -> random.Random:
    seed = int(os.environ.get("REGIOTWIN_CRASH_SEED", time.time_ns() % 10**6))
    print(f"crash seed: {seed} (REGIOTWIN_CRASH_SEED={seed} repeats the run)")
    return random.Random(seed)


def positions(path: Path) -> dict[str, int]:
    """Each read model's position (none before the killed worker created its tables)."""
    if not path.exists():
        return {}
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:  # read-only: a ReadModelStore would take the write lock and slow the worker down
        rows = connection.execute(
            "SELECT projection, notification_id FROM projection_tracking"
        ).fetchall()
    except sqlite3.OperationalError:  # no tables yet
        return {}
    finally:
        connection.close()
    return {row[0]: row[1] for row in rows}


# --- 1. while commands are recorded --------------------------------------------------------


EPOCH = 40
"""Kills per store in the long runs: every kill is checked against a rebuild from zero, so
a fresh store every EPOCH kills keeps the checks from growing with the log."""


def test_killed_while_recording_commands(store, tmp_path: Path, fork_server) -> None:
    rng = seeded()
    figures = harness.Figures("commands recorded", kind_of(store))
    clock = harness.Stopwatch()
    total = kills_for(store)
    with ExitStack() as stores:
        for epoch in range(0, total, EPOCH):
            folder = tmp_path / f"epoch-{epoch}"
            folder.mkdir()
            env = store if epoch == 0 else stores.enter_context(store_env(kind_of(store), folder))
            record_and_kill(env, folder, min(EPOCH, total - epoch), rng, fork_server, figures)
    figures.seconds = clock.seconds()
    figures.publish()
    assert figures.killed_mid_work >= figures.kills // 2  # mostly killed while recording


def record_and_kill(
    store: dict[str, str],
    folder: Path,
    kills: int,
    rng: random.Random,
    fork_server: harness.ForkServerContext,
    figures: harness.Figures,
) -> None:
    service = RegioTwin.from_env(store, SystemClock())
    cast = harness.Cast.on(service)
    service.close()
    acks = folder / "acks.txt"
    read_models = folder / "read_models.sqlite"
    config = {
        "env": worker_env(store),
        "cast": asdict(cast),
        "acks": str(acks),
        "read_models": str(read_models),
        "pause": 0.002,
    }
    window = 0.3 if kind_of(store) == "sqlite" else 0.45  # PostgreSQL workers start slower
    notes = figures.notes
    saved_unacknowledged: set[str] = set()
    for _kill in range(kills):
        before = len(harness.acknowledged(acks))
        harness.run_and_kill(fork_server, harness.record_commands, config, rng.uniform(0, window))
        figures.kills += 1
        # What the restarted bot finds:
        log = check_store(store)  # the chain verifies, no command half-written
        done = harness.acknowledged(acks)
        missing = {f"crash-{number}" for number in done} - log.commands
        assert not missing, f"acknowledged, but not in the log: {sorted(missing)}"
        if len(done) > before:  # it was recording: killed in the middle of a command or so
            figures.killed_mid_work += 1
        in_flight = f"crash-{done[-1] + 1 if done else 0}"
        if in_flight in log.commands:  # saved, killed before the acknowledgement
            saved_unacknowledged.add(in_flight)  # (the next worker sends it again)
        resumed_equals_rebuild(store, read_models, folder / "rebuilt.sqlite")
    figures.work += len(set(harness.acknowledged(acks)))
    unacknowledged = notes.get("saved, not acknowledged", 0) + len(saved_unacknowledged)
    notes["saved, not acknowledged"] = unacknowledged
    replayed = sum(1 for line in acks.read_text().splitlines() if line.endswith("replayed"))
    notes["replayed after a restart"] = notes.get("replayed after a restart", 0) + replayed
    notes["events in the logs"] = notes.get("events in the logs", 0) + log.events


# --- 2. while the read models catch up ---------------------------------------------------------


@pytest.fixture(params=STORES)
def log_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    """The read models are SQLite whatever the store; the log in PostgreSQL only adds its
    reading to the catch-up: with the long runs (``REGIOTWIN_LONG_TESTS=1``)."""
    if request.param == "postgres" and not harness.LONG:
        pytest.skip("the catch-up from PostgreSQL is killed in the long runs")
    with store_env(request.param, tmp_path) as env:
        yield env


def test_killed_while_read_models_catch_up(log_store, tmp_path: Path, fork_server) -> None:
    store = log_store
    rng = seeded()
    service = RegioTwin.from_env(store, SystemClock())
    cast = harness.Cast.on(service, measures=40)  # short histories: quick to load
    for number in range(harness.kills(500, 3000)):
        command, actor = harness.command_number(number, cast)
        service.handle(command, actor=actor, command_id=f"log-{number}")
    service.close()
    head = check_store(store).head
    expected = rebuilt_dump(store, tmp_path / "reference.sqlite")
    work = tmp_path / "read_models.sqlite"
    config = {"env": worker_env(store), "read_models": str(work)}

    def caught_up() -> bool:
        at = positions(work)
        return len(at) == len(READ_MODELS) and min(at.values()) >= head

    # How long a worker takes for the whole catch-up here: kills fall anywhere in it.
    whole = harness.run_until(fork_server, harness.catch_up, config, caught_up)
    assert whole is not None, "the read models did not catch up"
    assert resumed_dump(store, work) == expected
    reset(work)

    figures = harness.Figures("read models catching up", kind_of(store))
    figures.work = head
    clock = harness.Stopwatch()
    rebuilds = 0
    window = whole
    for _kill in range(kills_for(store)):
        # Kill anywhere in what is left to do (a killed worker leaves less for the next);
        # the window adapts, so that most kills fall before the catch-up is through.
        at = positions(work)
        done = min(at.values()) / head if len(at) == len(READ_MODELS) else 0.0
        harness.run_and_kill(
            fork_server, harness.catch_up, config, rng.uniform(0.0, window * (1 - done) + 0.02)
        )
        figures.kills += 1
        if caught_up():
            window *= 0.7
        else:
            figures.killed_mid_work += 1
            window = min(window * 1.1, whole * 2)
        # The restart, in a copy (the next worker goes on from the killed file itself).
        resumed = tmp_path / "resumed.sqlite"
        harness.copy_sqlite(work, resumed)
        assert resumed_dump(store, resumed) == expected
        if caught_up():  # all caught up: start again from zero
            reset(work)
            rebuilds += 1
    check_store(store)
    figures.seconds = clock.seconds()
    figures.notes["full catch-ups"] = rebuilds
    figures.notes["seconds per whole catch-up"] = round(whole, 2)
    figures.publish()
    assert figures.killed_mid_work >= figures.kills // 2


def reset(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


# --- 3. while notifications fan out ------------------------------------------------------------


MEMBERS = 20


def test_killed_while_notifications_fan_out(store, tmp_path: Path, fork_server) -> None:
    with ExitStack() as resources:
        service = RegioTwin.from_env(store, SystemClock())
        resources.callback(service.close)
        outbox = open_outbox(store, tmp_path)
        resources.callback(outbox.close)
        fan_out_is_survived(service, outbox, store, tmp_path, fork_server)


def fan_out_is_survived(
    service: RegioTwin,
    outbox: OutboxStore,
    store: dict[str, str],
    tmp_path: Path,
    fork_server: harness.ForkServerContext,
) -> None:
    rng = seeded()
    pair = builders.muenchen_and_steinfurt(service)
    for index in range(MEMBERS - 1):  # Anna Huber is the first
        builders.member(service, "09184", "staff", f"Kollegin {index}")
    emit_after = event_log.head(service.app)
    outbox.initialise(service.app.name, emit_after)
    figures = harness.Figures("notifications fanning out", kind_of(store))
    clock = harness.Stopwatch()
    in_flight_at_kills: list[int] = []
    claims_seen: set[tuple[int, str]] = set()
    with harness.BotAPIStandIn(tmp_path / "received.jsonl") as api:
        config = {
            "env": worker_env(store),
            "data_dir": str(tmp_path),
            "read_models": str(tmp_path / "read_models.sqlite"),
            "api": api.url,
            "clock_origin": harness.clock_origin().isoformat(),
            "clock_factor": 20.0,
            "stale_after": 2.0,  # clock seconds: 0.1 s
        }
        for kill in range(kills_for(store)):
            service.handle(
                GiveAdvice.parse(
                    twinning_id=pair.twinning_id, topic="cycling", text=f"Advice number {kill}."
                ),
                actor=pair.steinfurt_staff,
            )
            harness.run_and_kill(fork_server, harness.fan_out, config, rng.uniform(0.0, 0.25))
            figures.kills += 1
            # Claims left by the killed worker (older ones are a dead worker's, not yet stale).
            claims = {
                (row["id"], row["claimed_by"]) for row in outbox.notifications(state="sending")
            }
            new = claims - claims_seen
            claims_seen |= claims
            assert len(new) <= 1, new  # one message in flight at a time
            in_flight_at_kills += [notification for notification, _by in new]
            if new or outbox.notifications(state="pending"):
                figures.killed_mid_work += 1
        # The last restart: let it finish the fan-out, then stop it (the hard way too).
        head = event_log.head(service.app)
        drained = harness.run_until(
            fork_server,
            harness.fan_out,
            config,
            lambda: (
                outbox.max_tracking_id(service.app.name) == head
                and all(row["state"] == "sent" for row in outbox.notifications())
            ),
        )
        assert drained is not None, "the outbox did not drain"
        received = api.received()

    rows = outbox.notifications()
    expected = Counter(expected_messages(outbox, rows))
    got = Counter(received)
    lost = expected - got
    assert not lost, f"never delivered: {list(lost)[:3]}"
    unknown = set(got) - set(expected)
    assert not unknown, f"messages no notification explains: {list(unknown)[:3]}"
    # A message is repeated only for a kill that found it in flight, once per such kill.
    repeated = got - expected
    by_id = {row["id"]: row for row in rows}
    in_flight = Counter(
        message
        for notification in in_flight_at_kills
        for message in expected_messages(outbox, [by_id[notification]])
    )
    assert not repeated - in_flight, f"repeated, but not in flight at a kill: {repeated}"
    assert sum(repeated.values()) <= figures.kills
    # The outbox holds what a fresh outbox built from the log holds: nothing lost, no extra.
    assert dedupe_keys(rows) == reference_keys(service, tmp_path / "reference", emit_after)
    check_store(store)

    figures.work = len(rows)
    figures.lost = sum(lost.values())
    figures.repeated = sum(repeated.values())
    figures.seconds = clock.seconds()
    figures.notes["in flight at a kill"] = len(in_flight_at_kills)
    figures.publish()


def expected_messages(outbox: OutboxStore, rows: list[dict]) -> list[tuple[int, str]]:
    i18n = build_i18n()
    with outbox.db.read() as tx:
        languages = {
            row["member_id"]: row["language"]
            for row in tx.all("SELECT member_id, language FROM outbox_members")
        }
    return [
        (int(row["chat_id"]), render(i18n, row["template"], row["payload"], language).text)
        for row in rows
        for language in [languages.get(row["member_id"])]
    ]


def dedupe_keys(rows: list[dict]) -> set[str]:
    return {row["dedupe_key"] for row in rows}


def reference_keys(service: RegioTwin, folder: Path, emit_after: int) -> set[str]:
    folder.mkdir()
    reference = OutboxStore(SQLiteOutboxDatabase(folder / "outbox.sqlite"))
    try:
        reference.initialise(service.app.name, emit_after)
        apply_log(OutboxProjection(reference), service.app)
        return dedupe_keys(reference.notifications())
    finally:
        reference.close()
