"""The export: the complete log as JSON Lines, the read models as CSV and XLSX, streamed."""

from __future__ import annotations

import csv
import hashlib
import inspect
import json
import os
import tracemalloc
from datetime import date
from pathlib import Path
from uuid import uuid4

import pytest
from eventsourcing.persistence import StoredEvent
from openpyxl import load_workbook

from audit.export import LOG_FILE, TABLES, export, log_lines, write_log
from audit.records import decode_state
from audit.verify import verify_file, verify_store
from demo.seed import seed_demo
from domain.application import sqlite_env
from domain.clock import ManualClock
from domain.service import RegioTwin
from tests.audit.support import read_lines

END_OF_DEMO = date(2017, 6, 30)


@pytest.fixture
def demo(service: RegioTwin, clock: ManualClock) -> RegioTwin:
    seed_demo(service, clock)
    return service


def test_every_event_is_one_line_with_its_metadata_data_state_and_hash(
    demo: RegioTwin, tmp_path: Path
):
    result = export(demo.app, tmp_path, END_OF_DEMO)

    lines = read_lines(result.log_file)
    head = demo.app.recorder.max_notification_id()
    assert [line["position"] for line in lines] == sorted(line["position"] for line in lines)
    assert lines[-1]["position"] == head
    proposed = next(line for line in lines if line["type"] == "Measure.Proposed")
    assert list(proposed) == [
        "position",
        "originator_id",
        "aggregate",
        "version",
        "topic",
        "type",
        "recorded_at",
        "actor",
        "command_id",
        "data",
        "state",
        "hash",
    ]
    assert proposed["aggregate"] == "Measure"
    assert proposed["topic"] == "domain.measure:Measure.Proposed"
    assert proposed["data"]["code"].startswith(("LKM-", "KST-"))
    assert proposed["command_id"].startswith("seed-demo:measure:")
    assert proposed["recorded_at"].startswith("2016-")
    stored = next(
        event
        for event in demo.app.recorder.chained_events()
        if event.position == proposed["position"]
    )
    assert proposed["hash"] == stored.stored_hash
    assert decode_state(stored.state)["title"] == proposed["data"]["title"]
    assert verify_file(result.log_file).head == verify_store(demo.app).head


def test_the_tables_hold_the_read_models_for_spreadsheets(demo: RegioTwin, tmp_path: Path):
    result = export(demo.app, tmp_path, END_OF_DEMO)

    with (tmp_path / "measures.csv").open(encoding="utf-8") as file:
        measures = list(csv.DictReader(file))
    assert len(measures) == result.rows["measures"] == 12
    lkm03 = next(row for row in measures if row["code"] == "LKM-03")
    assert (lkm03["region"], lkm03["status"]) == ("Landkreis München", "implemented")
    with (tmp_path / "exchanges.csv").open(encoding="utf-8") as file:
        exchanges = list(csv.DictReader(file))
    assert exchanges[0]["twinning"] == "Kreis Steinfurt – Landkreis München"
    assert not exchanges[0]["participants"].startswith("[")
    with (tmp_path / "rates.csv").open(encoding="utf-8") as file:
        rates = list(csv.DictReader(file))
    muenchen = [row for row in rates if row["region_key"] == "09184"]
    assert muenchen[0]["month"] == "2016-06"
    assert muenchen[-1]["month"] == "2017-06"
    assert muenchen[-1]["implemented"] == "4"

    workbook = load_workbook(tmp_path / "tables.xlsx", read_only=True)
    assert workbook.sheetnames == list(TABLES)
    assert len(list(workbook["measures"].iter_rows(values_only=True))) == 13  # header + 12
    advice = list(workbook["advice"].iter_rows(values_only=True))
    assert advice[0][:5] == ("twinning", "from_region", "to_region", "topic", "status")
    assert any(row[4] == "adopted" for row in advice[1:])
    due = next(iter(workbook["follow_ups"].iter_rows(min_row=2, values_only=True)))
    assert isinstance(due[5], date)  # due_on as a date the spreadsheet can sort


def test_the_manifest_names_the_head_and_every_files_hash(demo: RegioTwin, tmp_path: Path):
    result = export(demo.app, tmp_path, END_OF_DEMO)
    manifest = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["head_position"] == result.log.head_position
    assert manifest["head_hash"] == verify_store(demo.app).head
    assert manifest["events"] == len(read_lines(result.log_file))
    for name, entry in manifest["files"].items():
        assert hashlib.sha256((tmp_path / name).read_bytes()).hexdigest() == entry["sha256"]
    assert "verify_export.py" in manifest["files"]


def test_an_export_up_to_a_position_leaves_later_events_out(demo: RegioTwin, tmp_path: Path):
    result = export(demo.app, tmp_path, date(2016, 6, 30), until=100)
    assert result.log.head_position == 100
    assert read_lines(result.log_file)[-1]["position"] == 100
    assert verify_file(result.log_file).intact


# --- streaming ---------------------------------------------------------------------------


def synthetic_log(path: Path, events: int) -> RegioTwin:
    """A store with many small events, inserted straight through the chained recorder."""
    service = RegioTwin.from_env(sqlite_env(str(path)))
    recorder = service.app.recorder
    for start in range(0, events, 1000):
        recorder.insert_events(
            [
                StoredEvent(
                    originator_id=uuid4(),
                    originator_version=1,
                    topic="domain.measure:Measure.ProgressReported",
                    state=json.dumps(
                        {
                            "timestamp": {
                                "_type_": "datetime_iso",
                                "_data_": "2016-06-21T09:00:00+00:00",
                            },
                            "actor": "system:synthetic",
                            "command_id": f"synthetic:{n}",
                            "percent": n % 101,
                            "note": "progress " * 8,
                        }
                    ).encode(),
                )
                for n in range(start, min(start + 1000, events))
            ]
        )
    return service


def peak_memory(service: RegioTwin, out: Path) -> int:
    """The peak of memory allocated while the log is written to ``out``."""
    tracemalloc.start()
    try:
        with out.open("w", encoding="utf-8") as file:
            write_log(service.app, file)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_the_log_is_exported_as_a_stream(tmp_path: Path):
    small = synthetic_log(tmp_path / "small.sqlite", 2_000)
    large = synthetic_log(tmp_path / "large.sqlite", 20_000)
    try:
        assert inspect.isgenerator(log_lines(small.app))
        small_peak = peak_memory(small, tmp_path / "small.jsonl")
        large_peak = peak_memory(large, tmp_path / "large.jsonl")
        assert os.path.getsize(tmp_path / "large.jsonl") > 9 * os.path.getsize(
            tmp_path / "small.jsonl"
        )
        assert verify_file(tmp_path / "large.jsonl").checked == 20_000
    finally:
        small.close()
        large.close()
    # Ten times the events, about the same memory: pages of the log, one line at a time.
    assert large_peak < 1.5 * small_peak, (small_peak, large_peak)


def test_the_export_file_is_named_events_jsonl():
    assert LOG_FILE == "events.jsonl"
