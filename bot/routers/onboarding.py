"""Joining and finding one's way: /start, /start CODE, /help, /lang, /invite."""

from __future__ import annotations

import math

from aiogram import Bot, Router
from aiogram.filters import CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot import catalog
from bot.acting import require_member
from bot.callbacks import LanguageChoice
from bot.gateway import DomainGateway
from bot.invite_guard import InviteGuard
from bot.labels import role_label
from bot.rendering import esc
from domain.clock import Clock
from domain.commands import ChooseLanguage, EnrolAdmin, InviteMember, JoinWithInvite
from domain.errors import InvalidCommand, NotAllowed, RuleViolated
from domain.service import MemberProfile
from domain.values import Language, Role

ONBOARDING_ACTOR = "system:onboarding"
BOOTSTRAP_ACTOR = "system:bootstrap"


async def start(
    message: Message,
    command: CommandObject,
    member: MemberProfile | None,
    gateway: DomainGateway,
    command_id: str,
    admins: frozenset[int],
    clock: Clock,
    invite_guard: InviteGuard | None = None,
) -> None:
    user = message.from_user
    assert user is not None
    if command.args:
        until = None if invite_guard is None else await invite_guard.blocked_until(user.id)
        if until is not None:  # guessing codes: refused without asking the domain
            minutes = max(1, math.ceil((until - clock.now()).total_seconds() / 60))
            await message.answer(
                _(
                    "Too many invite codes that did not work. Please try again in {minutes} "
                    "minutes, with the link your coordinator sent you."
                ).format(minutes=minutes)
            )
            return
        try:
            outcome = await gateway.handle(
                JoinWithInvite.parse(
                    code=command.args, telegram_user_id=user.id, name=user.full_name
                ),
                actor=ONBOARDING_ACTOR,
                command_id=command_id,
            )
        except (NotAllowed, RuleViolated, InvalidCommand):  # a wrong, used or expired code
            if invite_guard is not None:
                await invite_guard.failed(user.id)
            raise
        if invite_guard is not None:
            await invite_guard.succeeded(user.id)
        await message.answer(
            _(
                "Welcome to RegioTwin, {name}! You joined as {role}. /help shows what you can do."
            ).format(name=esc(user.full_name), role=role_label(outcome.details["role"]))
        )
        return
    if member is None and user.id in admins:
        await gateway.handle(
            EnrolAdmin.parse(telegram_user_id=user.id, name=user.full_name),
            actor=BOOTSTRAP_ACTOR,
            command_id=command_id,
        )
        await message.answer(
            _(
                "Welcome, {name}! You are an admin of RegioTwin. /help shows what you can do."
            ).format(name=esc(user.full_name))
        )
        return
    if member is None:
        await message.answer(
            _(
                "<b>RegioTwin</b> supports climate-protection twinnings between German "
                "regions: exchanges, advice and measures of both partners in one place.\n\n"
                "This bot is for the staff of the participating regions. To join, ask your "
                "coordinator for an invite link."
            )
        )
        return
    await message.answer(
        _("Welcome back, {name}! /help shows what you can do.").format(name=esc(member.name))
    )


async def help_(message: Message, member: MemberProfile | None) -> None:
    lines = [_("<b>What you can do here</b>")]
    for entry in catalog.CATALOG.values():
        if entry.allowed_for(member):
            lines.append(f"{esc(entry.usage)} – {esc(_(entry.description))}")
    if member is None:
        lines.append("")
        lines.append(_("You are not a member yet: ask your coordinator for an invite link."))
    await message.answer("\n".join(lines))


def language_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text="Deutsch", callback_data=LanguageChoice(language="de").pack()
                ),
                InlineKeyboardButton(
                    text="English", callback_data=LanguageChoice(language="en").pack()
                ),
            ]
        ]
    )


async def _choose(
    gateway: DomainGateway, member: MemberProfile, language: str, command_id: str
) -> str:
    await gateway.handle(
        ChooseLanguage.parse(member_id=member.member_id, language=language),
        actor=member.member_id,
        command_id=command_id,
    )
    with I18n.get_current().use_locale(language):  # answer in the language just chosen
        return (
            _("From now on I answer in English.")
            if language == "en"
            else _("From now on I answer in German.")
        )


async def lang(
    message: Message,
    command: CommandObject,
    member: MemberProfile | None,
    gateway: DomainGateway,
    command_id: str,
) -> None:
    acting = require_member(member)
    choice = (command.args or "").strip().lower()
    if choice not in {language.value for language in Language}:
        await message.answer(_("Choose your language:"), reply_markup=language_keyboard())
        return
    await message.answer(await _choose(gateway, acting, choice, command_id))


async def lang_button(
    query: CallbackQuery,
    callback_data: LanguageChoice,
    member: MemberProfile | None,
    gateway: DomainGateway,
    command_id: str,
) -> None:
    acting = require_member(member)
    if callback_data.language not in {language.value for language in Language}:
        await query.answer()
        return
    text = await _choose(gateway, acting, callback_data.language, command_id)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(text)


async def invite(
    message: Message,
    command: CommandObject,
    member: MemberProfile | None,
    gateway: DomainGateway,
    command_id: str,
    bot: Bot,
) -> None:
    acting = require_member(member)
    parts = (command.args or "").split()
    if len(parts) != 2:
        await message.answer(
            _("Usage: {usage}\nRoles: staff, coordinator, auditor, admin.").format(
                usage=esc(catalog.INVITE.usage)
            )
        )
        return
    scope, role = parts
    region = None if scope.lower() in {"office", "buero", "büro"} else scope
    outcome = await gateway.handle(
        InviteMember.parse(region=region, role=role.lower()),
        actor=acting.member_id,
        command_id=command_id,
    )
    if outcome.secret is None:  # a redelivered command: the code was shown once already
        await message.answer(_("This invite was already created."))
        return
    me = await bot.me()
    link = f"https://t.me/{me.username}?start={outcome.secret}"
    await message.answer(
        _(
            "Invite for {role} created; valid until {expires}.\n"
            "Send this link to the person (it works once):\n{link}\n"
            "or the code: <code>{code}</code>"
        ).format(
            role=role_label(Role(role.lower())),
            expires=esc(outcome.details["expires_at"][:10]),
            link=esc(link),
            code=esc(outcome.secret),
        )
    )


async def cancel(message: Message, state: FSMContext) -> None:
    if await state.get_state() is None:
        await message.answer(_("There is no dialog to cancel."))
        return
    await state.clear()
    await message.answer(_("Cancelled. Nothing was recorded."))


def build() -> Router:
    router = Router(name="onboarding")
    router.message.register(cancel, catalog.CANCEL.filter, StateFilter("*"))
    router.message.register(start, catalog.START.filter)
    router.message.register(help_, catalog.HELP.filter)
    router.message.register(lang, catalog.LANG.filter)
    router.callback_query.register(lang_button, LanguageChoice.filter())
    router.message.register(invite, catalog.INVITE.filter)
    return router
