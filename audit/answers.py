"""What the as-of and history questions answer, for the bot and the CLI alike.

``scope`` is the region a coordinator may see (None: everything – auditors, admins,
the programme office). Unknown references raise the domain's ``NotFound``, references
outside the scope its ``NotAllowed``; both are rendered by the caller.
"""

from __future__ import annotations

from datetime import date
from uuid import UUID

import aiosqlite

from audit.history import (
    TWINNING,
    Subject,
    Translate,
    find_region,
    find_subjects,
    twinning_subjects,
)
from audit.views import (
    View,
    measures_view,
    programme_view,
    region_view,
    twinning_view,
)
from bot.rendering import day as format_day
from domain.errors import NotAllowed, NotFound
from projections import queries

WHAT = ("status", "measures", "twinning")
MEASURES_SHOWN = 50


def allowed(subject: Subject, scope: UUID | None) -> bool:
    return scope is None or subject.concerns(scope)


async def _region(db: aiosqlite.Connection, ref: str | None, scope: UUID | None) -> UUID | None:
    if not ref:
        return scope
    region = await find_region(db, ref)
    if region is None:
        raise NotFound("region.not_found", ref=ref)
    if not allowed(region, scope):
        raise NotAllowed("auth.other_region")
    return region.id


async def as_of_views(
    db: aiosqlite.Connection,
    what: str,
    day: date,
    ref: str | None,
    _: Translate,
    locale: str,
    *,
    scope: UUID | None = None,
) -> list[View]:
    """The status (default), the measures or the twinning, from read models as of ``day``."""
    if what == "measures":
        region_id = await _region(db, ref, scope)
        page = await queries.measures(db, region=region_id, per_page=MEASURES_SHOWN)
        when = format_day(day, locale)
        if region_id is None:
            title = _("All measures as of {day}").format(day=when)
        else:
            name = (await queries.region_ref(db, region_id.hex)).name
            title = _("Measures of {region} as of {day}").format(region=name, day=when)
        return [measures_view(page, title, _, locale)]
    if what == "twinning":
        if ref:
            subjects = [s for s in await find_subjects(db, ref, scope) if s.kind == TWINNING]
            if not subjects:
                raise NotFound("twinning.not_found")
        else:
            subjects = await _twinnings_of(db, scope)
        subjects = [subject for subject in subjects if allowed(subject, scope)]
        if not subjects:
            raise NotAllowed("auth.not_a_partner") if ref else NotFound("twinning.not_found")
        return [
            twinning_view(await queries.twinning_status(db, subject.id, day), day, _, locale)
            for subject in subjects
        ]
    region_id = await _region(db, ref, scope)
    if region_id is not None:
        return [region_view(await queries.region_status(db, region_id, day), _, locale)]
    views = []
    async with db.execute("SELECT programme_id FROM programmes ORDER BY starts_on, code") as rows:
        programme_ids = [row[0] for row in await rows.fetchall()]
    for programme_id in programme_ids:
        views.append(
            programme_view(await queries.programme_overview(db, programme_id, day), _, locale)
        )
    return views


async def _twinnings_of(db: aiosqlite.Connection, region_id: UUID | None) -> list[Subject]:
    if region_id is None:
        return await twinning_subjects(db, "1", ())
    return await twinning_subjects(
        db, "t.first_region_id = ? OR t.second_region_id = ?", (region_id.hex, region_id.hex)
    )


async def history_subject(
    db: aiosqlite.Connection, ref: str, scope: UUID | None, *, own_region: UUID | None = None
) -> list[Subject]:
    """The subjects a reference means that the asker may see (NotFound/NotAllowed if none)."""
    subjects = await find_subjects(db, ref, own_region if own_region is not None else scope)
    if not subjects:
        raise NotFound("item.not_found")
    visible = [subject for subject in subjects if allowed(subject, scope)]
    if not visible:
        raise NotAllowed("auth.other_region")
    return visible
