"""Localized names of the domain's values: roles, statuses, topics, kinds."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

from bot.i18n import N_
from domain.values import (
    AdviceStatus,
    ExchangeKind,
    GoalStatus,
    MeasureStatus,
    Role,
    Topic,
    TwinningStatus,
)

ROLES = {
    Role.STAFF: N_("staff"),
    Role.COORDINATOR: N_("coordinator"),
    Role.AUDITOR: N_("auditor"),
    Role.ADMIN: N_("admin"),
}
MEASURE_STATUSES = {
    MeasureStatus.PROPOSED: N_("proposed"),
    MeasureStatus.PLANNED: N_("planned"),
    MeasureStatus.IN_PROGRESS: N_("in progress"),
    MeasureStatus.IMPLEMENTED: N_("implemented"),
    MeasureStatus.DISCONTINUED: N_("discontinued"),
}
GOAL_STATUSES = {
    GoalStatus.ACTIVE: N_("active"),
    GoalStatus.ACHIEVED: N_("achieved"),
    GoalStatus.DROPPED: N_("dropped"),
}
TWINNING_STATUSES = {
    TwinningStatus.FORMED: N_("formed"),
    TwinningStatus.RUNNING: N_("running"),
    TwinningStatus.COMPLETED: N_("completed"),
    TwinningStatus.CANCELLED: N_("cancelled"),
}
ADVICE_STATUSES = {
    AdviceStatus.GIVEN: N_("given"),
    AdviceStatus.ACKNOWLEDGED: N_("acknowledged"),
    AdviceStatus.ADOPTED: N_("adopted"),
    AdviceStatus.DECLINED: N_("declined"),
}
TOPICS = {
    Topic.ENERGY_VISION: N_("energy vision (goals and structures)"),
    Topic.PUBLIC_PARTICIPATION: N_("public participation"),
    Topic.COMPANIES: N_("climate protection in companies"),
    Topic.CYCLING: N_("cycling"),
    Topic.E_MOBILITY: N_("e-mobility"),
    Topic.BUILDINGS: N_("buildings and refurbishment"),
    Topic.RENEWABLE_ENERGY: N_("renewable energy"),
    Topic.HEAT: N_("heat planning"),
    Topic.MUNICIPAL_PROPERTIES: N_("municipal properties"),
    Topic.PUBLIC_TRANSPORT: N_("public transport"),
}
EXCHANGE_KINDS = {
    ExchangeKind.MEETING: N_("meeting"),
    ExchangeKind.CALL: N_("call"),
    ExchangeKind.SITE_VISIT: N_("site visit"),
    ExchangeKind.WORKSHOP: N_("workshop"),
    ExchangeKind.JOINT_EVENT: N_("joint event"),
}


def role_label(role: str) -> str:
    return _(ROLES[Role(role)])


def status_label(status: str) -> str:
    return _(MEASURE_STATUSES[MeasureStatus(status)])


def topic_label(topic: str) -> str:
    return _(TOPICS[Topic(topic)])


def exchange_kind_label(kind: str) -> str:
    return _(EXCHANGE_KINDS[ExchangeKind(kind)])


# Error parameters name values of these kinds; each code's parameters belong to one domain.
_VALUE_LABELS: dict[str, dict[str, dict[str, str]]] = {
    "measure.": {
        "status": MEASURE_STATUSES,
        "from_status": MEASURE_STATUSES,
        "to_status": MEASURE_STATUSES,
    },
    "goal.": {"status": GOAL_STATUSES},
    "twinning.": {"status": TWINNING_STATUSES, "topic": TOPICS},
    "advice.": {"status": ADVICE_STATUSES, "topic": TOPICS},
    "auth.": {"role": ROLES},
    "member.": {"role": ROLES},
}


def value_label(code: str, param: str, value: object) -> str:
    """The localized word for a value named in an error's parameters, else the value."""
    for prefix, tables in _VALUE_LABELS.items():
        if code.startswith(prefix) and param in tables:
            label = tables[param].get(str(value))  # type: ignore[call-overload]
            if label is not None:
                return _(label)
    return str(value)
