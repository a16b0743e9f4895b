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

In an encrypted store (``REGIOTWIN_CIPHER_KEY``) the chain covers the stored ciphertext;
states are decoded with the key (:data:`~audit.records.Plain`). An export of such a store
checked without the key still has its chain checked, but not the decoded fields of its
``encrypted`` lines, nor the checkpoints inside them: the verdict counts both
(:attr:`ChainVerdict.unchecked`, :attr:`ChainVerdict.unread_checkpoints`).

Everything streams: memory stays flat however long the log.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from eventsourcing.utils import get_topic

from audit.records import (
    LineError,
    Plain,
    chained_event_of,
    decode_state,
    plain_of,
    read_lines,
)
from domain.application import RegioTwinApplication, is_encrypted
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
    unchecked: int = 0
    """Encrypted lines of an export checked without the key: chain only, not their fields."""
    unread_checkpoints: int = 0
    """Checkpoints in such lines: not matched against the chain."""

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


def _checkpoint_of(position: int, data: Mapping[str, Any]) -> Checkpoint | None:
    try:
        return Checkpoint(position, int(data["position"]), str(data["head_hash"]))
    except (KeyError, TypeError, ValueError):
        return None


# --- the store -----------------------------------------------------------------------


def store_checkpoints(log: RegioTwinApplication, page: int = 1000) -> Iterator[Checkpoint]:
    plain, after = plain_of(log), 0
    while True:
        found = log.recorder.select_notifications(
            start=after, limit=page, topics=[CHECKPOINT_TOPIC], inclusive_of_start=False
        )
        for notification in found:
            try:
                data = decode_state(notification.state, plain)
            except ValueError:
                continue
            checkpoint = _checkpoint_of(notification.id, data)
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


@dataclass
class _Tally:
    unchecked: int = 0
    unread_checkpoints: int = 0


def _file_items(path: Path, plain: Plain | None, tally: _Tally) -> Iterator[Item]:
    with path.open(encoding="utf-8") as file:
        for number, line, problem in read_lines(file):
            position = _position_of(line) if line is not None else None
            if line is None:
                yield number, _Broken(position, f"line {number}: {problem}")
                return
            try:
                checked = chained_event_of(line, plain)
            except LineError as error:
                yield number, _Broken(position, f"line {number}: {error}")
                return
            tally.unchecked += checked.unchecked
            yield number, checked.event


def _position_of(line: dict[str, Any]) -> int | None:
    try:
        return int(line["position"])
    except (KeyError, TypeError, ValueError):
        return None


def file_checkpoints(
    path: Path, plain: Plain | None = None, tally: _Tally | None = None
) -> Iterator[Checkpoint]:
    """The checkpoints of an export whose lines check (the main pass reports the others);
    encrypted ones only with the key, else counted in ``tally``."""
    with path.open(encoding="utf-8") as file:
        for _number, line, _problem in read_lines(file):
            if line is None or line.get("type") != CHECKPOINT_TYPE:
                continue
            try:
                checked = chained_event_of(line, plain)
            except LineError:
                continue
            if checked.unchecked and tally is not None:
                tally.unread_checkpoints += 1
            if checked.fields is None:
                continue
            checkpoint = _checkpoint_of(checked.event.position, checked.fields.data)
            if checkpoint is not None:
                yield checkpoint


def verify_file(
    path: Path | str, expect: Anchor | None = None, plain: Plain | None = None
) -> ChainVerdict:
    """Re-derive the chain from an export (JSON Lines, see :mod:`audit.records`); its
    encrypted lines are fully checked only with ``plain`` (:func:`cipher_reader`)."""
    path, tally = Path(path), _Tally()
    checkpoints = list(file_checkpoints(path, plain, tally))
    verdict = verify_chain(_file_items(path, plain, tally), checkpoints, expect)
    return replace(verdict, unchecked=tally.unchecked, unread_checkpoints=tally.unread_checkpoints)


CIPHER_SETTINGS = ("CIPHER_TOPIC", "CIPHER_KEY", "COMPRESSOR_TOPIC")


@contextmanager
def cipher_reader(event_store_env: Mapping[str, str]) -> Iterator[Plain | None]:
    """How to decode an export's encrypted states with the configured cipher key (None
    without one), from an application kept in memory: the store itself is not opened."""
    if not is_encrypted(dict(event_store_env)):
        yield None
        return
    keys = {name: event_store_env[name] for name in CIPHER_SETTINGS if name in event_store_env}
    app = RegioTwinApplication(env={**keys, "PERSISTENCE_MODULE": "eventsourcing.popo"})
    try:
        yield plain_of(app)
    finally:
        app.close()
