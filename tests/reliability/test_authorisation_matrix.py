"""Who may use which command and which button: one table, executed through the real bot.

Every row is a command or a button; every column a kind of sender: a stranger, and each
role (staff, coordinator, auditor) from the region the item belongs to (*own*: Landkreis
München), from its twinning partner (*partner*: Kreis Steinfurt), from a region of the
programme without a twinning with it (*unrelated*: Marburg-Biedenkopf) and from the
programme office; and an admin. The items are München's (measures, goals, follow-ups of its
exchanges with Steinfurt, advice given to it, its members). Buttons are pressed with data the
test makes up, as a client could: a forged button for someone else's item.

A cell is *allowed* when the bot did the thing (the event is in the log, the screen or the
dialog step is shown, the file is sent) and *refused* otherwise; a refused cell must leave the
log as it was. Everything the bot answers is checked as in the fuzzing of the front door
(valid Telegram HTML, no traces, only to the sender, nothing recorded that the sender may not
record). ``markdown()`` renders the table for the README.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
import pytest_asyncio
from aiogram.methods import (
    AnswerCallbackQuery,
    EditMessageText,
    SendDocument,
    SendMessage,
    SendPhoto,
    TelegramMethod,
)
from aiogram.types import InlineKeyboardMarkup

from bot import catalog
from bot.buttons import (
    GoalPick,
    MeasureOpen,
    MeasurePage,
    MeasureProgressAsk,
    MeasureProgressSet,
    MeasureStatusSet,
    ProgrammePage,
    StatusOpen,
    TimelinePage,
)
from bot.callbacks import LanguageChoice
from bot.partners import short_id
from bot.routers.advice import AdviceAct, AdviceMeasure, AdvicePage
from bot.routers.audit import HistoryPage
from bot.routers.exchanges import FollowUpDone, FollowUpsPage
from bot.routers.members import MemberAct, MemberRole, MembersPage
from domain import ids
from domain.clock import ManualClock
from domain.commands import (
    ChooseDigest,
    InviteMember,
    MuteNotifications,
    UnmuteNotifications,
)
from domain.errors import DomainError
from domain.values import Role
from tests import builders
from tests.bot.conftest import open_world
from tests.bot.harness import Person
from tests.bot.people import join
from tests.reliability.cast import (
    MARBURG,
    MUENCHEN,
    OFFICE,
    STEINFURT,
    Seat,
    Stage,
    set_the_stage,
)
from tests.reliability.cast import seat as seat_of
from tests.reliability.front import Front, Knock

Calls = list[tuple[TelegramMethod[Any], Any]]


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    role: Role | None
    region: str | None


COLUMNS = (
    Column("stranger", "stranger", None, None),
    *(
        Column(f"{role.value}·{where}", f"{role.value} {where}", role, region)
        for role in (Role.STAFF, Role.COORDINATOR, Role.AUDITOR)
        for where, region in (
            ("own", MUENCHEN),
            ("partner", STEINFURT),
            ("unrelated", MARBURG),
            ("office", OFFICE),
        )
    ),
    Column("admin", "admin", Role.ADMIN, OFFICE),
)
KEYS = frozenset(column.key for column in COLUMNS)


def columns(*patterns: str) -> frozenset[str]:
    """Column keys by pattern: ``staff·own``, ``*·own``, ``coordinator·*``, ``admin``."""
    chosen = set()
    for pattern in patterns:
        role, _, where = pattern.partition("·")
        for key in KEYS:
            key_role, _, key_where = key.partition("·")
            if role in ("*", key_role) and (where in ("*", key_where) or not where):
                chosen.add(key)
    assert chosen, patterns
    return frozenset(chosen)


EVERYONE = KEYS
MEMBERS = KEYS - {"stranger"}
RECORDERS = columns("staff·*", "coordinator·*", "admin")
FOR_OWN_REGION = columns(
    "staff·own", "staff·office", "coordinator·own", "coordinator·office", "admin"
)
IN_THE_TWINNING = FOR_OWN_REGION | columns("staff·partner", "coordinator·partner")
SEES_THE_TWINNING = MEMBERS - columns("*·unrelated")
SEES_OWN_ADVICE = columns("*·own", "*·office", "admin")
MANAGES_OWN = columns("coordinator·own", "coordinator·office", "admin")
AUDITS_OWN = columns("auditor·*", "coordinator·own", "coordinator·office", "admin")
AUDITS = columns("auditor·*", "coordinator·*", "admin")
GETS_THE_LOG = columns("auditor·*", "admin")
ADMINS = columns("admin")
STRANGERS = columns("stranger")
NOBODY: frozenset[str] = frozenset()


# --- a scene: one sender, one cell -------------------------------------------------------------


_strangers = itertools.count(70_001)


@dataclass
class Scene:
    front: Front
    seat: Seat
    head: int

    @property
    def stage(self) -> Stage:
        return self.front.stage

    @property
    def service(self) -> Any:
        return self.front.world.service

    @property
    def member_id(self) -> UUID | None:
        return self.stage.members.get(self.seat.person.id)

    async def send(self, text: str) -> Calls:
        raw = self.front.message(self.seat, text)
        return await self.front.knock(
            Knock(self.seat, {"message": raw}, True, f"{self.seat.person.first_name}: {text}", None)
        )

    async def press(self, data: str) -> Calls:
        raw = self.front.button_press(self.seat, data, None)
        return await self.front.knock(
            Knock(
                self.seat,
                {"callback_query": raw},
                True,
                f"{self.seat.person.first_name} presses {data}",
                self.seat.person.id,
            )
        )

    async def state(self) -> str | None:
        return await self.front.state_of(self.seat, self.seat.person.id)

    def recorded(self, aggregate_id: UUID | None, event: str) -> bool:
        """Whether the log has, since the scene began, ``event`` on the aggregate by the sender."""
        for found in builders.events(self.service, self.head):
            if (
                type(found).__qualname__.endswith(f".{event}")
                and (aggregate_id is None or found.originator_id == aggregate_id)
                and self.member_id is not None
                and found.actor == self.member_id.hex
            ):
                return True
        return False


def said(calls: Calls) -> str:
    return "\n".join(
        method.text
        for method, _result in calls
        if isinstance(method, SendMessage | EditMessageText) and method.text
    )


def buttons(calls: Calls) -> list[str]:
    return [
        button.callback_data or ""
        for method, _result in calls
        if isinstance(method, SendMessage | EditMessageText)
        and isinstance(method.reply_markup, InlineKeyboardMarkup)
        for row in method.reply_markup.inline_keyboard
        for button in row
    ]


def sent(calls: Calls, kind: type) -> bool:
    return any(isinstance(method, kind) for method, _result in calls)


# --- fresh items, one per cell (an allowed cell changes its item) ---------------------------

_numbers = itertools.count(100)


def settle(scene: Scene) -> None:
    """The read models show the fresh item; what the sender does next counts from here."""
    scene.front.world.settle()
    scene.head = builders.recorded(scene.service)


def fresh_measure(scene: Scene) -> tuple[str, UUID, int]:
    code = f"LKM-{next(_numbers)}"
    anna = scene.stage.members[seat_of(Role.STAFF, MUENCHEN).person.id]
    measure_id = builders.measure(scene.service, anna, MUENCHEN, code)
    settle(scene)
    return code, measure_id, builders.get(scene.service, measure_id).version


def fresh_follow_up(scene: Scene) -> tuple[str, UUID]:
    anna = scene.stage.members[seat_of(Role.STAFF, MUENCHEN).person.id]
    follow_up = {"text": "Count cyclists", "owner_region": STEINFURT, "due_on": "30.09.2016"}
    exchange_id = builders.exchange(
        scene.service, scene.stage.pair, follow_ups=[follow_up], actor=anna
    ).aggregate_id
    settle(scene)
    return f"{exchange_id.hex[:12]}-1", exchange_id


def fresh_advice(scene: Scene) -> UUID:
    jan = scene.stage.members[seat_of(Role.STAFF, STEINFURT).person.id]
    advice_id = builders.advice(scene.service, scene.stage.pair, actor=jan)
    settle(scene)
    return advice_id


def fresh_member(scene: Scene) -> tuple[UUID, int]:
    number = next(_numbers)
    member_id = join(
        scene.front.world, Person(id=80_000 + number, first_name=f"Neu {number}"), MUENCHEN, "staff"
    )
    settle(scene)
    return member_id, builders.get(scene.service, member_id).version


def quietly(scene: Scene, command: Any) -> None:
    """Set the sender up (their own settings), whatever the state was."""
    if scene.member_id is None:
        return
    with suppress(DomainError):
        scene.service.handle(command, actor=scene.member_id)
    settle(scene)


# --- the acts: what a cell does and whether it was done -----------------------------------------

Act = Callable[[Scene], Awaitable[bool]]


def shows(text: str, pattern: str) -> Act:
    """Send ``text``; allowed if the answer matches ``pattern``."""

    async def act(scene: Scene) -> bool:
        return re.search(pattern, said(await scene.send(text))) is not None

    return act


def opens(text: str, prefix: str, *then: str) -> Act:
    """Send ``text`` (then the answers ``then``); allowed if a dialog step ``prefix…`` is
    reached. The dialog is cancelled afterwards."""

    async def act(scene: Scene) -> bool:
        await scene.send(text)
        for answer in then:
            if await scene.state() is not None:
                await scene.send(answer)
        reached = (await scene.state() or "").startswith(prefix)
        await scene.send("/cancel")
        return reached

    return act


def press_shows(data: Callable[[Scene], str], pattern: str) -> Act:
    async def act(scene: Scene) -> bool:
        return re.search(pattern, said(await scene.press(data(scene)))) is not None

    return act


async def start_with_an_invite(scene: Scene) -> bool:
    invite = scene.service.handle(
        InviteMember.parse(region=MUENCHEN, role="staff"), actor="system:test"
    )
    member_id = invite.aggregate_id
    settle(scene)
    await scene.send(f"/start {invite.secret}")
    return any(
        type(event).__qualname__ == "Member.Joined" and event.originator_id == member_id
        for event in builders.events(scene.service, scene.head)
    )


def records(text: Callable[[Scene], tuple[str, UUID | None]], event: str) -> Act:
    async def act(scene: Scene) -> bool:
        command, target = text(scene)
        await scene.send(command)
        return scene.recorded(target, event)

    return act


def press_records(data: Callable[[Scene], tuple[str, UUID | None]], event: str) -> Act:
    async def act(scene: Scene) -> bool:
        pressed, target = data(scene)
        await scene.press(pressed)
        return scene.recorded(target, event)

    return act


def press_offers(data: Callable[[Scene], str], prefix: str) -> Act:
    """Press; allowed if the answer offers buttons ``prefix…`` (the next step)."""

    async def act(scene: Scene) -> bool:
        return any(b.startswith(prefix) for b in buttons(await scene.press(data(scene))))

    return act


def press_opens(data: Callable[[Scene], str], prefix: str) -> Act:
    async def act(scene: Scene) -> bool:
        await scene.press(data(scene))
        reached = (await scene.state() or "").startswith(prefix)
        await scene.send("/cancel")
        return reached

    return act


def own_settings(setup: Callable[[UUID], Any] | None, text: str, event: str) -> Act:
    """Set the sender's settings up so that ``text`` changes them; allowed if it did."""

    async def act(scene: Scene) -> bool:
        if scene.member_id is not None and setup is not None:
            quietly(scene, setup(scene.member_id))
            scene.head = builders.recorded(scene.service)
        await scene.send(text)
        return scene.recorded(None, event)

    return act


