from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid4

from eventsourcing.domain import event

from domain import ids
from domain.errors import NotAllowed, RuleViolated
from domain.personal_data import PersonalData
from domain.recording import DomainAggregate
from domain.values import Language, Role


class Member(DomainAggregate):
    """A Mitarbeiter:in of a region, or of the programme office (``region_id`` None).

    Invited with a one-time code (only its hash is stored), joined with a Telegram
    account, removed when they leave, erased on request.

    Personal data (name, Telegram user id) is held as one :class:`PersonalData` value,
    which the event store keeps sealed under the member's own key
    (:mod:`domain.personal_data`). Erasing destroys the key: the old events stay as
    they are (the hash chain still verifies) but read back without name and Telegram id,
    here and in every projection. The member's other facts (region, role, when they
    joined, what they did) stay in the log, under their pseudonymous member id.
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
        self.personal: PersonalData | None = None
        self.account_id: UUID | None = None
        self.joined = False
        self.language: Language | None = None
        self.removed = False
        self.erased = False

    @property
    def name(self) -> str | None:
        return None if self.personal is None else self.personal.name

    @property
    def telegram_user_id(self) -> int | None:
        return None if self.personal is None else self.personal.telegram_user_id

    @property
    def is_office(self) -> bool:
        return self.region_id is None

    @property
    def has_joined(self) -> bool:
        return self.joined

    def ensure_active(self) -> None:
        if self.removed:
            raise NotAllowed("member.removed")
        if not self.has_joined:
            raise NotAllowed("member.not_joined")

    def join(self, telegram_user_id: int, name: str, account_id: UUID, now: datetime) -> None:
        """Join through the Telegram account whose index id is ``account_id``."""
        if self.removed:
            raise NotAllowed("invite.invalid")
        if self.has_joined:
            raise RuleViolated("invite.used")
        if now >= self.invite_expires_at:
            raise RuleViolated("invite.expired")
        personal = PersonalData(subject=self.id, name=name, telegram_user_id=telegram_user_id)
        self._join(personal=personal, account_id=account_id)

    class Joined(DomainAggregate.Event):
        """Version 2: name and Telegram user id only inside the sealed ``personal`` (version
        1 held them in clear; no store has such events). An ``upcast_v1_v2`` could wrap
        clear values into a ``PersonalData``, but what version 1 stored in clear stays in
        the log: only a member who joined under version 2 can be erased."""

        class_version = 2
        personal: PersonalData
        account_id: UUID
        """The ``TelegramAccount`` index (a keyed hash, no Telegram id): erasure retires
        it without having to open the personal data."""

    @event(Joined)
    def _join(self, personal: PersonalData, account_id: UUID) -> None:
        self.personal = personal
        self.account_id = account_id
        self.joined = True

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

    def erase_personal_data(self, reason: str) -> None:
        """Record the erasure, removing the member first if needed. An erased member acts
        no more and cannot join again.

        ``reason`` stays in the log: it must say why (e.g. "request under GDPR Art. 17"),
        never name the person.
        """
        if self.erased:
            raise RuleViolated("member.erased")
        if not self.removed:
            self._remove(reason=reason)
        self._erase_personal_data(reason=reason, personal=PersonalData.erased_for(self.id))

    @event("PersonalDataErased")
    def _erase_personal_data(self, reason: str, personal: PersonalData) -> None:
        """``personal`` is the erased marker: storing the event destroys the member's key
        (:class:`domain.personal_data.PersonalDataAsCiphertext`), right before the insert."""
        self.personal = None if self.personal is None else personal
        self.erased = True


class Invitation(DomainAggregate):
    """Index from the hash of an invite code to the invited member."""

    @staticmethod
    def create_id(code_hash: str) -> UUID:
        return ids.invite_index_id(code_hash)

    @event("Issued")
    def __init__(self, code_hash: str, member_id: UUID) -> None:
        self.member_id = member_id


class TelegramAccount(DomainAggregate):
    """Index from a Telegram account to the member who acts through it.

    Its id is :func:`domain.ids.telegram_account_id`, a keyed hash of the Telegram user
    id (``account_id``); the events hold no Telegram id. Retired when its member's
    personal data is erased: the account then acts for nobody and may join again.
    """

    @staticmethod
    def create_id(account_id: UUID) -> UUID:
        return account_id

    class Linked(DomainAggregate.Created):
        """Version 2: the id is keyed, and the Telegram user id is no longer recorded."""

        class_version = 2
        account_id: UUID
        member_id: UUID

    @event(Linked)
    def __init__(self, account_id: UUID, member_id: UUID) -> None:
        self.member_id: UUID | None = member_id

    def relink(self, member_id: UUID) -> None:
        self._relink(member_id=member_id)

    @event("Relinked")
    def _relink(self, member_id: UUID) -> None:
        self.member_id = member_id

    def retire(self) -> None:
        if self.member_id is not None:
            self._retire()

    @event("Retired")
    def _retire(self) -> None:
        self.member_id = None
