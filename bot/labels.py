"""Localized names of the domain's values: roles, statuses, topics, kinds."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

from bot.i18n import N_
from domain.values import ExchangeKind, MeasureStatus, Role, Topic

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
