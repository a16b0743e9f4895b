"""/status: where a twinning stands; /programme: every twinning ranked by progress."""

from __future__ import annotations

from domain.commands import FormTwinning, StartTwinning
from tests import builders
from tests.bot.conftest import BotWorld
from tests.bot.harness import GROUP, Person
from tests.bot.people import forged, join, said, shown, with_button
from tests.projections.scenarios import exchanges_and_advice
from tests.projections.support import at, move, progress

ANNA = Person(id=101, first_name="Anna", language_code="de")
JOHN = Person(id=102, first_name="John", language_code="en")
OFFICE = Person(id=103, first_name="Olga", language_code="de")
STRANGER = Person(id=999, first_name="Eve", language_code="de")


def muenchen_learns_a_quarter(world: BotWorld) -> builders.Pair:
    """München has four measures before the twinning starts (one implemented: 25 %); after
    the start it implements a second (50 %) and reports another at 50 %."""
    pair = builders.muenchen_and_steinfurt(world.service)
    staff = pair.muenchen_staff
    first, second, third, _fourth = (
        builders.measure(world.service, staff, code=f"LKM-0{n}") for n in range(1, 5)
    )
    move(world.service, staff, first, "implemented")
    at(world.clock, 2016, 7, 1, 10)
    move(world.service, staff, second, "implemented")
    progress(world.service, staff, third, 50)
    at(world.clock, 2016, 7, 20, 10)
    world.settle()
    return pair


async def test_a_member_sees_their_twinning_with_partners_topics_and_rates(world: BotWorld):
    muenchen_learns_a_quarter(world)
    join(world, ANNA, "09184", "staff")

    [reply] = await world.send(ANNA, "/status")

    assert "Twinning Kreis Steinfurt – Landkreis München" in reply.text
    assert "läuft, 21.06.2016 bis 20.06.2017" in reply.text
    assert "Lernende Region: Landkreis München" in reply.text
    assert "Radverkehr: Kreis Steinfurt lehrt" in reply.text
    assert "Öffentlichkeitsbeteiligung: auf Augenhöhe" in reply.text
    assert "Umsetzungsquote von Landkreis München" in reply.text
    assert "jetzt: 50,0 % (2 von 4 umgesetzt)" in reply.text
    assert "zum Start: 25,0 % (1 von 4 umgesetzt)" in reply.text
    assert "Veränderung: +25,0 Prozentpunkte" in reply.text
    assert "nach Fortschritt gewichtet: 62,5 %" in reply.text  # (100 + 100 + 50 + 0) ÷ 4
    assert [text for text, _data in reply.buttons] == [
        "Maßnahmen: Kreis Steinfurt",
        "Maßnahmen: Landkreis München",
        "Verlauf",
    ]


async def test_the_status_counts_exchanges_advice_follow_ups_and_each_sides_activity(
    world: BotWorld,
):
    exchanges_and_advice(world.service, world.clock)
    at(world.clock, 2016, 7, 20, 10)
    join(world, JOHN, "05566", "staff")

    [reply] = await world.send(JOHN, "/status")

    assert "Kreis Steinfurt teaches" in reply.text
    assert "on equal terms" in reply.text
    assert "1 held, 1 planned, the last on Jun 21, 2016" in reply.text
    assert "4 given, 2 open (1 acknowledged), 1 adopted, 1 declined" in reply.text
    assert "1 requested, 0 unanswered" in reply.text
    assert "1 open, 1 overdue" in reply.text  # Steinfurt's was due on 15 July
    # Recorded 14:00 and 11:00 UTC: Berlin is two hours ahead in summer.
    assert "Kreis Steinfurt: Jun 25, 2016 2:00 PM, Jan Brinkmann (gave advice)" in reply.text
    assert "Landkreis München: Jun 28, 2016 11:00 AM, Anna Huber (follow-up done)" in reply.text
    assert "now: – (no measures)" not in reply.text  # LKM-20 was adopted from advice


async def test_the_status_buttons_open_the_measures_and_the_timeline(world: BotWorld):
    muenchen_learns_a_quarter(world)
    join(world, ANNA, "09184", "staff")
    [status] = await world.send(ANNA, "/status")

    measures = shown(await world.harness.press(ANNA, status, "Maßnahmen: Landkreis München"))
    timeline = shown(await world.harness.press(ANNA, status, "Verlauf"))

    assert measures.method == "SendMessage"  # below the status, which stays
    assert "Maßnahmen von Landkreis München" in measures.text
    assert "LKM-04" in measures.text
    assert timeline.method == "SendMessage"
    assert "Verlauf des Twinnings Kreis Steinfurt – Landkreis München" in timeline.text


async def test_a_twinning_is_named_by_the_partners_key_or_slug(world: BotWorld):
    builders.muenchen_and_steinfurt(world.service)
    join(world, JOHN, "05566", "staff")

    [by_key] = await world.send(JOHN, "/status 09184")
    [by_slug] = await world.send(JOHN, "/stand lk-muenchen")
    [unknown] = await world.send(JOHN, "/status 09999")

    assert "Twinning Kreis Steinfurt – Landkreis München" in by_key.text
    assert "Twinning Kreis Steinfurt – Landkreis München" in by_slug.text
    assert "There is no region 09999" in unknown.text


