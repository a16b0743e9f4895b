"""A catch-up killed (SIGKILL) between any two statements resumes without gap or double."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from projections.registry import READ_MODELS
from projections.store import ReadModelStore
from tests.projections.catch_up_worker import die_before_statement
from tests.projections.histories import demo_like
from tests.projections.scenarios import exchanges_and_advice
from tests.projections.support import ReadModels, rebuilt_dump

ROOT = Path(__file__).resolve().parents[2]
WORKER = "tests.projections.catch_up_worker"


def run_worker(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", WORKER, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def positions(path: Path) -> dict[str, int]:
    with ReadModelStore(path) as store:
        rows = store.read("SELECT projection, notification_id FROM projection_tracking")
    return {row[0]: row[1] for row in rows}


def schemas(path: Path) -> int:
    with ReadModelStore(path) as store:
        return len(store.read("SELECT projection FROM projection_schema"))


def statements_of_a_catch_up(store, path: Path, monkeypatch) -> int:
    with monkeypatch.context() as patched:
        patched.setattr(ReadModelStore, "transaction", ReadModelStore.transaction)
        counter = die_before_statement(10**9)
        models = ReadModels(store, path)
        models.refresh(batch_size=9)
        models.close()
    return counter[0]


@pytest.mark.parametrize("at_fraction", [0.03, 0.45, 0.9])
def test_a_catch_up_killed_between_two_statements_resumes_without_gap_or_double(
    service, clock, store, tmp_path, monkeypatch, at_fraction
):
    demo_like(service, clock)
    head = service.app.recorder.max_notification_id()
    path = tmp_path / "read_models.sqlite"
    die_before = int(
        at_fraction * statements_of_a_catch_up(store, tmp_path / "count.sqlite", monkeypatch)
    )

    killed = run_worker("catch-up", json.dumps(store), str(path), str(die_before), "9")

    assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr
    assert sum(positions(path).values()) < head * len(READ_MODELS)  # it died on the way
    resumed = ReadModels(store, path)
    try:
        resumed.refresh()
        assert resumed.dump() == rebuilt_dump(store, tmp_path / "rebuilt.sqlite")
    finally:
        resumed.close()


def test_a_bot_killed_while_following_the_log_resumes_without_gap_or_double(
    regiotwin, clock, sqlite_store, tmp_path
):
    path = tmp_path / "read_models.sqlite"
    follower = subprocess.Popen(
        [sys.executable, "-m", WORKER, "follow", json.dumps(sqlite_store), str(path)], cwd=ROOT
    )
    try:
        deadline = time.monotonic() + 30
        while not (path.exists() and schemas(path) == len(READ_MODELS)):
            assert time.monotonic() < deadline, "the follower did not start"
            time.sleep(0.02)
        exchanges_and_advice(regiotwin, clock)  # written while the follower follows
    finally:
        follower.send_signal(signal.SIGKILL)
        follower.wait(timeout=10)
    assert follower.returncode == -signal.SIGKILL
    resumed = ReadModels(sqlite_store, path)
    try:
        resumed.refresh()
        assert resumed.dump() == rebuilt_dump(sqlite_store, tmp_path / "rebuilt.sqlite")
    finally:
        resumed.close()
