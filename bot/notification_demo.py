"""Notifications in the terminal demo: what the partner's phone would show.

After the demo's history is seeded, :func:`show_notifications` lets the outbox follow the
log (silent about the seeded past, as a freshly installed bot would be), records one new
piece of advice from Kreis Steinfurt, and a week later runs the reminder tick. The
notifier sends everything through a stand-in for Telegram that prints each message.
"""

from __future__ import annotations

import asyncio
import html
import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.base import BaseSession
from aiogram.enums import ParseMode
from aiogram.methods import SendMessage, TelegramMethod
from aiogram.types import Chat, Message
from rich.console import Console
from rich.panel import Panel

from bot.i18n import build_i18n
from bot.notifier import Notifier
from bot.reminders import Reminders
from domain import ids
from domain.application import RegioTwinApplication, sqlite_env
from domain.clock import ManualClock
from domain.commands import GiveAdvice
from domain.errors import DomainError
from domain.service import RegioTwin
from domain.values import Topic
from projections import log as event_log
from projections.catch_up import catch_up
from projections.outbox import OutboxStore, open_outbox
from projections.outbox_projection import OutboxProjection, apply_log
from projections.registry import read_models
from projections.store import ReadModelStore

MUENCHEN, STEINFURT, PROGRAMME = "09184", "05566", "03KF0003"


@dataclass(frozen=True)
class Shown:
    chat_id: int
    name: str
    text: str
    buttons: tuple[str, ...]


class PrintingTelegram(BaseSession):
    """Stands in for the Bot API: every message is kept (and answered as sent)."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[SendMessage] = []

    async def make_request(
        self, bot: Bot, method: TelegramMethod[Any], timeout: int | None = None
    ) -> Any:
        assert isinstance(method, SendMessage)
        self.sent.append(method)
        return Message(
            message_id=len(self.sent),
            date=0,  # type: ignore[arg-type]
            chat=Chat(id=int(method.chat_id), type="private"),
            text=method.text,
        )

    async def close(self) -> None:
        return None

    async def stream_content(self, *args: Any, **kwargs: Any) -> Any:  # pragma: no cover
        yield b""


def play_notifications(
    folder: Path, service: RegioTwin, clock: ManualClock, console: Console
) -> list[Shown]:
    """:func:`show_notifications` for the (synchronous) terminal demo."""
    return asyncio.run(show_notifications(folder, service, clock, console))


async def show_notifications(
    folder: Path, service: RegioTwin, clock: ManualClock, console: Console
) -> list[Shown]:
    """Play notifications and a reminder on the demo's store in ``folder``; returns what
    München's members were sent (and prints it)."""
    env = sqlite_env(str(folder / "events.sqlite"))
    head = service.app.recorder.max_notification_id() or 0
    outbox = open_outbox(env, folder)
    outbox.initialise(RegioTwinApplication.name, head)  # a new bot: silent about the past
    projection = OutboxProjection(outbox)
    log = event_log.open_log(env)
    model_store = ReadModelStore(folder / "read_models.sqlite")
    models = read_models(model_store)
    for model in models:
        model.ensure_schema()
    session = PrintingTelegram()
    bot = Bot("1:DEMO", session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))

    async def sleep(seconds: float) -> None:
        clock.advance(timedelta(seconds=seconds))

    notifier = Notifier(outbox, bot, clock, build_i18n(), sleep=sleep, instance="demo")
    try:
        apply_log(projection, service.app)
        _advise(service, outbox)
        apply_log(projection, service.app)
        await notifier.drain(within=timedelta(minutes=5))

        clock.advance(timedelta(days=7))  # nobody answered for a week
        catch_up(log, models)
        Reminders(outbox, folder / "read_models.sqlite", clock).tick()
        await notifier.drain(within=timedelta(minutes=5))
        names = {
            recipient.chat_id: recipient.name for recipient, _settings in outbox.active_members()
        }
        muenchen = {
            recipient.chat_id
            for recipient, _settings in outbox.active_members()
            if recipient.region_id == ids.region_id(MUENCHEN, "").hex
        }
    finally:
        log.close()
        model_store.close()
        outbox.close()
        await bot.session.close()

    shown = [
        Shown(
            chat_id=int(message.chat_id),
            name=names.get(int(message.chat_id), str(message.chat_id)),
            text=message.text,
            buttons=tuple(
                button.text
                for row in (message.reply_markup.inline_keyboard if message.reply_markup else [])
                for button in row
            ),
        )
        for message in session.sent
        if int(message.chat_id) in muenchen
    ]
    console.print(
        f"Notifications: Kreis Steinfurt gives advice; a week later it is still unanswered. "
        f"What München's members find in Telegram ({len(shown)} messages):"
    )
    for message in shown:
        buttons = "".join(f"  [reverse] {label} [/reverse]" for label in message.buttons)
        console.print(
            Panel.fit(
                _plain(message.text) + (f"\n{buttons}" if buttons else ""),
                title=f"Telegram → {message.name}",
            )
        )
    return shown


def _advise(service: RegioTwin, outbox: OutboxStore) -> None:
    """A Steinfurt member (staff first) advises München on a topic Steinfurt teaches."""
    steinfurt = ids.region_id(STEINFURT, "")
    twinning = ids.twinning_id(ids.programme_id(PROGRAMME), steinfurt, ids.region_id(MUENCHEN, ""))
    with outbox.db.transaction() as tx:
        advisers = [
            recipient
            for recipient in outbox.recipients(tx, region_id=steinfurt.hex)
            if recipient.role in ("staff", "coordinator")
        ]
    advisers.sort(key=lambda recipient: recipient.role != "staff")
    if not advisers:
        return
    for topic in (Topic.CYCLING, *Topic):  # the advice speaks of cycling
        try:
            service.handle(
                GiveAdvice.parse(
                    twinning_id=twinning,
                    topic=topic,
                    text="Zählen Sie den Radverkehr vor und nach dem Pilotkorridor – "
                    "unsere Zählstellen-Daten schicken wir Ihnen gern.",
                ),
                actor=advisers[0].member_id,
                command_id=f"demo:notifications:advice:{twinning.hex}",
            )
            return
        except DomainError:
            continue


def _plain(text: str) -> str:
    """Telegram HTML as terminal text (rich markup escaped)."""
    plain = html.unescape(re.sub(r"</?(b|i|code)>", "", text))
    return plain.replace("[", r"\[")
