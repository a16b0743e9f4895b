"""The bot's commands: names (English, with German aliases), who may use them, what they do.

/help and Telegram's command menu are built from this one list.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiogram.filters import Command

from bot.i18n import N_
from domain.service import MemberProfile
from domain.values import Role

EVERYONE: frozenset[Role | None] = frozenset({None, *Role})
MEMBERS: frozenset[Role | None] = frozenset(Role)
RECORDERS: frozenset[Role | None] = frozenset({Role.STAFF, Role.COORDINATOR, Role.ADMIN})
MANAGERS: frozenset[Role | None] = frozenset({Role.COORDINATOR, Role.ADMIN})


@dataclass(frozen=True)
class BotCommand:
    name: str
    aliases: tuple[str, ...]
    usage: str
    description: str  # English msgid
    roles: frozenset[Role | None]

    @property
    def filter(self) -> Command:
        return Command(self.name, *self.aliases, ignore_case=True)

    def allowed_for(self, member: MemberProfile | None) -> bool:
        return (None if member is None else member.role) in self.roles


CATALOG: dict[str, BotCommand] = {}


def command(
    name: str,
    usage: str,
    description: str,
    roles: frozenset[Role | None],
    aliases: tuple[str, ...] = (),
) -> BotCommand:
    entry = BotCommand(name, aliases, usage, description, roles)
    CATALOG[name] = entry
    return entry


START = command(
    "start", "/start", N_("explains the bot; /start CODE joins with an invite"), EVERYONE
)
HELP = command("help", "/help", N_("what you can do here"), EVERYONE, ("hilfe",))
CANCEL = command("cancel", "/cancel", N_("stops the current dialog"), EVERYONE, ("abbrechen",))
LANG = command("lang", "/lang de|en", N_("chooses your language"), MEMBERS, ("sprache",))
INVITE = command(
    "invite",
    "/invite REGION|office ROLE",
    N_("invites a member (e.g. /invite 09184 staff)"),
    MANAGERS,
    ("einladen",),
)
