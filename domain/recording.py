"""What every event records besides its business data: who, when and why.

The service layer opens a :func:`recording` context for each command; aggregates
created or changed inside it stamp its actor, recording time and idempotency key
onto every event they trigger. Outside such a context no event can be triggered,
so no event ever lacks its actor.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from eventsourcing.domain import Aggregate

SYSTEM_PREFIX = "system:"


@dataclass(frozen=True)
class Recording:
    actor: str
    """A member's id (hex), or ``system:<job>`` for the seed, the CLI and the bootstrap."""
    command_id: str
    recorded_at: datetime


_current: ContextVar[Recording | None] = ContextVar("regiotwin_recording", default=None)


@contextmanager
def recording(context: Recording) -> Iterator[Recording]:
    token = _current.set(context)
    try:
        yield context
    finally:
        _current.reset(token)


def _stamp(kwargs: dict[str, Any]) -> dict[str, Any]:
    context = _current.get()
    if context is None:
        raise RuntimeError("events can only be triggered by a command of the service layer")
    kwargs.update(actor=context.actor, command_id=context.command_id, timestamp=context.recorded_at)
    return kwargs


class DomainAggregate(Aggregate):
    """Base of RegioTwin's aggregates: every event carries actor and command id."""

    class Event(Aggregate.Event):
        actor: str
        command_id: str

    class Created(Event, Aggregate.Created):
        """The first event of an aggregate, with actor and command id like every other."""

    @classmethod
    def _create(cls, event_class: Any, **kwargs: Any) -> Any:
        return super()._create(event_class, **_stamp(kwargs))

    def trigger_event(self, event_class: Any, **kwargs: Any) -> None:
        super().trigger_event(event_class, **_stamp(kwargs))


def recorded_now() -> datetime:
    """The recording time of the command being handled (from the injectable clock)."""
    context = _current.get()
    if context is None:
        raise RuntimeError("no command is being handled")
    return context.recorded_at


@contextmanager
def acting_as(actor: str) -> Iterator[None]:
    """Record a part of a command as done by someone else (a member joining by invite)."""
    context = _current.get()
    if context is None:
        raise RuntimeError("no command is being handled")
    with recording(Recording(actor, context.command_id, context.recorded_at)):
        yield
