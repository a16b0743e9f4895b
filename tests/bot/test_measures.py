"""The measure catalogue through the bot: list, search, open, move on, report, propose."""

from __future__ import annotations

from uuid import UUID

import pytest

from bot.buttons import (
    ALL,
    GoalConfirm,
    GoalPick,
    GoalTopic,
    MeasureOpen,
    MeasurePage,
    MeasureProgressAsk,
    MeasureProgressSet,
    MeasureStatusSet,
    NewMeasureConfirm,
    NewMeasureTopic,
    ProgrammePage,
    StatusOpen,
    TimelinePage,
)
from domain.commands import ChangeMeasureStatus
from tests import builders
from tests.bot.conftest import BotWorld
from tests.bot.harness import GROUP, Person
from tests.bot.people import alert, button_update, forged, join, said, shown, with_button
from tests.projections.scenarios import exchanges_and_advice
from tests.projections.support import move

ANNA = Person(id=101, first_name="Anna", language_code="de")
JOHN = Person(id=102, first_name="John", language_code="en")
JAN = Person(id=104, first_name="Jan", language_code="de")
AUDITOR = Person(id=105, first_name="Udo", language_code="de")
OFFICE = Person(id=103, first_name="Olga", language_code="de")
STRANGER = Person(id=999, first_name="Eve", language_code="de")


def catalogue(world: BotWorld) -> dict[str, UUID]:
    """München's LKM-07 (proposed) and LKM-08 (in progress), Steinfurt's STF-03 (proposed);
    all three about cycling."""
    pair = builders.muenchen_and_steinfurt(world.service)
    ids = {
        "LKM-07": builders.measure(world.service, pair.muenchen_staff),
        "LKM-08": builders.measure(world.service, pair.muenchen_staff, code="LKM-08"),
        "STF-03": builders.measure(world.service, pair.steinfurt_staff, "05566", "STF-03"),
    }
    move(world.service, pair.muenchen_staff, ids["LKM-08"], "in_progress")
    world.settle()
    return ids


def status_of(world: BotWorld, measure_id: UUID) -> str:
    return str(builders.get(world.service, measure_id).status)


# --- /measures ---------------------------------------------------------------------------


async def test_the_catalogue_shows_the_own_region_with_a_button_per_measure(world: BotWorld):
    catalogue(world)
    join(world, ANNA, "09184", "staff")

    [reply] = await world.send(ANNA, "/measures")

    assert "Maßnahmen von Landkreis München" in reply.text
    assert "2 gefunden · Seite 1 von 1" in reply.text
    assert "<b>LKM-07</b> Radschnellweg München–Garching – vorgeschlagen, 0,0 %" in reply.text
    assert "<b>LKM-08</b>" in reply.text
    assert "in Umsetzung" in reply.text
    assert "STF-03" not in reply.text
    assert [text for text, _data in reply.buttons] == [
        "LKM-07 · Radschnellweg München–Garching",
        "LKM-08 · Radschnellweg München–Garching",
    ]


@pytest.mark.parametrize(
    ("filters", "shown_codes"),
    [
        ("all", {"LKM-07", "LKM-08", "STF-03"}),
        ("alle Radverkehr", {"LKM-07", "LKM-08", "STF-03"}),
        ("05566", {"STF-03"}),
        ("kreis-steinfurt", {"STF-03"}),
        ("in Umsetzung", {"LKM-08"}),
        ("in_progress", {"LKM-08"}),
        ("09184 vorgeschlagen", {"LKM-07"}),
        ("all e-mobility", set()),
        ("radschnell", {"LKM-07", "LKM-08"}),
        ("Garching geplant", set()),
    ],
)
async def test_measures_are_filtered_by_region_topic_status_and_words(
    world: BotWorld, filters: str, shown_codes: set[str]
):
    catalogue(world)
    join(world, ANNA, "09184", "staff")

    [reply] = await world.send(ANNA, f"/massnahmen {filters}")

    listed = {text.split(" · ")[0] for text, _data in reply.buttons}
    assert listed == shown_codes
    if not shown_codes:
        assert "Keine Maßnahme passt." in reply.text


