"""What the exchange, advice and member screens share: which twinning and which side a
member acts in, and compact ids for buttons.

Button data is client-controlled: every id that comes back in a button is looked up again
in the read models and checked against what the pressing member may see.
"""

from __future__ import annotations

import base64
import binascii
from uuid import UUID

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup

from bot.read_models import ReadModels
from bot.screens import button, keyboard
from domain.errors import NotFound
from domain.service import MemberProfile
from projections import queries
from projections.models import RegionRef, RegionTwinning


class TwinningPick(CallbackData, prefix="twp"):
    """A twinning chosen at the start of a dialog (``flow``: ex, ask, adv)."""

    flow: str
    twinning: str


class SidePick(CallbackData, prefix="sdp"):
    """The region a programme-office member acts for in a twinning."""

    flow: str
    region: str


# --- compact ids ------------------------------------------------------------------------


def short_id(value: UUID) -> str:
    """A UUID in 22 URL-safe characters (its hex needs 32; button data has 64 bytes)."""
    return base64.urlsafe_b64encode(value.bytes).rstrip(b"=").decode()


def from_short_id(text: str, not_found: str = "item.not_found") -> UUID:
    """The UUID of a button's compact id; a forged or broken one is simply not found."""
    try:
        raw = base64.urlsafe_b64decode(text + "==")
        return UUID(bytes=raw)
    except (binascii.Error, ValueError):
        raise NotFound(not_found) from None


# --- who may do what ----------------------------------------------------------------------


# --- twinnings ----------------------------------------------------------------------------


async def twinnings_for(
    read_models: ReadModels, member: MemberProfile, *, open_only: bool
) -> tuple[RegionTwinning, ...]:
    """The twinnings of the member's region; the programme office sees every twinning."""
    async with read_models.fresh() as db:
        return await queries.twinnings_of_region(db, member.region_id, open_only=open_only)


async def chosen_twinning(
    read_models: ReadModels, member: MemberProfile, pick: TwinningPick
) -> RegionTwinning:
    """The twinning a button names, if it is one the member may act in."""
    twinning_id = from_short_id(pick.twinning, "twinning.not_found")
    for twinning in await twinnings_for(read_models, member, open_only=True):
        if twinning.twinning_id == twinning_id:
            return twinning
    raise NotFound("twinning.not_found")


def twinning_name(twinning: RegionTwinning, member: MemberProfile) -> str:
    """The partner's name for a partner's member, both names for the office (not escaped)."""
    if member.region_id is not None and twinning.includes(member.region_id):
        return twinning.partner_of(member.region_id).name
    return f"{twinning.first.name} – {twinning.second.name}"


def twinning_keyboard(
    flow: str, twinnings: tuple[RegionTwinning, ...], member: MemberProfile
) -> InlineKeyboardMarkup | None:
    return keyboard(
        [
            [
                button(
                    twinning_name(t, member),
                    TwinningPick(flow=flow, twinning=short_id(t.twinning_id)),
                )
            ]
            for t in twinnings
        ]
    )


def side_keyboard(flow: str, twinning: RegionTwinning) -> InlineKeyboardMarkup | None:
    return keyboard(
        [
            [button(region.name, SidePick(flow=flow, region=short_id(region.region_id)))]
            for region in twinning.regions
        ]
    )


def region_ref_text(region: RegionRef) -> str:
    """How commands name a region: its official key, else its slug."""
    return region.key or region.slug or region.region_id.hex
