"""Feature router: audit – /history, /asof, /export, /verify, /chart.

Auditors and admins see everything (as does the programme office); coordinators see
their own region's measures, twinnings and members. /export sends the complete log, so
only auditors and admins get it. /chart is for every member.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from datetime import date
from pathlib import Path
from uuid import UUID

from aiogram import Router
from aiogram.filters import CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    FSInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from aiogram.utils.i18n import gettext as _

from audit import answers
from audit.as_of import discard, replay
from audit.export import LOG_FILE, MANIFEST_FILE, VERIFIER, XLSX_FILE, export
from audit.history import (
    MEASURE,
    MEMBER,
    REGION,
    TWINNING,
    Subject,
    find_region,
    history,
    names_for,
    subjects_by_id,
)
from audit.records import encrypted_at_rest
from audit.report import region_chart_png
from audit.verify import verify_store
from audit.views import View, history_line
from bot import catalog
from bot.acting import require_member, today
from bot.buttons import Page
from bot.gateway import DomainGateway
from bot.read_models import ReadModels
from bot.rendering import day, esc, percent
from bot.replies import answer_long
from bot.screens import locale, shorten
from domain.clock import Clock
from domain.errors import NotAllowed, NotFound
from domain.service import MemberProfile
from domain.values import Role, parse_date
from projections import queries

PER_PAGE = 10
TELEGRAM_UPLOAD_LIMIT = 50 * 1024 * 1024
EVERYTHING = frozenset({Role.AUDITOR, Role.ADMIN})
KINDS = {MEASURE: "m", TWINNING: "t", REGION: "r", MEMBER: "p"}


class HistoryPage(CallbackData, prefix="ahist"):
    kind: str
    ident: str
    page: Page


def scope_of(member: MemberProfile) -> UUID | None:
    """The region a member may audit; None: everything (auditors, admins, the office)."""
    if member.role in EVERYTHING or member.region_id is None:
        return None
    return member.region_id


async def _refused(message: Message, entry: catalog.BotCommand, member: MemberProfile) -> bool:
    if entry.allowed_for(member):
        return False
    await message.answer(_("Only auditors, coordinators and admins can do this."))
    return True


# --- /history ----------------------------------------------------------------------------


def _history_text(subject: Subject, lines: list[str], page: int, pages: int, total: int) -> str:
    head = _("<b>History of {subject}</b> – page {page} of {pages}, {total} events").format(
        subject=esc(subject.label), page=page, pages=pages, total=total
    )
    if not lines:
        return head + "\n" + _("Nothing recorded yet.")
    return "\n".join([head, *(esc(line) for line in lines)])


def _history_buttons(subject: Subject, page: int, pages: int) -> InlineKeyboardMarkup | None:
    row = []
    if page > 1:
        row.append(
            InlineKeyboardButton(
                text=_("◀ newer"),
                callback_data=HistoryPage(
                    kind=KINDS[subject.kind], ident=subject.id.hex, page=page - 1
                ).pack(),
            )
        )
    if page < pages:
        row.append(
            InlineKeyboardButton(
                text=_("older ▶"),
                callback_data=HistoryPage(
                    kind=KINDS[subject.kind], ident=subject.id.hex, page=page + 1
                ).pack(),
            )
        )
    return InlineKeyboardMarkup(inline_keyboard=[row]) if row else None


async def _history_screen(
    read_models: ReadModels, subject: Subject, page: int
) -> tuple[str, InlineKeyboardMarkup | None]:
    async with read_models.fresh() as db:
        found = await history(db, subject, page, PER_PAGE)
        names = await names_for(db, found.items)
    lines = [history_line(entry, names, _, locale()) for entry in found.items]
    return (
        _history_text(subject, lines, found.page, found.pages, found.total),
        _history_buttons(subject, found.page, found.pages),
    )


async def history_command(
    message: Message,
    command: CommandObject,
    member: MemberProfile | None,
    read_models: ReadModels,
) -> None:
    acting = require_member(member)
    if await _refused(message, catalog.HISTORY, acting):
        return
    ref = (command.args or "").strip()
    if not ref:
        await message.answer(
            _(
                "Usage: {usage}\nFor example /history LKM-03 (a measure), /history 05566 "
                "(the twinning with a partner, or a region), /history Anna Huber (a member)."
            ).format(usage=esc(catalog.HISTORY.usage))
        )
        return
    async with read_models.fresh() as db:
        subjects = await answers.history_subject(
            db, ref, scope_of(acting), own_region=acting.region_id
        )
    if len(subjects) > 1:
        await message.answer(
            _("Several match {ref}; which one?").format(ref=esc(shorten(ref, 60))),
            reply_markup=InlineKeyboardMarkup(
                inline_keyboard=[
                    [
                        InlineKeyboardButton(
                            text=subject.label[:60],
                            callback_data=HistoryPage(
                                kind=KINDS[subject.kind], ident=subject.id.hex, page=1
                            ).pack(),
                        )
                    ]
                    for subject in subjects[:10]
                ]
            ),
        )
        return
    text, buttons = await _history_screen(read_models, subjects[0], 1)
    await answer_long(message, text, reply_markup=buttons)


async def history_button(
    query: CallbackQuery,
    callback_data: HistoryPage,
    member: MemberProfile | None,
    read_models: ReadModels,
) -> None:
    acting = require_member(member)
    if not catalog.HISTORY.allowed_for(acting):
        await query.answer(
            _("Only auditors, coordinators and admins can do this."), show_alert=True
        )
        return
    kinds = {letter: kind for kind, letter in KINDS.items()}
    try:
        wanted = kinds[callback_data.kind]
        hex_id = UUID(hex=callback_data.ident).hex
    except (KeyError, ValueError):
        await query.answer(_("This button is no longer valid."), show_alert=True)
        return
    async with read_models.fresh() as db:
        subjects = [s for s in await subjects_by_id(db, hex_id) if s.kind == wanted]
    if not subjects:
        raise NotFound("item.not_found")
    subject = subjects[0]
    if not answers.allowed(subject, scope_of(acting)):
        raise NotAllowed("auth.other_region")
    text, buttons = await _history_screen(read_models, subject, max(1, callback_data.page))
    await query.answer()
    if isinstance(query.message, Message) and len(text) <= 4096:
        await query.message.edit_text(text, reply_markup=buttons)
    elif isinstance(query.message, Message):
        await answer_long(query.message, text, reply_markup=buttons)


# --- /asof -------------------------------------------------------------------------------


def _view_text(view: View) -> str:
    return "\n".join([f"<b>{esc(view.title)}</b>", *(esc(line) for line in view.lines)])


async def as_of_command(
    message: Message,
    command: CommandObject,
    member: MemberProfile | None,
    gateway: DomainGateway,
    clock: Clock,
) -> None:
    acting = require_member(member)
    if await _refused(message, catalog.AS_OF, acting):
        return
    parts = (command.args or "").split()
    try:
        when = parse_date(parts[0]) if parts else None
    except ValueError:
        when = None
    if not isinstance(when, date):
        await message.answer(
            _(
                "Usage: {usage}\nFor example /asof 31.12.2016, /asof 31.12.2016 measures or "
                "/asof 31.12.2016 twinning 05566."
            ).format(usage=esc(catalog.AS_OF.usage))
        )
        return
    if when > today(clock):
        await message.answer(_("That date lies in the future."))
        return
    what = parts[1].lower() if len(parts) > 1 else "status"
    aliases = {"stand": "status", "massnahmen": "measures", "maßnahmen": "measures"}
    what = aliases.get(what, what)
    ref = " ".join(parts[2:]) or None
    if what not in answers.WHAT:
        ref = " ".join(parts[1:])
        what = "status"
    replayed = await asyncio.to_thread(replay, gateway.service.app, day=when)
    try:
        async with queries.connect(replayed.path) as db:
            views = await answers.as_of_views(
                db, what, when, ref, _, locale(), scope=scope_of(acting)
            )
    finally:
        await asyncio.to_thread(discard, replayed)
    intro = _("As of the end of {day} (the log up to position {position}):").format(
        day=day(when, locale()), position=replayed.position
    )
    await answer_long(message, "\n\n".join([intro, *(_view_text(view) for view in views)]))


# --- /export -----------------------------------------------------------------------------


async def export_command(
    message: Message, member: MemberProfile | None, gateway: DomainGateway, clock: Clock
) -> None:
    acting = require_member(member)
    if not catalog.EXPORT.allowed_for(acting):
        await message.answer(_("Only auditors and admins receive the complete log."))
        return
    folder = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="regiotwin-export-"))
    try:
        result = await asyncio.to_thread(
            export, gateway.service.app, folder, today(clock), exported_at=clock.now()
        )
        caption = _(
            "The complete log: {events} events, head at position {position}.\n"
            "Check it on your own with verify_export.py (Python only)."
        ).format(events=result.log.events, position=result.log.head_position)
        if encrypted_at_rest(gateway.service.app):
            caption += "\n" + _(
                "The store is encrypted: verify_export.py checks the chain; the decoded fields "
                "are checked with the key by python run_bot.py verify --file events.jsonl."
            )
        sent = False
        for name in (LOG_FILE, XLSX_FILE, MANIFEST_FILE, VERIFIER.name):
            path = folder / name
            if not path.exists():
                continue
            if path.stat().st_size > TELEGRAM_UPLOAD_LIMIT:
                await message.answer(
                    _(
                        "{name} is too large for Telegram; please use the export on the server."
                    ).format(name=esc(name))
                )
                continue
            await message.answer_document(
                FSInputFile(path, filename=name), caption=None if sent else caption
            )
            sent = True
    finally:
        await asyncio.to_thread(shutil.rmtree, folder, True)


# --- /verify -----------------------------------------------------------------------------


async def verify_command(
    message: Message, member: MemberProfile | None, gateway: DomainGateway
) -> None:
    acting = require_member(member)
    if await _refused(message, catalog.VERIFY, acting):
        return
    verdict = await asyncio.to_thread(verify_store, gateway.service.app)
    if verdict.intact:
        await message.answer(
            _(
                "✅ The log is intact: {events} events, {checkpoints} checkpoints match.\n"
                "Head at position {position}:\n<code>{head}</code>"
            ).format(
                events=verdict.checked,
                checkpoints=verdict.checkpoints,
                position=verdict.head_position,
                head=verdict.head,
            )
        )
        return
    await message.answer(
        _(
            "❌ The log was altered: the first broken position is {position} ({reason}). "
            "{events} events before it are intact."
        ).format(
            position=verdict.first_broken_position,
            reason=esc(verdict.reason),
            events=verdict.checked,
        )
    )


# --- /chart ------------------------------------------------------------------------------


async def chart_command(
    message: Message,
    command: CommandObject,
    member: MemberProfile | None,
    read_models: ReadModels,
    clock: Clock,
) -> None:
    acting = require_member(member)
    ref = (command.args or "").strip()
    now = today(clock)
    async with read_models.fresh() as db:
        if ref:
            region = await find_region(db, ref)
            if region is None:
                raise NotFound("region.not_found", ref=ref)
            region_id = region.id
        elif acting.region_id is not None:
            region_id = acting.region_id
        else:
            await message.answer(
                _("Which region? For example {example}").format(example="/chart 09184")
            )
            return
        status = await queries.region_status(db, region_id, now)
    if not any(point.rate.counted for point in status.monthly):
        await message.answer(
            _("{region} has no measures to chart yet.").format(region=esc(status.region.name))
        )
        return
    png = await asyncio.to_thread(region_chart_png, status, _)
    slug = status.region.slug or status.region.region_id.hex[:8]
    await message.answer_photo(
        BufferedInputFile(png, filename=f"rate-{slug}.png"),
        caption=_("Implementation rate of {region} as of {day}: {rate}").format(
            region=esc(status.region.name),
            day=day(now, locale()),
            rate=percent(status.rate.value, locale()),
        ),
    )


def build() -> Router:
    router = Router(name="audit")
    router.message.register(history_command, catalog.HISTORY.filter)
    router.callback_query.register(history_button, HistoryPage.filter())
    router.message.register(as_of_command, catalog.AS_OF.filter)
    router.message.register(export_command, catalog.EXPORT.filter)
    router.message.register(verify_command, catalog.VERIFY.filter)
    router.message.register(chart_command, catalog.CHART.filter)
    return router
