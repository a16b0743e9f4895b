"""Re-deriving the hash chain from the store or from an export, checkpoints included.

The chain rule is :mod:`domain.chain`'s. Besides each event's stored hash, three things
are checked:

* **positions** rise strictly (an export's lines are in log order);
* **checkpoints** (``ChainCheckpoint.Recorded`` events, see :mod:`audit.checkpoint`):
  the chain re-derived up to a checkpoint's position must give the head hash it
  recorded. A log rewritten with freshly computed hashes passes the first check but not
  this one – as long as the checkpoint itself verifies as part of the chain;
* an **anchor** the auditor kept from earlier (``POSITION:HASH``, e.g. the head of the
  previous export or of a published report): the chain must pass through it. This is
  what catches a truncated tail, which leaves a shorter but consistent log.

Everything streams: memory stays flat however long the log.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eventsourcing.utils import get_topic

from audit.records import LineError, chained_event_of, decode_state, read_lines
from domain.application import RegioTwinApplication
from domain.audit import ChainCheckpoint
from domain.chain import GENESIS, ChainedEvent, link, record

CHECKPOINT_TOPIC = get_topic(ChainCheckpoint.Recorded)
CHECKPOINT_TYPE = "ChainCheckpoint.Recorded"
ANCHOR = re.compile(r"^\s*(\d+)\s*:\s*([0-9a-fA-F]{64})\s*$")


@dataclass(frozen=True)
class Anchor:
    """A position and the chain hash there, kept outside the store by the auditor."""

    position: int
    hash: str

    @classmethod
    def parse(cls, text: str) -> Anchor:
        match = ANCHOR.match(text)
        if match is None:
            raise ValueError("an anchor is POSITION:HASH (64 hex digits)")
        return cls(int(match.group(1)), match.group(2).lower())

    def __str__(self) -> str:
        return f"{self.position}:{self.hash}"


@dataclass(frozen=True)
class Checkpoint:
    recorded_at_position: int
    """Where the checkpoint event itself is in the log."""
    position: int
    head_hash: str


@dataclass(frozen=True)
class ChainVerdict:
    checked: int
    head: str
    """The re-derived hash of the last intact event (GENESIS for none)."""
    head_position: int
    checkpoints: int
    """Checkpoints that matched the re-derived chain."""
    first_broken_position: int | None = None
    line: int | None = None
    """For an export: the line of the first broken position."""
    reason: str = ""

    @property
    def intact(self) -> bool:
        return self.first_broken_position is None and not self.reason

    @property
    def anchor(self) -> Anchor:
        return Anchor(self.head_position, self.head)


@dataclass(frozen=True)
class _Broken:
    position: int | None
    reason: str


Item = tuple[int | None, ChainedEvent | _Broken]


def verify_chain(
    items: Iterable[Item], checkpoints: Iterable[Checkpoint] = (), expect: Anchor | None = None
) -> ChainVerdict:
    """Re-derive the chain over ``(line, event)`` items in log order."""
    wanted: dict[int, list[Checkpoint]] = {}
    for checkpoint in checkpoints:
        wanted.setdefault(checkpoint.position, []).append(checkpoint)
    # A checkpoint that disagrees counts only once the checkpoint itself verifies.
    disagreeing: dict[int, tuple[Checkpoint, int | None]] = {}
    previous, last, checked, matched = GENESIS, 0, 0, 0
    anchored = expect is None or expect.position == 0

    def broken(position: int | None, line: int | None, reason: str) -> ChainVerdict:
        return ChainVerdict(checked, previous, last, matched, position, line, reason)

    for line, item in items:
        if isinstance(item, _Broken):
            return broken(item.position, line, item.reason)
        event = item
        if event.position <= last:
            return broken(
                event.position, line, f"position {event.position} comes after position {last}"
            )
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
            return broken(event.position, line, reason)
        for checkpoint in wanted.pop(event.position, []):
            if checkpoint.head_hash == current:
                matched += 1
            else:
                disagreeing[checkpoint.recorded_at_position] = (checkpoint, line)
        if event.position in disagreeing:
            checkpoint, at_line = disagreeing.pop(event.position)
            return broken(
                checkpoint.position,
                at_line,
                f"the log up to position {checkpoint.position} was rewritten: the checkpoint "
                f"recorded at position {checkpoint.recorded_at_position} says "
                f"{checkpoint.head_hash[:16]}…, the chain gives another hash",
            )
        if expect is not None and expect.position == event.position:
            if expect.hash != current:
                return broken(
                    event.position, line, f"the chain does not pass through the anchor {expect}"
                )
            anchored = True
        previous, last = current, event.position
        checked += 1
    if disagreeing:  # a checkpoint naming a later position than its own (never legitimate)
        checkpoint, at_line = min(disagreeing.values(), key=lambda item: item[0].position)
        return broken(
            checkpoint.position,
            at_line,
            f"the checkpoint recorded at position {checkpoint.recorded_at_position} "
            f"disagrees with the chain at position {checkpoint.position}",
        )
    if wanted:
        missing = min(wanted)
        return broken(
            missing,
            None,
            f"a checkpoint (recorded at position {wanted[missing][0].recorded_at_position}) "
            f"names position {missing}, which is not in the log",
        )
    if expect is not None and not anchored:
        return broken(
            expect.position,
            None,
            f"the log ends at position {last}, before the anchor {expect.position}: "
            "its tail is missing"
            if expect.position > last
            else f"the anchor's position {expect.position} is not in the log",
        )
    return ChainVerdict(checked, previous, last, matched)


def _checkpoint_of(position: int, state: bytes) -> Checkpoint | None:
    try:
        data = decode_state(state)
        return Checkpoint(position, int(data["position"]), str(data["head_hash"]))
    except (KeyError, TypeError, ValueError):
        return None


# --- the store -----------------------------------------------------------------------


def store_checkpoints(log: RegioTwinApplication, page: int = 1000) -> Iterator[Checkpoint]:
    after = 0
    while True:
        found = log.recorder.select_notifications(
            start=after, limit=page, topics=[CHECKPOINT_TOPIC], inclusive_of_start=False
        )
        for notification in found:
            checkpoint = _checkpoint_of(notification.id, notification.state)
            if checkpoint is not None:
                yield checkpoint
        if len(found) < page:
            return
        after = found[-1].id


def verify_store(log: RegioTwinApplication, expect: Anchor | None = None) -> ChainVerdict:
    """Re-derive the chain from the stored events (and check every checkpoint)."""
    checkpoints = list(store_checkpoints(log))
    events = log.recorder.chained_events()  # type: ignore[attr-defined]
    return verify_chain(((None, event) for event in events), checkpoints, expect)


# --- an export file -------------------------------------------------------------------


def _file_items(path: Path) -> Iterator[Item]:
    with path.open(encoding="utf-8") as file:
        for number, line, problem in read_lines(file):
            position = _position_of(line) if line is not None else None
            if line is None:
                yield number, _Broken(position, f"line {number}: {problem}")
                return
            try:
                event = chained_event_of(line)
            except LineError as error:
                yield number, _Broken(position, f"line {number}: {error}")
                return
            yield number, event


def _position_of(line: dict[str, Any]) -> int | None:
    try:
        return int(line["position"])
    except (KeyError, TypeError, ValueError):
        return None


def file_checkpoints(path: Path) -> Iterator[Checkpoint]:
    with path.open(encoding="utf-8") as file:
        for _number, line, _problem in read_lines(file):
            if line is None or line.get("type") != CHECKPOINT_TYPE:
                continue
            try:
                state = base64.b64decode(line["state"], validate=True)
                position = int(line["position"])
            except (KeyError, TypeError, ValueError):
                continue
            checkpoint = _checkpoint_of(position, state)
            if checkpoint is not None:
                yield checkpoint


def verify_file(path: Path | str, expect: Anchor | None = None) -> ChainVerdict:
    """Re-derive the chain from an export (JSON Lines, see :mod:`audit.records`)."""
    path = Path(path)
    return verify_chain(_file_items(path), list(file_checkpoints(path)), expect)
