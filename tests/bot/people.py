"""Members who act through the bot: a Telegram person linked to a member of a region."""

from __future__ import annotations

from uuid import UUID

from domain.commands import InviteMember, JoinWithInvite
from tests.bot.conftest import BotWorld
from tests.bot.harness import Person


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
