#!/usr/bin/env python3
"""Check a RegioTwin log export on your own: Python's standard library, nothing else.

    python3 verify_export.py events.jsonl [--expect POSITION:HASH]

Prints ``OK`` with the number of events and the head of the hash chain (position and
hash; keep it, and pass it as ``--expect`` next time to prove the later export extends
this one), or ``BROKEN`` with the first position (and line) where the export was
altered. Exit code 0 when intact, 1 when broken or unreadable, 2 for a wrong call.

What is checked, line by line:

1. The chain: ``hash_n = sha256(hash_{n-1} + "\\n" + record_n)``, ``hash_0`` = 64 zeros,
   ``record_n`` = the compact JSON array ``[position, originator_id, version, topic,
   sha256(state)]`` with ``state`` the base64-decoded stored bytes. Each line's ``hash``
   must be the re-derived one. (This rule is copied from RegioTwin's ``domain/chain.py``
   on purpose: this file imports nothing of RegioTwin.)
2. Positions rise strictly.
3. ``recorded_at``, ``actor``, ``command_id`` and ``data`` are what ``state`` says
   (its JSON, with ``{"_type_": …, "_data_": …}`` wrappers replaced by their data).
4. Checkpoints (lines of type ``ChainCheckpoint.Recorded``): the chain re-derived up to
   the position a checkpoint names gives the head hash it recorded.
5. With ``--expect``: the chain passes through that position with that hash.

An export of an encrypted store (lines with ``"encrypted": true``) keeps in ``state`` the
stored ciphertext, which the chain covers; its decoded fields come from the cipher key,
which this file does not have. For such lines 1, 2 and 5 are checked, 3 is not, and 4 is
skipped (the decoded ``data`` of a checkpoint line would only be an unverified hint): the
output says how many, and ``python run_bot.py verify --file events.jsonl`` with
``REGIOTWIN_CIPHER_KEY`` set checks them fully. A state that is JSON is always checked as in
3, whatever its line says.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64
META = ("timestamp", "originator_topic", "actor", "command_id")
CHECKPOINT_TYPE = "ChainCheckpoint.Recorded"


# --- the chain rule (a copy of domain/chain.py) ------------------------------------------


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


# --- reading lines -----------------------------------------------------------------------


class Broken(Exception):
    def __init__(self, position: Any, line: int | None, reason: str) -> None:
        super().__init__(reason)
        self.position = position
        self.line = line
        self.reason = reason


def unwrap(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"_type_", "_data_"}:
            return unwrap(value["_data_"])
        return {key: unwrap(item) for key, item in value.items()}
    if isinstance(value, list):
        return [unwrap(item) for item in value]
    return value


def lines(path: str) -> Iterator[tuple[int, Any]]:
    with open(path, encoding="utf-8") as file:
        for number, text in enumerate(file, start=1):
            if not text.strip():
                continue
            try:
                yield number, json.loads(text)
            except ValueError as error:
                raise Broken(None, number, f"not JSON ({error})") from None


def state_of(item: Any) -> bytes:
    return base64.b64decode(item["state"], validate=True)


Event = tuple[int, str, int, str, bytes, Any]
"""position, originator_id, version, topic, state, stored hash"""


def is_encrypted(item: Any) -> bool:
    return isinstance(item, dict) and item.get("encrypted") is True


def checked_line(number: int, item: Any) -> tuple[Event, bool]:
    """The line's event, and whether its decoded fields were checked (not for an encrypted
    state: that needs the cipher key)."""
    position = item.get("position") if isinstance(item, dict) else None
    try:
        event = (
            int(item["position"]),
            str(item["originator_id"]),
            int(item["version"]),
            str(item["topic"]),
            state_of(item),
            item.get("hash"),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise Broken(position, number, f"not an event line ({error})") from None
    kind = event[3].rpartition(":")[2]
    if item.get("type") != kind or item.get("aggregate") != kind.split(".")[0]:
        raise Broken(position, number, "type or aggregate do not match the topic")
    try:
        fields = unwrap(json.loads(event[4]))
        if not isinstance(fields, dict):
            raise ValueError("not an object")
    except ValueError:
        if is_encrypted(item):
            return event, False
        if item.get("data") is not None:
            raise Broken(position, number, "data given for an undecodable state") from None
        return event, True
    expected = {
        "recorded_at": fields.get("timestamp"),
        "actor": fields.get("actor"),
        "command_id": fields.get("command_id"),
        "data": {key: value for key, value in fields.items() if key not in META},
    }
    for key, value in expected.items():
        if item.get(key) != value:
            raise Broken(position, number, f"{key} differs from the stored state")
    return event, True


def checkpoints(path: str) -> tuple[dict[int, list[tuple[int, str]]], int]:
    """Position named -> [(where the checkpoint is, head hash it recorded)], and how many
    checkpoints are encrypted (not read: their ``data`` is not checked against the state)."""
    found: dict[int, list[tuple[int, str]]] = {}
    encrypted = 0
    try:
        for _number, item in lines(path):
            if not isinstance(item, dict) or item.get("type") != CHECKPOINT_TYPE:
                continue
            try:
                data = unwrap(json.loads(state_of(item)))
            except ValueError:
                encrypted += is_encrypted(item)
                continue
            except (KeyError, TypeError):
                continue
            try:
                found.setdefault(int(data["position"]), []).append(
                    (int(item["position"]), str(data["head_hash"]))
                )
            except (KeyError, TypeError, ValueError):
                continue
    except Broken:
        pass  # reported by the main pass
    return found, encrypted


# --- verifying ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    checked: int
    head_position: int
    head: str
    matched: int
    """Checkpoints that match the chain."""
    unchecked: int
    """Encrypted events: chain checked, decoded fields not."""
    unread_checkpoints: int
    """Encrypted checkpoints: not matched."""


def verify(path: str, expect: tuple[int, str] | None) -> Result:
    """What an intact export holds, or raise Broken."""
    wanted, unread_checkpoints = checkpoints(path)
    unchecked = 0
    disagreeing: dict[int, tuple[int, int]] = {}  # checkpoint's own position -> (named, line)
    previous, last, checked, matched = GENESIS, 0, 0, 0
    anchored = expect is None or expect[0] == 0
    for number, item in lines(path):
        event, fields_checked = checked_line(number, item)
        position, originator_id, version, topic, state, stored = event
        unchecked += not fields_checked
        if position <= last:
            raise Broken(position, number, f"position {position} comes after position {last}")
        current = link(previous, record(position, originator_id, version, topic, state))
        if stored != current:
            reason = "no hash stored" if stored is None else "hash does not match"
            raise Broken(position, number, reason)
        for at, head_hash in wanted.pop(position, []):
            if head_hash == current:
                matched += 1
            else:
                disagreeing[at] = (position, number)
        if position in disagreeing:
            named, at_line = disagreeing.pop(position)
            raise Broken(
                named,
                at_line,
                f"the log up to position {named} was rewritten: the checkpoint at position "
                f"{position} recorded another head hash",
            )
        if expect is not None and expect[0] == position:
            if expect[1] != current:
                raise Broken(position, number, "the chain does not pass through the anchor")
            anchored = True
        previous, last = current, position
        checked += 1
    if disagreeing:  # a checkpoint naming a later position than its own (never legitimate)
        named, at_line = min(disagreeing.values())
        raise Broken(named, at_line, "a checkpoint disagrees with the chain at this position")
    if wanted:
        missing = min(wanted)
        raise Broken(missing, None, f"a checkpoint names position {missing}, not in the log")
    if expect is not None and not anchored:
        raise Broken(
            expect[0], None, f"the log ends at position {last} without the anchor's position"
        )
    return Result(checked, last, previous, matched, unchecked, unread_checkpoints)


def report_unchecked(result: Result, path: str) -> None:
    """Say honestly what an encrypted export leaves unchecked without the cipher key."""
    if result.unchecked:
        print(
            f"{result.unchecked} events encrypted: their decoded fields were not checked; "
            f"check them with `python run_bot.py verify --file {path}` and the cipher key "
            "(REGIOTWIN_CIPHER_KEY)"
        )
    if result.unread_checkpoints:
        print(
            f"{result.unread_checkpoints} checkpoints encrypted: not matched against the "
            "chain (what they recorded is inside the encrypted state)"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Verify a RegioTwin log export (JSON Lines).")
    parser.add_argument("export", help="the export's events.jsonl")
    parser.add_argument(
        "--expect", metavar="POSITION:HASH", help="a head kept from an earlier check"
    )
    args = parser.parse_args(argv)
    expect = None
    if args.expect:
        match = re.fullmatch(r"\s*(\d+)\s*:\s*([0-9a-fA-F]{64})\s*", args.expect)
        if match is None:
            parser.error("--expect takes POSITION:HASH (64 hex digits)")
        expect = (int(match.group(1)), match.group(2).lower())
    try:
        result = verify(args.export, expect)
    except Broken as broken:
        where = f" (line {broken.line})" if broken.line is not None else ""
        print(f"BROKEN at position {broken.position}{where}: {broken.reason}")
        return 1
    except (OSError, ValueError) as error:
        print(f"BROKEN: cannot read {args.export}: {error}")
        return 1
    print(
        f"OK: {result.checked} events, {result.matched} checkpoints match; "
        f"head at position {result.head_position}: {result.head}"
    )
    report_unchecked(result, args.export)
    return 0


if __name__ == "__main__":
    sys.exit(main())
