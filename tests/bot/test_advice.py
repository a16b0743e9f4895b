"""Advice through the bot: /askadvice, /advise and /advice (acknowledge, adopt, decline)."""

from __future__ import annotations

from uuid import UUID

from bot.partners import short_id
from bot.routers.advice import AdviceAct, AdviceMeasure, AdviseStep, AskStep
from domain.commands import AcknowledgeAdvice, ProposeMeasure, RequestAdvice
from tests import builders
from tests.bot.conftest import ADMIN, BotWorld
from tests.bot.harness import GROUP, Person
from tests.bot.people import button_update, forged, join, said, with_button

ANNA = Person(id=301, first_name="Anna Huber", language_code="de")  # München, staff
JAN = Person(id=302, first_name="Jan Brinkmann", language_code="de")  # Steinfurt, staff
JOHN = Person(id=303, first_name="John Miller", language_code="en")  # München, staff
ERNA = Person(id=304, first_name="Erna Prüf", language_code="de")  # München, auditor
MARA = Person(id=305, first_name="Mara Lahn", language_code="de")  # Marburg, staff
STRANGER = Person(id=999, first_name="Eve", language_code="de")

ADVICE_TEXT = "Start with a pilot corridor and count cyclists before and after."


def setting(world: BotWorld) -> builders.Pair:
    pair = builders.muenchen_and_steinfurt(world.service)
    join(world, ANNA, "09184", "staff")
    join(world, JAN, "05566", "staff")
    return pair


def recorded(world: BotWorld) -> int:
    return builders.recorded(world.service)


def given(world: BotWorld, pair: builders.Pair, topic: str = "cycling") -> object:
    advice_id = builders.advice(world.service, pair, topic)
    world.settle()
    return advice_id


def events(world: BotWorld, after: int, name: str) -> list:
    return [e for e in builders.events(world.service, after) if type(e).__name__ == name]


# --- the whole story -----------------------------------------------------------------------


async def test_muenchen_asks_steinfurt_advises_and_muenchen_adopts_it_into_a_new_measure(
    world: BotWorld,
):
    pair = setting(world)
    start = recorded(world)

    # München asks, on a topic Steinfurt teaches.
    [topics] = await world.send(ANNA, "/ratfragen")
    assert "<b>Kreis Steinfurt um Rat fragen</b>" in topics.text
    assert set(dict(topics.buttons)) == {
        "Radverkehr",
        "E-Mobilität",
        "Energievision (Ziele und Strukturen)",
        "Öffentlichkeitsbeteiligung",
    }
    replies = await world.harness.press(ANNA, topics, "Radverkehr")
    replies = await world.harness.press(
        ANNA, with_button(replies, "Keine bestimmte Maßnahme"), "Keine bestimmte Maßnahme"
    )
    assert "Frage" in replies[-1].text
    [asked] = await world.send(ANNA, "Wie zählen Sie den Radverkehr?")
    assert "Ihre Frage zu Radverkehr ist an Kreis Steinfurt gegangen" in asked.text
    [request] = events(world, start, "Requested")

    # Steinfurt answers the question.
    [subjects] = await world.send(JAN, "/raten")
    assert "Offene Fragen von Landkreis München" in subjects.text
    assert "Wie zählen Sie den Radverkehr?" in subjects.text
    assert "Anna Huber" in subjects.text
    replies = await world.harness.press(JAN, subjects, "Frage 1 beantworten")
    assert "<i>Wie zählen Sie den Radverkehr?</i>" in said(replies)
    [sent] = await world.send(JAN, ADVICE_TEXT)
    assert "Ihr Rat zu Radverkehr ist an Landkreis München gegangen." in sent.text
    [advice] = events(world, start, "Given")
    assert advice.request_id == request.originator_id

    # München adopts it into a new measure.
    replies = await world.send(ANNA, "/rat")
    assert "<b>Offener Rat</b>: 1" in replies[0].text
    item = with_button(replies, "Übernehmen")
    assert ADVICE_TEXT in item.text
    assert "Antwort auf die Frage: <i>Wie zählen Sie den Radverkehr?</i>" in item.text
    assert "gegeben von Jan Brinkmann" in item.text
    replies = await world.harness.press(ANNA, item, "Übernehmen")
    choice = with_button(replies, "Neue Maßnahme")
    replies = await world.harness.press(ANNA, choice, "Neue Maßnahme")
    assert "Ihr Code?" in replies[-1].text
    await world.send(ANNA, "lkm-12")
    await world.send(ANNA, "Zählstellen an Radschnellwegen")
    replies = await world.send(ANNA, "Fachbereich Mobilität")

    assert "Übernommen in die neue Maßnahme LKM-12 Zählstellen an Radschnellwegen" in said(replies)
    edited = [r for r in replies if r.method == "EditMessageText"]
    assert "Stand: übernommen in LKM-12 von Anna Huber" in edited[-1].text
    assert edited[-1].buttons == []
    [proposed] = events(world, start, "Proposed")
    assert proposed.code == "LKM-12"
    assert str(proposed.topic) == "cycling"
    assert proposed.region_id == pair.muenchen_id
    [adopted] = events(world, start, "Adopted")
    assert adopted.measure_id == proposed.originator_id
    [nothing_open] = await world.send(ANNA, "/rat")
    assert "keinen offenen Rat" in nothing_open.text


