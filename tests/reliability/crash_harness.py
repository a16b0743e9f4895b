"""Killing the bot process with SIGKILL at random moments, and checking what survived.

The worker is the real bot: ``bot.runner.run_polling`` with its settings (event store,
data folder, token, Bot API URL), long-polling a stand-in for the Telegram Bot API on
127.0.0.1 (:class:`TelegramStandIn`): the dispatcher with all its middlewares, the domain
gateway, the log of handled updates, the read models following the log, the outbox
projection and the notifier, the reminders. The harness starts it, lets it work for a
random time and kills it with SIGKILL, again and again, checking the stores after every
kill. Workers are forked from a preloaded fork server (``multiprocessing``'s
``forkserver``: aiogram, eventsourcing, the domain and the bot imported once), so a kill
cycle takes a fraction of a second instead of the seconds a fresh interpreter needs.

The stand-in keeps Telegram's delivery rules: ``getUpdates`` hands out every update not
yet confirmed, and an ``offset`` confirms all updates below it, for good. Its people
behave like people: each sends a command, waits for the answer, pauses and sends the
next; one whose command was confirmed by a killed bot but never answered sends a new
one after the restart.

One change to the bot, for speed: its clock runs ``clock_factor`` times faster than real
time (:class:`FastClock`, the notifier's sleeps scaled alike), so Telegram's second per
chat, flood control's refill and the notifier's stale claims (``stale_after``) pass
quickly.

``REGIOTWIN_LONG_TESTS=1`` runs many more kills (:func:`scaled`).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import multiprocessing
import os
import random
import re
import shutil
import signal
import threading
import time
from collections.abc import Callable, Sequence
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
    "bot.runner",
    "settings",
    "domain.service",
    "domain.handlers",
    "projections.host",
    "projections.outbox_projection",
    "bot.notifier",
    "bot.i18n",
    "aiogram",
    "aiohttp",
]

BOT_ID = 4242
BOT_TOKEN = f"{BOT_ID}:CRASH-TEST-token"


def scaled(ci: int, long: int) -> int:
    """``ci`` in CI, ``long`` with ``REGIOTWIN_LONG_TESTS=1``."""
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
    """Kills that found the bot with work in hand (see the scenario)."""
    work: int = 0
    """What got done across the kills (see the scenario)."""
    lost: int = 0
    repeated: int = 0
    seconds: float = 0.0
    notes: dict[str, Any] = field(default_factory=dict)

    def publish(self) -> None:
        publish(asdict(self))


PUBLISHED: list[str] = []
"""The figures published in this run (the terminal summary lists them)."""


def publish(figures: dict[str, Any]) -> None:
    """Print a scenario's figures; with ``REGIOTWIN_RELIABILITY_FIGURES=FILE`` also append
    them to FILE as one JSON line."""
    line = json.dumps(figures, ensure_ascii=False)
    PUBLISHED.append(line)
    print(f"reliability figures: {line}")
    if FIGURES_FILE:
        with open(FIGURES_FILE, "a", encoding="utf-8") as out:
            out.write(line + "\n")


def warm_up() -> None:
    """Nothing: starting it starts the fork server, which imports ``PRELOAD``."""


# --- running and killing the bot -------------------------------------------------------------


Target = Callable[[dict[str, Any], Event], None]


def run_and_kill(
    context: ForkServerContext,
    target: Target,
    config: dict[str, Any],
    delay: float,
    *,
    working: Callable[[], bool] | None = None,
    ready_timeout: float = 30.0,
) -> None:
    """Start a worker, wait until it is ready (and ``working()``, if given), let it work
    ``delay`` seconds more, SIGKILL it."""
    ready = context.Event()
    worker = context.Process(target=target, args=(config, ready), daemon=True)
    worker.start()
    try:
        if not ready.wait(ready_timeout):
            raise AssertionError(f"the worker did not start (exit code {worker.exitcode})")
        if working is not None:
            deadline = time.monotonic() + ready_timeout
            while not working():
                assert worker.is_alive(), f"the worker ended on its own ({worker.exitcode})"
                assert time.monotonic() < deadline, "the bot did not start working"
                time.sleep(0.002)
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


# --- the bot process ---------------------------------------------------------------------------


class FastClock:
    """Real time, ``factor`` times faster from ``origin`` on; the same for every worker of a
    run and for the test's own service, so recording times keep their order."""

    def __init__(self, origin: datetime, factor: float) -> None:
        self.origin = origin
        self.factor = factor

    def now(self) -> datetime:
        real = datetime.now(tz=UTC) - self.origin
        return self.origin + real * self.factor


