from __future__ import annotations

from datetime import date
from uuid import UUID

from eventsourcing.domain import event

from domain import ids
from domain.errors import RuleViolated
from domain.recording import DomainAggregate
from domain.values import Topic, TwinningStatus


class Twinning(DomainAggregate):
    """One year of partnership between two regions of a programme.

    Each topic (Handlungsfeld) has its own direction: the region that teaches it,
    or none where the pair works "auf Augenhöhe".
    """

    @staticmethod
    def create_id(programme_id: UUID, first_region_id: UUID, second_region_id: UUID) -> UUID:
        return ids.twinning_id(programme_id, first_region_id, second_region_id)

    @event("Formed")
    def __init__(
        self,
        programme_id: UUID,
        first_region_id: UUID,
        second_region_id: UUID,
        starts_on: date,
        ends_on: date,
    ) -> None:
        self.programme_id = programme_id
        self.first_region_id = first_region_id
        self.second_region_id = second_region_id
        self.starts_on = starts_on
        self.ends_on = ends_on
        self.status = TwinningStatus.FORMED
        self.topics: dict[Topic, UUID | None] = {}

    @classmethod
    def form(
        cls,
        programme_id: UUID,
        first_region_id: UUID,
        second_region_id: UUID,
        starts_on: date,
        ends_on: date,
    ) -> Twinning:
        if first_region_id == second_region_id:
            raise RuleViolated("twinning.same_region")
        if ends_on <= starts_on:
            raise RuleViolated("twinning.ends_before_start")
        return cls(
            programme_id=programme_id,
            first_region_id=first_region_id,
            second_region_id=second_region_id,
            starts_on=starts_on,
            ends_on=ends_on,
        )

    @property
    def region_ids(self) -> tuple[UUID, UUID]:
        return (self.first_region_id, self.second_region_id)

    @property
    def is_closed(self) -> bool:
        return self.status in (TwinningStatus.COMPLETED, TwinningStatus.CANCELLED)

    def includes(self, region_id: UUID) -> bool:
        return region_id in self.region_ids

    def partner_of(self, region_id: UUID) -> UUID:
        if not self.includes(region_id):
            raise RuleViolated("twinning.region_not_partner", region=str(region_id))
        return self.second_region_id if region_id == self.first_region_id else self.first_region_id

    def teacher_of(self, topic: Topic) -> UUID | None:
        if topic not in self.topics:
            raise RuleViolated("twinning.topic_not_in_twinning", topic=str(topic))
        return self.topics[topic]

    def may_advise(self, adviser_region_id: UUID, topic: Topic) -> bool:
        """The teaching side advises; on a mutual topic either side advises the other."""
        teacher = self.teacher_of(topic)
        return self.includes(adviser_region_id) and teacher in (None, adviser_region_id)

    def ensure_open(self) -> None:
        if self.is_closed:
            raise RuleViolated("twinning.closed", status=str(self.status))

    def add_topic(self, topic: Topic, teaching_region_id: UUID | None) -> None:
        self.ensure_open()
        if topic in self.topics:
            raise RuleViolated("twinning.topic_exists", topic=str(topic))
        if teaching_region_id is not None and not self.includes(teaching_region_id):
            raise RuleViolated("twinning.region_not_partner", region=str(teaching_region_id))
        self._add_topic(topic=topic, teaching_region_id=teaching_region_id)

    @event("TopicAdded")
    def _add_topic(self, topic: Topic, teaching_region_id: UUID | None) -> None:
        self.topics[Topic(topic)] = teaching_region_id

    def remove_topic(self, topic: Topic) -> None:
        self.ensure_open()
        if topic not in self.topics:
            raise RuleViolated("twinning.topic_not_in_twinning", topic=str(topic))
        self._remove_topic(topic=topic)

    @event("TopicRemoved")
    def _remove_topic(self, topic: Topic) -> None:
        del self.topics[Topic(topic)]

    def start(self) -> None:
        if self.status != TwinningStatus.FORMED:
            raise RuleViolated("twinning.not_formed", status=str(self.status))
        self._start()

    @event("Started")
    def _start(self) -> None:
        self.status = TwinningStatus.RUNNING

    def complete(self) -> None:
        if self.status != TwinningStatus.RUNNING:
            raise RuleViolated("twinning.not_running", status=str(self.status))
        self._complete()

    @event("Completed")
    def _complete(self) -> None:
        self.status = TwinningStatus.COMPLETED

    def cancel(self, reason: str) -> None:
        self.ensure_open()
        self._cancel(reason=reason)

    @event("Cancelled")
    def _cancel(self, reason: str) -> None:
        self.status = TwinningStatus.CANCELLED
        self.cancellation_reason = reason
