"""An async client for the client API of the Telegram Bot API emulator (``telegram-test-api``).

The emulator (started by ``tests/e2e/emulator/launcher.js``) speaks Telegram's bot API to the
bot under test and a small client API to the test, which speaks as users:

- ``POST /sendMessage``, ``/sendCommand``, ``/sendCallback`` store a user's update for the bot
  (the body is the Telegram ``Message`` / ``CallbackQuery`` plus ``botToken``; the launcher
  answers ``{update_id, message_id}`` / ``{update_id, callback_query_id}``);
- ``POST /getUpdates {token, chatId, timeout?}`` hands out the bot's new messages in one chat,
  each exactly once, as the emulator stores them: ``{time, botToken, updateId, messageId,
  isRead, message: <the bot's sendMessage request: chat_id, text, reply_markup, …>}``;
- ``POST /getUpdatesHistory {token}`` lists everything of one bot (its messages in their
  current, edited state, and the users' updates), oldest first. Edits show only here.
- ``POST /getCallbackAnswers {token}`` (launcher extension) lists the bot's
  ``answerCallbackQuery`` calls.

Each bot token is its own namespace in the emulator, so a test that takes a fresh token sees
nothing of other tests.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal, Self

import aiohttp

__all__ = [
    "BotMessage",
    "CallbackAnswer",
    "Chat",
    "EmulatorClient",
    "EmulatorError",
    "SentUpdate",
    "User",
    "texts",
]

_user_ids = itertools.count(100_001)
_group_ids = itertools.count(1)


class EmulatorError(AssertionError):
    """The emulator refused a request, or what a test waited for did not come."""


@dataclass(frozen=True)
class User:
    """A Telegram user the test speaks as."""

    id: int
    first_name: str
    username: str | None = None
    last_name: str | None = None
    language_code: str | None = "de"

    @classmethod
    def make(cls, first_name: str, username: str | None = None, **kwargs: Any) -> User:
        """A user with a fresh id."""
        return cls(id=next(_user_ids), first_name=first_name, username=username, **kwargs)

    def to_api(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        return data


@dataclass(frozen=True)
class Chat:
    """A chat the test speaks in: a user's private chat with the bot, or a group."""

    id: int
    type: Literal["private", "group", "supergroup"]
    title: str | None = None
    first_name: str | None = None
    username: str | None = None

    @classmethod
    def private(cls, user: User) -> Chat:
        """The private chat of ``user`` with the bot (its id is the user's id)."""
        return cls(id=user.id, type="private", first_name=user.first_name, username=user.username)

    @classmethod
    def group(cls, title: str, chat_id: int | None = None) -> Chat:
        """A (basic) group with a fresh negative id unless one is given."""
        return cls(
            id=chat_id if chat_id is not None else -next(_group_ids), type="group", title=title
        )

    @classmethod
    def supergroup(cls, title: str, chat_id: int | None = None) -> Chat:
        number = chat_id if chat_id is not None else -(1_000_000_000_000 + next(_group_ids))
        return cls(id=number, type="supergroup", title=title)

    def to_api(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "type": self.type}
        for key in ("title", "first_name", "username"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        return data


@dataclass(frozen=True)
class SentUpdate:
    """What the emulator stored for a user's message, command or button press."""

    update_id: int
    message_id: int | None = None
    callback_query_id: str | None = None


@dataclass(frozen=True)
class BotMessage:
    """A message the bot sent, as the emulator stores it (the bot's sendMessage request)."""

    message_id: int
    chat_id: int
    text: str
    reply_markup: dict[str, Any] | None
    raw: dict[str, Any] = field(repr=False)

    @classmethod
    def from_entry(cls, entry: dict[str, Any]) -> BotMessage:
        message = entry["message"]
        return cls(
            message_id=int(entry["messageId"]),
            chat_id=int(message["chat_id"]),
            text=message.get("text", ""),
            reply_markup=message.get("reply_markup"),
            raw=entry,
        )

    @property
    def edited(self) -> bool:
        """Whether the bot edited this message (the launcher stamps ``edit_date``)."""
        return "edit_date" in self.raw["message"]

    @property
    def parse_mode(self) -> str | None:
        return self.raw["message"].get("parse_mode")

    @property
    def inline_keyboard(self) -> list[list[dict[str, Any]]]:
        markup = self.reply_markup or {}
        return markup.get("inline_keyboard", [])

    @property
    def buttons(self) -> list[dict[str, Any]]:
        """All inline buttons, row by row."""
        return [button for row in self.inline_keyboard for button in row]

    @property
    def button_texts(self) -> list[str]:
        return [button["text"] for button in self.buttons]

    def callback_data(self, button_text: str) -> str:
        """The callback data of the inline button labelled ``button_text`` (or containing it)."""
        for exact in (True, False):
            for button in self.buttons:
                label = button.get("text", "")
                if (label == button_text if exact else button_text in label) and (
                    "callback_data" in button
                ):
                    return button["callback_data"]
        raise EmulatorError(f"no button {button_text!r} under {self.text!r}: {self.button_texts}")


@dataclass(frozen=True)
class CallbackAnswer:
    """One ``answerCallbackQuery`` call of the bot."""

    callback_query_id: str
    text: str | None
    show_alert: bool
    raw: dict[str, Any] = field(repr=False)


Predicate = Callable[[BotMessage], bool]


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _matches(predicate: Predicate | str | None, message: BotMessage) -> bool:
    if predicate is None:
        return True
    if isinstance(predicate, str):
        return predicate in message.text
    return predicate(message)


class EmulatorClient:
    """Speaks to the emulator as users of one bot (one bot token).

    Use as ``async with EmulatorClient(url, token) as tg: ...`` or pass an aiohttp session.
    Bot messages taken from the emulator's at-most-once ``/getUpdates`` are kept in an inbox
    per chat, so :meth:`wait_for_reply` can skip messages without losing them for later waits.
    """

    def __init__(
        self,
        url: str,
        token: str,
        session: aiohttp.ClientSession | None = None,
        *,
        default_timeout: float = 5.0,
    ) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.default_timeout = default_timeout
        self._session = session
        self._owns_session = session is None
        self._inbox: dict[int, list[BotMessage]] = {}
        self._claimed: set[tuple[int, int]] = set()

    async def __aenter__(self) -> Self:
        self._ensure_session()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None

    def _ensure_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
            self._owns_session = True
        return self._session

    async def raw_request(self, path: str, body: dict[str, Any] | bytes) -> tuple[int, Any]:
        """POST ``body`` (JSON, or raw bytes) to ``path``; the HTTP status and the parsed
        answer (or its text), without checking either. For testing the emulator itself."""
        session = self._ensure_session()
        kwargs: dict[str, Any] = {"data": body} if isinstance(body, bytes) else {"json": body}
        async with session.post(f"{self.url}{path}", **kwargs) as response:
            text = await response.text()
            try:
                return response.status, json.loads(text)
            except ValueError:
                return response.status, text

    async def _post(self, path: str, payload: dict[str, Any]) -> Any:
        session = self._ensure_session()
        async with session.post(f"{self.url}{path}", json=payload) as response:
            try:
                data = await response.json(content_type=None)
            except (aiohttp.ContentTypeError, ValueError) as error:
                text = await response.text()
                raise EmulatorError(f"{path}: HTTP {response.status}, no JSON: {text!r}") from error
        if response.status != 200 or not isinstance(data, dict) or not data.get("ok"):
            raise EmulatorError(f"{path}: HTTP {response.status}: {data!r}")
        return data.get("result")

    # --- users speak ---------------------------------------------------------------------------

    def _message(self, user: User, chat: Chat, text: str, **extra: Any) -> dict[str, Any]:
        return {
            "botToken": self.token,
            "from": user.to_api(),
            "chat": chat.to_api(),
            "date": int(time.time()),
            "text": text,
            **extra,
        }

    @staticmethod
    def _sent(result: dict[str, Any]) -> SentUpdate:
        return SentUpdate(
            update_id=int(result["update_id"]),
            message_id=result.get("message_id"),
            callback_query_id=result.get("callback_query_id"),
        )

    async def send_message(self, user: User, chat: Chat, text: str, **extra: Any) -> SentUpdate:
        """``user`` writes ``text`` in ``chat`` (extra Message fields, e.g. ``entities``)."""
        result = await self._post("/sendMessage", self._message(user, chat, text, **extra))
        return self._sent(result)

    async def send_command(self, user: User, chat: Chat, text: str, **extra: Any) -> SentUpdate:
        """``user`` sends a command such as ``/start`` or ``/join@Bot arg`` in ``chat``."""
        if not text.startswith("/"):
            raise ValueError(f"a command starts with '/': {text!r}")
        command = text.split(maxsplit=1)[0]
        entities = [{"type": "bot_command", "offset": 0, "length": _utf16_len(command)}]
        payload = self._message(user, chat, text, entities=entities, **extra)
        return self._sent(await self._post("/sendCommand", payload))

    async def send_callback(self, user: User, chat: Chat, message_id: int, data: str) -> SentUpdate:
        """``user`` presses the inline button with ``data`` under bot message ``message_id``.

        The launcher fills the callback's message in from the stored bot message (its current
        text and keyboard) and adds ``chat_instance``.
        """
        payload = {
            "botToken": self.token,
            "from": user.to_api(),
            "message": {"message_id": message_id, "chat": chat.to_api()},
            "data": data,
        }
        return self._sent(await self._post("/sendCallback", payload))

    async def press_button(
        self, user: User, chat: Chat, message: BotMessage, button_text: str
    ) -> SentUpdate:
        """``user`` presses the button labelled ``button_text`` under ``message``."""
        data = message.callback_data(button_text)
        return await self.send_callback(user, chat, message.message_id, data)

    # --- the bot's side ------------------------------------------------------------------------

    async def take_new_messages(self, chat: Chat | int, wait: float = 0) -> list[BotMessage]:
        """The bot's messages in ``chat`` not handed out before (the emulator's ``/getUpdates``:
        each message once, in its state when sent or last edited; edits of messages taken
        before do not come again). With ``wait`` > 0 the emulator holds the request until one
        exists or ``wait`` seconds pass. They are also kept in this client's inbox.
        """
        chat_id = chat.id if isinstance(chat, Chat) else chat
        payload: dict[str, Any] = {"token": self.token, "chatId": chat_id}
        if wait > 0:
            payload["timeout"] = wait
        entries = await self._post("/getUpdates", payload)
        messages = [BotMessage.from_entry(entry) for entry in entries]
        self._inbox.setdefault(chat_id, []).extend(messages)
        return messages

    async def history(self) -> list[dict[str, Any]]:
        """The emulator's raw history of this bot (bot and user updates), oldest first."""
        return await self._post("/getUpdatesHistory", {"token": self.token})

    async def bot_messages(self, chat: Chat | int | None = None) -> list[BotMessage]:
        """The bot's messages (in ``chat``, or all) in their current state, oldest first.

        Reads the history, so it does not consume anything and shows edits.
        """
        chat_id = chat.id if isinstance(chat, Chat) else chat
        messages = [
            BotMessage.from_entry(entry)
            for entry in await self.history()
            if "message" in entry and "chat_id" in entry["message"]
        ]
        if chat_id is None:
            return messages
        return [message for message in messages if message.chat_id == chat_id]

    async def bot_message(self, chat: Chat | int, message_id: int) -> BotMessage:
        """The current state of one bot message (from the history)."""
        for message in await self.bot_messages(chat):
            if message.message_id == message_id:
                return message
        raise EmulatorError(f"no bot message {message_id} in chat {chat}")

    async def wait_for_reply(
        self,
        chat: Chat | int,
        predicate: Predicate | str | None = None,
        timeout: float | None = None,
    ) -> BotMessage:
        """The first bot message in ``chat`` matching ``predicate`` that no wait returned yet.

        ``predicate`` is a function of the :class:`BotMessage` or a text the message contains;
        ``None`` takes the next message. Messages skipped stay available for later waits.
        """
        chat_id = chat.id if isinstance(chat, Chat) else chat
        deadline = time.monotonic() + (self.default_timeout if timeout is None else timeout)
        while True:
            for message in self._inbox.get(chat_id, []):
                key = (chat_id, message.message_id)
                if key not in self._claimed and _matches(predicate, message):
                    self._claimed.add(key)
                    return message
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                seen = [message.text for message in self._inbox.get(chat_id, [])]
                raise EmulatorError(
                    f"no bot reply matching {predicate!r} in chat {chat_id} within "
                    f"{timeout or self.default_timeout}s; bot messages seen there: {seen!r}"
                )
            await self.take_new_messages(chat_id, wait=min(remaining, 1.0))

    async def wait_for_replies(
        self, chat: Chat | int, count: int, timeout: float | None = None
    ) -> list[BotMessage]:
        """The next ``count`` bot messages in ``chat``."""
        return [await self.wait_for_reply(chat, timeout=timeout) for _ in range(count)]

    async def wait_for_edit(
        self,
        chat: Chat | int,
        message_id: int,
        predicate: Predicate | str | None = None,
        timeout: float | None = None,
        interval: float = 0.05,
    ) -> BotMessage:
        """Bot message ``message_id`` once it matches ``predicate`` (default: once edited).

        Edits only show in ``/getUpdatesHistory``, so this polls the history.
        """
        check: Predicate | str = predicate if predicate is not None else (lambda m: m.edited)
        deadline = time.monotonic() + (self.default_timeout if timeout is None else timeout)
        last: BotMessage | None = None
        while True:
            for message in await self.bot_messages(chat):
                if message.message_id == message_id:
                    last = message
                    if _matches(check, message):
                        return message
            if time.monotonic() >= deadline:
                raise EmulatorError(
                    f"bot message {message_id} never matched {check!r}; last state: {last!r}"
                )
            await asyncio.sleep(interval)

    async def assert_no_reply(self, chat: Chat | int, within: float = 0.5) -> None:
        """Fail if the bot sends anything new in ``chat`` within ``within`` seconds."""
        chat_id = chat.id if isinstance(chat, Chat) else chat
        deadline = time.monotonic() + within
        while (remaining := deadline - time.monotonic()) > 0:
            await self.take_new_messages(chat_id, wait=remaining)
            unclaimed = [
                message.text
                for message in self._inbox.get(chat_id, [])
                if (chat_id, message.message_id) not in self._claimed
            ]
            if unclaimed:
                raise EmulatorError(f"unexpected bot messages in chat {chat_id}: {unclaimed!r}")

    async def callback_answers(self) -> list[CallbackAnswer]:
        """The bot's ``answerCallbackQuery`` calls, oldest first."""
        result = await self._post("/getCallbackAnswers", {"token": self.token})
        return [
            CallbackAnswer(
                callback_query_id=str(answer.get("callback_query_id")),
                text=answer.get("text"),
                show_alert=str(answer.get("show_alert", "")).lower() == "true",
                raw=answer,
            )
            for answer in result
        ]

    async def wait_for_callback_answer(
        self, callback_query_id: str, timeout: float | None = None, interval: float = 0.05
    ) -> CallbackAnswer:
        deadline = time.monotonic() + (self.default_timeout if timeout is None else timeout)
        while True:
            for answer in await self.callback_answers():
                if answer.callback_query_id == callback_query_id:
                    return answer
            if time.monotonic() >= deadline:
                raise EmulatorError(f"callback query {callback_query_id} was never answered")
            await asyncio.sleep(interval)


def texts(messages: Iterable[BotMessage]) -> list[str]:
    """The texts of ``messages``, for readable assertions."""
    return [message.text for message in messages]
