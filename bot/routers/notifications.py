"""Notification settings: /subscribe, /mute (also: a holiday), /digest.

Every change is a command of the domain (and so an event in the audit trail); the
overview reads the outbox's copy of the settings, which follows the log.
"""

from __future__ import annotations

import asyncio
import re
from datetime import date

import aiosqlite
from aiogram import Router
from aiogram.filters import CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _

from bot import catalog
from bot.acting import require_member
from bot.gateway import DomainGateway
from bot.i18n import N_
from bot.read_models import ReadModels
from bot.rendering import day, esc
from domain.commands import (
    ChooseDigest,
    ChooseDigestTime,
    MuteNotifications,
    TakeHoliday,
    UnmuteNotifications,
)
from domain.errors import DomainError, NotFound
from domain.notification_settings import DigestMode, NotificationKind
from domain.service import MemberProfile
from projections.outbox import MemberSettings, OutboxStore

KIND_LABELS = {
    NotificationKind.EXCHANGES: N_("exchanges"),
    NotificationKind.ADVICE: N_("advice"),
    NotificationKind.FOLLOW_UPS: N_("follow-ups"),
    NotificationKind.MEASURES: N_("measures"),
    NotificationKind.TWINNINGS: N_("twinnings"),
    NotificationKind.SUMMARIES: N_("weekly summaries"),
    NotificationKind.REMINDERS: N_("reminders"),
}
KIND_WORDS = {
    **{kind.value: kind for kind in NotificationKind},
    "exchange": NotificationKind.EXCHANGES,
    "austausch": NotificationKind.EXCHANGES,
    "rat": NotificationKind.ADVICE,
    "followups": NotificationKind.FOLLOW_UPS,
    "follow-ups": NotificationKind.FOLLOW_UPS,
    "aufgaben": NotificationKind.FOLLOW_UPS,
    "massnahmen": NotificationKind.MEASURES,
    "maßnahmen": NotificationKind.MEASURES,
    "twinning": NotificationKind.TWINNINGS,
    "summary": NotificationKind.SUMMARIES,
    "zusammenfassungen": NotificationKind.SUMMARIES,
    "erinnerungen": NotificationKind.REMINDERS,
}
ALL_WORDS = frozenset({"all", "alle", "alles"})
UNTIL_WORDS = frozenset({"until", "bis"})
DIGEST_WORDS = {
    "off": DigestMode.OFF,
    "aus": DigestMode.OFF,
    "daily": DigestMode.DAILY,
    "täglich": DigestMode.DAILY,
    "taeglich": DigestMode.DAILY,
    "weekly": DigestMode.WEEKLY,
    "wöchentlich": DigestMode.WEEKLY,
    "woechentlich": DigestMode.WEEKLY,
}
TIME_WORDS = frozenset({"time", "zeit"})
LOCAL_TIME = re.compile(r"^\d{1,2}:\d{2}$")


def kind_label(kind: str) -> str:
    return _(KIND_LABELS[NotificationKind(kind)])


def kinds_hint() -> str:
    return _("Kinds: {kinds}.").format(
        kinds=", ".join(f"{esc(kind.value)} ({esc(kind_label(kind))})" for kind in NotificationKind)
    )


def usage() -> str:
    return "\n".join(
        [
            esc(catalog.SUBSCRIBE.usage),
            esc(catalog.MUTE.usage),
            esc(catalog.DIGEST.usage),
            kinds_hint(),
        ]
    )


async def _twinning_id(read_models: ReadModels, member: MemberProfile, ref: str) -> str:
    """The twinning a member means by a partner's key or slug (their own region's first)."""
    async with read_models.fresh() as db:
        region = await _one(
            db, "SELECT region_id FROM regions WHERE key = ? OR slug = ?", (ref, ref.lower())
        )
        if region is None:
            raise NotFound("region.not_found", ref=ref)
        rows = await _all(
            db,
            "SELECT twinning_id, first_region_id, second_region_id FROM twinnings"
            " WHERE ? IN (first_region_id, second_region_id)"
            " ORDER BY status = 'running' DESC, twinning_id",
            (region[0],),
        )
    own = member.region_id.hex if member.region_id is not None else None
    ours = [row for row in rows if own is None or own in (row[1], row[2])]
    if not ours:
        raise NotFound("twinning.not_found")
    return str(ours[0][0])


