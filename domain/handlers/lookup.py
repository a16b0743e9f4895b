"""Resolving the references users type (region keys and slugs) to aggregates."""

from __future__ import annotations

import re
from uuid import UUID

from domain import ids
from domain.access import Actor
from domain.errors import NotFound, RuleViolated
from domain.region import Region, RegionSlug
from domain.twinning import Twinning
from domain.unit_of_work import UnitOfWork
from domain.values import REGION_KEY_PATTERN


def region(uow: UnitOfWork, ref: str) -> Region:
    if re.fullmatch(REGION_KEY_PATTERN, ref):
        found = uow.find(Region, ids.region_id(ref, ""))
    else:
        index = uow.find(RegionSlug, ids.region_slug_index_id(ref))
        found = None if index is None else uow.find(Region, index.region_id)
    if found is None:
        raise NotFound("region.not_found", ref=ref)
    return found


def acting_region(uow: UnitOfWork, actor: Actor, ref: str | None, twinning: Twinning) -> UUID:
    """The partner region a member acts for: named, or the member's own."""
    if ref is not None:
        region_id = region(uow, ref).id
    elif actor.region_id is not None:
        region_id = actor.region_id
    else:
        raise RuleViolated("twinning.name_the_region")
    if not twinning.includes(region_id):
        raise RuleViolated("twinning.region_not_partner", region=str(region_id))
    actor.require_region(region_id)
    return region_id
