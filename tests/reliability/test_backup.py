"""Backups taken while RegioTwin keeps recording restore completely: the restored store
verifies, holds every command acknowledged before the backup started, and works."""

from __future__ import annotations

import asyncio
import io
import json
import os
import shutil
import sqlite3
import subprocess
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rich.console import Console

from bot.handled_updates import HandledUpdates
from domain.application import RegioTwinApplication, create_cipher_key, encrypted_env
from domain.commands import RecordExchange
from domain.service import RegioTwin
from ops.backup import (
    BOT_STATE,
    EVENTS,
    MANIFEST,
    OUTBOX,
    BackupFailed,
    backup,
    pg_restore_command,
    restore_sqlite,
    run_pg_dump,
)
from projections.host import ProjectionHost
from projections.outbox import open_outbox
from settings import Settings
from tests.builders import Pair, muenchen_and_steinfurt
from tests.e2e.harness import REPO_ROOT, python_cmd, start_process
from tests.stores import postgres_schema

Acknowledged = list[tuple[str, RecordExchange]]


def exchange_command(pair: Pair, number: int) -> RecordExchange:
    return RecordExchange.parse(
        twinning_id=pair.twinning_id,
        kind="call",
        held_on="14.09.2016",
        place="Telefon",
        participants=["Anna Huber", "Jan Brinkmann"],
        topics=["cycling"],
        summary=f"Abstimmung Nummer {number}",
        follow_ups=[],
    )


class Writer:
    """Keeps recording exchanges in a thread, as the bot would; ``acknowledged`` lists
    every command whose ``handle`` has returned (in that order)."""

    def __init__(self, service: RegioTwin, pair: Pair) -> None:
        self.service, self.pair = service, pair
        self.acknowledged: Acknowledged = []
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="writer")

    def _run(self) -> None:
        number = 0
        try:
            while not self._stop.is_set():
                number += 1
                command, command_id = exchange_command(self.pair, number), f"writer-{number}"
                self.service.handle(command, actor=self.pair.muenchen_staff, command_id=command_id)
                self.acknowledged.append((command_id, command))
        except BaseException as error:
            self.error = error

    def __enter__(self) -> Writer:
        self._thread.start()
        deadline = time.monotonic() + 20
        while len(self.acknowledged) < 5:
            assert self.error is None, self.error
            assert time.monotonic() < deadline, "the writer does not get going"
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(30)
        assert self.error is None, self.error


def check_restored(env: dict[str, str], pair: Pair, before: Acknowledged) -> None:
    service = RegioTwin.from_env(env)
    try:
        verdict = service.verify_log()
        assert verdict.intact, verdict
        head = service.app.recorder.max_notification_id()
        # Every command acknowledged before the backup started is in it: sent again with
        # its command id it is recognised and records nothing.
        for command_id, command in before:
            again = service.handle(command, actor=pair.muenchen_staff, command_id=command_id)
            assert again.replayed, command_id
        assert service.app.recorder.max_notification_id() == head
        # The restored store works.
        new = service.handle(exchange_command(pair, 10_000), actor=pair.muenchen_staff)
        assert not new.replayed
        assert service.app.repository.get(new.aggregate_id).summary == "Abstimmung Nummer 10000"
        assert service.verify_log().intact
    finally:
        service.close()


def test_a_backup_taken_while_recording_restores_completely(tmp_path: Path) -> None:
    data, key = tmp_path / "data", create_cipher_key()
    settings = Settings(data_dir=data, cipher_key=key)
    env = settings.event_store_env
    service = RegioTwin.from_env(env)
    pair = muenchen_and_steinfurt(service)
    # The other files of a running bot: the outbox and the log of handled updates.
    outbox = open_outbox(env, data)
    outbox.initialise(RegioTwinApplication.name, service.app.recorder.max_notification_id() or 0)
    outbox.close()

    async def handled_update() -> None:
        handled = await HandledUpdates.open(data / BOT_STATE)
        await handled.mark("update:1", datetime.now(UTC))
        await handled.close()

    asyncio.run(handled_update())

    try:
        with Writer(service, pair) as writer:
            before = list(writer.acknowledged)
            process = start_process(
                python_cmd(str(REPO_ROOT / "run_bot.py"), "backup", str(tmp_path / "backups")),
                {"REGIOTWIN_DATA_DIR": str(data), "REGIOTWIN_CIPHER_KEY": key},
                log_path=tmp_path / "backup.log",
                cwd=tmp_path,
                name="backup",
            )
            try:
                code = process.popen.wait(60)
            finally:
                process.stop()
            during = len(writer.acknowledged) - len(before)
    finally:
        service.close()
    output = process.log_text()
    assert code == 0, output
    assert during > 0, "the writer recorded nothing while the backup ran"
    assert key not in output

    (folder,) = (tmp_path / "backups").iterdir()
    manifest = json.loads((folder / MANIFEST).read_text())
    assert set(manifest["files"]) == {EVENTS, OUTBOX, BOT_STATE}
    assert manifest["encrypted"] is True
    anchor = f"{manifest['head']['position']}:{manifest['head']['hash']}"
    assert anchor in output.replace("\n", "")
    assert "hash chain intact" in output
    assert sorted(path.name for path in folder.iterdir()) == sorted(
        [EVENTS, OUTBOX, BOT_STATE, MANIFEST]
    )

    restored = tmp_path / "restored"
    assert sorted(restore_sqlite(folder, restored)) == sorted([EVENTS, OUTBOX, BOT_STATE])
    restored_settings = Settings(data_dir=restored, cipher_key=key)
    restored_env = restored_settings.event_store_env
    copy = RegioTwin.from_env(restored_env)
    try:
        assert copy.verify_log().head == manifest["head"]["hash"]
    finally:
        copy.close()
    check_restored(restored_env, pair, before)
    with sqlite3.connect(restored / BOT_STATE) as db:
        assert db.execute("SELECT update_key FROM handled_updates").fetchall() == [("update:1",)]
    # The read models are rebuilt from the restored log.
    projections = ProjectionHost(restored_env, restored_settings.read_model_path)
    projections.start()
    try:
        assert projections.wait_until_current(10.0)
    finally:
        projections.stop()
    with sqlite3.connect(restored_settings.read_model_path) as db:
        summaries = {row[0] for row in db.execute("SELECT summary FROM exchanges")}
    assert {command.summary for _id, command in before} <= summaries


