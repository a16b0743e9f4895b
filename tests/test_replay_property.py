"""The event store is the only source of truth: replaying it rebuilds exactly what was decided.

Hypothesis draws random sequences of business steps; a small model of the domain turns
each step into a command that is valid at that moment (so every command succeeds) and
predicts its effect. Afterwards a fresh application on the same store must rebuild every
aggregate to the state the deciding application held right after saving it, and to the
state the model predicts.
"""

from __future__ import annotations

import dataclasses
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.application import RegioTwinApplication
from domain.clock import ManualClock
from domain.commands import (
    AcknowledgeAdvice,
    AdoptAdvice,
    AgreeFollowUp,
    ChangeMeasureStatus,
    CompleteFollowUp,
    DeclineAdvice,
    DropGoal,
    GiveAdvice,
    MarkGoalAchieved,
    ProposeMeasure,
    RecordExchange,
    ReportProgress,
    RequestAdvice,
    ReviseGoal,
    SetGoal,
)
from domain.service import RegioTwin
from domain.values import Topic
from tests import builders
from tests.stores import STORES, store_env

MUENCHEN, STEINFURT = "09184", "05566"
REGIONS = (MUENCHEN, STEINFURT)
TWINNING_TOPICS = ("cycling", "e_mobility", "energy_vision", "public_participation")
MUTUAL = "public_participation"  # the other topics are taught by Steinfurt
NEXT_STATUS = {"proposed": "planned", "planned": "in_progress", "in_progress": "implemented"}
START = date(2016, 6, 21)

index = st.integers(min_value=0, max_value=30)
steps = st.lists(
    st.one_of(
        st.tuples(
            st.just("propose"),
            st.sampled_from(REGIONS),
            st.sampled_from([str(topic) for topic in Topic]),
            st.none() | st.decimals(min_value=0, max_value=5000, places=1),
        ),
        st.tuples(st.just("advance"), index),
        st.tuples(st.just("discontinue"), index),
        st.tuples(st.just("progress"), index, st.integers(min_value=0, max_value=100)),
        st.tuples(st.just("set_goal"), st.sampled_from(REGIONS), st.integers(2025, 2050)),
        st.tuples(
            st.just("revise_goal"),
            index,
            st.none() | st.integers(min_value=-50, max_value=500),
            st.none() | st.integers(2025, 2060),
        ),
        st.tuples(st.just("close_goal"), index, st.booleans()),
        st.tuples(
            st.just("exchange"),
            st.integers(0, 360),
            st.lists(st.integers(0, 90), max_size=3),
        ),
        st.tuples(st.just("agree_follow_up"), index, st.integers(0, 90)),
        st.tuples(st.just("complete_follow_up"), index),
        st.tuples(st.just("request"), st.sampled_from(TWINNING_TOPICS), st.booleans()),
        st.tuples(
            st.just("advise"), st.sampled_from(TWINNING_TOPICS), st.booleans(), st.booleans()
        ),
        st.tuples(
            st.just("decide"),
            index,
            st.sampled_from(["acknowledge", "adopt_new", "adopt_existing", "decline"]),
        ),
        st.tuples(st.just("redeliver"), index),
        st.tuples(st.just("later"), st.integers(1, 10_000)),
    ),
    max_size=25,
)


@dataclass
class Model:
    """What the domain should look like after the steps so far."""

    staff: dict[str, UUID]
    twinning_id: UUID
    codes: dict[str, int] = field(default_factory=lambda: dict.fromkeys(REGIONS, 0))
    measures: dict[UUID, dict[str, Any]] = field(default_factory=dict)
    goals: dict[UUID, dict[str, Any]] = field(default_factory=dict)
    exchanges: dict[UUID, dict[str, Any]] = field(default_factory=dict)
    requests: dict[UUID, dict[str, Any]] = field(default_factory=dict)
    advice: dict[UUID, dict[str, Any]] = field(default_factory=dict)
    handled: list[tuple[Any, UUID, str]] = field(default_factory=list)

    def next_code(self, region: str) -> str:
        self.codes[region] += 1
        return f"M-{self.codes[region]}"  # the same codes recur in both regions


def pick(candidates: list[UUID], i: int) -> UUID | None:
    return candidates[i % len(candidates)] if candidates else None


