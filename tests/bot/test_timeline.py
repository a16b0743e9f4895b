"""/timeline: what happened to a measure or a twinning, newest first, with who and when."""

from __future__ import annotations

from uuid import UUID

from bot.buttons import TimelinePage
from domain.commands import RecordExchange
from tests import builders
from tests.bot.conftest import BotWorld
from tests.bot.harness import Person
from tests.bot.people import forged, join, said, shown
from tests.projections.scenarios import exchanges_and_advice
from tests.projections.support import at, move, progress

ANNA = Person(id=101, first_name="Anna", language_code="de")
JOHN = Person(id=102, first_name="John", language_code="en")
OFFICE = Person(id=103, first_name="Olga", language_code="de")
STRANGER = Person(id=999, first_name="Eve", language_code="de")


def lkm_07_implemented(world: BotWorld) -> UUID:
    """Anna Huber proposes LKM-07 on 1 June 2016, reports it at 40 % on 1 July and takes it
    to implemented on 1 August (10:00 UTC each: 12:00 in Berlin)."""
    pair = builders.muenchen_and_steinfurt(world.service)
    at(world.clock, 2016, 6, 1, 10)
    measure = builders.measure(world.service, pair.muenchen_staff)
    at(world.clock, 2016, 7, 1, 10)
    progress(world.service, pair.muenchen_staff, measure, 40)
    at(world.clock, 2016, 8, 1, 10)
    move(world.service, pair.muenchen_staff, measure, "implemented")
    world.settle()
    return measure


async def test_a_measures_timeline_tells_who_did_what_and_when(world: BotWorld):
    lkm_07_implemented(world)
    join(world, JOHN, "09184", "staff")

    [reply] = await world.send(JOHN, "/timeline LKM-07")

    lines = reply.text.splitlines()
    assert lines[0] == "<b>Timeline of LKM-07</b> Radschnellweg München–Garching"
    assert lines[2:] == [
        "<i>Aug 1, 2016 12:00 PM</i> · Anna Huber changed LKM-07 to implemented.",
        "<i>Aug 1, 2016 12:00 PM</i> · Anna Huber changed LKM-07 to in progress.",
        "<i>Aug 1, 2016 12:00 PM</i> · Anna Huber changed LKM-07 to planned.",
        "<i>Jul 1, 2016 12:00 PM</i> · Anna Huber reported LKM-07 at 40.0 %.",
        "<i>Jun 1, 2016 12:00 PM</i> · Anna Huber proposed LKM-07 Radschnellweg München–Garching.",
    ]
    assert reply.buttons == []


async def test_in_german_the_timeline_speaks_german(world: BotWorld):
    lkm_07_implemented(world)
    join(world, ANNA, "09184", "staff")

    [reply] = await world.send(ANNA, "/verlauf lkm-07")

    assert "<i>01.08.2016 12:00</i> · Anna Huber hat LKM-07 auf „umgesetzt“ gesetzt." in (
        reply.text
    )
    assert "<i>01.07.2016 12:00</i> · Anna Huber hat für LKM-07 einen Fortschritt von 40,0 %" in (
        reply.text
    )


async def test_the_twinnings_timeline_is_the_default_and_is_paged_in_place(world: BotWorld):
    exchanges_and_advice(world.service, world.clock)
    join(world, ANNA, "09184", "staff")

    [first] = await world.send(ANNA, "/verlauf")
    second = shown(await world.harness.press(ANNA, first, "▶"))
    back = shown(await world.harness.press(ANNA, second, "◀"))

    assert first.text.startswith(
        "<b>Verlauf des Twinnings Kreis Steinfurt – Landkreis München</b>\n"
        "Seite 1 von 2, das Neueste zuerst"
    )
    entries = first.text.split("\n\n", 1)[1].splitlines()
    assert len(entries) == 10
    assert (
        entries[0]
        == "<i>28.06.2016 11:00</i> · Anna Huber hat Folgeaufgabe 2 als erledigt markiert."
    )
    assert "Anna Huber hat Rat in LKM-20 übernommen." in entries[2]
    assert (
        "Jan Brinkmann hat Landkreis München zu Radverkehr beraten: Our experience" in (entries[7])
    )
    assert second.method == "EditMessageText"
    assert second.message_id == first.message_id
    assert "Seite 2 von 2" in second.text
    assert second.text.splitlines()[-1].endswith(
        "RegioTwin hat das Twinning von Kreis Steinfurt und Landkreis München gebildet "
        "(21.06.2016 bis 20.06.2017)."
    )
    assert "hat einen Austausch erfasst (gemeinsame Veranstaltung am 21.06.2016 in Kassel)" in (
        second.text
    )
    assert back.text == first.text


async def test_a_twinning_is_named_by_its_partner_and_the_office_chooses(world: BotWorld):
    exchanges_and_advice(world.service, world.clock)
    join(world, JOHN, "05566", "staff")
    join(world, OFFICE, None, "coordinator")

    [by_partner] = await world.send(JOHN, "/timeline 09184")
    [office] = await world.send(OFFICE, "/verlauf")

    assert "Timeline of the twinning Kreis Steinfurt – Landkreis München" in by_partner.text
    assert "Anna Huber marked follow-up 2 as done." in by_partner.text
    assert "Verlauf des Twinnings Kreis Steinfurt – Landkreis München" in office.text


async def test_texts_in_the_timeline_are_escaped(world: BotWorld):
    pair = builders.muenchen_and_steinfurt(world.service)
    builders.act(
        world.service,
        pair.muenchen_staff,
        RecordExchange,
        twinning_id=pair.twinning_id,
        kind="call",
        held_on="14.09.2016",
        place="<b>Telefon</b>",
        summary="Radwege <script>alert(1)</script>",
    )
    world.settle()
    join(world, ANNA, "09184", "staff")

    [reply] = await world.send(ANNA, "/verlauf")

    assert "&lt;b&gt;Telefon&lt;/b&gt;" in reply.text
    assert "Radwege &lt;script&gt;alert(1)&lt;/script&gt;" in reply.text
    assert "<script>" not in reply.text


async def test_unknown_codes_regions_and_subjects_are_answered(world: BotWorld):
    lkm_07_implemented(world)
    join(world, ANNA, "09184", "staff")

    [code] = await world.send(ANNA, "/verlauf LKM-99")
    [region] = await world.send(ANNA, "/verlauf 09999")
    forged_twinning = await world.harness.press(
        ANNA, forged(ANNA, TimelinePage(kind="t", subject=UUID(int=3)).pack()), "x"
    )
    forged_kind = await world.harness.press(
        ANNA, forged(ANNA, TimelinePage(kind="x", subject=UUID(int=3)).pack()), "x"
    )
    [stranger] = await world.send(STRANGER, "/verlauf LKM-07")

    assert code.text == "Es gibt keine Maßnahme LKM-99."
    assert "Es gibt keine Region 09999" in region.text
    assert "Dieses Twinning gibt es nicht" in said(forged_twinning)
    assert "gilt nicht mehr" in said(forged_kind)
    assert "kein Mitglied" in stranger.text
    assert "LKM" not in stranger.text
