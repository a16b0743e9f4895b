"""The functions behind ``run_bot.py rebuild`` and ``run_bot.py health``."""

from __future__ import annotations

from rich.console import Console

from domain.clock import ManualClock
from domain.service import RegioTwin
from projections import cli
from projections.dump import canonical_dump
from projections.store import ReadModelStore
from settings import Settings
from tests import builders
from tests.projections.support import ReadModels


def world(settings: Settings, clock: ManualClock) -> int:
    """Returns the head of the log."""
    service = RegioTwin.from_env(settings.event_store_env, clock)
    pair = builders.muenchen_and_steinfurt(service)
    builders.measure(service, pair.muenchen_staff)
    head = service.app.recorder.max_notification_id()
    service.close()
    return head


def test_rebuild_applies_the_whole_log_and_says_how_fast(settings, console, clock):
    head = world(settings, clock)
    live = ReadModels(settings.event_store_env, settings.read_model_path)
    live.refresh(batch_size=1)
    before = live.dump()
    live.close()

    cli.rebuild(settings, console)

    output = console.export_text()
    assert f"Rebuilt 6 read models from {head} events" in output
    assert "events/s" in output
    assert canonical_dump(settings.read_model_path) == before


def test_health_prints_each_read_models_position_against_the_head(settings, console, clock):
    head = world(settings, clock)
    cli.rebuild(settings, Console(quiet=True))
    with ReadModelStore(settings.read_model_path) as store, store.transaction() as cursor:
        cursor.execute(
            "INSERT INTO projection_failures VALUES ('timelines', ?, 'Measure.StatusChanged', "
            "'ab', 2, 'RuntimeError: boom', 'now', 'now', 3)",
            (head + 1,),
        )
        cursor.execute(
            "UPDATE projection_tracking SET notification_id = ? WHERE projection = 'directory'",
            (head - 10,),
        )

    cli.health(settings, console)

    lines = console.export_text().splitlines()
    assert any(f"log head {head}" in line for line in lines)
    cells = [[cell.strip() for cell in line.split("│")[1:-1]] for line in lines if "│" in line]
    row = {cells[0]: cells[1:] for cells in cells}
    assert row["audit_index"] == [str(head), "0", "current", "", ""]
    assert row["directory"] == [str(head - 10), "10", "behind", "", ""]
    assert row["timelines"] == [
        str(head),
        "0",
        "failed",
        f"#{head + 1} Measure.StatusChanged v2",
        "RuntimeError: boom (3×)",
    ]
