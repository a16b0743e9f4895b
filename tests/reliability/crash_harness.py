"""Killing the bot with SIGKILL at random moments, and checking what survived.

A *worker* is a bot process cut down to one job; the harness starts it, lets it work for a
random time and kills it with SIGKILL, again and again, checking the stores after every
kill. Workers are forked from a preloaded fork server (``multiprocessing``'s
``forkserver``: aiogram, eventsourcing and the domain imported once), so a kill cycle
takes a fraction of a second instead of the seconds a fresh interpreter needs.

Three jobs, as the bot does them:

* :func:`record_commands` – commands handled by the domain service one after the other
  (the bot's gateway), read models following the log meanwhile. After each successful
  ``handle`` the worker appends an acknowledgement line: acknowledged means recorded. A
  restarted worker sends the command it was on again, with the same command id.
* :func:`catch_up` – the read models catching up with a long log at the bot's start
  (``ProjectionHost``: batches, then following).
* :func:`fan_out` – the outbox projection and the notifier sending to a stand-in Bot API
  that logs every message it receives (:class:`BotAPIStandIn`).

``REGIOTWIN_LONG_TESTS=1`` runs many more kills (:func:`kills`).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import multiprocessing
import os
import random
import shutil
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from multiprocessing.context import ForkServerContext
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any

LONG = os.environ.get("REGIOTWIN_LONG_TESTS", "") not in ("", "0")
FIGURES_FILE = os.environ.get("REGIOTWIN_RELIABILITY_FIGURES", "")
"""If set, each crash scenario appends its figures there as one JSON line."""

PRELOAD = [
    "tests.reliability.crash_harness",
    "domain.service",
    "domain.handlers",
    "projections.host",
    "projections.outbox_projection",
    "bot.notifier",
    "bot.i18n",
    "aiogram",
    "aiohttp",
]


def kills(ci: int, long: int) -> int:
    return long if LONG else ci


def fork_server() -> ForkServerContext:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    return context


@dataclass
class Figures:
    """What one crash scenario did, for the README's reliability table."""

    scenario: str
    store: str
    kills: int = 0
    killed_mid_work: int = 0
    """Kills that found the worker with work in hand (commands, a catch-up, messages)."""
    work: int = 0
    """What got done across the kills: commands acknowledged, events caught up (per
    catch-up), notifications delivered."""
    lost: int = 0
    repeated: int = 0
    seconds: float = 0.0
    notes: dict[str, Any] = field(default_factory=dict)

    def publish(self) -> None:
        line = json.dumps(asdict(self))
        print(f"crash figures: {line}")
        if FIGURES_FILE:
            with open(FIGURES_FILE, "a", encoding="utf-8") as out:
                out.write(line + "\n")


def warm_up() -> None:
    """Nothing: starting it starts the fork server, which imports ``PRELOAD``."""


# --- running and killing a worker ------------------------------------------------------------


Target = Callable[[dict[str, Any], Event], None]


def run_and_kill(
    context: ForkServerContext,
    target: Target,
    config: dict[str, Any],
    delay: float,
    *,
    ready_timeout: float = 30.0,
) -> None:
    """Start a worker, wait until it is ready, let it work ``delay`` seconds, SIGKILL it."""
    ready = context.Event()
    worker = context.Process(target=target, args=(config, ready), daemon=True)
    worker.start()
    try:
        if not ready.wait(ready_timeout):
            raise AssertionError(f"the worker did not start (exit code {worker.exitcode})")
        time.sleep(delay)
        assert worker.is_alive(), f"the worker ended on its own (exit code {worker.exitcode})"
    finally:
        if worker.pid is not None and worker.is_alive():
            os.kill(worker.pid, signal.SIGKILL)
        worker.join(10)
    assert worker.exitcode == -signal.SIGKILL, worker.exitcode


def run_until(
    context: ForkServerContext,
    target: Target,
    config: dict[str, Any],
    condition: Callable[[], bool],
    timeout: float = 60.0,
    poll: float = 0.01,
) -> float | None:
    """Start a worker and let it work until ``condition()`` holds; then SIGKILL it.
    Returns the seconds from the worker being ready to the condition (None: timed out)."""
    ready = context.Event()
    worker = context.Process(target=target, args=(config, ready), daemon=True)
    worker.start()
    try:
        assert ready.wait(30), f"the worker did not start (exit code {worker.exitcode})"
        started = time.monotonic()
        while time.monotonic() < started + timeout:
            if condition():
                return time.monotonic() - started
            assert worker.is_alive(), f"the worker ended on its own ({worker.exitcode})"
            time.sleep(poll)
        return None
    finally:
        if worker.pid is not None and worker.is_alive():
            os.kill(worker.pid, signal.SIGKILL)
        worker.join(10)


