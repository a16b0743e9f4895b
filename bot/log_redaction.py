"""Secrets never reach a log: the bot token, the webhook secret, the cipher key and the
database password are replaced by ``***`` in every log record.

aiogram builds request URLs as ``…/bot<TOKEN>/<method>``, and aiohttp puts the URL into
some errors' text (a redirect loop, an invalid URL, a response error), which aiogram
logs or raises. The filter sits on the root logger's handlers, so it sees every record
that is written anywhere, whichever logger made it, with its arguments, its traceback
and its stack already turned into text.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterable
from urllib.parse import unquote, urlparse

MASK = "***"
SHORTEST = 4
"""Shorter values are not masked (they would mangle ordinary words)."""


def _variants(secret: str) -> set[str]:
    found = {secret}
    # The part of a bot token after "<bot id>:" is what makes it secret; it may travel
    # on its own (URL-encoded colon, a proxy's log).
    bot_id, colon, rest = secret.partition(":")
    if colon and bot_id.isdigit() and len(rest) >= SHORTEST:
        found.add(rest)
    return found


class RedactingFilter(logging.Filter):
    """Replaces each of ``secrets`` with ``***`` in a record's message, traceback and stack."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        found: set[str] = set()
        for secret in secrets:
            if secret and len(secret) >= SHORTEST:
                found |= _variants(secret)
        # Longest first: a token is masked whole before its secret half is looked for.
        self.secrets = sorted(found, key=len, reverse=True)
        self._formatter = logging.Formatter()

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: let logging report it as it would
            return True
        redacted = self.redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            # Formatted now (as the handler's formatter would) so it can be masked.
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


def install_redaction(
    secrets: Iterable[str],
    logger: logging.Logger | None = None,
    *,
    capture_warnings: bool = True,
) -> RedactingFilter:
    """Put a :class:`RedactingFilter` on every handler of ``logger`` (default: the root
    logger; call it after ``logging.basicConfig``); warnings go through logging too."""
    target = logger or logging.getLogger()
    redaction = RedactingFilter(secrets)
    for handler in target.handlers:
        handler.addFilter(redaction)
    if capture_warnings:
        logging.captureWarnings(True)
    return redaction


def remove_redaction(redaction: RedactingFilter, logger: logging.Logger | None = None) -> None:
    for handler in (logger or logging.getLogger()).handlers:
        handler.removeFilter(redaction)


SECRET_VARIABLES = (
    "REGIOTWIN_BOT_TOKEN",
    "REGIOTWIN_WEBHOOK_SECRET",
    "REGIOTWIN_CIPHER_KEY",
)


def configured_secrets() -> list[str]:
    """The secrets of the configured settings (environment and ``.env``); the raw
    environment's too, so settings that fail to load are still masked."""
    from settings import Settings

    found = [os.environ.get(name, "").strip() for name in SECRET_VARIABLES]
    password = urlparse(os.environ.get("REGIOTWIN_DATABASE_URL", "")).password
    if password:
        found += [password, unquote(password)]
    with contextlib.suppress(Exception):  # invalid settings: the command says so itself
        found += Settings().secret_values()
    return [secret for secret in found if secret]
