"""Finding what a member means: their twinnings, a twinning by partner, a measure by code.

Shared by the status, measures, goals and timeline routers. Everything here reads the
read models only; whether a member may *write* is decided by the domain.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from uuid import UUID

import aiosqlite
from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.catalog import RECORDERS
from bot.labels import topic_label
from domain.errors import NotFound
from domain.service import MemberProfile
from domain.values import Topic
from projections import queries
from projections.models import MeasureSummary, RankedTwinning, RegionRef, TwinningRef

NO_VALUE = "-"  # typed for "none" or "keep" in guided dialogs


def may_record_for(member: MemberProfile, region_id: UUID) -> bool:
    """Whether to offer buttons that record for a region (the domain checks again)."""
    if member.role not in RECORDERS:
        return False
    return member.region_id is None or member.region_id == region_id


async def region_named(db: aiosqlite.Connection, ref: str) -> RegionRef:
    region = await queries.find_region(db, ref)
    if region is None:
        raise NotFound("region.not_found", ref=ref)
    return region


async def member_twinnings(
    db: aiosqlite.Connection, member: MemberProfile
) -> tuple[TwinningRef, ...]:
    """The twinnings of the member's region; the programme office's members see all."""
    if member.region_id is None:
        return await queries.twinnings(db)
    return await queries.twinnings(db, region_id=member.region_id)


async def twinnings_meant(
    db: aiosqlite.Connection, member: MemberProfile, ref: str | None
) -> tuple[TwinningRef, ...]:
    """The twinnings a member means by a partner's key or slug (none: their own).

    Of the named region's twinnings, those with the member's own region come first;
    if there are none, all of the named region's twinnings (every member may read
    every twinning of the programme).
    """
    if not ref:
        return await member_twinnings(db, member)
    region = await region_named(db, ref)
    if region.region_id == member.region_id:
        return await member_twinnings(db, member)
    theirs = await queries.twinnings(db, region_id=region.region_id)
    ours = tuple(t for t in theirs if t.includes(member.region_id))
    return ours or theirs


async def measures_meant(
    db: aiosqlite.Connection, member: MemberProfile, code: str
) -> tuple[MeasureSummary, ...]:
    """The measures a member means by a code: their own region's first, then their
    partners', then any region's (a code is unique within a region only)."""
    found = await queries.measures_by_code(db, code)
    if member.region_id is None or len(found) <= 1:
        return found
    own = tuple(m for m in found if m.region.region_id == member.region_id)
    if own:
        return own
    partners = {
        partner.region_id
        for twinning in await member_twinnings(db, member)
        if (partner := twinning.partner_of(member.region_id)) is not None
    }
    return tuple(m for m in found if m.region.region_id in partners) or found


def twinning_name(twinning: TwinningRef | RankedTwinning) -> str:
    """Plain text (for buttons): the partners' names."""
    return f"{twinning.first.name} – {twinning.second.name}"


def topic_keyboard(factory: Callable[..., CallbackData]) -> InlineKeyboardMarkup:
    """Two topics a row; ``factory`` makes a button's data from ``topic``."""
    topics = [
        InlineKeyboardButton(text=topic_label(topic), callback_data=factory(topic=topic).pack())
        for topic in Topic
    ]
    return InlineKeyboardMarkup(
        inline_keyboard=[topics[index : index + 2] for index in range(0, len(topics), 2)]
    )


def decimal_of(text: str) -> Decimal:
    """A number as members type it: 120,5 or 120.5 (no thousands separators)."""
    try:
        return Decimal(text.strip().replace(",", "."))
    except InvalidOperation:
        raise ValueError(text) from None
