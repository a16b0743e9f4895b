"""Goals of the energy vision through the bot: /goals lists them, /goal sets or revises."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

from bot.buttons import GoalPick
from domain.commands import ReviseGoal, SetGoal
from tests import builders
from tests.bot.conftest import BotWorld
from tests.bot.harness import GROUP, Person
from tests.bot.people import button_update, forged, join, said, shown, with_button

ANNA = Person(id=101, first_name="Anna", language_code="de")
JOHN = Person(id=102, first_name="John", language_code="en")
AUDITOR = Person(id=105, first_name="Udo", language_code="de")
OFFICE = Person(id=103, first_name="Olga", language_code="de")
STRANGER = Person(id=999, first_name="Eve", language_code="de")


def goals(world: BotWorld) -> tuple[builders.Pair, UUID]:
    """München aims at 100 % renewable electricity by 2030, revised once from 80 % by 2035."""
    pair = builders.muenchen_and_steinfurt(world.service)
    goal = builders.act(
        world.service,
        pair.muenchen_staff,
        SetGoal,
        region="09184",
        topic="energy_vision",
        metric="Anteil erneuerbarer Strom",
        target_value="80",
        unit="%",
        target_year=2035,
    ).aggregate_id
    builders.act(
        world.service,
        pair.muenchen_staff,
        ReviseGoal,
        goal_id=goal,
        target_value="100",
        target_year=2030,
        reason="Kreistagsbeschluss 2016",
    )
    world.settle()
    return pair, goal


def current_target(world: BotWorld, goal: UUID) -> tuple[Decimal, int]:
    target = builders.get(world.service, goal).target
    return target.value, target.year


async def test_goals_show_target_unit_year_revisions_and_status(world: BotWorld):
    goals(world)
    join(world, ANNA, "09184", "staff")
    join(world, JOHN, "05566", "staff")

    [german] = await world.send(ANNA, "/ziele")
    [english] = await world.send(JOHN, "/goals lk-muenchen")

    assert german.text.splitlines() == [
        "<b>Ziele von Landkreis München</b>",
        "• <b>Anteil erneuerbarer Strom</b> (Energievision (Ziele und Strukturen)): "
        "100 % bis 2030 – aktiv, Überarbeitungen: 1",
        "  früher: 80 % bis 2035",
    ]
    assert "• <b>Anteil erneuerbarer Strom</b> (energy vision (goals and structures)): " in (
        english.text
    )
    assert "100 % by 2030 – active, revisions: 1" in english.text


async def test_a_region_without_goals_and_the_office_are_told_what_to_do(world: BotWorld):
    goals(world)
    join(world, JOHN, "05566", "staff")
    join(world, OFFICE, None, "coordinator")

    [none] = await world.send(JOHN, "/goals")
    [office] = await world.send(OFFICE, "/ziele")
    [unknown] = await world.send(OFFICE, "/ziele 09999")
    [stranger] = await world.send(STRANGER, "/ziele 09184")

    assert "No goals yet. /goal sets one." in none.text
    assert "/ziele 09184" in office.text
    assert "Es gibt keine Region 09999" in unknown.text
    assert "kein Mitglied" in stranger.text


async def test_a_new_goal_is_set_step_by_step(world: BotWorld):
    goals(world)
    join(world, ANNA, "09184", "staff")

    [offer] = await world.send(ANNA, "/ziel")
    topic = shown(await world.harness.press(ANNA, offer, "➕ Neues Ziel"))
    await world.harness.press(ANNA, topic, "Wärmeplanung")
    await world.send(ANNA, "Anteil Fernwärme <erneuerbar>")
    [bad_value] = await world.send(ANNA, "viel")
    await world.send(ANNA, "42,5")
    await world.send(ANNA, "%")
    [bad_year] = await world.send(ANNA, "2200")
    [confirm] = await world.send(ANNA, "2040")
    done = shown(await world.harness.press(ANNA, confirm, "Erfassen"))

    assert "Ein neues Ziel für Landkreis München setzen" in offer.text
    assert "Bitte eine Zahl" in bad_value.text
    assert "von 1990 bis 2100" in bad_year.text
    assert "<b>Anteil Fernwärme &lt;erneuerbar&gt;</b> (Wärmeplanung): 42,5 % bis 2040" in (
        confirm.text
    )
    assert (
        done.text
        == "✅ Anna hat das Ziel „Anteil Fernwärme &lt;erneuerbar&gt;“ gesetzt: 42,5 % bis 2040."
    )
    [listing] = await world.send(ANNA, "/ziele")
    assert "42,5 % bis 2040 – aktiv, Überarbeitungen: 0" in listing.text


async def test_a_goal_is_revised_with_a_reason(world: BotWorld):
    _pair, goal = goals(world)
    join(world, JOHN, "09184", "staff")

    [offer] = await world.send(JOHN, "/goal")
    button = "Anteil erneuerbarer Strom: 100 % (2030)"
    asked = shown(await world.harness.press(JOHN, offer, button))
    [unchanged] = await world.send(JOHN, "100")
    await world.send(JOHN, "-")
    await world.send(JOHN, "-")
    await world.send(JOHN, "2028")
    [confirm] = await world.send(JOHN, "Faster, as the council decided")
    done = shown(await world.harness.press(JOHN, confirm, "Record"))

    assert "Revise “Anteil erneuerbarer Strom”: now 100 % by 2030." in asked.text
    assert "The new target year (- keeps 2030)?" in unchanged.text
    assert "100 % by 2030 → 100 % by 2028" in confirm.text
    assert done.text == "✅ John revised the goal “Anteil erneuerbarer Strom”: now 100 % by 2028."
    assert current_target(world, goal) == (Decimal("100"), 2028)


async def test_a_revision_must_change_something(world: BotWorld):
    goals(world)
    join(world, ANNA, "09184", "staff")
    [offer] = await world.send(ANNA, "/ziel")
    await world.harness.press(ANNA, offer, "Anteil erneuerbarer Strom: 100 % (2030)")

    await world.send(ANNA, "-")
    [again] = await world.send(ANNA, "2030")

    assert "Eine Überarbeitung muss Zielwert oder Zieljahr ändern." in again.text
    assert "Der neue Zielwert (- behält 100)?" in again.text


async def test_a_goal_revised_meanwhile_is_not_overwritten(world: BotWorld):
    pair, goal = goals(world)
    join(world, ANNA, "09184", "staff")
    [offer] = await world.send(ANNA, "/ziel")
    await world.harness.press(ANNA, offer, "Anteil erneuerbarer Strom: 100 % (2030)")
    await world.send(ANNA, "90")
    await world.send(ANNA, "-")
    [confirm] = await world.send(ANNA, "Realistischer")
    builders.act(
        world.service,
        pair.muenchen_staff,
        ReviseGoal,
        goal_id=goal,
        target_year=2029,
        reason="Beschluss",
    )
    world.settle()
    before = builders.recorded(world.service)

    done = shown(await world.harness.press(ANNA, confirm, "Erfassen"))

    assert "Jemand hat dieses Ziel inzwischen geändert" in done.text
    assert builders.recorded(world.service) == before
    assert current_target(world, goal) == (Decimal("100"), 2029)


async def test_another_regions_goal_cannot_be_picked_with_forged_data(world: BotWorld):
    _pair, goal = goals(world)
    join(world, JOHN, "05566", "staff")
    [offer] = await world.send(JOHN, "/goal")

    replies = await world.harness.press(JOHN, forged(JOHN, GoalPick(goal=goal).pack()), "x")
    unknown = await world.harness.press(JOHN, forged(JOHN, GoalPick(goal=UUID(int=1)).pack()), "x")

    assert "Set a new goal for Kreis Steinfurt" in offer.text
    assert [text for text, _data in offer.buttons] == ["➕ New goal"]
    assert "only for your own region" in said(replies)
    assert "There is no such goal" in said(unknown)


async def test_the_office_names_the_region_of_the_goal(world: BotWorld):
    goals(world)
    join(world, OFFICE, None, "coordinator")

    [asked] = await world.send(OFFICE, "/goal")
    [offer] = await world.send(OFFICE, "09184")

    assert "Ziele welcher Region?" in asked.text
    assert "Anteil erneuerbarer Strom: 100 % (2030)" in dict(offer.buttons)


async def test_read_only_members_and_groups_get_no_goal_dialog(world: BotWorld):
    goals(world)
    join(world, AUDITOR, "09184", "auditor")
    join(world, ANNA, "09184", "staff")

    [auditor] = await world.send(AUDITOR, "/ziel")
    [group] = await world.send(ANNA, "/ziel", chat=GROUP)
    [listing] = await world.send(AUDITOR, "/ziele")

    assert "kann lesen, aber nichts erfassen" in auditor.text
    assert "privaten Chat" in group.text
    assert "100 % bis 2030" in listing.text


async def test_cancel_and_a_redelivered_confirmation_record_nothing_twice(world: BotWorld):
    goals(world)
    join(world, ANNA, "09184", "staff")
    [offer] = await world.send(ANNA, "/ziel")
    topic = shown(await world.harness.press(ANNA, offer, "➕ Neues Ziel"))
    [typed] = await world.send(ANNA, "Radverkehr")
    await world.harness.press(ANNA, with_button([topic], "Radverkehr"), "Radverkehr")
    for answer in ("Radverkehrsanteil", "25", "%"):
        await world.send(ANNA, answer)
    [confirm] = await world.send(ANNA, "2030")
    update = button_update(world, ANNA, confirm, "Erfassen")
    before = builders.recorded(world.service)

    first = await world.harness.feed(update)
    again = await world.harness.feed(update)
    await world.send(ANNA, "/ziel")
    [cancelled] = await world.send(ANNA, "/abbrechen")

    assert "mit einer Schaltfläche" in typed.text
    assert "✅" in said(first)
    assert again == []
    assert builders.recorded(world.service) == before + 2  # Goal.Set and the receipt
    assert "Abgebrochen" in cancelled.text