async def test_the_programme_office_chooses_among_the_twinnings(world: BotWorld):
    builders.muenchen_and_steinfurt(world.service)
    _extra_twinnings(world, 1)
    join(world, OFFICE, None, "coordinator")

    [choice] = await world.send(OFFICE, "/status")
    status = shown(await world.harness.press(OFFICE, choice, "Kreis Steinfurt – Landkreis München"))

    assert "Welches Twinning?" in choice.text
    assert len(choice.buttons) == 2
    assert "Lernende Region: Landkreis München" in status.text


async def test_a_region_without_twinning_is_told_so(world: BotWorld):
    builders.muenchen_and_steinfurt(world.service)
    builders.marburg(world.service)
    join(world, ANNA, "06534", "staff")

    [reply] = await world.send(ANNA, "/status")

    assert "Ihre Region hat noch kein Twinning" in reply.text


async def test_in_a_group_the_status_is_answered_for_the_sender(world: BotWorld):
    builders.muenchen_and_steinfurt(world.service)
    join(world, ANNA, "09184", "staff")

    [reply] = await world.send(ANNA, "/status", chat=GROUP)

    assert reply.chat_id == GROUP.id
    assert "Twinning Kreis Steinfurt – Landkreis München" in reply.text


async def test_strangers_learn_nothing(world: BotWorld):
    builders.muenchen_and_steinfurt(world.service)
    join(world, ANNA, "09184", "staff")
    [status] = await world.send(ANNA, "/status")

    [refusal] = await world.send(STRANGER, "/status")
    pressed = await world.harness.press(STRANGER, status, "Verlauf")

    assert "kein Mitglied" in refusal.text
    assert "München" not in refusal.text
    assert "kein Mitglied" in said(pressed)
    assert "München" not in said(pressed)


async def test_a_forged_button_for_an_unknown_twinning_is_refused(world: BotWorld):
    builders.muenchen_and_steinfurt(world.service)
    join(world, ANNA, "09184", "staff")

    replies = await world.harness.press(ANNA, forged(ANNA, f"st:{'0' * 32}"), "x")

    assert "Dieses Twinning gibt es nicht" in said(replies)


# --- /programme --------------------------------------------------------------------------


def _extra_twinnings(world: BotWorld, count: int) -> None:
    """``count`` more twinnings of Bavarian Landkreise A00 and B00, …, none with measures;
    A teaches B."""
    for number in range(count):
        for side, prefix in (("a", "091"), ("b", "092")):
            builders.region(
                world.service,
                f"{prefix}{50 + number}",
                f"lk-{side}{number}",
                f"Landkreis {side.upper()}{number:02d}",
                "Landkreis",
                "Bayern",
            )
        twinning = world.service.handle(
            FormTwinning.parse(
                programme="03KF0003",
                first_region=f"lk-a{number}",
                second_region=f"lk-b{number}",
                starts_on="01.07.2016",
                ends_on="30.06.2017",
                topics=[{"topic": "heat", "teaching_region": f"lk-a{number}"}],
            ),
            actor="system:test",
        ).aggregate_id
        world.service.handle(StartTwinning.parse(twinning_id=twinning), actor="system:test")
    world.settle()


async def test_the_programme_ranks_twinnings_by_the_change_of_the_learning_rate(world: BotWorld):
    muenchen_learns_a_quarter(world)
    _extra_twinnings(world, 2)
    join(world, JOHN, "05566", "staff")

    [overview] = await world.send(JOHN, "/programme")

    lines = overview.text.splitlines()
    assert "RegioTwin (03KF0003)" in lines[0]
    assert "Jul 20, 2016" in lines[0]
    assert lines[3] == (
        "1. Landkreis München (learns from Kreis Steinfurt): +25.0 percentage points "
        "(25.0 % → 50.0 %)"
    )
    assert lines[4].startswith("–. Landkreis B00 (learns from Landkreis A00): –")  # no rate
    assert overview.buttons[0][0] == "1. Kreis Steinfurt – Landkreis München"


async def test_the_programme_is_paged_with_buttons_that_edit_in_place(world: BotWorld):
    muenchen_learns_a_quarter(world)
    _extra_twinnings(world, 11)
    join(world, ANNA, "09184", "staff")

    [first] = await world.send(ANNA, "/programm")
    second = shown(await world.harness.press(ANNA, first, "▶"))
    back = shown(await world.harness.press(ANNA, with_button([second], "◀"), "◀"))

    assert "Seite 1 von 2" in first.text
    assert first.text.count("\n–. ") == 9  # München first, then nine without a rate
    assert second.method == "EditMessageText"
    assert second.message_id == first.message_id
    assert "Seite 2 von 2" in second.text
    assert "Landkreis B10" in second.text
    assert [text for text, _data in second.buttons][-1] == "◀"
    assert back.text == first.text


async def test_a_programme_button_opens_the_twinnings_status(world: BotWorld):
    muenchen_learns_a_quarter(world)
    join(world, ANNA, "09184", "staff")
    [overview] = await world.send(ANNA, "/programme")

    status = shown(
        await world.harness.press(ANNA, overview, "1. Kreis Steinfurt – Landkreis München")
    )

    assert status.method == "SendMessage"
    assert "Umsetzungsquote von Landkreis München" in status.text
