"""Translations with gettext catalogs (bot/locales, compiled with babel).

Messages are written in English in the code (``_("…")``); ``de`` is the default
locale. The language of a member is their choice, else Telegram's language_code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiogram.types import TelegramObject, User
from aiogram.utils.i18n import I18n, I18nMiddleware

from domain.service import MemberProfile

LOCALES = Path(__file__).parent / "locales"
DEFAULT_LOCALE = "de"
SUPPORTED = ("de", "en")


def N_(message: str) -> str:  # noqa: N802 (gettext's conventional marker)
    """Marks a message for extraction; it is translated where it is shown."""
    return message


def build_i18n() -> I18n:
    return I18n(path=LOCALES, default_locale=DEFAULT_LOCALE, domain="messages")


def guess_locale(member: MemberProfile | None, user: User | None) -> str:
    if member is not None and member.language is not None:
        return str(member.language)
    code = (user.language_code or "") if user is not None else ""
    base = code.split("-")[0].lower()
    return base if base in SUPPORTED else DEFAULT_LOCALE


class MemberLanguageMiddleware(I18nMiddleware):
    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        return guess_locale(data.get("member"), data.get("event_from_user"))
