"""Long polling confirms an update to Telegram only once it has been handled, so a bot
that dies with updates in hand gets them again when it restarts."""

from __future__ import annotations

import asyncio
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.methods import GetUpdates, TelegramMethod
from aiogram.types import Message, Update

from bot.polling import ConfirmingPoller


class TelegramUpdates(Bot):
    """Telegram's getUpdates rule: updates below the offset asked for are forgotten."""

    def __init__(self, texts: list[str]) -> None:
        super().__init__(token="42:TEST")
        self.waiting = [update(number, text) for number, text in enumerate(texts, start=1)]
        self.offsets: list[int | None] = []

    async def __call__(
        self, method: TelegramMethod[Any], request_timeout: int | None = None
    ) -> Any:
        assert isinstance(method, GetUpdates)
        self.offsets.append(method.offset)
        if method.offset is not None:
            self.waiting = [u for u in self.waiting if u.update_id >= method.offset]
        if not self.waiting:
            await asyncio.sleep(0.01)  # a long poll with nothing new
        return self.waiting[: method.limit or 100]


def update(number: int, text: str) -> Update:
    return Update.model_validate(
        {
            "update_id": number,
            "message": {
                "message_id": number,
                "date": 0,
                "chat": {"id": 100 + number, "type": "private"},
                "from": {"id": 100 + number, "is_bot": False, "first_name": "P"},
                "text": text,
            },
        }
    )


class Handling:
    """A dispatcher whose handler notes each text and holds "slow" until released."""

    def __init__(self) -> None:
        self.handled: list[str] = []
        self.release = asyncio.Event()
        self.dispatcher = Dispatcher()
        self.dispatcher.message.register(self.handle)

    async def handle(self, message: Message) -> None:
        assert message.text is not None
        if message.text == "slow":
            await self.release.wait()
        self.handled.append(message.text)


async def until(condition: Any, seconds: float = 2.0) -> None:
    for _ in range(int(seconds / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not reached")


async def test_an_update_in_hand_is_not_confirmed_and_does_not_hold_up_the_others() -> None:
    telegram = TelegramUpdates(["slow", "quick"])
    handling = Handling()
    stop = asyncio.Event()
    poller = asyncio.create_task(ConfirmingPoller(handling.dispatcher, telegram).run(stop))
    await until(lambda: handling.handled == ["quick"])
    await asyncio.sleep(0.3)  # several polls while "slow" is in hand
    assert all(offset in (None, 1) for offset in telegram.offsets)
    assert [u.update_id for u in telegram.waiting] == [1, 2]  # Telegram still holds both
    handling.release.set()
    await until(lambda: handling.handled == ["quick", "slow"])
    await until(lambda: not telegram.waiting)  # both confirmed once finished
    assert telegram.offsets[-1] == 3
    stop.set()
    await poller
    assert handling.handled == ["quick", "slow"]  # each handled once, though seen often


async def test_a_bot_that_dies_with_an_update_in_hand_gets_it_again() -> None:
    telegram = TelegramUpdates(["slow", "quick"])
    first = Handling()
    dying = asyncio.create_task(ConfirmingPoller(first.dispatcher, telegram).run(asyncio.Event()))
    await until(lambda: first.handled == ["quick"])
    dying.cancel()  # killed: nothing is confirmed on the way out
    await asyncio.gather(dying, return_exceptions=True)

    restarted = Handling()
    restarted.release.set()
    stop = asyncio.Event()
    poller = asyncio.create_task(ConfirmingPoller(restarted.dispatcher, telegram).run(stop))
    await until(lambda: "slow" in restarted.handled)
    stop.set()
    await poller
    # "quick" comes again too (the handled-updates log answers such a repeat only once).
    assert sorted(restarted.handled) == ["quick", "slow"]
    assert not telegram.waiting


async def test_a_clean_stop_finishes_and_confirms_what_is_in_hand() -> None:
    telegram = TelegramUpdates(["slow"])
    handling = Handling()
    stop = asyncio.Event()
    poller = asyncio.create_task(ConfirmingPoller(handling.dispatcher, telegram).run(stop))
    await until(lambda: len(telegram.offsets) >= 2)
    stop.set()
    await asyncio.sleep(0.05)
    handling.release.set()
    await poller
    assert handling.handled == ["slow"]
    assert not telegram.waiting