def bot_config(
    env: dict[str, str], data_dir: Path, api: str, origin: datetime, factor: float = 20.0
) -> dict[str, Any]:
    """What :func:`bot_process` needs, JSON-able. ``stale_after`` is in clock seconds."""
    return {
        "env": env,
        "data_dir": str(data_dir),
        "api": api,
        "clock_origin": origin.isoformat(),
        "clock_factor": factor,
        "stale_after": 2.0,
    }


def bot_process(config: dict[str, Any], ready: Event) -> None:
    """``python run_bot.py`` with a token, in a forked process: ``bot.runner.run_polling``."""
    from functools import partial

    from bot import runner
    from bot.notifier import Notifier, SenderPolicy
    from settings import Settings

    class StoreSettings(Settings):
        """The test's event store (a PostgreSQL schema has no place in a URL)."""

        store_env: dict[str, str]

        @property
        def event_store_env(self) -> dict[str, str]:
            return dict(self.store_env)

    factor = float(config["clock_factor"])
    clock = FastClock(datetime.fromisoformat(config["clock_origin"]), factor)

    async def sleep(seconds: float) -> None:
        await asyncio.sleep(seconds / factor)

    runner.SystemClock = lambda: clock  # type: ignore[assignment,misc]
    runner.Notifier = partial(  # type: ignore[misc]
        Notifier,
        policy=SenderPolicy(stale_after=timedelta(seconds=float(config["stale_after"]))),
        sleep=sleep,
    )
    settings = StoreSettings(
        _env_file=None,  # type: ignore[call-arg]
        store_env=config["env"],
        data_dir=Path(config["data_dir"]),
        bot_token=BOT_TOKEN,
        telegram_api_url=config["api"],
    )
    ready.set()
    asyncio.run(runner.run_polling(settings))


# --- the stand-in for Telegram -----------------------------------------------------------------


@dataclass
class Sent:
    """One command a person sent, as an update."""

    update_id: int
    text: str
    expects: tuple[str, int]
    """What the answer must say: (measure code, percent)."""


@dataclass
class Person:
    """A member on Telegram who reports progress, one command after the other."""

    id: int
    first_name: str
    measures: list[str]
    language_code: str = "en"
    sent: int = 0
    waiting: Sent | None = None
    answered: list[Sent] = field(default_factory=list)
    given_up: list[Sent] = field(default_factory=list)
    """Confirmed by a killed bot, never answered: sent again as a new command."""

    def command(self) -> tuple[str, tuple[str, int]]:
        number = self.sent
        code = self.measures[number % len(self.measures)]
        percent = (number * 7 + self.id) % 101  # never the same twice in a row
        return f"/progress {code} {percent} {self.first_name} {number}", (code, percent)


PROGRESS_ANSWER = re.compile(r"^(LKM-\d+): progress of (\d+)\D")
"""``LKM-10: progress of 37.0 % recorded.``"""


def command_id(update_id: int) -> str:
    """The idempotency key the bot gives an update (``bot.middlewares.idempotency_key``)."""
    return f"tg-update:{BOT_ID}:{update_id}"


