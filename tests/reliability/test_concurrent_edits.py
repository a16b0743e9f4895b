"""Two members change one measure at the same moment, 100 rounds: exactly one wins each
round, the other is told (in their language: Anna reads English, Bernd German) and
retries on what is there now, successfully, and nothing is lost.

* through the domain service: two service instances (each with its own connection pool)
  on one store, SQLite and PostgreSQL, two threads released together by a barrier;
* through the bot: two members press a progress button of the same measure at once, in
  one bot, and in two bot instances (two dispatchers, two gateways with their own
  writing thread and connection pool, two read-model files) on one PostgreSQL store.

The tests count the rounds in which both changes really met in the domain or in the
store (not only in the bot's look at its read models), and require some.
``REGIOTWIN_LONG_TESTS=1`` runs 1,000 rounds through the service and 300 through the bot.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from aiogram.types import CallbackQuery, Chat, Message, Update
from eventsourcing.persistence import IntegrityError

from bot.error_messages import render_error
from bot.i18n import build_i18n
from bot.transcript import _reply
from domain.application import sqlite_env
from domain.clock import ManualClock
from domain.commands import ReportProgress
from domain.errors import Conflict
from domain.service import Outcome, RegioTwin
from tests import builders
from tests.bot.harness import BOT_USER, Person, Reply
from tests.reliability import crash_harness as harness
from tests.reliability.bot_stack import BotStack, running_stack
from tests.reliability.integrity import check_log
from tests.stores import postgres_schema

ROUNDS = harness.scaled(100, 1000)
"""Rounds through the domain service; ``REGIOTWIN_LONG_TESTS=1``: 1,000."""
BOT_ROUNDS = harness.scaled(100, 300)
"""Rounds through the bot (eight updates each); ``REGIOTWIN_LONG_TESTS=1``: 300."""
TOLD = {"en": "Someone changed this in the meantime", "de": "Jemand hat das inzwischen geändert"}


# --- through the domain service --------------------------------------------------------------


def test_two_members_change_one_measure_at_once_one_wins_each_round(store, clock) -> None:
    anna_side = RegioTwin.from_env(store, clock)
    bernd_side = RegioTwin.from_env(store, clock)  # another instance: its own pool
    try:
        pair = builders.muenchen_and_steinfurt(anna_side)
        measure = builders.measure(anna_side, pair.muenchen_staff)
        anna = pair.muenchen_staff
        bernd = builders.member(anna_side, "09184", "coordinator", "Bernd Vogl")
        barrier = threading.Barrier(2)
        i18n = build_i18n()
        collisions = [count_collisions(anna_side), count_collisions(bernd_side)]

        def report(service: RegioTwin, actor: UUID, note: str, seen: int) -> Outcome | Conflict:
            command = ReportProgress.parse(
                measure_id=measure, percent=len(note) % 101, note=note, expected_version=seen
            )
            barrier.wait(timeout=30)  # both at once
            try:
                return service.handle(command, actor=actor)
            except Conflict as conflict:
                return conflict

        winners: list[str] = []
        with ThreadPoolExecutor(2) as both:
            for round_ in range(ROUNDS):
                seen = builders.get(anna_side, measure).version  # what both see
                notes = {anna: f"Anna, round {round_}", bernd: f"Bernd, round {round_}"}
                results = {
                    actor: both.submit(report, service, actor, notes[actor], seen)
                    for actor, service in ((anna, anna_side), (bernd, bernd_side))
                }
                outcomes = {actor: future.result() for actor, future in results.items()}
                won = [actor for actor, got in outcomes.items() if isinstance(got, Outcome)]
                lost = [actor for actor, got in outcomes.items() if isinstance(got, Conflict)]
                assert (len(won), len(lost)) == (1, 1), outcomes
                [winner], [loser] = won, lost
                conflict = outcomes[loser]
                assert isinstance(conflict, Conflict)
                # The loser is told what happened meanwhile, as the bot says it.
                assert (conflict.expected, conflict.actual) == (seen, seen + 1)
                assert conflict.changes[-1]["actor"] == winner.hex
                language = "en" if loser == anna else "de"  # Bernd reads German
                with i18n.context(), i18n.use_locale(language):
                    told = render_error(conflict)
                assert told.startswith(TOLD[language]), told
                # … and retries on what is there now.
                retry = (anna_side if loser == anna else bernd_side).handle(
                    ReportProgress.parse(
                        measure_id=measure,
                        percent=50,
                        note=notes[loser] + ", again",
                        expected_version=conflict.actual,
                    ),
                    actor=loser,
                )
                assert retry.version == seen + 2
                winners.append(notes[winner])
                winners.append(notes[loser] + ", again")

        history = list(anna_side.app.events.get(measure))
        assert [getattr(event, "note", None) for event in history[1:]] == winners  # none lost
        check_log(anna_side.app)  # chain intact, no command half-written
    finally:
        anna_side.close()
        bernd_side.close()
    # Both saved at once (the store refused the second) in some rounds, at least.
    assert sum(map(len, collisions)) > 0
    harness.publish(
        {
            "scenario": "two members change one measure at once, two services",
            "store": "postgres" if store["PERSISTENCE_MODULE"].endswith("postgres") else "sqlite",
            "rounds": ROUNDS,
            "won": dict(Counter(note.split(",")[0] for note in winners[::2])),
            "decided by the store": sum(map(len, collisions)),
            "retried successfully": ROUNDS,
            "lost": 0,
        }
    )


def count_collisions(service: RegioTwin) -> list[IntegrityError]:
    """Note every save the store refuses because the other side saved first (the service
    then decides again and meets the Conflict); the save itself goes through unchanged."""
    seen: list[IntegrityError] = []
    save = service.app.save

    def noting(*args: Any, **kwargs: Any) -> Any:
        try:
            return save(*args, **kwargs)
        except IntegrityError as error:
            seen.append(error)
            raise

    service.app.save = noting  # type: ignore[method-assign]
    return seen


# --- through the bot ----------------------------------------------------------------------------

ANNA = Person(id=9201, first_name="Anna", language_code="en")
BERND = Person(id=9202, first_name="Bernd", language_code="de")
STALE = {  # the alert, in the loser's language
    "en": "This measure was changed in the meantime. Nothing was recorded.",
    "de": "Diese Maßnahme wurde inzwischen geändert. Es wurde nichts erfasst.",
}
REPORT = {"en": "Report progress", "de": "Fortschritt melden"}
REPORTED = {"en": "✅ {name} reported progress", "de": "✅ {name} hat einen Fortschritt"}


def press_update(person: Person, reply: Reply, button: str) -> Update:
    """Pressing a button; callback query ids are unique across bot instances, as Telegram's."""
    message = Message(
        message_id=reply.message_id or 1,
        date=datetime.now(tz=UTC),
        chat=Chat(id=reply.chat_id or person.id, type="private"),
        from_user=BOT_USER,
        text=reply.text,
    )
    return Update(
        update_id=1,
        callback_query=CallbackQuery(
            id=uuid.uuid4().hex,
            from_user=person.user,
            chat_instance="test",
            message=message,
            data=dict(reply.buttons)[button],
        ),
    )


