"""Hypothesis strategies for whatever may arrive at the bot's front door.

A *plan* is drawn by hypothesis and turned into a :class:`~tests.reliability.front.Knock`
(the raw update and whether it could record anything) only when it is fed, because buttons
and dialog steps depend on what the bot said before.

Arguments come from three pools: hostile fragments (markup, injections, odd Unicode, huge
numbers, impossible dates), plausible words (real measure codes, statuses, regions, roles,
handles, follow-up codes) and random text. An argument is *poisoned* when it contains a
character that no code, key, handle, status, role or date can contain; a recording command
whose first argument is poisoned is garbage by construction and must not record.
"""

from __future__ import annotations

import base64
import os
import re
import uuid
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from bot import catalog
from tests.bot.harness import Person
from tests.reliability.cast import EVERYONE, SEATS, STRANGERS, Seat
from tests.reliability.front import (
    RECORDING_BUTTONS,
    RECORDING_COMMANDS,
    RECORDING_TEXT_STATES,
    Front,
    Knock,
    Shown,
)

POISON = (
    "<",
    ">",
    "&",
    '"',
    "'",
    "`",
    "*",
    "[",
    "]",
    "(",
    ")",
    "{",
    "}",
    "\\",
    "|",
    "#",
    "%",
    "=",
    "\u202e",  # right-to-left override
    "\u200b",  # zero-width space
    "\u200d",  # zero-width joiner
    "\ufeff",  # byte order mark
    "\x00",
    "\x07",
    "\u0301",  # a combining accent
    "😀",
    "👩\u200d👩\u200d👧",
    "🇩🇪",
    "\U0001d54f",  # 𝕏
    "\u3164",  # Hangul filler, an "invisible" name
)
HOSTILE = (
    "<b>",
    "</b>",
    "<i>unclosed",
    '<a href="javascript:alert(1)">x</a>',
    "<script>alert(1)</script>",
    "<tg-spoiler>",
    "&amp;",
    "&lt;",
    "&",
    "&#0;",
    "&nbsp;",
    "<",
    ">",
    "*bold*",
    "_it_",
    "`code`",
    "```pre```",
    "[link](https://evil.example)",
    "~~s~~",
    "||spoiler||",
    "'; DROP TABLE events; --",
    '" OR 1=1 --',
    "%s%s%n",
    "{0}",
    "{name}",
    "{}",
    "%(x)s",
    'NEAR("a" "b")',
    '"unbalanced',
    "AND",
    "OR NOT *",
    "^",
    "\u202egnp.exe",
    "\u200b",
    "e\u0301",
    "İ",
    "ß",
    "ﬁ",
    "Ⅻ",
    "²",
    "٣",
    "¾",
    "𝟘",
    "😀",
    "👩\u200d👩\u200d👧",
    "🇩🇪",
    "\x00",
    "\x1b[31m",
    "\r\n",
    "\t",
    "\u2028",
    "\u00a0",
    "\u3000",
    "../../etc/passwd",
    "${jndi:ldap://x}",
    "@regiotwin_bot",
    "/start",
    "/help@regiotwin_bot",
    "-1",
    "0",
    "101",
    "1e309",
    "NaN",
    "inf",
    "99999999999999999999999",
    "-99999999999999999999999",
    "0x10",
    "31.02.2016",
    "2016-13-01",
    "0001-01-01",
    "9999-12-31",
    "29.02.2017",
    "24:00",
    "99:99",
    "٣٣:٣٣",
)
PLAUSIBLE = (
    "LKM-07",
    "lkm-07",
    "KST-01",
    "MRB-01",
    "LKM-99",
    "planned",
    "geplant",
    "in_progress",
    "in",
    "progress",
    "umsetzung",
    "implemented",
    "umgesetzt",
    "discontinued",
    "proposed",
    "50",
    "100",
    "50%",
    "09184",
    "05566",
    "06534",
    "lk-muenchen",
    "kreis-steinfurt",
    "all",
    "alle",
    "office",
    "büro",
    "staff",
    "coordinator",
    "auditor",
    "admin",
    "Koordinatorin",
    "exchanges",
    "advice",
    "follow_ups",
    "daily",
    "weekly",
    "off",
    "time",
    "07:30",
    "de",
    "en",
    "fr",
    "until",
    "31.12.2016",
    "2016-09-30",
    "01.06.2016",
    "cycling",
    "Radverkehr",
    "status",
    "measures",
    "twinning",
    "{handle}",
    "{handle}",
    "{follow_up}",
    "{follow_up}",
)


