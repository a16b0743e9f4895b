"""``run_bot.py health`` shows the outbox: what waits, what failed for good, unreachable chats."""

from __future__ import annotations

from datetime import timedelta

from rich.console import Console

from domain.service import RegioTwin
from projections import cli
from projections.host import ProjectionHost
from projections.outbox import open_outbox
from projections.outbox_projection import OutboxProjection
from settings import Settings
from tests import builders
from tests.notifications.support import START

STALE = timedelta(seconds=90)


def test_health_shows_the_outbox(tmp_path, clock) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path / "data")
    console = Console(record=True, width=250, color_system=None)
    service = RegioTwin.from_env(settings.event_store_env, clock)
    pair = builders.muenchen_and_steinfurt(service)
    builders.member(service, "09184", "coordinator", "Karl Koch")

    cli.health(settings, console)
    assert "Notification outbox: not created yet" in console.export_text()

    store = open_outbox(settings.event_store_env, settings.data_dir)
    store.initialise("RegioTwin", 0)
    try:
        with ProjectionHost(
            settings.event_store_env, settings.read_model_path, followers=[OutboxProjection(store)]
        ) as host:
            builders.advice(service, pair)
            assert host.wait_until_current(10)
            assert host.positions()["outbox"] == host.head()
        first = store.claim("test", START, stale_after=STALE)
        assert first is not None
        store.fail(first.id, START, "400 Bad Request: can't parse entities")
        second = store.claim("test", START, stale_after=STALE)
        assert second is not None
        store.mark_unreachable(second.chat_id, second.id, START, "403 Forbidden")
    finally:
        store.close()
        service.close()

    cli.health(settings, console)
    output = console.export_text()
    assert "Notification outbox: log head" in output
    assert "failed permanently" in output
    assert "unreachable chats" in output
    assert "can't parse entities" in output
    row = [
        line
        for line in output.splitlines()
        if line.strip().startswith("│ ") and "advice" not in line
    ]
    assert any(" 1 " in line for line in row)