class TelegramStandIn:
    """The Bot API on 127.0.0.1, in a thread: updates with Telegram's confirmation rules,
    every ``sendMessage`` noted, people who talk to the bot (:class:`Person`)."""

    def __init__(self, people: Sequence[Person] = (), pause: float = 0.05) -> None:
        self.people = {person.id: person for person in people}
        self.pause = pause
        self.talking = True
        self.url = ""
        self.messages: list[tuple[int, str]] = []
        self.polls = 0
        self.confirmed_below = 1
        self.handed_out = 0
        """The highest update id handed out to a bot."""
        self.repeated_answers = 0
        self.redelivered: set[int] = set()
        self._lock = threading.Lock()
        self._pending: list[tuple[float, dict[str, Any]]] = []  # (visible from, update)
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._handed: set[int] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._started = threading.Event()
        self._stop: asyncio.Event | None = None

    # --- the people ---------------------------------------------------------------------

    def _send_next(self, person: Person, after: float) -> None:
        text, expects = person.command()
        person.sent += 1
        update_id = next(self._update_ids)
        command = text.split()[0]
        update = {
            "update_id": update_id,
            "message": {
                "message_id": update_id,
                "date": int(time.time()),
                "chat": {"id": person.id, "type": "private", "first_name": person.first_name},
                "from": {
                    "id": person.id,
                    "is_bot": False,
                    "first_name": person.first_name,
                    "language_code": person.language_code,
                },
                "text": text,
                "entities": [{"type": "bot_command", "offset": 0, "length": len(command)}],
            },
        }
        person.waiting = Sent(update_id, text, expects)
        self._pending.append((time.monotonic() + after, update))

    def start_talking(self) -> None:
        with self._lock:
            for person in self.people.values():
                if person.waiting is None:
                    self._send_next(person, 0.0)

    def stop_talking(self) -> None:
        """Nobody sends a new command after the answer to the one in hand."""
        with self._lock:
            self.talking = False

    def after_kill(self) -> list[Sent]:
        """The commands the killed bot confirmed but never answered: lost to Telegram. Their
        senders give up waiting and go on (the bot is dead: safe to look at)."""
        lost = []
        with self._lock:
            for person in self.people.values():
                waiting = person.waiting
                if waiting is not None and waiting.update_id < self.confirmed_below:
                    lost.append(waiting)
                    person.given_up.append(waiting)
                    person.waiting = None
                    if self.talking:
                        self._send_next(person, 0.0)
        return lost

    def in_hand(self) -> list[Sent]:
        """Commands handed out to the bot and not answered yet."""
        with self._lock:
            return [
                person.waiting
                for person in self.people.values()
                if person.waiting is not None and person.waiting.update_id <= self.handed_out
            ]

    def all_answered(self) -> bool:
        with self._lock:
            return all(person.waiting is None for person in self.people.values())

    def answered(self) -> list[Sent]:
        with self._lock:
            return [sent for person in self.people.values() for sent in person.answered]

    def received(self) -> list[tuple[int, str]]:
        with self._lock:
            return list(self.messages)

    # --- the Bot API --------------------------------------------------------------------

    def _answered(self, chat_id: int, text: str) -> None:
        person = self.people.get(chat_id)
        found = PROGRESS_ANSWER.match(text)
        if person is None or found is None:
            return
        said = (found[1], int(found[2]))
        waiting = person.waiting
        if waiting is not None and waiting.expects == said:
            person.answered.append(waiting)
            person.waiting = None
            if self.talking:
                self._send_next(person, self.pause)
        else:  # an earlier command answered again (redelivered before it was noted)
            self.repeated_answers += 1

    async def _get_updates(self, request: Any, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        deadline = time.monotonic() + min(float(params.get("timeout") or 0), 5.0)
        while True:
            if request.transport is None or request.transport.is_closing():
                return []  # a killed bot's long poll: hands out nothing
            with self._lock:
                if offset > self.confirmed_below:
                    self.confirmed_below = offset
                    self._pending = [
                        (at, update)
                        for at, update in self._pending
                        if update["update_id"] >= offset
                    ]
                now = time.monotonic()
                ready = [
                    update
                    for at, update in self._pending
                    if at <= now and update["update_id"] >= self.confirmed_below
                ][:100]
                if ready:
                    for update in ready:
                        if update["update_id"] in self._handed:
                            self.redelivered.add(update["update_id"])
                        self._handed.add(update["update_id"])
                        self.handed_out = max(self.handed_out, update["update_id"])
                    return ready
            if time.monotonic() >= deadline:
                return []
            await asyncio.sleep(0.003)

    async def _handle(self, request: Any) -> Any:
        from aiohttp import web

        method = request.match_info["method"].lower()
        form = await request.post()
        params = {key: str(value) for key, value in form.items()}
        if method == "getupdates":
            with self._lock:
                self.polls += 1
            return web.json_response(
                {"ok": True, "result": await self._get_updates(request, params)}
            )
        if method == "getme":
            result: Any = {
                "id": BOT_ID,
                "is_bot": True,
                "first_name": "RegioTwin",
                "username": "RegioTwinCrashBot",
            }
        elif method == "sendmessage":
            chat_id = int(params["chat_id"])
            text = params.get("text", "")
            with self._lock:
                self.messages.append((chat_id, text))
                self._answered(chat_id, text)
            await asyncio.sleep(random.uniform(0.0, 0.004))  # received, not yet confirmed
            result = {
                "message_id": next(self._message_ids),
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private"},
                "text": text,
            }
        else:  # setMyCommands, deleteWebhook, answerCallbackQuery …
            result = True
        return web.json_response({"ok": True, "result": result})

    async def _serve(self) -> None:
        from aiohttp import web

        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._handle)
        runner = web.AppRunner(app, shutdown_timeout=0.1, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        self._stop = asyncio.Event()
        self._started.set()
        await self._stop.wait()
        await runner.cleanup()

    def __enter__(self) -> TelegramStandIn:
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
