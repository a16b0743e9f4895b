"""Translations outside the bot (CLI, reports): the bot's gettext catalogs, read directly."""

from __future__ import annotations

import gettext
from collections.abc import Callable
from functools import cache

from bot.i18n import LOCALES

Translate = Callable[[str], str]


@cache
def translator(locale: str) -> Translate:
    """``gettext`` for a locale (``de`` or ``en``); unknown messages stay English."""
    catalog = gettext.translation(
        "messages", localedir=str(LOCALES), languages=[locale], fallback=True
    )
    return catalog.gettext
