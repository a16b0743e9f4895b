"""One stored event as one line of the export (JSON Lines), and back.

Each line is a JSON object with, in this order::

    position      the event's position in the log (notification id)
    originator_id the aggregate's id (UUID text, as in the hash chain)
    aggregate     the aggregate's type, e.g. "Measure"
    version       the aggregate's version after the event
    topic         eventsourcing's topic of the event class
    type          the event's type, e.g. "Measure.StatusChanged"
    recorded_at   the recording time (ISO 8601, UTC)
    actor         member id (hex) or "system:<job>"
    command_id    the idempotency key of the command that caused it
    data          the event's fields (the stored state without the four above)
    state         the stored state, base64: exactly the bytes the chain covers
    hash          the chain hash stored with the event
    encrypted     true, only in an export of an encrypted store (REGIOTWIN_CIPHER_KEY)

``recorded_at``, ``actor``, ``command_id`` and ``data`` are *decoded* from ``state``
by one plain rule (:func:`unwrap`), so a verifier checks them against ``state`` and
``state`` against the chain — with nothing but Python's standard library.

In an encrypted store the stored state is ciphertext (compressed, then AES-encrypted):
``state`` keeps those bytes, since the chain covers them, and the four decoded fields are
decoded with the key (:data:`Plain`). Without the key a verifier checks the chain but not
the decoded fields of such lines; with it (:func:`chained_event_of` with ``plain``) it
checks everything.
"""

from __future__ import annotations

import base64
import json
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

from eventsourcing.application import Application

from domain.application import plain_state
from domain.chain import ChainedEvent

META = ("timestamp", "originator_topic", "actor", "command_id")
"""Keys of the stored state that are not the event's own data."""

FORMAT = "regiotwin-log/1"


def unwrap(value: Any) -> Any:
    """The stored JSON with eventsourcing's ``{"_type_": …, "_data_": …}`` wrappers
    of UUIDs, dates, decimals and times replaced by their text."""
    if isinstance(value, dict):
        if set(value) == {"_type_", "_data_"}:
            return unwrap(value["_data_"])
        return {key: unwrap(item) for key, item in value.items()}
    if isinstance(value, list):
        return [unwrap(item) for item in value]
    return value


Plain = Callable[[bytes], bytes]
"""A stored state to its JSON bytes: decrypted and decompressed as the store's application
does (:func:`plain_of`); :func:`as_stored` for a plain store."""


def as_stored(state: bytes) -> bytes:
    return state


def plain_of(app: Application[Any]) -> Plain:
    """How ``app`` turns its stored states into JSON (with its cipher key, if any)."""
    return partial(plain_state, app) if encrypted_at_rest(app) else as_stored


def encrypted_at_rest(app: Application[Any]) -> bool:
    """Whether ``app`` stores states other than as plain JSON (cipher, compressor)."""
    return app.mapper.cipher is not None or app.mapper.compressor is not None


def decode_state(state: bytes, plain: Plain = as_stored) -> dict[str, Any]:
    """The stored state's fields; :class:`ValueError` when it cannot be decoded."""
    try:
        decoded = unwrap(json.loads(plain(state)))
    except zlib.error as error:  # a "decrypted" state that is not zlib data
        raise ValueError(f"the stored state cannot be decompressed ({error})") from None
    if not isinstance(decoded, dict):
        raise ValueError("the stored state is not a JSON object")
    return decoded


@dataclass(frozen=True)
class Decoded:
    recorded_at: str | None
    actor: str | None
    command_id: str | None
    data: dict[str, Any]


def decoded(state: bytes, plain: Plain = as_stored) -> Decoded:
    fields = decode_state(state, plain)
    return Decoded(
        recorded_at=fields.get("timestamp"),
        actor=fields.get("actor"),
        command_id=fields.get("command_id"),
        data={key: item for key, item in fields.items() if key not in META},
    )


def event_type(topic: str) -> str:
    return topic.rpartition(":")[2]


def line_of(event: ChainedEvent, plain: Plain = as_stored) -> dict[str, Any]:
    """The export line of a stored event (an undecodable state gets ``data`` null); with
    ``plain`` other than :func:`as_stored` the line is marked ``encrypted``."""
    try:
        found = decoded(event.state, plain)
    except ValueError:
        found = Decoded(None, None, None, {})
        data: dict[str, Any] | None = None
    else:
        data = found.data
    kind = event_type(event.topic)
    line: dict[str, Any] = {
        "position": event.position,
        "originator_id": event.originator_id,
        "aggregate": kind.split(".")[0],
        "version": event.originator_version,
        "topic": event.topic,
        "type": kind,
        "recorded_at": found.recorded_at,
        "actor": found.actor,
        "command_id": found.command_id,
        "data": data,
        "state": base64.b64encode(event.state).decode("ascii"),
        "hash": event.stored_hash,
    }
    if plain is not as_stored:
        line["encrypted"] = True
    return line


def dump_line(line: dict[str, Any]) -> str:
    return json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n"


class LineError(ValueError):
    """A line of an export that is not a well-formed event line."""


@dataclass(frozen=True)
class CheckedLine:
    event: ChainedEvent
    fields: Decoded | None
    """The decoded fields the line matched (None: its state does not decode here)."""
    unchecked: bool = False
    """A line marked ``encrypted`` read without the key: the chain covers its state, but its
    decoded fields could not be checked."""


def chained_event_of(line: dict[str, Any], plain: Plain | None = None) -> CheckedLine:
    """The chained event a line describes, after checking its decoded fields against its
    state (an encrypted state through ``plain``, the cipher key's; without it such a line is
    :attr:`~CheckedLine.unchecked`); raises :class:`LineError` naming what does not fit."""
    event = _event_of(line)
    try:
        # As stored first: a line of a plain store is checked whatever it says it is.
        found = decoded(event.state)
    except ValueError:
        if line.get("encrypted") is not True:
            if line.get("data") is not None:
                raise LineError("data given for a state that cannot be decoded") from None
            return CheckedLine(event, None)
        if plain is None:
            return CheckedLine(event, None, unchecked=True)
        try:
            found = decoded(event.state, plain)
        except ValueError:
            raise LineError(
                "the state cannot be decrypted with the configured cipher key "
                "(a wrong key, or the state was altered)"
            ) from None
    if (
        line.get("recorded_at") != found.recorded_at
        or line.get("actor") != found.actor
        or line.get("command_id") != found.command_id
        or line.get("data") != found.data
    ):
        raise LineError("recorded_at, actor, command_id or data differ from the stored state")
    return CheckedLine(event, found)


def _event_of(line: dict[str, Any]) -> ChainedEvent:
    try:
        event = ChainedEvent(
            position=int(line["position"]),
            originator_id=str(line["originator_id"]),
            originator_version=int(line["version"]),
            topic=str(line["topic"]),
            state=base64.b64decode(line["state"], validate=True),
            stored_hash=line.get("hash"),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise LineError(f"not an event line ({error})") from None
    kind = event_type(event.topic)
    if line.get("type") != kind or line.get("aggregate") != kind.split(".")[0]:
        raise LineError("type or aggregate do not match the topic")
    return event


def read_lines(text_lines: Iterator[str]) -> Iterator[tuple[int, dict[str, Any] | None, str]]:
    """(line number, parsed object or None, error) for each non-empty line."""
    for number, text in enumerate(text_lines, start=1):
        if not text.strip():
            continue
        try:
            parsed = json.loads(text)
        except ValueError as error:
            yield number, None, f"not JSON ({error})"
            continue
        if not isinstance(parsed, dict):
            yield number, None, "not a JSON object"
            continue
        yield number, parsed, ""
