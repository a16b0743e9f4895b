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
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import re
import sys
from collections.abc import Iterator
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


def checked_line(number: int, item: Any) -> tuple[int, str, int, str, bytes, Any]:
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
        if item.get("data") is not None:
            raise Broken(position, number, "data given for an undecodable state") from None
        return event
    expected = {
        "recorded_at": fields.get("timestamp"),
        "actor": fields.get("actor"),
        "command_id": fields.get("command_id"),
        "data": {key: value for key, value in fields.items() if key not in META},
    }
    for key, value in expected.items():
        if item.get(key) != value:
            raise Broken(position, number, f"{key} differs from the stored state")
    return event


def checkpoints(path: str) -> dict[int, list[tuple[int, str]]]:
    """Position named -> [(where the checkpoint is, head hash it recorded)]."""
    found: dict[int, list[tuple[int, str]]] = {}
    try:
        for _number, item in lines(path):
            if not isinstance(item, dict) or item.get("type") != CHECKPOINT_TYPE:
                continue
            try:
                data = unwrap(json.loads(state_of(item)))
                found.setdefault(int(data["position"]), []).append(
                    (int(item["position"]), str(data["head_hash"]))
                )
            except (KeyError, TypeError, ValueError):
                continue
    except Broken:
        pass  # reported by the main pass
    return found


# --- verifying ---------------------------------------------------------------------------


def verify(path: str, expect: tuple[int, str] | None) -> tuple[int, int, str, int]:
    """(events checked, head position, head hash, checkpoints matched), or raise Broken."""
    wanted = checkpoints(path)
    disagreeing: dict[int, tuple[int, int]] = {}  # checkpoint's own position -> (named, line)
    previous, last, checked, matched = GENESIS, 0, 0, 0
    anchored = expect is None or expect[0] == 0
    for number, item in lines(path):
        position, originator_id, version, topic, state, stored = checked_line(number, item)
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
    return checked, last, previous, matched


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
        checked, position, head, matched = verify(args.export, expect)
    except Broken as broken:
        where = f" (line {broken.line})" if broken.line is not None else ""
        print(f"BROKEN at position {broken.position}{where}: {broken.reason}")
        return 1
    except (OSError, ValueError) as error:
        print(f"BROKEN: cannot read {args.export}: {error}")
        return 1
    print(f"OK: {checked} events, {matched} checkpoints match; head at position {position}: {head}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
