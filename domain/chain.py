"""The hash chain over the event log: tamper evidence auditors can check on their own.

Each recorded event gets ``hash_n = sha256(hash_{n-1} + "\\n" + record_n)`` where
``record_n`` is the compact JSON array ``[position, originator_id, originator_version,
topic, sha256(state)]`` and ``hash_0`` is 64 zeros. Changing, deleting, reordering or
inserting any stored event breaks every hash from that position on.

Only Python's standard library is used here, so a stand-alone verifier can share it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass

GENESIS = "0" * 64


def record(
    position: int, originator_id: str, originator_version: int, topic: str, state: bytes
) -> str:
    return json.dumps(
        [position, originator_id, originator_version, topic, hashlib.sha256(state).hexdigest()],
        separators=(",", ":"),
        ensure_ascii=True,
    )


def link(previous: str, entry: str) -> str:
    return hashlib.sha256(f"{previous}\n{entry}".encode()).hexdigest()


@dataclass(frozen=True)
class ChainedEvent:
    position: int
    originator_id: str
    originator_version: int
    topic: str
    state: bytes
    stored_hash: str | None


@dataclass(frozen=True)
class Verdict:
    checked: int
    head: str
    first_broken_position: int | None = None
    reason: str = ""

    @property
    def intact(self) -> bool:
        return self.first_broken_position is None


def verify(events: Iterable[ChainedEvent]) -> Verdict:
    """Re-derive the chain; report the first position where it breaks.

    Positions may have gaps (PostgreSQL's sequence skips numbers of rolled-back
    inserts); a deleted or moved event still breaks the hash of the one after it.
    """
    previous = GENESIS
    checked = 0
    for event in events:
        current = link(
            previous,
            record(
                event.position,
                event.originator_id,
                event.originator_version,
                event.topic,
                event.state,
            ),
        )
        if event.stored_hash != current:
            reason = "no hash stored" if event.stored_hash is None else "hash does not match"
            return Verdict(checked, previous, event.position, reason)
        previous = current
        checked += 1
    return Verdict(checked, previous)
