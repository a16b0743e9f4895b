"""Processes of the end-to-end tests: the Telegram Bot API emulator and the bot under test.

``start_emulator`` runs ``node tests/e2e/emulator/launcher.js`` (``telegram-test-api`` 4.2.1
with its quirks worked around) on a free 127.0.0.1 port; ``start_process`` runs any command,
such as ``python run_bot.py``, with its output in a log file. The fixtures in ``conftest.py``
wrap both and clean up after themselves.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from tests.e2e.emulator_client import EmulatorClient

E2E_DIR = Path(__file__).resolve().parent
EMULATOR_DIR = E2E_DIR / "emulator"
LAUNCHER = EMULATOR_DIR / "launcher.js"
PACKAGE_JSON = EMULATOR_DIR / "node_modules" / "telegram-test-api" / "package.json"
EMULATOR_VERSION = "4.2.1"
REPO_ROOT = E2E_DIR.parent.parent
INSTALL_HINT = "run scripts/install-emulator.sh (npm ci in tests/e2e/emulator)"
BOT_USERNAME = "RegioTwinTestBot"
_READY = re.compile(r"^READY (\d+)$", re.MULTILINE)


class HarnessError(RuntimeError):
    """The end-to-end harness cannot run (missing node, package, or a process died)."""


def emulator_problem() -> str | None:
    """Why the emulator cannot start here, or None."""
    if shutil.which("node") is None:
        return f"node (Node.js >= 18) is not on PATH; install it, then {INSTALL_HINT}"
    if not PACKAGE_JSON.exists():
        return f"telegram-test-api is not installed in {EMULATOR_DIR}: {INSTALL_HINT}"
    version = json.loads(PACKAGE_JSON.read_text(encoding="utf-8")).get("version")
    if version != EMULATOR_VERSION:
        return f"telegram-test-api {version} installed, {EMULATOR_VERSION} expected: {INSTALL_HINT}"
    return None


def fake_token(bot_id: int | None = None) -> str:
    """A bot token of Telegram's shape; the emulator's getMe reports ``bot_id`` as the id."""
    number = bot_id if bot_id is not None else secrets.randbelow(9_000_000_000) + 1_000_000_000
    return f"{number}:TEST-{secrets.token_urlsafe(24)}"


def _tail(path: Path, lines: int = 60) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


@dataclass
class ManagedProcess:
    """A subprocess in its own process group, its stdout and stderr in ``log_path``."""

    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path
    _log_file: IO[bytes] | None = field(repr=False, default=None)

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def alive(self) -> bool:
        return self.popen.poll() is None

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def log_tail(self, lines: int = 60) -> str:
        return _tail(self.log_path, lines)

    def assert_alive(self) -> None:
        if not self.alive:
            raise HarnessError(
                f"{self.name} (pid {self.pid}) exited with {self.popen.returncode}; "
                f"log {self.log_path}:\n{self.log_tail()}"
            )

    def wait_for_log(self, pattern: str | re.Pattern[str], timeout: float = 10.0) -> re.Match[str]:
        """Wait until the log matches ``pattern`` (a regular expression)."""
        regex = re.compile(pattern, re.MULTILINE) if isinstance(pattern, str) else pattern
        deadline = time.monotonic() + timeout
        while True:
            match = regex.search(self.log_text())
            if match:
                return match
            if not self.alive:
                raise HarnessError(
                    f"{self.name} exited ({self.popen.returncode}) before logging "
                    f"{regex.pattern!r}; log {self.log_path}:\n{self.log_tail()}"
                )
            if time.monotonic() >= deadline:
                raise HarnessError(
                    f"{self.name} did not log {regex.pattern!r} within {timeout}s; "
                    f"log {self.log_path}:\n{self.log_tail()}"
                )
            time.sleep(0.02)

    def cpu_seconds(self) -> float | None:
        """User + system CPU time the process used so far (Linux /proc), or None."""
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, IndexError, ProcessLookupError):
            return None
        ticks = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / ticks

    def stop(self, timeout: float = 5.0) -> int | None:
        """SIGTERM the process group, SIGKILL it after ``timeout``; returns the exit code."""
        if self.alive:
            self._signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self._signal(signal.SIGKILL)
                self.popen.wait(timeout)
        if self.popen.stdin is not None:
            self.popen.stdin.close()
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        return self.popen.returncode

    def _signal(self, signum: signal.Signals) -> None:
        # The group this process leads (start_new_session): it and whatever it started.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, signum)


def start_process(
    cmd: Sequence[str],
    env: Mapping[str, str] | None = None,
    *,
    log_path: Path,
    cwd: Path | None = None,
    name: str | None = None,
    inherit_regiotwin_env: bool = False,
    keep_stdin_open: bool = False,
) -> ManagedProcess:
    """Start ``cmd`` with ``env`` on top of this process's environment.

    ``REGIOTWIN_*`` variables of the test run are not passed on unless
    ``inherit_regiotwin_env``, so the process sees exactly the settings the test gives it.
    Output (stdout and stderr, unbuffered for Python) goes to ``log_path``.
    """
    full_env = {
        key: value
        for key, value in os.environ.items()
        if inherit_regiotwin_env or not key.startswith("REGIOTWIN_")
    }
    full_env["PYTHONUNBUFFERED"] = "1"
    full_env.update(env or {})
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log_file = log_path.open("ab")
    try:
        popen = subprocess.Popen(
            list(cmd),
            cwd=str(cwd) if cwd is not None else None,
            env=full_env,
            stdin=subprocess.PIPE if keep_stdin_open else subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    except BaseException:
        log_file.close()
        raise
    return ManagedProcess(name or Path(cmd[0]).name, popen, log_path, log_file)


@dataclass
class Emulator:
    """A running emulator: ``url`` for the bot (``TelegramAPIServer.from_base(url)`` or
    ``REGIOTWIN_TELEGRAM_API_URL``) and for the client API; ``token`` a default fake bot token.

    Every token is its own namespace in the emulator: tests that must not see each other's
    messages take ``new_token()``.
    """

    url: str
    port: int
    token: str
    process: ManagedProcess
    bot_username: str = BOT_USERNAME

    @property
    def log_path(self) -> Path:
        return self.process.log_path

    def new_token(self) -> str:
        return fake_token()

    def client(self, token: str | None = None, *, default_timeout: float = 5.0) -> EmulatorClient:
        """A client speaking as users to the bot with ``token`` (use with ``async with``)."""
        return EmulatorClient(self.url, token or self.token, default_timeout=default_timeout)

    def bot_env(self, token: str | None = None) -> dict[str, str]:
        """The environment that points ``python run_bot.py`` at this emulator."""
        return {
            "REGIOTWIN_BOT_TOKEN": token or self.token,
            "REGIOTWIN_TELEGRAM_API_URL": self.url,
        }

    def assert_alive(self) -> None:
        self.process.assert_alive()

    def stop(self) -> int | None:
        return self.process.stop()


def start_emulator(log_path: Path, timeout: float = 15.0) -> Emulator:
    """Start the emulator on a free 127.0.0.1 port and wait until it listens."""
    problem = emulator_problem()
    if problem is not None:
        raise HarnessError(problem)
    process = start_process(
        ["node", str(LAUNCHER)],
        {
            "EMULATOR_HOST": "127.0.0.1",
            "EMULATOR_PORT": "0",
            "EMULATOR_EXIT_WITH_STDIN": "1",  # pytest dies -> stdin closes -> node exits
            "EMULATOR_BOT_USERNAME": BOT_USERNAME,
        },
        log_path=log_path,
        cwd=EMULATOR_DIR,
        name="telegram-test-api emulator",
        keep_stdin_open=True,
    )
    try:
        port = int(process.wait_for_log(_READY, timeout).group(1))
    except BaseException:
        process.stop()
        raise
    return Emulator(url=f"http://127.0.0.1:{port}", port=port, token=fake_token(), process=process)


def python_cmd(*args: str) -> list[str]:
    """``python <args>`` with this test run's interpreter (the virtualenv's)."""
    return [sys.executable, *args]