async def revise_muenchens_goal(scene: Scene) -> bool:
    await scene.send("/goal")
    if await scene.state() == "GoalDialog:region":
        await scene.send(MUENCHEN)
    goal_id = scene.stage.goal_id
    await scene.press(GoalPick(goal=goal_id).pack())
    reached = await scene.state() == "GoalDialog:new_value"
    await scene.send("/cancel")
    return reached


async def dialog_buttons_without_their_dialog(scene: Scene) -> bool:
    twinning = short_id(scene.stage.pair.twinning_id)
    muenchen = short_id(scene.stage.pair.muenchen_id)
    done = False
    for data in (
        "nm:1",
        "gc:1",
        "ex:record:",
        "ex:kind:site_visit",
        "aska:topic:cycling",
        "advs:t:cycling",
        "nt:cycling",
        "gt:cycling",
        f"twp:ex:{twinning}",
        f"sdp:ask:{muenchen}",
    ):
        calls = await scene.press(data)
        alerts = " ".join(
            method.text or "" for method, _r in calls if isinstance(method, AnswerCallbackQuery)
        )
        done = done or not re.search("no longer valid|gilt nicht mehr", alerts) or bool(said(calls))
    return done or builders.recorded(scene.service) != scene.head


async def charts(scene: Scene) -> bool:
    """The chart, or (before the twinning's first month) that there is nothing to chart yet."""
    calls = await scene.send("/chart 09184")
    return sent(calls, SendPhoto) or STATUS in said(calls)


