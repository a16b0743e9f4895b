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
LANG = command("lang", "/lang de|en", N_("chooses your language"), MEMBERS, ("sprache",))
STATUS = command("status", "/status [TWINNING]", N_("where a twinning stands"), MEMBERS, ("stand",))
PROGRAMME = command(
    "programme", "/programme", N_("all twinnings, ranked by progress"), MEMBERS, ("programm",)
)
MEASURES = command(
    "measures",
    "/measures [REGION] [TOPIC] [STATUS] [TEXT]",
    N_("the measure catalogue, filtered and searchable"),
    MEMBERS,
    ("massnahmen",),
)
MEASURE = command("measure", "/measure CODE", N_("one measure in full"), MEMBERS, ("massnahme",))
NEW_MEASURE = command(
    "newmeasure",
    "/newmeasure",
    N_("proposes a new measure (guided)"),
    RECORDERS,
    ("neuemassnahme",),
)
SET_STATUS = command(
    "setstatus",
    "/setstatus CODE STATUS [NOTE]",
    N_("moves a measure on (planned, in_progress, implemented, discontinued)"),
    RECORDERS,
    ("setzestatus",),
)
PROGRESS = command(
    "progress",
    "/progress CODE PERCENT [NOTE]",
    N_("reports a measure's progress"),
    RECORDERS,
    ("fortschritt",),
)
GOALS = command(
    "goals", "/goals [REGION]", N_("the goals of the energy vision"), MEMBERS, ("ziele",)
)
GOAL = command("goal", "/goal", N_("sets or revises a goal (guided)"), RECORDERS, ("ziel",))
EXCHANGE = command(
    "exchange",
    "/exchange",
    N_("records an exchange with the partner (guided)"),
    RECORDERS,
    ("austausch",),
)
FOLLOW_UPS = command(
    "followups", "/followups", N_("open follow-ups, overdue first"), MEMBERS, ("aufgaben",)
)
DONE = command("done", "/done FOLLOW-UP", N_("marks a follow-up as done"), RECORDERS, ("erledigt",))
ASK_ADVICE = command(
    "askadvice",
    "/askadvice",
    N_("asks the partner for advice (learning side)"),
    RECORDERS,
    ("ratfragen",),
)
ADVISE = command(
    "advise",
    "/advise",
    N_("gives advice to the partner (teaching side)"),
    RECORDERS,
    ("raten",),
)
ADVICE = command(
    "advice", "/advice", N_("open advice: acknowledge, adopt or decline"), MEMBERS, ("rat",)
)
TIMELINE = command(
    "timeline",
    "/timeline [CODE|TWINNING]",
    N_("what happened, newest first"),
    MEMBERS,
    ("verlauf",),
)
INVITE = command(
    "invite",
    "/invite REGION|office ROLE",
    N_("invites a member (e.g. /invite 09184 staff)"),
    MANAGERS,
    ("einladen",),
)
ERASE = command(
    "erase",
    "/erase me|MEMBER REASON",
    N_("erases personal data: your own (me), or a member's (admins)"),
    MEMBERS,
    ("loeschen",),
)
MEMBERS_LIST = command(
    "members", "/members [REGION]", N_("the members you manage"), MANAGERS, ("mitglieder",)
)
ROLE = command("role", "/role MEMBER ROLE", N_("changes a member's role"), MANAGERS, ("rolle",))
REMOVE = command(
    "remove", "/remove MEMBER REASON", N_("removes a member"), MANAGERS, ("entfernen",)
)
SUBSCRIBE = command(
    "subscribe",
    "/subscribe [KIND] [TWINNING]",
    N_("chooses which notifications you receive"),
    MEMBERS,
    ("abonnieren",),
)
MUTE = command(
    "mute",
    "/mute KIND|all [until DATE]",
    N_("mutes notifications (all: a holiday until a date)"),
    MEMBERS,
    ("stumm",),
)
DIGEST = command(
    "digest",
    "/digest daily|weekly|off",
    N_("one summary instead of single messages"),
    MEMBERS,
    ("zusammenfassung",),
)
AUDITORS: frozenset[Role | None] = frozenset({Role.AUDITOR, Role.COORDINATOR, Role.ADMIN})
HISTORY = command(
    "history",
    "/history CODE|TWINNING|MEMBER",
    N_("every change with who and when"),
    AUDITORS,
    ("historie",),
)
AS_OF = command(
    "asof",
    "/asof DATE [status|measures|twinning]",
    N_("the status as it was known on a date"),
    AUDITORS,
    ("stichtag",),
)
EXPORT = command(
    "export",
    "/export",
    N_("the complete log and tables as files"),
    frozenset({Role.AUDITOR, Role.ADMIN}),  # the whole programme's log, not one region's
)
VERIFY = command("verify", "/verify", N_("proves the log was not altered"), AUDITORS, ("pruefen",))
CHART = command(
    "chart", "/chart [REGION]", N_("the implementation rate as a chart"), MEMBERS, ("grafik",)
)
CANCEL = command("cancel", "/cancel", N_("stops the current dialog"), EVERYONE, ("abbrechen",))
