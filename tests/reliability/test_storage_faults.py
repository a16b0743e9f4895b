"""Storage faults under a running bot: the member hears "not saved, try again", nothing is
half-written, and once the fault clears the bot works again without a restart.

Each test runs the whole bot in-process (``bot_stack``: the real dispatcher, the domain
gateway, read models following the log, the outbox and the notifier). Steinfurt's advice
is recorded and the fault strikes at once, so the projections and the notifier meet it
with work in hand; members send commands through the dispatcher; the fault clears. Then:

* the members were told, in their language, that nothing was saved;
* the log holds what it held before the fault: the hash chain verifies, no command is
  half-written (each command's events with its receipt), none of the refused ones is in;
* the next command goes through; the notifier delivers what was waiting; the read models
  catch up and equal a rebuild from zero – no restart.

The faults: SQLite locked by another writer; the disk full (a tiny tmpfs where mounting is
allowed, else skipped with the reason – the file-size limit, ``RLIMIT_FSIZE``, tests a
full disk as SQLite meets it everywhere); the database files read-only (``chattr +i``,
which stops root too, else skipped with the reason); the PostgreSQL server stopped and
started again, and restarted at a random moment while members record. Once per fault in
CI; five times per fault under the same bot with ``REGIOTWIN_LONG_TESTS=1``.
"""

from __future__ import annotations

import asyncio
import logging
import random
import sqlite3
import threading
import time
from collections import Counter
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from eventsourcing import persistence

from domain import ids
from domain.application import postgres_env, sqlite_env
from domain.clock import ManualClock
from domain.commands import GiveAdvice
from domain.errors import StoreUnavailable
from domain.service import store_faults
from tests import builders
from tests.bot.harness import Person, Reply
from tests.reliability import crash_harness as harness
from tests.reliability.bot_stack import BotStack, running_stack
from tests.reliability.crash_harness import LONG
from tests.reliability.faults import (
    DiskFull,
    Fault,
    FileSizeLimit,
    LockedByAnotherWriter,
    ReadOnlyFiles,
    ServerDown,
    require_immutable_files,
    tiny_filesystem,
)
from tests.reliability.integrity import check_log, check_store, equals_rebuild
from tests.reliability.pg_cluster import ThrowawayCluster, throwaway_cluster

ANNA = Person(id=9101, first_name="Anna", language_code="en")
BERND = Person(id=9102, first_name="Bernd", language_code="de")

NOT_SAVED = {
    "en": "Not saved: the data store is not available right now. Please try again in a moment.",
    "de": "Nicht gespeichert: der Datenspeicher ist gerade nicht verfügbar. "
    "Bitte versuchen Sie es gleich noch einmal.",
}


def recorded(text: str) -> bool:
    """``LKM-07: progress of 10 % recorded.`` / ``LKM-07: Fortschritt von 10 % erfasst.``"""
    return text.startswith("LKM-07: ")


HOLD = 1.2
"""Seconds a fault lasts at least: long enough for the notifier (a chat's second message
is due a second after its first) and the projections to meet it too."""


def said(replies: list[Reply]) -> str:
    return "\n".join(reply.text for reply in replies)


def stack_on(env: dict[str, str], data_dir: Path) -> AbstractAsyncContextManager[BotStack]:
    return running_stack(env, data_dir, ManualClock(datetime(2016, 6, 1, 9, tzinfo=UTC)))


def cast(stack: BotStack) -> builders.Pair:
    """München and Steinfurt twinned, measure LKM-07, Anna (English) and Bernd (German)
    of München on Telegram."""
    pair = builders.muenchen_and_steinfurt(stack.service)
    builders.measure(stack.service, pair.muenchen_staff)
    stack.join(ANNA, "09184", "staff")
    stack.join(BERND, "09184", "coordinator")
    return pair


async def progress(stack: BotStack, person: Person, percent: int) -> str:
    command = "/progress" if person.language_code == "en" else "/fortschritt"
    return said(await stack.send(person, f"{command} LKM-07 {percent}"))


CYCLES = harness.scaled(1, 5)
"""Times each fault strikes and clears under the same running bot."""


