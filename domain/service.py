"""The service layer: RegioTwin's use cases, the only way in for bot, CLI and tests.

Every command goes through :meth:`RegioTwin.handle`, which

* resolves and checks the acting member,
* opens a recording context (actor, recording time from the clock, command id),
* runs the command's handler in a unit of work,
* saves all touched aggregates together with a :class:`CommandReceipt` in one
  transaction, so a redelivered command id returns the first outcome and records
  nothing twice, also after a restart;
* turns a store that fails (locked by another writer, disk full, read-only, server
  down) into :class:`StoreUnavailable`: the transaction was rolled back, nothing was
  recorded, and the same command may be tried again once the store is back.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple, TypeVar
from uuid import UUID, uuid4

from eventsourcing.persistence import (
    DataError,
    IntegrityError,
    NotSupportedError,
    PersistenceError,
    ProgrammingError,
)

from domain import ids
from domain.access import Actor
from domain.application import RegioTwinApplication
from domain.chain import Verdict, verify
from domain.clock import Clock, SystemClock
from domain.commands import Command
from domain.errors import CommandIdReused, DomainError, NotAllowed, StoreUnavailable
from domain.member import Member, TelegramAccount
from domain.personal_data import keyed_digest, telegram_account_id
from domain.receipt import CommandReceipt
from domain.recording import SYSTEM_PREFIX, DomainAggregate, Recording, recording
from domain.unit_of_work import UnitOfWork
from domain.values import Language, Role

SAVE_ATTEMPTS = 3

log = logging.getLogger("regiotwin.domain")

NOT_A_STORE_FAULT = (IntegrityError, ProgrammingError, DataError, NotSupportedError)
"""Persistence errors that are no outage: a conflict (retried in ``handle``), or a bug."""


@contextmanager
def store_faults() -> Iterator[None]:
    """Reading or writing the event store failed for reasons of the store itself (its
    lock, its disk, its permissions, its server): raise :class:`StoreUnavailable`.

    eventsourcing rolls the transaction back and wraps the driver's error in its own
    ``OperationalError``, ``InterfaceError`` … (PostgreSQL calls are retried by it first);
    opening a new SQLite connection can raise ``sqlite3.OperationalError`` unwrapped.
    """
    try:
        yield
    except NOT_A_STORE_FAULT:
        raise
    except (PersistenceError, sqlite3.OperationalError) as error:
        log.warning("the event store failed: %s: %s", type(error).__name__, error)
        raise StoreUnavailable() from error


class BatchRefused(DomainError):
    """A command of a batch was refused, so the whole batch was: nothing was recorded.

    ``index`` and ``command_id`` name the failing command, ``error`` is its own refusal
    (also the ``__cause__``).
    """

    code = "batch.refused"

    def __init__(self, index: int, command_id: str, error: DomainError) -> None:
        self.index = index
        self.command_id = command_id
        self.error = error
        super().__init__(index=index, command_id=command_id, cause=error.code)


@dataclass(frozen=True)
class Outcome:
    """What a command did: the main aggregate, its new version, and details to show.

    ``secret`` holds what is shown once and never stored (an invite code).
    """

    aggregate_id: UUID
    version: int
    details: dict[str, str] = field(default_factory=dict)
    secret: str | None = None
    replayed: bool = False
    position: int | None = None
    """Where the command's last event landed in the log (None when replayed)."""

    @classmethod
    def of(cls, aggregate: Any, **details: str) -> Outcome:
        return cls(aggregate_id=aggregate.id, version=aggregate.version, details=details)

    def for_receipt(self) -> dict[str, Any]:
        return {
            "aggregate_id": self.aggregate_id.hex,
            "version": self.version,
            "details": dict(self.details),
        }

    @classmethod
    def from_receipt(cls, stored: dict[str, Any]) -> Outcome:
        return cls(
            aggregate_id=UUID(stored["aggregate_id"]),
            version=int(stored["version"]),
            details=dict(stored["details"]),
            replayed=True,
        )


@dataclass(frozen=True)
class MemberProfile:
    member_id: UUID
    role: Role
    region_id: UUID | None  # None: the programme office
    language: Language | None
    name: str


C = TypeVar("C", bound=Command)
Handler = Callable[[Any, UnitOfWork, Actor], Outcome]
HANDLERS: dict[type[Command], Handler] = {}


def handles(command_type: type[C]) -> Callable[[Callable[[C, UnitOfWork, Actor], Outcome]], Any]:
    def register(handler: Callable[[C, UnitOfWork, Actor], Outcome]) -> Any:
        HANDLERS[command_type] = handler
        return handler

    return register


