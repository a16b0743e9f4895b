from __future__ import annotations

from uuid import UUID, uuid4

from eventsourcing.domain import event

from domain.errors import RuleViolated
from domain.recording import DomainAggregate
from domain.values import AdviceStatus, Topic


class AdviceRequest(DomainAggregate):
    """A question from the learning side to its partner, on a topic or a measure."""

    @staticmethod
    def create_id() -> UUID:
        return uuid4()

    @event("Requested")
    def __init__(
        self,
        twinning_id: UUID,
        from_region_id: UUID,
        to_region_id: UUID,
        topic: Topic,
        question: str,
        measure_id: UUID | None,
    ) -> None:
        self.twinning_id = twinning_id
        self.from_region_id = from_region_id
        self.to_region_id = to_region_id
        self.topic = Topic(topic)
        self.question = question
        self.measure_id = measure_id
        self.answers: list[UUID] = []

    def answer(self, advice_id: UUID) -> None:
        self._answer(advice_id=advice_id)

    @event("Answered")
    def _answer(self, advice_id: UUID) -> None:
        self.answers.append(advice_id)


class Advice(DomainAggregate):
    """Rat from the teaching side: acknowledged, then adopted into a measure or declined."""

    @staticmethod
    def create_id() -> UUID:
        return uuid4()

    @event("Given")
    def __init__(
        self,
        twinning_id: UUID,
        from_region_id: UUID,
        to_region_id: UUID,
        topic: Topic,
        text: str,
        measure_id: UUID | None,
        request_id: UUID | None,
    ) -> None:
        self.twinning_id = twinning_id
        self.from_region_id = from_region_id
        self.to_region_id = to_region_id
        self.topic = Topic(topic)
        self.text = text
        self.measure_id = measure_id
        self.request_id = request_id
        self.status = AdviceStatus.GIVEN
        self.adopted_measure_id: UUID | None = None

    def ensure_undecided(self) -> None:
        if self.status in (AdviceStatus.ADOPTED, AdviceStatus.DECLINED):
            raise RuleViolated("advice.already_decided", status=str(self.status))

    def acknowledge(self) -> None:
        self.ensure_undecided()
        if self.status == AdviceStatus.ACKNOWLEDGED:
            raise RuleViolated("advice.already_acknowledged")
        self._acknowledge()

    @event("Acknowledged")
    def _acknowledge(self) -> None:
        self.status = AdviceStatus.ACKNOWLEDGED

    def adopt(self, measure_id: UUID) -> None:
        self.ensure_undecided()
        self._adopt(measure_id=measure_id)

    @event("Adopted")
    def _adopt(self, measure_id: UUID) -> None:
        self.status = AdviceStatus.ADOPTED
        self.adopted_measure_id = measure_id

    def decline(self, reason: str) -> None:
        self.ensure_undecided()
        self._decline(reason=reason)

    @event("Declined")
    def _decline(self, reason: str) -> None:
        self.status = AdviceStatus.DECLINED
        self.decline_reason = reason