async def a_fault_is_survived(
    stack: BotStack, fault: Fault, scratch: Path, *, people: tuple[Person, ...] = (ANNA, BERND)
) -> None:
    pair = cast(stack)
    measure_id = ids.measure_id(pair.muenchen_id, "LKM-07")
    assert recorded(await progress(stack, ANNA, 10))
    stopped: set[str] = set()
    notifier_errors = 0
    for cycle in range(CYCLES):
        before = check_log(stack.service.app)
        # Steinfurt advises twice, and the fault strikes at once: the projections and the
        # notifier meet it with this work in hand (Anna and Bernd are to hear of both, the
        # second a second after the first: one message per second and chat).
        advice = {f"advice-{cycle}-1": "cycling", f"advice-{cycle}-2": "e_mobility"}
        for command_id, topic in advice.items():
            stack.service.handle(
                GiveAdvice.parse(
                    twinning_id=pair.twinning_id, topic=topic, text=f"On {topic}, {cycle}."
                ),
                actor=pair.steinfurt_staff,
                command_id=command_id,
            )
        with Background(stack) as background:
            fault.inject()
            try:
                started = time.monotonic()
                told = {
                    person.language_code: await progress(stack, person, 20 + cycle)
                    for person in people
                }
                await asyncio.sleep(max(0.0, HOLD - (time.monotonic() - started)))
            finally:
                fault.clear()
        stopped |= background.stopped
        notifier_errors += background.notifier_errors

        for language, text in told.items():
            assert text == NOT_SAVED[language], f"{fault.name}: {text!r}"
        assert not stack.escaped, stack.escaped
        after = check_store(stack.env)  # chain intact, no command half-written (a fresh
        # reader: the bot's own connections to a restarted server come back in a moment)
        assert after.commands == before.commands | set(advice), "recorded in the fault"

        # The fault is gone: the very next command goes through, no restart.
        assert recorded(await progress(stack, ANNA, 60 + cycle))
        assert recorded(await progress(stack, BERND, 80 + cycle))
        assert stack.service.app.repository.get(measure_id).progress == 80 + cycle
        for person in (ANNA, BERND):
            texts = await stack.wait_notified(person.id, 2 * (cycle + 1))
            assert len(set(texts)) == 2 * (cycle + 1), texts
            assert max(Counter(texts).values()) <= 2, texts  # at most the one in flight again
        await stack.settled()
        check_log(stack.service.app)
        equals_rebuild(stack.env, stack.read_model_path, scratch)
    harness.publish(
        {
            "scenario": "storage fault",
            "fault": fault.name,
            "faults injected": CYCLES,
            "commands told 'not saved'": CYCLES * len(people),
            "projections stopped by it, resumed": sorted(stopped),
            "notifier errors meanwhile": notifier_errors,
            "recovered without a restart": CYCLES,
            "lost": 0,
        }
    )


class Background(logging.Handler):
    """What the bot's background work met while a fault lasted: projections noted as
    stopped, errors of the notifier (from its log)."""

    def __init__(self, stack: BotStack) -> None:
        super().__init__(logging.WARNING)
        self.stack = stack
        self.stopped: set[str] = set()
        self.notifier_errors = 0
        self._task: asyncio.Task[None] | None = None

    def emit(self, record: logging.LogRecord) -> None:
        self.notifier_errors += 1

    async def _watch(self) -> None:
        while True:
            for followed in self.stack.projections._followed:
                if followed.failed_at is not None:
                    self.stopped.add(followed.name)
            await asyncio.sleep(0.01)

    def __enter__(self) -> Background:
        logging.getLogger("regiotwin.notifier").addHandler(self)
        self._task = asyncio.create_task(self._watch())
        return self

    def __exit__(self, *args: object) -> None:
        logging.getLogger("regiotwin.notifier").removeHandler(self)
        assert self._task is not None
        self._task.cancel()


# --- SQLite --------------------------------------------------------------------------------


async def test_sqlite_locked_by_another_writer(tmp_path: Path) -> None:
    env = {**sqlite_env(str(tmp_path / "data" / "events.sqlite")), "SQLITE_LOCK_TIMEOUT": "1"}
    (tmp_path / "data").mkdir()
    async with stack_on(env, tmp_path / "data") as stack:
        fault = LockedByAnotherWriter(tmp_path / "data" / "events.sqlite")
        await a_fault_is_survived(stack, fault, tmp_path / "rebuilt.sqlite")


async def test_disk_full(tmp_path: Path) -> None:
    with tiny_filesystem(tmp_path / "data") as data_dir:
        env = sqlite_env(str(data_dir / "events.sqlite"))
        async with stack_on(env, data_dir) as stack:
            await a_fault_is_survived(stack, DiskFull(data_dir), tmp_path / "rebuilt.sqlite")


async def test_file_size_limit(tmp_path: Path) -> None:
    env = sqlite_env(str(tmp_path / "data" / "events.sqlite"))
    async with stack_on(env, tmp_path / "data") as stack:
        await a_fault_is_survived(stack, FileSizeLimit(), tmp_path / "rebuilt.sqlite")


