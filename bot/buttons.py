"""Buttons of the status, measure, goal and timeline screens (CallbackData factories).

Callback data comes back from the client and may be forged: handlers look everything up
again and re-check what the member may see; the domain re-checks every write. Ids travel
as UUID hex; statuses and topics as their short domain values. Each packs into at most
64 bytes (tests/bot/test_measures.py checks the longest of each).
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from aiogram.filters.callback_data import CallbackData
from pydantic import Field

PAGE_LIMIT = 1_000_000
Page = Annotated[int, Field(ge=1, le=PAGE_LIMIT)]
"""A page number as buttons carry it: any other is forged and matches no button (an
unbounded one overflowed SQLite's OFFSET)."""


class StatusOpen(CallbackData, prefix="st"):
    """Show a twinning's status in a new message."""

    twinning: UUID


class ProgrammePage(CallbackData, prefix="pg"):
    """A page of the programme's ranking, edited in place."""

    programme: UUID
    page: Page


class MeasurePage(CallbackData, prefix="ms"):
    """A page of the measure list. ``region`` None: every region; ``topic``/``status``:
    the index of a Topic/MeasureStatus, empty: any; ``q``: the search words, or
    ``#token`` of longer words kept for the chat; ``fresh``: answer with a new message
    instead of editing the pressed one."""

    region: UUID | None = None
    topic: str = ""
    status: str = ""
    q: str = ""
    page: Page = 1
    fresh: bool = False


class MeasureOpen(CallbackData, prefix="mo"):
    """Show one measure; ``edit``: in place of the pressed message."""

    measure: UUID
    edit: bool = False


class MeasureStatusSet(CallbackData, prefix="mc"):
    """Move a measure on; ``version``: the measure's version when the button was shown."""

    measure: UUID
    status: str
    version: int


class MeasureProgressAsk(CallbackData, prefix="mr"):
    """Offer progress values for a measure."""

    measure: UUID
    version: int


class MeasureProgressSet(CallbackData, prefix="mp"):
    measure: UUID
    percent: int
    version: int


class NewMeasureTopic(CallbackData, prefix="nt"):
    topic: str


class NewMeasureConfirm(CallbackData, prefix="nm"):
    record: bool


class GoalPick(CallbackData, prefix="goal"):
    """Start the goal dialog: ``goal`` None: a new goal, else the goal to revise."""

    goal: UUID | None = None


class GoalTopic(CallbackData, prefix="gt"):
    topic: str


class GoalConfirm(CallbackData, prefix="gc"):
    record: bool


class TimelinePage(CallbackData, prefix="tl"):
    """A page of a timeline: ``kind`` t (twinning) or m (measure)."""

    kind: str
    subject: UUID
    page: Page = 1
    fresh: bool = False


ALL = (
    StatusOpen,
    ProgrammePage,
    MeasurePage,
    MeasureOpen,
    MeasureStatusSet,
    MeasureProgressAsk,
    MeasureProgressSet,
    NewMeasureTopic,
    NewMeasureConfirm,
    GoalPick,
    GoalTopic,
    GoalConfirm,
    TimelinePage,
)
