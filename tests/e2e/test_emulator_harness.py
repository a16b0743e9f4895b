"""The end-to-end harness works: a real aiogram 3 bot polls the emulator, users speak to it."""

from __future__ import annotations

import asyncio
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any

import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramBadRequest, TelegramNotFound
from aiogram.filters import Command
from aiogram.methods import TelegramMethod
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from tests.e2e.conftest import StartBotProcess
from tests.e2e.emulator_client import Chat, EmulatorClient, EmulatorError, User, texts
from tests.e2e.harness import Emulator, start_emulator

PRESS = "press"


def echo_router() -> Router:
    """A tiny bot: /ping answers "pong" (with a button in private chats), the button edits."""
    router = Router(name="echo")

    @router.message(Command("ping"))
    async def ping(message: Message) -> None:
        assert message.from_user is not None
        if message.chat.type == "private":
            keyboard = InlineKeyboardMarkup(
                inline_keyboard=[[InlineKeyboardButton(text="Press me", callback_data=PRESS)]]
            )
            await message.answer("pong", reply_markup=keyboard)
        else:
            await message.reply(f"pong, {message.from_user.first_name}")

    @router.callback_query(F.data == PRESS)
    async def pressed(callback: CallbackQuery) -> None:
        assert isinstance(callback.message, Message)
        assert callback.message.text == "pong"  # the emulator fills in the pressed message
        await callback.message.edit_text(f"pressed by {callback.from_user.first_name}")
        await callback.answer("done")

    return router


