"""Builds the dispatcher: middlewares in their order, then one router per feature."""

from __future__ import annotations

from dataclasses import dataclass

from aiogram import Dispatcher
from aiogram.fsm.storage.base import BaseStorage
from aiogram.fsm.storage.memory import MemoryStorage

from bot.errors import ErrorReplyMiddleware
from bot.flood import FloodControlMiddleware
from bot.gateway import DomainGateway
from bot.handled_updates import HandledUpdates
from bot.i18n import MemberLanguageMiddleware, build_i18n
from bot.invite_guard import InviteGuard
from bot.middlewares import MemberMiddleware, UpdateIdempotencyMiddleware
from bot.ordering import ChatOrderMiddleware
from bot.read_models import ReadModels
from bot.routers import (
    advice,
    audit,
    exchanges,
    fallback,
    goals,
    measures,
    members,
    notifications,
    onboarding,
    status,
    timeline,
)
from domain.clock import Clock


@dataclass
class BotServices:
    gateway: DomainGateway
    handled_updates: HandledUpdates
    clock: Clock
    admins: frozenset[int]
    read_models: ReadModels


def build_dispatcher(services: BotServices, storage: BaseStorage | None = None) -> Dispatcher:
    dispatcher = Dispatcher(
        storage=storage or MemoryStorage(),
        admins=services.admins,
        read_models=services.read_models,
        clock=services.clock,
        invite_guard=InviteGuard.sharing(services.handled_updates, services.clock),
    )
    # Per update, outermost first: one chat at a time, flood control (before anything that
    # costs), idempotency, then who is acting.
    dispatcher.update.outer_middleware(ChatOrderMiddleware())
    dispatcher.update.outer_middleware(FloodControlMiddleware(services.clock))
    dispatcher.update.outer_middleware(
        UpdateIdempotencyMiddleware(services.handled_updates, services.clock)
    )
    dispatcher.update.outer_middleware(MemberMiddleware(services.gateway))
    # Per event: the language first, so errors are told in it.
    MemberLanguageMiddleware(build_i18n()).setup(dispatcher)
    errors = ErrorReplyMiddleware()
    for observer in (dispatcher.message, dispatcher.callback_query):
        observer.outer_middleware(errors)
    dispatcher.include_routers(
        onboarding.build(),  # first: /cancel and /start work in every dialog state
        status.build(),
        measures.build(),
        goals.build(),
        timeline.build(),
        exchanges.build(),
        advice.build(),
        members.build(),
        notifications.build(),
        audit.build(),
        fallback.build(),  # last: whatever nobody took still gets an answer
    )
    return dispatcher
