"""The bot process killed with SIGKILL at random moments (``crash_harness``).

1. While members record commands and notifications fan out: three members on Telegram
   report progress one command after the other, and before every start the partner's
   advice is waiting to go out to twenty members. The harness goes on killing until at
   least 20 kills (200 in the long runs) found commands in hand *and* at least 20 found
   the fan-out under way. After every kill, as the restarted bot finds it:

   * the hash chain verifies; every command is whole (its events with its receipt) and
     recorded once;
   * every command the bot confirmed to its member is in the log;
   * the read models, caught up from where the killed bot left them, equal a rebuild from
     zero;
   * at most one notification was in flight (claimed, not confirmed).

   At the end a last bot drains what is left; then no notification is lost, none is
   repeated except the one in flight at a kill (at most one per kill), and the outbox
   holds exactly the notifications a fresh outbox built from the log holds.

2. While the read models catch up with a log of 2,000 commands (5,000 in the long runs)
   at the bot's start: killed until 20 kills (100) found the catch-up under way; each time
   the read models as the killed bot left them, caught up, equal a rebuild from zero.

Telegram's rule that an update confirmed by ``getUpdates`` is gone is kept. The bot's
polling (``bot/polling.py``) confirms an update only once it has been handled, so after a
kill Telegram delivers again what the bot had in hand: no command is lost, and none the
killed bot confirmed goes unanswered.

The figures of each run (kills, commands, repeats, what was lost) are printed and, with
``REGIOTWIN_RELIABILITY_FIGURES=FILE``, appended to FILE (README, "Reliability").
"""

from __future__ import annotations

import os
import random
import sqlite3
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from bot.i18n import build_i18n
from bot.notification_texts import render
from domain.commands import (
    EditDescription,
    GiveAdvice,
    InviteMember,
    JoinWithInvite,
    RecordExchange,
    ReportProgress,
)
from domain.service import RegioTwin
from projections import log as event_log
from projections.outbox import OutboxStore, SQLiteOutboxDatabase, open_outbox
from projections.outbox_projection import OutboxProjection, apply_log
from projections.registry import READ_MODELS
from tests import builders
from tests.projections.support import ReadModels, rebuilt_dump
from tests.reliability import crash_harness as harness
from tests.reliability.integrity import check_store, resumed_dump
from tests.stores import STORES, store_env


@pytest.fixture(scope="module")
def fork_server() -> harness.ForkServerContext:
    """Started (and its imports done) before any kill cycle is timed."""
    context = harness.fork_server()
    warm = context.Process(target=harness.warm_up)
    warm.start()
    warm.join(60)
    return context


TARGET = harness.scaled(20, 200)
"""Kills that must find the work under way, per kind of work and store."""
CATCH_UP_TARGET = harness.scaled(20, 100)
LOG = harness.scaled(2000, 5000)
"""Commands in the log the read models catch up with (about 2.2 events each)."""


def kind_of(env: dict[str, str]) -> str:
    return "postgres" if env["PERSISTENCE_MODULE"].endswith("postgres") else "sqlite"


def worker_env(env: dict[str, str]) -> dict[str, str]:
    """Small connection pools for the bots: a killed one leaves its server processes for
    PostgreSQL to notice, and other tests share the server."""
    if kind_of(env) == "postgres":
        return {**env, "POSTGRES_POOL_SIZE": "2", "POSTGRES_MAX_OVERFLOW": "3"}
    return env


def seeded() -> random.Random:
    seed = int(os.environ.get("REGIOTWIN_CRASH_SEED", time.time_ns() % 10**6))
    print(f"crash seed: {seed} (REGIOTWIN_CRASH_SEED={seed} repeats the run)")
    return random.Random(seed)


def positions(path: Path) -> dict[str, int]:
    """Each read model's position (none before the killed bot created its tables)."""
    if not path.exists():
        return {}
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:  # read-only: a ReadModelStore would take the write lock and slow the bot down
        rows = connection.execute(
            "SELECT projection, notification_id FROM projection_tracking"
        ).fetchall()
    except sqlite3.OperationalError:  # no tables yet
        return {}
    finally:
        connection.close()
    return {row[0]: row[1] for row in rows}