def sends(text: str, kind: type) -> Act:
    async def act(scene: Scene) -> bool:
        return sent(await scene.send(text), kind)

    return act


@dataclass(frozen=True)
class Row:
    what: str
    allowed: frozenset[str]
    act: Act

    def __str__(self) -> str:
        return self.what


def _measure_text(template: str) -> Callable[[Scene], tuple[str, UUID | None]]:
    def text(scene: Scene) -> tuple[str, UUID | None]:
        code, measure_id, _version = fresh_measure(scene)
        return template.format(code=code), measure_id

    return text


def _measure_data(make: Callable[[UUID, int], str]) -> Callable[[Scene], tuple[str, UUID | None]]:
    def data(scene: Scene) -> tuple[str, UUID | None]:
        _code, measure_id, version = fresh_measure(scene)
        return make(measure_id, version), measure_id

    return data


def _done_text(scene: Scene) -> tuple[str, UUID | None]:
    code, exchange_id = fresh_follow_up(scene)
    return f"/done {code}", exchange_id


def _done_data(scene: Scene) -> tuple[str, UUID | None]:
    _code, exchange_id = fresh_follow_up(scene)
    return FollowUpDone(exchange=short_id(exchange_id), number=1, page=1).pack(), exchange_id


def _advice_data(make: Callable[[str, int], str]) -> Callable[[Scene], tuple[str, UUID | None]]:
    def data(scene: Scene) -> tuple[str, UUID | None]:
        advice_id = fresh_advice(scene)
        version = builders.get(scene.service, advice_id).version
        return make(short_id(advice_id), version), advice_id

    return data


