"""The bot with a real token, long polling or webhook: settings → domain → bot."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.exceptions import AiogramError, TelegramAPIError
from aiogram.types import BotCommand as TelegramBotCommand
from aiogram.types import User

from audit.checkpoint import checkpoint_periodically
from bot import catalog
from bot.app import BotServices, build_dispatcher
from bot.gateway import DomainGateway
from bot.handled_updates import HandledUpdates
from bot.i18n import build_i18n
from bot.notifier import Notifier, ReachableAgainMiddleware
from bot.polling import poll
from bot.read_models import ReadModels
from bot.reminders import Reminders
from bot.webhook import new_secret, serve_webhook
from domain.application import RegioTwinApplication, ensure_readable
from domain.clock import SystemClock
from domain.service import RegioTwin
from projections.host import ProjectionHost
from projections.outbox import open_outbox
from projections.outbox_projection import OutboxProjection
from settings import Settings

log = logging.getLogger("regiotwin.bot")


def build_bot(settings: Settings) -> Bot:
    assert settings.bot_token is not None
    session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_url))
    return Bot(
        settings.bot_token.get_secret_value(),
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )


async def publish_commands(bot: Bot) -> None:
    """Telegram's command menu, per language; a server that refuses it is only logged."""
    i18n = build_i18n()
    for locale in ("de", "en"):
        with i18n.use_locale(locale):
            commands = [
                TelegramBotCommand(command=entry.name, description=i18n.gettext(entry.description))
                for entry in catalog.CATALOG.values()
            ]
        try:
            await bot.set_my_commands(commands, language_code=locale)
        except TelegramAPIError as error:
            log.warning("the Bot API server refused setMyCommands: %s", error)
            return


@dataclass(frozen=True)
class RunningBot:
    """The bot with everything around it started: read models following the log, the
    notifier, reminders and daily chain checkpoints."""

    bot: Bot
    dispatcher: Dispatcher
    me: User


@asynccontextmanager
async def running_bot(settings: Settings) -> AsyncIterator[RunningBot]:
    """Set up what long polling and the webhook share; stop it all in order afterwards."""
    clock = SystemClock()
    service = RegioTwin.from_env(settings.event_store_env, clock)
    try:
        await asyncio.to_thread(ensure_readable, service.app)
    except BaseException:
        service.close()
        raise
    gateway = DomainGateway(service)
    handled = await HandledUpdates.open(settings.data_dir / "bot_state.sqlite")
    bot = build_bot(settings)
    # The outbox: notifications of events recorded from now on (a new outbox stays silent
    # about the history before it), sent by the notifier, reminders added every minute.
    outbox = await asyncio.to_thread(open_outbox, settings.event_store_env, settings.data_dir)
    head = service.app.recorder.max_notification_id() or 0
    await asyncio.to_thread(outbox.initialise, RegioTwinApplication.name, head)
    notifier = Notifier(outbox, bot, clock, build_i18n())
    projections = ProjectionHost.from_settings(
        settings,
        followers=[OutboxProjection(outbox, on_added=notifier.wake, timezone=settings.timezone)],
    )
    projections.start()
    reminders = Reminders(
        outbox, settings.read_model_path, clock, timezone=settings.timezone, on_added=notifier.wake
    )
    background: list[asyncio.Task[None]] = []
    try:
        dispatcher = build_dispatcher(
            BotServices(
                gateway=gateway,
                handled_updates=handled,
                clock=clock,
                admins=frozenset(settings.admins),
                read_models=ReadModels(settings.read_model_path, projections, gateway),
            )
        )
        dispatcher["outbox"] = outbox  # the settings overview of /subscribe and /digest
        dispatcher.update.outer_middleware(ReachableAgainMiddleware(notifier))
        await publish_commands(bot)
        me = await bot.me()
        notifier.start()
        background.append(asyncio.create_task(reminders.run(), name="reminders"))
        background.append(
            asyncio.create_task(checkpoint_periodically(gateway), name="chain-checkpoints")
        )
        yield RunningBot(bot=bot, dispatcher=dispatcher, me=me)
    finally:
        for task in background:
            task.cancel()
        await notifier.stop()
        await asyncio.to_thread(projections.stop)
        await asyncio.to_thread(outbox.close)
        await bot.session.close()
        await handled.close()
        gateway.close()
        service.close()


async def run_polling(settings: Settings) -> None:
    async with running_bot(settings) as running:
        await drop_webhook(running.bot)
        log.info("polling as @%s", running.me.username)
        await poll(running.dispatcher, running.bot)


async def drop_webhook(bot: Bot) -> None:
    """Long polling after webhook mode: Telegram refuses getUpdates while a webhook is set.
    Updates waiting for delivery are kept."""
    try:
        await bot.delete_webhook(drop_pending_updates=False)
    except AiogramError as error:
        log.warning("the Bot API server refused deleteWebhook: %s", error)


async def run_webhook(
    settings: Settings, *, stop: asyncio.Event | None = None, handle_signals: bool = True
) -> None:
    """Webhook mode (``REGIOTWIN_WEBHOOK_URL`` set): Telegram posts updates to the server
    on ``REGIOTWIN_WEBHOOK_HOST:PORT``; see :mod:`bot.webhook`."""
    assert settings.webhook_url is not None
    if settings.webhook_secret is not None:
        secret = settings.webhook_secret.get_secret_value()
    else:
        secret = new_secret()
        log.warning("REGIOTWIN_WEBHOOK_SECRET is not set: using a random secret token for this run")
    async with running_bot(settings) as running:
        log.info("webhook mode as @%s", running.me.username)
        await serve_webhook(
            running.dispatcher,
            running.bot,
            url=settings.webhook_url,
            secret=secret,
            host=settings.webhook_host,
            port=settings.webhook_port,
            path=settings.webhook_path,
            stop=stop,
            handle_signals=handle_signals,
        )


def run(settings: Settings) -> None:
    """``python run_bot.py`` with a token: webhook mode if ``REGIOTWIN_WEBHOOK_URL`` is set,
    else long polling. A crash is logged (through the redacting log) and exits with 1."""
    try:
        if settings.webhook_url is not None:
            asyncio.run(run_webhook(settings))
        else:
            asyncio.run(run_polling(settings))
    except Exception:
        log.critical("the bot stopped", exc_info=True)
        raise SystemExit(1) from None
