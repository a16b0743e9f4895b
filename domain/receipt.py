from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from domain import ids
from domain.recording import DomainAggregate


class CommandReceipt(DomainAggregate):
    """Proof that a command id was handled, and what came of it.

    Saved in the same transaction as the command's events: a redelivered command
    finds it and gets the first outcome back instead of recording twice.
    """

    @staticmethod
    def create_id(command_id: str) -> UUID:
        return ids.receipt_id(command_id)

    @event("Handled")
    def __init__(
        self, command_id: str, command_type: str, fingerprint: str, outcome: dict[str, Any]
    ) -> None:
        self.command_type = command_type
        self.fingerprint = fingerprint
        self.outcome = outcome
