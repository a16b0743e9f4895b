"""Following a PostgreSQL log without ever waiting for a notification that was missed.

eventsourcing's ``PostgresSubscription`` pulls the events already recorded, then waits
for ``NOTIFY``. Its ``LISTEN`` runs in another thread and may start only after that first
pull: an event committed in between announces itself to nobody, and the follower waits
for the next event to see it (eventsourcing issue #305; the same after a reconnect, or a
server restart, while nobody listens). Here the subscription also looks for itself every
``LOOK_INTERVAL`` seconds, as the SQLite followers do (:mod:`projections.log`), so a missed
notification delays an event by at most that long. Needs the ``postgres`` extra.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import ApplicationRecorder, Subscription
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresSubscription

from domain.chained_postgres import ChainedPostgresApplicationRecorder

LOOK_INTERVAL = 0.5
"""Seconds between looks at the log when no notification came (notifications are faster)."""


class LookingPostgresSubscription(PostgresSubscription):
    def __init__(
        self,
        recorder: PostgresApplicationRecorder,
        gt: int | None = None,
        topics: Sequence[str] = (),
        interval: float = LOOK_INTERVAL,
    ) -> None:
        self._interval = interval
        self._stopping = threading.Event()
        super().__init__(recorder=recorder, gt=gt, topics=topics)
        self._look_thread = threading.Thread(target=self._look, name="log-look", daemon=True)
        self._look_thread.start()

    def _look(self) -> None:
        while not self._stopping.wait(self._interval):
            self._has_been_notified.set()

    def stop(self) -> None:
        self._stopping.set()
        super().stop()

    def __exit__(self, *args: object, **kwargs: Any) -> None:
        try:
            super().__exit__(*args, **kwargs)
        finally:
            self._look_thread.join()


class FollowingPostgresApplicationRecorder(ChainedPostgresApplicationRecorder):
    """The store's own recorder, with a subscription that never waits for good."""

    def subscribe(
        self, gt: int | None = None, topics: Sequence[str] = ()
    ) -> Subscription[ApplicationRecorder]:
        return LookingPostgresSubscription(self, gt=gt, topics=topics)
