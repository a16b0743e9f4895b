"""Managing members: /members [REGION], /role MEMBER ROLE, /remove MEMBER REASON, and
erasing personal data: /erase MEMBER REASON (admins), /erase me REASON (anyone, their own).

Coordinators manage their own region (the programme office's coordinators every region),
admins everyone. A member is named by a handle: the first hex digits of their id (at least
six, more where two members share them), as /members shows it.
"""

from __future__ import annotations

from contextlib import suppress
from datetime import datetime
from uuid import UUID

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot import catalog
from bot.acting import BERLIN, require_member
from bot.buttons import Page
from bot.gateway import DomainGateway
from bot.labels import role_label
from bot.partners import from_short_id, short_id
from bot.read_models import ReadModels
from bot.rendering import day, esc
from bot.replies import answer_long
from bot.screens import (
    button,
    clip,
    edit,
    in_private,
    keyboard,
    locale,
    message_of,
    require_command,
    shorten,
)
from domain.clock import Clock
from domain.commands import ChangeRole, EraseMemberData, RemoveMember
from domain.errors import NotAllowed, NotFound
from domain.service import MemberProfile
from domain.values import Role
from projections import queries
from projections.models import MemberItem

MEMBERS_PER_PAGE = 8
REASON_MAX = 1000
OFFICE = "office"
OFFICE_WORDS = frozenset({"office", "buero", "büro", "programmbuero", "programmbüro"})
ROLE_WORDS: dict[str, Role] = {
    "staff": Role.STAFF,
    "mitarbeiter": Role.STAFF,
    "mitarbeiterin": Role.STAFF,
    "coordinator": Role.COORDINATOR,
    "koordinator": Role.COORDINATOR,
    "koordinatorin": Role.COORDINATOR,
    "auditor": Role.AUDITOR,
    "pruefer": Role.AUDITOR,
    "prüfer": Role.AUDITOR,
    "prüferin": Role.AUDITOR,
    "prueferin": Role.AUDITOR,
    "admin": Role.ADMIN,
}


class MemberAct(CallbackData, prefix="mem"):
    action: str  # role, remove, confirm
    member: str
    version: int


class MemberRole(CallbackData, prefix="memr"):
    member: str
    version: int
    role: str


class MembersPage(CallbackData, prefix="meml"):
    scope: str  # a region's compact id, or "office"
    page: Page


class RemoveDialog(StatesGroup):
    reason = State()


# --- who manages whom -------------------------------------------------------------------------


def may_manage(member: MemberProfile, region_id: UUID | None) -> bool:
    """Admins manage everyone; coordinators their region (the office's: every region)."""
    if member.role == Role.ADMIN:
        return True
    if member.role != Role.COORDINATOR:
        return False
    return member.region_id is None or member.region_id == region_id


def may_change(member: MemberProfile, target: MemberItem) -> bool:
    """Only admins change admins and auditors (or make someone one)."""
    return member.role == Role.ADMIN or target.role not in (Role.ADMIN, Role.AUDITOR)


def assignable_roles(member: MemberProfile) -> list[Role]:
    if member.role == Role.ADMIN:
        return list(Role)
    return [Role.STAFF, Role.COORDINATOR]


def _scope_text(region_id: UUID | None) -> str:
    return OFFICE if region_id is None else short_id(region_id)


def _scope_of(text: str) -> UUID | None:
    return None if text == OFFICE else from_short_id(text, "region.not_found")


async def _scope_name(read_models: ReadModels, region_id: UUID | None) -> str:
    if region_id is None:
        return _("the programme office")
    async with read_models.fresh() as db:
        region = await queries.find_region(db, region_id)
    return region.name if region else region_id.hex


async def _managed(read_models: ReadModels, member: MemberProfile, target_id: UUID) -> MemberItem:
    """A member the acting member manages (anyone else, or a removed one: not found)."""
    async with read_models.fresh() as db:
        target = await queries.member_item(db, target_id)
    if target is None or target.status == "removed" or not may_manage(member, target.region_id):
        raise NotFound("member.not_found")
    return target


def _name(target: MemberItem) -> str:
    return target.name or _("(not joined yet)")


# --- /members -----------------------------------------------------------------------------------


def _state_text(target: MemberItem, now: datetime) -> str:
    loc = locale()
    if target.status == "active" and target.joined_at is not None:
        return _("joined {date}").format(date=day(target.joined_at.astimezone(BERLIN).date(), loc))
    expires = day(target.invite_expires_at.astimezone(BERLIN).date(), loc)
    if target.invite_expires_at <= now:
        return _("invite expired on {date}").format(date=expires)
    return _("invited, the invite is valid until {date}").format(date=expires)


