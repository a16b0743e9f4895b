"""Webhook mode: Telegram posts each update to an aiohttp server instead of being polled.

Telegram sends every webhook request with the header ``X-Telegram-Bot-Api-Secret-Token``
set to the ``secret_token`` given to ``setWebhook``; a request without it, or with
another value, is answered 401 and never reaches the dispatcher (nothing is recorded,
nobody is answered). The server listens on ``REGIOTWIN_WEBHOOK_HOST:PORT`` (default
127.0.0.1:8080) behind a reverse proxy that terminates TLS for the public
``REGIOTWIN_WEBHOOK_URL``.

An update is answered (HTTP 200) once the dispatcher has handled it, so a crash in the
middle makes Telegram deliver it again; the log of handled updates and the command
receipts make that safe.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import signal
from contextlib import suppress
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.exceptions import AiogramError
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web

log = logging.getLogger("regiotwin.bot")

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class SecretTokenRequestHandler(SimpleRequestHandler):
    """aiogram's handler for one bot, with the secret token required (aiogram's own
    accepts every request when it has no secret) and the bot's session left to its owner
    (the runner closes it after the notifier has stopped)."""

    def __init__(self, dispatcher: Dispatcher, bot: Bot, secret_token: str, **data: Any) -> None:
        if not secret_token:
            raise ValueError("a webhook needs a secret token")
        super().__init__(
            dispatcher, bot, handle_in_background=False, secret_token=secret_token, **data
        )

    def verify_secret(self, telegram_secret_token: str, bot: Bot) -> bool:
        assert self.secret_token
        return secrets.compare_digest(
            telegram_secret_token.encode("utf-8", "surrogateescape"),
            self.secret_token.encode("utf-8"),
        )

    async def close(self) -> None:
        """The runner owns the bot's session."""


def new_secret() -> str:
    """A random secret token of Telegram's alphabet (A-Z a-z 0-9 _ -)."""
    return secrets.token_urlsafe(32)


def build_webhook_app(
    dispatcher: Dispatcher, bot: Bot, *, secret: str, path: str
) -> web.Application:
    """The aiohttp application: POST ``path`` with the secret header → the dispatcher."""
    app = web.Application()
    SecretTokenRequestHandler(dispatcher, bot, secret).register(app, path=path)
    setup_application(app, dispatcher, bot=bot)
    return app


async def register_webhook(bot: Bot, dispatcher: Dispatcher, *, url: str, secret: str) -> bool:
    """``setWebhook`` with the secret; a server that refuses it (an emulator, a network
    error) is logged, not fatal: a webhook registered earlier keeps working."""
    try:
        await bot.set_webhook(
            url,
            secret_token=secret,
            allowed_updates=dispatcher.resolve_used_update_types(),
        )
    except AiogramError as error:
        log.warning("the Bot API server refused setWebhook: %s", error)
        return False
    log.info("webhook registered: %s", url)
    return True


async def serve_webhook(
    dispatcher: Dispatcher,
    bot: Bot,
    *,
    url: str,
    secret: str,
    host: str,
    port: int,
    path: str,
    stop: asyncio.Event | None = None,
    handle_signals: bool = True,
) -> None:
    """Register the webhook, listen until ``stop`` is set (or SIGINT/SIGTERM), then wait
    for the updates in hand and shut the server down."""
    stop = stop or asyncio.Event()
    app = build_webhook_app(dispatcher, bot, secret=secret, path=path)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    loop = asyncio.get_running_loop()
    signals = (signal.SIGINT, signal.SIGTERM) if handle_signals else ()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        for signum in signals:
            loop.add_signal_handler(signum, stop.set)
        await register_webhook(bot, dispatcher, url=url, secret=secret)
        bound_host, bound_port = runner.addresses[0][:2]
        log.info("webhook: listening on http://%s:%s%s for %s", bound_host, bound_port, path, url)
        await stop.wait()
        log.info("webhook: stopping")
    finally:
        for signum in signals:
            with suppress(ValueError, RuntimeError):
                loop.remove_signal_handler(signum)
        await runner.cleanup()