async def _one(db: aiosqlite.Connection, sql: str, params: tuple[object, ...]) -> object:
    async with db.execute(sql, params) as cursor:
        return await cursor.fetchone()


async def _all(db: aiosqlite.Connection, sql: str, params: tuple[object, ...]) -> list:
    async with db.execute(sql, params) as cursor:
        return list(await cursor.fetchall())


async def _twinning_names(read_models: ReadModels, twinning_ids: set[str]) -> dict[str, str]:
    if not twinning_ids:
        return {}
    async with read_models.fresh() as db:
        rows = await _all(
            db,
            "SELECT t.twinning_id, a.name, b.name FROM twinnings t"
            " JOIN regions a ON a.region_id = t.first_region_id"
            " JOIN regions b ON b.region_id = t.second_region_id",
            (),
        )
    return {row[0]: f"{row[1]} – {row[2]}" for row in rows if row[0] in twinning_ids}


async def _overview(
    member: MemberProfile, outbox: OutboxStore | None, read_models: ReadModels, locale: str
) -> str:
    lines = [_("<b>Your notifications</b>")]
    settings = MemberSettings()
    if outbox is not None:
        settings = await asyncio.to_thread(_settings_of, outbox, member.member_id.hex)
    names = await _twinning_names(
        read_models, {twinning for _kind, twinning in settings.muted if twinning}
    )
    muted = [
        _("{kind} (everywhere)").format(kind=esc(kind_label(kind)))
        if not twinning
        else _("{kind} ({twinning})").format(
            kind=esc(kind_label(kind)), twinning=esc(names.get(twinning, twinning))
        )
        for kind, twinning in sorted(settings.muted)
    ]
    lines.append(
        _("Muted: {muted}").format(muted=", ".join(muted)) if muted else _("Nothing is muted.")
    )
    if settings.holiday_until is not None:
        lines.append(
            _("On holiday until {date}: no notifications.").format(
                date=esc(day(settings.holiday_until, locale))
            )
        )
    zone = settings.timezone or "Europe/Berlin"
    digest = {
        "off": _("Digest: off – every notification as it happens."),
        "daily": _("Digest: daily at {time} ({zone})."),
        "weekly": _("Digest: weekly, Mondays at {time} ({zone})."),
    }[settings.digest]
    lines.append(digest.format(time=esc(settings.digest_time), zone=esc(zone)))
    lines.append("")
    lines.append(usage())
    return "\n".join(lines)


def _settings_of(outbox: OutboxStore, member_id: str) -> MemberSettings:
    with outbox.db.read() as tx:
        return outbox.settings_of(tx, member_id)


def _locale() -> str:
    return str(get_i18n().current_locale)


async def subscribe(
    message: Message,
    command: CommandObject,
    member: MemberProfile | None,
    gateway: DomainGateway,
    command_id: str,
    read_models: ReadModels,
    outbox: OutboxStore | None = None,
) -> None:
    acting = require_member(member)
    args = (command.args or "").split()
    if not args:
        await message.answer(await _overview(acting, outbox, read_models, _locale()))
        return
    if args[0].lower() in ALL_WORDS:
        await gateway.handle(
            UnmuteNotifications.parse(member_id=acting.member_id),
            actor=acting.member_id,
            command_id=command_id,
        )
        await message.answer(_("All notifications are on again."))
        return
    kind = KIND_WORDS.get(args[0].lower())
    if kind is None:
        await message.answer(usage())
        return
    twinning = await _twinning_id(read_models, acting, args[1]) if len(args) > 1 else None
    await gateway.handle(
        UnmuteNotifications.parse(member_id=acting.member_id, kind=kind, twinning_id=twinning),
        actor=acting.member_id,
        command_id=command_id,
    )
    text = (
        _("You will hear of {kind} again.")
        if twinning is None
        else _("You will hear of {kind} in this twinning again.")
    )
    await message.answer(text.format(kind=esc(kind_label(kind))))