# --- the world the workers act in ------------------------------------------------------------


def clock_origin() -> datetime:
    return datetime.now(tz=UTC)


@dataclass(frozen=True)
class Cast:
    """Ids the workers need, JSON-able (they get them in their config)."""

    twinning_id: str
    muenchen_staff: str
    steinfurt_staff: str
    measures: list[str]

    @classmethod
    def on(cls, service: Any, measures: int = 3) -> Cast:
        from tests import builders

        pair = builders.muenchen_and_steinfurt(service)
        codes = [f"LKM-{10 + index}" for index in range(measures)]
        measure_ids = [builders.measure(service, pair.muenchen_staff, code=code) for code in codes]
        return cls(
            twinning_id=str(pair.twinning_id),
            muenchen_staff=str(pair.muenchen_staff),
            steinfurt_staff=str(pair.steinfurt_staff),
            measures=[str(measure) for measure in measure_ids],
        )


def command_number(number: int, cast: Cast) -> tuple[Any, str]:
    """The ``number``-th command of the recording workers: progress reports, advice,
    exchanges with a follow-up, descriptions; always valid, whatever came before."""
    from domain.commands import EditDescription, GiveAdvice, RecordExchange, ReportProgress

    measure = cast.measures[number % len(cast.measures)]
    kind = number % 10
    if kind == 7:
        command: Any = GiveAdvice.parse(
            twinning_id=cast.twinning_id, topic="cycling", text=f"Advice number {number}."
        )
        return command, cast.steinfurt_staff
    if kind == 8:
        command = RecordExchange.parse(
            twinning_id=cast.twinning_id,
            kind="call",
            held_on="14.09.2016",
            place="Video call",
            participants=["Anna Huber", "Jan Brinkmann"],
            topics=["cycling"],
            summary=f"Call number {number}.",
            follow_ups=[
                {
                    "text": f"Follow-up of call {number}",
                    "owner_region": "09184",
                    "due_on": "30.09.2016",
                }
            ],
        )
        return command, cast.muenchen_staff
    if kind == 9:
        command = EditDescription.parse(measure_id=measure, description=f"Version {number}.")
        return command, cast.muenchen_staff
    command = ReportProgress.parse(measure_id=measure, percent=number % 101, note=f"n{number}")
    return command, cast.muenchen_staff


def acknowledged(path: Path) -> list[int]:
    """The command numbers a recording worker acknowledged (in order)."""
    if not path.exists():
        return []
    return [int(line.split()[0]) for line in path.read_text().splitlines() if line.strip()]


# --- the workers (run in forked processes; killed, never return) -------------------------


