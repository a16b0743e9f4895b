"""Members who act through the bot: a Telegram person linked to a member of a region."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from aiogram.types import CallbackQuery, Chat, Message, Update

from domain.commands import InviteMember, JoinWithInvite
from tests.bot.conftest import BotWorld
from tests.bot.harness import BOT_USER, Person, Reply


def join(world: BotWorld, person: Person, region: str | None, role: str) -> UUID:
    """Invite ``person`` for ``region`` (key, slug, or None for the office) and join them."""
    invite = world.service.handle(InviteMember.parse(region=region, role=role), actor="system:test")
    assert invite.secret is not None
    joined = world.service.handle(
        JoinWithInvite.parse(
            code=invite.secret, telegram_user_id=person.id, name=person.first_name
        ),
        actor="system:onboarding",
    )
    world.settle()
    return joined.aggregate_id


# --- helpers of the exchange, advice and member tests ---------------------------------------


def button_update(
    world: BotWorld, person: Person, reply: Reply, button_text: str, chat: Chat | None = None
) -> Update:
    """The update of pressing a button (in a private chat unless ``chat`` is given), to feed
    it (again) with ``world.harness.feed``."""
    message = Message(
        message_id=reply.message_id or 1,
        date=datetime.now(tz=UTC),
        chat=chat or Chat(id=reply.chat_id or person.id, type="private"),
        from_user=BOT_USER,
        text=reply.text,
    )
    query = CallbackQuery(
        id=f"cb-{person.id}-{reply.message_id}-{button_text}",
        from_user=person.user,
        chat_instance="test",
        message=message,
        data=dict(reply.buttons)[button_text],
    )
    return Update(update_id=next(world.harness._update_ids), callback_query=query)


def with_button(replies: list[Reply], button_text: str) -> Reply:
    """The last reply that offers a button with this text."""
    for reply in reversed(replies):
        if button_text in dict(reply.buttons):
            return reply
    raise AssertionError(f"no button {button_text!r} in {[r.buttons for r in replies]}")


def forged(person: Person, data: str) -> Reply:
    """A message with one button whose data the client made up."""
    return Reply(
        method="SendMessage", chat_id=person.id, text="…", buttons=[("x", data)], message_id=1
    )


def said(replies: list[Reply]) -> str:
    """Everything the bot said (messages, edits and alerts), one after the other."""
    return "\n".join(reply.text for reply in replies)


# --- helpers of the status, measure, goal and timeline tests -------------------------------


def shown(replies: list[Reply]) -> Reply:
    """The one message a press or command showed (sent or edited), not the press's answer."""
    [screen] = [reply for reply in replies if reply.method != "AnswerCallbackQuery"]
    return screen


def alert(replies: list[Reply]) -> str:
    """What the answer to a button press said (empty if it said nothing)."""
    return " ".join(reply.text for reply in replies if reply.method == "AnswerCallbackQuery")
