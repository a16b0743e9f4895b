"""Webhook mode on 127.0.0.1: only requests with Telegram's secret-token header reach the
bot; the others are refused (401) and change nothing."""

from __future__ import annotations

import asyncio
import socket
import sqlite3
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiogram.methods import SendMessage, SetWebhook
from pydantic import ValidationError

from bot.webhook import SECRET_HEADER, SecretTokenRequestHandler, serve_webhook
from domain.application import create_cipher_key
from settings import Settings
from tests.bot.conftest import BotWorld
from tests.e2e.harness import REPO_ROOT, python_cmd, start_process
from tests.reliability.bot_api_standin import BotApiStandIn

SECRET = "s3cret_Token-for-the-webhook"
TOKEN = "987654:WEBHOOK-test-token-abcdef"
STRANGER = {"id": 777_001, "is_bot": False, "first_name": "Stella", "language_code": "en"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_update(update_id: int, user: dict[str, Any] = STRANGER) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": int(time.time()),
            "chat": {"id": user["id"], "type": "private", "first_name": user["first_name"]},
            "from": user,
            "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }


async def post(url: str, update: dict[str, Any], secret: str | None) -> int:
    headers = {} if secret is None else {SECRET_HEADER: secret}
    async with aiohttp.ClientSession() as http, http.post(url, json=update, headers=headers) as r:
        return r.status


async def wait_until_listening(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            _reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.02)
        else:
            writer.close()
            await writer.wait_closed()
            return


def handled_count(path: Path) -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute("SELECT count(*) FROM handled_updates").fetchone()[0])


def sent_to(world: BotWorld, chat_id: int) -> list[SendMessage]:
    return [
        method
        for method, _result in world.harness.session.calls
        if isinstance(method, SendMessage) and method.chat_id == chat_id
    ]


async def test_only_requests_with_the_secret_reach_the_bot(world: BotWorld, tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram/hook"
    stop = asyncio.Event()
    server = asyncio.create_task(
        serve_webhook(
            world.harness.dispatcher,
            world.harness.bot,
            url=url,
            secret=SECRET,
            host="127.0.0.1",
            port=port,
            path="/telegram/hook",
            stop=stop,
            handle_signals=False,
        )
    )
    try:
        await wait_until_listening(port)
        # setWebhook told Telegram the secret.
        registered = [m for m, _ in world.harness.session.calls if isinstance(m, SetWebhook)]
        assert [(m.url, m.secret_token) for m in registered] == [(url, SECRET)]

        head = world.service.app.recorder.max_notification_id() or 0
        handled = handled_count(tmp_path / "bot_state.sqlite")
        for secret in (None, "", "wrong", SECRET.upper(), SECRET + "x", "ünïcödé"):
            assert await post(url, start_update(1), secret) == 401, secret
        assert sent_to(world, STRANGER["id"]) == []
        assert handled_count(tmp_path / "bot_state.sqlite") == handled
        assert (world.service.app.recorder.max_notification_id() or 0) == head

        # With the right header the update is handled: the stranger hears about the bot.
        assert await post(url, start_update(1), SECRET) == 200
        answers = sent_to(world, STRANGER["id"])
        assert len(answers) == 1
        assert "RegioTwin" in answers[0].text
        assert handled_count(tmp_path / "bot_state.sqlite") == handled + 1
        # Telegram delivering it again is answered once only.
        assert await post(url, start_update(1), SECRET) == 200
        assert len(sent_to(world, STRANGER["id"])) == 1
        # Only POST to the path is served.
        async with aiohttp.ClientSession() as http, http.get(url) as response:
            assert response.status == 405
    finally:
        stop.set()
        await asyncio.wait_for(server, 10)


def test_a_webhook_without_a_secret_is_refused(world: BotWorld) -> None:
    with pytest.raises(ValueError, match="secret"):
        SecretTokenRequestHandler(world.harness.dispatcher, world.harness.bot, "")


async def test_run_bot_serves_the_webhook_when_its_url_is_set(tmp_path: Path) -> None:
    """``python run_bot.py`` with ``REGIOTWIN_WEBHOOK_URL``: webhook mode on an encrypted
    store; a Bot API that refuses setWebhook (as the emulator does) is only logged."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/tg"
    cipher_key = create_cipher_key()
    with BotApiStandIn(fail=frozenset({"setWebhook"})) as api:
        bot = start_process(
            python_cmd(str(REPO_ROOT / "run_bot.py")),
            {
                "REGIOTWIN_BOT_TOKEN": TOKEN,
                "REGIOTWIN_TELEGRAM_API_URL": api.url,
                "REGIOTWIN_DATA_DIR": str(tmp_path / "data"),
                "REGIOTWIN_WEBHOOK_URL": url,
                "REGIOTWIN_WEBHOOK_SECRET": SECRET,
                "REGIOTWIN_WEBHOOK_PORT": str(port),
                "REGIOTWIN_CIPHER_KEY": cipher_key,
            },
            log_path=tmp_path / "bot.log",
            cwd=tmp_path,
            name="bot",
        )
        try:
            await asyncio.to_thread(bot.wait_for_log, r"webhook: listening on", 30.0)
            assert "refused setWebhook" in bot.log_text()
            assert await post(url, start_update(10), None) == 401
            assert await post(url, start_update(11), "wrong") == 401
            assert await post(url, start_update(12), SECRET) == 200
            answer = await asyncio.to_thread(
                api.wait_for, "sendMessage", lambda call: call.params["chat_id"] == STRANGER["id"]
            )
            assert "RegioTwin" in answer.params["text"]
            assert len(api.called("sendMessage")) == 1
            assert {call.token for call in api.calls} == {TOKEN}
        finally:
            code = bot.stop()
        log = bot.log_text()
        assert code == 0, log
        assert "webhook: stopping" in log
        for secret in (TOKEN, TOKEN.split(":")[1], SECRET, cipher_key):
            assert secret not in log


def test_the_webhook_settings(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path, webhook_url="https://bot.example.org/telegram", webhook_secret=SECRET
    )
    assert (settings.webhook_path, settings.webhook_host, settings.webhook_port) == (
        "/telegram",
        "127.0.0.1",
        8080,
    )
    assert Settings(data_dir=tmp_path, webhook_url="https://bot.example.org").webhook_path == "/"
    assert Settings(data_dir=tmp_path, webhook_url="").webhook_url is None  # polling
    for bad in ("with space", "ä", "x" * 257):
        with pytest.raises(ValidationError):
            Settings(data_dir=tmp_path, webhook_secret=bad)
    with pytest.raises(ValidationError):
        Settings(data_dir=tmp_path, webhook_url="ftp://bot.example.org/")
