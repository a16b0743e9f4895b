"""Catching read models up with the log in batches: rebuilds and the start of the bot.

Each batch is one transaction per projection, with the position after its last event;
a projection that fails stops right before the failing event (its earlier events are
kept) and the others go on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from domain.application import RegioTwinApplication
from projections import log as event_log
from projections.read_model import ProjectionFailed, ReadModelProjection

BATCH_SIZE = 500


def catch_up(
    log: RegioTwinApplication,
    projections: Sequence[ReadModelProjection],
    *,
    until: int | None = None,
    batch_size: int = BATCH_SIZE,
    on_progress: Callable[[int, int], None] | None = None,
    on_failure: Callable[[ProjectionFailed], None] | None = None,
) -> list[ProjectionFailed]:
    """Apply the log up to ``until`` (default: its head now). Returns the failures.

    ``on_progress(events_read, position)`` is called after every batch.
    """
    until = event_log.head(log) if until is None else until
    active = list(projections)
    failed: list[ProjectionFailed] = []

    def stop(projection: ReadModelProjection, failure: ProjectionFailed) -> None:
        active.remove(projection)
        failed.append(failure)
        if on_failure is not None:
            on_failure(failure)

    after = min((projection.position or 0 for projection in active), default=until)
    while active and after < until:
        entries = event_log.read(log, after, batch_size, until)
        if not entries:
            break
        readable = []
        for entry in entries:
            if entry.error is not None:
                break
            readable.append((entry.event, entry.tracking))
        for projection in list(active):
            start = projection.position or 0
            try:
                projection.process_batch(
                    [item for item in readable if item[1].notification_id > start]
                )
            except ProjectionFailed as failure:
                stop(projection, failure)
        if len(readable) < len(entries):
            unreadable = entries[len(readable)]
            assert unreadable.error is not None
            for projection in list(active):
                stop(
                    projection,
                    ProjectionFailed.at_notification(
                        projection.name, unreadable.notification, unreadable.error
                    ),
                )
            break
        after = entries[-1].tracking.notification_id
        if on_progress is not None:
            on_progress(len(entries), after)
    return failed
