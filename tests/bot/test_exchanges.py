"""Exchanges through the bot: /exchange (guided), /followups and /done, in German and English."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.partners import short_id
from bot.routers.exchanges import FollowUpDone
from domain.commands import CompleteFollowUp, FormTwinning, StartTwinning
from tests import builders
from tests.bot.conftest import ADMIN, BotWorld
from tests.bot.harness import GROUP, Person
from tests.bot.people import button_update, forged, join, said, with_button

ANNA = Person(id=201, first_name="Anna Huber", language_code="de")  # München, staff
JAN = Person(id=202, first_name="Jan Brinkmann", language_code="en")  # Steinfurt, staff
ERNA = Person(id=203, first_name="Erna Prüf", language_code="de")  # München, auditor
MARA = Person(id=204, first_name="Mara Lahn", language_code="de")  # Marburg, staff
STRANGER = Person(id=999, first_name="Eve", language_code="de")


def setting(world: BotWorld) -> builders.Pair:
    pair = builders.muenchen_and_steinfurt(world.service)
    join(world, ANNA, "09184", "staff")
    join(world, JAN, "05566", "staff")
    return pair


def recorded(world: BotWorld) -> int:
    return builders.recorded(world.service)


async def walk_to_confirmation(world: BotWorld, person: Person = ANNA) -> list:
    """Anna records the site visit of 14.09.2016 with one follow-up for Steinfurt."""
    [kinds] = await world.send(person, "/austausch")
    replies = await world.harness.press(person, kinds, "Besichtigung vor Ort")
    assert "Wann" in replies[-1].text
    assert "Wo" in (await world.send(person, "14.09.2016"))[-1].text
    assert "Wer" in (await world.send(person, "Steinfurt, Kreishaus"))[-1].text
    [topics] = await world.send(person, "Anna Huber, Jan Brinkmann")
    replies = await world.harness.press(person, topics, "☐ Radverkehr")
    toggled = with_button(replies, "☑ Radverkehr")
    replies = await world.harness.press(person, toggled, "Fertig")
    assert "Zusammenfassung" in replies[-1].text
    [follow_ups] = await world.send(person, "Besuch der Zählstellen; <b>Radschnellweg</b> erklärt.")
    assert dict(follow_ups.buttons).keys() == {"Keine Folgeaufgaben"}
    [owners] = await world.send(person, "Radverkehrskonzept schicken")
    replies = await world.harness.press(person, owners, "Kreis Steinfurt")
    assert "Bis wann" in replies[-1].text
    [more] = await world.send(person, "30.09.2016")
    assert "Folgeaufgabe 1" in more.text
    return await world.harness.press(person, more, "Keine weiteren Folgeaufgaben")


async def test_a_member_records_an_exchange_step_by_step(world: BotWorld):
    pair = setting(world)
    before = recorded(world)

    replies = await walk_to_confirmation(world)
    review = with_button(replies, "Erfassen")
    assert "Besichtigung vor Ort" in review.text
    assert "14.09.2016" in review.text
    assert "Steinfurt, Kreishaus" in review.text
    assert "Radverkehr" in review.text
    assert "&lt;b&gt;Radschnellweg&lt;/b&gt;" in review.text  # markup typed by a user stays text
    assert "Radverkehrskonzept schicken – Kreis Steinfurt, fällig 30.09.2016" in review.text
    assert recorded(world) == before  # nothing yet

    done = await world.harness.press(ANNA, review, "Erfassen")

    assert "Erfasst" in said(done)
    [exchange] = [
        e for e in builders.events(world.service, before) if type(e).__name__ == "Recorded"
    ]
    assert exchange.twinning_id == pair.twinning_id
    assert exchange.place == "Steinfurt, Kreishaus"
    assert exchange.participants == ["Anna Huber", "Jan Brinkmann"]
    assert [str(t) for t in exchange.topics] == ["cycling"]
    [agreed] = [
        e for e in builders.events(world.service, before) if type(e).__name__ == "FollowUpAgreed"
    ]
    assert agreed.owner_region_id == pair.steinfurt_id
    assert str(agreed.due_on) == "2016-09-30"


async def test_an_exchange_in_english_without_participants_topics_or_follow_ups(world: BotWorld):
    setting(world)
    [kinds] = await world.send(JAN, "/exchange")
    assert "Landkreis München" in kinds.text
    replies = await world.harness.press(JAN, kinds, "call")
    assert "When" in replies[-1].text
    await world.send(JAN, "2016-07-01")
    await world.send(JAN, "video call")
    [topics] = await world.send(JAN, "-")
    replies = await world.harness.press(JAN, topics, "Done")
    assert "summary" in replies[-1].text
    [follow_ups] = await world.send(JAN, "First call: what München wants to learn.")
    replies = await world.harness.press(JAN, follow_ups, "No follow-ups")
    review = with_button(replies, "Record")
    assert "Participants: –" in review.text
    assert "Follow-ups: none" in review.text

    done = await world.harness.press(JAN, review, "Record")

    assert "Recorded: the call of Jul 1, 2016 with Landkreis München." in said(done)


async def test_a_follow_up_cannot_be_due_before_its_exchange(world: BotWorld):
    setting(world)
    [kinds] = await world.send(ANNA, "/austausch")
    await world.harness.press(ANNA, kinds, "Treffen")
    await world.send(ANNA, "14.09.2016")
    await world.send(ANNA, "Kassel")
    [topics] = await world.send(ANNA, "-")
    await world.harness.press(ANNA, topics, "Fertig")
    await world.send(ANNA, "Auftakt")
    [owners] = await world.send(ANNA, "Protokoll schicken")
    await world.harness.press(ANNA, owners, "Landkreis München")

    [not_a_date] = await world.send(ANNA, "nächste Woche")
    [too_early] = await world.send(ANNA, "01.09.2016")
    [fine] = await world.send(ANNA, "2016-09-14")  # due on the day itself is fine

    assert "kein Datum" in not_a_date.text
    assert "01.09.2016" in too_early.text
    assert "14.09.2016" in too_early.text
    assert "nicht vor ihrem Austausch" in too_early.text
    assert "Folgeaufgabe 1" in fine.text


async def test_cancel_in_the_middle_of_the_dialog_records_nothing(world: BotWorld):
    setting(world)
    before = recorded(world)
    [kinds] = await world.send(ANNA, "/austausch")
    await world.harness.press(ANNA, kinds, "Workshop")
    await world.send(ANNA, "14.09.2016")

    [cancelled] = await world.send(ANNA, "/abbrechen")
    [after] = await world.send(ANNA, "Steinfurt")  # no longer an answer to "where"
    [stale] = await world.harness.press(ANNA, kinds, "Treffen")

    assert "nichts erfasst" in cancelled.text
    assert "verstehe Befehle" in after.text
    assert stale.show_alert
    assert recorded(world) == before


async def test_the_confirmation_can_be_declined(world: BotWorld):
    setting(world)
    before = recorded(world)
    replies = await walk_to_confirmation(world)

    replies = await world.harness.press(ANNA, with_button(replies, "Abbrechen"), "Abbrechen")

    assert "nichts erfasst" in said(replies)
    assert recorded(world) == before


async def test_a_redelivered_confirmation_records_the_exchange_once(world: BotWorld):
    setting(world)
    replies = await walk_to_confirmation(world)
    press = button_update(world, ANNA, with_button(replies, "Erfassen"), "Erfassen")
    before = recorded(world)

    first = await world.harness.feed(press)
    again = await world.harness.feed(press)

    assert "Erfasst" in said(first)
    assert again == []
    # the exchange, its follow-up and the receipt: in one transaction, once
    assert recorded(world) == before + 3


async def test_texts_while_buttons_are_expected_get_a_hint(world: BotWorld):
    setting(world)
    await world.send(ANNA, "/austausch")
    [hint] = await world.send(ANNA, "ein Treffen")
    assert "Schaltflächen" in hint.text


async def test_strangers_auditors_and_groups_cannot_start_the_dialog(world: BotWorld):
    setting(world)
    join(world, ERNA, "09184", "auditor")
    [stranger] = await world.send(STRANGER, "/austausch")
    [auditor] = await world.send(ERNA, "/austausch")
    [group] = await world.send(ANNA, "/austausch", chat=GROUP)
    assert "kein Mitglied" in stranger.text
    assert "nichts erfassen" in auditor.text
    assert "Bitte nutzen Sie /austausch in einem privaten Chat mit mir." in group.text


def marburg_learns_from_steinfurt(world: BotWorld) -> None:
    builders.marburg(world.service)
    twinning = builders.act(
        world.service,
        builders.SYSTEM,
        FormTwinning,
        programme="03KF0003",
        first_region="05566",
        second_region="06534",
        starts_on="01.07.2016",
        ends_on="30.06.2017",
        topics=[{"topic": "cycling", "teaching_region": "05566"}],
    )
    builders.act(world.service, builders.SYSTEM, StartTwinning, twinning_id=twinning.aggregate_id)
    world.settle()


async def test_a_member_of_several_twinnings_chooses_one_first(world: BotWorld):
    setting(world)
    marburg_learns_from_steinfurt(world)
    [choice] = await world.send(JAN, "/exchange")
    assert set(dict(choice.buttons)) == {"Landkreis München", "Landkreis Marburg-Biedenkopf"}

    replies = await world.harness.press(JAN, choice, "Landkreis Marburg-Biedenkopf")

    assert "Twinning: Landkreis Marburg-Biedenkopf" in said(replies)
    assert "What kind" in replies[-1].text


async def test_the_programme_office_records_for_any_twinning(world: BotWorld):
    setting(world)
    marburg_learns_from_steinfurt(world)
    await world.send(ADMIN, "/start")
    [choice] = await world.send(ADMIN, "/exchange")
    replies = await world.harness.press(ADMIN, choice, "Kreis Steinfurt – Landkreis München")
    kinds = with_button(replies, "joint event")
    assert "Kreis Steinfurt – Landkreis München" in kinds.text


async def test_a_region_without_a_running_twinning_has_nothing_to_record(world: BotWorld):
    setting(world)
    builders.marburg(world.service)
    join(world, MARA, "06534", "staff")
    [reply] = await world.send(MARA, "/austausch")
    assert "kein offenes Twinning" in reply.text


# --- follow-ups -----------------------------------------------------------------------------


def two_exchanges(world: BotWorld, pair: builders.Pair) -> tuple:
    """A July visit with a follow-up overdue in August, a September one due later."""
    july = builders.exchange(
        world.service,
        pair,
        held_on="01.07.2016",
        follow_ups=[
            {"text": "Zählstellen-Daten schicken", "owner_region": "05566", "due_on": "15.07.2016"}
        ],
    )
    september = builders.exchange(
        world.service,
        pair,
        held_on="14.09.2016",
        follow_ups=[
            {
                "text": "Radwege-Konzept <entwerfen>",
                "owner_region": "09184",
                "due_on": "30.09.2016",
            },
            {"text": "Rückmeldung geben", "owner_region": "09184", "due_on": "31.10.2016"},
        ],
    )
    world.clock.set(datetime(2016, 8, 1, 9, 0, tzinfo=UTC))
    world.settle()
    return july, september


async def test_followups_lists_the_open_ones_overdue_first_with_codes(world: BotWorld):
    pair = setting(world)
    july, september = two_exchanges(world, pair)

    [listing] = await world.send(ANNA, "/aufgaben")

    text = listing.text
    assert "3, davon 1 überfällig" in text
    july_code = july.aggregate_id.hex[:4]
    september_code = september.aggregate_id.hex[:4]
    assert f"{july_code}-1" in text
    assert (
        text.index("Zählstellen-Daten") < text.index("Radwege-Konzept") < text.index("Rückmeldung")
    )
    assert "überfällig" in text.split("Radwege")[0]
    assert "&lt;entwerfen&gt;" in text
    assert "fällig 15.07.2016" in text
    assert {f"✓ {july_code}-1", f"✓ {september_code}-1", f"✓ {september_code}-2"} <= set(
        dict(listing.buttons)
    )


async def test_the_done_button_marks_a_follow_up_done_and_refreshes_the_list(world: BotWorld):
    pair = setting(world)
    july, _september = two_exchanges(world, pair)
    [listing] = await world.send(ANNA, "/aufgaben")
    code = f"{july.aggregate_id.hex[:4]}-1"

    replies = await world.harness.press(ANNA, listing, f"✓ {code}")

    assert f"Folgeaufgabe {code} ist erledigt" in said(replies)
    refreshed = replies[-1]
    assert "Zählstellen-Daten" not in refreshed.text
    assert "2, davon 0 überfällig" in refreshed.text
    exchange = builders.get(world.service, july.aggregate_id)
    assert exchange.follow_ups[1].done


async def test_done_with_a_code_in_english(world: BotWorld):
    pair = setting(world)
    july, _ = two_exchanges(world, pair)
    code = f"{july.aggregate_id.hex[:4]}-1"

    [reply] = await world.send(JAN, f"/done {code.upper()} sent by mail")
    [again] = await world.send(JAN, f"/done {code}")
    [unknown] = await world.send(JAN, "/done ffff-9")
    [usage] = await world.send(JAN, "/done")

    assert f"Follow-up {code} is done: Zählstellen-Daten schicken" in reply.text
    assert f"Follow-up {code} is already done." in again.text
    assert "There is no follow-up ffff-9." in unknown.text
    assert "/followups" in usage.text
    assert builders.get(world.service, july.aggregate_id).follow_ups[1].done


async def test_a_redelivered_done_records_once(world: BotWorld):
    pair = setting(world)
    july, _ = two_exchanges(world, pair)
    update = world.harness.message_update(ANNA, f"/erledigt {july.aggregate_id.hex[:4]}-1")
    before = recorded(world)

    first = await world.harness.feed(update)
    again = await world.harness.feed(update)

    assert "erledigt" in said(first)
    assert again == []
    assert recorded(world) == before + 2  # FollowUpDone and the receipt


async def test_a_follow_up_done_elsewhere_is_said_so_when_its_button_is_pressed(world: BotWorld):
    pair = setting(world)
    july, _ = two_exchanges(world, pair)
    [listing] = await world.send(ANNA, "/aufgaben")
    builders.act(
        world.service,
        pair.steinfurt_staff,
        CompleteFollowUp,
        exchange_id=july.aggregate_id,
        number=1,
    )
    world.settle()
    before = recorded(world)

    replies = await world.harness.press(ANNA, listing, f"✓ {july.aggregate_id.hex[:4]}-1")

    assert "schon erledigt" in said(replies)
    assert recorded(world) == before


async def test_auditors_see_follow_ups_but_get_no_done_buttons(world: BotWorld):
    pair = setting(world)
    july, _ = two_exchanges(world, pair)
    join(world, ERNA, "09184", "auditor")
    before = recorded(world)
    [listing] = await world.send(ERNA, "/aufgaben")
    [refused] = await world.send(ERNA, f"/erledigt {july.aggregate_id.hex[:4]}-1")
    assert "Zählstellen-Daten" in listing.text
    assert not any(text.startswith("✓") for text, _data in listing.buttons)
    assert "Ihre Rolle (Prüfer:in) kann lesen, aber nichts erfassen." in refused.text
    assert recorded(world) == before


async def test_a_forged_done_button_for_another_twinning_is_refused(world: BotWorld):
    pair = setting(world)
    july, _ = two_exchanges(world, pair)
    builders.marburg(world.service)
    join(world, MARA, "06534", "staff")
    before = recorded(world)
    data = FollowUpDone(exchange=short_id(july.aggregate_id), number=1, page=1).pack()

    replies = await world.harness.press(MARA, forged(MARA, data), "x")
    [listing] = await world.send(MARA, "/aufgaben")

    assert "keine Folgeaufgabe" in said(replies)
    assert recorded(world) == before
    assert "keine offenen Folgeaufgaben" in listing.text


async def test_a_long_list_of_follow_ups_is_paginated(world: BotWorld):
    pair = setting(world)
    builders.exchange(
        world.service,
        pair,
        held_on="14.09.2016",
        follow_ups=[
            {"text": f"Aufgabe {n:02d}", "owner_region": "09184", "due_on": f"{n:02d}.10.2016"}
            for n in range(1, 13)
        ],
    )
    world.settle()
    [first] = await world.send(ANNA, "/aufgaben")
    assert "Seite 1 von 2" in first.text
    assert "Aufgabe 08" in first.text
    assert "Aufgabe 09" not in first.text

    replies = await world.harness.press(ANNA, first, "›")

    assert "Aufgabe 09" in replies[-1].text
    assert "Seite 2 von 2" in replies[-1].text
    assert "‹" in dict(replies[-1].buttons)


async def test_the_office_sees_follow_ups_of_every_twinning_and_strangers_none(world: BotWorld):
    pair = setting(world)
    two_exchanges(world, pair)
    await world.send(ADMIN, "/start")
    [admin] = await world.send(ADMIN, "/followups")
    [stranger] = await world.send(STRANGER, "/aufgaben")
    assert "Zählstellen-Daten" in admin.text
    assert "kein Mitglied" in stranger.text