def entry_names(entry: catalog.BotCommand) -> tuple[str, ...]:
    return (entry.name, *entry.aliases)


NAMES = tuple(sorted({name for entry in catalog.CATALOG.values() for name in entry_names(entry)}))
ANONYMOUS = Seat(Person(id=1087968824, first_name="Group", language_code="de"), None, None)
"""Telegram's stand-in sender for an anonymous group admin."""
HEAVY = ("export", "asof", "stichtag", "verify", "pruefen", "chart", "grafik")
"""Commands that replay, export or draw (a second each): the authorisation matrix runs each
for every kind of sender; the fuzzer sends them now and then."""
LIGHT = tuple(name for name in NAMES if name not in HEAVY)
UNKNOWN_COMMANDS = ("/foo", "/", "//", "/start@other_bot", "/status@OtherBot", "/_", "/😀")

LONG = st.builds(
    lambda chunk, n: (chunk * n)[:n],
    st.sampled_from(["x", "ä", "<", "&", "😀", "e\u0301", "<b>", " ", "a\n", "LKM-07 "]),
    st.integers(1000, 10_000),
)
RANDOM = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)


def scaled(examples: int) -> int:
    """More examples with REGIOTWIN_LONG_TESTS=1 (ten times as many)."""
    return examples * 10 if os.environ.get("REGIOTWIN_LONG_TESTS") == "1" else examples


@st.composite
def poisoned_word(draw: st.DrawFn) -> str:
    """A word (no whitespace) that no code, key, handle, status, role or date can be."""
    before = draw(st.sampled_from(("", *PLAUSIBLE[:20], "x", "LKM")))
    after = draw(st.sampled_from(("", "07", "-07", "x", "<b>")))
    word = before + draw(st.sampled_from(POISON)) + after
    return "".join(char for char in word if not char.isspace()) or "<"


def _token() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(PLAUSIBLE),
        st.sampled_from(HOSTILE),
        RANDOM,
        LONG,
    )


@st.composite
def arguments(draw: st.DrawFn) -> tuple[str, bool]:
    """Arguments of a command, and whether the first one is poisoned."""
    if draw(st.integers(0, 5)) == 0:
        return "", False
    poisoned = draw(st.booleans())
    first = draw(poisoned_word()) if poisoned else draw(_token())
    rest = draw(st.lists(_token(), max_size=3))
    separator = draw(st.sampled_from((" ", " ", "  ", "\n", "\t", " \u00a0")))
    return separator.join([first, *rest]), poisoned


@st.composite
def command_text(draw: st.DrawFn) -> tuple[str, bool]:
    """A command's text (ours or another bot's, any case) and whether its first argument is
    poisoned."""
    if draw(st.integers(0, 12)) == 0:
        return draw(st.sampled_from(UNKNOWN_COMMANDS)), False
    heavy = draw(st.integers(0, 99)) == 0  # replays, exports, charts: one in a hundred
    name = draw(st.sampled_from(HEAVY if heavy else LIGHT))
    shown = draw(st.sampled_from((name, name.upper(), name.capitalize())))
    mention = draw(st.sampled_from(("", "", "", "@regiotwin_bot", "@RegioTwin_Bot", "@other_bot")))
    args, poisoned = draw(arguments())
    text = f"/{shown}{mention}" + (f" {args}" if args else "")
    return text, poisoned


