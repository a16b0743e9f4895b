from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import event

from domain import ids
from domain.recording import DomainAggregate
from domain.values import KeyType, RegionKind


class Region(DomainAggregate):
    """A partner: Landkreis, Kreis, Stadt, Gemeinde, Verband(sgemeinde) or Region.

    Identified by its official key where it has one, and always by its slug.
    """

    @staticmethod
    def create_id(key: str | None, slug: str) -> UUID:
        return ids.region_id(key, slug)

    @event("Registered")
    def __init__(
        self,
        key: str | None,
        key_type: KeyType | None,
        slug: str,
        name: str,
        kind: RegionKind,
        land: str,
    ) -> None:
        self.key = key
        self.key_type = KeyType(key_type) if key_type else None
        self.slug = slug
        self.name = name
        self.kind = RegionKind(kind)
        self.land = land


class RegionSlug(DomainAggregate):
    """Index from a region's slug to its id; a second region with the slug collides."""

    @staticmethod
    def create_id(slug: str) -> UUID:
        return ids.region_slug_index_id(slug)

    @event("Claimed")
    def __init__(self, slug: str, region_id: UUID) -> None:
        self.slug = slug
        self.region_id = region_id
