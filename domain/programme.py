from __future__ import annotations

from datetime import date
from uuid import UUID

from eventsourcing.domain import event

from domain import ids
from domain.recording import DomainAggregate


class Programme(DomainAggregate):
    """A Förderprogramm that runs twinnings for a period (e.g. RegioTwin, 03KF0003)."""

    @staticmethod
    def create_id(code: str) -> UUID:
        return ids.programme_id(code)

    @event("Started")
    def __init__(
        self,
        code: str,
        name: str,
        starts_on: date,
        ends_on: date,
        office: str,
        funder: str,
    ) -> None:
        self.code = code
        self.name = name
        self.starts_on = starts_on
        self.ends_on = ends_on
        self.office = office
        self.funder = funder
