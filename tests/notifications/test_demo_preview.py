"""The terminal demo shows a notification and a reminder arriving at the partner."""

from __future__ import annotations

from rich.console import Console

from bot.notification_demo import play_notifications
from demo.seed import seed_demo
from demo.terminal import open_seeding_service
from domain.application import sqlite_env


def test_the_demo_shows_a_notification_and_a_reminder_at_the_partner(tmp_path) -> None:
    service, clock = open_seeding_service(sqlite_env(str(tmp_path / "events.sqlite")))
    try:
        seed_demo(service, clock)
        console = Console(record=True, width=140, color_system=None)
        shown = play_notifications(tmp_path, service, clock, console)
    finally:
        service.close()
    advice = [m for m in shown if "hat Ihrer Region einen Rat zu Radverkehr gegeben" in m.text]
    reminders = [m for m in shown if m.text.startswith("<b>⏰ Erinnerung")]
    assert {m.name for m in advice} == {
        "Demo: Anna Huber (LK München)",
        "Demo: Lukas Maier (LK München)",
    }
    assert advice[0].buttons == ("Zum Twinning",)
    assert any("unbeantwortet" in m.text for m in reminders)
    output = console.export_text()
    assert "Telegram → Demo: Anna Huber (LK München)" in output
    assert "Erinnerung" in output
