"""Deterministic aggregate ids for natural keys (uuid5), so duplicates collide."""

from __future__ import annotations

import hashlib
import hmac
from uuid import UUID, uuid5

NAMESPACE = UUID("6f1d2a0e-4b7c-5e8a-9c3d-2f1e0b9a8c7d")


def natural_id(kind: str, *parts: object) -> UUID:
    return uuid5(NAMESPACE, "/".join([kind, *(str(part) for part in parts)]))


def programme_id(code: str) -> UUID:
    return natural_id("programme", code)


def region_id(key: str | None, slug: str) -> UUID:
    """From the official key where a region has one (AGS, Verbandsschlüssel), else its slug."""
    return natural_id("region-key", key) if key else natural_id("region-slug", slug)


def region_slug_index_id(slug: str) -> UUID:
    return natural_id("region-slug-index", slug)


def twinning_id(programme: UUID, first: UUID, second: UUID) -> UUID:
    a, b = sorted((first, second))
    return natural_id("twinning", programme, a, b)


def measure_id(region: UUID, code: str) -> UUID:
    return natural_id("measure", region, code)


def receipt_id(command_id: str) -> UUID:
    return natural_id("command", command_id)


def invite_index_id(code_hash: str) -> UUID:
    return natural_id("invite", code_hash)


def telegram_account_id(index_key: bytes, telegram_user_id: int) -> UUID:
    """Keyed (HMAC-SHA-256 under the store's index key, see :mod:`domain.personal_data`):
    unlike a uuid5, the log alone does not let anyone try every Telegram id."""
    message = f"telegram-account/{telegram_user_id}".encode()
    return UUID(bytes=hmac.new(index_key, message, hashlib.sha256).digest()[:16])


def notification_settings_id(member_id: UUID) -> UUID:
    return natural_id("notification-settings", member_id)
