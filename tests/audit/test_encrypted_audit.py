"""The audit commands on an encrypted store (``REGIOTWIN_CIPHER_KEY``).

The chain covers the stored ciphertext; everything that has the application (as of a day,
reports, the export's decoded fields, checkpoints) decodes the states with the key. An
export checked without the key (``tools/verify_export.py``) has its chain checked and says
how many lines' decoded fields it could not check; ``verify_file`` with the key checks all.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from audit import answers, cli
from audit.as_of import position_at_end_of, replayed
from audit.checkpoint import record_checkpoint
from audit.export import export
from audit.records import plain_of
from audit.texts import translator
from audit.verify import cipher_reader, verify_file, verify_store
from demo.seed import seed_demo
from domain.application import (
    RegioTwinApplication,
    create_cipher_key,
    encrypted_env,
    sqlite_env,
)
from domain.clock import ManualClock
from domain.service import RegioTwin
from projections import queries
from settings import Settings
from tests import builders
from tests.audit.support import broken_position, read_lines, standalone, write_lines
from tests.reliability.test_encryption_at_rest import SUMMARY, record_secret_exchange

AS_OF_DAYS = (date(2016, 6, 21), date(2016, 12, 31), date(2017, 5, 31))
VIEWS = (("status", None), ("measures", "09184"), ("twinning", "09184+05566"))
EXCHANGE = "Exchange.Recorded"


def start_clock() -> ManualClock:
    return ManualClock(datetime(2016, 6, 1, 9, 0, tzinfo=UTC))


@pytest.fixture
def key() -> str:
    return create_cipher_key()


@pytest.fixture
def encrypted(store: dict[str, str], clock: ManualClock, key: str) -> Iterator[RegioTwin]:
    """An encrypted store: a pair, the secret exchange, a checkpoint, one more measure."""
    service = RegioTwin.from_env(encrypted_env(store, key), clock)
    try:
        record_secret_exchange(service)
        assert record_checkpoint(service).recorded
        builders.measure(service, builders.SYSTEM, region="05566", code="KST-01")
        yield service
    finally:
        service.close()


@pytest.fixture
def exported(encrypted: RegioTwin, tmp_path: Path) -> Path:
    return export(encrypted.app, tmp_path / "export", date(2016, 6, 1)).log_file


def position_of(lines: list[dict[str, Any]], kind: str) -> int:
    return next(index for index, line in enumerate(lines) if line["type"] == kind)


# --- as of a day -----------------------------------------------------------------------


def as_of_text(app: RegioTwinApplication, day: date) -> list[str]:
    """What ``asof`` shows for ``day``: every view's title and lines."""
    t = translator("en")
    with replayed(app, day=day) as models:

        async def ask() -> list[str]:
            shown: list[str] = []
            async with queries.connect(models.path) as db:
                for what, ref in VIEWS:
                    for view in await answers.as_of_views(db, what, day, ref, t, "en"):
                        shown += [view.title, *view.lines]
            return shown

        return asyncio.run(ask())


def test_as_of_on_an_encrypted_store_equals_the_plain_result(
    store: dict[str, str], tmp_path: Path, key: str
) -> None:
    plain_clock, secret_clock = start_clock(), start_clock()
    plain = RegioTwin.from_env(sqlite_env(str(tmp_path / "plain.sqlite")), plain_clock)
    secret = RegioTwin.from_env(encrypted_env(store, key), secret_clock)
    try:
        seed_demo(plain, plain_clock)
        seed_demo(secret, secret_clock)
        for day in AS_OF_DAYS:
            position = position_at_end_of(plain.app, day)
            assert position_at_end_of(secret.app, day) == position > 0
            shown = as_of_text(secret.app, day)
            assert shown == as_of_text(plain.app, day)
            assert shown[0].startswith("RegioTwin (03KF0003) as of")
    finally:
        plain.close()
        secret.close()


# --- the export -----------------------------------------------------------------------


