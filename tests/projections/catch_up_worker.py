"""Run by the kill-and-resume tests as a separate process (``python -m ...``).

``catch-up ENV PATH N BATCH``: catch the read models up in batches of BATCH and kill
this process with SIGKILL just before its N-th SQL statement to the read models, in
the middle of a transaction. Exits 3 if it got to the end alive; prints the count.

``follow ENV PATH``: follow the log live (ProjectionHost) until killed.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from projections.host import ProjectionHost
from projections.store import ReadModelStore
from tests.projections.support import ReadModels


class _DyingCursor:
    def __init__(self, cursor: Any, counter: list[int], die_before: int) -> None:
        self._cursor = cursor
        self._counter = counter
        self._die_before = die_before

    def execute(self, *args: Any) -> Any:
        self._counter[0] += 1
        if self._counter[0] >= self._die_before:
            os.kill(os.getpid(), signal.SIGKILL)
        return self._cursor.execute(*args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)


def die_before_statement(n: int) -> list[int]:
    counter = [0]
    original = ReadModelStore.transaction

    @contextmanager
    def transaction(self: ReadModelStore) -> Iterator[Any]:
        with original(self) as cursor:
            yield _DyingCursor(cursor, counter, n)

    ReadModelStore.transaction = transaction  # type: ignore[method-assign]
    return counter


def main(argv: list[str]) -> int:
    mode, env, path = argv[0], json.loads(argv[1]), Path(argv[2])
    if mode == "follow":
        with ProjectionHost(env, path):
            while True:
                time.sleep(1)
    counter = die_before_statement(int(argv[3]))
    models = ReadModels(env, path)
    models.refresh(batch_size=int(argv[4]))
    print(counter[0])
    return 3


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