async def test_in_english_the_list_names_each_measures_region(world: BotWorld):
    catalogue(world)
    join(world, JOHN, "05566", "staff")

    [reply] = await world.send(JOHN, "/measures all cycling")

    assert "Measures of all regions</b> · cycling" in reply.text
    assert "<b>STF-03</b> Radschnellweg München–Garching (Kreis Steinfurt) – proposed" in reply.text
    assert "(Landkreis München) – in progress, 0.0 %" in reply.text


def twelve_measures(world: BotWorld) -> None:
    pair = builders.muenchen_and_steinfurt(world.service)
    for number in range(1, 13):
        builders.measure(world.service, pair.muenchen_staff, code=f"LKM-{number:02d}")
    world.settle()


async def test_a_long_list_is_paged_with_buttons_that_edit_the_message(world: BotWorld):
    twelve_measures(world)
    join(world, ANNA, "09184", "staff")

    [first] = await world.send(ANNA, "/measures")
    second = shown(await world.harness.press(ANNA, first, "▶"))
    back = shown(await world.harness.press(ANNA, second, "◀"))

    assert "12 gefunden · Seite 1 von 2" in first.text
    assert "LKM-10" in first.text
    assert "LKM-11" not in first.text
    assert second.method == "EditMessageText"
    assert second.message_id == first.message_id
    assert "Seite 2 von 2" in second.text
    assert [text.split(" · ")[0] for text, _data in second.buttons] == ["LKM-11", "LKM-12", "◀"]
    assert back.text == first.text


async def test_search_words_too_long_for_a_button_are_kept_for_the_next_pages(world: BotWorld):
    twelve_measures(world)
    join(world, ANNA, "09184", "staff")

    [first] = await world.send(ANNA, "/measures Radschnellweg München Garching")
    second = shown(await world.harness.press(ANNA, first, "▶"))

    assert "«Radschnellweg München Garching»" in first.text
    assert "Seite 2 von 2" in second.text
    assert "«Radschnellweg München Garching»" in second.text
    assert dict(first.buttons)["▶"].split(":")[4].startswith("#")


async def test_a_measure_button_opens_the_measure_below_the_list(world: BotWorld):
    catalogue(world)
    join(world, ANNA, "09184", "staff")
    [listing] = await world.send(ANNA, "/measures")

    opened = shown(
        await world.harness.press(ANNA, listing, "LKM-07 · Radschnellweg München–Garching")
    )

    assert opened.method == "SendMessage"
    assert opened.text.startswith("<b>LKM-07</b> Radschnellweg München–Garching")


# --- /measure ------------------------------------------------------------------------------


async def test_a_measure_is_shown_in_full_with_the_next_steps_as_buttons(world: BotWorld):
    catalogue(world)
    join(world, ANNA, "09184", "staff")

    [reply] = await world.send(ANNA, "/massnahme lkm-07")

    assert reply.text.splitlines()[:7] == [
        "<b>LKM-07</b> Radschnellweg München–Garching",
        "Landkreis München · Radverkehr",
        "",
        "Status: vorgeschlagen · Fortschritt 0,0 %",
        "Fällig: 31.12.2017",
        "Verantwortlich: Fachbereich Mobilität",
        "Erwartete Einsparung: 120,5 t CO₂ pro Jahr",
    ]
    assert "Illustrative measure for tests." in reply.text
    assert [text for text, _data in reply.buttons] == [
        "→ geplant",
        "→ eingestellt",
        "Fortschritt melden",
        "Verlauf",
    ]


async def test_in_english_dates_and_numbers_are_english(world: BotWorld):
    catalogue(world)
    join(world, JOHN, "09184", "staff")

    [reply] = await world.send(JOHN, "/measure LKM-08")

    assert "Status: in progress · progress 0.0 %" in reply.text
    assert "Due: Dec 31, 2017" in reply.text
    assert "Expected saving: 120.5 t CO₂ per year" in reply.text
    assert [text for text, _data in reply.buttons][:2] == ["→ implemented", "→ discontinued"]


