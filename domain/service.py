"""The service layer: RegioTwin's use cases, the only way in for bot, CLI and tests.

Every command goes through :meth:`RegioTwin.handle`, which

* resolves and checks the acting member,
* opens a recording context (actor, recording time from the clock, command id),
* runs the command's handler in a unit of work,
* saves all touched aggregates together with a :class:`CommandReceipt` in one
  transaction, so a redelivered command id returns the first outcome and records
  nothing twice, also after a restart.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar
from uuid import UUID, uuid4

from eventsourcing.persistence import IntegrityError

from domain import ids
from domain.access import Actor
from domain.application import RegioTwinApplication
from domain.chain import Verdict, verify
from domain.clock import Clock, SystemClock
from domain.commands import Command
from domain.errors import CommandIdReused, DomainError, NotAllowed
from domain.member import Member, TelegramAccount
from domain.receipt import CommandReceipt
from domain.recording import SYSTEM_PREFIX, Recording, recording
from domain.unit_of_work import UnitOfWork
from domain.values import Language, Role

SAVE_ATTEMPTS = 3


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
        fingerprint = _fingerprint(command, actor_ref)

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
        account = uow.find(TelegramAccount, ids.telegram_account_id(telegram_user_id))
        if account is None:
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


def _actor_ref(actor: str | UUID) -> str:
    if isinstance(actor, UUID):
        return actor.hex
    if actor.startswith(SYSTEM_PREFIX):
        return actor
    return UUID(actor).hex


def _fingerprint(command: Command, actor: str) -> str:
    """Same key, same actor, same command: only then is it a redelivery."""
    payload = f"{actor}:{type(command).__name__}:{command.model_dump_json()}"
    return hashlib.sha256(payload.encode()).hexdigest()
