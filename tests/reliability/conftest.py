"""The reliability tests drive the same in-process bot as tests/bot (real dispatcher, real
SQLite store, read models following the log)."""

import sys

import pytest

from tests.bot.conftest import world  # noqa: F401 (the fixture, shared)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """How many updates the fuzzing of the front door fed, and what came of them; the
    figures of the crash, concurrency and storage-fault scenarios."""
    harness = sys.modules.get("tests.reliability.crash_harness")
    if harness is not None and harness.PUBLISHED:
        terminalreporter.write_sep("-", "reliability figures")
        for line in harness.PUBLISHED:
            terminalreporter.write_line(line)
    fuzz = sys.modules.get("tests.reliability.test_fuzz_front_door")
    if fuzz is None or not fuzz.FED:
        return
    terminalreporter.write_sep("-", "front door fuzzing")
    for name, stats in fuzz.STATS.items():
        terminalreporter.write_line(f"{name}: {stats}")
    terminalreporter.write_line(f"in all: {sum(fuzz.FED.values())} updates")
