"""Guessing invite codes is rate-limited per Telegram user, across restarts.

An invite code carries 192 bits of randomness (``secrets.token_urlsafe(24)``) and only its
SHA-256 is stored, so guessing one is hopeless. Still, every wrong code costs a look-up in
the event store: after ``MAX_FAILURES`` (5) failed ``/start CODE`` attempts within
``WINDOW`` (10 minutes), a Telegram user's further attempts are refused politely without
touching the domain, until the oldest failure leaves the window.

The failures live in the bot's state database (``bot_state.sqlite``, on the connection of
:class:`~bot.handled_updates.HandledUpdates`), so a restart does not reset the count. A
successful join clears the user's failures; failures older than the window are deleted.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import aiosqlite

from bot.handled_updates import HandledUpdates
from domain.clock import Clock

MAX_FAILURES = 5
WINDOW = timedelta(minutes=10)


class InviteGuard:
    def __init__(self, db: aiosqlite.Connection, clock: Clock) -> None:
        self._db = db
        self._clock = clock
        self._ready = False

    @classmethod
    def sharing(cls, handled: HandledUpdates, clock: Clock) -> InviteGuard:
        """The guard's table lives in the bot's state database, on its one connection."""
        return cls(handled._db, clock)

    async def _table(self) -> aiosqlite.Connection:
        if not self._ready:
            await self._db.execute(
                "CREATE TABLE IF NOT EXISTS invite_failures ("
                " telegram_user_id INTEGER NOT NULL, failed_at REAL NOT NULL)"
            )
            await self._db.execute(
                "CREATE INDEX IF NOT EXISTS invite_failures_by_user"
                " ON invite_failures (telegram_user_id, failed_at)"
            )
            await self._db.commit()
            self._ready = True
        return self._db

    async def blocked_until(self, telegram_user_id: int) -> datetime | None:
        """When the user may try again, or None if they may now."""
        db = await self._table()
        since = (self._clock.now() - WINDOW).timestamp()
        async with db.execute(
            "SELECT failed_at FROM invite_failures WHERE telegram_user_id = ? AND failed_at > ?"
            " ORDER BY failed_at DESC LIMIT ?",
            (telegram_user_id, since, MAX_FAILURES),
        ) as cursor:
            recent = [row[0] for row in await cursor.fetchall()]
        if len(recent) < MAX_FAILURES:
            return None
        return datetime.fromtimestamp(min(recent), tz=UTC) + WINDOW

    async def failed(self, telegram_user_id: int) -> None:
        db = await self._table()
        now = self._clock.now()
        await db.execute(
            "INSERT INTO invite_failures (telegram_user_id, failed_at) VALUES (?, ?)",
            (telegram_user_id, now.timestamp()),
        )
        await db.execute(
            "DELETE FROM invite_failures WHERE failed_at <= ?", ((now - WINDOW).timestamp(),)
        )
        await db.commit()

    async def succeeded(self, telegram_user_id: int) -> None:
        db = await self._table()
        await db.execute(
            "DELETE FROM invite_failures WHERE telegram_user_id = ?", (telegram_user_id,)
        )
        await db.commit()