async def press(stack: BotStack, person: Person, reply: Reply, button: str) -> list[Reply]:
    """The press's answers only (another member may be pressing in the same bot meanwhile)."""
    update = press_update(person, reply, button)
    assert update.callback_query is not None
    query_id = update.callback_query.id
    calls = stack.harness.session.calls
    before = len(calls)
    await stack.harness.dispatcher.feed_update(stack.harness.bot, update)
    mine = [
        _reply(call, result)
        for call, result in calls[before:]
        if getattr(call, "callback_query_id", None) == query_id
        or str(getattr(call, "chat_id", "")) == str(person.id)
    ]
    return [reply for reply in mine if reply is not None]


def screen(replies: list[Reply]) -> Reply:
    [shown] = [reply for reply in replies if reply.method != "AnswerCallbackQuery"]
    return shown


def alert(replies: list[Reply]) -> str:
    return " ".join(r.text for r in replies if r.method == "AnswerCallbackQuery" and r.text)


async def progress_choices(stack: BotStack, person: Person) -> Reply:
    [card] = await stack.send(person, "/measure LKM-07")
    return screen(await press(stack, person, card, REPORT[person.language_code]))


@dataclass
class Race:
    """What the rounds of one race came to."""

    rounds: int = 0
    won: Counter[str] = field(default_factory=Counter)
    decided_by_the_domain: int = 0
    """Rounds in which both presses reached the domain (both passed the bot's look at its
    read models) and the domain turned the loser away with a Conflict."""
    saved_at_once: int = 0
    """Of those, rounds in which both had decided and the store refused the second save
    (the loser's side then decided again and met the Conflict)."""
    retried: int = 0


def count_conflicts(service: RegioTwin, seen: list[Conflict]) -> None:
    """Note every Conflict the domain raises (the call itself goes through unchanged)."""
    handle = service.handle

    def noting(*args: Any, **kwargs: Any) -> Outcome:
        try:
            return handle(*args, **kwargs)
        except Conflict as conflict:
            seen.append(conflict)
            raise

    service.handle = noting  # type: ignore[method-assign]


