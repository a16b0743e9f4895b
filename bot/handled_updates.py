"""Which Telegram updates were already handled, kept across restarts.

Telegram redelivers an update when the bot did not confirm it (a crash between
handling and the next getUpdates). The domain already records nothing twice (the
update's id is the command's idempotency key); this log makes sure the user is
answered once too.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import aiosqlite

KEEP_FOR = timedelta(days=7)


class HandledUpdates:
    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db

    @classmethod
    async def open(cls, path: Path | str) -> HandledUpdates:
        db = await aiosqlite.connect(path)
        await db.execute("PRAGMA journal_mode=WAL")
        await db.execute(
            "CREATE TABLE IF NOT EXISTS handled_updates ("
            " update_key TEXT PRIMARY KEY, handled_at TEXT NOT NULL)"
        )
        await db.commit()
        return cls(db)

    async def seen(self, update_key: str) -> bool:
        async with self._db.execute(
            "SELECT 1 FROM handled_updates WHERE update_key = ?", (update_key,)
        ) as cursor:
            return await cursor.fetchone() is not None

    async def mark(self, update_key: str, now: datetime) -> None:
        await self._db.execute(
            "INSERT OR IGNORE INTO handled_updates (update_key, handled_at) VALUES (?, ?)",
            (update_key, now.isoformat()),
        )
        await self._db.execute(
            "DELETE FROM handled_updates WHERE handled_at < ?", ((now - KEEP_FOR).isoformat(),)
        )
        await self._db.commit()

    async def close(self) -> None:
        await self._db.close()