async def test_read_only_database(tmp_path: Path) -> None:
    require_immutable_files(tmp_path)
    data_dir = tmp_path / "data"
    env = sqlite_env(str(data_dir / "events.sqlite"))
    async with stack_on(env, data_dir) as stack:
        files = [data_dir / name for name in ("events.sqlite", "events.sqlite-wal")]
        try:
            await a_fault_is_survived(stack, ReadOnlyFiles(*files), tmp_path / "rebuilt.sqlite")
        finally:
            ReadOnlyFiles(*files).clear()  # whatever happened: tmp_path must go away


# --- PostgreSQL ------------------------------------------------------------------------------


def cluster_env(url: str) -> dict[str, str]:
    # Give up on a connection after 1 s (the bot's default is 5 s; eventsourcing tries ten
    # times before the member is told).
    return {**postgres_env(url), "POSTGRES_CONNECT_TIMEOUT": "1"}


async def test_postgres_server_down_and_back(tmp_path: Path) -> None:
    with throwaway_cluster() as cluster:
        async with stack_on(cluster_env(cluster.url), tmp_path / "data") as stack:
            await a_fault_is_survived(
                stack, ServerDown(cluster), tmp_path / "rebuilt.sqlite", people=(ANNA,)
            )


def restart_soon(cluster: ThrowawayCluster, mode: str, done: threading.Event) -> None:
    time.sleep(random.uniform(0.05, 0.4))
    cluster.restart(mode)
    done.set()


@pytest.mark.parametrize(
    "mode",
    [
        pytest.param(
            "fast",
            marks=pytest.mark.skipif(not LONG, reason="REGIOTWIN_LONG_TESTS=1: fast stops too"),
        ),
        "immediate",
    ],
)
async def test_postgres_restarted_while_members_record(tmp_path: Path, mode: str) -> None:
    """The server restarts (``immediate``: crashes and recovers) at a random moment while
    two members record progress one command after the other. Every command is either
    confirmed and in the log, or answered "not saved" and not in the log."""
    with throwaway_cluster() as cluster:
        async with stack_on(cluster_env(cluster.url), tmp_path / "data") as stack:
            pair = cast(stack)
            restarted = threading.Event()
            restarter = threading.Thread(target=restart_soon, args=(cluster, mode, restarted))
            restarter.start()
            outcomes: list[tuple[str, bool]] = []
            rounds = 0
            while not restarted.is_set() or rounds < 20:
                person = (ANNA, BERND)[rounds % 2]
                stack.clock.advance(timedelta(seconds=5))  # people take their time
                text = await progress(stack, person, rounds % 101)
                confirmed = recorded(text)
                assert confirmed or text == NOT_SAVED[person.language_code], text
                outcomes.append((stack.last_command_id, confirmed))
                rounds += 1
            restarter.join()
            assert not stack.escaped, stack.escaped
            log = check_log(stack.service.app)
            for command_id, confirmed in outcomes:
                assert (command_id in log.commands) == confirmed, (command_id, confirmed)
            builders.advice(stack.service, pair)
            await stack.settled()
            await stack.wait_notified(ANNA.id, 1)
            equals_rebuild(stack.env, stack.read_model_path, tmp_path / "rebuilt.sqlite")
    harness.publish(
        {
            "scenario": "storage fault",
            "fault": f"PostgreSQL restarted ({mode}) while members record",
            "commands": len(outcomes),
            "confirmed and in the log": sum(confirmed for _, confirmed in outcomes),
            "told 'not saved' and not in the log": sum(not c for _, c in outcomes),
            "recovered without a restart": True,
            "lost": 0,
        }
    )


# --- what counts as the store failing ------------------------------------------------------


@pytest.mark.parametrize(
    "error",
    [
        persistence.OperationalError("database is locked"),
        persistence.OperationalError("database or disk is full"),
        persistence.InterfaceError("connection closed"),
        persistence.DatabaseError("disk I/O error"),
        persistence.ConnectionUnavailableError("couldn't get a connection after 5.00 sec"),
        sqlite3.OperationalError("unable to open database file"),
    ],
)
def test_an_outage_of_the_store_is_told_as_not_saved(error: Exception) -> None:
    with pytest.raises(StoreUnavailable) as told, store_faults():
        raise error
    assert told.value.code == "store.unavailable"
    assert told.value.__cause__ is error  # the log has the store's own words


@pytest.mark.parametrize(
    "error",
    [
        persistence.IntegrityError("UNIQUE constraint failed"),  # a race: decided again
        persistence.ProgrammingError("no such column"),  # a bug: an apology with a reference
        persistence.DataError("invalid input"),
        ValueError("not the store at all"),
    ],
)
def test_a_conflict_or_a_bug_is_no_outage(error: Exception) -> None:
    with pytest.raises(type(error)), store_faults():
        raise error
