"""Feature router: audit – history, as-of, export, verify, chart (being built)."""

from __future__ import annotations

from aiogram import Router


def build() -> Router:
    return Router(name="audit")