def test_restore_refuses_a_damaged_backup_and_a_used_folder(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    service = RegioTwin.from_env(settings.event_store_env)
    try:
        muenchen_and_steinfurt(service)
    finally:
        service.close()
    result = backup(settings, Console(file=io.StringIO()), tmp_path / "backups")
    with pytest.raises(BackupFailed, match="empty folder"):
        restore_sqlite(result.folder, settings.data_dir)
    with (result.folder / EVENTS).open("r+b") as file:
        file.seek(200)
        file.write(b"\x00garbage")
    with pytest.raises(BackupFailed, match="damaged"):
        restore_sqlite(result.folder, tmp_path / "elsewhere")


def test_a_backup_that_cannot_be_verified_fails_and_leaves_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    service = RegioTwin.from_env(
        Settings(data_dir=data, cipher_key=create_cipher_key()).event_store_env
    )
    try:
        muenchen_and_steinfurt(service)
    finally:
        service.close()
    out = io.StringIO()
    wrong_key = Settings(data_dir=data, cipher_key=create_cipher_key())
    with pytest.raises(SystemExit) as failed:
        backup(wrong_key, Console(file=out, width=200), tmp_path / "backups")
    assert failed.value.code == 1
    assert "Backup failed" in out.getvalue()
    assert "REGIOTWIN_CIPHER_KEY" in out.getvalue()
    assert list((tmp_path / "backups").iterdir()) == []


def test_postgres_backup_prints_pg_dump_without_the_password(tmp_path: Path) -> None:
    url = "postgresql://ops:n0t-Sh0wn@db.example:5433/regiotwin"
    out = io.StringIO()
    settings = Settings(data_dir=tmp_path / "data", database_url=url)
    result = backup(settings, Console(file=out, width=300), tmp_path / "backups", run_dump=False)
    text = out.getvalue()
    assert "n0t-Sh0wn" not in text
    assert result.pg_dump_command is not None
    assert (
        "PGPASSWORD=… pg_dump --host db.example --port 5433 --username ops --dbname regiotwin "
        "--no-owner --format=custom --file " in text
    )
    assert "pg_restore" in text


def _rename_schema(env: dict[str, str], to: str) -> Callable[[], None]:
    import psycopg

    conninfo = {
        "host": env["POSTGRES_HOST"],
        "port": env["POSTGRES_PORT"],
        "user": env["POSTGRES_USER"],
        "password": env["POSTGRES_PASSWORD"],
        "dbname": env["POSTGRES_DBNAME"],
    }
    with psycopg.connect(**conninfo, autocommit=True) as connection:
        connection.execute(f'ALTER SCHEMA "{env["POSTGRES_SCHEMA"]}" RENAME TO "{to}"')

    def drop() -> None:
        with psycopg.connect(**conninfo, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA IF EXISTS "{to}" CASCADE')

    return drop


@pytest.mark.postgres
def test_a_pg_dump_taken_while_recording_restores_completely(tmp_path: Path) -> None:
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        pytest.skip("pg_dump and pg_restore are not installed")
    dump = tmp_path / "regiotwin.dump"
    with postgres_schema() as plain:
        env = encrypted_env(plain, create_cipher_key())
        service = RegioTwin.from_env(env)
        try:
            pair = muenchen_and_steinfurt(service)
            with Writer(service, pair) as writer:
                before = list(writer.acknowledged)
                run_pg_dump(env, dump)
                during = len(writer.acknowledged) - len(before)
        finally:
            service.close()
        assert during > 0, "the writer recorded nothing while pg_dump ran"
        # Restore: the live schema moved aside, the dump restored in its place.
        drop_old = _rename_schema(env, env["POSTGRES_SCHEMA"] + "_old")
        try:
            restored = subprocess.run(
                pg_restore_command(env, dump),
                env={**os.environ, "PGPASSWORD": env["POSTGRES_PASSWORD"]},
                capture_output=True,
                text=True,
                check=False,
            )
            assert restored.returncode == 0, restored.stderr
            check_restored(env, pair, before)
        finally:
            drop_old()
