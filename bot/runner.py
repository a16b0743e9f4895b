"""Long polling with a real token: settings → domain → bot."""

from __future__ import annotations

import asyncio
import logging

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.exceptions import TelegramAPIError
from aiogram.types import BotCommand as TelegramBotCommand

from audit.checkpoint import checkpoint_periodically
from bot import catalog
from bot.app import BotServices, build_dispatcher
from bot.gateway import DomainGateway
from bot.handled_updates import HandledUpdates
from bot.i18n import build_i18n
from bot.notifier import Notifier, ReachableAgainMiddleware
from bot.read_models import ReadModels
from bot.reminders import Reminders
from domain.application import RegioTwinApplication
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


async def run_polling(settings: Settings) -> None:
    clock = SystemClock()
    service = RegioTwin.from_env(settings.event_store_env, clock)
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
        log.info("polling as @%s", me.username)
        await dispatcher.start_polling(bot, handle_signals=True)
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