async def mute(
    message: Message,
    command: CommandObject,
    member: MemberProfile | None,
    gateway: DomainGateway,
    command_id: str,
    read_models: ReadModels,
) -> None:
    acting = require_member(member)
    args = (command.args or "").split()
    if not args:
        await message.answer(usage())
        return
    if args[0].lower() in ALL_WORDS:
        rest = [word for word in args[1:] if word.lower() not in UNTIL_WORDS]
        if len(rest) != 1:
            await message.answer(_("A holiday needs its last day: /mute all until 31.08.2026"))
            return
        outcome = await gateway.handle(
            TakeHoliday.parse(member_id=acting.member_id, until=rest[0]),
            actor=acting.member_id,
            command_id=command_id,
        )
        until = outcome.details.get("until", rest[0])
        await message.answer(
            _("Enjoy your holiday! No notifications until {date} (inclusive).").format(
                date=esc(_format_day(until))
            )
        )
        return
    kind = KIND_WORDS.get(args[0].lower())
    if kind is None:
        await message.answer(usage())
        return
    twinning = await _twinning_id(read_models, acting, args[1]) if len(args) > 1 else None
    await gateway.handle(
        MuteNotifications.parse(member_id=acting.member_id, kind=kind, twinning_id=twinning),
        actor=acting.member_id,
        command_id=command_id,
    )
    text = (
        _("Muted: {kind}. /subscribe {value} turns it on again.")
        if twinning is None
        else _("Muted in this twinning: {kind}. /subscribe {value} turns it on again.")
    )
    await message.answer(text.format(kind=esc(kind_label(kind)), value=esc(kind.value)))


def _format_day(iso: str) -> str:
    try:
        return day(date.fromisoformat(iso), _locale())
    except ValueError:
        return iso


async def digest(
    message: Message,
    command: CommandObject,
    member: MemberProfile | None,
    gateway: DomainGateway,
    command_id: str,
    read_models: ReadModels,
    outbox: OutboxStore | None = None,
) -> None:
    acting = require_member(member)
    args = (command.args or "").split()
    if not args:
        await message.answer(await _overview(acting, outbox, read_models, _locale()))
        return
    word = args[0].lower()
    mode = DIGEST_WORDS.get(word)
    if mode is None and word not in TIME_WORDS:
        await message.answer(esc(catalog.DIGEST.usage) + "\n" + _("or: /digest time 07:30"))
        return
    rest = args[1:]
    at = rest[0] if rest and LOCAL_TIME.match(rest[0]) else None
    timezone = rest[1] if at is not None and len(rest) > 1 else None
    if at is not None and len(at) == 4:
        at = f"0{at}"
    if mode is None and at is None:
        await message.answer(_("Which time? For example: /digest time 07:30"))
        return
    changed = False
    if mode is not None:
        try:
            await gateway.handle(
                ChooseDigest.parse(member_id=acting.member_id, mode=mode),
                actor=acting.member_id,
                command_id=command_id,
            )
            changed = True
        except DomainError as error:
            if error.code != "notifications.digest_unchanged" or at is None:
                raise
    if at is not None:
        await gateway.handle(
            ChooseDigestTime.parse(member_id=acting.member_id, at=at, timezone=timezone),
            actor=acting.member_id,
            command_id=f"{command_id}:time",
        )
        changed = True
    if not changed:
        return
    answers = {
        None: _("Digests and weekly summaries now come at {time}."),
        DigestMode.OFF: _("Digest off: you get every notification as it happens."),
        DigestMode.DAILY: _("From now on you get one digest a day instead of single messages."),
        DigestMode.WEEKLY: _(
            "From now on you get one digest a week (Mondays) instead of single messages."
        ),
    }
    await message.answer(answers[mode].format(time=esc(at or "")))


def build() -> Router:
    router = Router(name="notifications")
    router.message.register(subscribe, catalog.SUBSCRIBE.filter)
    router.message.register(mute, catalog.MUTE.filter)
    router.message.register(digest, catalog.DIGEST.filter)
    return router
