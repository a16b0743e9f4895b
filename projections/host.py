"""Keeps the projections following the log inside the bot process.

On start: rebuild read models whose schema changed, catch up in batches, then follow
the log with one eventsourcing ``ProjectionRunner`` per projection (each in its own
threads, with its own subscription and its own tracked position). A runner that stops
on an error is noted (log + ``projection_failures``) and started again after a pause,
from its tracked position: the same event is tried again until it passes. The others
go on meanwhile.

Any eventsourcing ``Projection`` with its own tracking recorder can be followed here too
(``followers=``), e.g. a notification outbox that tracks its position in PostgreSQL.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from eventsourcing.persistence import TrackingRecorder
from eventsourcing.projection import BaseProjectionRunner, Projection

from domain.application import RegioTwinApplication
from projections import log as event_log
from projections.catch_up import catch_up
from projections.failures import clear_failure, record_failure
from projections.read_model import ProjectionFailed, ReadModelProjection
from projections.registry import READ_MODELS
from projections.store import ReadModelStore

if TYPE_CHECKING:
    from settings import Settings

logger = logging.getLogger("regiotwin.projections")

RETRY_DELAYS = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0)
"""Seconds before a stopped projection tries its failing event again (the last repeats)."""


@dataclass
class _Followed:
    projection: Projection[Any]
    runner: BaseProjectionRunner[RegioTwinApplication] | None = None
    retry_at: float | None = None
    retries: int = 0
    failed_at: int | None = None

    @property
    def name(self) -> str:
        return self.projection.name

    @property
    def view(self) -> TrackingRecorder:
        return self.projection.view  # type: ignore[no-any-return]


class ProjectionHost:
    def __init__(
        self,
        event_store_env: dict[str, str],
        read_model_path: Path | str,
        *,
        read_models: Sequence[type[ReadModelProjection]] = READ_MODELS,
        followers: Sequence[Projection[Any]] = (),
        retry_delays: Sequence[float] = RETRY_DELAYS,
        check_interval: float = 0.05,
    ) -> None:
        self.event_store_env = dict(event_store_env)
        self.read_model_path = Path(read_model_path)
        self._read_model_classes = tuple(read_models)
        self._extra_followers = tuple(followers)
        self._retry_delays = tuple(retry_delays)
        self._check_interval = check_interval
        self._stopping = threading.Event()
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._followed: list[_Followed] = []

    @classmethod
    def from_settings(cls, settings: Settings, **options: Any) -> ProjectionHost:
        return cls(settings.event_store_env, settings.read_model_path, **options)

    # --- life cycle ----------------------------------------------------------------

    def start(self) -> None:
        """Prepare the read models and start following in the background."""
        self.store = ReadModelStore(self.read_model_path)
        self.log = event_log.open_log(self.event_store_env)
        self.read_models = [cls.attach(self.store) for cls in self._read_model_classes]
        for projection in self.read_models:
            if projection.ensure_schema():
                logger.info("read model %s (re)built from zero: new schema", projection.name)
        projections: list[Projection[Any]] = [*self.read_models, *self._extra_followers]
        self._followed = [_Followed(projection) for projection in projections]
        self._thread = threading.Thread(target=self._supervise, name="projections", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop following and wait for the runners to finish (blocks; idempotent)."""
        self._stopping.set()
        if self._thread is None:
            return
        self._thread.join()
        self._thread = None
        self.log.close()
        self.store.close()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # --- what the bot and the tests ask ------------------------------------------

    def head(self) -> int:
        return event_log.head(self.log)

    def positions(self) -> dict[str, int | None]:
        app_name = self.log.name
        return {f.name: f.view.max_tracking_id(app_name) for f in self._followed}

    def _positions_readable_now(self) -> dict[str, int | None]:
        """Like :meth:`positions`, without those that cannot be read just now (a follower
        that tracks its position in a PostgreSQL server that is restarting): its runner
        meets the same fault, stops and is noted as failed; nobody should wait for it."""
        app_name = self.log.name
        positions: dict[str, int | None] = {}
        for followed in self._followed:
            try:
                positions[followed.name] = followed.view.max_tracking_id(app_name)
            except Exception:
                logger.debug("the position of %s cannot be read now", followed.name)
        return positions

    def wait_until_current(self, timeout: float = 5.0, *, poll: float = 0.005) -> bool:
        """Wait until every projection that is not stopped has reached the log's head."""
        return self.wait_until(self.head(), timeout, poll=poll)

    def wait_until(self, target: int, timeout: float = 5.0, *, poll: float = 0.005) -> bool:
        """Wait until every projection that is not stopped has applied ``target``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._ready.is_set():
                failed = {f.name for f in self._followed if f.failed_at is not None}
                positions = self._positions_readable_now()
                if all(
                    (positions[name] or 0) >= target for name in positions if name not in failed
                ):
                    return True
            time.sleep(poll)
        return False

    # --- supervision (in the host's thread) ------------------------------------------

    def _supervise(self) -> None:
        try:
            by_name = {f.name: f for f in self._followed}
            try:
                catch_up(
                    self.log,
                    self.read_models,
                    on_failure=lambda f: self._stopped(by_name[f.projection], f),
                )
            except Exception:  # the runners catch up one event at a time instead
                logger.exception("catching up in batches failed")
            for followed in self._followed:
                if followed.failed_at is None:
                    self._follow(followed)
            self._ready.set()
            while not self._stopping.wait(self._check_interval):
                for followed in self._followed:
                    try:
                        self._check(followed)
                    except Exception:  # e.g. the event store is unreachable: try again later
                        logger.exception("supervising %s failed", followed.name)
        finally:
            for followed in self._followed:
                self._close_runner(followed)

    def _follow(self, followed: _Followed) -> None:
        try:
            self._start_runner(followed)
        except Exception:  # e.g. two processes creating a tracking table at once
            logger.exception("could not start following %s", followed.name)
            self._retry_later(followed)

    def _start_runner(self, followed: _Followed) -> None:
        if isinstance(followed.projection, ReadModelProjection):
            followed.projection.sync_position()
        runner: BaseProjectionRunner[RegioTwinApplication] = BaseProjectionRunner(
            projection=followed.projection,
            application_class=RegioTwinApplication,
            tracking_recorder=followed.view,
            topics=(),
            env=event_log.follower_env(self.event_store_env),
        )
        runner.__enter__()
        followed.runner = runner
        followed.retry_at = None
        if followed.failed_at is None:
            followed.retries = 0

    def _check(self, followed: _Followed) -> None:
        runner = followed.runner
        if runner is not None and runner.is_interrupted.is_set():
            error: BaseException = RuntimeError("the runner stopped")
            try:
                runner.run_forever(timeout=0)
            except BaseException as raised:
                error = raised
            self._close_runner(followed)
            self._stopped(followed, self._as_failure(followed, error))
        elif (
            runner is None
            and followed.retry_at is not None
            and time.monotonic() >= followed.retry_at
        ):
            self._follow(followed)
        if followed.failed_at is not None:
            position = followed.view.max_tracking_id(self.log.name) or 0
            if position >= followed.failed_at:
                clear_failure(self.store, followed.name)
                followed.failed_at = None
                followed.retries = 0

    def _as_failure(self, followed: _Followed, error: BaseException) -> ProjectionFailed:
        if isinstance(error, ProjectionFailed):
            return error
        try:
            position = followed.view.max_tracking_id(self.log.name)
            notification = event_log.next_after(self.log, position)
        except Exception:  # the store that stopped the runner is down: no details then
            return ProjectionFailed(
                followed.name,
                followed.failed_at or 0,
                error,
                event_type=None,
                originator_id=None,
                originator_version=None,
            )
        if notification is None:
            return ProjectionFailed(
                followed.name,
                (position or 0) + 1,
                error,
                event_type=None,
                originator_id=None,
                originator_version=None,
            )
        return ProjectionFailed.at_notification(followed.name, notification, error)

    def _stopped(self, followed: _Followed, failure: ProjectionFailed) -> None:
        # Schedule the retry first: noting the failure writes to the read-model file, and
        # the fault that stopped the runner (a full disk) may well stop that write too.
        self._retry_later(followed)
        try:
            record_failure(self.store, failure)
        except Exception:
            logger.exception("could not note that %s stopped", followed.name)
        # Last: from now on nobody waits for it (wait_until), and health shows why.
        followed.failed_at = failure.notification_id

    def _retry_later(self, followed: _Followed) -> None:
        """The next of the growing delays (1 s, 2 s, … 60 s) until it works again."""
        delay = self._retry_delays[min(followed.retries, len(self._retry_delays) - 1)]
        followed.retries += 1
        followed.retry_at = time.monotonic() + delay

    def _close_runner(self, followed: _Followed) -> None:
        runner, followed.runner = followed.runner, None
        if runner is None:
            return
        try:
            runner.__exit__(None, None, None)
        except BaseException as error:  # the error was already taken and noted
            logger.debug("runner of %s closed after: %s", followed.name, error)
