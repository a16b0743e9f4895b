from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid4

from eventsourcing.domain import event

from domain import ids
from domain.errors import NotAllowed, RuleViolated
from domain.recording import DomainAggregate
from domain.values import Language, Role


class Member(DomainAggregate):
    """A Mitarbeiter:in of a region, or of the programme office (``region_id`` None).

    Invited with a one-time code (only its hash is stored), joined with a Telegram
    account, removed when they leave.
    """

    @staticmethod
    def create_id() -> UUID:
        return uuid4()

    @event("Invited")
    def __init__(
        self,
        region_id: UUID | None,
        role: Role,
        invite_code_hash: str,
        invite_expires_at: datetime,
    ) -> None:
        self.region_id = region_id
        self.role = Role(role)
        self.invite_code_hash = invite_code_hash
        self.invite_expires_at = invite_expires_at
        self.telegram_user_id: int | None = None
        self.name: str | None = None
        self.language: Language | None = None
        self.removed = False

    @property
    def is_office(self) -> bool:
        return self.region_id is None

    @property
    def has_joined(self) -> bool:
        return self.telegram_user_id is not None

    def ensure_active(self) -> None:
        if self.removed:
            raise NotAllowed("member.removed")
        if not self.has_joined:
            raise NotAllowed("member.not_joined")

    def join(self, telegram_user_id: int, name: str, now: datetime) -> None:
        if self.removed:
            raise NotAllowed("invite.invalid")
        if self.has_joined:
            raise RuleViolated("invite.used")
        if now >= self.invite_expires_at:
            raise RuleViolated("invite.expired")
        self._join(telegram_user_id=telegram_user_id, name=name)

    @event("Joined")
    def _join(self, telegram_user_id: int, name: str) -> None:
        self.telegram_user_id = telegram_user_id
        self.name = name

    def change_role(self, role: Role) -> None:
        if self.removed:
            raise RuleViolated("member.removed")
        if role == self.role:
            raise RuleViolated("member.role_unchanged", role=str(role))
        self._change_role(role=role)

    @event("RoleChanged")
    def _change_role(self, role: Role) -> None:
        self.role = Role(role)

    def choose_language(self, language: Language) -> None:
        self.ensure_active()
        self._choose_language(language=language)

    @event("LanguageChosen")
    def _choose_language(self, language: Language) -> None:
        self.language = Language(language)

    def remove(self, reason: str) -> None:
        if self.removed:
            raise RuleViolated("member.removed")
        self._remove(reason=reason)

    @event("Removed")
    def _remove(self, reason: str) -> None:
        self.removed = True


class Invitation(DomainAggregate):
    """Index from the hash of an invite code to the invited member."""

    @staticmethod
    def create_id(code_hash: str) -> UUID:
        return ids.invite_index_id(code_hash)

    @event("Issued")
    def __init__(self, code_hash: str, member_id: UUID) -> None:
        self.member_id = member_id


class TelegramAccount(DomainAggregate):
    """Index from a Telegram user id to the member who acts through it."""

    @staticmethod
    def create_id(telegram_user_id: int) -> UUID:
        return ids.telegram_account_id(telegram_user_id)

    @event("Linked")
    def __init__(self, telegram_user_id: int, member_id: UUID) -> None:
        self.member_id = member_id

    def relink(self, member_id: UUID) -> None:
        self._relink(member_id=member_id)

    @event("Relinked")
    def _relink(self, member_id: UUID) -> None:
        self.member_id = member_id