async def _members_screen(
    read_models: ReadModels,
    member: MemberProfile,
    region_id: UUID | None,
    page: int,
    now: datetime,
) -> tuple[str, InlineKeyboardMarkup | None]:
    async with read_models.fresh() as db:
        listing = await queries.members_of_region(db, region_id, page, MEMBERS_PER_PAGE)
    title = await _scope_name(read_models, region_id)
    lines = [_("<b>Members of {scope}</b>: {count}").format(scope=esc(title), count=listing.total)]
    rows = []
    for target in listing.items:
        lines.append(
            f"<code>{esc(target.handle)}</code> {esc(_name(target))} – "
            f"{esc(role_label(target.role))} – {esc(_state_text(target, now))}"
        )
        if target.member_id != member.member_id and may_change(member, target):
            # the handle too: two members may share a name
            label = f"{clip(target.name, 20)} ({target.handle})" if target.name else target.handle
            ref = {"member": short_id(target.member_id), "version": target.version}
            rows.append(
                [
                    button(_("Role: {name}").format(name=label), MemberAct(action="role", **ref)),
                    button(
                        _("Remove: {name}").format(name=label), MemberAct(action="remove", **ref)
                    ),
                ]
            )
    if listing.pages > 1:
        lines.append(_("Page {page} of {pages}").format(page=listing.page, pages=listing.pages))
    lines.append(
        _("Also by command: /role HANDLE ROLE, /remove HANDLE REASON; new members: /invite.")
    )
    scope = _scope_text(region_id)
    rows.append(
        [
            *(
                [button("‹", MembersPage(scope=scope, page=listing.page - 1))]
                if listing.page > 1
                else []
            ),
            *(
                [button("›", MembersPage(scope=scope, page=listing.page + 1))]
                if listing.has_next
                else []
            ),
        ]
    )
    return "\n".join(lines), keyboard(rows)


def _require_manager(member: MemberProfile) -> None:
    require_command(member, catalog.MEMBERS_LIST, "auth.member_management")


async def members_list(
    message: Message,
    command: CommandObject,
    member: MemberProfile | None,
    read_models: ReadModels,
    clock: Clock,
) -> None:
    acting = require_member(member)
    _require_manager(acting)
    if not await in_private(message, catalog.MEMBERS_LIST):
        return
    ref = (command.args or "").strip()
    if not ref:
        region_id = acting.region_id
    elif ref.lower() in OFFICE_WORDS:
        region_id = None
    else:
        async with read_models.fresh() as db:
            region = await queries.find_region(db, ref)
        if region is None:
            raise NotFound("region.not_found", ref=ref)
        region_id = region.region_id
    if not may_manage(acting, region_id):
        raise NotAllowed("auth.other_region")
    text, markup = await _members_screen(read_models, acting, region_id, 1, clock.now())
    await answer_long(message, text, markup)


async def members_page(
    query: CallbackQuery,
    callback_data: MembersPage,
    member: MemberProfile | None,
    read_models: ReadModels,
    clock: Clock,
) -> None:
    acting = require_member(member)
    _require_manager(acting)
    region_id = _scope_of(callback_data.scope)
    if not may_manage(acting, region_id):
        raise NotAllowed("auth.other_region")
    screen = await _members_screen(
        read_models, acting, region_id, max(1, callback_data.page), clock.now()
    )
    await query.answer()
    await edit(message_of(query), *screen)


def _back(target: MemberItem) -> list:
    return [
        button(_("‹ Back to the list"), MembersPage(scope=_scope_text(target.region_id), page=1))
    ]


