"""How event values are written into read-model rows: one canonical text form each.

Rows hold only text and integers (never floats), so that a rebuild from zero gives the
same bytes as the live catch-up.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID


def instant(moment: datetime) -> str:
    """An aware datetime as fixed-width UTC text: sorts as text in time order."""
    if moment.tzinfo is None:
        raise ValueError("event timestamps are timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def uid(value: UUID | str | None) -> str | None:
    if value is None:
        return None
    return value.hex if isinstance(value, UUID) else UUID(value).hex


def decimal(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def text(value: Any) -> str | None:
    """Enum members (decoded events hold plain strings, live ones may hold StrEnums)."""
    if value is None:
        return None
    return str(value.value) if isinstance(value, Enum) else str(value)


def plain(value: Any) -> Any:
    """A value made JSON-ready in its canonical form."""
    if isinstance(value, datetime):
        return instant(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, UUID):
        return value.hex
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value


def canonical_json(value: Any) -> str:
    return json.dumps(plain(value), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
