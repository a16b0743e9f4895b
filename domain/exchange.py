from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID, uuid4

from eventsourcing.domain import event

from domain.errors import RuleViolated
from domain.recording import DomainAggregate
from domain.values import ExchangeKind, Topic


@dataclass
class FollowUp:
    number: int
    text: str
    owner_region_id: UUID | None
    owner_member_id: UUID | None
    due_on: date
    done: bool = False


class Exchange(DomainAggregate):
    """An Erfahrungsaustausch between the partners, with the follow-ups it agreed."""

    @staticmethod
    def create_id() -> UUID:
        return uuid4()

    @event("Recorded")
    def __init__(
        self,
        twinning_id: UUID,
        kind: ExchangeKind,
        held_on: date,
        place: str,
        participants: list[str],
        topics: list[Topic],
        summary: str,
    ) -> None:
        self.twinning_id = twinning_id
        self.kind = ExchangeKind(kind)
        self.held_on = held_on
        self.place = place
        self.participants = list(participants)
        self.topics = [Topic(topic) for topic in topics]
        self.summary = summary
        self.follow_ups: dict[int, FollowUp] = {}

    def agree_follow_up(
        self,
        text: str,
        owner_region_id: UUID | None,
        owner_member_id: UUID | None,
        due_on: date,
    ) -> int:
        if due_on < self.held_on:
            raise RuleViolated(
                "follow_up.due_before_exchange",
                due_on=due_on.isoformat(),
                held_on=self.held_on.isoformat(),
            )
        number = len(self.follow_ups) + 1
        self._agree_follow_up(
            number=number,
            text=text,
            owner_region_id=owner_region_id,
            owner_member_id=owner_member_id,
            due_on=due_on,
        )
        return number

    @event("FollowUpAgreed")
    def _agree_follow_up(
        self,
        number: int,
        text: str,
        owner_region_id: UUID | None,
        owner_member_id: UUID | None,
        due_on: date,
    ) -> None:
        self.follow_ups[number] = FollowUp(number, text, owner_region_id, owner_member_id, due_on)

    def complete_follow_up(self, number: int, note: str) -> None:
        follow_up = self.follow_ups.get(number)
        if follow_up is None:
            raise RuleViolated("follow_up.not_found", number=number)
        if follow_up.done:
            raise RuleViolated("follow_up.already_done", number=number)
        self._complete_follow_up(number=number, note=note)

    @event("FollowUpDone")
    def _complete_follow_up(self, number: int, note: str) -> None:
        self.follow_ups[number].done = True
