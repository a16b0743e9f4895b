"""The use cases, one module per area; importing the package registers them."""

from domain.handlers import (
    advice,
    audit,
    exchanges,
    goals,
    measures,
    members,
    notifications,
    programmes,
)

__all__ = [
    "advice",
    "audit",
    "exchanges",
    "goals",
    "measures",
    "members",
    "notifications",
    "programmes",
]
