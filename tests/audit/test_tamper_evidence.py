"""Tamper evidence: the chain re-derived from the store or an export finds every change.

Tests alter, delete, reorder and insert events in the database and in an export; both
``verify`` (our code) and the stand-alone verifier (standard library only) report the
first broken position. Checkpoints catch a log rewritten with fresh hashes; an anchor
kept outside catches a truncated tail.
"""

from __future__ import annotations

import ast
import base64
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from audit.checkpoint import record_checkpoint
from audit.export import export
from audit.verify import Anchor, verify_file, verify_store
from domain.chain import ChainedEvent, link, record
from domain.service import RegioTwin
from tests import builders
from tests.audit.support import (
    STANDALONE,
    broken_position,
    read_lines,
    rechain,
    standalone,
    write_lines,
)
from tests.test_event_chain import stored_id, tamper


@pytest.fixture
def recorded(service: RegioTwin) -> RegioTwin:
    """A pair, two measures and a checkpoint in between (about 40 events)."""
    pair = builders.muenchen_and_steinfurt(service)
    builders.measure(service, pair.muenchen_staff)
    assert record_checkpoint(service).recorded
    builders.measure(service, pair.steinfurt_staff, region="05566", code="KST-01")
    return service


def checkpoint_position(service: RegioTwin) -> int:
    from audit.verify import store_checkpoints

    [checkpoint] = list(store_checkpoints(service.app))
    return checkpoint.position


# --- the store -------------------------------------------------------------------------


def test_an_untouched_store_verifies_with_its_checkpoint(recorded: RegioTwin):
    verdict = verify_store(recorded.app)
    assert verdict.intact
    assert verdict.checkpoints == 1
    assert verdict.head_position == recorded.app.recorder.max_notification_id()
    assert verdict.head == recorded.verify_log().head


STORE_TAMPERING: dict[str, tuple[str, Callable[[int], tuple[object, ...]]]] = {
    "altered": ("UPDATE {events} SET state = ? WHERE rowid = ?", lambda n: (b'{"x":1}', n)),
    "deleted": ("DELETE FROM {events} WHERE rowid = ?", lambda n: (n,)),
    "reordered": (
        "UPDATE {events} SET topic = CASE WHEN rowid = ? THEN "
        "(SELECT topic FROM {events} WHERE rowid = ?) ELSE "
        "(SELECT topic FROM {events} WHERE rowid = ?) END WHERE rowid IN (?, ?)",
        lambda n: (n, n + 1, n, n, n + 1),
    ),
}


@pytest.mark.parametrize("how", sorted(STORE_TAMPERING))
def test_verify_finds_the_first_tampered_position_in_the_store(recorded: RegioTwin, how: str):
    statement, params = STORE_TAMPERING[how]
    tamper(recorded, statement, params(7))
    verdict = verify_store(recorded.app)
    assert not verdict.intact
    assert verdict.first_broken_position in (7, 8)
    assert verdict.checked == 6


def test_verify_finds_an_event_inserted_in_the_store(recorded: RegioTwin):
    head = recorded.app.recorder.max_notification_id()
    first = next(iter(recorded.app.recorder.select_notifications(1, 1)))
    tamper(
        recorded,
        "INSERT INTO {events} (originator_id, originator_version, topic, state) "
        "VALUES (?, ?, ?, ?)",
        (stored_id(recorded, first.originator_id), 99, first.topic, first.state),
    )
    verdict = verify_store(recorded.app)
    assert not verdict.intact
    assert verdict.first_broken_position > head
    assert verdict.reason == "no hash stored"


def rewrite_chain(service: RegioTwin) -> None:
    """A forger with database access recomputes every stored hash."""
    previous = "0" * 64
    for event in list(service.app.recorder.chained_events()):
        previous = link(
            previous,
            record(
                event.position,
                event.originator_id,
                event.originator_version,
                event.topic,
                event.state,
            ),
        )
        tamper(
            service,
            "UPDATE {chain} SET hash = ? WHERE notification_id = ?",
            (previous, event.position),
        )


def test_a_checkpoint_catches_a_log_rewritten_with_fresh_hashes(recorded: RegioTwin):
    checkpointed = checkpoint_position(recorded)
    tamper(recorded, "UPDATE {events} SET state = ? WHERE rowid = ?", (b'{"x":1}', 12))
    rewrite_chain(recorded)

    assert recorded.verify_log().intact, "each stored hash fits: the rewrite is complete"
    verdict = verify_store(recorded.app)

    assert not verdict.intact
    assert verdict.first_broken_position == checkpointed
    assert "rewritten" in verdict.reason


