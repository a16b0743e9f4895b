"""CallbackData factories of the bot's buttons (client-controlled: handlers re-check all)."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData


class LanguageChoice(CallbackData, prefix="lang"):
    language: str
