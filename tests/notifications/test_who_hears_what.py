"""Who hears what: each kind of event, its recipients, and the message in both languages.

The partner region's members hear of exchanges, advice requested, given, adopted and
declined, follow-ups agreed for them and the other side's measures implemented; a
region's coordinators hear of changes to their measures made by someone else; the
programme office hears of twinnings started and completed; nobody hears of their own
action, and regions outside the twinning hear nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from bot.i18n import build_i18n
from bot.notification_texts import render
from domain.application import sqlite_env
from domain.commands import (
    AcknowledgeAdvice,
    AdoptAdvice,
    ChangeMeasureStatus,
    CompleteTwinning,
    DeclineAdvice,
    ProposeMeasure,
    ReportProgress,
    RequestAdvice,
    StartTwinning,
)
from domain.service import RegioTwin
from projections.outbox import open_outbox
from projections.outbox_projection import OutboxProjection, apply_log
from tests import builders
from tests.builders import SYSTEM, act
from tests.notifications.support import Outbox, People, people

STEINFURT = {"steinfurt_staff", "steinfurt_coordinator"}
MUENCHEN = {"muenchen_staff", "muenchen_coordinator"}


@dataclass
class Case:
    name: str
    action: Callable[[Any, People, dict[str, Any]], Any]
    expected: dict[str, set[str]]
    """recipient -> templates they receive."""
    setup: Callable[[Any, People, dict[str, Any]], Any] = field(default=lambda s, p, x: None)

    def __str__(self) -> str:
        return self.name


def _advice(s, p, x):
    x["advice"] = builders.advice(s, p.pair)


def _advice_and_measure(s, p, x):
    _advice(s, p, x)
    x["measure"] = builders.measure(s, p.pair.muenchen_staff)


def _measure(s, p, x):
    x["measure"] = builders.measure(s, p.pair.muenchen_staff)


def _measure_in_progress(s, p, x):
    _measure(s, p, x)
    for status in ("planned", "in_progress"):
        act(s, p.pair.muenchen_staff, ChangeMeasureStatus, measure_id=x["measure"], status=status)


def _started(s, p, x):
    act(s, SYSTEM, StartTwinning, twinning_id=p.pair.twinning_id)


def every(names: set[str], template: str) -> dict[str, set[str]]:
    return {name: {template} for name in names}


CASES = [
    Case(
        "Steinfurt advises München",
        lambda s, p, x: builders.advice(s, p.pair),
        every(MUENCHEN, "advice_given"),
    ),
    Case(
        "München asks Steinfurt for advice",
        lambda s, p, x: act(
            s,
            p.pair.muenchen_staff,
            RequestAdvice,
            twinning_id=p.pair.twinning_id,
            topic="cycling",
            question="How do you count cyclists?",
        ),
        every(STEINFURT, "advice_requested"),
    ),
    Case(
        "München adopts advice into a measure",
        lambda s, p, x: act(
            s,
            p.muenchen_coordinator,
            AdoptAdvice,
            advice_id=x["advice"],
            measure_id=x["measure"],
        ),
        every(STEINFURT, "advice_adopted"),
        _advice_and_measure,
    ),
    Case(
        "München adopts advice into a new measure",
        lambda s, p, x: act(
            s,
            p.pair.muenchen_staff,
            AdoptAdvice,
            advice_id=x["advice"],
            new_measure={
                "code": "LKM-77",
                "title": "Zählstellen",
                "topic": "cycling",
                "responsible": "Mobilität",
            },
        ),
        every(STEINFURT, "advice_adopted"),
        _advice,
    ),
    Case(
        "München declines advice",
        lambda s, p, x: act(
            s,
            p.pair.muenchen_staff,
            DeclineAdvice,
            advice_id=x["advice"],
            reason="No <budget> this year.",
        ),
        every(STEINFURT, "advice_declined"),
        _advice,
    ),
    Case(
        "München acknowledges advice: nobody is told",
        lambda s, p, x: act(s, p.pair.muenchen_staff, AcknowledgeAdvice, advice_id=x["advice"]),
        {},
        _advice,
    ),
    Case(
        "München records an exchange",
        lambda s, p, x: builders.exchange(s, p.pair),
        every(STEINFURT, "exchange_recorded"),
    ),
    Case(
        "The programme office records an exchange: both partners hear",
        lambda s, p, x: builders.exchange(s, p.pair, actor=p.office),
        every(STEINFURT | MUENCHEN, "exchange_recorded"),
    ),
    Case(
        "A follow-up agreed for Steinfurt",
        lambda s, p, x: builders.exchange(
            s,
            p.pair,
            follow_ups=[
                {"text": "Send the counts", "owner_region": "05566", "due_on": "01.10.2016"}
            ],
        ),
        {name: {"exchange_recorded", "follow_up_agreed"} for name in STEINFURT},
    ),
    Case(
        "A follow-up agreed for München's coordinator by München's staff",
        lambda s, p, x: builders.exchange(
            s,
            p.pair,
            follow_ups=[
                {
                    "text": "Budget",
                    "owner_member_id": p.muenchen_coordinator,
                    "due_on": "01.10.2016",
                }
            ],
        ),
        {**every(STEINFURT, "exchange_recorded"), "muenchen_coordinator": {"follow_up_agreed"}},
    ),
    Case(
        "A follow-up München keeps for itself: only the partner hears of the exchange",
        lambda s, p, x: builders.exchange(
            s,
            p.pair,
            follow_ups=[{"text": "Budget", "owner_region": "09184", "due_on": "01.10.2016"}],
        ),
        every(STEINFURT, "exchange_recorded"),
    ),
    Case(
        "München's staff plans a measure: München's coordinator hears",
        lambda s, p, x: act(
            s,
            p.pair.muenchen_staff,
            ChangeMeasureStatus,
            measure_id=x["measure"],
            status="planned",
        ),
        {"muenchen_coordinator": {"measure_status_changed"}},
        _measure,
    ),
    Case(
        "München's coordinator plans a measure: nobody is told",
        lambda s, p, x: act(
            s,
            p.muenchen_coordinator,
            ChangeMeasureStatus,
            measure_id=x["measure"],
            status="planned",
        ),
        {},
        _measure,
    ),
    Case(
        "München implements a measure: the partner and München's coordinator hear",
        lambda s, p, x: act(
            s,
            p.pair.muenchen_staff,
            ChangeMeasureStatus,
            measure_id=x["measure"],
            status="implemented",
        ),
        {
            **every(STEINFURT, "measure_implemented"),
            "muenchen_coordinator": {"measure_status_changed"},
        },
        _measure_in_progress,
    ),
    Case(
        "A progress report: nobody is told",
        lambda s, p, x: act(
            s, p.pair.muenchen_staff, ReportProgress, measure_id=x["measure"], percent=40
        ),
        {},
        _measure_in_progress,
    ),
    Case(
        "A twinning starts: the programme office hears",
        lambda s, p, x: act(s, SYSTEM, StartTwinning, twinning_id=p.pair.twinning_id),
        every({"office", "office_staff"}, "twinning_started"),
    ),
    Case(
        "The office's coordinator completes a twinning: the rest of the office hears",
        lambda s, p, x: act(s, p.office, CompleteTwinning, twinning_id=p.pair.twinning_id),
        {"office_staff": {"twinning_completed"}},
        _started,
    ),
    Case(
        "A goal is set: nobody is told",
        lambda s, p, x: builders.goal(s, p.pair.muenchen_staff),
        {},
    ),
    Case(
        "Marburg proposes a measure: nobody is told",
        lambda s, p, x: act(
            s,
            p.marburg_staff,
            ProposeMeasure,
            region="06534",
            code="MR-1",
            title="Radweg",
            topic="cycling",
            responsible="Kreisbauamt",
        ),
        {},
    ),
]

PHRASES = {  # template -> (German, English)
    "advice_given": ("Rat zu Radverkehr gegeben", "gave your region advice on cycling"),
    "advice_requested": ("bittet Ihre Region um Rat", "asks your region for advice"),
    "advice_adopted": ("als Maßnahme", "adopted your advice"),
    "advice_declined": ("abgelehnt", "declined your advice"),
    "exchange_recorded": ("Erfahrungsaustausch erfasst", "recorded an exchange"),
    "follow_up_agreed": ("Folgeaufgabe für Sie", "follow-up for you"),
    "measure_status_changed": ("gesetzt", "moved measure"),
    "measure_implemented": ("als umgesetzt", "implemented"),
    "twinning_started": ("hat das Twinning", "started the twinning"),
    "twinning_completed": ("abgeschlossen", "completed the twinning"),
}
BUTTONS = {  # German, English
    "measure": ("Zur Maßnahme", "To the measure"),
    "twinning": ("Zum Twinning", "To the twinning"),
}
MEASURE_TEMPLATES = {"advice_adopted", "measure_status_changed", "measure_implemented"}


@pytest.mark.parametrize("case", CASES, ids=str)
def test_who_hears_what(outbox: Outbox, case: Case) -> None:
    world = people(outbox.service)
    context: dict[str, Any] = {}
    case.setup(outbox.service, world, context)
    outbox.apply()
    before = outbox.last_id()
    actor_before = builders.recorded(outbox.service)

    case.action(outbox.service, world, context)
    outbox.apply()

    new = outbox.after(before)
    names = {member.hex: name for member, name in world.names.items()}
    received: dict[str, set[str]] = {}
    for row in new:
        received.setdefault(names[row["member_id"]], set()).add(row["template"])
    assert received == case.expected
    actors = {event.actor for event in builders.events(outbox.service, actor_before)}
    assert not {row["member_id"] for row in new} & actors, "an actor heard of their own action"
    for row in new:
        assert row["state"] == "pending"
        assert row["chat_id"] > 0
        says_who_did_what_in_both_languages(row["template"], row["payload"])


def says_who_did_what_in_both_languages(template: str, payload: dict[str, Any]) -> None:
    i18n = build_i18n()
    for index, language in enumerate(("de", "en")):
        rendered = render(i18n, template, payload, language)
        assert PHRASES[template][index] in rendered.text, (language, rendered.text)
        if payload.get("actor"):
            assert payload["actor"] in rendered.text
        assert "<budget>" not in rendered.text  # user text is escaped
        assert rendered.markup is not None
        [[button]] = rendered.markup.inline_keyboard
        kind = "measure" if template in MEASURE_TEMPLATES else "twinning"
        assert button.text == BUTTONS[kind][index]
        assert (button.callback_data or "").startswith("mo:" if kind == "measure" else "st:")


def test_a_message_names_the_actor_and_their_region(outbox: Outbox) -> None:
    world = people(outbox.service)
    outbox.apply()
    before = outbox.last_id()
    builders.advice(outbox.service, world.pair)
    outbox.apply()
    row = outbox.after(before)[0]
    text = render(build_i18n(), row["template"], row["payload"], "de").text
    assert text.startswith("💡 <b>Jan Brinkmann</b> (Kreis Steinfurt) hat Ihrer Region einen Rat")


def test_a_new_outbox_is_silent_about_the_history_before_it(tmp_path, clock) -> None:
    service = RegioTwin.from_env(sqlite_env(str(tmp_path / "events.sqlite")), clock)
    store = open_outbox(sqlite_env(""), tmp_path)
    try:
        world = people(service)
        builders.advice(service, world.pair)
        store.initialise("RegioTwin", builders.recorded(service))  # created now
        projection = OutboxProjection(store)
        apply_log(projection, service.app)
        assert store.notifications() == []

        builders.advice(service, world.pair)
        apply_log(projection, service.app)
        assert {row["template"] for row in store.notifications()} == {"advice_given"}
    finally:
        store.close()
        service.close()
