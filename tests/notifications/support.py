"""A world to tell notification scenarios in, and a Bot API to send them to."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.base import BaseSession
from aiogram.enums import ParseMode
from aiogram.methods import SendMessage, TelegramMethod

from bot.i18n import build_i18n
from bot.notifier import Notifier, SenderPolicy
from domain.clock import ManualClock
from domain.commands import ChooseLanguage
from domain.service import RegioTwin
from projections.outbox import OutboxStore
from projections.outbox_projection import OutboxProjection, apply_log
from tests import builders

BOT_TOKEN = "4242:TEST-TOKEN-notifications"


@dataclass
class People:
    """München (learning) and Steinfurt (teaching), each with staff and a coordinator;
    the programme office; and Marburg, outside the twinning."""

    pair: builders.Pair
    muenchen_coordinator: UUID
    steinfurt_coordinator: UUID
    office: UUID
    office_staff: UUID
    marburg_staff: UUID

    @property
    def names(self) -> dict[UUID, str]:
        return {
            self.pair.muenchen_staff: "muenchen_staff",
            self.muenchen_coordinator: "muenchen_coordinator",
            self.pair.steinfurt_staff: "steinfurt_staff",
            self.steinfurt_coordinator: "steinfurt_coordinator",
            self.office: "office",
            self.office_staff: "office_staff",
            self.marburg_staff: "marburg_staff",
        }


def people(service: RegioTwin) -> People:
    pair = builders.muenchen_and_steinfurt(service, start=False)
    builders.marburg(service)
    return People(
        pair=pair,
        muenchen_coordinator=builders.member(service, "09184", "coordinator", "Karl Koch"),
        steinfurt_coordinator=builders.member(service, "05566", "coordinator", "Stefanie Sommer"),
        office=builders.member(service, None, "coordinator", "Paula Programm"),
        office_staff=builders.member(service, None, "staff", "Otto Office"),
        marburg_staff=builders.member(service, "06534", "staff", "Mia Marburg"),
    )


@dataclass
class Outbox:
    """The domain service, an outbox and its projection, applied on demand."""

    service: RegioTwin
    store: OutboxStore
    projection: OutboxProjection
    clock: ManualClock

    def apply(self) -> int:
        return apply_log(self.projection, self.service.app)

    def rows(self, **where: Any) -> list[dict[str, Any]]:
        return self.store.notifications(**where)

    def after(self, last_id: int) -> list[dict[str, Any]]:
        return [row for row in self.rows() if row["id"] > last_id]

    def last_id(self) -> int:
        rows = self.rows()
        return rows[-1]["id"] if rows else 0

    def choose_language(self, member: UUID, language: str) -> None:
        builders.act(self.service, member, ChooseLanguage, member_id=member, language=language)


# --- a Bot API that answers as told ---------------------------------------------------------


@dataclass
class Call:
    at: datetime
    chat_id: int
    text: str
    buttons: list[tuple[str, str]]
    status: int


Answer = tuple[int, dict[str, Any]]


def ok(chat_id: int, text: str, message_id: int) -> Answer:
    return 200, {
        "ok": True,
        "result": {
            "message_id": message_id,
            "date": 1_700_000_000,
            "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "group"},
            "text": text,
        },
    }


def too_many(retry_after: int) -> Answer:
    return 429, {
        "ok": False,
        "error_code": 429,
        "description": f"Too Many Requests: retry after {retry_after}",
        "parameters": {"retry_after": retry_after},
    }


def forbidden() -> Answer:
    return 403, {
        "ok": False,
        "error_code": 403,
        "description": "Forbidden: bot was blocked by the user",
    }


def server_error() -> Answer:
    return 502, {"ok": False, "error_code": 502, "description": "Bad Gateway"}


def bad_request(description: str = "Bad Request: can't parse entities") -> Answer:
    return 400, {"ok": False, "error_code": 400, "description": description}


Script = Callable[[int, int], Answer | None]
"""(chat id, how many times this chat was tried before) -> an answer, or None for 200."""


class FakeBotAPI(BaseSession):
    """Answers sendMessage like Telegram would, per a script; records every call with the
    (fake) time it was made. Answers go through aiogram's own ``check_response``, so a
    429 becomes aiogram's ``TelegramRetryAfter`` exactly as with the real Bot API."""

    def __init__(self, clock: ManualClock, script: Script | None = None) -> None:
        super().__init__()
        self.clock = clock
        self.script = script or (lambda chat, tries: None)
        self.calls: list[Call] = []
        self._tries: dict[int, int] = {}
        self._ids = itertools.count(1)

    async def make_request(
        self, bot: Bot, method: TelegramMethod[Any], timeout: int | None = None
    ) -> Any:
        assert isinstance(method, SendMessage), method
        chat_id = int(method.chat_id)
        tries = self._tries.get(chat_id, 0)
        self._tries[chat_id] = tries + 1
        status, body = self.script(chat_id, tries) or ok(chat_id, method.text, next(self._ids))
        markup = method.reply_markup
        buttons = (
            [(b.text, b.callback_data or "") for row in markup.inline_keyboard for b in row]
            if markup is not None
            else []
        )
        self.calls.append(Call(self.clock.now(), chat_id, method.text, buttons, status))
        response = self.check_response(bot, method, status, json.dumps(body))
        return response.result

    def delivered(self) -> list[Call]:
        return [call for call in self.calls if call.status == 200]

    async def close(self) -> None:
        return None

    async def stream_content(self, *args: Any, **kwargs: Any) -> AsyncGenerator[bytes, None]:
        yield b""


def fake_bot(api: BaseSession) -> Bot:
    return Bot(BOT_TOKEN, session=api, default=DefaultBotProperties(parse_mode=ParseMode.HTML))


def fake_sleep(clock: ManualClock) -> Callable[[float], Any]:
    async def sleep(seconds: float) -> None:
        clock.advance(timedelta(seconds=seconds))
        await asyncio.sleep(0)

    return sleep


def notifier(store: OutboxStore, api: FakeBotAPI, clock: ManualClock, **policy: Any) -> Notifier:
    return Notifier(
        store,
        fake_bot(api),
        clock,
        build_i18n(),
        policy=SenderPolicy(**policy),
        sleep=fake_sleep(clock),
        instance="test",
    )


START = datetime(2016, 6, 1, 9, 0, tzinfo=UTC)


@dataclass
class Sent:
    """What one chat received, in order."""

    texts: list[str] = field(default_factory=list)