def record_commands(config: dict[str, Any], ready: Event) -> None:
    from domain.clock import SystemClock
    from domain.service import RegioTwin
    from projections.host import ProjectionHost

    cast = Cast(**config["cast"])
    ack_path = Path(config["acks"])
    done = acknowledged(ack_path)
    service = RegioTwin.from_env(config["env"], SystemClock())
    host = ProjectionHost(config["env"], config["read_models"], retry_delays=(0.05,))
    host.start()
    ack = os.open(ack_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    ready.set()
    for number in itertools.count(done[-1] + 1 if done else 0):
        command, actor = command_number(number, cast)
        outcome = service.handle(command, actor=actor, command_id=f"crash-{number}")
        os.write(ack, f"{number} {'replayed' if outcome.replayed else 'recorded'}\n".encode())
        time.sleep(config.get("pause", 0.0))


def catch_up(config: dict[str, Any], ready: Event) -> None:
    from projections.host import ProjectionHost

    ready.set()
    with ProjectionHost(config["env"], config["read_models"]):
        while True:
            time.sleep(1)


class FastClock:
    """Real time, ``factor`` times faster from ``origin`` on: Telegram's per-chat second and
    the notifier's stale claims pass quickly; the same for every worker of a run."""

    def __init__(self, origin: datetime, factor: float) -> None:
        self.origin = origin
        self.factor = factor

    def now(self) -> datetime:
        real = datetime.now(tz=UTC) - self.origin
        return self.origin + real * self.factor


def fan_out(config: dict[str, Any], ready: Event) -> None:
    asyncio.run(_fan_out(config, ready))


async def _fan_out(config: dict[str, Any], ready: Event) -> None:
    from aiogram import Bot
    from aiogram.client.default import DefaultBotProperties
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer
    from aiogram.enums import ParseMode

    from bot.i18n import build_i18n
    from bot.notifier import Notifier, SenderPolicy
    from projections.host import ProjectionHost
    from projections.outbox import open_outbox
    from projections.outbox_projection import OutboxProjection

    factor = float(config["clock_factor"])
    outbox = open_outbox(config["env"], config["data_dir"])
    session = AiohttpSession(api=TelegramAPIServer.from_base(config["api"]))
    bot = Bot(BOT_TOKEN, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))

    async def sleep(seconds: float) -> None:
        await asyncio.sleep(seconds / factor)

    notifier = Notifier(
        outbox,
        bot,
        FastClock(datetime.fromisoformat(config["clock_origin"]), factor),
        build_i18n(),
        policy=SenderPolicy(
            overall_per_second=1000,
            stale_after=timedelta(seconds=float(config["stale_after"])),
            idle_poll=1.0,
        ),
        sleep=sleep,
    )
    host = ProjectionHost(
        config["env"],
        config["read_models"],
        read_models=(),
        followers=[OutboxProjection(outbox, on_added=notifier.wake)],
        retry_delays=(0.05,),
    )
    host.start()
    ready.set()
    await notifier.run()


# --- a Bot API that notes every message it gets -------------------------------------------


BOT_TOKEN = "4242:CRASH-TEST-fanout"


class BotAPIStandIn:
    """``sendMessage`` on 127.0.0.1: appends ``{"chat_id", "text"}`` to a file, then answers
    after a moment (so a kill often finds a request in flight: received, not confirmed)."""

    def __init__(self, log: Path, latency: tuple[float, float] = (0.0, 0.004)) -> None:
        self.log = log
        self.latency = latency
        self.url = ""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._started = threading.Event()
        self._stop: asyncio.Event | None = None
        self._ids = itertools.count(1)

    async def _handle(self, request: Any) -> Any:
        from aiohttp import web

        form = await request.post()
        chat_id = int(str(form["chat_id"]))
        text = str(form.get("text", ""))
        with self.log.open("a", encoding="utf-8") as out:
            out.write(json.dumps({"chat_id": chat_id, "text": text}) + "\n")
        await asyncio.sleep(random.uniform(*self.latency))
        return web.json_response(
            {
                "ok": True,
                "result": {
                    "message_id": next(self._ids),
                    "date": int(time.time()),
                    "chat": {"id": chat_id, "type": "private"},
                    "text": text,
                },
            }
        )

    async def _serve(self) -> None:
        from aiohttp import web

        app = web.Application()
        app.router.add_post("/bot{token}/sendMessage", self._handle)
        runner = web.AppRunner(app, shutdown_timeout=0.1)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        self._stop = asyncio.Event()
        self._started.set()
        await self._stop.wait()
        await runner.cleanup()

    def __enter__(self) -> BotAPIStandIn:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_until_complete, args=(self._serve(),), daemon=True
        )
        self._thread.start()
        assert self._started.wait(10)
        return self

    def __exit__(self, *args: object) -> None:
        assert self._loop is not None
        assert self._stop is not None
        assert self._thread is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)
        self._loop.close()

    def received(self) -> list[tuple[int, str]]:
        if not self.log.exists():
            return []
        rows = [json.loads(line) for line in self.log.read_text(encoding="utf-8").splitlines()]
        return [(row["chat_id"], row["text"]) for row in rows]


# --- small helpers of the checks ----------------------------------------------------------


def copy_sqlite(source: Path, target: Path) -> None:
    """Copy a (dead process's) SQLite file with its write-ahead log."""
    for suffix in ("", "-wal"):
        target_file = Path(f"{target}{suffix}")
        target_file.unlink(missing_ok=True)
        source_file = Path(f"{source}{suffix}")
        if source_file.exists():
            shutil.copyfile(source_file, target_file)
    Path(f"{target}-shm").unlink(missing_ok=True)


@dataclass
class Stopwatch:
    started: float = field(default_factory=time.monotonic)

    def seconds(self) -> float:
        return round(time.monotonic() - self.started, 1)
