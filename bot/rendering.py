"""Telegram HTML: escaped user text, locale-aware dates and numbers, 4096-character parts."""

from __future__ import annotations

import html
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal, format_percent

TELEGRAM_MESSAGE_LIMIT = 4096
BERLIN = ZoneInfo("Europe/Berlin")


def esc(text: object) -> str:
    """Escape anything a user typed before it goes into an HTML message."""
    return html.escape(str(text), quote=False)


def day(value: date, locale: str) -> str:
    """25.11.2026 in German, Nov 25, 2026 in English."""
    return format_date(value, format="medium" if locale == "en" else "dd.MM.yyyy", locale=locale)


def moment(value: datetime, locale: str, tz: ZoneInfo = BERLIN) -> str:
    pattern = "dd.MM.yyyy HH:mm" if locale == "de" else "MMM d, yyyy h:mm a"
    return format_datetime(value.astimezone(tz), pattern, tzinfo=tz, locale=locale)


def number(value: Decimal | float | int, locale: str) -> str:
    return format_decimal(value, locale=locale)


def percent(value: float | None, locale: str) -> str:
    if value is None:
        return "–"
    return format_percent(value, format="#,##0.0 %", locale=locale)


def split_message(text: str, limit: int = TELEGRAM_MESSAGE_LIMIT) -> list[str]:
    """Split at line boundaries so no part exceeds Telegram's limit.

    A single line longer than the limit is cut hard; callers keep HTML tags within
    one line so a cut never separates an opening tag from its closing one.
    """
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                parts.append(current)
                current = ""
            parts.append(line[:limit])
            line = line[limit:]
        candidate = line if not current else f"{current}\n{line}"
        if len(candidate) > limit:
            parts.append(current)
            current = line
        else:
            current = candidate
    if current or not parts:
        parts.append(current)
    return parts