# --- asking ------------------------------------------------------------------------------------


async def test_a_question_can_be_about_one_of_the_regions_measures_in_english(world: BotWorld):
    pair = setting(world)
    join(world, JOHN, "09184", "staff")
    measure_id = builders.measure(world.service, pair.muenchen_staff)
    world.settle()
    start = recorded(world)
    [topics] = await world.send(JOHN, "/askadvice")
    replies = await world.harness.press(JOHN, topics, "cycling")
    assert "measures" in replies[-1].text

    [unknown] = await world.send(JOHN, "LKM-99")
    [question] = await world.send(JOHN, "lkm-07")
    [asked] = await world.send(JOHN, "How did you find the route?")

    assert "There is no such measure." in unknown.text
    assert "question" in question.text
    assert "went to Kreis Steinfurt" in asked.text
    [request] = events(world, start, "Requested")
    assert request.measure_id == measure_id


async def test_the_teaching_side_is_offered_only_mutual_topics_and_cannot_ask_on_taught_ones(
    world: BotWorld,
):
    setting(world)
    before = recorded(world)
    [topics] = await world.send(JAN, "/ratfragen")
    assert set(dict(topics.buttons)) == {"Öffentlichkeitsbeteiligung"}

    data = AskStep(action="topic", value="cycling").pack()
    replies = await world.harness.press(JAN, forged(JAN, data), "x")

    assert "Ihre Region lehrt dieses Handlungsfeld" in said(replies)
    assert recorded(world) == before


async def test_cancel_in_the_middle_of_asking_records_nothing(world: BotWorld):
    setting(world)
    before = recorded(world)
    [topics] = await world.send(ANNA, "/ratfragen")
    await world.harness.press(ANNA, topics, "Radverkehr")
    [cancelled] = await world.send(ANNA, "/abbrechen")
    [after] = await world.send(ANNA, "Wie zählen Sie?")
    assert "nichts erfasst" in cancelled.text
    assert "verstehe Befehle" in after.text
    assert recorded(world) == before


async def test_a_redelivered_question_is_asked_once(world: BotWorld):
    setting(world)
    [topics] = await world.send(ANNA, "/ratfragen")
    replies = await world.harness.press(ANNA, topics, "Radverkehr")
    await world.harness.press(
        ANNA, with_button(replies, "Keine bestimmte Maßnahme"), "Keine bestimmte Maßnahme"
    )
    update = world.harness.message_update(ANNA, "Wie zählen Sie den Radverkehr?")
    before = recorded(world)

    first = await world.harness.feed(update)
    again = await world.harness.feed(update)

    assert "Kreis Steinfurt" in said(first)
    assert again == []
    assert recorded(world) == before + 2  # Requested and the receipt


async def test_strangers_auditors_and_groups_do_not_ask(world: BotWorld):
    setting(world)
    join(world, ERNA, "09184", "auditor")
    [stranger] = await world.send(STRANGER, "/ratfragen")
    [auditor] = await world.send(ERNA, "/ratfragen")
    [group] = await world.send(ANNA, "/ratfragen", chat=GROUP)
    assert "kein Mitglied" in stranger.text
    assert "nichts erfassen" in auditor.text
    assert "privaten Chat" in group.text