async def test_a_measure_shows_the_advice_it_came_from(world: BotWorld):
    exchanges_and_advice(world.service, world.clock)
    join(world, ANNA, "09184", "staff")

    [reply] = await world.send(ANNA, "/measure LKM-20")

    assert "Aus dem Rat von Kreis Steinfurt (25.06.2016): «Our experience with e_mobility.»" in (
        reply.text
    )


async def test_a_code_is_looked_up_in_the_own_region_first_then_the_partners(world: BotWorld):
    pair = builders.muenchen_and_steinfurt(world.service)
    builders.measure(world.service, pair.muenchen_staff, code="K-01")
    builders.measure(world.service, pair.steinfurt_staff, "05566", "K-01")
    builders.measure(world.service, pair.steinfurt_staff, "05566", "STF-03")
    world.settle()
    join(world, ANNA, "09184", "staff")
    join(world, JAN, "05566", "staff")

    [annas] = await world.send(ANNA, "/measure K-01")
    [jans] = await world.send(JAN, "/measure K-01")
    [partners] = await world.send(ANNA, "/measure STF-03")

    assert "Landkreis München · Radverkehr" in annas.text
    assert "Kreis Steinfurt · Radverkehr" in jans.text
    assert "Kreis Steinfurt · Radverkehr" in partners.text
    assert [text for text, _data in partners.buttons] == ["Verlauf"]  # not hers to move


async def test_the_office_chooses_when_several_regions_have_the_code(world: BotWorld):
    pair = builders.muenchen_and_steinfurt(world.service)
    builders.measure(world.service, pair.muenchen_staff, code="K-01")
    builders.measure(world.service, pair.steinfurt_staff, "05566", "K-01")
    world.settle()
    join(world, OFFICE, None, "coordinator")

    [choice] = await world.send(OFFICE, "/measure K-01")
    opened = shown(await world.harness.press(OFFICE, choice, choice.buttons[1][0]))

    assert "Mehrere Regionen haben eine Maßnahme K-01" in choice.text
    assert "Landkreis München" in opened.text or "Kreis Steinfurt" in opened.text
    assert "→ geplant" in dict(opened.buttons)  # the office records for every region


async def test_an_unknown_code_is_named_in_the_answer(world: BotWorld):
    catalogue(world)
    join(world, ANNA, "09184", "staff")

    [reply] = await world.send(ANNA, "/measure LKM-99")
    [usage] = await world.send(ANNA, "/measure")

    assert reply.text == "Es gibt keine Maßnahme LKM-99."
    assert "/measure CODE" in usage.text


# --- buttons that act ------------------------------------------------------------------------


async def test_a_status_button_moves_the_measure_and_shows_who_did_it(world: BotWorld):
    ids = catalogue(world)
    join(world, ANNA, "09184", "staff")
    [card] = await world.send(ANNA, "/measure LKM-07")

    replies = await world.harness.press(ANNA, card, "→ geplant")

    edited = shown(replies)
    assert edited.method == "EditMessageText"
    assert edited.message_id == card.message_id
    assert edited.text.startswith("✅ Anna hat den Status auf „geplant“ gesetzt.")
    assert "Status: geplant" in edited.text
    assert [text for text, _data in edited.buttons][:2] == ["→ in Umsetzung", "→ eingestellt"]
    assert status_of(world, ids["LKM-07"]) == "planned"


async def test_progress_is_reported_with_buttons(world: BotWorld):
    ids = catalogue(world)
    join(world, JOHN, "09184", "staff")
    [card] = await world.send(JOHN, "/measure LKM-08")

    choices = shown(await world.harness.press(JOHN, card, "Report progress"))
    done = shown(await world.harness.press(JOHN, choices, "60 %"))

    assert "how far is it?" in choices.text
    assert "◀ Back" in dict(choices.buttons)
    assert done.text.startswith("✅ John reported progress of 60.0 %.")
    assert "progress 60.0 %" in done.text
    assert builders.get(world.service, ids["LKM-08"]).progress == 60


