"""Domain errors carry a stable code and parameters; the bot renders the text.

The code doubles as the message key of the translation catalogues, so the
domain never holds German or English sentences.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A business rule refused a command. Nothing was recorded."""

    code: str = "domain.error"

    def __init__(self, code: str | None = None, /, **params: Any) -> None:
        if code is not None:
            self.code = code
        self.params = params
        details = ", ".join(f"{key}={value!r}" for key, value in sorted(params.items()))
        super().__init__(f"{self.code}" + (f" ({details})" if details else ""))


class RuleViolated(DomainError):
    """The command breaks a rule of the domain (illegal transition, duplicate code…)."""


class NotFound(DomainError):
    """The command names something that does not exist."""


class NotAllowed(DomainError):
    """The acting member may not do this (wrong region, role, removed…)."""


class InvalidCommand(DomainError):
    """The command failed validation; ``problems`` names each field and rule."""

    code = "command.invalid"

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__(problems=problems)


class Conflict(DomainError):
    """Someone else changed the item since the user saw it.

    ``changes`` lists what happened meanwhile (event type, actor, time) so the
    user can look again and retry.
    """

    code = "conflict.stale_version"

    def __init__(self, expected: int, actual: int, changes: list[dict[str, str]]) -> None:
        self.expected = expected
        self.actual = actual
        self.changes = changes
        super().__init__(expected=expected, actual=actual, changes=changes)


class CommandIdReused(DomainError):
    """An idempotency key came back with a different command."""

    code = "command.id_reused"


class StoreUnavailable(DomainError):
    """The event store could not be read or written just now (locked by another writer,
    disk full, read-only, server down or restarting). The transaction was rolled back:
    nothing of the command was recorded, and the same command may simply be tried again."""

    code = "store.unavailable"