def test_the_export_keeps_the_ciphertext_and_decodes_the_fields(
    encrypted: RegioTwin, exported: Path
) -> None:
    lines = read_lines(exported)
    assert all(line["encrypted"] is True for line in lines)
    exchange = lines[position_of(lines, EXCHANGE)]
    assert exchange["data"]["summary"] == SUMMARY
    assert exchange["recorded_at"]
    assert exchange["command_id"]
    assert exchange["actor"] is not None
    # `state` is what the store holds (and the chain covers): ciphertext, not the JSON.
    state = base64.b64decode(exchange["state"])
    assert SUMMARY.encode() not in state
    assert json.loads(plain_of(encrypted.app)(state))["summary"] == SUMMARY

    manifest = json.loads((exported.parent / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["encrypted"] is True
    assert "run_bot.py verify --file" in manifest["verify_with_key"]


def test_the_export_verifies_fully_with_the_key(encrypted: RegioTwin, exported: Path) -> None:
    store = verify_store(encrypted.app)
    assert store.intact
    assert store.checkpoints == 1
    verdict = verify_file(exported, plain=plain_of(encrypted.app))
    assert verdict.intact, verdict
    assert (verdict.head_position, verdict.head) == (store.head_position, store.head)
    assert (verdict.checkpoints, verdict.unchecked, verdict.unread_checkpoints) == (1, 0, 0)


def test_without_the_key_the_chain_is_checked_and_the_rest_reported(
    encrypted: RegioTwin, exported: Path
) -> None:
    events = len(read_lines(exported))
    verdict = verify_file(exported)
    assert verdict.intact, verdict
    assert verdict.head == verify_store(encrypted.app).head
    assert (verdict.checked, verdict.unchecked) == (events, events)
    assert (verdict.checkpoints, verdict.unread_checkpoints) == (0, 1)

    code, output = standalone(exported)
    assert code == 0, output
    assert output.startswith("OK")
    assert verdict.head in output
    assert f"{events} events encrypted: their decoded fields were not checked" in output
    assert "python run_bot.py verify --file" in output
    assert "1 checkpoints encrypted: not matched" in output


def test_tampered_data_is_caught_with_the_key(encrypted: RegioTwin, exported: Path) -> None:
    lines = read_lines(exported)
    index = position_of(lines, EXCHANGE)
    lines[index]["data"]["summary"] = "Nichts Vertrauliches."
    write_lines(exported, lines)

    verdict = verify_file(exported, plain=plain_of(encrypted.app))
    assert verdict.first_broken_position == lines[index]["position"]
    assert "data differ from the stored state" in verdict.reason
    # Without the key the chain still holds: the line is reported as unchecked, not intact.
    code, output = standalone(exported)
    assert code == 0, output
    assert "events encrypted: their decoded fields were not checked" in output


def test_a_tampered_state_is_caught_by_every_verifier(encrypted: RegioTwin, exported: Path) -> None:
    lines = read_lines(exported)
    index = position_of(lines, EXCHANGE)
    state = bytearray(base64.b64decode(lines[index]["state"]))
    state[-1] ^= 0x01
    lines[index]["state"] = base64.b64encode(bytes(state)).decode()
    write_lines(exported, lines)
    position = lines[index]["position"]

    with_key = verify_file(exported, plain=plain_of(encrypted.app))
    assert with_key.first_broken_position == position
    assert "cannot be decrypted" in with_key.reason
    assert verify_file(exported).first_broken_position == position
    code, output = standalone(exported)
    assert code == 1, output
    assert broken_position(output) == position


def test_an_encrypted_mark_does_not_hide_altered_data_of_a_plain_state(
    service: RegioTwin, tmp_path: Path
) -> None:
    """A state that is JSON is checked whatever its line says."""
    builders.muenchen_and_steinfurt(service)
    exported = export(service.app, tmp_path / "export", date(2016, 6, 1)).log_file
    lines = read_lines(exported)
    assert not any("encrypted" in line for line in lines)
    lines[3]["encrypted"] = True
    lines[3]["actor"] = "system:someone-else"
    write_lines(exported, lines)
    assert verify_file(exported).first_broken_position == lines[3]["position"]
    code, output = standalone(exported)
    assert (code, broken_position(output)) == (1, lines[3]["position"])


def test_a_wrong_key_is_a_clear_break(exported: Path) -> None:
    with cipher_reader(encrypted_env({}, create_cipher_key())) as plain:
        verdict = verify_file(exported, plain=plain)
    assert verdict.first_broken_position == read_lines(exported)[0]["position"]
    assert "cannot be decrypted with the configured cipher key" in verdict.reason


# --- the commands (run_bot.py asof|export|verify|report) -----------------------------------


def settings_for(folder: Path, key: str | None) -> Settings:
    return Settings(_env_file=None, data_dir=folder, cipher_key=key)


@dataclass(frozen=True)
class Seeded:
    """The demo year in a plain and in an encrypted store (SQLite), and the clock after it."""

    plain: Settings
    secret: Settings
    clock: ManualClock


@pytest.fixture
def seeded(tmp_path: Path, key: str) -> Seeded:
    plain = settings_for(tmp_path / "plain", None)
    secret = settings_for(tmp_path / "secret", key)
    for settings in (plain, secret):
        clock = start_clock()
        service = RegioTwin.from_env(settings.event_store_env, clock)
        try:
            seed_demo(service, clock)
        finally:
            service.close()
    return Seeded(plain, secret, clock)


def test_asof_command_on_an_encrypted_store(seeded: Seeded) -> None:
    shown = []
    for settings in (seeded.plain, seeded.secret):
        console = Console(record=True, width=240, color_system=None)
        cli.asof(settings, console, date(2016, 12, 31), "measures", "09184", clock=seeded.clock)
        shown.append(console.export_text())
    assert shown[0] == shown[1]
    assert "LKM-03" in shown[1]


def test_export_and_verify_commands_on_an_encrypted_store(
    seeded: Seeded, tmp_path: Path, console: Console
) -> None:
    folder = cli.export(seeded.secret, console, tmp_path / "export", clock=seeded.clock)
    log_file = folder / "events.jsonl"
    assert "OK: " in console.export_text()
    assert "not checked" not in console.export_text()

    keyed = Console(record=True, width=240, color_system=None)
    assert cli.verify(seeded.secret, keyed, log_file).unchecked == 0
    assert "not checked" not in keyed.export_text()

    keyless = Console(record=True, width=240, color_system=None)
    verdict = cli.verify(settings_for(tmp_path / "auditor", None), keyless, log_file)
    assert verdict.unchecked == len(read_lines(log_file))
    text = keyless.export_text()
    assert f"{verdict.unchecked} events encrypted: their decoded fields were not checked" in text
    assert f"python run_bot.py verify --file {log_file}" in text


def test_report_command_on_an_encrypted_store(
    seeded: Seeded, tmp_path: Path, console: Console
) -> None:
    [page] = cli.report(
        seeded.secret, console, tmp_path / "reports", language="en", clock=seeded.clock
    )
    assert "Recorded as issued" in console.export_text()
    cli.report(seeded.secret, console, check=page, clock=seeded.clock)
    assert f"{page} was issued at position" in console.export_text()
