"""`python run_bot.py restore FOLDER`: a backup comes back whole, or nothing changes."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

import run_bot
from domain.service import RegioTwin
from ops.backup import EVENTS, backup
from settings import Settings
from tests.builders import muenchen_and_steinfurt


def backed_up(tmp_path: Path) -> tuple[Path, str]:
    """A backup of a store with the München–Steinfurt pair, and its chain head."""
    settings = Settings(_env_file=None, data_dir=tmp_path / "live")
    service = RegioTwin.from_env(settings.event_store_env)
    try:
        muenchen_and_steinfurt(service)
        head = service.verify_log().head
    finally:
        service.close()
    result = backup(settings, Console(file=io.StringIO()), tmp_path / "backups")
    assert head is not None
    return result.folder, head


def restore_into(data_dir: Path, folder: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    monkeypatch.setenv("REGIOTWIN_DATA_DIR", str(data_dir))
    monkeypatch.delenv("REGIOTWIN_DATABASE_URL", raising=False)
    result = CliRunner().invoke(run_bot.cli, ["restore", str(folder)])
    return result.exit_code, result.output


def test_restore_brings_back_the_log_that_was_backed_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, head = backed_up(tmp_path)
    code, output = restore_into(tmp_path / "restored", folder, monkeypatch)
    assert code == 0, output
    assert "Restored" in output
    restored = RegioTwin.from_env(
        Settings(_env_file=None, data_dir=tmp_path / "restored").event_store_env
    )
    try:
        verdict = restored.verify_log()
    finally:
        restored.close()
    assert verdict.intact
    assert verdict.head == head


def test_restore_refuses_a_folder_in_use_and_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, _head = backed_up(tmp_path)
    live = tmp_path / "live" / EVENTS
    before = live.read_bytes()
    code, output = restore_into(tmp_path / "live", folder, monkeypatch)
    assert code == 1
    assert "Not restored" in output
    assert live.read_bytes() == before