async def test_the_programme_office_asks_for_a_region_it_names(world: BotWorld):
    pair = setting(world)
    await world.send(ADMIN, "/start")
    start = recorded(world)
    [sides] = await world.send(ADMIN, "/askadvice")
    replies = await world.harness.press(ADMIN, sides, "Landkreis München")
    replies = await world.harness.press(ADMIN, with_button(replies, "e-mobility"), "e-mobility")
    replies = await world.harness.press(
        ADMIN, with_button(replies, "No particular measure"), "No particular measure"
    )
    [asked] = await world.send(ADMIN, "Which chargers did you choose?")
    assert "went to Kreis Steinfurt" in asked.text
    [request] = events(world, start, "Requested")
    assert request.from_region_id == pair.muenchen_id


# --- advising ----------------------------------------------------------------------------------


async def test_the_teaching_side_advises_on_a_topic_in_english(world: BotWorld):
    setting(world)
    join(world, JOHN, "05566", "staff")
    start = recorded(world)
    [subjects] = await world.send(JOHN, "/advise")
    assert "Open questions" not in subjects.text
    assert "On which topic do you advise?" in subjects.text
    assert set(dict(subjects.buttons)) == {
        "cycling",
        "e-mobility",
        "energy vision (goals and structures)",
        "public participation",
    }
    replies = await world.harness.press(JOHN, subjects, "e-mobility")
    assert "Please write your advice" in replies[-1].text
    [sent] = await world.send(JOHN, "Buy <b>fewer</b> but faster chargers.")
    assert "Your advice on e-mobility went to Landkreis München." in sent.text
    [advice] = events(world, start, "Given")
    assert advice.text == "Buy <b>fewer</b> but faster chargers."
    assert advice.request_id is None


async def test_the_learning_side_cannot_advise_on_a_topic_it_is_taught(world: BotWorld):
    setting(world)
    before = recorded(world)
    [subjects] = await world.send(ANNA, "/raten")
    assert set(dict(subjects.buttons)) == {"Öffentlichkeitsbeteiligung"}

    data = AdviseStep(action="t", value="cycling").pack()
    replies = await world.harness.press(ANNA, forged(ANNA, data), "x")

    assert "Rat zu diesem Handlungsfeld gibt die Region, die es lehrt." in said(replies)
    assert recorded(world) == before


async def test_a_question_asked_of_another_region_cannot_be_answered(world: BotWorld):
    pair = setting(world)
    builders.act(
        world.service,
        pair.muenchen_staff,
        RequestAdvice,
        twinning_id=pair.twinning_id,
        topic="public_participation",
        question="Wie beteiligen Sie Bürger:innen?",
    )
    request = builders.act(
        world.service,
        pair.steinfurt_staff,
        RequestAdvice,
        twinning_id=pair.twinning_id,
        topic="public_participation",
        question="Und wie machen Sie es?",
    )
    world.settle()
    [subjects] = await world.send(ANNA, "/raten")  # München was asked the second question only
    assert "Und wie machen Sie es?" in subjects.text
    assert "Wie beteiligen Sie" not in subjects.text

    await world.send(JAN, "/raten")
    data = AdviseStep(action="q", value=short_id(request.aggregate_id)).pack()
    replies = await world.harness.press(JAN, forged(JAN, data), "x")

    assert "Diese Frage gibt es nicht." in said(replies)


async def test_open_questions_are_paginated(world: BotWorld):
    pair = setting(world)
    for n in range(1, 8):
        builders.act(
            world.service,
            pair.muenchen_staff,
            RequestAdvice,
            twinning_id=pair.twinning_id,
            topic="cycling",
            question=f"Frage Nummer {n}",
        )
    world.settle()
    [subjects] = await world.send(JAN, "/raten")
    assert "Frage Nummer 5" in subjects.text
    assert "Frage Nummer 6" not in subjects.text
    replies = await world.harness.press(JAN, subjects, "›")
    assert "Frage Nummer 7" in replies[-1].text
    assert "Frage 7 beantworten" in dict(replies[-1].buttons)


# --- acting on advice received ----------------------------------------------------------------


