"""History: every event of a measure, twinning, region or member, readable, newest first."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

from audit.history import (
    DESCRIPTIONS,
    MEASURE,
    MEMBER,
    MISSING,
    REGION,
    TWINNING,
    HistoryEntry,
    Subject,
    describe,
    find_subjects,
    history,
    names_for,
)
from audit.texts import translator
from projections import queries
from tests.audit.conftest import Demo


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


def find(demo: Demo, ref: str, own_region: UUID | None = None) -> list[Subject]:
    async def ask() -> list[Subject]:
        async with queries.connect(demo.read_models.path) as db:
            return await find_subjects(db, ref, own_region)

    return run(ask())


def entries(demo: Demo, subject: Subject, page: int = 1, per_page: int = 50) -> Any:
    async def ask() -> Any:
        async with queries.connect(demo.read_models.path) as db:
            found = await history(db, subject, page, per_page)
            return found, await names_for(db, found.items)

    return run(ask())


def test_a_measure_code_means_the_measure(demo_year: Demo):
    [subject] = find(demo_year, "lkm-03")
    assert subject.kind == MEASURE
    assert subject.id == demo_year.report.measure_ids["LKM-03"]
    assert subject.label.startswith("LKM-03 ")
    assert find(demo_year, "09184/LKM-03") == [subject]
    assert find(demo_year, "05566/LKM-03") == []


def test_a_partner_means_the_twinning_with_it_and_otherwise_the_region(demo_year: Demo):
    muenchen = demo_year.report.region_ids["lk-muenchen"]
    [twinning] = find(demo_year, "05566", own_region=muenchen)
    assert (twinning.kind, twinning.id) == (TWINNING, demo_year.report.main_twinning_id)
    assert twinning.label == "Kreis Steinfurt – Landkreis München"
    [region] = find(demo_year, "kreis-steinfurt")
    assert (region.kind, region.label) == (REGION, "Kreis Steinfurt")
    assert find(demo_year, "09184+05566") == [twinning]
    assert find(demo_year, demo_year.report.main_twinning_id.hex) == [twinning]


def test_a_member_by_name_or_id(demo_year: Demo):
    anna = demo_year.report.member("lk-muenchen", "coordinator")
    [subject] = find(demo_year, "demo: anna huber (lk münchen)")
    assert (subject.kind, subject.id) == (MEMBER, anna.member_id)
    assert find(demo_year, anna.member_id.hex[:8]) == [subject]
    assert find(demo_year, "nobody at all") == []


def test_a_measures_history_is_newest_first_with_who_and_what(demo_year: Demo):
    [subject] = find(demo_year, "LKM-03")
    found, names = entries(demo_year, subject)
    positions = [entry.position for entry in found.items]
    assert positions == sorted(positions, reverse=True)
    lines = [describe(entry, names) for entry in found.items]
    assert lines[-1] == "Measure LKM-03 proposed: Klimaschutz-Netzwerk für Unternehmen"
    assert "Advice adopted into measure LKM-09" in lines
    assert any(line.startswith("Status changed to implemented – ") for line in lines)
    who = {names.actor(entry.actor, entry.actor_name) for entry in found.items}
    assert "Demo: Lukas Maier (LK München)" in who


def test_the_history_is_paged(demo_year: Demo):
    [region] = find(demo_year, "kreis-steinfurt")
    first, _names = entries(demo_year, region, page=1, per_page=10)
    second, _names = entries(demo_year, region, page=2, per_page=10)
    assert first.total == second.total > 20
    assert first.pages == second.pages
    assert first.items[-1].position > second.items[0].position


def test_a_members_history_is_what_they_did_and_what_was_done_to_them(demo_year: Demo):
    lukas = demo_year.report.member("lk-muenchen", "staff")
    [subject] = find(demo_year, lukas.member_id.hex)
    found, names = entries(demo_year, subject)
    types = {entry.event_type for entry in found.items}
    assert {"Member.Invited", "Member.Joined", "Measure.StatusChanged"} <= types
    assert "CommandReceipt.Handled" not in types
    invited = next(entry for entry in found.items if entry.event_type == "Member.Invited")
    assert describe(invited, names) == "Invited as staff"


def test_every_event_type_of_the_demo_reads_as_a_sentence_in_both_languages(demo_year: Demo):
    app = demo_year.service.app
    types = set()
    for notification in app.recorder.select_notifications(1, 10_000):
        types.add(notification.topic.rpartition(":")[2])
    assert types - {"CommandReceipt.Handled"} <= set(DESCRIPTIONS)

    async def everything() -> tuple[list[HistoryEntry], Any]:
        async with queries.connect(demo_year.read_models.path) as db:
            rows = await (await db.execute("SELECT subject_id FROM timeline_index")).fetchall()
            found: list[HistoryEntry] = []
            for kind in (REGION, TWINNING):
                for (subject_id,) in {tuple(row) for row in rows}:
                    page = await history(db, Subject(kind, UUID(subject_id), "", ()), 1, 50)
                    found += page.items
            return found, await names_for(db, found)

    found, names = run(everything())
    assert found
    german = translator("de")
    for entry in found:
        english = describe(entry, names, translator("en"), "en")
        deutsch = describe(entry, names, german, "de")
        assert MISSING not in english, entry
        assert english != entry.event_type
        if entry.event_type in ("Measure.StatusChanged", "Advice.Acknowledged", "Goal.Set"):
            assert deutsch != english, deutsch


def test_an_office_members_history_reads_without_missing_details(demo_year: Demo):
    petra = demo_year.report.member("office", "auditor")
    [subject] = find(demo_year, petra.member_id.hex)
    assert subject.region_ids == ()
    found, names = entries(demo_year, subject)
    lines = [describe(entry, names, translator("de"), "de") for entry in found.items]
    assert "Eingeladen" in lines
    assert "Beigetreten" in lines
    assert not any(MISSING in line for line in lines)
