"""The demo ends with a verified export and a report; the bot records checkpoints by itself."""

from __future__ import annotations

import asyncio
from pathlib import Path

from rich.console import Console

from audit.checkpoint import checkpoint_periodically, record_checkpoint
from audit.verify import store_checkpoints, verify_store
from bot.gateway import DomainGateway
from demo.terminal import play_demo
from domain.service import RegioTwin
from tests import builders
from tests.audit.support import standalone


def test_the_demo_ends_with_a_verified_export_and_a_report(tmp_path: Path):
    console = Console(record=True, width=200, color_system=None)
    play_demo(tmp_path / "store", console, results=tmp_path / "out")

    text = console.export_text()
    [report] = (tmp_path / "out" / "reports").glob("*.html")
    assert report.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert report.resolve().as_uri() in text
    assert "(intact)" in text
    code, output = standalone(tmp_path / "out" / "export" / "events.jsonl")
    assert code == 0, output


def test_a_checkpoint_is_recorded_only_when_something_happened(service: RegioTwin):
    builders.muenchen_and_steinfurt(service)
    first = record_checkpoint(service)
    again = record_checkpoint(service)
    assert first.recorded
    assert not again.recorded
    builders.marburg(service)
    assert record_checkpoint(service).recorded
    assert verify_store(service.app).checkpoints == 2


async def test_the_bot_process_records_checkpoints_periodically(service: RegioTwin):
    builders.muenchen_and_steinfurt(service)
    head = verify_store(service.app).anchor
    gateway = DomainGateway(service)
    task = asyncio.create_task(checkpoint_periodically(gateway, interval=0.05, first_delay=0))
    try:
        for _ in range(100):
            await asyncio.sleep(0.05)
            if list(store_checkpoints(service.app)):
                break
    finally:
        task.cancel()
        gateway.close()
    [checkpoint] = list(store_checkpoints(service.app))
    assert (checkpoint.position, checkpoint.head_hash) == (head.position, head.hash)
    assert gateway.last_position > checkpoint.position
    assert verify_store(service.app).checkpoints == 1