async def test_acknowledging_edits_the_advice_in_place_and_says_who(world: BotWorld):
    pair = setting(world)
    advice_id = given(world, pair)
    replies = await world.send(ANNA, "/rat")
    item = with_button(replies, "Zur Kenntnis nehmen")
    assert "Stand: neu" in item.text

    replies = await world.harness.press(ANNA, item, "Zur Kenntnis nehmen")

    [alert] = [r for r in replies if r.method == "AnswerCallbackQuery"]
    assert alert.text == "Zur Kenntnis genommen."
    [edited] = [r for r in replies if r.method == "EditMessageText"]
    assert edited.message_id == item.message_id
    assert "Stand: zur Kenntnis genommen von Anna Huber am 01.06.2016" in edited.text
    assert set(dict(edited.buttons)) == {"Übernehmen", "Ablehnen"}
    assert str(builders.get(world.service, advice_id).status) == "acknowledged"


async def test_adopting_into_an_existing_measure(world: BotWorld):
    pair = setting(world)
    advice_id = given(world, pair)
    measure_id = builders.measure(world.service, pair.muenchen_staff)
    world.settle()
    replies = await world.send(ANNA, "/rat")
    replies = await world.harness.press(ANNA, with_button(replies, "Übernehmen"), "Übernehmen")
    choice = with_button(replies, "LKM-07 – Radschnellweg München–Garching")

    replies = await world.harness.press(ANNA, choice, "LKM-07 – Radschnellweg München–Garching")

    assert "Stand: übernommen in LKM-07 von Anna Huber" in said(replies)
    assert builders.get(world.service, advice_id).adopted_measure_id == measure_id


async def test_the_measures_to_adopt_into_are_paginated_and_back_returns(world: BotWorld):
    pair = setting(world)
    given(world, pair)
    for n in range(1, 9):
        builders.act(
            world.service,
            pair.muenchen_staff,
            ProposeMeasure,
            region="09184",
            code=f"LKM-{n:02d}",
            title=f"Maßnahme {n}",
            topic="cycling",
            responsible="Fachbereich Mobilität",
        )
    world.settle()
    replies = await world.send(ANNA, "/rat")
    replies = await world.harness.press(ANNA, with_button(replies, "Übernehmen"), "Übernehmen")
    first = with_button(replies, "›")
    assert "LKM-06 – Maßnahme 6" in dict(first.buttons)
    assert "LKM-07 – Maßnahme 7" not in dict(first.buttons)

    replies = await world.harness.press(ANNA, first, "›")
    assert "LKM-08 – Maßnahme 8" in dict(replies[-1].buttons)
    replies = await world.harness.press(ANNA, replies[-1], "‹ Zurück")

    assert set(dict(replies[-1].buttons)) == {"Zur Kenntnis nehmen", "Übernehmen", "Ablehnen"}


async def test_a_new_measure_needs_a_free_well_formed_code(world: BotWorld):
    pair = setting(world)
    given(world, pair)
    builders.measure(world.service, pair.muenchen_staff)
    world.settle()
    replies = await world.send(ANNA, "/rat")
    replies = await world.harness.press(ANNA, with_button(replies, "Übernehmen"), "Übernehmen")
    await world.harness.press(ANNA, with_button(replies, "Neue Maßnahme"), "Neue Maßnahme")
    before = recorded(world)

    [malformed] = await world.send(ANNA, "Radweg")
    [taken] = await world.send(ANNA, "LKM-07")
    [cancelled] = await world.send(ANNA, "/abbrechen")

    assert "LKM-12" in malformed.text
    assert "Ihre Region hat schon eine Maßnahme LKM-07." in taken.text
    assert "nichts erfasst" in cancelled.text
    assert recorded(world) == before


async def test_declining_asks_for_the_reason(world: BotWorld):
    pair = setting(world)
    advice_id = given(world, pair)
    replies = await world.send(ANNA, "/rat")
    replies = await world.harness.press(ANNA, with_button(replies, "Ablehnen"), "Ablehnen")
    assert "Warum lehnen Sie diesen Rat ab?" in replies[-1].text

    replies = await world.send(ANNA, "Zu teuer <für uns>")

    assert "Abgelehnt." in said(replies)
    [edited] = [r for r in replies if r.method == "EditMessageText"]
    assert "Stand: abgelehnt von Anna Huber am 01.06.2016: Zu teuer &lt;für uns&gt;" in edited.text
    advice = builders.get(world.service, advice_id)
    assert str(advice.status) == "declined"
    assert advice.decline_reason == "Zu teuer <für uns>"


