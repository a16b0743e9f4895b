"""The functions behind ``run_bot.py history|asof|export|verify|report|checkpoint``."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

import pytest
from rich.console import Console

from audit import cli
from audit.as_of import position_at_end_of
from audit.report import issued_reports
from demo.seed import SeedReport, seed_demo
from domain.clock import ManualClock
from domain.service import RegioTwin
from settings import Settings
from tests.audit.support import standalone


@pytest.fixture
def seeded(settings: Settings, clock: ManualClock) -> SeedReport:
    service = RegioTwin.from_env(settings.event_store_env, clock)
    try:
        return seed_demo(service, clock)
    finally:
        service.close()


def output(console: Console) -> str:
    return console.export_text()


def test_history_prints_every_event_of_a_measure_with_who_and_when(
    settings, console, clock, seeded
):
    cli.history(settings, console, "LKM-03", clock=clock)
    text = output(console)
    assert "History of measure LKM-03" in text
    assert "Measure LKM-03 proposed" in text
    assert "Advice adopted into measure LKM-09" in text
    assert "Demo: Lukas Maier (LK München)" in text
    assert "9 events" in text


def test_history_in_german_and_page_by_page(settings, console, clock, seeded):
    cli.history(
        settings, console, "kreis-steinfurt", page=2, per_page=5, clock=clock, language="de"
    )
    text = output(console)
    assert "page 2 of" in text
    assert any(word in text for word in ("Status geändert", "Rat ", "Fortschritt gemeldet"))


def test_history_of_something_unknown_exits_with_1(settings, console, clock, seeded):
    with pytest.raises(SystemExit) as exit_:
        cli.history(settings, console, "XYZ-99", clock=clock)
    assert exit_.value.code == 1
    assert "Nothing found" in output(console)


def test_asof_shows_the_status_as_it_was(settings, console, clock, seeded):
    cli.asof(settings, console, date(2016, 12, 31), clock=clock)
    cli.asof(settings, console, date(2016, 12, 31), "status", "09184", clock=clock)
    cli.asof(settings, console, date(2016, 12, 31), "measures", "09184", clock=clock)
    cli.asof(settings, console, date(2016, 12, 31), "twinning", "09184+05566", clock=clock)
    text = output(console)
    assert "As of 2016-12-31" in text
    assert "RegioTwin (03KF0003) as of Dec 31, 2016" in text
    assert "Implementation rate: 22.2 % (2 of 9)" in text
    assert "LKM-03 Klimaschutz-Netzwerk für Unternehmen: in progress" in text
    assert "Exchanges: 3 held, 0 planned" in text


def test_asof_refuses_the_future_and_unknown_views(settings, console, clock, seeded):
    with pytest.raises(SystemExit):
        cli.asof(settings, console, date(2030, 1, 1), clock=clock)
    with pytest.raises(SystemExit):
        cli.asof(settings, console, date(2016, 12, 31), "everything", clock=clock)
    assert "lies in the future" in output(console)


def test_export_writes_a_verified_folder(settings, console, clock, seeded, tmp_path):
    folder = cli.export(settings, console, tmp_path / "export", clock=clock)
    text = output(console)
    assert folder == tmp_path / "export"
    assert {path.name for path in folder.iterdir()} >= {
        "events.jsonl",
        "measures.csv",
        "rates.csv",
        "tables.xlsx",
        "manifest.json",
        "verify_export.py",
    }
    assert "OK: " in text
    assert "--expect " in text
    code, verifier_output = standalone(folder / "events.jsonl")
    assert code == 0, verifier_output


def test_export_defaults_to_a_dated_folder(settings, console, clock, seeded, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    folder = cli.export(settings, Console(quiet=True), clock=clock)
    assert folder == Path(f"export-{clock.now().date().isoformat()}")
    assert (tmp_path / folder / "events.jsonl").exists()


def test_verify_the_store_and_a_file_and_exit_1_when_broken(
    settings, console, clock, seeded, tmp_path
):
    verdict = cli.verify(settings, console)
    assert verdict.intact
    folder = cli.export(settings, Console(quiet=True), tmp_path / "export", clock=clock)
    assert cli.verify(settings, console, folder / "events.jsonl", expect=str(verdict.anchor)).intact

    with sqlite3.connect(settings.data_dir / "events.sqlite") as db:
        db.execute("UPDATE stored_events SET state = ? WHERE rowid = 40", (b'{"x":1}',))
    with pytest.raises(SystemExit) as exit_:
        cli.verify(settings, console)
    assert exit_.value.code == 1
    assert "BROKEN: the event store: first broken position 40" in output(console)


def test_checkpoint_records_the_head_once(settings, console, clock, seeded):
    cli.checkpoint(settings, console, clock=clock)
    cli.checkpoint(settings, console, clock=clock)
    text = output(console)
    assert "recorded by system:checkpoint" in text
    assert "Nothing new since the last checkpoint" in text
    assert cli.verify(settings, Console(quiet=True)).checkpoints == 1


def test_report_writes_the_page_records_it_and_checks_a_copy(
    settings, console, clock, seeded, tmp_path
):
    [path] = cli.report(settings, console, tmp_path / "reports", clock=clock)
    assert path.name == "03KF0003-2017-06-08-de.html"
    assert "Recorded as issued" in output(console)
    service = RegioTwin.from_env(settings.event_store_env, clock)
    try:
        [issued] = issued_reports(service.app)
    finally:
        service.close()
    assert issued.actor == "system:report"

    cli.report(settings, console, check=path, clock=clock)
    assert f"{path} was issued at position {issued.position}" in output(console)
    path.write_bytes(path.read_bytes().replace(b"RegioTwin", b"RegioTw1n", 1))
    with pytest.raises(SystemExit):
        cli.report(settings, console, check=path, clock=clock)
    assert "was never issued" in output(console)


def test_report_as_of_a_past_day_uses_the_log_up_to_that_day(
    settings, console, clock, seeded, tmp_path
):
    [path] = cli.report(
        settings,
        console,
        tmp_path,
        as_of=date(2016, 12, 31),
        language="en",
        issue=False,
        clock=clock,
    )
    service = RegioTwin.from_env(settings.event_store_env, clock)
    try:
        position = position_at_end_of(service.app, date(2016, 12, 31))
    finally:
        service.close()
    html = path.read_text(encoding="utf-8")
    assert 'name="regiotwin-as-of" content="2016-12-31"' in html
    assert f'name="regiotwin-log-position" content="{position}"' in html
    assert "Recorded as issued" not in output(console)