class Steps:
    def __init__(self, service: RegioTwin, clock: ManualClock, model: Model) -> None:
        self.service, self.clock, self.model = service, clock, model

    def run(self, command: Any, region: str) -> Any:
        command_id = f"step-{len(self.model.handled)}"
        actor = self.model.staff[region]
        outcome = self.service.handle(command, actor=actor, command_id=command_id)
        assert not outcome.replayed
        self.model.handled.append((command, actor, command_id))
        return outcome

    def open_measures(self, region: str | None = None) -> list[UUID]:
        return [
            measure_id
            for measure_id, measure in self.model.measures.items()
            if measure["status"] in NEXT_STATUS and region in (None, measure["region"])
        ]

    # --- steps ------------------------------------------------------------------

    def propose(self, region: str, topic: str, co2: Decimal | None) -> None:
        code = self.model.next_code(region)
        command = ProposeMeasure.parse(
            region=region,
            code=code,
            title=f"Maßnahme {code}",
            topic=topic,
            responsible="Klimaschutzmanagement",
            expected_co2_t_per_year=co2,
        )
        outcome = self.run(command, region)
        self.model.measures[outcome.aggregate_id] = {
            "region": region,
            "status": "proposed",
            "progress": 0,
            "advice_id": None,
        }

    def advance(self, i: int) -> None:
        measure_id = pick(self.open_measures(), i)
        if measure_id is not None:
            measure = self.model.measures[measure_id]
            status = NEXT_STATUS[measure["status"]]
            self.run(
                ChangeMeasureStatus.parse(measure_id=measure_id, status=status), measure["region"]
            )
            measure["status"] = status

    def discontinue(self, i: int) -> None:
        measure_id = pick(self.open_measures(), i)
        if measure_id is not None:
            measure = self.model.measures[measure_id]
            self.run(
                ChangeMeasureStatus.parse(measure_id=measure_id, status="discontinued"),
                measure["region"],
            )
            measure["status"] = "discontinued"

    def progress(self, i: int, percent: int) -> None:
        measure_id = pick(self.open_measures(), i)
        if measure_id is not None:
            measure = self.model.measures[measure_id]
            self.run(
                ReportProgress.parse(measure_id=measure_id, percent=percent), measure["region"]
            )
            measure["progress"] = percent

    def set_goal(self, region: str, year: int) -> None:
        command = SetGoal.parse(
            region=region,
            topic="energy_vision",
            metric="Share of renewable electricity",
            target_value="100",
            unit="%",
            target_year=year,
        )
        outcome = self.run(command, region)
        self.model.goals[outcome.aggregate_id] = {
            "region": region,
            "targets": [(Decimal("100"), year)],
            "status": "active",
        }

    def active_goals(self) -> list[UUID]:
        return [gid for gid, goal in self.model.goals.items() if goal["status"] == "active"]

    def revise_goal(self, i: int, value: int | None, year: int | None) -> None:
        goal_id = pick(self.active_goals(), i)
        if goal_id is None:
            return
        goal = self.model.goals[goal_id]
        current_value, current_year = goal["targets"][-1]
        new_value = current_value if value is None else Decimal(value)
        new_year = current_year if year is None else year
        if (new_value, new_year) == (current_value, current_year):
            year = new_year = current_year + 1  # a revision must change something
        command = ReviseGoal.parse(
            goal_id=goal_id, target_value=value, target_year=year, reason="Kreistag"
        )
        self.run(command, goal["region"])
        goal["targets"].append((new_value, new_year))

    def close_goal(self, i: int, achieved: bool) -> None:
        goal_id = pick(self.active_goals(), i)
        if goal_id is None:
            return
        goal = self.model.goals[goal_id]
        if achieved:
            self.run(MarkGoalAchieved.parse(goal_id=goal_id), goal["region"])
            goal["status"] = "achieved"
        else:
            self.run(DropGoal.parse(goal_id=goal_id, reason="Superseded"), goal["region"])
            goal["status"] = "dropped"

    def exchange(self, day: int, due_in: list[int]) -> None:
        held_on = START + timedelta(days=day)
        follow_ups = [
            {
                "text": f"Follow-up {n}",
                "owner_region": REGIONS[n % 2],
                "due_on": (held_on + timedelta(days=days)).strftime("%d.%m.%Y"),
            }
            for n, days in enumerate(due_in)
        ]
        command = RecordExchange.parse(
            twinning_id=self.model.twinning_id,
            kind="workshop",
            held_on=held_on.isoformat(),
            place="Kassel",
            participants=["Anna Huber", "Jan Brinkmann"],
            topics=["cycling"],
            summary="Workshop",
            follow_ups=follow_ups,
        )
        outcome = self.run(command, MUENCHEN)
        self.model.exchanges[outcome.aggregate_id] = {
            "held_on": held_on,
            "follow_ups": len(due_in),
            "done": set(),
        }

    def agree_follow_up(self, i: int, days: int) -> None:
        exchange_id = pick(list(self.model.exchanges), i)
        if exchange_id is None:
            return
        exchange = self.model.exchanges[exchange_id]
        command = AgreeFollowUp.parse(
            exchange_id=exchange_id,
            text="Agreed later",
            owner_region=STEINFURT,
            due_on=exchange["held_on"] + timedelta(days=days),
        )
        self.run(command, STEINFURT)
        exchange["follow_ups"] += 1

    def complete_follow_up(self, i: int) -> None:
        open_items = [
            (exchange_id, number)
            for exchange_id, exchange in self.model.exchanges.items()
            for number in range(1, exchange["follow_ups"] + 1)
            if number not in exchange["done"]
        ]
        if not open_items:
            return
        exchange_id, number = open_items[i % len(open_items)]
        self.run(CompleteFollowUp.parse(exchange_id=exchange_id, number=number), MUENCHEN)
        self.model.exchanges[exchange_id]["done"].add(number)

    def request(self, topic: str, muenchen_asks: bool) -> None:
        asker = MUENCHEN if topic != MUTUAL or muenchen_asks else STEINFURT
        command = RequestAdvice.parse(
            twinning_id=self.model.twinning_id, topic=topic, question=f"How about {topic}?"
        )
        outcome = self.run(command, asker)
        self.model.requests[outcome.aggregate_id] = {
            "to": STEINFURT if asker == MUENCHEN else MUENCHEN,
            "answers": [],
        }

    def advise(self, topic: str, steinfurt_advises: bool, as_reply: bool) -> None:
        adviser = STEINFURT if topic != MUTUAL or steinfurt_advises else MUENCHEN
        receiver = MUENCHEN if adviser == STEINFURT else STEINFURT
        asked = [rid for rid, request in self.model.requests.items() if request["to"] == adviser]
        request_id = asked[-1] if as_reply and asked else None
        command = GiveAdvice.parse(
            twinning_id=self.model.twinning_id,
            topic=topic,
            text=f"Advice on {topic}",
            request_id=request_id,
        )
        outcome = self.run(command, adviser)
        self.model.advice[outcome.aggregate_id] = {
            "to": receiver,
            "status": "given",
            "adopted_measure_id": None,
        }
        if request_id is not None:
            self.model.requests[request_id]["answers"].append(outcome.aggregate_id)

    def decide(self, i: int, how: str) -> None:
        undecided = [
            aid
            for aid, advice in self.model.advice.items()
            if advice["status"] in ("given", "acknowledged")
        ]
        advice_id = pick(undecided, i)
        if advice_id is None:
            return
        advice = self.model.advice[advice_id]
        region = advice["to"]
        if how == "acknowledge" and advice["status"] == "given":
            self.run(AcknowledgeAdvice.parse(advice_id=advice_id), region)
            advice["status"] = "acknowledged"
        elif how == "adopt_existing" and self.open_measures(region):
            measure_id = pick(self.open_measures(region), i)
            self.run(AdoptAdvice.parse(advice_id=advice_id, measure_id=measure_id), region)
            advice.update(status="adopted", adopted_measure_id=measure_id)
        elif how in ("adopt_new", "adopt_existing"):
            code = self.model.next_code(region)
            draft = {"code": code, "title": "Adopted", "topic": "cycling", "responsible": "Amt"}
            outcome = self.run(AdoptAdvice.parse(advice_id=advice_id, new_measure=draft), region)
            measure_id = UUID(outcome.details["measure_id"])
            advice.update(status="adopted", adopted_measure_id=measure_id)
            self.model.measures[measure_id] = {
                "region": region,
                "status": "proposed",
                "progress": 0,
                "advice_id": advice_id,
            }
        else:
            self.run(DeclineAdvice.parse(advice_id=advice_id, reason="Not now"), region)
            advice["status"] = "declined"

    def redeliver(self, i: int) -> None:
        if not self.model.handled:
            return
        command, actor, command_id = self.model.handled[i % len(self.model.handled)]
        before = builders.recorded(self.service)
        assert self.service.handle(command, actor=actor, command_id=command_id).replayed
        assert builders.recorded(self.service) == before

    def later(self, minutes: int) -> None:
        self.clock.advance(timedelta(minutes=minutes))


