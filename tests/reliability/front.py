"""The front door under test: raw Telegram updates go through the real dispatcher, and
everything that comes back out (Bot API calls, events in the log) is checked.

What every update must leave behind:

- no exception out of the dispatcher, and no "unexpected error" apology (those are bugs too);
- every message or edit valid Telegram HTML of at most 4096 characters (captions 1024), every
  answer to a button plain text of at most 200 characters, and nowhere a trace or an
  exception's name;
- answers only in the chat the update came from or in the sender's private chat, and for
  strangers not a word about the programme (names of regions, members or measures) that they
  did not type themselves;
- no event in the log unless the update could record at all (a recording command with
  arguments, a recording button, or the text a recording dialog step waits for), its
  arguments were not garbage by construction, and the sender was allowed to: every new event
  is the sender's own, auditors change only their own settings, and members of a region act
  only on their region's items and its twinnings (the programme office and admins on all);
- no error in the read models' projections (a stopped projection is a lost screen).

``REGIOTWIN_FUZZ_COLLECT=1`` (for debugging) collects the problems instead of stopping at
the first, and prints them with the slowest updates at the end of each fuzzing test.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import re
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from aiogram.client.default import Default
from aiogram.fsm.storage.base import StorageKey
from aiogram.methods import (
    AnswerCallbackQuery,
    EditMessageText,
    SendDocument,
    SendMessage,
    SendPhoto,
    TelegramMethod,
)
from aiogram.types import InlineKeyboardMarkup, Message, Update

from bot.flood import FloodControlMiddleware
from domain.ids import notification_settings_id
from domain.service import MemberProfile
from domain.values import Role
from tests import builders
from tests.bot.conftest import ADMIN, BotWorld
from tests.bot.harness import BOT_USER, BotHarness
from tests.reliability.cast import EVERYONE, Seat, Stage
from tests.reliability.telegram_html import ALERT_LIMIT, CAPTION_LIMIT, html_problems

GROUP_ID = -100777
OTHER_GROUP_ID = -100999
MAX_MESSAGES_PER_UPDATE = 12
TRACE = re.compile(
    r"Traceback|File \"|\b[A-Z][A-Za-z]*(?:Error|Exception)\b|pydantic|aiogram|sqlite3|"
    r"eventsourcing|\bline \d+\b|NoneType|object has no attribute"
)
# What strangers must not learn: the programme's regions, people and measures.
SECRETS = (
    "München",
    "Steinfurt",
    "Marburg",
    "LKM-07",
    "KST-01",
    "MRB-01",
    *(seat.person.first_name for seat in EVERYONE if seat.is_member and seat.person != ADMIN),
)
# Which way into the bot can record at all (else: nothing may be recorded).
RECORDING_COMMANDS = frozenset(
    {
        "setstatus",
        "setzestatus",
        "progress",
        "fortschritt",
        "done",
        "erledigt",
        "invite",
        "einladen",
        "role",
        "rolle",
        "remove",
        "entfernen",
        "start",
        "lang",
        "sprache",
        "mute",
        "stumm",
        "subscribe",
        "abonnieren",
        "digest",
        "zusammenfassung",
        "erase",
        "loeschen",
    }
)
JOINING = frozenset(
    {
        "Member.Joined",
        "TelegramAccount.Linked",
        "TelegramAccount.Relinked",
        "CommandReceipt.Handled",
    }
)
"""What a stranger's /start CODE records: the invited member joins."""
OWN_MEMBER_EVENTS = frozenset(
    {"Member.LanguageChosen", "Member.PersonalDataErased", "Member.Removed"}
)
"""What members may record on themselves (/lang, /erase me)."""
RECORDING_BUTTONS = frozenset({"mc", "mp", "nm", "gc", "ex", "fu", "adv", "adm", "memr", "lang"})
RECORDING_TEXT_STATES = frozenset(
    {
        "AskDialog:question",
        "AdviseDialog:text",
        "NewMeasureDialog:responsible",
        "DeclineDialog:reason",
        "RemoveDialog:reason",
    }
)


@dataclass(frozen=True)
class Knock:
    """One update as Telegram would send it (without its update_id), and what it may do."""

    seat: Seat
    raw: dict[str, Any]
    may_record: bool
    label: str
    chat_id: int | None


@dataclass
class Shown:
    """A button the bot showed: whose screen it was, where, and its data."""

    seat: Seat
    chat_id: int
    chat_type: str
    message_id: int
    text: str
    data: str