def on_telegram(service: RegioTwin, person: harness.Person, region: str, role: str) -> UUID:
    invite = service.handle(InviteMember.parse(region=region, role=role), actor="system:test")
    assert invite.secret is not None
    return service.handle(
        JoinWithInvite.parse(
            code=invite.secret, telegram_user_id=person.id, name=person.first_name
        ),
        actor="system:onboarding",
    ).aggregate_id


# --- 1. while members record commands and notifications fan out --------------------------


PEOPLE = ("Anna", "Bernd", "Clara")
RECIPIENTS = 20
"""München members on Telegram who hear of Steinfurt's advice (the three above among them)."""


def test_bot_killed_while_recording_and_fanning_out(
    store: dict[str, str], tmp_path: Path, fork_server: harness.ForkServerContext
) -> None:
    origin = datetime.now(tz=UTC)
    clock = harness.FastClock(origin, 20.0)  # the bot's clock: recording times keep order
    with ExitStack() as resources:
        service = RegioTwin.from_env(store, clock)
        resources.callback(service.close)
        data_dir = tmp_path / "bot"
        data_dir.mkdir()
        outbox = open_outbox(store, data_dir)
        resources.callback(outbox.close)
        killed_while_working(service, outbox, store, data_dir, tmp_path, fork_server, origin)