def _member_text(template: str) -> Callable[[Scene], tuple[str, UUID | None]]:
    def text(scene: Scene) -> tuple[str, UUID | None]:
        member_id, _version = fresh_member(scene)
        return template.format(handle=member_id.hex[:8]), member_id

    return text


def _member_data(make: Callable[[str, int], str]) -> Callable[[Scene], tuple[str, UUID | None]]:
    def data(scene: Scene) -> tuple[str, UUID | None]:
        member_id, version = fresh_member(scene)
        return make(short_id(member_id), version), member_id

    return data


def _first(make: Callable[[Scene], tuple[str, UUID | None]]) -> Callable[[Scene], str]:
    return lambda scene: make(scene)[0]


STATUS = "Landkreis München"
LKM_07 = "Radschnellweg"
ADVICE = "pilot corridor"
FOLLOW_UP = "Send the counting data"

ROWS: tuple[Row, ...] = (
    # --- commands ---------------------------------------------------------------------------
    Row("/start", EVERYONE, shows("/start", r".")),
    Row("/start CODE (an unused invite)", STRANGERS, start_with_an_invite),
    Row("/help", EVERYONE, shows("/help", r"/help")),
    Row("/cancel", EVERYONE, shows("/cancel", r".")),
    Row(
        "/lang en",
        MEMBERS,
        own_settings(None, "/lang en", "LanguageChosen"),
    ),
    Row("/status 09184", MEMBERS, shows("/status 09184", STATUS)),
    Row("/programme", MEMBERS, shows("/programme", "03KF0003")),
    Row("/measures 09184", MEMBERS, shows("/measures 09184", "LKM-07")),
    Row("/measure LKM-07", MEMBERS, shows("/measure LKM-07", LKM_07)),
    Row("/timeline 09184", MEMBERS, shows("/timeline 09184", "Steinfurt")),
    Row("/goals 09184", MEMBERS, shows("/goals 09184", "renewable electricity")),
    Row("/chart 09184", MEMBERS, charts),
    Row("/followups (München–Steinfurt's)", SEES_THE_TWINNING, shows("/followups", FOLLOW_UP)),
    Row("/advice (given to München)", SEES_OWN_ADVICE, shows("/advice", ADVICE)),
    Row(
        "/mute exchanges",
        MEMBERS,
        own_settings(
            lambda m: UnmuteNotifications.parse(member_id=m, kind="exchanges"),
            "/mute exchanges",
            "KindMuted",
        ),
    ),
    Row(
        "/subscribe exchanges",
        MEMBERS,
        own_settings(
            lambda m: MuteNotifications.parse(member_id=m, kind="exchanges"),
            "/subscribe exchanges",
            "KindUnmuted",
        ),
    ),
    Row(
        "/digest daily",
        MEMBERS,
        own_settings(
            lambda m: ChooseDigest.parse(member_id=m, mode="off"), "/digest daily", "DigestChosen"
        ),
    ),
    Row("/newmeasure (guided)", RECORDERS, opens("/newmeasure", "NewMeasure:")),
    Row(
        "/setstatus CODE planned",
        FOR_OWN_REGION,
        records(_measure_text("/setstatus {code} planned"), "StatusChanged"),
    ),
    Row(
        "/progress CODE 40",
        FOR_OWN_REGION,
        records(_measure_text("/progress {code} 40"), "ProgressReported"),
    ),
    Row("/goal (guided)", RECORDERS, opens("/goal", "GoalDialog:")),
    Row("/exchange (guided)", IN_THE_TWINNING, opens("/exchange", "ExchangeDialog:")),
    Row("/done FOLLOW-UP", IN_THE_TWINNING, records(_done_text, "FollowUpDone")),
    Row("/askadvice (guided)", IN_THE_TWINNING, opens("/askadvice", "AskDialog:")),
    Row("/advise (guided)", IN_THE_TWINNING, opens("/advise", "AdviseDialog:")),
    Row(
        "/invite 09184 staff",
        MANAGES_OWN,
        records(lambda scene: ("/invite 09184 staff", None), "Invited"),
    ),
    Row(
        "/invite 09184 auditor",
        ADMINS,
        records(lambda scene: ("/invite 09184 auditor", None), "Invited"),
    ),
    Row("/members 09184", MANAGES_OWN, shows("/members 09184", "Anna Huber")),
    Row(
        "/role MEMBER coordinator",
        MANAGES_OWN,
        records(_member_text("/role {handle} coordinator"), "RoleChanged"),
    ),
    Row(
        "/remove MEMBER REASON",
        MANAGES_OWN,
        records(_member_text("/remove {handle} moved away"), "Removed"),
    ),
    Row(
        "/erase MEMBER REASON",
        ADMINS,
        records(_member_text("/erase {handle} left the district"), "PersonalDataErased"),
    ),
    Row("/history LKM-07", AUDITS_OWN, shows("/history LKM-07", "LKM-07")),
    Row("/asof 01.06.2016", AUDITS, shows("/asof 01.06.2016", r"\b2016\b")),
    Row("/export", GETS_THE_LOG, sends("/export", SendDocument)),
    Row("/verify", AUDITS, shows("/verify", "✅")),
    # --- buttons (data made up by the client) -----------------------------------------------
    Row(
        "button: open a twinning's status",
        MEMBERS,
        press_shows(lambda s: StatusOpen(twinning=s.stage.pair.twinning_id).pack(), STATUS),
    ),
    Row(
        "button: programme page",
        MEMBERS,
        press_shows(
            lambda s: ProgrammePage(programme=ids.programme_id("03KF0003"), page=1).pack(),
            "03KF0003",
        ),
    ),
    Row(
        "button: München's measure list",
        MEMBERS,
        press_shows(lambda s: MeasurePage(region=s.stage.pair.muenchen_id).pack(), "LKM-07"),
    ),
    Row(
        "button: open LKM-07",
        MEMBERS,
        press_shows(lambda s: MeasureOpen(measure=s.stage.measures["LKM-07"]).pack(), LKM_07),
    ),
    Row(
        "button: LKM-07's timeline",
        MEMBERS,
        press_shows(
            lambda s: TimelinePage(kind="m", subject=s.stage.measures["LKM-07"]).pack(), LKM_07
        ),
    ),
    Row(
        "button: → planned (a measure)",
        FOR_OWN_REGION,
        press_records(
            _measure_data(
                lambda m, v: MeasureStatusSet(measure=m, status="planned", version=v).pack()
            ),
            "StatusChanged",
        ),
    ),
    Row(
        "button: report progress (a measure)",
        FOR_OWN_REGION,
        press_offers(
            _first(_measure_data(lambda m, v: MeasureProgressAsk(measure=m, version=v).pack())),
            "mp:",
        ),
    ),
    Row(
        "button: 40 % (a measure)",
        FOR_OWN_REGION,
        press_records(
            _measure_data(lambda m, v: MeasureProgressSet(measure=m, percent=40, version=v).pack()),
            "ProgressReported",
        ),
    ),
    Row(
        "button: language English",
        MEMBERS,
        press_records(lambda s: (LanguageChoice(language="en").pack(), None), "LanguageChosen"),
    ),
    Row(
        "button: follow-ups page",
        SEES_THE_TWINNING,
        press_shows(lambda s: FollowUpsPage(page=1).pack(), FOLLOW_UP),
    ),
    Row("button: ✓ a follow-up", IN_THE_TWINNING, press_records(_done_data, "FollowUpDone")),
    Row(
        "button: advice page",
        SEES_OWN_ADVICE,
        press_shows(lambda s: AdvicePage(page=1).pack(), ADVICE),
    ),
    Row(
        "button: acknowledge advice",
        FOR_OWN_REGION,
        press_records(
            _advice_data(lambda a, v: AdviceAct(action="ack", advice=a, version=v).pack()),
            "Acknowledged",
        ),
    ),
    Row(
        "button: adopt advice (choose a measure)",
        FOR_OWN_REGION,
        press_offers(
            _first(
                _advice_data(lambda a, v: AdviceAct(action="adopt", advice=a, version=v).pack())
            ),
            "adm:",
        ),
    ),
    Row(
        "button: adopt advice into LKM-07",
        FOR_OWN_REGION,
        press_records(
            _advice_data(lambda a, v: AdviceMeasure(advice=a, version=v, code="LKM-07").pack()),
            "Adopted",
        ),
    ),
    Row(
        "button: decline advice (asks the reason)",
        FOR_OWN_REGION,
        press_opens(
            _first(
                _advice_data(lambda a, v: AdviceAct(action="decline", advice=a, version=v).pack())
            ),
            "DeclineDialog:",
        ),
    ),
    Row(
        "button: München's member list",
        MANAGES_OWN,
        press_shows(
            lambda s: MembersPage(scope=short_id(s.stage.pair.muenchen_id), page=1).pack(),
            "Anna Huber",
        ),
    ),
    Row(
        "button: change a member's role (choose)",
        MANAGES_OWN,
        press_offers(
            _first(_member_data(lambda m, v: MemberAct(action="role", member=m, version=v).pack())),
            "memr:",
        ),
    ),
    Row(
        "button: make a member coordinator",
        MANAGES_OWN,
        press_records(
            _member_data(lambda m, v: MemberRole(member=m, version=v, role="coordinator").pack()),
            "RoleChanged",
        ),
    ),
    Row(
        "button: remove a member (confirm)",
        MANAGES_OWN,
        press_offers(
            _first(
                _member_data(lambda m, v: MemberAct(action="remove", member=m, version=v).pack())
            ),
            "mem:confirm",
        ),
    ),
    Row(
        "button: LKM-07's history",
        AUDITS_OWN,
        press_shows(
            lambda s: HistoryPage(kind="m", ident=s.stage.measures["LKM-07"].hex, page=1).pack(),
            "LKM-07",
        ),
    ),
    Row("button: revise München's goal (in /goal)", FOR_OWN_REGION, revise_muenchens_goal),
    Row(
        "buttons of a dialog, outside it (nm, gc, ex, aska, advs, nt, gt, twp, sdp)",
        NOBODY,
        dialog_buttons_without_their_dialog,
    ),
    # last: every sender erases themselves
    Row(
        "/erase me REASON (one's own personal data)",
        MEMBERS,
        records(
            lambda scene: ("/erase me leaving the programme", scene.member_id), "PersonalDataErased"
        ),
    ),
)


