"""Ziele der Energievision: revisions are history, never overwritten."""

from decimal import Decimal
from uuid import uuid4

import pytest

from domain.commands import DropGoal, MarkGoalAchieved, ReviseGoal
from domain.errors import InvalidCommand, RuleViolated
from domain.goal import Target
from domain.values import GoalStatus
from tests import builders
from tests.builders import act, get, refused


@pytest.fixture
def pair(service):
    return builders.muenchen_and_steinfurt(service)


@pytest.fixture
def goal_id(service, pair):
    return builders.goal(service, pair.muenchen_staff)


def revise(service, actor, goal_id, **fields):
    return act(service, actor, ReviseGoal, goal_id=goal_id, reason="Kreistag decision", **fields)


def test_a_new_goal_has_one_target_and_no_revisions(service, pair, goal_id):
    goal = get(service, goal_id)
    assert goal.region_id == pair.muenchen_id
    assert goal.targets == [Target(Decimal("100"), 2030)]
    assert goal.revision_count == 0
    assert goal.status == GoalStatus.ACTIVE


def test_revisions_keep_every_earlier_target(service, pair, goal_id):
    revise(service, pair.muenchen_staff, goal_id, target_year=2035)
    outcome = revise(service, pair.muenchen_staff, goal_id, target_value="80.5")
    assert outcome.details == {"revisions": "2"}
    goal = get(service, goal_id)
    assert goal.targets == [
        Target(Decimal("100"), 2030),
        Target(Decimal("100"), 2035),
        Target(Decimal("80.5"), 2035),
    ]
    assert goal.revision_count == 2
    assert goal.target == Target(Decimal("80.5"), 2035)


def test_a_revision_may_change_value_and_year_at_once(service, pair, goal_id):
    revise(service, pair.muenchen_staff, goal_id, target_value="90", target_year=2040)
    assert get(service, goal_id).target == Target(Decimal("90"), 2040)


@pytest.mark.parametrize(
    "fields",
    [
        {"target_value": "100"},
        {"target_value": "100.000"},
        {"target_year": 2030},
        {"target_value": "100", "target_year": 2030},
    ],
)
def test_a_revision_must_change_something(service, pair, goal_id, fields):
    with refused(service, "goal.revision_unchanged", RuleViolated):
        revise(service, pair.muenchen_staff, goal_id, **fields)
    assert get(service, goal_id).revision_count == 0


def test_a_revision_without_a_new_value_or_year_is_not_a_valid_command():
    with pytest.raises(InvalidCommand) as caught:
        ReviseGoal.parse(goal_id=uuid4(), reason="Nothing new")
    assert caught.value.problems == [("*", "value_error")]


@pytest.mark.parametrize("closing", ["achieved", "dropped"])
def test_an_achieved_or_dropped_goal_refuses_revisions(service, pair, goal_id, closing):
    if closing == "achieved":
        act(service, pair.muenchen_staff, MarkGoalAchieved, goal_id=goal_id)
    else:
        act(service, pair.muenchen_staff, DropGoal, goal_id=goal_id, reason="Superseded")
    assert get(service, goal_id).status == closing
    with refused(service, "goal.closed") as caught:
        revise(service, pair.muenchen_staff, goal_id, target_year=2045)
    assert caught.value.params == {"status": closing}
    with refused(service, "goal.closed"):
        act(service, pair.muenchen_staff, MarkGoalAchieved, goal_id=goal_id)
    with refused(service, "goal.closed"):
        act(service, pair.muenchen_staff, DropGoal, goal_id=goal_id, reason="Again")


def test_only_the_goals_region_sets_and_revises_it(service, pair, goal_id):
    with refused(service, "auth.other_region"):
        revise(service, pair.steinfurt_staff, goal_id, target_year=2045)
    with refused(service, "auth.other_region"):
        builders.goal(service, pair.steinfurt_staff, region="09184")
