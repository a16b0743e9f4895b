"""Audit in the bot: /history, /asof, /export, /verify and /chart, with their rights."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from audit.verify import verify_file
from demo.seed import SeedReport, seed_demo
from tests.bot.conftest import BotWorld
from tests.bot.harness import Person
from tests.bot.people import join

PETRA = Person(id=9_100_000_001, first_name="Petra", language_code="en")  # office auditor
ANNA = Person(id=9_100_000_011, first_name="Anna", language_code="en")  # coordinator München
LUKAS = Person(id=9_100_000_012, first_name="Lukas", language_code="de")  # staff München
JAN = Person(id=9_100_000_021, first_name="Jan", language_code="de")  # coordinator Steinfurt
OFFICE_STAFF = Person(id=555, first_name="Olga", language_code="en")


@pytest.fixture
def demo(world: BotWorld) -> SeedReport:
    report = seed_demo(world.service, world.clock)
    world.settle()
    return report


# --- /history ------------------------------------------------------------------------------


async def test_an_auditor_reads_a_measures_history(world: BotWorld, demo: SeedReport):
    [reply] = await world.send(PETRA, "/history LKM-03")
    assert reply.text.startswith("<b>History of LKM-03 Klimaschutz-Netzwerk")
    assert "9 events" in reply.text
    assert "Demo: Lukas Maier (LK München): Status changed to implemented" in reply.text
    assert "Advice adopted into measure LKM-09" in reply.text


async def test_the_history_is_paged_with_buttons(world: BotWorld, demo: SeedReport):
    [first] = await world.send(PETRA, "/history 05566")
    assert "History of Kreis Steinfurt" in first.text
    assert "page 1 of" in first.text
    assert [text for text, _data in first.buttons] == ["older ▶"]

    [answer, edited] = await world.harness.press(PETRA, first, "older ▶")

    assert answer.method == "AnswerCallbackQuery"
    assert edited.method == "EditMessageText"
    assert "page 2 of" in edited.text
    assert [text for text, _data in edited.buttons] == ["◀ newer", "older ▶"]


async def test_a_coordinator_reads_the_history_of_their_own_regions_items(
    world: BotWorld, demo: SeedReport
):
    [measure] = await world.send(ANNA, "/history LKM-03")
    assert "History of LKM-03" in measure.text
    [twinning] = await world.send(ANNA, "/history 05566")
    assert "History of Kreis Steinfurt – Landkreis München" in twinning.text


async def test_a_coordinator_cannot_read_another_regions_history(world: BotWorld, demo: SeedReport):
    [refusal] = await world.send(ANNA, "/history KST-01")
    assert "own region" in refusal.text
    assert "History" not in refusal.text
    [refusal] = await world.send(ANNA, "/history Demo: Maria Schulte (Kreis Steinfurt)")
    assert "own region" in refusal.text


async def test_staff_cannot_read_histories(world: BotWorld, demo: SeedReport):
    [refusal] = await world.send(LUKAS, "/historie LKM-03")
    assert "Das können nur Prüfer:innen, Koordinator:innen und Admins." in refusal.text


async def test_a_history_in_german(world: BotWorld, demo: SeedReport):
    [reply] = await world.send(JAN, "/historie KST-01")
    assert "<b>Historie von KST-01" in reply.text
    assert "Maßnahme KST-01 vorgeschlagen" in reply.text


# --- /asof ---------------------------------------------------------------------------------


async def test_an_auditor_sees_the_programme_as_of_a_past_day(world: BotWorld, demo: SeedReport):
    [reply] = await world.send(PETRA, "/asof 31.12.2016")
    assert "As of the end of Dec 31, 2016" in reply.text
    assert "<b>RegioTwin (03KF0003) as of Dec 31, 2016</b>" in reply.text
    assert "1. Kreis Steinfurt – Landkreis München (running): Landkreis München: – → 22.2 %" in (
        reply.text
    )


async def test_asof_shows_measures_and_twinnings_as_they_were(world: BotWorld, demo: SeedReport):
    [measures] = await world.send(PETRA, "/asof 2016-12-31 measures 09184")
    assert "LKM-03 Klimaschutz-Netzwerk für Unternehmen: in progress, 0 %" in measures.text
    [now] = await world.send(PETRA, "/asof 2017-06-08 measures 09184")
    assert "LKM-03 Klimaschutz-Netzwerk für Unternehmen: implemented" in now.text
    [twinning] = await world.send(ANNA, "/asof 31.12.2016 twinning")
    assert "Kreis Steinfurt – Landkreis München as of Dec 31, 2016" in twinning.text
    assert "Exchanges: 3 held, 0 planned" in twinning.text


async def test_a_coordinator_sees_their_own_region_as_of_a_day(world: BotWorld, demo: SeedReport):
    [own] = await world.send(ANNA, "/asof 31.12.2016")
    assert "Landkreis München as of Dec 31, 2016" in own.text
    assert "Implementation rate: 22.2 % (2 of 9)" in own.text
    [refusal] = await world.send(ANNA, "/asof 31.12.2016 status 05566")
    assert "own region" in refusal.text


async def test_asof_refuses_bad_and_future_dates(world: BotWorld, demo: SeedReport):
    [usage] = await world.send(PETRA, "/asof yesterday")
    assert "Usage: /asof DATE" in usage.text
    [future] = await world.send(PETRA, "/asof 01.01.2030")
    assert "future" in future.text


# --- /export and /verify -------------------------------------------------------------------


async def test_an_auditor_receives_the_export_as_documents(
    world: BotWorld, demo: SeedReport, tmp_path: Path
):
    replies = await world.send(PETRA, "/export")

    assert [reply.method for reply in replies] == ["SendDocument"] * 4
    assert [reply.file_name for reply in replies] == [
        "events.jsonl",
        "tables.xlsx",
        "manifest.json",
        "verify_export.py",
    ]
    assert "The complete log:" in replies[0].text
    uploads = {upload.file_name: upload.content for upload in world.harness.session.uploads}
    log = tmp_path / "events.jsonl"
    log.write_bytes(uploads["events.jsonl"])
    verdict = verify_file(log)
    assert verdict.intact
    assert verdict.head_position == world.service.app.recorder.max_notification_id()
    assert json.loads(uploads["manifest.json"])["head_hash"] == verdict.head
    assert uploads["tables.xlsx"][:2] == b"PK"


async def test_only_auditors_and_admins_receive_the_export(world: BotWorld, demo: SeedReport):
    [refusal] = await world.send(ANNA, "/export")
    assert refusal.method == "SendMessage"
    assert "Only auditors and admins" in refusal.text
    assert not world.harness.session.uploads


async def test_verify_tells_an_intact_log_and_the_first_altered_position(
    world: BotWorld, demo: SeedReport, tmp_path: Path
):
    [intact] = await world.send(PETRA, "/verify")
    assert "The log is intact" in intact.text
    assert "<code>" in intact.text

    with sqlite3.connect(world.service.app.env["SQLITE_DBNAME"]) as db:
        db.execute("UPDATE stored_events SET state = ? WHERE rowid = 50", (b'{"x":1}',))
    [altered] = await world.send(ANNA, "/verify")
    assert "The log was altered: the first broken position is 50" in altered.text


# --- /chart --------------------------------------------------------------------------------


async def test_a_member_gets_the_implementation_rate_as_a_chart(world: BotWorld, demo: SeedReport):
    [photo] = await world.send(LUKAS, "/grafik")
    assert photo.method == "SendPhoto"
    assert photo.file_name == "rate-lk-muenchen.png"
    assert "Umsetzungsquote von Landkreis München" in photo.text
    [upload] = world.harness.session.uploads
    assert upload.content[:8] == b"\x89PNG\r\n\x1a\n"


async def test_a_chart_of_another_region_and_of_none(world: BotWorld, demo: SeedReport):
    [photo] = await world.send(PETRA, "/chart kreis-steinfurt")
    assert photo.file_name == "rate-kreis-steinfurt.png"
    [question] = await world.send(PETRA, "/chart")
    assert "Which region?" in question.text
    [nothing] = await world.send(PETRA, "/chart herten")
    assert "has no measures to chart yet" in nothing.text


async def test_strangers_get_no_chart(world: BotWorld, demo: SeedReport):
    [refusal] = await world.send(Person(id=999, first_name="Eve"), "/chart 09184")
    assert refusal.method == "SendMessage"
    assert not world.harness.session.uploads


async def test_office_staff_cannot_use_the_audit_commands(world: BotWorld, demo: SeedReport):
    join(world, OFFICE_STAFF, None, "staff")
    [refusal] = await world.send(OFFICE_STAFF, "/verify")
    assert "Only auditors, coordinators and admins" in refusal.text
