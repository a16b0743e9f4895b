from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import UUID

from eventsourcing.domain import event

from domain import ids
from domain.errors import RuleViolated
from domain.recording import DomainAggregate
from domain.values import MEASURE_TRANSITIONS, MeasureStatus, Topic


class Measure(DomainAggregate):
    """A Klimaschutzmaßnahme of a region's climate-protection concept."""

    @staticmethod
    def create_id(region_id: UUID, code: str) -> UUID:
        return ids.measure_id(region_id, code)

    @event("Proposed")
    def __init__(
        self,
        region_id: UUID,
        code: str,
        title: str,
        topic: Topic,
        responsible: str,
        due_on: date | None,
        expected_co2_t_per_year: Decimal | None,
        description: str,
        advice_id: UUID | None = None,
    ) -> None:
        self.region_id = region_id
        self.code = code
        self.title = title
        self.topic = Topic(topic)
        self.responsible = responsible
        self.due_on = due_on
        self.expected_co2_t_per_year = expected_co2_t_per_year
        self.description = description
        self.advice_id = advice_id
        self.status = MeasureStatus.PROPOSED
        self.progress = 0

    def change_status(self, status: MeasureStatus, note: str) -> None:
        if status == self.status:
            raise RuleViolated("measure.status_unchanged", status=str(status))
        if status not in MEASURE_TRANSITIONS[self.status]:
            raise RuleViolated(
                "measure.illegal_transition", from_status=str(self.status), to_status=str(status)
            )
        self._change_status(status=status, note=note)

    @event("StatusChanged")
    def _change_status(self, status: MeasureStatus, note: str) -> None:
        self.status = MeasureStatus(status)

    def ensure_open(self) -> None:
        if not self.status.is_open:
            raise RuleViolated("measure.closed", status=str(self.status))

    def report_progress(self, percent: int, note: str) -> None:
        self.ensure_open()
        self._report_progress(percent=percent, note=note)

    @event("ProgressReported")
    def _report_progress(self, percent: int, note: str) -> None:
        self.progress = percent

    def change_due_date(self, due_on: date | None) -> None:
        self.ensure_open()
        if due_on == self.due_on:
            raise RuleViolated("measure.unchanged")
        self._change_due_date(due_on=due_on)

    @event("DueDateChanged")
    def _change_due_date(self, due_on: date | None) -> None:
        self.due_on = due_on

    def change_responsible(self, responsible: str) -> None:
        self.ensure_open()
        if responsible == self.responsible:
            raise RuleViolated("measure.unchanged")
        self._change_responsible(responsible=responsible)

    @event("ResponsibleChanged")
    def _change_responsible(self, responsible: str) -> None:
        self.responsible = responsible

    def edit_description(self, description: str) -> None:
        if description == self.description:
            raise RuleViolated("measure.unchanged")
        self._edit_description(description=description)

    @event("DescriptionEdited")
    def _edit_description(self, description: str) -> None:
        self.description = description
