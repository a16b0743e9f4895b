"""Histories drawn by hypothesis: random commands, refused ones included (they record nothing)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from hypothesis import strategies as st

from domain.clock import ManualClock
from domain.commands import (
    AcknowledgeAdvice,
    AdoptAdvice,
    ChangeMeasureStatus,
    CompleteFollowUp,
    DeclineAdvice,
    EditDescription,
    GiveAdvice,
    ProposeMeasure,
    RecordExchange,
    ReportProgress,
    ReviseGoal,
    SetGoal,
)
from domain.errors import DomainError
from domain.service import RegioTwin
from tests import builders

Operation = tuple[Any, ...]
WORDS = ("Radweg", "Ladesäule", "Bürgerdialog", "Wärmepumpe", "Photovoltaik", "Öffentlichkeit")
NEXT_STATUS = {"proposed": "planned", "planned": "in_progress", "in_progress": "implemented"}
TOPICS = ("cycling", "e_mobility", "energy_vision", "public_participation")


@dataclass
class World:
    pair: builders.Pair
    measures: list[UUID] = field(default_factory=list)
    goals: list[UUID] = field(default_factory=list)
    exchanges: list[UUID] = field(default_factory=list)
    advice: list[UUID] = field(default_factory=list)

    def staff_of(self, key: str) -> UUID:
        return self.pair.muenchen_staff if key == "09184" else self.pair.steinfurt_staff


def world(env: dict[str, str]) -> tuple[RegioTwin, ManualClock, World]:
    clock = ManualClock(datetime(2016, 6, 1, 9, tzinfo=UTC))
    service = RegioTwin.from_env(env, clock)
    return service, clock, World(builders.muenchen_and_steinfurt(service))


def operations() -> st.SearchStrategy[Operation]:
    index = st.integers(0, 40)
    return st.one_of(
        st.tuples(
            st.just("propose"),
            st.sampled_from(("09184", "05566")),
            st.integers(1, 30),
            st.sampled_from(WORDS),
            st.sampled_from(TOPICS),
        ),
        st.tuples(st.just("status"), index, st.sampled_from(("next", "next", "discontinued"))),
        st.tuples(st.just("progress"), index, st.integers(0, 100)),
        st.tuples(st.just("describe"), index, st.sampled_from(WORDS)),
        st.tuples(st.just("goal"), st.integers(1, 100)),
        st.tuples(st.just("revise"), index, st.integers(1, 100)),
        st.tuples(st.just("exchange"), st.integers(-10, 60), st.integers(0, 2)),
        st.tuples(st.just("done"), index, st.integers(1, 3)),
        st.tuples(st.just("advise"), st.sampled_from(TOPICS), st.booleans()),
        st.tuples(st.just("decide"), index, st.sampled_from(("ack", "adopt", "decline"))),
        st.tuples(st.just("tick"), st.integers(1, 24 * 40)),
    )


def _pick(items: list[UUID], index: int) -> UUID | None:
    return items[index % len(items)] if items else None


def apply_operation(service: RegioTwin, clock: ManualClock, w: World, op: Operation) -> None:
    with contextlib.suppress(DomainError):  # refused: nothing recorded, as in real life
        _apply(service, clock, w, op)


def _apply(service: RegioTwin, clock: ManualClock, w: World, op: Operation) -> None:
    kind, *args = op
    muc, stf, tid = w.pair.muenchen_staff, w.pair.steinfurt_staff, w.pair.twinning_id
    if kind == "tick":
        clock.advance(timedelta(hours=args[0]))
    elif kind == "propose":
        key, number, word, topic = args
        prefix = "LKM" if key == "09184" else "ST"
        outcome = service.handle(
            ProposeMeasure.parse(
                region=key,
                code=f"{prefix}-{number}",
                title=f"{word} {number}",
                topic=topic,
                responsible=f"Amt {number % 3}",
                description=f"{word} für alle",
            ),
            actor=w.staff_of(key),
        )
        w.measures.append(outcome.aggregate_id)
    elif kind in ("status", "progress", "describe") and (measure := _pick(w.measures, args[0])):
        current = service.app.repository.get(measure)
        actor = muc if current.region_id == w.pair.muenchen_id else stf
        if kind == "status":
            status = (
                NEXT_STATUS.get(str(current.status), "planned") if args[1] == "next" else args[1]
            )
            command: Any = ChangeMeasureStatus.parse(measure_id=measure, status=status)
        elif kind == "progress":
            command = ReportProgress.parse(measure_id=measure, percent=args[1])
        else:
            command = EditDescription.parse(measure_id=measure, description=f"Jetzt {args[1]}")
        service.handle(command, actor=actor)
    elif kind == "goal":
        w.goals.append(
            service.handle(
                SetGoal.parse(
                    region="09184",
                    topic="energy_vision",
                    metric="CO2",
                    target_value=args[0],
                    unit="%",
                    target_year=2030,
                ),
                actor=muc,
            ).aggregate_id
        )
    elif kind == "revise" and (goal := _pick(w.goals, args[0])):
        service.handle(
            ReviseGoal.parse(goal_id=goal, target_value=args[1], reason="neu"), actor=muc
        )
    elif kind == "exchange":
        held = (clock.now() + timedelta(days=args[0])).date()
        follow_ups = [
            {
                "text": f"Aufgabe {n}",
                "owner_region": "05566",
                "due_on": held + timedelta(days=7 * n),
            }
            for n in range(1, args[1] + 1)
        ]
        w.exchanges.append(
            service.handle(
                RecordExchange.parse(
                    twinning_id=tid,
                    kind="meeting",
                    held_on=held,
                    place="Online",
                    summary="Austausch",
                    follow_ups=follow_ups,
                ),
                actor=muc,
            ).aggregate_id
        )
    elif kind == "done" and (exchange := _pick(w.exchanges, args[0])):
        service.handle(CompleteFollowUp.parse(exchange_id=exchange, number=args[1]), actor=stf)
    elif kind == "advise":
        topic, from_muenchen = args
        w.advice.append(
            service.handle(
                GiveAdvice.parse(twinning_id=tid, topic=topic, text=f"Rat zu {topic}"),
                actor=muc if from_muenchen else stf,
            ).aggregate_id
        )
    elif kind == "decide" and (advice := _pick(w.advice, args[0])):
        for actor in (muc, stf):  # whichever side received it may decide
            try:
                _decide(service, advice, args[1], actor, len(w.measures))
                return
            except DomainError:
                continue


def _decide(service: RegioTwin, advice: UUID, how: str, actor: UUID, n: int) -> None:
    if how == "ack":
        service.handle(AcknowledgeAdvice.parse(advice_id=advice), actor=actor)
    elif how == "decline":
        service.handle(DeclineAdvice.parse(advice_id=advice, reason="Passt nicht"), actor=actor)
    else:
        service.handle(
            AdoptAdvice.parse(
                advice_id=advice,
                new_measure={
                    "code": f"RAT-{n + 100}",
                    "title": "Übernommen",
                    "topic": "cycling",
                    "responsible": "Klimaschutz",
                },
            ),
            actor=actor,
        )
