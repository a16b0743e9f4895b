"""Fixtures of the end-to-end tests: the Telegram Bot API emulator and bot processes.

- ``emulator`` (session): ``node emulator/launcher.js`` on a free 127.0.0.1 port; ``.url``,
  ``.token``, ``.new_token()``, ``.client(token)``, ``.bot_env(token)``. Missing node or a
  missing ``telegram-test-api`` is a failure, not a skip: run ``scripts/install-emulator.sh``.
- ``bot_token``: a fresh fake token per test (its own namespace in the emulator).
- ``emulator_client``: an :class:`EmulatorClient` for ``bot_token``.
- ``start_bot_process``: ``start_bot_process(cmd, env)`` starts a subprocess (in the test's
  tmp directory, output in a log file there) and kills it at teardown.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from pathlib import Path

import pytest

from tests.e2e.emulator_client import EmulatorClient
from tests.e2e.harness import (
    Emulator,
    HarnessError,
    ManagedProcess,
    emulator_problem,
    start_emulator,
    start_process,
)


@pytest.fixture(scope="session")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    problem = emulator_problem()
    if problem is not None:
        pytest.fail(f"the end-to-end tests need the Telegram emulator: {problem}", pytrace=False)
    log_path = tmp_path_factory.mktemp("emulator") / "emulator.log"
    try:
        running = start_emulator(log_path)
    except HarnessError as error:
        pytest.fail(str(error), pytrace=False)
    try:
        yield running
    finally:
        code = running.stop()
        if code not in (0, None):
            print(f"emulator exited with {code}; log {log_path}:\n{running.process.log_tail()}")


@pytest.fixture
def bot_token(emulator: Emulator) -> str:
    return emulator.new_token()


@pytest.fixture
async def emulator_client(emulator: Emulator, bot_token: str) -> AsyncIterator[EmulatorClient]:
    emulator.assert_alive()
    async with emulator.client(bot_token) as client:
        yield client
    emulator.assert_alive()


StartBotProcess = Callable[..., ManagedProcess]


@pytest.fixture
def start_bot_process(tmp_path: Path) -> Iterator[StartBotProcess]:
    """``start_bot_process(cmd, env=None, *, cwd=tmp_path, name="bot")`` -> ManagedProcess.

    The process runs in ``cwd`` (default: the test's tmp directory, so no ``.env`` or
    ``data/`` of the checkout leaks in) with ``env`` over this environment minus
    ``REGIOTWIN_*``; stdout and stderr go to ``tmp_path/<name>.log``. At teardown it gets
    SIGTERM (SIGKILL after 5 s) and the log's tail is printed (pytest shows it on failure).
    """
    started: list[ManagedProcess] = []

    def start(
        cmd: Sequence[str],
        env: Mapping[str, str] | None = None,
        *,
        cwd: Path | None = None,
        name: str = "bot",
        inherit_regiotwin_env: bool = False,
    ) -> ManagedProcess:
        process = start_process(
            cmd,
            env,
            log_path=tmp_path / f"{name}-{len(started)}.log",
            cwd=cwd or tmp_path,
            name=name,
            inherit_regiotwin_env=inherit_regiotwin_env,
        )
        started.append(process)
        return process

    yield start
    for process in reversed(started):
        code = process.stop()
        print(f"--- {process.name} (exit {code}), log {process.log_path}:\n{process.log_tail()}")
