"""Reading the event store's notification log, once (catch-up) or continuously (follow).

PostgreSQL announces new events (LISTEN/NOTIFY, eventsourcing's ``PostgresSubscription``).
SQLite cannot, and eventsourcing's SQLite recorder has no subscriptions; so the
followers' application uses a recorder whose subscription is eventsourcing's own
``ListenNotifySubscription`` woken by a timer instead of a database notification.
Only the projections' reading applications use it; the domain's application is untouched.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eventsourcing.persistence import (
    ApplicationRecorder,
    ListenNotifySubscription,
    Notification,
    Subscription,
    Tracking,
)
from eventsourcing.utils import get_topic

from domain.application import RegioTwinApplication
from domain.chained_sqlite import ChainedSQLiteApplicationRecorder

POLL_INTERVAL = 0.02
"""Seconds between looks at an SQLite log: new events reach the read models in ~20 ms."""


class WakingSubscription:
    """Mixin for eventsourcing's listen/notify subscriptions: also wake the puller every
    ``INTERVAL`` seconds, whether or not a notification came."""

    INTERVAL = POLL_INTERVAL
    _has_been_notified: threading.Event

    def __init__(
        self,
        recorder: Any,
        gt: int | None = None,
        topics: Sequence[str] = (),
        interval: float | None = None,
    ) -> None:
        self._interval = self.INTERVAL if interval is None else interval
        self._stopping = threading.Event()
        super().__init__(recorder=recorder, gt=gt, topics=topics)  # type: ignore[call-arg]
        self._wake_thread = threading.Thread(target=self._wake, name="log-wake", daemon=True)
        self._wake_thread.start()

    def _wake(self) -> None:
        while not self._stopping.wait(self._interval):
            self._has_been_notified.set()

    def stop(self) -> None:
        self._stopping.set()
        super().stop()  # type: ignore[misc]

    def __exit__(self, *args: object, **kwargs: Any) -> None:
        try:
            super().__exit__(*args, **kwargs)  # type: ignore[misc]
        finally:
            self._wake_thread.join()


class PollingSubscription(WakingSubscription, ListenNotifySubscription[ApplicationRecorder]):
    """SQLite cannot notify: the timer is the only wake-up."""


class PollingSQLiteApplicationRecorder(ChainedSQLiteApplicationRecorder):
    """The store's own recorder, plus a subscription that polls (SQLite cannot notify)."""

    def subscribe(
        self, gt: int | None = None, topics: Sequence[str] = ()
    ) -> Subscription[ApplicationRecorder]:
        return PollingSubscription(self, gt=gt, topics=topics)


POSTGRES_FOLLOWER = "projections.pg_follow:FollowingPostgresApplicationRecorder"
"""By topic: :mod:`projections.pg_follow` needs the ``postgres`` extra."""


def follower_env(event_store_env: dict[str, str]) -> dict[str, str]:
    """The environment of an application that reads (and follows) the log."""
    env = dict(event_store_env)
    module = env.get("PERSISTENCE_MODULE", "")
    if module.endswith("sqlite"):
        env["APPLICATION_RECORDER_TOPIC"] = get_topic(PollingSQLiteApplicationRecorder)
    elif module.endswith("postgres"):
        # A subscription that also looks for itself (a missed NOTIFY must not stall it).
        env["APPLICATION_RECORDER_TOPIC"] = POSTGRES_FOLLOWER
        # One connection listens, one reads: a follower needs no more. (Set, not defaulted:
        # the store's env has the service's pool size, and with it seven followers held
        # ~56 connections per bot; two bots filled PostgreSQL's default 100.)
        env["POSTGRES_POOL_SIZE"] = "1"
        env["POSTGRES_MAX_OVERFLOW"] = "2"
    return env


def open_log(event_store_env: dict[str, str]) -> RegioTwinApplication:
    return RegioTwinApplication(env=follower_env(event_store_env))


def head(log: RegioTwinApplication) -> int:
    """The id of the newest notification in the log (0 when empty)."""
    return log.recorder.max_notification_id() or 0


@dataclass(frozen=True)
class Entry:
    """A notification read back as its domain event (or the error that prevented it)."""

    tracking: Tracking
    notification: Notification
    event: Any | None
    error: Exception | None


def read(log: RegioTwinApplication, after: int | None, limit: int, until: int) -> list[Entry]:
    notifications = log.recorder.select_notifications(
        start=after or 0, limit=limit, stop=until, inclusive_of_start=False
    )
    entries = []
    for notification in notifications:
        tracking = Tracking(log.name, notification.id)
        try:
            event = log.mapper.to_domain_event(notification)
        except Exception as error:
            entries.append(Entry(tracking, notification, None, error))
        else:
            entries.append(Entry(tracking, notification, event, None))
    return entries


def next_after(log: RegioTwinApplication, position: int | None) -> Notification | None:
    found = log.recorder.select_notifications(
        start=position or 0, limit=1, inclusive_of_start=False
    )
    return found[0] if found else None
