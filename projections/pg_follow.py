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

from collections.abc import Sequence

from eventsourcing.persistence import ApplicationRecorder, Subscription
from eventsourcing.postgres import PostgresSubscription

from domain.chained_postgres import ChainedPostgresApplicationRecorder
from projections.log import WakingSubscription

LOOK_INTERVAL = 0.5
"""Seconds between looks at the log when no notification came (notifications are faster)."""


class LookingPostgresSubscription(WakingSubscription, PostgresSubscription):
    INTERVAL = LOOK_INTERVAL


class FollowingPostgresApplicationRecorder(ChainedPostgresApplicationRecorder):
    """The store's own recorder, with a subscription that never waits for good."""

    def subscribe(
        self, gt: int | None = None, topics: Sequence[str] = ()
    ) -> Subscription[ApplicationRecorder]:
        return LookingPostgresSubscription(self, gt=gt, topics=topics)