def killed_while_working(
    service: RegioTwin,
    outbox: OutboxStore,
    store: dict[str, str],
    data_dir: Path,
    scratch: Path,
    fork_server: harness.ForkServerContext,
    origin: datetime,
) -> None:
    rng = seeded()
    pair = builders.muenchen_and_steinfurt(service)
    codes = ["LKM-10", "LKM-11", "LKM-12"]
    for code in codes:
        builders.measure(service, pair.muenchen_staff, code=code)
    people = [
        harness.Person(id=7_000_001 + index, first_name=name, measures=codes)
        for index, name in enumerate(PEOPLE)
    ]
    for person in people:
        on_telegram(service, person, "09184", "staff")
    for index in range(RECIPIENTS - len(people)):
        builders.member(service, "09184", "staff", f"Kollegin {index}")
    emit_after = event_log.head(service.app)
    outbox.initialise(service.app.name, emit_after)  # the first bot's start
    read_models = data_dir / "read_models.sqlite"
    first = ReadModels(store, read_models)  # as the first bot left them: caught up
    first.refresh()
    first.close()

    figures = harness.Figures("commands and notifications", kind_of(store))
    stopwatch = harness.Stopwatch()
    window = 0.3 if kind_of(store) == "sqlite" else 0.45  # PostgreSQL bots start slower
    mid_commands = mid_fan_out = 0
    in_flight_at_kills: list[int] = []
    claims_seen: set[tuple[int, str]] = set()
    with harness.TelegramStandIn(people) as telegram:
        config = harness.bot_config(worker_env(store), data_dir, telegram.url, origin)
        telegram.start_talking()
        while min(mid_commands, mid_fan_out) < TARGET:
            assert figures.kills < 4 * TARGET, (figures.kills, mid_commands, mid_fan_out)
            service.handle(
                GiveAdvice.parse(
                    twinning_id=pair.twinning_id,
                    topic="cycling",
                    text=f"Advice number {figures.kills}.",
                ),
                actor=pair.steinfurt_staff,
            )
            polls = telegram.polls
            harness.run_and_kill(
                fork_server,
                harness.bot_process,
                config,
                rng.uniform(0.0, window),
                working=lambda polls=polls: telegram.polls > polls,  # polling: all started
            )
            figures.kills += 1
            # What the restarted bot finds.
            in_hand = telegram.in_hand()
            mid_commands += bool(in_hand)
            claims = {
                (row["id"], row["claimed_by"]) for row in outbox.notifications(state="sending")
            }
            new = claims - claims_seen  # (older ones are a dead bot's, not yet stale)
            claims_seen |= claims
            assert len(new) <= 1, new  # one message in flight at a time
            in_flight_at_kills += [notification for notification, _by in new]
            mid_fan_out += bool(new or outbox.notifications(state="pending"))
            log = check_store(store)  # the chain verifies, no command half-written or twice
            confirmed = {harness.command_id(sent.update_id) for sent in telegram.answered()}
            missing = confirmed - log.commands
            assert not missing, f"confirmed to the member, but not in the log: {missing}"
            lost_to_telegram = telegram.after_kill()
            assert not lost_to_telegram, (
                f"confirmed by the killed bot, never answered: {lost_to_telegram}"
            )
            resumed = scratch / "resumed.sqlite"
            harness.copy_sqlite(read_models, resumed)  # (the next bot goes on from the file)
            assert resumed_dump(store, resumed) == rebuilt_dump(store, scratch / "rebuilt.sqlite")

        # The last restart: it answers what is in hand and drains the outbox; then it dies too.
        telegram.stop_talking()
        drained = harness.run_until(
            fork_server,
            harness.bot_process,
            config,
            lambda: (
                telegram.all_answered()
                and outbox.max_tracking_id(service.app.name) == event_log.head(service.app)
                and all(row["state"] == "sent" for row in outbox.notifications())
            ),
        )
        assert drained is not None, (
            "the last bot did not answer everyone and drain the outbox",
            [(person.first_name, person.waiting) for person in people],
            Counter(row["state"] for row in outbox.notifications()),
            (outbox.max_tracking_id(service.app.name), event_log.head(service.app)),
            telegram.received()[-5:],
        )
        received = telegram.received()
        answered = telegram.answered()
        repeated_answers = telegram.repeated_answers
        redelivered = len(telegram.redelivered)

    # Commands: every one confirmed is recorded, once (check_store); nothing else came back.
    log = check_store(store)
    assert {harness.command_id(sent.update_id) for sent in answered} <= log.commands
    notifications = [
        (chat, text) for chat, text in received if not harness.PROGRESS_ANSWER.match(text)
    ]
    # Notifications: none lost; repeated only when in flight at a kill, once per such kill.
    rows = outbox.notifications()
    expected = Counter(expected_messages(outbox, rows))
    got = Counter(notifications)
    lost = expected - got
    assert not lost, f"never delivered: {list(lost)[:3]}"
    unknown = set(got) - set(expected)
    assert not unknown, f"messages no notification or command explains: {list(unknown)[:3]}"
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
    assert dedupe_keys(rows) == reference_keys(service, scratch / "reference", emit_after)
    resumed = scratch / "resumed.sqlite"
    harness.copy_sqlite(read_models, resumed)
    assert resumed_dump(store, resumed) == rebuilt_dump(store, scratch / "rebuilt.sqlite")

    figures.killed_mid_work = mid_commands
    figures.work = len(answered)
    figures.lost = sum(lost.values())
    figures.repeated = sum(repeated.values())
    figures.seconds = stopwatch.seconds()
    figures.notes = {
        "kills with commands in hand": mid_commands,
        "kills with the fan-out under way": mid_fan_out,
        "notifications delivered": len(rows),
        "notification in flight at a kill": len(in_flight_at_kills),
        "updates handed out more than once (in hand at a poll, or after a kill)": redelivered,
        "answers repeated after a kill": repeated_answers,
        "events in the log": log.events,
    }
    figures.publish()


def expected_messages(outbox: OutboxStore, rows: list[dict[str, Any]]) -> list[tuple[int, str]]:
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


def dedupe_keys(rows: list[dict[str, Any]]) -> set[str]:
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


# --- 2. while the read models catch up ---------------------------------------------------------


@pytest.fixture(params=STORES)
def log_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    """The read models are SQLite whatever the store; the log in PostgreSQL only adds its
    reading to the catch-up: with the long runs (``REGIOTWIN_LONG_TESTS=1``)."""
    if request.param == "postgres" and not harness.LONG:
        pytest.skip("the catch-up from PostgreSQL is killed in the long runs")
    with store_env(request.param, tmp_path) as env:
        yield env