async def member_action(
    query: CallbackQuery,
    callback_data: MemberAct,
    member: MemberProfile | None,
    state: FSMContext,
    read_models: ReadModels,
    clock: Clock,
) -> None:
    acting = require_member(member)
    _require_manager(acting)
    target = await _managed(
        read_models, acting, from_short_id(callback_data.member, "member.not_found")
    )
    message = message_of(query)
    if target.version != callback_data.version:
        await query.answer(
            _("This member was changed in the meantime; here is the current state."),
            show_alert=True,
        )
        await edit(
            message,
            *await _members_screen(read_models, acting, target.region_id, 1, clock.now()),
        )
        return
    who = _("{name} ({role})").format(name=esc(_name(target)), role=esc(role_label(target.role)))
    ref = {"member": short_id(target.member_id), "version": target.version}
    if callback_data.action == "role":
        await query.answer()
        roles = [role for role in assignable_roles(acting) if role != target.role]
        await edit(
            message,
            _("Which role should {who} have?").format(who=who),
            keyboard(
                [
                    *[
                        [button(role_label(role), MemberRole(role=role.value, **ref))]
                        for role in roles
                    ],
                    _back(target),
                ]
            ),
        )
    elif callback_data.action == "remove":
        await query.answer()
        await edit(
            message,
            _("Remove {who}? They can no longer use RegioTwin; what they recorded stays.").format(
                who=who
            ),
            keyboard(
                [
                    [button(_("Yes, remove"), MemberAct(action="confirm", **ref))],
                    _back(target),
                ]
            ),
        )
    elif callback_data.action == "confirm":
        if message.chat.type != "private":
            await query.answer(
                _("Please do this in a private chat with me (/members)."), show_alert=True
            )
            return
        await query.answer()
        await state.set_state(RemoveDialog.reason)
        await state.set_data(
            {
                "member": target.member_id.hex,
                "version": target.version,
                "name": _name(target),
                "chat": message.chat.id,
                "message": message.message_id,
            }
        )
        await message.answer(
            _(
                "Why is {name} removed? Please send the reason (at most {limit} characters), "
                "or /cancel."
            ).format(name=esc(_name(target)), limit=REASON_MAX)
        )
    else:
        raise NotFound("item.not_found")


async def role_chosen(
    query: CallbackQuery,
    callback_data: MemberRole,
    member: MemberProfile | None,
    gateway: DomainGateway,
    command_id: str,
    read_models: ReadModels,
) -> None:
    acting = require_member(member)
    _require_manager(acting)
    target = await _managed(
        read_models, acting, from_short_id(callback_data.member, "member.not_found")
    )
    message = message_of(query)
    if target.version != callback_data.version:
        await query.answer(
            _("This member was changed in the meantime; here is the current state."),
            show_alert=True,
        )
        await edit(
            message,
            _("{name} is {role} now.").format(
                name=esc(_name(target)), role=esc(role_label(target.role))
            ),
            keyboard([_back(target)]),
        )
        return
    if callback_data.role not in {role.value for role in Role}:
        raise NotFound("item.not_found")
    await gateway.handle(
        ChangeRole.parse(
            member_id=target.member_id, role=callback_data.role, expected_version=target.version
        ),
        actor=acting.member_id,
        command_id=command_id,
    )
    await query.answer()
    await edit(
        message,
        _("{name} is {role} now (changed by {actor}).").format(
            name=esc(_name(target)),
            role=esc(role_label(callback_data.role)),
            actor=esc(acting.name),
        ),
        keyboard([_back(target)]),
    )


async def remove_reason_given(
    message: Message,
    member: MemberProfile | None,
    state: FSMContext,
    gateway: DomainGateway,
    command_id: str,
    bot: Bot,
) -> None:
    acting = require_member(member)
    reason = (message.text or "").strip()
    if not reason or len(reason) > REASON_MAX:
        await message.answer(
            _("Please write at most {limit} characters (yours: {length}).").format(
                limit=REASON_MAX, length=len(reason)
            )
        )
        return
    data = await state.get_data()
    await gateway.handle(
        RemoveMember.parse(
            member_id=data["member"], reason=reason, expected_version=data["version"]
        ),
        actor=acting.member_id,
        command_id=command_id,
    )
    await state.clear()
    text = _("{name} was removed by {actor}.").format(
        name=esc(data["name"]), actor=esc(acting.name)
    )
    await message.answer(text)
    with suppress(TelegramBadRequest):  # gone or too old to edit: the answer says it all
        await bot.edit_message_text(text=text, chat_id=data["chat"], message_id=data["message"])


# --- /role and /remove ---------------------------------------------------------------------


async def _by_handle(
    message: Message, read_models: ReadModels, member: MemberProfile, handle: str
) -> MemberItem | None:
    async with read_models.fresh() as db:
        found = await queries.members_by_handle(db, handle)
    managed = [target for target in found if may_manage(member, target.region_id)]
    if not managed:
        raise NotFound("member.not_found")
    if len(managed) > 1:
        await message.answer(
            _(
                "The handle {handle} fits several members; please use more of it (see /members)."
            ).format(handle=esc(handle))
        )
        return None
    return managed[0]