class CountingSession(AiohttpSession):
    """aiogram's session, counting the API methods the bot calls."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.calls: Counter[str] = Counter()

    async def make_request(
        self, bot: Bot, method: TelegramMethod[Any], timeout: int | None = None
    ) -> Any:
        self.calls[type(method).__name__] += 1
        return await super().make_request(bot, method, timeout)


def emulated_bot(emulator: Emulator, token: str) -> Bot:
    session = CountingSession(api=TelegramAPIServer.from_base(emulator.url))
    return Bot(token, session=session)


@asynccontextmanager
async def polling_bot(emulator: Emulator, token: str) -> AsyncIterator[Bot]:
    """The echo bot long-polling the emulator in this event loop, stopped afterwards."""
    dispatcher = Dispatcher()
    dispatcher.include_router(echo_router())
    bot = emulated_bot(emulator, token)
    task = asyncio.create_task(
        dispatcher.start_polling(bot, handle_signals=False, polling_timeout=10)
    )
    try:
        yield bot
    finally:
        if not task.done():
            try:
                await dispatcher.stop_polling()
            except RuntimeError:  # not started yet
                task.cancel()
        with suppress(asyncio.CancelledError):
            await task  # raises what broke the polling, e.g. a getMe aiogram refused
        await bot.session.close()


@pytest.fixture
def anna() -> User:
    return User.make("Anna", "anna_ka")


@pytest.fixture
def ben() -> User:
    return User.make("Ben", "ben_hh")


async def test_ping_gets_pong(
    emulator: Emulator, bot_token: str, emulator_client: EmulatorClient, anna: User
) -> None:
    chat = Chat.private(anna)
    async with polling_bot(emulator, bot_token):
        sent = await emulator_client.send_command(anna, chat, "/ping")
        reply = await emulator_client.wait_for_reply(chat)

    assert sent.message_id is not None
    assert reply.text == "pong"
    assert reply.chat_id == anna.id
    assert reply.button_texts == ["Press me"]


async def test_button_press_edits_the_message(
    emulator: Emulator, bot_token: str, emulator_client: EmulatorClient, anna: User
) -> None:
    chat = Chat.private(anna)
    async with polling_bot(emulator, bot_token):
        await emulator_client.send_command(anna, chat, "/ping")
        pong = await emulator_client.wait_for_reply(chat, "pong")
        press = await emulator_client.press_button(anna, chat, pong, "Press me")
        edited = await emulator_client.wait_for_edit(chat, pong.message_id)
        answer = await emulator_client.wait_for_callback_answer(press.callback_query_id or "")

    assert edited.text == "pressed by Anna"
    assert edited.reply_markup is None  # edit_text without a keyboard drops it, as Telegram
    assert answer.text == "done"
    # The edit is visible in the history only; the client's getUpdates brings nothing new.
    assert await emulator_client.take_new_messages(chat) == []
    assert texts(await emulator_client.bot_messages(chat)) == ["pressed by Anna"]


async def test_two_users_in_a_group_each_get_their_answer(
    emulator: Emulator, bot_token: str, emulator_client: EmulatorClient, anna: User, ben: User
) -> None:
    group = Chat.group("Klimapartnerschaft Kiel–Wuppertal")
    async with polling_bot(emulator, bot_token):
        from_anna = await emulator_client.send_command(anna, group, "/ping")
        from_ben = await emulator_client.send_command(ben, group, f"/ping@{emulator.bot_username}")
        to_anna = await emulator_client.wait_for_reply(group, "Anna")
        to_ben = await emulator_client.wait_for_reply(group, "Ben")

    assert to_anna.text == "pong, Anna"
    assert to_ben.text == "pong, Ben"
    assert to_anna.raw["message"]["reply_parameters"]["message_id"] == from_anna.message_id
    assert to_ben.raw["message"]["reply_parameters"]["message_id"] == from_ben.message_id
    assert await emulator_client.bot_messages(Chat.private(anna)) == []


async def test_idle_polling_bot_long_polls_instead_of_spinning(
    emulator: Emulator, bot_token: str, emulator_client: EmulatorClient, anna: User
) -> None:
    chat = Chat.private(anna)
    async with polling_bot(emulator, bot_token) as bot:
        await emulator_client.send_command(anna, chat, "/ping")
        await emulator_client.wait_for_reply(chat, "pong")
        await asyncio.sleep(0.2)
        calls = bot.session.calls  # type: ignore[attr-defined]
        polls_before = calls["GetUpdates"]
        cpu_before = time.process_time()
        emulator_cpu_before = emulator.process.cpu_seconds()
        await asyncio.sleep(1.0)
        idle_polls = calls["GetUpdates"] - polls_before
        idle_cpu = time.process_time() - cpu_before
        emulator_cpu_after = emulator.process.cpu_seconds()

    assert idle_polls <= 2, f"{idle_polls} getUpdates in 1 s idle: the bot is not long-polling"
    assert idle_cpu < 0.3, f"the idle polling bot burnt {idle_cpu:.2f} s CPU in 1 s"
    if emulator_cpu_before is not None and emulator_cpu_after is not None:
        emulator_idle_cpu = emulator_cpu_after - emulator_cpu_before
        assert emulator_idle_cpu < 0.3, f"the emulator burnt {emulator_idle_cpu:.2f} s CPU idle"
    assert calls["GetMe"] >= 1


async def test_bot_api_quirks_are_worked_around(emulator: Emulator, bot_token: str) -> None:
    bot = emulated_bot(emulator, bot_token)
    try:
        me = await bot.get_me()
        assert me.is_bot
        assert me.id == int(bot_token.split(":")[0])
        assert me.username == emulator.bot_username

        # Methods the package lacks: harmless ones answer true, the rest a Telegram 404.
        assert await bot.set_my_commands([]) is True
        with pytest.raises(TelegramNotFound):
            await bot.send_photo(1, "https://example.invalid/photo.jpg")

        # Telegram's rules the emulator would let slip.
        too_long = InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text="x", callback_data="x" * 65)]]
        )
        with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
            await bot.send_message(1, "too much data", reply_markup=too_long)
        with pytest.raises(TelegramBadRequest, match="message to edit not found"):
            await bot.edit_message_text("nothing", chat_id=1, message_id=999_999)

        # Edit and delete answer like Telegram, not with null.
        sent = await bot.send_message(42, "hello")
        assert sent.date.year >= 2024  # seconds, not milliseconds
        assert sent.from_user is not None
        assert sent.from_user.is_bot
        edited = await bot.edit_message_text("hello again", chat_id=42, message_id=sent.message_id)
        assert isinstance(edited, Message)
        assert edited.text == "hello again"
        assert await bot.delete_message(42, sent.message_id) is True
    finally:
        await bot.session.close()


async def test_get_updates_waits_for_timeout_and_hands_out_once(
    emulator: Emulator, bot_token: str, emulator_client: EmulatorClient, anna: User
) -> None:
    bot = emulated_bot(emulator, bot_token)
    chat = Chat.private(anna)
    try:
        started = time.monotonic()
        assert await bot.get_updates(timeout=1) == []
        assert time.monotonic() - started >= 0.9

        # A poll waiting for updates returns as soon as one arrives.
        poll = asyncio.create_task(bot.get_updates(timeout=10))
        await asyncio.sleep(0.1)
        sent = await emulator_client.send_message(anna, chat, "hallo")
        updates = await asyncio.wait_for(poll, 5)
        assert [update.message.text for update in updates if update.message] == ["hallo"]
        assert updates[0].update_id == sent.update_id

        # At most once: not handed out again, whatever the offset says.
        assert await bot.get_updates(offset=0, timeout=0) == []

        # A button press arrives with chat_instance, so aiogram accepts the batch.
        await emulator_client.send_callback(anna, chat, 12345, "some-data")
        (update,) = await bot.get_updates(timeout=5)
        assert update.callback_query is not None
        assert update.callback_query.chat_instance
        assert update.callback_query.data == "some-data"
    finally:
        await bot.session.close()


async def test_bad_client_requests_do_not_kill_the_emulator(
    emulator: Emulator, emulator_client: EmulatorClient, anna: User
) -> None:
    status, answer = await emulator_client.raw_request("/sendMessage", {"text": "no token"})
    assert (status, answer["ok"]) == (400, False)
    command_without_entities = {
        "botToken": emulator_client.token,
        "from": anna.to_api(),
        "chat": Chat.private(anna).to_api(),
        "text": "/start",
    }
    status, _ = await emulator_client.raw_request("/sendCommand", command_without_entities)
    assert status == 400
    status, _ = await emulator_client.raw_request("/sendCallback", b"{not json")
    assert status in (400, 500)
    with pytest.raises(EmulatorError):
        await emulator_client.wait_for_reply(Chat.private(anna), timeout=0.2)
    await asyncio.sleep(0.1)
    emulator.assert_alive()


async def test_delete_message_deletes_the_bots_message_not_a_button_press(
    emulator: Emulator, bot_token: str, emulator_client: EmulatorClient, anna: User
) -> None:
    chat = Chat.private(anna)
    bot = emulated_bot(emulator, bot_token)
    try:
        first = await bot.send_message(chat.id, "first")
        # The package files a button press under the next message id ...
        await emulator_client.send_callback(anna, chat, first.message_id, "x")
        second = await bot.send_message(chat.id, "second")
        # ... which is the id of the bot's next message: that message is what goes.
        assert await bot.delete_message(chat.id, second.message_id) is True
        assert texts(await emulator_client.bot_messages(chat)) == ["first"]
        with pytest.raises(TelegramBadRequest, match="not found"):
            await bot.delete_message(chat.id, second.message_id)
    finally:
        await bot.session.close()


BOT_SCRIPT = """
import asyncio
import logging
import os

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.filters import Command