async def test_a_stale_button_shows_the_current_state_and_records_nothing(world: BotWorld):
    ids = catalogue(world)
    join(world, ANNA, "09184", "staff")
    [card] = await world.send(ANNA, "/measure LKM-07")
    move(world.service, builders.member(world.service, "09184", "staff"), ids["LKM-07"], "planned")
    world.settle()
    before = builders.recorded(world.service)

    replies = await world.harness.press(ANNA, card, "→ eingestellt")

    assert "inzwischen geändert" in alert(replies)
    edited = shown(replies)
    assert "Es wurde nichts erfasst" in edited.text
    assert "Status: geplant" in edited.text
    assert "→ in Umsetzung" in dict(edited.buttons)
    assert builders.recorded(world.service) == before
    assert status_of(world, ids["LKM-07"]) == "planned"


async def test_a_change_racing_the_button_is_caught_and_nothing_recorded(
    world: BotWorld, monkeypatch: pytest.MonkeyPatch
):
    ids = catalogue(world)
    other = builders.member(world.service, "09184", "staff")
    join(world, ANNA, "09184", "staff")
    [card] = await world.send(ANNA, "/measure LKM-07")
    builders.meanwhile(
        monkeypatch,
        world.service,
        lambda: world.service.handle(
            ChangeMeasureStatus.parse(measure_id=ids["LKM-07"], status="discontinued"),
            actor=other,
        ),
    )

    replies = await world.harness.press(ANNA, card, "→ geplant")

    assert "inzwischen geändert" in alert(replies)
    assert "Status: eingestellt" in shown(replies).text
    assert status_of(world, ids["LKM-07"]) == "discontinued"


async def test_forged_button_data_cannot_move_another_regions_measure(world: BotWorld):
    ids = catalogue(world)
    join(world, ANNA, "09184", "staff")
    before = builders.recorded(world.service)
    data = MeasureStatusSet(measure=ids["STF-03"], status="planned", version=1).pack()

    replies = await world.harness.press(ANNA, forged(ANNA, data), "x")

    assert "nur für Ihre eigene Region" in said(replies)
    assert builders.recorded(world.service) == before
    assert status_of(world, ids["STF-03"]) == "proposed"


async def test_an_auditor_reads_but_gets_no_buttons_and_cannot_record(world: BotWorld):
    ids = catalogue(world)
    join(world, AUDITOR, "09184", "auditor")
    before = builders.recorded(world.service)

    [card] = await world.send(AUDITOR, "/measure LKM-07")
    [by_command] = await world.send(AUDITOR, "/setstatus LKM-07 geplant")
    by_button = await world.harness.press(
        AUDITOR,
        forged(
            AUDITOR, MeasureStatusSet(measure=ids["LKM-07"], status="planned", version=1).pack()
        ),
        "x",
    )
    asked = await world.harness.press(
        AUDITOR,
        forged(AUDITOR, MeasureProgressAsk(measure=ids["LKM-07"], version=1).pack()),
        "x",
    )

    assert [text for text, _data in card.buttons] == ["Verlauf"]
    assert "kann lesen, aber nichts erfassen" in by_command.text
    assert "kann lesen, aber nichts erfassen" in said(by_button)
    assert "kann lesen, aber nichts erfassen" in said(asked)
    assert builders.recorded(world.service) == before


async def test_a_forged_button_for_an_unknown_measure_says_so(world: BotWorld):
    catalogue(world)
    join(world, ANNA, "09184", "staff")

    replies = await world.harness.press(
        ANNA, forged(ANNA, MeasureOpen(measure=UUID(int=7)).pack()), "x"
    )
    garbage = await world.harness.press(ANNA, forged(ANNA, "mc:not-a-uuid:planned:1"), "x")

    assert "Diese Maßnahme gibt es nicht" in said(replies)
    assert "gilt nicht mehr" in said(garbage)


# --- /setstatus and /progress ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("words", "status"),
    [
        ("geplant", "planned"),
        ("planned", "planned"),
        ("eingestellt", "discontinued"),
        ("Discontinued", "discontinued"),
    ],
)
async def test_setstatus_takes_english_and_german_words(world: BotWorld, words: str, status: str):
    ids = catalogue(world)
    join(world, ANNA, "09184", "staff")

    [reply] = await world.send(ANNA, f"/setstatus LKM-07 {words}")

    assert reply.text.startswith("LKM-07 ist jetzt „")
    assert "(vorher „vorgeschlagen“)" in reply.text
    assert status_of(world, ids["LKM-07"]) == status