# --- the test ----------------------------------------------------------------------------------


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def front(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Front]:
    folder = Path(tmp_path_factory.mktemp("matrix"))
    clock = ManualClock(datetime(2016, 6, 1, 9, 0, tzinfo=UTC))
    async with open_world(folder, clock) as world:
        stage = set_the_stage(world)
        the_front = Front(stage)
        try:
            yield the_front
        finally:
            the_front.close()


def sender(front: Front, column: Column) -> Seat:
    if column.role is None:
        number = next(_strangers)
        return Seat(Person(id=number, first_name=f"Eve {number}", language_code="de"), None, None)
    if column.role == Role.ADMIN:
        return seat_of(Role.ADMIN, OFFICE)
    return seat_of(column.role, column.region)


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize("row", ROWS, ids=str)
async def test_who_may_do_what(front: Front, row: Row):
    observed = {}
    for column in COLUMNS:
        seat = sender(front, column)
        scene = Scene(front, seat, builders.recorded(front.world.service))
        done = await row.act(scene)
        observed[column.key] = done
        if not done:
            assert builders.recorded(front.world.service) == scene.head, (
                f"{row.what} by {column.key}: refused, but the log grew"
            )
    wrong = {key: observed[key] for key in observed if observed[key] != (key in row.allowed)}
    assert not wrong, f"{row.what}: " + ", ".join(
        f"{key} {'may' if done else 'may not'}" for key, done in wrong.items()
    )


def test_the_table_covers_every_command_of_the_catalog():
    named = {row.what.split()[0].lstrip("/") for row in ROWS if row.what.startswith("/")}
    assert set(catalog.CATALOG) <= named, set(catalog.CATALOG) - named


def markdown(rows: Iterable[Row] = ROWS) -> str:
    """The table for the README: ✅ allowed, – refused."""
    head = "| command or button | " + " | ".join(c.title for c in COLUMNS) + " |"
    rule = "|---|" + "---|" * len(COLUMNS)
    lines = [head, rule]
    for row in rows:
        cells = " | ".join("✅" if column.key in row.allowed else "–" for column in COLUMNS)
        lines.append(f"| {row.what} | {cells} |")
    return "\n".join(lines)


if __name__ == "__main__":  # python -m tests.reliability.test_authorisation_matrix
    print(markdown())