async def test_a_stale_button_says_so_and_shows_the_current_state(world: BotWorld):
    pair = setting(world)
    advice_id = given(world, pair)
    replies = await world.send(ANNA, "/rat")
    item = with_button(replies, "Zur Kenntnis nehmen")
    builders.act(world.service, pair.muenchen_staff, AcknowledgeAdvice, advice_id=advice_id)
    world.settle()
    before = recorded(world)

    replies = await world.harness.press(ANNA, item, "Ablehnen")

    [alert] = [r for r in replies if r.method == "AnswerCallbackQuery"]
    assert alert.show_alert
    assert "hat sich geändert" in alert.text
    [edited] = [r for r in replies if r.method == "EditMessageText"]
    assert "Stand: zur Kenntnis genommen von Anna Huber" in edited.text
    assert set(dict(edited.buttons)) == {"Übernehmen", "Ablehnen"}
    assert recorded(world) == before


async def test_forged_buttons_for_another_regions_advice_are_refused(world: BotWorld):
    pair = setting(world)
    advice_id = given(world, pair)
    builders.marburg(world.service)
    join(world, MARA, "06534", "staff")
    before = recorded(world)
    data = AdviceAct(action="ack", advice=short_id(advice_id), version=1).pack()

    outsider = await world.harness.press(MARA, forged(MARA, data), "x")
    giver = await world.harness.press(JAN, forged(JAN, data), "x")

    assert "Diesen Rat gibt es nicht." in said(outsider)
    assert "nur für Ihre eigene Region" in said(giver)
    assert recorded(world) == before


async def test_auditors_read_advice_without_buttons_and_strangers_see_nothing(world: BotWorld):
    pair = setting(world)
    given(world, pair)
    join(world, ERNA, "09184", "auditor")
    replies = await world.send(ERNA, "/rat")
    [stranger] = await world.send(STRANGER, "/rat")
    assert ADVICE_TEXT in said(replies)
    assert all(reply.buttons == [] for reply in replies)
    assert "kein Mitglied" in stranger.text


async def test_a_redelivered_acknowledgement_is_recorded_once(world: BotWorld):
    pair = setting(world)
    given(world, pair)
    replies = await world.send(ANNA, "/rat")
    press = button_update(
        world, ANNA, with_button(replies, "Zur Kenntnis nehmen"), "Zur Kenntnis nehmen"
    )
    before = recorded(world)

    first = await world.harness.feed(press)
    again = await world.harness.feed(press)

    assert "Zur Kenntnis genommen." in said(first)
    assert again == []
    assert recorded(world) == before + 2  # Acknowledged and the receipt


async def test_open_advice_is_paginated_in_english(world: BotWorld):
    pair = setting(world)
    join(world, JOHN, "09184", "staff")
    for _ in range(6):
        builders.advice(world.service, pair)
    world.settle()
    replies = await world.send(JOHN, "/advice")
    assert "<b>Open advice</b>: 6 · Page 1 of 2" in replies[0].text
    assert len([r for r in replies if "Adopt" in dict(r.buttons)]) == 5

    more = await world.harness.press(JOHN, with_button(replies, "Next page ›"), "Next page ›")

    assert len([r for r in more if "Adopt" in dict(r.buttons)]) == 1
    assert "Page 2 of 2" in said(more)


async def test_in_a_group_buttons_act_for_the_sender_but_typing_waits_for_a_private_chat(
    world: BotWorld,
):
    pair = setting(world)
    given(world, pair)
    replies = await world.send(ANNA, "/rat", chat=GROUP)
    item = with_button(replies, "Ablehnen")
    before = recorded(world)

    decline = await world.harness.feed(button_update(world, ANNA, item, "Ablehnen", chat=GROUP))
    assert "privaten Chat" in said(decline)
    assert recorded(world) == before

    ack = await world.harness.feed(
        button_update(world, JAN, item, "Zur Kenntnis nehmen", chat=GROUP)
    )
    assert "nur für Ihre eigene Region" in said(ack)  # Jan pressed: it acts for Jan
    ack = await world.harness.feed(
        button_update(world, ANNA, item, "Zur Kenntnis nehmen", chat=GROUP)
    )
    assert "zur Kenntnis genommen von Anna Huber" in said(ack)


def test_the_longest_button_data_fits_telegrams_64_bytes():
    advice_id = short_id(UUID(int=2**128 - 1))
    data = AdviceMeasure(advice=advice_id, version=999_999, code="ÄÖÜÄÖÜÄÖÜÄ-9999").pack()
    assert len(data.encode()) <= 64
