"""A local Bot API stand-in: answers like Telegram and counts what it is sent.

An aiohttp server on 127.0.0.1 in a thread of its own (its own event loop, as a
separate server would be). It records every ``sendMessage`` with its arrival time and
chat, answers ``getMe``, ``setMyCommands``, ``deleteWebhook`` and the like, and holds
``getUpdates`` long polls open (empty, or handing out queued updates) – noting the
moment of the first one: when a bot starts polling.

The Telegram Bot API emulator of the end-to-end tests (``telegram-test-api``, see
``tests/e2e``) would do for sending too, but it cannot count per second and per chat,
and it hands each update out once without long polling; this stand-in is simpler.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

BOT_ID = 4242


@dataclass
class Delivery:
    at: float  # time.time() on arrival
    chat_id: int
    text: str


@dataclass
class Recorded:
    deliveries: list[Delivery] = field(default_factory=list)
    first_get_updates: float | None = None
    requests: Counter[str] = field(default_factory=Counter)


class BotAPIStandIn:
    def __init__(self) -> None:
        self.recorded = Recorded()
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._stopping: asyncio.Event | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # --- life cycle ---------------------------------------------------------------------

    def __enter__(self) -> BotAPIStandIn:
        self._thread = threading.Thread(target=self._serve, name="bot-api-stand-in", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the Bot API stand-in did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None and self._stopping is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)
        if self._thread is not None:
            self._thread.join(10)

    def reset(self) -> None:
        with self._lock:
            self.recorded = Recorded()

    def snapshot(self) -> Recorded:
        with self._lock:
            return Recorded(
                list(self.recorded.deliveries),
                self.recorded.first_get_updates,
                Counter(self.recorded.requests),
            )

    def _serve(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._handle)
        app.router.add_get("/bot{token}/{method}", self._handle)
        runner = web.AppRunner(app, shutdown_timeout=0.2, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self._ready.set()
        try:
            await self._stopping.wait()
        finally:
            await runner.cleanup()

    # --- the API --------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"].lower()
        form: Any = await request.post()
        now = time.time()
        with self._lock:
            self.recorded.requests[method] += 1
        if method == "getme":
            return _ok(
                {
                    "id": BOT_ID,
                    "is_bot": True,
                    "first_name": "RegioTwin",
                    "username": "regiotwin_bench_bot",
                }
            )
        if method == "getupdates":
            with self._lock:
                if self.recorded.first_get_updates is None:
                    self.recorded.first_get_updates = now
            timeout = float(form.get("timeout") or 0)
            await asyncio.sleep(min(timeout, 1.0))
            return _ok([])
        if method == "sendmessage":
            chat_id = int(str(form["chat_id"]))
            text = str(form.get("text", ""))
            with self._lock:
                self.recorded.deliveries.append(Delivery(now, chat_id, text))
                message_id = len(self.recorded.deliveries)
            return _ok(
                {
                    "message_id": message_id,
                    "date": int(now),
                    "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "group"},
                    "text": text,
                }
            )
        return _ok(True)


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


# --- what the deliveries tell ---------------------------------------------------------------


def max_in_window(times: list[float], window: float = 1.0) -> int:
    """The most arrivals in any window of ``window`` seconds."""
    ordered = sorted(times)
    best, start = 0, 0
    for end, moment in enumerate(ordered):
        while moment - ordered[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


def min_gap_per_chat(deliveries: list[Delivery]) -> float:
    """The shortest time between two messages to one chat (inf: none got two)."""
    last: dict[int, float] = {}
    gap = float("inf")
    for delivery in sorted(deliveries, key=lambda d: d.at):
        if delivery.chat_id in last:
            gap = min(gap, delivery.at - last[delivery.chat_id])
        last[delivery.chat_id] = delivery.at
    return gap


def duplicates(deliveries: list[Delivery]) -> int:
    """Messages that reached a chat a second time (same chat, same text)."""
    counts = Counter((d.chat_id, d.text) for d in deliveries)
    return sum(count - 1 for count in counts.values() if count > 1)