WATCHED_LOGS = ("regiotwin.bot", "regiotwin.projections")


class Unexpected(logging.Handler):
    """Collects the log records of errors: the bot's unexpected ones, the projections'
    failures (each one is a bug)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@dataclass
class Front:
    stage: Stage
    fed: int = 0
    recorded: int = 0
    """Updates after which the log grew (allowed and checked)."""
    shown: list[Shown] = field(default_factory=list)
    unexpected: Unexpected = field(default_factory=Unexpected)
    failures: list[str] = field(default_factory=list)
    slow: list[tuple[float, str]] = field(default_factory=list)
    """Updates that took longer than a quarter of a second, with their labels."""
    _profiles: dict[int, MemberProfile | None] = field(default_factory=dict)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(100_000))

    def __post_init__(self) -> None:
        for name in WATCHED_LOGS:
            logging.getLogger(name).addHandler(self.unexpected)

    def _profile(self, telegram_user_id: int) -> MemberProfile | None:
        """Who the sender is (cached until the log grows: then roles may have changed)."""
        if telegram_user_id not in self._profiles:
            self._profiles[telegram_user_id] = self.world.service.member_profile(telegram_user_id)
        return self._profiles[telegram_user_id]

    def _fail(self, problem: str) -> None:
        if os.environ.get("REGIOTWIN_FUZZ_COLLECT") == "1":  # debugging: collect, go on
            self.failures.append(problem)
            return
        raise AssertionError(problem)

    def close(self) -> None:
        for name in WATCHED_LOGS:
            logging.getLogger(name).removeHandler(self.unexpected)

    @property
    def dropped(self) -> int:
        """Updates flood control dropped."""
        for middleware in self.harness.dispatcher.update.outer_middleware:
            if isinstance(middleware, FloodControlMiddleware):
                return middleware.dropped
        return 0

    @property
    def world(self) -> BotWorld:
        return self.stage.world

    @property
    def harness(self) -> BotHarness:
        return self.world.harness

    # --- building updates ------------------------------------------------------------------

    def next_id(self) -> int:
        return next(self._ids)

    def chat(self, seat: Seat, where: str) -> dict[str, Any]:
        if where == "group":
            return {"id": GROUP_ID, "type": "supergroup", "title": "Twinning München–Steinfurt"}
        if where == "other_group":
            return {"id": OTHER_GROUP_ID, "type": "group", "title": "<b>Kaffeeküche</b>"}
        return {"id": seat.person.id, "type": "private", "first_name": seat.person.first_name}

    def user(self, seat: Seat) -> dict[str, Any]:
        person = seat.person
        return {
            "id": person.id,
            "is_bot": False,
            "first_name": person.first_name,
            "language_code": person.language_code,
        }

    def message(
        self,
        seat: Seat,
        text: str | None,
        where: str = "private",
        *,
        entities: bool = True,
        caption: bool = False,
        edited: bool = False,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "message_id": self.next_id(),
            "date": int(self.world.clock.now().timestamp()),
            "chat": self.chat(seat, where),
            "from": self.user(seat),
        }
        if edited:
            body["edit_date"] = body["date"] + 1
        if text is not None:
            key = "caption" if caption else "text"
            body[key] = text
            if caption:
                body["photo"] = [
                    {"file_id": "AgAD", "file_unique_id": "u1", "width": 90, "height": 90}
                ]
            command = re.match(r"/\S*", text)
            if entities and command:
                kind = "caption_entities" if caption else "entities"
                body[kind] = [
                    {"type": "bot_command", "offset": 0, "length": _utf16(command.group())}
                ]
        return body

    def button_press(
        self, seat: Seat, data: str, shown: Shown | None, message: str = "normal"
    ) -> dict[str, Any]:
        query: dict[str, Any] = {
            "id": f"fuzz-{self.next_id()}",
            "from": self.user(seat),
            "chat_instance": "fuzz",
            "data": data,
        }
        chat = (
            {"id": shown.chat_id, "type": shown.chat_type}
            if shown is not None
            else self.chat(seat, "private")
        )
        if message == "inline":
            query["inline_message_id"] = "AAAA-inline"
        elif message == "inaccessible":
            query["message"] = {"message_id": 1, "date": 0, "chat": chat}
        else:
            query["message"] = {
                "message_id": shown.message_id if shown else 1,
                "date": int(self.world.clock.now().timestamp()),
                "chat": chat,
                "from": {"id": BOT_USER.id, "is_bot": True, "first_name": BOT_USER.first_name},
                "text": shown.text if shown else "…",
            }
        return query

    async def state_of(self, seat: Seat, chat_id: int) -> str | None:
        """The dialog step the seat is at in a chat (None: no dialog)."""
        key = StorageKey(bot_id=BOT_USER.id, chat_id=chat_id, user_id=seat.person.id)
        return await self.harness.dispatcher.storage.get_state(key)

    # --- feeding and checking --------------------------------------------------------------

    async def knock(
        self, knock: Knock, pace: timedelta = timedelta(seconds=3)
    ) -> list[tuple[TelegramMethod[Any], Any]]:
        """Feed one update and check everything it left behind; the Bot API calls it made."""
        self.world.clock.advance(pace)
        return await self.knock_together([knock])

    async def knock_together(self, knocks: list[Knock]) -> list[tuple[TelegramMethod[Any], Any]]:
        """Feed updates at once (concurrently, as aiogram's polling does) and check them."""
        world = self.world
        head = builders.recorded(world.service)
        sender = self._profile(knocks[0].seat.person.id)  # before the update
        calls = len(self.harness.session.calls)
        unexpected = len(self.unexpected.records)
        updates = [
            Update.model_validate(
                {"update_id": self.next_id(), **knock.raw}, context={"bot": self.harness.bot}
            )
            for knock in knocks
        ]
        labels = " | ".join(knock.label for knock in knocks)[:1500]
        started = time.perf_counter()
        results = await asyncio.gather(
            *(world.harness.dispatcher.feed_update(self.harness.bot, u) for u in updates),
            return_exceptions=True,
        )
        took = time.perf_counter() - started
        if took > 0.25:
            self.slow.append((took, labels[:160]))
            if os.environ.get("REGIOTWIN_FUZZ_COLLECT") == "1":
                print(f"SLOW-NOW {took:.2f} {labels[:200]!r}", flush=True)
        self.fed += len(knocks)
        for result in results:
            if isinstance(result, BaseException):
                self._fail(f"the dispatcher raised {result!r} on: {labels}")
        if len(self.unexpected.records) > unexpected:
            record = self.unexpected.records[unexpected]
            cause = record.exc_info[1] if record.exc_info else None
            self._fail(f"unexpected error {record.getMessage()!r} ({cause!r}) on: {labels}")
        new_calls = self.harness.session.calls[calls:]
        self._check_answers(knocks, new_calls, labels)
        if builders.recorded(world.service) != head:
            self._profiles.clear()  # roles may have changed
            self._check_recorded(knocks, head, sender, labels)
        return new_calls

    def _check_answers(
        self, knocks: list[Knock], calls: list[tuple[TelegramMethod[Any], Any]], labels: str
    ) -> None:
        seat = knocks[0].seat
        chats = {knock.chat_id for knock in knocks} | {knock.seat.person.id for knock in knocks}
        typed = " ".join(str(knock.raw) for knock in knocks)
        sent = 0
        for method, result in calls:
            problems: list[str] = []
            text: str | None = None
            if isinstance(method, SendMessage | EditMessageText):
                text = method.text
                sent += isinstance(method, SendMessage)
                if _is_html(method.parse_mode):
                    problems += html_problems(text)
                elif len(text) > 4096:
                    problems.append(f"{len(text)} characters")
                if method.chat_id is not None and int(method.chat_id) not in chats:
                    problems.append(f"sent to chat {method.chat_id}, not the sender's")
                self._keep_buttons(seat, method, result)
            elif isinstance(method, SendDocument | SendPhoto):
                sent += 1
                text = method.caption or ""
                if text:
                    problems += html_problems(text, CAPTION_LIMIT)
                if int(method.chat_id) not in chats:
                    problems.append(f"sent to chat {method.chat_id}, not the sender's")
            elif isinstance(method, AnswerCallbackQuery):
                text = method.text or ""
                if len(text) > ALERT_LIMIT:
                    problems.append(f"an answer to a button of {len(text)} characters")
                if re.search(r"</?[a-z]+>|&(?:lt|gt|amp|quot);", text):
                    problems.append("markup in an answer to a button (it is plain text)")
            if text is not None:
                if TRACE.search(text):
                    problems.append("looks like a trace or an exception")
                if not seat.is_member:
                    problems += [
                        f"tells a stranger {word!r}"
                        for word in SECRETS
                        if word in text and word not in typed
                    ]
            if problems:
                self._fail(f"{type(method).__name__} {text!r:.600} – {problems} – on: {labels}")
        if sent > MAX_MESSAGES_PER_UPDATE * len(knocks):
            self._fail(f"{sent} messages in answer to: {labels}")

    def _keep_buttons(self, seat: Seat, method: SendMessage | EditMessageText, result: Any) -> None:
        markup = method.reply_markup
        if not isinstance(markup, InlineKeyboardMarkup) or not isinstance(result, Message):
            return
        chat_id = int(method.chat_id) if method.chat_id is not None else seat.person.id
        for row in markup.inline_keyboard:
            for button in row:
                if button.callback_data:
                    self.shown.append(
                        Shown(
                            seat=seat,
                            chat_id=chat_id,
                            chat_type="private" if chat_id > 0 else "supergroup",
                            message_id=result.message_id,
                            text=method.text[:100],
                            data=button.callback_data,
                        )
                    )
        del self.shown[:-400]

    def _check_recorded(
        self, knocks: list[Knock], head: int, sender: MemberProfile | None, labels: str
    ) -> None:
        if not any(knock.may_record for knock in knocks):
            new = [type(e).__qualname__ for e in builders.events(self.world.service, head)]
            self._fail(f"recorded {new} though nothing could be: {labels}")
        self.recorded += 1
        events = builders.events(self.world.service, head)
        erased_oneself = sender is not None and any(
            type(e).__qualname__ == "Member.PersonalDataErased"
            and e.originator_id == sender.member_id
            for e in events
        )
        for event in events:
            if erased_oneself and type(event).__qualname__.startswith("TelegramAccount."):
                continue  # one's own account, retired with one's personal data
            problem = self._not_allowed(sender, event)
            if problem:
                self._fail(
                    f"{type(event).__qualname__} of {event.originator_id}: {problem} – on: {labels}"
                )

    def _not_allowed(self, sender: MemberProfile | None, event: Any) -> str | None:
        """Why the sender (as they were when the update came) may not have recorded
        ``event`` (None: they may). The rules of domain/access.py, told independently."""
        kind = type(event).__qualname__
        if sender is None:  # only joining with an invite code (/start CODE) records
            return None if kind in JOINING else "a stranger recorded it"
        member_id = sender.member_id
        if event.actor != member_id.hex:
            return f"recorded as {event.actor}, not as the sender"
        if kind.startswith("CommandReceipt."):
            return None
        if event.originator_id == notification_settings_id(member_id):
            return None  # one's own notification settings
        if event.originator_id == member_id and kind in OWN_MEMBER_EVENTS:
            return None  # one's language; erasing one's own personal data
        if sender.role not in (Role.STAFF, Role.COORDINATOR, Role.ADMIN):
            return f"an {sender.role} changed more than their own settings"
        if sender.role == Role.ADMIN or sender.region_id is None:
            return None  # admins and the programme office act for every region
        region = sender.region_id
        repository = self.world.service.app.repository
        item = repository.get(event.originator_id)
        name = type(item).__name__
        if name == "Member":
            roles = {Role(item.role)}
            if event.originator_version > 1:  # a change: the role before counts too
                roles.add(Role(repository.get(item.id, version=event.originator_version - 1).role))
            if sender.role != Role.COORDINATOR:
                return "only coordinators and admins manage members"
            if item.region_id != region or roles & {Role.ADMIN, Role.AUDITOR}:
                return "a coordinator managed a member outside their reach"
            return None
        if name == "Invitation":
            return None if sender.role == Role.COORDINATOR else "only coordinators invite"
        if name in ("Measure", "Goal"):
            return None if item.region_id == region else "another region's item"
        if name in ("Advice", "AdviceRequest"):
            sides = (item.from_region_id, item.to_region_id)
            return None if region in sides else "advice of another twinning"
        if name == "Exchange":
            twinning = repository.get(item.twinning_id)
            sides = (twinning.first_region_id, twinning.second_region_id)
            return None if region in sides else "an exchange of another twinning"
        return f"a member of a region changed a {name}"


def _is_html(parse_mode: Any) -> bool:
    return isinstance(parse_mode, Default) or parse_mode == "HTML"


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2
