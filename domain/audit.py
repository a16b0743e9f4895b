"""What the audit records in the log itself: checkpoints of the hash chain, issued reports.

A :class:`ChainCheckpoint` notes the chain's head hash at a position, so a later
verification can tell whether the log up to there was rewritten (even with freshly
computed hashes). A :class:`Report` notes that a report was issued, with the SHA-256
of its content and the log position it was built from, so a later reader can check a
copy and rebuild it byte for byte.
"""

from __future__ import annotations

from datetime import date
from uuid import UUID, uuid4

from eventsourcing.domain import event

from domain import ids
from domain.recording import DomainAggregate

CHECKPOINT_ACTOR = "system:checkpoint"


def checkpoint_id(position: int) -> UUID:
    return ids.natural_id("chain-checkpoint", position)


class ChainCheckpoint(DomainAggregate):
    """The head of the hash chain at a log position (one checkpoint per position)."""

    @staticmethod
    def create_id(position: int) -> UUID:
        return checkpoint_id(position)

    @event("Recorded")
    def __init__(self, position: int, head_hash: str) -> None:
        self.position = position
        self.head_hash = head_hash


class Report(DomainAggregate):
    """A report issued for a programme (e.g. for its website), identified by its content."""

    @staticmethod
    def create_id() -> UUID:
        return uuid4()

    @event("Issued")
    def __init__(
        self,
        programme_id: UUID,
        title: str,
        as_of: date,
        content_sha256: str,
        log_position: int,
        chain_head: str,
    ) -> None:
        self.programme_id = programme_id
        self.title = title
        self.as_of = as_of
        self.content_sha256 = content_sha256
        self.log_position = log_position
        self.chain_head = chain_head
