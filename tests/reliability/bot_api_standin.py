"""A stand-in for the Telegram Bot API on 127.0.0.1, in a thread of its own.

It answers what a bot in webhook mode calls (getMe, setMyCommands, setWebhook,
deleteWebhook, sendMessage, …) and records every call, so a test can see what the bot
sent, from the same process or from a bot process it started. Modes:

- ``fail={"setWebhook"}``: those methods answer Telegram's error shape (HTTP 400);
- ``redirect_loop=True``: every request is redirected to itself, so aiohttp gives up with
  an error whose text holds the request URL – and the token in it.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

BOT_ID = 4242


@dataclass(frozen=True)
class Call:
    token: str
    method: str
    params: dict[str, Any]


def _parsed(value: str) -> Any:
    try:
        return json.loads(value)
    except ValueError:
        return value


class BotApiStandIn:
    def __init__(self, *, fail: frozenset[str] = frozenset(), redirect_loop: bool = False):
        self.fail = {method.lower() for method in fail}
        self.redirect_loop = redirect_loop
        self.calls: list[Call] = []
        self._changed = threading.Condition()
        self._message_ids = itertools.count(1)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # --- lifecycle ----------------------------------------------------------------------

    def __enter__(self) -> BotApiStandIn:
        started = threading.Event()
        self._thread = threading.Thread(
            target=self._serve, args=(started,), name="bot-api-stand-in", daemon=True
        )
        self._thread.start()
        if not started.wait(10):
            raise RuntimeError("the Bot API stand-in did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)

    def _serve(self, started: threading.Event) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        app = web.Application()
        app.router.add_route("*", "/{path:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        loop.run_until_complete(site.start())
        self.port = self._runner.addresses[0][1]
        started.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(self._runner.cleanup())
            loop.close()

    # --- the API ------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if self.redirect_loop:
            raise web.HTTPFound(location=str(request.rel_url))
        parts = request.path.strip("/").split("/")
        if len(parts) != 2 or not parts[0].startswith("bot"):
            return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"})
        token, method = parts[0][3:], parts[1]
        params = {key: _parsed(str(value)) for key, value in (await request.post()).items()}
        with self._changed:
            self.calls.append(Call(token, method, params))
            self._changed.notify_all()
        if method.lower() in self.fail:
            return web.json_response(
                {"ok": False, "error_code": 400, "description": f"Bad Request: {method} refused"},
                status=400,
            )
        return web.json_response({"ok": True, "result": self._result(method, params)})

    def _result(self, method: str, params: dict[str, Any]) -> Any:
        name = method.lower()
        if name == "getme":
            return {
                "id": BOT_ID,
                "is_bot": True,
                "first_name": "RegioTwin Stand-in",
                "username": "RegioTwinStandInBot",
            }
        if name == "sendmessage":
            chat_id = int(params["chat_id"])
            return {
                "message_id": next(self._message_ids),
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "group"},
                "from": {"id": BOT_ID, "is_bot": True, "first_name": "RegioTwin Stand-in"},
                "text": params.get("text", ""),
            }
        if name == "getupdates":
            return []
        return True

    # --- for tests ----------------------------------------------------------------------

    def called(self, method: str) -> list[Call]:
        with self._changed:
            return [call for call in self.calls if call.method.lower() == method.lower()]

    def wait_for(
        self, method: str, where: Callable[[Call], bool] = lambda _call: True, timeout: float = 10
    ) -> Call:
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for call in self.calls:
                    if call.method.lower() == method.lower() and where(call):
                        return call
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [call.method for call in self.calls]
                    raise AssertionError(f"no {method} within {timeout}s; calls: {seen}")
                self._changed.wait(left)