async def test_setstatus_takes_a_two_word_status_and_a_note(world: BotWorld):
    ids = catalogue(world)
    join(world, JOHN, "09184", "staff")
    move(world.service, builders.member(world.service, "09184", "staff"), ids["LKM-07"], "planned")
    world.settle()

    [reply] = await world.send(JOHN, "/setzestatus LKM-07 in Umsetzung Baustart im Mai")

    assert reply.text == "LKM-07 is now in progress (was planned)."
    changes = [e for e in builders.events(world.service) if type(e).__name__ == "StatusChanged"]
    assert changes[-1].note == "Baustart im Mai"
    assert status_of(world, ids["LKM-07"]) == "in_progress"


@pytest.mark.parametrize(
    ("command", "answer"),
    [
        ("/setstatus LKM-07 fertig", "„fertig“ ist kein Status"),
        ("/setstatus LKM-07", "Aufruf: /setstatus CODE STATUS [NOTE]"),
        (
            "/setstatus LKM-07 umgesetzt",
            "LKM-07 kann nicht von „vorgeschlagen“ zu „umgesetzt“ wechseln; "
            "von „vorgeschlagen“ geht es nach: geplant, eingestellt.",
        ),
        ("/setstatus LKM-07 vorgeschlagen", "LKM-07 ist schon „vorgeschlagen“."),
        ("/setstatus LKM-99 geplant", "Es gibt keine Maßnahme LKM-99."),
        ("/progress LKM-07 150", "ganze Zahl von 0 bis 100"),
        ("/progress LKM-07 viel", "ganze Zahl von 0 bis 100"),
        ("/progress LKM-99 10", "Es gibt keine Maßnahme LKM-99."),
        ("/setstatus STF-03 geplant", "nur für Ihre eigene Region"),
    ],
)
async def test_bad_input_gets_a_clear_answer_and_records_nothing(
    world: BotWorld, command: str, answer: str
):
    catalogue(world)
    join(world, ANNA, "09184", "staff")
    before = builders.recorded(world.service)

    [reply] = await world.send(ANNA, command)

    assert answer in reply.text
    assert builders.recorded(world.service) == before


async def test_progress_is_reported_with_a_note(world: BotWorld):
    ids = catalogue(world)
    join(world, ANNA, "09184", "staff")

    [reply] = await world.send(ANNA, "/fortschritt LKM-08 40% Planung läuft")

    assert reply.text == "LKM-08: Fortschritt von 40,0 % erfasst."
    assert builders.get(world.service, ids["LKM-08"]).progress == 40
    [event] = [e for e in builders.events(world.service) if type(e).__name__ == "ProgressReported"]
    assert event.note == "Planung läuft"


async def test_a_redelivered_command_is_answered_and_recorded_once(world: BotWorld):
    catalogue(world)
    join(world, ANNA, "09184", "staff")
    update = world.harness.message_update(ANNA, "/setstatus LKM-07 geplant")
    before = builders.recorded(world.service)

    first = await world.harness.feed(update)
    again = await world.harness.feed(update)

    assert len(first) == 1
    assert again == []
    assert builders.recorded(world.service) == before + 2  # StatusChanged and the receipt


# --- /newmeasure ------------------------------------------------------------------------------


async def propose(world: BotWorld, person: Person, answers: list[str], topic: str) -> list:
    """Walk the dialog: code, title, topic (button), then the typed answers after it."""
    said_so = [*await world.send(person, "/newmeasure")]
    for answer in answers[:2]:
        said_so += await world.send(person, answer)
    said_so += await world.harness.press(person, with_button(said_so, topic), topic)
    for answer in answers[2:]:
        said_so += await world.send(person, answer)
    return said_so