def test_an_anchor_kept_outside_catches_a_truncated_tail(recorded: RegioTwin):
    anchor = verify_store(recorded.app).anchor
    head = anchor.position
    tamper(recorded, "DELETE FROM {events} WHERE rowid > ?", (head - 3,))
    tamper(recorded, "DELETE FROM {chain} WHERE notification_id > ?", (head - 3,))

    assert verify_store(recorded.app).intact, "a shorter log is consistent in itself"
    verdict = verify_store(recorded.app, expect=anchor)

    assert not verdict.intact
    assert verdict.first_broken_position == head
    assert "tail is missing" in verdict.reason


def test_an_anchor_kept_outside_catches_a_complete_rewrite(recorded: RegioTwin):
    anchor = verify_store(recorded.app).anchor
    after_checkpoint = anchor.position - 1
    assert after_checkpoint > checkpoint_position(recorded) + 1
    tamper(
        recorded, "UPDATE {events} SET state = ? WHERE rowid = ?", (b'{"x":1}', after_checkpoint)
    )
    rewrite_chain(recorded)
    assert verify_store(recorded.app).intact, "no checkpoint covers the altered event"
    verdict = verify_store(recorded.app, expect=anchor)
    assert not verdict.intact
    assert verdict.first_broken_position == anchor.position


# --- an export ---------------------------------------------------------------------------


@pytest.fixture
def exported(recorded: RegioTwin, tmp_path: Path) -> Path:
    from datetime import date

    result = export(recorded.app, tmp_path / "export", date(2016, 6, 1))
    return result.log_file


def test_an_export_verifies_with_both_verifiers(recorded: RegioTwin, exported: Path):
    store = verify_store(recorded.app)
    verdict = verify_file(exported)
    assert verdict.intact
    assert (verdict.head_position, verdict.head, verdict.checkpoints) == (
        store.head_position,
        store.head,
        1,
    )
    code, output = standalone(exported)
    assert code == 0, output
    assert output.startswith("OK")
    assert store.head in output
    code, output = standalone(exported, "--expect", str(store.anchor))
    assert code == 0, output


def _data_line(lines: list[dict[str, Any]]) -> int:
    return next(i for i, line in enumerate(lines) if line["type"] == "Measure.Proposed")


def alter_data(lines: list[dict[str, Any]]) -> int:
    index = _data_line(lines)
    lines[index]["data"]["title"] = "Something else entirely"
    return lines[index]["position"]


def alter_state(lines: list[dict[str, Any]]) -> int:
    index = _data_line(lines)
    state = base64.b64decode(lines[index]["state"]).replace(b"Radschnellweg", b"Radweglein")
    lines[index]["state"] = base64.b64encode(state).decode()
    lines[index]["data"]["title"] = lines[index]["data"]["title"].replace(
        "Radschnellweg", "Radweglein"
    )
    return lines[index]["position"]


def alter_actor(lines: list[dict[str, Any]]) -> int:
    lines[5]["actor"] = "system:someone-else"
    return lines[5]["position"]


def delete(lines: list[dict[str, Any]]) -> int:
    del lines[10]
    return lines[10]["position"]


def swap(lines: list[dict[str, Any]]) -> int:
    lines[10], lines[11] = lines[11], lines[10]
    return lines[10]["position"]


def insert_forged(lines: list[dict[str, Any]]) -> int:
    """A forged line after line 10, with a hash chained correctly after it."""
    forged = json.loads(json.dumps(lines[10]))
    forged["position"] = lines[10]["position"] + 1
    forged["version"] += 1
    forged["hash"] = ""
    forged["hash"] = link(
        lines[10]["hash"],
        record(
            forged["position"],
            forged["originator_id"],
            forged["version"],
            forged["topic"],
            base64.b64decode(forged["state"]),
        ),
    )
    lines.insert(11, forged)
    return lines[12]["position"]