class RegioTwin:
    def __init__(self, app: RegioTwinApplication, clock: Clock | None = None) -> None:
        import domain.handlers  # noqa: F401  (registers the use cases)

        self.app = app
        self.clock = clock or SystemClock()

    @classmethod
    def from_env(cls, env: dict[str, str], clock: Clock | None = None) -> RegioTwin:
        return cls(RegioTwinApplication(env=env), clock)

    def close(self) -> None:
        self.app.close()

    # --- the one way in ---------------------------------------------------------

    def handle(
        self, command: Command, *, actor: str | UUID, command_id: str | None = None
    ) -> Outcome:
        """Carry out a command for an actor (a member id, or ``system:<job>``).

        ``command_id`` is the idempotency key: the same key again returns the
        first outcome without recording anything.
        """
        handler = HANDLERS.get(type(command))
        if handler is None:
            raise TypeError(f"no use case handles {type(command).__name__}")
        command_id = command_id or uuid4().hex
        actor_ref = _actor_ref(actor)

        with store_faults():  # a failing store: nothing recorded, say so (not a crash)
            # (inside: a keyed fingerprint reads the store's index key on first use)
            fingerprint = _fingerprint(command, actor_ref, self.app)
            for _attempt in range(SAVE_ATTEMPTS):
                earlier = self._receipt(command_id, fingerprint)
                if earlier is not None:
                    return earlier
                context = Recording(
                    actor=actor_ref, command_id=command_id, recorded_at=self.clock.now()
                )
                with recording(context):
                    uow = UnitOfWork(self.app)
                    acting = self._actor(uow, context.actor)
                    outcome = handler(command, uow, acting)
                    receipt = CommandReceipt(
                        command_id=command_id,
                        command_type=type(command).__name__,
                        fingerprint=fingerprint,
                        outcome=outcome.for_receipt(),
                    )
                try:
                    recordings = self.app.save(*uow.pending(), receipt)
                except IntegrityError:
                    # Someone else wrote first: the same command (its receipt exists now)
                    # or another edit of one of our aggregates. Decide again on fresh state;
                    # an edit that carries the version the user saw now meets a Conflict.
                    continue
                return replace(outcome, position=recordings[-1].notification.id)
            raise DomainError("store.busy")

    def handle_batch(
        self, commands: Sequence[tuple[Command, str | UUID, str | None]]
    ) -> list[Outcome]:
        """Carry out many ``(command, actor, command_id)`` at once, saved in ONE transaction.

        The bulk path (imports, the benchmarks' synthetic programme). Each command is
        handled as by :meth:`handle` – the same checks of the actor, the same handler in
        its own unit of work, the same recording context and receipt – but the events of
        all commands (each followed by its receipt) are saved together, in command order,
        so the log is the same as if they had been handled one by one. A later command
        sees what earlier ones of the batch did (touched aggregates are carried over); a
        command id already handled, in the store or earlier in the batch, returns the
        first outcome and records nothing.

        All or nothing: if any command is refused, the whole batch is refused with
        :class:`BatchRefused` naming the command (index and id), and nothing is recorded.
        Another writer in between makes the whole batch decide again on fresh state.
        """
        for command, _actor, _command_id in commands:
            if type(command) not in HANDLERS:
                raise TypeError(f"no use case handles {type(command).__name__}")
        with store_faults():  # as in handle(): a failing store records nothing, says so
            prepared = []
            for command, actor, command_id in commands:
                actor_ref = _actor_ref(actor)
                fingerprint = _fingerprint(command, actor_ref, self.app)  # reads the index key
                prepared.append(
                    _Prepared(
                        command, actor_ref, command_id or uuid4().hex, fingerprint, command_id
                    )
                )
            for _attempt in range(SAVE_ATTEMPTS):
                outcomes, events, last_event = self._decide_batch(prepared)
                if not events:
                    return outcomes
                try:
                    recordings = self.app.save(_InOrder(events))
                except IntegrityError:
                    continue  # someone else wrote first: decide the whole batch again
                return [
                    outcome
                    if last is None
                    else replace(outcome, position=recordings[last].notification.id)
                    for outcome, last in zip(outcomes, last_event, strict=True)
                ]
            raise DomainError("store.busy")

    def _decide_batch(
        self, prepared: list[_Prepared]
    ) -> tuple[list[Outcome], list[Any], list[int | None]]:
        """Run every command of a batch; their events in order, and where each one's ends."""
        touched: dict[UUID, DomainAggregate] = {}
        handled: dict[str, tuple[str, Outcome]] = {}  # command id → fingerprint, outcome
        outcomes: list[Outcome] = []
        events: list[Any] = []
        last_event: list[int | None] = []
        for index, (command, actor_ref, command_id, fingerprint, given) in enumerate(prepared):
            try:
                if command_id in handled:
                    earlier_fingerprint, first = handled[command_id]
                    if earlier_fingerprint != fingerprint:
                        raise CommandIdReused(command_id=command_id)
                    outcomes.append(replace(first, replayed=True, position=None))
                    last_event.append(None)
                    continue
                # A command id made up here (uuid4) cannot have a receipt yet.
                earlier = None if given is None else self._receipt(command_id, fingerprint)
                if earlier is not None:
                    outcomes.append(earlier)
                    last_event.append(None)
                    continue
                context = Recording(
                    actor=actor_ref, command_id=command_id, recorded_at=self.clock.now()
                )
                with recording(context):
                    uow = _BatchUnitOfWork(self.app, touched)
                    acting = self._actor(uow, context.actor)
                    outcome = HANDLERS[type(command)](command, uow, acting)
                    receipt = CommandReceipt(
                        command_id=command_id,
                        command_type=type(command).__name__,
                        fingerprint=fingerprint,
                        outcome=outcome.for_receipt(),
                    )
            except DomainError as error:
                raise BatchRefused(index, command_id, error) from error
            except Exception as error:
                error.add_note(f"in command {index} of the batch ({command_id})")
                raise
            for aggregate in uow.pending():
                events.extend(aggregate.collect_events())
            events.extend(receipt.collect_events())
            touched.update(uow.touched())
            handled[command_id] = (fingerprint, outcome)
            outcomes.append(outcome)
            last_event.append(len(events) - 1)
        return outcomes, events, last_event

    def _receipt(self, command_id: str, fingerprint: str) -> Outcome | None:
        uow = UnitOfWork(self.app)
        receipt = uow.find(CommandReceipt, ids.receipt_id(command_id))
        if receipt is None:
            return None
        if receipt.fingerprint != fingerprint:
            raise CommandIdReused(command_id=command_id)
        return Outcome.from_receipt(receipt.outcome)

    def _actor(self, uow: UnitOfWork, ref: str) -> Actor:
        if ref.startswith(SYSTEM_PREFIX):
            return Actor(ref=ref)
        member = uow.find(Member, UUID(ref))
        if member is None:
            raise NotAllowed("auth.unknown_member")
        member.ensure_active()
        return Actor(ref=ref, member=member)

    def verify_log(self) -> Verdict:
        """Re-derive the hash chain over the whole stored log."""
        return verify(self.app.recorder.chained_events())  # type: ignore[attr-defined]

    # --- lookups needed to act (not for rendering screens) -----------------------

    def member_for_telegram(self, telegram_user_id: int) -> UUID | None:
        """The member acting through a Telegram account, if any is active."""
        profile = self.member_profile(telegram_user_id)
        return None if profile is None else profile.member_id

    def member_profile(self, telegram_user_id: int) -> MemberProfile | None:
        """Who an active Telegram account acts as: role, region and chosen language."""
        uow = UnitOfWork(self.app)
        with store_faults():
            account = uow.find(TelegramAccount, telegram_account_id(self.app, telegram_user_id))
            if account is None or account.member_id is None:  # None: retired (erased)
                return None
            member = uow.find(Member, account.member_id)
        if member is None or member.removed or member.telegram_user_id != telegram_user_id:
            return None
        return MemberProfile(
            member_id=member.id,
            role=member.role,
            region_id=member.region_id,
            language=member.language,
            name=member.name or "",
        )


