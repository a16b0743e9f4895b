"""Drives the real dispatcher in-process, with a session that records what the bot sends.

The demo plays its conversation through this, and the in-process tests use it: people
write and press buttons as aiogram ``Update`` objects; the ``RecordingSession`` answers
the Bot API calls the way Telegram would and keeps every call, so a conversation can be
printed as a transcript or checked.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.base import BaseSession
from aiogram.enums import ParseMode
from aiogram.methods import (
    EditMessageText,
    GetMe,
    SendMessage,
    TelegramMethod,
)
from aiogram.types import (
    CallbackQuery,
    Chat,
    InputFile,
    Message,
    MessageEntity,
    Update,
    User,
)

BOT_USER = User(id=4242, is_bot=True, first_name="RegioTwin", username="regiotwin_bot")
BOT_TOKEN = "4242:IN-PROCESS-regiotwin"


@dataclass(frozen=True)
class Upload:
    method: str
    file_name: str
    content: bytes


class RecordingSession(BaseSession):
    """Records every Bot API call and answers like Telegram would."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[TelegramMethod[Any], Any]] = []
        self.uploads: list[Upload] = []
        """Files sent (documents, photos), read when sent: temporary files may go after."""
        self._message_ids = itertools.count(5000)

    async def make_request(
        self, bot: Bot, method: TelegramMethod[Any], timeout: int | None = None
    ) -> Any:
        for attribute in ("document", "photo"):
            file = getattr(method, attribute, None)
            if isinstance(file, InputFile):
                content = b"".join([chunk async for chunk in file.read(bot)])
                self.uploads.append(Upload(type(method).__name__, file.filename or "", content))
        result = self._answer(method)
        self.calls.append((method, result))
        return result

    def _answer(self, method: TelegramMethod[Any]) -> Any:
        if isinstance(method, GetMe):
            return BOT_USER
        if isinstance(method, SendMessage | EditMessageText):
            chat_id = int(method.chat_id) if method.chat_id is not None else 0
            return Message(
                message_id=getattr(method, "message_id", None) or next(self._message_ids),
                date=datetime.now(tz=UTC),
                chat=Chat(id=chat_id, type="private" if chat_id > 0 else "group"),
                from_user=BOT_USER,
                text=method.text,
                reply_markup=method.reply_markup,
            )
        return True

    async def close(self) -> None:
        return None

    async def stream_content(self, *args: Any, **kwargs: Any) -> AsyncGenerator[bytes, None]:
        yield b""


@dataclass
class Person:
    id: int
    first_name: str
    language_code: str = "de"

    @property
    def user(self) -> User:
        return User(
            id=self.id, is_bot=False, first_name=self.first_name, language_code=self.language_code
        )

    @property
    def private_chat(self) -> Chat:
        return Chat(id=self.id, type="private", first_name=self.first_name)


GROUP = Chat(id=-100777, type="supergroup", title="Twinning München–Steinfurt")


@dataclass
class Reply:
    method: str
    chat_id: int | None
    text: str
    buttons: list[tuple[str, str]] = field(default_factory=list)
    message_id: int | None = None
    show_alert: bool | None = None
    file_name: str | None = None
    """For a document or photo: its file name (the text is its caption)."""


class BotHarness:
    def __init__(self, dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher
        self.session = RecordingSession()
        self.bot = Bot(
            BOT_TOKEN,
            session=self.session,
            default=DefaultBotProperties(parse_mode=ParseMode.HTML),
        )
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._callback_ids = itertools.count(1)

    def _message(self, person: Person, text: str, chat: Chat | None) -> Message:
        entities = None
        if text.startswith("/"):
            length = len(text.split()[0])
            entities = [MessageEntity(type="bot_command", offset=0, length=length)]
        return Message(
            message_id=next(self._message_ids),
            date=datetime.now(tz=UTC),
            chat=chat or person.private_chat,
            from_user=person.user,
            text=text,
            entities=entities,
        )

    async def feed(self, update: Update) -> list[Reply]:
        before = len(self.session.calls)
        await self.dispatcher.feed_update(self.bot, update)
        replies = [_reply(call, result) for call, result in self.session.calls[before:]]
        return [reply for reply in replies if reply is not None]

    def message_update(self, person: Person, text: str, chat: Chat | None = None) -> Update:
        return Update(update_id=next(self._update_ids), message=self._message(person, text, chat))

    async def send(self, person: Person, text: str, chat: Chat | None = None) -> list[Reply]:
        return await self.feed(self.message_update(person, text, chat))

    async def press(self, person: Person, reply: Reply, button_text: str) -> list[Reply]:
        data = dict(reply.buttons)[button_text]
        message = Message(
            message_id=reply.message_id or 1,
            date=datetime.now(tz=UTC),
            chat=Chat(id=reply.chat_id or person.id, type="private"),
            from_user=BOT_USER,
            text=reply.text,
        )
        query = CallbackQuery(
            id=f"cb{next(self._callback_ids)}",
            from_user=person.user,
            chat_instance="test",
            message=message,
            data=data,
        )
        return await self.feed(Update(update_id=next(self._update_ids), callback_query=query))


def _reply(call: TelegramMethod[Any], result: Any) -> Reply | None:
    name = type(call).__name__
    text = getattr(call, "text", None)
    upload = getattr(call, "document", None) or getattr(call, "photo", None)
    file_name = upload.filename if isinstance(upload, InputFile) else None
    if file_name is not None:
        text = getattr(call, "caption", None) or ""
    if text is None and name not in ("AnswerCallbackQuery",):
        return None
    markup = getattr(call, "reply_markup", None)
    buttons = []
    if markup is not None and hasattr(markup, "inline_keyboard"):
        buttons = [
            (button.text, button.callback_data or button.url or "")
            for row in markup.inline_keyboard
            for button in row
        ]
    chat_id = getattr(call, "chat_id", None)
    return Reply(
        method=name,
        chat_id=int(chat_id) if chat_id is not None else None,
        text=text or "",
        buttons=buttons,
        message_id=result.message_id if isinstance(result, Message) else None,
        show_alert=getattr(call, "show_alert", None),
        file_name=file_name,
    )
