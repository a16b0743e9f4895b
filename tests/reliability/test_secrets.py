"""The bot token (and the webhook secret, the cipher key, the database password) never
appears in a log: not when the Bot API cannot be reached, not when aiohttp puts the
request URL, token and all, into an error."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.log_redaction import MASK, RedactingFilter, install_redaction, remove_redaction
from bot.runner import build_bot, publish_commands
from domain.application import create_cipher_key
from settings import Settings
from tests.e2e.harness import REPO_ROOT, python_cmd, start_process
from tests.reliability.bot_api_standin import BotApiStandIn

TOKEN = "5550001:AAH-very-secret-token-part_xyz"
SECRET_HALF = TOKEN.split(":", 1)[1]
WEBHOOK_SECRET = "hook-secret-value-42"
PASSWORD = "pg-Pass-w0rd"


@pytest.fixture
def redaction() -> Iterator[RedactingFilter]:
    installed = install_redaction([TOKEN, WEBHOOK_SECRET, PASSWORD], capture_warnings=False)
    try:
        yield installed
    finally:
        remove_redaction(installed)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # nothing listens once the probe is closed


def test_settings_name_every_secret(tmp_path: Path) -> None:
    key = create_cipher_key()
    settings = Settings(
        data_dir=tmp_path,
        bot_token=TOKEN,
        webhook_secret=WEBHOOK_SECRET,
        cipher_key=key,
        database_url=f"postgresql://ops:{PASSWORD}@db.example:5432/regiotwin",
    )
    assert set(settings.secret_values()) == {TOKEN, WEBHOOK_SECRET, key, PASSWORD}
    shown = repr(settings)
    for secret in settings.secret_values():
        assert secret not in shown


def test_every_record_is_masked(
    redaction: RedactingFilter, caplog: pytest.LogCaptureFixture
) -> None:
    log = logging.getLogger("regiotwin.test.secrets")
    with caplog.at_level(logging.INFO):
        log.info("GET https://api.telegram.org/bot%s/getMe", TOKEN)
        log.warning("the secret alone: %s, the password %s", SECRET_HALF, PASSWORD)
        log.info(f"an f-string with {WEBHOOK_SECRET}")
        try:
            raise RuntimeError(f"Cannot connect: url='http://x/bot{TOKEN}/sendMessage'")
        except RuntimeError:
            log.exception("a failure")
        log.info("a stack", stack_info=True, extra={"token": "not formatted"})
    text = caplog.text
    for secret in (TOKEN, SECRET_HALF, WEBHOOK_SECRET, PASSWORD):
        assert secret not in text
    assert f"bot{MASK}/getMe" in text
    assert f"bot{MASK}/sendMessage" in text  # in the traceback
    assert "the password ***" in text


async def test_an_error_with_the_request_url_is_masked(
    caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    """aiohttp names the URL (…/bot<TOKEN>/setMyCommands) when it gives up on a redirect
    loop; aiogram raises it and the runner logs it."""
    with BotApiStandIn(redirect_loop=True) as api:
        bot = build_bot(Settings(data_dir=tmp_path, bot_token=TOKEN, telegram_api_url=api.url))
        try:
            with caplog.at_level(logging.WARNING, logger="regiotwin.bot"):
                await publish_commands(bot)
            assert TOKEN in caplog.text  # the leak the filter is there for
            caplog.clear()
            installed = install_redaction([TOKEN], capture_warnings=False)
            try:
                with caplog.at_level(logging.WARNING, logger="regiotwin.bot"):
                    await publish_commands(bot)
            finally:
                remove_redaction(installed)
        finally:
            await bot.session.close()
    assert "setMyCommands" in caplog.text
    assert f"bot{MASK}/setMyCommands" in caplog.text
    assert TOKEN not in caplog.text
    assert SECRET_HALF not in caplog.text


def run_bot_against(api_url: str, tmp_path: Path, name: str) -> str:
    key = create_cipher_key()
    process = start_process(
        python_cmd(str(REPO_ROOT / "run_bot.py")),
        {
            "REGIOTWIN_BOT_TOKEN": TOKEN,
            "REGIOTWIN_TELEGRAM_API_URL": api_url,
            "REGIOTWIN_DATA_DIR": str(tmp_path / "data"),
            "REGIOTWIN_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "REGIOTWIN_CIPHER_KEY": key,
        },
        log_path=tmp_path / f"{name}.log",
        cwd=tmp_path,
        name=name,
    )
    try:
        code = process.popen.wait(45)
    finally:
        process.stop()
    output = process.log_text()
    assert code == 1, output  # it cannot start without the Bot API
    assert "the bot stopped" in output
    for secret in (TOKEN, SECRET_HALF, WEBHOOK_SECRET, key):
        assert secret not in output, output
    return output


def test_run_bot_against_a_closed_port_logs_no_token(tmp_path: Path) -> None:
    output = run_bot_against(f"http://127.0.0.1:{closed_port()}", tmp_path, "closed")
    assert "Cannot connect to host 127.0.0.1" in output


def test_run_bot_against_a_failing_api_logs_no_token(tmp_path: Path) -> None:
    with BotApiStandIn(redirect_loop=True) as api:
        output = run_bot_against(api.url, tmp_path, "redirecting")
    # aiohttp's error named the URL, the token masked in it.
    assert f"bot{MASK}/" in output