async def test_a_new_measure_is_proposed_step_by_step(world: BotWorld):
    catalogue(world)
    join(world, ANNA, "09184", "staff")

    steps = await propose(
        world,
        ANNA,
        [
            "LKM-09",
            "Bürgersolaranlage <Schulzentrum>",
            "Energieagentur",
            "25.11.2026",
            "120,5",
            "-",
        ],
        "erneuerbare Energien",
    )
    confirm = steps[-1]
    done = shown(await world.harness.press(ANNA, confirm, "Erfassen"))

    assert "Eine neue Maßnahme von Landkreis München" in steps[0].text
    assert "Diese Maßnahme vorschlagen?" in confirm.text
    assert "<b>LKM-09</b> Bürgersolaranlage &lt;Schulzentrum&gt;" in confirm.text
    assert "Fällig: 25.11.2026" in confirm.text
    assert "Erwartete Einsparung: 120,5 t CO₂ pro Jahr" in confirm.text
    assert done.text == (
        "✅ Anna hat die Maßnahme LKM-09 Bürgersolaranlage &lt;Schulzentrum&gt; vorgeschlagen."
    )
    world.settle()
    [card] = await world.send(ANNA, "/measure LKM-09")
    assert "Landkreis München · erneuerbare Energien" in card.text
    assert "Verantwortlich: Energieagentur" in card.text
    opened = shown(await world.harness.press(ANNA, done, "LKM-09 öffnen"))
    assert opened.text == card.text


async def test_in_english_a_new_measure_takes_iso_dates_and_dashes(world: BotWorld):
    catalogue(world)
    join(world, JOHN, "09184", "staff")

    steps = await propose(
        world,
        JOHN,
        ["lkm-10", "Heat plan", "Climate office", "2026-11-25", "-", "-"],
        "heat planning",
    )
    done = shown(await world.harness.press(JOHN, steps[-1], "Record"))

    assert "Due: Nov 25, 2026" in steps[-1].text
    assert "Expected saving: –" in steps[-1].text
    assert done.text.startswith("✅ John proposed the measure LKM-10 Heat plan.")
    measure = builders.get(world.service, UUID(dict(done.buttons)["Open LKM-10"].split(":")[1]))
    assert (measure.code, measure.due_on.isoformat(), measure.expected_co2_t_per_year) == (
        "LKM-10",
        "2026-11-25",
        None,
    )


async def test_the_dialog_asks_again_after_bad_answers(world: BotWorld):
    catalogue(world)
    join(world, ANNA, "09184", "staff")
    await world.send(ANNA, "/neuemassnahme")

    [bad_code] = await world.send(ANNA, "Radweg")
    [taken] = await world.send(ANNA, "LKM-07")
    await world.send(ANNA, "LKM-11")
    [title] = await world.send(ANNA, "x" * 201)
    [topic] = await world.send(ANNA, "Photovoltaik")
    [asked] = await world.send(ANNA, "Gebäude")
    choose = await world.harness.press(
        ANNA, with_button([topic, asked], "Radverkehr"), "Radverkehr"
    )
    await world.send(ANNA, "Fachbereich Mobilität")
    [bad_date] = await world.send(ANNA, "31.02.2026")
    await world.send(ANNA, "-")
    [bad_co2] = await world.send(ANNA, "-5")

    assert "z. B. LKM-08" in bad_code.text
    assert "Ihre Region hat schon eine Maßnahme LKM-07" in taken.text
    assert "höchstens 200 Zeichen" in title.text
    assert "Das Handlungsfeld?" in topic.text
    assert "mit einer Schaltfläche" in asked.text
    assert "Handlungsfeld: Radverkehr" in said(choose)
    assert "Kein Datum" in bad_date.text
    assert "Tonnen pro Jahr als Zahl ab 0" in bad_co2.text


async def test_cancel_stops_the_dialog_and_nothing_is_recorded(world: BotWorld):
    catalogue(world)
    join(world, ANNA, "09184", "staff")
    before = builders.recorded(world.service)
    await world.send(ANNA, "/newmeasure")
    await world.send(ANNA, "LKM-12")

    [cancelled] = await world.send(ANNA, "/abbrechen")
    [after] = await world.send(ANNA, "Ein Titel")

    assert "Abgebrochen" in cancelled.text
    assert "Ich verstehe Befehle" in after.text
    assert builders.recorded(world.service) == before