def typed(value: Any) -> Any:
    """A value with the type of every part spelled out, so that a status that comes back
    from the store as a plain string instead of a MeasureStatus counts as a difference."""
    if isinstance(value, dict):
        return ("dict", sorted((repr(typed(k)), typed(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return (type(value).__name__, [typed(item) for item in value])
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return (type(value).__qualname__, typed(vars(value)))
    return (type(value).__qualname__, value)


def state(aggregate: Any) -> dict[str, Any]:
    return {key: value for key, value in vars(aggregate).items() if key != "_pending_events"}


@pytest.mark.parametrize("kind", STORES)
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    database=None,
)
@given(plan=steps)
def test_replaying_the_store_rebuilds_every_aggregate_as_it_was_decided(kind, plan):
    with tempfile.TemporaryDirectory() as folder, store_env(kind, Path(folder)) as env:
        clock = ManualClock(datetime(2016, 6, 21, 9, 0, tzinfo=UTC))
        service = RegioTwin.from_env(env, clock)
        decided: dict[UUID, Any] = {}
        save = service.app.save

        def save_and_remember(*aggregates: Any, **kwargs: Any) -> Any:
            recordings = save(*aggregates, **kwargs)
            decided.update((aggregate.id, aggregate) for aggregate in aggregates)
            return recordings

        service.app.save = save_and_remember  # type: ignore[method-assign]
        try:
            pair = builders.muenchen_and_steinfurt(service)
            model = Model(
                staff={MUENCHEN: pair.muenchen_staff, STEINFURT: pair.steinfurt_staff},
                twinning_id=pair.twinning_id,
            )
            runner = Steps(service, clock, model)
            for name, *arguments in plan:
                getattr(runner, name)(*arguments)
            assert service.verify_log().intact
        finally:
            service.close()

        fresh = RegioTwinApplication(env=env)
        try:
            stored_ids = {
                notification.originator_id
                for notification in fresh.recorder.select_notifications(start=1, limit=100_000)
            }
            assert stored_ids == set(decided)
            for aggregate_id, before in decided.items():
                rebuilt = fresh.repository.get(aggregate_id)
                assert rebuilt == before
                assert typed(state(rebuilt)) == typed(state(before))
            check_model(fresh, model)
        finally:
            fresh.close()


def check_model(app: RegioTwinApplication, model: Model) -> None:
    """The rebuilt aggregates also say what the steps were meant to achieve."""
    for measure_id, expected in model.measures.items():
        measure = app.repository.get(measure_id)
        assert (measure.status, measure.progress, measure.advice_id) == (
            expected["status"],
            expected["progress"],
            expected["advice_id"],
        )
    for goal_id, expected in model.goals.items():
        goal = app.repository.get(goal_id)
        assert [(t.value, t.year) for t in goal.targets] == expected["targets"]
        assert goal.revision_count == len(expected["targets"]) - 1
        assert goal.status == expected["status"]
    for exchange_id, expected in model.exchanges.items():
        exchange = app.repository.get(exchange_id)
        assert len(exchange.follow_ups) == expected["follow_ups"]
        assert {n for n, item in exchange.follow_ups.items() if item.done} == expected["done"]
    for request_id, expected in model.requests.items():
        assert app.repository.get(request_id).answers == expected["answers"]
    for advice_id, expected in model.advice.items():
        advice = app.repository.get(advice_id)
        assert (advice.status, advice.adopted_measure_id) == (
            expected["status"],
            expected["adopted_measure_id"],
        )
