"""Who is acting, and what 'today' is for them."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from domain.clock import Clock
from domain.errors import NotAllowed
from domain.service import MemberProfile

BERLIN = ZoneInfo("Europe/Berlin")


def require_member(member: MemberProfile | None) -> MemberProfile:
    """Strangers get the polite refusal; nothing about the programme is revealed."""
    if member is None:
        raise NotAllowed("auth.unknown_member")
    return member


def today(clock: Clock) -> date:
    return clock.now().astimezone(BERLIN).date()
