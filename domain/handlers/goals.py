from __future__ import annotations

from domain.access import Actor
from domain.commands import DropGoal, MarkGoalAchieved, ReviseGoal, SetGoal
from domain.goal import Goal
from domain.handlers import lookup
from domain.service import Outcome, handles
from domain.unit_of_work import UnitOfWork


@handles(SetGoal)
def set_goal(cmd: SetGoal, uow: UnitOfWork, actor: Actor) -> Outcome:
    region = lookup.region(uow, cmd.region)
    actor.require_region(region.id)
    goal = uow.add(
        Goal(
            region_id=region.id,
            topic=cmd.topic,
            metric=cmd.metric,
            target_value=cmd.target_value,
            unit=cmd.unit,
            target_year=cmd.target_year,
        )
    )
    return Outcome.of(goal)


def _goal(uow: UnitOfWork, actor: Actor, cmd: ReviseGoal | MarkGoalAchieved | DropGoal) -> Goal:
    goal = uow.get(Goal, cmd.goal_id)
    actor.require_region(goal.region_id)
    return uow.get(Goal, cmd.goal_id, cmd.expected_version)


@handles(ReviseGoal)
def revise_goal(cmd: ReviseGoal, uow: UnitOfWork, actor: Actor) -> Outcome:
    goal = _goal(uow, actor, cmd)
    goal.revise(cmd.target_value, cmd.target_year, cmd.reason)
    return Outcome.of(goal, revisions=str(goal.revision_count))


@handles(MarkGoalAchieved)
def mark_achieved(cmd: MarkGoalAchieved, uow: UnitOfWork, actor: Actor) -> Outcome:
    goal = _goal(uow, actor, cmd)
    goal.achieve(cmd.note)
    return Outcome.of(goal)


@handles(DropGoal)
def drop_goal(cmd: DropGoal, uow: UnitOfWork, actor: Actor) -> Outcome:
    goal = _goal(uow, actor, cmd)
    goal.drop(cmd.reason)
    return Outcome.of(goal)
