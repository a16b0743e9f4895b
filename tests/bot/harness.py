"""The in-process harness of the bot tests lives in :mod:`bot.transcript` (the demo uses it too)."""

from bot.transcript import (
    BOT_TOKEN,
    BOT_USER,
    GROUP,
    BotHarness,
    Person,
    RecordingSession,
    Reply,
    Upload,
)

__all__ = [
    "BOT_TOKEN",
    "BOT_USER",
    "GROUP",
    "BotHarness",
    "Person",
    "RecordingSession",
    "Reply",
    "Upload",
]
