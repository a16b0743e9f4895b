"""/subscribe, /mute and /digest: settings are commands, and so events of the member."""

from __future__ import annotations

from pathlib import Path

from domain.application import sqlite_env
from projections.outbox import open_outbox
from projections.outbox_projection import OutboxProjection, apply_log
from tests import builders
from tests.bot.conftest import BotWorld
from tests.bot.harness import Person
from tests.bot.people import join

ANNA = Person(id=301, first_name="Anna", language_code="de")
JOHN = Person(id=302, first_name="John", language_code="en")
STRANGER = Person(id=399, first_name="Eve", language_code="de")


def last_event(world: BotWorld):
    return builders.events(world.service)[-2]  # the last is the command's receipt


def with_outbox(world: BotWorld, folder: Path):
    """The outbox beside the world's store, caught up, as the bot process keeps it."""
    store = open_outbox(sqlite_env(""), folder)
    store.initialise("RegioTwin", 0)
    world.harness.dispatcher["outbox"] = store
    projection = OutboxProjection(store)
    return store, lambda: apply_log(projection, world.service.app)


async def test_muting_and_subscribing_again_are_events_of_the_member(world: BotWorld) -> None:
    builders.muenchen_and_steinfurt(world.service)
    anna = join(world, ANNA, "09184", "staff")

    [muted] = await world.send(ANNA, "/stumm rat")
    assert muted.text == "Stummgeschaltet: Rat. /abonnieren advice schaltet es wieder ein."
    event = last_event(world)
    assert type(event).__qualname__ == "NotificationSettings.KindMuted"
    assert event.actor == anna.hex

    [again] = await world.send(ANNA, "/mute advice")
    assert again.text == "Das ist bereits stummgeschaltet."

    [back] = await world.send(ANNA, "/abonnieren rat")
    assert back.text == "Sie erhalten wieder Benachrichtigungen zu: Rat."
    assert type(last_event(world)).__qualname__ == "NotificationSettings.KindUnmuted"


async def test_the_overview_shows_what_is_muted_per_twinning(world: BotWorld, tmp_path) -> None:
    builders.muenchen_and_steinfurt(world.service)
    join(world, ANNA, "09184", "staff")
    store, catch_up = with_outbox(world, tmp_path)
    try:
        [muted] = await world.send(ANNA, "/mute exchanges kreis-steinfurt")
        assert muted.text.startswith("In diesem Twinning stummgeschaltet: Erfahrungsaustausch.")
        await world.send(ANNA, "/mute reminders")
        await world.send(ANNA, "/digest weekly")
        catch_up()

        [overview] = await world.send(ANNA, "/abonnieren")
        assert "<b>Ihre Benachrichtigungen</b>" in overview.text
        assert "Erfahrungsaustausch (Kreis Steinfurt – Landkreis München)" in overview.text
        assert "Erinnerungen (überall)" in overview.text
        assert "Zusammenfassung: wöchentlich, montags um 08:00 (Europe/Berlin)." in overview.text
    finally:
        store.close()


async def test_a_holiday_until_a_date(world: BotWorld) -> None:
    builders.muenchen_and_steinfurt(world.service)
    join(world, ANNA, "09184", "staff")

    [needs_a_date] = await world.send(ANNA, "/mute all")
    assert "/stumm alle bis 31.08.2026" in needs_a_date.text
    [past] = await world.send(ANNA, "/stumm alle bis 01.01.2000")
    assert past.text == "Der letzte Urlaubstag kann nicht in der Vergangenheit liegen."

    [holiday] = await world.send(ANNA, "/stumm alle bis 31.12.2016")
    assert holiday.text == (
        "Schönen Urlaub! Bis einschließlich 31.12.2016 erhalten Sie keine Benachrichtigungen."
    )
    event = last_event(world)
    assert type(event).__qualname__ == "NotificationSettings.HolidayTaken"
    assert event.until.isoformat() == "2016-12-31"

    [on_again] = await world.send(ANNA, "/subscribe all")
    assert on_again.text == "Alle Benachrichtigungen sind wieder eingeschaltet."


async def test_digest_and_its_time_in_english(world: BotWorld) -> None:
    builders.muenchen_and_steinfurt(world.service)
    join(world, JOHN, "05566", "coordinator")

    [daily] = await world.send(JOHN, "/digest daily")
    assert daily.text == "From now on you get one digest a day instead of single messages."
    [timed] = await world.send(JOHN, "/digest time 7:45 Europe/Lisbon")
    assert timed.text == "Digests and weekly summaries now come at 07:45."
    event = last_event(world)
    assert (event.at, event.timezone) == ("07:45", "Europe/Lisbon")
    [same] = await world.send(JOHN, "/digest daily")
    assert same.text == "Your digest is set that way already."
    [off] = await world.send(JOHN, "/digest off")
    assert off.text == "Digest off: you get every notification as it happens."
    [bad] = await world.send(JOHN, "/digest time 7:45 Mars/Olympus")
    assert "not valid" in bad.text


async def test_unknown_words_get_the_usage_and_strangers_nothing(world: BotWorld) -> None:
    builders.muenchen_and_steinfurt(world.service)
    join(world, ANNA, "09184", "staff")
    [usage] = await world.send(ANNA, "/mute gossip")
    assert "/mute KIND|all [until DATE]" in usage.text
    assert "advice (Rat)" in usage.text
    [refusal] = await world.send(STRANGER, "/mute advice")
    assert "Rat" not in refusal.text
    assert "kein Mitglied" in refusal.text or "not a member" in refusal.text.lower()
