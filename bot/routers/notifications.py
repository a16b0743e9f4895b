"""Feature router: notification settings (being built)."""

from __future__ import annotations

from aiogram import Router


def build() -> Router:
    return Router(name="notifications")
