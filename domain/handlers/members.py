from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from uuid import UUID

from domain import ids
from domain.access import Actor
from domain.commands import (
    ChangeRole,
    ChooseLanguage,
    EnrolAdmin,
    EraseMemberData,
    InviteMember,
    JoinWithInvite,
    RemoveMember,
)
from domain.errors import NotAllowed, RuleViolated
from domain.handlers import lookup
from domain.member import Invitation, Member, TelegramAccount
from domain.personal_data import telegram_account_id
from domain.recording import acting_as, recorded_now
from domain.service import Outcome, handles
from domain.unit_of_work import UnitOfWork
from domain.values import Role

INVITE_CODE_BYTES = 24  # 192 bits of randomness


def hash_invite_code(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


@handles(InviteMember)
def invite_member(cmd: InviteMember, uow: UnitOfWork, actor: Actor) -> Outcome:
    region_id = None if cmd.region is None else lookup.region(uow, cmd.region).id
    actor.require_member_management(region_id, cmd.role)
    code = secrets.token_urlsafe(INVITE_CODE_BYTES)
    code_hash = hash_invite_code(code)
    member = uow.add(
        Member(
            region_id=region_id,
            role=cmd.role,
            invite_code_hash=code_hash,
            invite_expires_at=recorded_now() + timedelta(days=cmd.valid_days),
        )
    )
    uow.add(Invitation(code_hash=code_hash, member_id=member.id))
    return Outcome(
        aggregate_id=member.id,
        version=member.version,
        details={"role": str(cmd.role), "expires_at": member.invite_expires_at.isoformat()},
        secret=code,
    )


def _link_account(uow: UnitOfWork, member: Member, account_id: UUID) -> None:
    account = uow.find(TelegramAccount, account_id)
    if account is None:
        uow.add(TelegramAccount(account_id=account_id, member_id=member.id))
        return
    current = None if account.member_id is None else uow.find(Member, account.member_id)
    if current is not None and not current.removed:
        raise RuleViolated("invite.account_in_use")
    account.relink(member.id)


@handles(JoinWithInvite)
def join_with_invite(cmd: JoinWithInvite, uow: UnitOfWork, actor: Actor) -> Outcome:
    invitation = uow.find(Invitation, ids.invite_index_id(hash_invite_code(cmd.code)))
    if invitation is None:
        raise NotAllowed("invite.invalid")
    member = uow.get(Member, invitation.member_id)
    account_id = telegram_account_id(uow.app, cmd.telegram_user_id)
    with acting_as(member.id.hex):
        member.join(cmd.telegram_user_id, cmd.name, account_id, recorded_now())
        _link_account(uow, member, account_id)
    return Outcome.of(member, role=str(member.role))


@handles(EnrolAdmin)
def enrol_admin(cmd: EnrolAdmin, uow: UnitOfWork, actor: Actor) -> Outcome:
    if not actor.is_system:
        raise NotAllowed("auth.system_only")
    code_hash = hash_invite_code(secrets.token_urlsafe(INVITE_CODE_BYTES))
    member = uow.add(
        Member(
            region_id=None,
            role=Role.ADMIN,
            invite_code_hash=code_hash,
            invite_expires_at=recorded_now() + timedelta(minutes=1),
        )
    )
    account_id = telegram_account_id(uow.app, cmd.telegram_user_id)
    member.join(cmd.telegram_user_id, cmd.name, account_id, recorded_now())
    _link_account(uow, member, account_id)
    return Outcome.of(member, role=str(member.role))


@handles(ChangeRole)
def change_role(cmd: ChangeRole, uow: UnitOfWork, actor: Actor) -> Outcome:
    member = uow.get(Member, cmd.member_id)
    actor.require_member_management(member.region_id, member.role)
    actor.require_member_management(member.region_id, cmd.role)
    member = uow.get(Member, cmd.member_id, cmd.expected_version)  # rights first, then version
    member.change_role(cmd.role)
    return Outcome.of(member, role=str(member.role))


@handles(ChooseLanguage)
def choose_language(cmd: ChooseLanguage, uow: UnitOfWork, actor: Actor) -> Outcome:
    if not actor.is_admin and actor.member_id != cmd.member_id:
        raise NotAllowed("auth.own_settings_only")
    member = uow.get(Member, cmd.member_id)
    member.choose_language(cmd.language)
    return Outcome.of(member, language=str(cmd.language))


@handles(RemoveMember)
def remove_member(cmd: RemoveMember, uow: UnitOfWork, actor: Actor) -> Outcome:
    member = uow.get(Member, cmd.member_id)
    actor.require_member_management(member.region_id, member.role)
    member = uow.get(Member, cmd.member_id, cmd.expected_version)  # rights first, then version
    member.remove(cmd.reason)
    return Outcome.of(member)


@handles(EraseMemberData)
def erase_member_data(cmd: EraseMemberData, uow: UnitOfWork, actor: Actor) -> Outcome:
    """Crypto-shredding (:mod:`domain.personal_data`): record the erasure and retire the
    Telegram account's index; storing ``Member.PersonalDataErased`` destroys the key.

    The key goes when the events are written, right before their insert: a command (or
    a batch) refused on the way destroys nothing. Should the insert itself fail after
    that, the data is unreadable already (never the other way round: an erasure on
    record with the data still readable), and the same command again records it.
    """
    if not actor.is_admin and actor.member_id != cmd.member_id:
        raise NotAllowed("auth.erasure")
    member = uow.get(Member, cmd.member_id)
    member.erase_personal_data(cmd.reason)
    if member.account_id is not None:
        account = uow.find(TelegramAccount, member.account_id)
        if account is not None and account.member_id == member.id:
            account.retire()  # the account acts for nobody now, and may join again
    return Outcome.of(member)