@dataclass(frozen=True)
class Say:
    """A message (or an edit of one, or a photo with a caption) from a seat."""

    seat: Seat
    text: str
    where: str = "private"
    poisoned: bool = False
    edited: bool = False
    caption: bool = False
    entities: bool = True

    def __repr__(self) -> str:
        return f"Say({_who(self.seat)}, {self.where}, {self.text!r:.120})"

    async def resolve(self, front: Front) -> Knock:
        text = _fill(front, self.text)
        raw_message = front.message(
            self.seat,
            text,
            self.where,
            entities=self.entities,
            caption=self.caption,
            edited=self.edited,
        )
        chat_id = raw_message["chat"]["id"]
        state = await front.state_of(self.seat, chat_id)
        if self.edited:
            may_record = False
        elif command := re.match(r"/([^\s@]*)(@\S*)?", text):
            # aiogram takes any text (or caption) that starts with / as a command
            name, mention = command.group(1).lower(), command.group(2)
            ours = mention is None or mention.lower() == "@regiotwin_bot"
            has_arguments = len(text.split(maxsplit=1)) > 1
            may_record = ours and name in RECORDING_COMMANDS and has_arguments
            may_record = may_record and not self.poisoned
        else:
            may_record = state in RECORDING_TEXT_STATES and not self.caption
        key = "edited_message" if self.edited else "message"
        return Knock(
            seat=self.seat,
            raw={key: raw_message},
            may_record=may_record,
            label=f"{_who(self.seat)} in {self.where}{' (edited)' if self.edited else ''}"
            f"{' (caption)' if self.caption else ''} [{state}]: {text!r:.300}",
            chat_id=chat_id,
        )


@dataclass(frozen=True)
class Odd:
    """An update the bot has no handler for, or one of a type aiogram does not know."""

    seat: Seat
    kind: str
    extra: str = ""

    async def resolve(self, front: Front) -> Knock:
        user = front.user(self.seat)
        chat = front.chat(self.seat, "group")
        now = int(front.world.clock.now().timestamp())
        bodies: dict[str, dict[str, Any]] = {
            "inline_query": {
                "inline_query": {"id": "iq", "from": user, "query": self.extra, "offset": ""}
            },
            "my_chat_member": {
                "my_chat_member": {
                    "chat": chat,
                    "from": user,
                    "date": now,
                    "old_chat_member": {"status": "left", "user": user},
                    "new_chat_member": {"status": "member", "user": user},
                }
            },
            "poll_answer": {
                "poll_answer": {
                    "poll_id": "p",
                    "user": user,
                    "option_ids": [0],
                    "option_persistent_ids": ["0"],
                },
            },
            "channel_post": {
                "channel_post": {
                    "message_id": front.next_id(),
                    "date": now,
                    "chat": {"id": -100123, "type": "channel", "title": "Kanal"},
                    "text": "/status " + self.extra,
                    "entities": [{"type": "bot_command", "offset": 0, "length": 7}],
                }
            },
            "reaction": {
                "message_reaction": {
                    "chat": chat,
                    "message_id": 1,
                    "user": user,
                    "date": now,
                    "old_reaction": [],
                    "new_reaction": [{"type": "emoji", "emoji": "👍"}],
                }
            },
            "join_request": {
                "chat_join_request": {
                    "chat": chat,
                    "from": user,
                    "user_chat_id": self.seat.person.id,
                    "date": now,
                }
            },
            "sticker": {
                "message": {
                    "message_id": front.next_id(),
                    "date": now,
                    "chat": front.chat(self.seat, "private"),
                    "from": user,
                    "sticker": {
                        "file_id": "s",
                        "file_unique_id": "s",
                        "type": "regular",
                        "width": 1,
                        "height": 1,
                        "is_animated": False,
                        "is_video": False,
                    },
                }
            },
            "location": {
                "message": {
                    "message_id": front.next_id(),
                    "date": now,
                    "chat": front.chat(self.seat, "private"),
                    "from": user,
                    "location": {"latitude": 48.1, "longitude": 11.6},
                }
            },
            "new_members": {
                "message": {
                    "message_id": front.next_id(),
                    "date": now,
                    "chat": chat,
                    "from": user,
                    "new_chat_members": [user],
                }
            },
            "anonymous_admin": {
                "message": {
                    "message_id": front.next_id(),
                    "date": now,
                    "chat": chat,
                    "from": {
                        "id": ANONYMOUS.person.id,
                        "is_bot": True,
                        "first_name": ANONYMOUS.person.first_name,
                    },
                    "sender_chat": chat,
                    "text": "/setstatus LKM-07 planned",
                    "entities": [{"type": "bot_command", "offset": 0, "length": 10}],
                }
            },
            "unknown": {_unknown_key(self.extra): {"anything": self.extra, "n": [1, {"x": None}]}},
        }
        return Knock(
            seat=ANONYMOUS if self.kind == "anonymous_admin" else self.seat,
            raw=bodies[self.kind],
            may_record=False,  # none of these is a command, a button or a dialog's answer
            label=f"{_who(self.seat)}: a {self.kind} update {self.extra!r:.80}",
            chat_id=chat["id"] if self.kind != "sticker" else self.seat.person.id,
        )


