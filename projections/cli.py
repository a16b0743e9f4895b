"""What ``python run_bot.py rebuild`` and ``python run_bot.py health`` call."""

from __future__ import annotations

import time

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from domain.application import RegioTwinApplication
from projections import log as event_log
from projections.catch_up import catch_up
from projections.failures import failures, record_failure
from projections.health import projection_health
from projections.registry import read_models
from projections.store import ReadModelStore
from settings import Settings


class EventsPerSecond(ProgressColumn):
    def render(self, task: Task) -> Text:
        events = task.fields.get("events", 0)
        elapsed = task.elapsed or 0.0
        rate = events / elapsed if elapsed > 0 else 0.0
        return Text(f"{events} events, {rate:,.0f} events/s", style="progress.data.speed")


def rebuild(settings: Settings, console: Console) -> None:
    """Delete every read model and apply the whole log again, with a progress bar.

    Stop the bot first: it would otherwise compete for the same positions (safely —
    tracked positions move by compare-and-set — but for nothing).
    Exits with status 1 if a projection stopped at an event it cannot apply.
    """
    log = event_log.open_log(settings.event_store_env)
    try:
        with ReadModelStore(settings.read_model_path) as store:
            projections = read_models(store)
            for projection in projections:
                projection.reset()
            head = event_log.head(log)
            events = 0
            started = time.perf_counter()
            with Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                TextColumn("{task.completed}/{task.total}"),
                EventsPerSecond(),
                TimeElapsedColumn(),
                console=console,
            ) as progress:
                task = progress.add_task("Rebuilding read models", total=head, events=0)

                def advanced(read: int, position: int) -> None:
                    nonlocal events
                    events += read
                    progress.update(task, completed=position, events=events)

                failed = catch_up(
                    log,
                    projections,
                    until=head,
                    on_progress=advanced,
                    on_failure=lambda failure: record_failure(store, failure),
                )
                progress.update(task, completed=head)
            elapsed = time.perf_counter() - started
            rate = events / elapsed if elapsed > 0 else 0.0
            console.print(
                f"Rebuilt {len(projections)} read models from {events} events "
                f"in {elapsed:.1f} s ({rate:,.0f} events/s) into {settings.read_model_path}"
            )
            for failure in failed:
                console.print(f"[red]{failure}[/red]", markup=True, highlight=False)
    finally:
        log.close()
    if failed:
        raise SystemExit(1)


def health(settings: Settings, console: Console) -> None:
    """Each read model's position against the head of the log, and any failure."""
    log = event_log.open_log(settings.event_store_env)
    try:
        head = event_log.head(log)
    finally:
        log.close()
    with ReadModelStore(settings.read_model_path) as store:
        report = projection_health(store, head)
        outbox_failure = failures(store).get("outbox")
    table = Table(title=f"Read models: log head {head}", caption=str(settings.read_model_path))
    for column in ("projection", "position", "behind", "state", "failing event", "error"):
        table.add_column(column)
    for item in report:
        failure = item.failure
        table.add_row(
            item.name,
            "–" if item.position is None else str(item.position),
            str(item.lag),
            Text(item.state, style={"current": "green", "behind": "yellow"}.get(item.state, "red")),
            ""
            if failure is None
            else f"#{failure.notification_id} {failure.event_type} v{failure.originator_version}",
            "" if failure is None else f"{failure.error} ({failure.attempts}×)",
        )
    console.print(table)
    outbox_health(settings, console, head)
    if outbox_failure is not None:
        failure = outbox_failure
        console.print(
            f"[red]the outbox projection stopped at #{failure.notification_id} "
            f"{failure.event_type}: {failure.error} ({failure.attempts}×)[/red]",
            highlight=False,
        )


def outbox_health(settings: Settings, console: Console, head: int) -> None:
    """The notification outbox: its position, what waits, what failed for good."""
    from projections.outbox import open_outbox

    env = settings.event_store_env
    postgres = env.get("PERSISTENCE_MODULE", "").endswith("postgres")
    if not postgres and not (settings.data_dir / "outbox.sqlite").exists():
        console.print("Notification outbox: not created yet (the bot creates it).")
        return
    store = open_outbox(env, settings.data_dir)
    try:
        stats = store.stats(RegioTwinApplication.name)
        where = store.db.description
    finally:
        store.close()
    position = stats.position or 0
    failed = stats.count("failed")
    table = Table(title=f"Notification outbox: log head {head}", caption=where)
    table.add_column("outbox")
    table.add_column("", justify="right")
    for label, value in (
        ("position", Text(str(position))),
        ("behind", Text(str(max(0, head - position)))),
        ("pending", Text(str(stats.count("pending")))),
        ("sending", Text(str(stats.count("sending")))),
        ("sent", Text(str(stats.count("sent")))),
        ("kept for digests", Text(str(stats.count("digest")))),
        ("failed permanently", Text(str(failed), style="red" if failed else "green")),
        (
            "unreachable chats",
            Text(str(stats.unreachable_chats), style="yellow" if stats.unreachable_chats else ""),
        ),
        ("oldest pending", Text(stats.oldest_pending_at or "–")),
    ):
        table.add_row(label, value)
    console.print(table)
    for failure in stats.failures:
        console.print(
            f"[red]failed #{failure['id']}[/red] to chat {failure['chat_id']} "
            f"({failure['template']}, {failure['attempts']} tries): {failure['last_error']}",
            highlight=False,
        )
