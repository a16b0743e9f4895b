"""Encryption at rest: with ``REGIOTWIN_CIPHER_KEY`` every event's payload is compressed and
encrypted (AES-GCM) before it is stored, so the database holds none of a summary's text;
everything that reads the log still works."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from audit.export import log_lines
from audit.records import decode_state
from domain.application import (
    COMPRESSOR_TOPIC,
    RegioTwinApplication,
    UnreadableStore,
    create_cipher_key,
    encrypted_env,
    ensure_readable,
    plain_state,
)
from domain.clock import ManualClock
from domain.commands import RecordExchange
from domain.service import RegioTwin
from projections import log as event_log
from projections.host import ProjectionHost
from settings import Settings
from tests.builders import muenchen_and_steinfurt

SUMMARY = "Vertraulich: Zählstellen-Pilot am Radschnellweg Xylophon-4711, Budget 83.000 Euro."
FRAGMENTS = (SUMMARY, "Xylophon-4711", "Radschnellweg Xylophon")


def record_secret_exchange(service: RegioTwin) -> Any:
    pair = muenchen_and_steinfurt(service)
    return service.handle(
        RecordExchange.parse(
            twinning_id=pair.twinning_id,
            kind="site_visit",
            held_on="14.09.2016",
            place="Steinfurt",
            participants=["Anna Huber", "Jan Brinkmann"],
            topics=["cycling"],
            summary=SUMMARY,
            follow_ups=[],
        ),
        actor=pair.muenchen_staff,
    )


def stored_bytes(env: dict[str, str], app: RegioTwinApplication) -> list[bytes]:
    """Everything the store keeps: the SQLite file and its WAL, or PostgreSQL's rows."""
    if env["PERSISTENCE_MODULE"].endswith("sqlite"):
        path = Path(env["SQLITE_DBNAME"])
        return [p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists()]
    recorder: Any = app.recorder
    schema = recorder.datastore.schema
    with recorder.datastore.get_connection() as connection, connection.cursor() as cursor:
        cursor.execute(f'SELECT state FROM "{schema}"."{recorder.events_table_name}"')
        states = [bytes(row["state"]) for row in cursor.fetchall()]
        cursor.execute(f'SELECT hash FROM "{schema}"."{recorder.events_table_name}_chain"')
        hashes = [row["hash"].encode() for row in cursor.fetchall()]
    return states + hashes


def holds_summary(chunks: list[bytes]) -> bool:
    return any(
        fragment.encode(encoding) in chunk
        for chunk in chunks
        for fragment in FRAGMENTS
        for encoding in ("utf-8", "utf-16-le")
    )


def test_the_setting_turns_on_cipher_and_compression(tmp_path: Path) -> None:
    key = create_cipher_key()
    env = Settings(data_dir=tmp_path, cipher_key=key).event_store_env
    assert env["CIPHER_TOPIC"] == "eventsourcing.cipher:AESCipher"
    assert env["CIPHER_KEY"] == key
    assert env["COMPRESSOR_TOPIC"] == COMPRESSOR_TOPIC
    # The projections' followers (and so the outbox projection) read with the same keys.
    follower = event_log.follower_env(env)
    assert {k: follower[k] for k in ("CIPHER_TOPIC", "CIPHER_KEY", "COMPRESSOR_TOPIC")} == {
        k: env[k] for k in ("CIPHER_TOPIC", "CIPHER_KEY", "COMPRESSOR_TOPIC")
    }
    plain = Settings(data_dir=tmp_path).event_store_env
    assert not {"CIPHER_TOPIC", "CIPHER_KEY", "COMPRESSOR_TOPIC"} & set(plain)


@pytest.mark.parametrize("bad", ["not base64!", "c2hvcnQ="])
def test_a_bad_key_is_refused_without_showing_it(tmp_path: Path, bad: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(data_dir=tmp_path, cipher_key=bad)
    assert bad not in str(refused.value)
    assert "cipher key" in str(refused.value)


def test_without_a_key_the_summary_is_in_the_store(
    store: dict[str, str], clock: ManualClock
) -> None:
    """The control: the same look at the raw store finds a summary stored in clear."""
    service = RegioTwin.from_env(store, clock)
    try:
        record_secret_exchange(service)
        assert holds_summary(stored_bytes(store, service.app))
    finally:
        service.close()


def test_with_a_key_the_store_holds_none_of_the_summary(
    store: dict[str, str], clock: ManualClock, tmp_path: Path
) -> None:
    env = encrypted_env(store, create_cipher_key())
    service = RegioTwin.from_env(env, clock)
    try:
        outcome = record_secret_exchange(service)
        assert not holds_summary(stored_bytes(env, service.app))

        # Read back through the service.
        assert service.app.repository.get(outcome.aggregate_id).summary == SUMMARY
        ensure_readable(service.app)
        # The hash chain covers the stored (encrypted) bytes and verifies.
        verdict = service.verify_log()
        assert verdict.intact
        assert verdict.checked > 0
    finally:
        service.close()

    # The read models follow the encrypted log (the follower's env carries the key).
    projections = ProjectionHost(env, tmp_path / "read_models.sqlite")
    projections.start()
    try:
        assert projections.wait_until_current(10.0)
    finally:
        projections.stop()
    with sqlite3.connect(tmp_path / "read_models.sqlite") as db:
        summaries = [row[0] for row in db.execute("SELECT summary FROM exchanges")]
    assert summaries == [SUMMARY]

    # The stored state decrypts to the event's JSON (what the audit export decodes).
    log = event_log.open_log(env)
    try:
        notifications = log.recorder.select_notifications(start=1, limit=10_000)
        decoded = [decode_state(plain_state(log, n.state)) for n in notifications]
    finally:
        log.close()
    assert any(fields.get("summary") == SUMMARY for fields in decoded)


def test_a_wrong_or_missing_key_stops_with_a_clear_error(
    store: dict[str, str], clock: ManualClock
) -> None:
    env = encrypted_env(store, create_cipher_key())
    service = RegioTwin.from_env(env, clock)
    try:
        record_secret_exchange(service)
    finally:
        service.close()
    for other in (encrypted_env(store, create_cipher_key()), store):
        app = RegioTwinApplication(env=other)
        try:
            with pytest.raises(UnreadableStore, match="REGIOTWIN_CIPHER_KEY"):
                ensure_readable(app)
        finally:
            app.close()


def test_a_plain_store_is_not_opened_with_a_key(store: dict[str, str], clock: ManualClock) -> None:
    service = RegioTwin.from_env(store, clock)
    try:
        record_secret_exchange(service)
    finally:
        service.close()
    app = RegioTwinApplication(env=encrypted_env(store, create_cipher_key()))
    try:
        with pytest.raises(UnreadableStore):
            ensure_readable(app)
    finally:
        app.close()


def test_the_export_carries_the_decrypted_data(tmp_path: Path, clock: ManualClock) -> None:
    env = encrypted_env(
        {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(tmp_path / "events.sqlite"),
            "APPLICATION_RECORDER_TOPIC": "domain.chained_sqlite:ChainedSQLiteApplicationRecorder",
        },
        create_cipher_key(),
    )
    service = RegioTwin.from_env(env, clock)
    try:
        record_secret_exchange(service)
    finally:
        service.close()
    log = event_log.open_log(env)
    try:
        lines = [json.loads(line) for line in log_lines(log)]
    finally:
        log.close()
    exchange = next(line for line in lines if line["type"] == "Exchange.Recorded")
    assert exchange["data"] is not None
    assert exchange["data"]["summary"] == SUMMARY