async def main() -> None:
    dispatcher = Dispatcher()

    @dispatcher.message(Command("ping"))
    async def ping(message):
        await message.answer("pong from a subprocess")

    api = TelegramAPIServer.from_base(os.environ["REGIOTWIN_TELEGRAM_API_URL"])
    bot = Bot(os.environ["REGIOTWIN_BOT_TOKEN"], session=AiohttpSession(api=api))
    await dispatcher.start_polling(bot)


logging.basicConfig(level=logging.INFO)
asyncio.run(main())
"""


async def test_bot_as_subprocess(
    emulator: Emulator,
    bot_token: str,
    emulator_client: EmulatorClient,
    start_bot_process: StartBotProcess,
    tmp_path: Path,
    anna: User,
) -> None:
    script = tmp_path / "echo_bot.py"
    script.write_text(BOT_SCRIPT, encoding="utf-8")
    bot = start_bot_process([sys.executable, str(script)], emulator.bot_env(bot_token))
    chat = Chat.private(anna)

    await emulator_client.send_command(anna, chat, "/ping")
    reply = await emulator_client.wait_for_reply(chat, timeout=15)

    assert reply.text == "pong from a subprocess"
    bot.assert_alive()
    assert "Run polling for bot" in bot.log_text()
    assert bot.stop() == 0  # aiogram stops polling cleanly on SIGTERM


def test_emulator_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    second = start_emulator(tmp_path / "second-emulator.log")
    assert second.process.alive
    started = time.monotonic()
    assert second.stop() == 0
    assert time.monotonic() - started < 3
    assert "SIGTERM: shutting down" in second.process.log_text()