def rewrite_with_fresh_hashes(lines: list[dict[str, Any]]) -> int:
    """Alter an early line and recompute every hash after it: only the checkpoint tells."""
    index = _data_line(lines)
    state = base64.b64decode(lines[index]["state"]).replace(b"Radschnellweg", b"Radweglein")
    lines[index]["state"] = base64.b64encode(state).decode()
    lines[index]["data"]["title"] = lines[index]["data"]["title"].replace(
        "Radschnellweg", "Radweglein"
    )
    rechain(lines, index)
    checkpoint = next(line for line in lines if line["type"] == "ChainCheckpoint.Recorded")
    return checkpoint["data"]["position"]


EXPORT_TAMPERING = {
    "altered data": alter_data,
    "altered state": alter_state,
    "altered actor": alter_actor,
    "deleted line": delete,
    "swapped lines": swap,
    "inserted forged line": insert_forged,
    "rewritten with fresh hashes": rewrite_with_fresh_hashes,
}


@pytest.mark.parametrize("how", list(EXPORT_TAMPERING))
def test_both_verifiers_find_the_first_broken_position_in_an_export(exported: Path, how: str):
    lines = read_lines(exported)
    expected = EXPORT_TAMPERING[how](lines)
    write_lines(exported, lines)

    verdict = verify_file(exported)
    code, output = standalone(exported)

    assert not verdict.intact
    assert verdict.first_broken_position == expected, verdict
    assert code == 1, output
    assert broken_position(output) == expected, output


@pytest.mark.parametrize("sqlite_only", [True])
def test_a_truncated_export_is_caught_with_the_anchor_of_an_earlier_check(
    exported: Path, sqlite_only: bool
):
    anchor = verify_file(exported).anchor
    lines = read_lines(exported)
    write_lines(exported, lines[:-4])

    assert verify_file(exported).intact
    assert verify_file(exported, Anchor.parse(str(anchor))).first_broken_position == (
        anchor.position
    )
    code, output = standalone(exported, "--expect", str(anchor))
    assert code == 1
    assert broken_position(output) == anchor.position


def test_a_line_that_is_no_json_is_reported(exported: Path):
    lines = exported.read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3][:40]
    exported.write_text("\n".join(lines) + "\n", encoding="utf-8")
    verdict = verify_file(exported)
    assert not verdict.intact
    assert verdict.line == 4
    code, output = standalone(exported)
    assert code == 1
    assert "line 4" in output


# --- the stand-alone verifier needs nothing of ours ------------------------------------


def test_the_standalone_verifier_imports_only_the_standard_library():
    tree = ast.parse(STANDALONE.read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "no relative imports"
            imported.add((node.module or "").split(".")[0])
    assert imported
    assert imported <= set(sys.stdlib_module_names) | {"__future__"}, imported


def test_the_standalone_verifier_uses_the_same_chain_rule():
    namespace: dict[str, Any] = {}
    exec(compile(STANDALONE.read_text(encoding="utf-8"), str(STANDALONE), "exec"), namespace)
    state = b'{"a":1}'
    assert namespace["record"](3, "id", 2, "t", state) == record(3, "id", 2, "t", state)
    assert namespace["link"]("0" * 64, "x") == link("0" * 64, "x")
    assert ChainedEvent  # the rule's home: domain/chain.py


def test_the_standalone_verifier_refuses_a_wrong_call(tmp_path: Path):
    (tmp_path / "e.jsonl").write_text("", encoding="utf-8")
    code, output = standalone(tmp_path / "e.jsonl", "--expect", "nonsense")
    assert code == 2
    assert "POSITION:HASH" in output


# --- the rule on its own -------------------------------------------------------------------


def chain_of(count: int) -> list[ChainedEvent]:
    events, previous = [], "0" * 64
    for position in range(1, count + 1):
        state = json.dumps({"n": position}).encode()
        previous = link(previous, record(position, "id", position, "t", state))
        events.append(ChainedEvent(position, "id", position, "t", state, previous))
    return events


def test_checkpoints_that_cannot_be_right_are_reported():
    from audit.verify import Checkpoint, verify_chain

    events = chain_of(6)
    items = [(None, event) for event in events]
    right = Checkpoint(5, 3, events[2].stored_hash or "")
    assert verify_chain(items, [right]).checkpoints == 1
    wrong_future = Checkpoint(2, 4, "f" * 64)
    verdict = verify_chain(items, [wrong_future])
    assert verdict.first_broken_position == 4
    missing = Checkpoint(5, 9, "f" * 64)
    verdict = verify_chain(items, [missing])
    assert verdict.first_broken_position == 9
    assert "not in the log" in verdict.reason