async def members_race(anna_bot: BotStack, bernd_bot: BotStack, measure: UUID) -> Race:
    """BOT_ROUNDS rounds: both open the progress buttons (same version), both press at once."""
    service = anna_bot.service
    bots = {ANNA.first_name: anna_bot, BERND.first_name: bernd_bot}
    people = {ANNA.first_name: ANNA, BERND.first_name: BERND}
    conflicts: list[Conflict] = []
    collisions: list[list[IntegrityError]] = []
    for bot in {id(b): b for b in bots.values()}.values():
        count_conflicts(bot.service, conflicts)
        collisions.append(count_collisions(bot.service))
    race = Race()
    for round_ in range(BOT_ROUNDS):
        for bot in {id(b): b for b in bots.values()}.values():  # people take their time
            bot.clock.advance(timedelta(seconds=20))  # (and flood control counts it)
        seen = builders.get(service, measure).version
        choices = {name: await progress_choices(bots[name], people[name]) for name in bots}
        percents = {"Anna": f"{10 * (round_ % 5 + 1)} %", "Bernd": f"{10 * (round_ % 5 + 6)} %"}
        conflicts.clear()
        pressed = await asyncio.gather(
            *(press(bots[name], people[name], choices[name], percents[name]) for name in bots)
        )
        results = dict(zip(bots, pressed, strict=True))
        won = [name for name, replies in results.items() if screen(replies).text.startswith("✅")]
        told = [
            name
            for name, replies in results.items()
            if STALE[people[name].language_code] in alert(replies)
        ]
        assert (len(won), len(told)) == (1, 1), results
        [winner], [loser] = won, told
        race.won[winner] += 1
        race.decided_by_the_domain += len(conflicts)
        race.saved_at_once = sum(map(len, collisions))
        assert builders.get(service, measure).version == seen + 1
        # The loser sees the measure as it is now (the winner's report) and tries again.
        language = people[loser].language_code
        current = screen(results[loser])
        assert current.text.startswith(f"⚠️ {STALE[language]}"), current.text
        again = screen(await press(bots[loser], people[loser], current, REPORT[language]))
        done = screen(await press(bots[loser], people[loser], again, percents[loser]))
        assert done.text.startswith(REPORTED[language].format(name=loser)), done.text
        assert builders.get(service, measure).version == seen + 2
        race.retried += 1
        race.rounds += 1
    return race


def reports(service: RegioTwin, measure: UUID) -> list[tuple[str, int]]:
    return [
        (event.actor, event.percent)
        for event in service.app.events.get(measure)
        if type(event).__name__ == "ProgressReported"
    ]


async def cast_on(stack: BotStack) -> UUID:
    pair = builders.muenchen_and_steinfurt(stack.service)
    measure = builders.measure(stack.service, pair.muenchen_staff)
    stack.join(ANNA, "09184", "staff")
    stack.join(BERND, "09184", "coordinator")
    return measure


def start() -> ManualClock:
    return ManualClock(datetime(2016, 6, 1, 9, tzinfo=UTC))


def publish(race: Race, scenario: str, store: str) -> None:
    harness.publish(
        {
            "scenario": scenario,
            "store": store,
            "rounds": race.rounds,
            "won": dict(race.won),
            "decided by the domain": race.decided_by_the_domain,
            "saved at once, refused by the store": race.saved_at_once,
            "retried successfully": race.retried,
            "lost": 0,
        }
    )


async def test_two_members_press_at_once_in_one_bot(tmp_path: Path) -> None:
    env = sqlite_env(str(tmp_path / "events.sqlite"))
    async with running_stack(env, tmp_path, start()) as stack:
        measure = await cast_on(stack)
        race = await members_race(stack, stack, measure)
        assert len(reports(stack.service, measure)) == 2 * BOT_ROUNDS  # every change is there
        check_log(stack.service.app)
    publish(race, "two members press at once, one bot", "sqlite")


@pytest.mark.postgres
async def test_two_members_press_at_once_in_two_bots_on_one_postgres(tmp_path: Path) -> None:
    """Two bot instances – each its own dispatcher, gateway (writing thread and connection
    pool), log of handled updates and read models following the log – on one PostgreSQL
    store. Anna talks to the first, Bernd to the second."""
    with postgres_schema() as env:
        async with running_stack(env, tmp_path / "first", start()) as first:
            measure = await cast_on(first)  # both bots know the members: one store
            # Started one after the other: eventsourcing creates its tables and functions
            # at every start, and PostgreSQL refuses two such DDL at once.
            await first.settled()
            async with running_stack(env, tmp_path / "second", start()) as second:
                second.harness._update_ids = iter(range(10**6, 2 * 10**6))  # one numbering
                await second.settled()
                race = await members_race(first, second, measure)
                assert len(reports(first.service, measure)) == 2 * BOT_ROUNDS
                check_log(first.service.app)
    # The presses really met in the domain and in the store, not only in one bot's look at
    # its read models.
    assert race.decided_by_the_domain > 0, race
    assert race.saved_at_once > 0, race
    publish(race, "two members press at once, two bots", "postgres")