class _Prepared(NamedTuple):
    command: Command
    actor_ref: str
    command_id: str
    fingerprint: str
    given: str | None
    """The command id as given (None: made up for this batch)."""


class _InOrder:
    """A batch's events in command order, handed to ``Application.save`` as one object:
    eventsourcing checks every object it is given against a runtime-checkable protocol
    (slow: ~15 µs an event), but collects an object's events with one check."""

    def __init__(self, events: list[Any]) -> None:
        self.id = uuid4()  # save() files objects by id (for snapshots; none here)
        self._events = events

    def collect_events(self) -> list[Any]:
        return self._events


class _BatchUnitOfWork(UnitOfWork):
    """One command's unit of work inside a batch: it sees the aggregates that earlier
    commands of the batch touched (with their changes, not yet saved)."""

    def __init__(self, app: RegioTwinApplication, batch: dict[UUID, DomainAggregate]) -> None:
        super().__init__(app)
        self._batch = batch

    def find(self, cls: Any, aggregate_id: UUID) -> Any:
        if aggregate_id not in self._touched and aggregate_id in self._batch:
            self._touched[aggregate_id] = self._batch[aggregate_id]
        return super().find(cls, aggregate_id)

    def exists(self, aggregate_id: UUID) -> bool:
        return aggregate_id in self._batch or super().exists(aggregate_id)

    def touched(self) -> dict[UUID, DomainAggregate]:
        return dict(self._touched)


def _actor_ref(actor: str | UUID) -> str:
    if isinstance(actor, UUID):
        return actor.hex
    if actor.startswith(SYSTEM_PREFIX):
        return actor
    return UUID(actor).hex


def _fingerprint(command: Command, actor: str, app: RegioTwinApplication) -> str:
    """Same key, same actor, same command: only then is it a redelivery.

    A command with personal data (a Telegram id: ``EnrolAdmin``, ``JoinWithInvite``) gets
    a keyed fingerprint (HMAC under the store's index key), which cannot be tried from
    the log; any other the plain SHA-256, the same in every store."""
    payload = f"{actor}:{type(command).__name__}:{command.model_dump_json()}"
    if "telegram_user_id" in type(command).model_fields:
        return keyed_digest(app, payload)
    return hashlib.sha256(payload.encode()).hexdigest()