def a_long_log(service: RegioTwin, commands: int) -> None:
    """Progress reports on forty measures, advice, exchanges with a follow-up,
    descriptions; saved in batches (the log is the same as one by one)."""
    pair = builders.muenchen_and_steinfurt(service)
    measures = [
        builders.measure(service, pair.muenchen_staff, code=f"LKM-{10 + index}")
        for index in range(40)
    ]
    batch: list[tuple[Any, UUID, str | None]] = []
    for number in range(commands):
        measure = measures[number % len(measures)]
        kind = number % 10
        if kind == 7:
            batch.append(
                (
                    GiveAdvice.parse(
                        twinning_id=pair.twinning_id, topic="cycling", text=f"Advice {number}."
                    ),
                    pair.steinfurt_staff,
                    None,
                )
            )
        elif kind == 8:
            exchange = RecordExchange.parse(
                twinning_id=pair.twinning_id,
                kind="call",
                held_on="14.09.2016",
                place="Video call",
                participants=["Anna Huber", "Jan Brinkmann"],
                topics=["cycling"],
                summary=f"Call number {number}.",
                follow_ups=[
                    {"text": f"Follow-up {number}", "owner_region": "09184", "due_on": "30.09.2016"}
                ],
            )
            batch.append((exchange, pair.muenchen_staff, None))
        elif kind == 9:
            edit = EditDescription.parse(measure_id=measure, description=f"Version {number}.")
            batch.append((edit, pair.muenchen_staff, None))
        else:
            progress = ReportProgress.parse(measure_id=measure, percent=number % 101)
            batch.append((progress, pair.muenchen_staff, None))
        if len(batch) == 200:
            service.handle_batch(batch)
            batch = []
    if batch:
        service.handle_batch(batch)


def test_bot_killed_while_read_models_catch_up(
    log_store: dict[str, str], tmp_path: Path, fork_server: harness.ForkServerContext
) -> None:
    store = log_store
    rng = seeded()
    origin = datetime.now(tz=UTC)
    service = RegioTwin.from_env(store, harness.FastClock(origin, 20.0))
    try:
        a_long_log(service, LOG)
    finally:
        service.close()
    head = check_store(store).head
    expected = rebuilt_dump(store, tmp_path / "reference.sqlite")
    data_dir = tmp_path / "bot"
    data_dir.mkdir()
    work = data_dir / "read_models.sqlite"

    def caught_up() -> bool:
        at = positions(work)
        return len(at) == len(READ_MODELS) and min(at.values()) >= head

    figures = harness.Figures("read models catching up", kind_of(store))
    figures.work = head
    stopwatch = harness.Stopwatch()
    with harness.TelegramStandIn() as telegram:
        config = harness.bot_config(worker_env(store), data_dir, telegram.url, origin)
        # When a bot, from its start, begins the catch-up here and when it is through.
        begins = harness.run_until(
            fork_server, harness.bot_process, config, lambda: any(positions(work).values())
        )
        assert begins is not None, "the read models did not begin to catch up"
        reset(work)
        whole = harness.run_until(fork_server, harness.bot_process, config, caught_up)
        assert whole is not None, "the read models did not catch up"
        assert resumed_dump(store, work) == expected
        reset(work)
        rebuilds = 0
        late = 1.0  # kills land in the catch-up's first ``late`` part (adapts)
        while figures.killed_mid_work < CATCH_UP_TARGET:
            assert figures.kills < 4 * CATCH_UP_TARGET, (figures.kills, figures.killed_mid_work)
            before = positions(work)
            done = min(before.values()) / head if len(before) == len(READ_MODELS) else 0.0
            start = 0.8 * begins  # the bot's own start-up comes first
            delay = rng.uniform(start, start + (whole - begins) * (1 - done) * late)
            harness.run_and_kill(fork_server, harness.bot_process, config, delay)
            figures.kills += 1
            after = positions(work)
            if caught_up():  # too late: kill sooner
                late *= 0.8
            elif after == before:  # too soon: it had not begun
                late = min(late * 1.25, 2.0)
            else:  # killed in the middle of it
                figures.killed_mid_work += 1
            # The restart, in a copy (the next bot goes on from the killed file itself).
            resumed = tmp_path / "resumed.sqlite"
            harness.copy_sqlite(work, resumed)
            assert resumed_dump(store, resumed) == expected
            if caught_up():  # all caught up: start again from zero
                reset(work)
                rebuilds += 1
    check_store(store)
    figures.seconds = stopwatch.seconds()
    figures.notes["events in the log"] = head
    figures.notes["full catch-ups"] = rebuilds
    figures.notes["seconds from a bot's start to the catch-up's begin and end"] = [
        round(begins, 2),
        round(whole, 2),
    ]
    figures.publish()


def reset(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