TAMPERS = (
    "none",
    "none",
    "random-uuid",
    "random-short-id",
    "real-id",
    "version+1",
    "version-1",
    "bigint",
    "negative",
    "empty",
    "poison",
    "extra-field",
    "drop-field",
    "other-prefix",
)
PREFIXES = (
    "st",
    "pg",
    "ms",
    "mo",
    "mc",
    "mr",
    "mp",
    "nt",
    "nm",
    "goal",
    "gt",
    "gc",
    "tl",
    "lang",
    "twp",
    "sdp",
    "mem",
    "memr",
    "meml",
    "ex",
    "fu",
    "fup",
    "aska",
    "advs",
    "adv",
    "adm",
    "admp",
    "advp",
    "ahist",
)
HEX_ID = re.compile(r"^[0-9a-f]{32}$")
SHORT_ID = re.compile(r"^[A-Za-z0-9_-]{22}$")


@dataclass(frozen=True)
class Press:
    """A button press: a button the bot showed (pressed by its owner or by someone else,
    maybe tampered with), or data made up on the client."""

    seat: Seat
    pick: int
    by_owner: bool
    tamper: str
    field: int
    forged: str | None = None
    message: str = "normal"

    def __repr__(self) -> str:
        data = self.forged if self.forged is not None else f"shown[{self.pick}]"
        return f"Press({_who(self.seat)}, {data!r:.80}, {self.tamper}, {self.message})"

    async def resolve(self, front: Front) -> Knock:
        shown = _pick(front, self.pick)
        if self.forged is not None or shown is None:
            data = self.forged if self.forged is not None else "st:"
            presser = self.seat
            shown = None
            may_record = data.split(":")[0] in RECORDING_BUTTONS and not _has_random_id(data)
            garbage = False
        else:
            presser = shown.seat if self.by_owner else self.seat
            data, garbage = _tampered(front, shown.data, self.tamper, self.field)
            may_record = data.split(":")[0] in RECORDING_BUTTONS and not garbage
        if not presser.is_member:
            may_record = False
        query = front.button_press(presser, data, shown, self.message)
        chat_id = shown.chat_id if shown is not None else presser.person.id
        return Knock(
            seat=presser,
            raw={"callback_query": query},
            may_record=may_record,
            label=f"{_who(presser)} presses {data!r:.120} ({self.tamper}"
            f"{', garbage' if garbage else ''}, {self.message}"
            f"{', the owner' if self.by_owner else ''})",
            chat_id=chat_id,
        )


def _pick(front: Front, pick: int) -> Shown | None:
    if not front.shown:
        return None
    return front.shown[pick % len(front.shown)]


def _has_random_id(data: str) -> bool:
    return any(HEX_ID.match(part) or SHORT_ID.match(part) for part in data.split(":")[1:])


