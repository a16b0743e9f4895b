"""What "nothing lost, nothing half-written" means, checked on a store after a fault.

* the hash chain over the whole log verifies;
* every command is whole: each command id found on an event has exactly one receipt
  (``CommandReceipt.Handled``, saved in the same transaction as the command's events);
* read models caught up from where they stopped equal a rebuild from zero.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from domain.application import RegioTwinApplication
from projections import log as event_log
from projections.dump import canonical_dump
from tests.projections.support import ReadModels, rebuilt_dump

RECEIPT = "CommandReceipt.Handled"


@dataclass(frozen=True)
class LogCheck:
    events: int
    """Events in the log (on PostgreSQL positions have gaps, so this is no position)."""
    head: int
    commands: frozenset[str]
    """Command ids with a receipt: the commands recorded."""


def check_log(app: RegioTwinApplication) -> LogCheck:
    """The chain verifies and no command is half-written; what the log holds."""
    from domain.chain import verify

    verdict = verify(app.recorder.chained_events())  # type: ignore[attr-defined]
    assert verdict.intact, f"the hash chain breaks at {verdict.first_broken_position}"
    events: Counter[str] = Counter()
    receipts: Counter[str] = Counter()
    after, count, head = 0, 0, event_log.head(app)
    while after < head:
        batch = event_log.read(app, after, 1000, head)
        if not batch:
            break
        for entry in batch:
            assert entry.error is None, entry.error
            event: Any = entry.event
            count += 1
            events[event.command_id] += 1
            if type(event).__qualname__ == RECEIPT:
                receipts[event.command_id] += 1
        after = batch[-1].tracking.notification_id
    assert verdict.checked == count, (verdict.checked, count)
    half_written = sorted(set(events) - set(receipts))
    assert not half_written, f"commands without their receipt: {half_written[:5]}"
    twice = sorted(command for command, n in receipts.items() if n > 1)
    assert not twice, f"commands recorded twice: {twice[:5]}"
    return LogCheck(events=count, head=head, commands=frozenset(receipts))


def check_store(env: dict[str, str]) -> LogCheck:
    app = RegioTwinApplication(env=env)
    try:
        return check_log(app)
    finally:
        app.close()


def resumed_dump(env: dict[str, str], path: Path) -> str:
    """Catch the read models at ``path`` up from their tracked positions (what a restarted
    bot does first) and dump them."""
    resumed = ReadModels(env, path)
    try:
        resumed.refresh()
        return resumed.dump()
    finally:
        resumed.close()


def equals_rebuild(env: dict[str, str], path: Path, scratch: Path) -> None:
    """The read models at ``path`` (current, nobody writing) equal a rebuild from zero."""
    assert canonical_dump(path) == rebuilt_dump(env, scratch), (
        "the read models differ from a rebuild from zero"
    )
