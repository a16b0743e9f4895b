"""Where a stopped projection is noted for health and logs (operational, not a read model)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from projections.read_model import ProjectionFailed
from projections.store import ReadModelStore

log = logging.getLogger("regiotwin.projections")


@dataclass(frozen=True)
class Failure:
    projection: str
    notification_id: int | None
    event_type: str | None
    originator_id: str | None
    originator_version: int | None
    error: str
    first_failed_at: str
    last_failed_at: str
    attempts: int


def record_failure(store: ReadModelStore, failure: ProjectionFailed) -> None:
    """Log the failure with its event and keep it for health until the projection passes it."""
    log.error("%s", failure, exc_info=failure.cause)
    now = datetime.now(tz=UTC).isoformat(timespec="seconds")
    with store.transaction() as cursor:
        cursor.execute(
            "INSERT INTO projection_failures VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1) "
            "ON CONFLICT (projection) DO UPDATE SET notification_id = excluded.notification_id,"
            " event_type = excluded.event_type, originator_id = excluded.originator_id,"
            " originator_version = excluded.originator_version, error = excluded.error,"
            " last_failed_at = excluded.last_failed_at, attempts = attempts + 1",
            (
                failure.projection,
                failure.notification_id,
                failure.event_type,
                failure.originator_id,
                failure.originator_version,
                f"{type(failure.cause).__name__}: {failure.cause}",
                now,
                now,
            ),
        )


def clear_failure(store: ReadModelStore, projection: str) -> None:
    with store.transaction() as cursor:
        cursor.execute("DELETE FROM projection_failures WHERE projection = ?", (projection,))
    log.info("%s resumed past its failure", projection)


def failures(store: ReadModelStore) -> dict[str, Failure]:
    rows = store.read("SELECT * FROM projection_failures ORDER BY projection")
    return {row["projection"]: Failure(**dict(row)) for row in rows}