def _short(value: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(value.bytes).rstrip(b"=").decode()


def _tampered(front: Front, data: str, tamper: str, index: int) -> tuple[str, bool]:
    """The data after tampering, and whether it is garbage by construction (names no item)."""
    prefix, *fields = data.split(":")
    if tamper == "none" or (not fields and tamper not in ("extra-field", "other-prefix")):
        return data, False
    if tamper == "extra-field":
        return f"{data}:1", True
    if tamper == "other-prefix":
        return ":".join([PREFIXES[index % len(PREFIXES)], *fields]), False
    at = index % len(fields)
    old = fields[at]
    is_id = bool(HEX_ID.match(old) or SHORT_ID.match(old))
    garbage = False
    if tamper == "drop-field":
        del fields[at]
        return ":".join([prefix, *fields]), True
    if tamper == "random-uuid":
        fields[at] = uuid.UUID(int=index * 7919 + 1).hex
        garbage = is_id
    elif tamper == "random-short-id":
        fields[at] = _short(uuid.UUID(int=index * 104729 + 3))
        garbage = is_id
    elif tamper == "real-id":
        ids = [*front.stage.measures.values(), *front.stage.bystanders]
        if front.stage.advice_id is not None:
            ids.append(front.stage.advice_id)
        chosen = ids[index % len(ids)]
        fields[at] = _short(chosen) if SHORT_ID.match(old) else chosen.hex
    elif tamper in ("version+1", "version-1"):
        if old.lstrip("-").isdigit():
            fields[at] = str(int(old) + (1 if tamper == "version+1" else -1))
    elif tamper == "bigint":
        fields[at] = "9" * 30
        garbage = is_id
    elif tamper == "negative":
        fields[at] = "-" + old
        garbage = is_id
    elif tamper == "empty":
        fields[at] = ""
        garbage = is_id
    elif tamper == "poison":
        fields[at] = old + "<b>&"
        garbage = is_id
    return ":".join([prefix, *fields]), garbage


def _fill(front: Front, text: str) -> str:
    """Put real handles and follow-up codes where the plan has placeholders."""
    if "{handle}" in text:
        members = front.stage.bystanders
        text = text.replace("{handle}", members[len(text) % len(members)].hex[:8])
    if "{follow_up}" in text:
        text = text.replace("{follow_up}", f"{front.stage.exchange_code}-1")
    return text


def _unknown_key(extra: str) -> str:
    key = re.sub(r"[^a-z_]", "", extra.lower())[:20]
    return f"future_{key}" if key else "future_update"


def _who(seat: Seat) -> str:
    role = seat.role.value if seat.role else "stranger"
    return f"{seat.person.first_name} ({role}, {seat.region or 'office/none'})"


# --- the strategies -------------------------------------------------------------------------

seats = st.sampled_from(EVERYONE)
members = st.sampled_from(SEATS)
strangers = st.sampled_from(STRANGERS)
places = st.sampled_from(("private", "private", "private", "group", "other_group"))


@st.composite
def commands(draw: st.DrawFn) -> Say:
    text, poisoned = draw(command_text())
    return Say(
        seat=draw(seats),
        text=text,
        where=draw(places),
        poisoned=poisoned,
        caption=draw(st.integers(0, 15)) == 0,
    )


@st.composite
def texts(draw: st.DrawFn) -> Say:
    """Plain text: markup, Markdown, odd Unicode, 10,000 characters; or a command without
    its entity (Telegram marks commands; text that only looks like one is not)."""
    text = draw(
        st.one_of(
            _token(),
            st.lists(_token(), min_size=1, max_size=6).map(" ".join),
            LONG,
            command_text().map(lambda found: found[0]),
        )
    )
    if not text.strip():
        text = text + "x"
    return Say(
        seat=draw(seats),
        text=text,
        where=draw(places),
        entities=False,
        edited=draw(st.integers(0, 6)) == 0,
    )


WELL_FORMED = (
    "/progress {code} {percent}",
    "/fortschritt {code} {percent} {note}",
    "/setstatus {code} {status}",
    "/setzestatus {code} {status} {note}",
    "/done {follow_up}",
    "/erledigt {follow_up} {note}",
    "/lang {language}",
    "/sprache {language}",
    "/mute {kind}",
    "/mute all until {day}",
    "/stumm {kind} {region}",
    "/subscribe {kind}",
    "/abonnieren all",
    "/digest {digest}",
    "/digest time {time}",
    "/role {handle} {role}",
    "/rolle {handle} {role}",
    "/remove {handle} {note}",
    "/invite {region} {role}",
    "/einladen office {role}",
    "/start {code}",
)
FILLINGS = {
    "code": ("LKM-07", "lkm-07", "KST-01", "MRB-01"),
    "percent": ("0", "10", "55", "100", "100%"),
    "status": ("planned", "in_progress", "implemented", "discontinued", "geplant", "proposed"),
    "note": ("<b>nota bene</b> & more", "Radweg fertig", "😀" * 30, "x" * 3000),
    "language": ("de", "en", "EN"),
    "kind": ("exchanges", "advice", "follow_ups", "austausch", "rat"),
    "day": ("31.12.2016", "2016-07-01", "01.01.2015"),
    "region": ("09184", "05566", "06534", "lk-muenchen", "office"),
    "digest": ("daily", "weekly", "off", "täglich"),
    "time": ("07:30", "7:30", "23:59"),
    "role": ("staff", "coordinator", "auditor", "admin", "Koordinatorin"),
}
"""Values put into the templates ({follow_up} and {handle} are filled when fed)."""


@st.composite
def well_formed(draw: st.DrawFn) -> Say:
    """A command as a member would type it, with real codes, handles and values: whether it
    records depends on who sends it (the authorisation checks of every event recorded)."""
    template = draw(st.sampled_from(WELL_FORMED))
    text = template
    for name, choices in FILLINGS.items():
        while "{" + name + "}" in text:
            text = text.replace("{" + name + "}", draw(st.sampled_from(choices)), 1)
    return Say(seat=draw(seats), text=text, where=draw(places))


dialog_starters = st.sampled_from(
    (
        "/newmeasure",
        "/goal",
        "/exchange",
        "/askadvice",
        "/advise",
        "/advice",
        "/members",
        "/followups",
        "/measures",
        "/status",
        "/lang",
        "/history LKM-07",
        "/programme",
        "/timeline",
    )
)


@st.composite
def dialogs(draw: st.DrawFn) -> Say:
    """A command that opens a screen with buttons or a guided dialog (so that presses and
    answers that follow have something to act on)."""
    return Say(seat=draw(members), text=draw(dialog_starters))


@st.composite
def presses(draw: st.DrawFn) -> Press:
    forged = None
    if draw(st.integers(0, 4)) == 0:
        forged = draw(
            st.one_of(
                st.text(st.characters(exclude_categories=("Cs",)), max_size=80),
                st.builds(
                    lambda prefix, fields: ":".join([prefix, *fields]),
                    st.sampled_from(PREFIXES),
                    st.lists(st.one_of(st.sampled_from(HOSTILE), RANDOM), max_size=5),
                ),
            )
        )
    return Press(
        seat=draw(seats),
        pick=draw(st.integers(0, 10_000)),
        by_owner=draw(st.booleans()),
        tamper=draw(st.sampled_from(TAMPERS)),
        field=draw(st.integers(0, 10_000)),
        forged=forged,
        message=draw(st.sampled_from(("normal", "normal", "normal", "inaccessible", "inline"))),
    )


odd_updates = st.builds(
    Odd,
    seat=seats,
    kind=st.sampled_from(
        (
            "inline_query",
            "my_chat_member",
            "poll_answer",
            "channel_post",
            "reaction",
            "join_request",
            "sticker",
            "location",
            "new_members",
            "anonymous_admin",
            "unknown",
            "unknown",
        )
    ),
    extra=st.one_of(st.sampled_from(HOSTILE), RANDOM),
)


@dataclass(frozen=True)
class Burst:
    """The same plan many times at once, as a script would send it (no time passes)."""

    plan: Say | Press
    times: int


bursts = st.builds(
    Burst,
    plan=st.one_of(commands(), texts(), presses()),
    times=st.integers(2, 30),
)
