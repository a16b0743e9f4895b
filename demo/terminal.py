"""The demo in the terminal: seed a store and show RegioTwin at work."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from bot.notification_demo import play_notifications
from demo.conversation import play_conversation
from demo.seed import seed_demo
from domain.application import sqlite_env
from domain.clock import ManualClock
from domain.service import RegioTwin
from settings import Settings

SEED_START = datetime(2014, 12, 1, 9, 0, tzinfo=UTC)


def open_seeding_service(env: dict[str, str]) -> tuple[RegioTwin, ManualClock]:
    clock = ManualClock(SEED_START)
    return RegioTwin.from_env(env, clock), clock


def seed_configured_store(settings: Settings, console: Console) -> None:
    service, clock = open_seeding_service(settings.event_store_env)
    try:
        started = time.perf_counter()
        report = seed_demo(service, clock)
        elapsed = time.perf_counter() - started
        console.print(
            f"seed-demo: {report.commands_handled} commands recorded, "
            f"{report.commands_replayed} already present ({elapsed:.2f} s); "
            f"log head at position {service.app.recorder.max_notification_id()}."
        )
    finally:
        service.close()


DEMO_OUTPUT = Path("demo-output")
"""Where the demo leaves its verified export and its report (relative to the working folder)."""


def play_demo(folder: Path, console: Console, results: Path | None = None) -> None:
    """Seed a fresh store in ``folder`` and show it; the export and the report go to
    ``results`` (default ``./demo-output``), which outlives a temporary ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    env = sqlite_env(str(folder / "events.sqlite"))
    service, clock = open_seeding_service(env)
    try:
        console.print(
            Panel.fit(
                "[bold]RegioTwin[/] – Klimaschutz-Twinnings zwischen Regionen\n"
                "Kreis Steinfurt (lehrend) und Landkreis München (lernend), "
                "Auftakt in Kassel im Juni 2016.\n"
                "[dim]Programme, regions, keys and pairs are facts; the history is "
                "illustrative.[/]",
                title="Demo",
            )
        )
        started = time.perf_counter()
        report = seed_demo(service, clock)
        elapsed = time.perf_counter() - started
        head = service.app.recorder.max_notification_id() or 0
        console.print(
            f"Seeded a fresh event store in {folder}: {report.commands_handled} commands, "
            f"{head} events, {elapsed:.2f} s."
        )
        _show_log(service, console, last=8)
        _show_idempotency(service, clock, console, head)
        asyncio.run(play_conversation(folder, service, clock, report, console))
        play_notifications(folder, service, clock, console)
        _show_audit(service, clock, console, results or DEMO_OUTPUT)
    finally:
        service.close()


def _show_log(service: RegioTwin, console: Console, last: int) -> None:
    names = _member_names(service)
    head = service.app.recorder.max_notification_id() or 0
    table = Table(title=f"The event log (last {last} of {head}): who did what, and when")
    table.add_column("#", justify="right")
    table.add_column("recorded (UTC)")
    table.add_column("event")
    table.add_column("by")
    start = max(1, head - last + 1)
    for notification in service.app.recorder.select_notifications(start, last):
        event = service.app.mapper.to_domain_event(notification)
        table.add_row(
            str(notification.id),
            event.timestamp.strftime("%d.%m.%Y %H:%M"),
            type(event).__qualname__,
            names.get(event.actor, event.actor),
        )
    console.print(table)


def _member_names(service: RegioTwin) -> dict[str, str]:
    names: dict[str, str] = {}
    head = service.app.recorder.max_notification_id() or 0
    for notification in service.app.recorder.select_notifications(
        1, head, topics=["domain.member:Member.Joined"]
    ):
        event = service.app.mapper.to_domain_event(notification)
        names[event.originator_id.hex] = event.personal.name or event.originator_id.hex[:8]
    return names


def _show_idempotency(service: RegioTwin, clock: ManualClock, console: Console, head: int) -> None:
    report = seed_demo(service, clock)
    again = service.app.recorder.max_notification_id() or 0
    console.print(
        f"Seeding again replays {report.commands_replayed} commands and records "
        f"{again - head} new events: every command carries an idempotency key."
    )


def _show_audit(service: RegioTwin, clock: ManualClock, console: Console, results: Path) -> None:
    """End with what an auditor gets: a checkpoint, a verified export and a report."""
    from audit.checkpoint import record_checkpoint
    from audit.export import export
    from audit.report import publish_reports
    from audit.verify import verify_file
    from bot.acting import today as today_of

    checkpoint = record_checkpoint(service)
    today = today_of(clock)
    exported = export(service.app, results / "export", today, exported_at=clock.now())
    verdict = verify_file(exported.log_file)
    [report, *_others] = publish_reports(service, results / "reports", as_of=today)
    console.print(
        f"Checkpoint of the hash chain at position {checkpoint.position}. "
        f"Export verified: {verdict.checked} events, head {verdict.head[:16]}… "
        f"({'intact' if verdict.intact else 'BROKEN'}); check it on your own with\n"
        f"  python3 {exported.folder / 'verify_export.py'} {exported.log_file}\n"
        f"Report for the programme's website (open it in a browser):\n"
        f"  {report.path.resolve().as_uri()}"
    )