async def change_role(
    message: Message,
    command: CommandObject,
    member: MemberProfile | None,
    gateway: DomainGateway,
    command_id: str,
    read_models: ReadModels,
) -> None:
    acting = require_member(member)
    require_command(acting, catalog.ROLE, "auth.member_management")
    parts = (command.args or "").split()
    if len(parts) != 2:
        await message.answer(
            _(
                "Usage: {usage}\nThe handle is shown by /members; "
                "roles: staff, coordinator, auditor, admin."
            ).format(usage=esc(catalog.ROLE.usage))
        )
        return
    role = ROLE_WORDS.get(parts[1].lower())
    if role is None:
        await message.answer(
            _("There is no role {role}; roles: staff, coordinator, auditor, admin.").format(
                role=esc(shorten(parts[1], 60))
            )
        )
        return
    target = await _by_handle(message, read_models, acting, parts[0])
    if target is None:
        return
    await gateway.handle(
        ChangeRole.parse(member_id=target.member_id, role=role),
        actor=acting.member_id,
        command_id=command_id,
    )
    await message.answer(
        _("{name} is {role} now (changed by {actor}).").format(
            name=esc(_name(target)), role=esc(role_label(role)), actor=esc(acting.name)
        )
    )


async def remove(
    message: Message,
    command: CommandObject,
    member: MemberProfile | None,
    gateway: DomainGateway,
    command_id: str,
    read_models: ReadModels,
) -> None:
    acting = require_member(member)
    require_command(acting, catalog.REMOVE, "auth.member_management")
    parts = (command.args or "").split(maxsplit=1)
    if len(parts) != 2:
        await message.answer(
            _("Usage: {usage}\nThe handle is shown by /members.").format(
                usage=esc(catalog.REMOVE.usage)
            )
        )
        return
    target = await _by_handle(message, read_models, acting, parts[0])
    if target is None:
        return
    await gateway.handle(
        RemoveMember.parse(member_id=target.member_id, reason=parts[1]),
        actor=acting.member_id,
        command_id=command_id,
    )
    await message.answer(
        _("{name} was removed by {actor}.").format(name=esc(_name(target)), actor=esc(acting.name))
    )


# --- /erase ---------------------------------------------------------------------------------

MYSELF = frozenset({"me", "mich", "ich"})


async def _erasable(read_models: ReadModels, handle: str) -> list[UUID]:
    """Members (removed ones too) whose id starts with ``handle`` (at least 6 hex digits)."""
    from audit.history import MEMBER, find_subjects

    text = handle.strip().lower()
    if len(text) < queries.MEMBER_HANDLE_MIN or not all(c in "0123456789abcdef" for c in text):
        return []
    async with read_models.fresh() as db:
        subjects = await find_subjects(db, text)
    return [subject.id for subject in subjects if subject.kind == MEMBER]


async def erase(
    message: Message,
    command: CommandObject,
    member: MemberProfile | None,
    gateway: DomainGateway,
    command_id: str,
    read_models: ReadModels,
) -> None:
    """Crypto-shredding: the member is removed and their name and Telegram account can
    never be read again; the log keeps that it happened, by whom, when and why."""
    acting = require_member(member)
    parts = (command.args or "").split(maxsplit=1)
    if len(parts) != 2:
        await message.answer(
            _(
                "Usage: /erase MEMBER REASON (admins; the handle is shown by /members), or "
                "/erase me REASON for your own data.\nThe member is removed, and their name "
                "and Telegram account can never be read again; the log keeps that it "
                "happened. Please do not name the person in the reason."
            )
        )
        return
    who, reason = parts
    myself = who.lower() in MYSELF
    if myself:
        target = acting.member_id
    else:
        if acting.role != Role.ADMIN:
            raise NotAllowed("auth.erasure")
        found = await _erasable(read_models, who)
        if not found:
            raise NotFound("member.not_found")
        if len(found) > 1:
            await message.answer(
                _(
                    "The handle {handle} fits several members; please use more of it "
                    "(see /members)."
                ).format(handle=esc(who))
            )
            return
        target = found[0]
    await gateway.handle(
        EraseMemberData.parse(member_id=target, reason=reason),
        actor=acting.member_id,
        command_id=command_id,
    )
    if myself:
        await message.answer(
            _(
                "Your personal data was erased: RegioTwin can no longer read your name or "
                "your Telegram account. Goodbye!"
            )
        )
        return
    await message.answer(
        _("The personal data of member {handle} was erased by {actor}.").format(
            handle=esc(target.hex[: len(who)]), actor=esc(acting.name)
        )
    )


def build() -> Router:
    router = Router(name="members")
    router.message.register(members_list, catalog.MEMBERS_LIST.filter)
    router.message.register(change_role, catalog.ROLE.filter)
    router.message.register(remove, catalog.REMOVE.filter)
    router.message.register(erase, catalog.ERASE.filter)
    router.callback_query.register(members_page, MembersPage.filter())
    router.callback_query.register(member_action, MemberAct.filter())
    router.callback_query.register(role_chosen, MemberRole.filter())
    router.message.register(
        remove_reason_given,
        RemoveDialog.reason,
        F.chat.type == "private",
        F.text & ~F.text.startswith("/"),
    )
    return router
