"""One chat's updates are handled in order; other chats are not held up."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from aiogram.types import Chat, Message, Update, User

from bot.ordering import ChatOrderMiddleware


def update(update_id: int, chat_id: int) -> Update:
    return Update(
        update_id=update_id,
        message=Message(
            message_id=update_id,
            date=datetime.now(tz=UTC),
            chat=Chat(id=chat_id, type="private"),
            from_user=User(id=chat_id, is_bot=False, first_name="X"),
            text=str(update_id),
        ),
    )


async def test_a_slow_update_is_not_overtaken_by_the_next_one_in_its_chat():
    middleware = ChatOrderMiddleware()
    finished: list[int] = []

    async def handler(event: Update, data: dict) -> None:
        await asyncio.sleep(0.05 if event.update_id == 1 else 0)
        finished.append(event.update_id)

    await asyncio.gather(
        middleware(handler, update(1, chat_id=7), {}),
        middleware(handler, update(2, chat_id=7), {}),
        middleware(handler, update(3, chat_id=8), {}),
    )

    assert finished.index(1) < finished.index(2)
    assert finished[0] == 3  # the other chat did not wait for chat 7
    assert middleware._locks == {}  # nothing kept once a chat is idle