async def test_the_confirm_button_cancels_too(world: BotWorld):
    catalogue(world)
    join(world, ANNA, "09184", "staff")
    before = builders.recorded(world.service)
    steps = await propose(world, ANNA, ["LKM-12", "T", "R", "-", "-", "-"], "Radverkehr")

    done = shown(await world.harness.press(ANNA, steps[-1], "Abbrechen"))
    again = await world.harness.press(ANNA, steps[-1], "Erfassen")

    assert "Abgebrochen. Es wurde nichts erfasst." in done.text
    assert "gilt nicht mehr" in said(again)
    assert builders.recorded(world.service) == before


async def test_a_redelivered_confirmation_records_the_measure_once(world: BotWorld):
    catalogue(world)
    join(world, ANNA, "09184", "staff")
    steps = await propose(world, ANNA, ["LKM-12", "T", "R", "-", "-", "-"], "Radverkehr")
    update = button_update(world, ANNA, steps[-1], "Erfassen")
    before = builders.recorded(world.service)

    first = await world.harness.feed(update)
    again = await world.harness.feed(update)

    assert "✅" in said(first)
    assert again == []
    assert builders.recorded(world.service) == before + 2  # Proposed and the receipt


async def test_the_office_names_the_region_first(world: BotWorld):
    catalogue(world)
    join(world, OFFICE, None, "coordinator")

    [asked] = await world.send(OFFICE, "/newmeasure")
    [unknown] = await world.send(OFFICE, "nirgendwo")
    [code] = await world.send(OFFICE, "kreis-steinfurt")

    assert "Für welche Region?" in asked.text
    assert "kenne ich nicht" in unknown.text
    assert "Eine neue Maßnahme von Kreis Steinfurt" in code.text


async def test_read_only_members_and_group_chats_get_no_dialog(world: BotWorld):
    catalogue(world)
    join(world, AUDITOR, "09184", "auditor")
    join(world, ANNA, "09184", "staff")

    [auditor] = await world.send(AUDITOR, "/newmeasure")
    [group] = await world.send(ANNA, "/newmeasure", chat=GROUP)
    [stranger] = await world.send(STRANGER, "/newmeasure")
    after_group = await world.send(ANNA, "LKM-12", chat=GROUP)

    assert auditor.text == "Ihre Rolle (Prüfer:in) kann lesen, aber nichts erfassen."
    assert "privaten Chat" in group.text
    assert "kein Mitglied" in stranger.text
    assert after_group == []  # no dialog started: group chatter is not answered


async def test_strangers_cannot_list_or_open_measures(world: BotWorld):
    ids = catalogue(world)

    [listing] = await world.send(STRANGER, "/measures all")
    pressed = await world.harness.press(
        STRANGER, forged(STRANGER, MeasureOpen(measure=ids["LKM-07"]).pack()), "x"
    )

    assert "kein Mitglied" in listing.text
    assert "kein Mitglied" in said(pressed)
    assert "LKM" not in listing.text + said(pressed)


# --- buttons fit Telegram's limit ---------------------------------------------------------------


def test_every_button_packs_into_64_bytes_at_its_longest():
    longest = UUID(int=2**128 - 1)
    samples = [
        StatusOpen(twinning=longest),
        ProgrammePage(programme=longest, page=999),
        MeasurePage(region=longest, topic="9", status="4", q="ä" * 9, page=999, fresh=True),
        MeasureOpen(measure=longest, edit=True),
        MeasureStatusSet(measure=longest, status="discontinued", version=99_999),
        MeasureProgressAsk(measure=longest, version=99_999),
        MeasureProgressSet(measure=longest, percent=100, version=99_999),
        NewMeasureTopic(topic="municipal_properties"),
        NewMeasureConfirm(record=True),
        GoalPick(goal=longest),
        GoalTopic(topic="municipal_properties"),
        GoalConfirm(record=False),
        TimelinePage(kind="m", subject=longest, page=999, fresh=True),
    ]
    assert {type(sample) for sample in samples} == set(ALL)
    for sample in samples:
        assert len(sample.pack().encode()) <= 64, sample
    prefixes = [factory.__prefix__ for factory in ALL]
    assert len(set(prefixes)) == len(prefixes)
