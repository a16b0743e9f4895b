"""End to end: Steinfurt advises, München's coordinator hears of it in Telegram.

The real ``python run_bot.py`` long-polls the Telegram emulator. People join through the
bot; the advice is recorded through the domain service on the same SQLite store (the
/advise dialog is a feature of its own); the bot process's outbox projection picks the
event up and its notifier sends the message to München's coordinator.
"""

from __future__ import annotations

import re
from pathlib import Path

from domain.application import sqlite_env
from domain.commands import FormTwinning, GiveAdvice, StartTwinning
from domain.service import RegioTwin
from tests import builders
from tests.builders import SYSTEM
from tests.e2e.conftest import StartBotProcess
from tests.e2e.emulator_client import Chat, EmulatorClient, User
from tests.e2e.harness import REPO_ROOT, Emulator, python_cmd


def invite_code(text: str) -> str:
    match = re.search(r"start=([A-Za-z0-9_-]+)", text)
    assert match, text
    return match.group(1)


def programme_with_a_twinning(service: RegioTwin):
    builders.programme(service)
    builders.region(service, "09184", "lk-muenchen", "Landkreis München", "Landkreis", "Bayern")
    builders.region(
        service, "05566", "kreis-steinfurt", "Kreis Steinfurt", "Kreis", "Nordrhein-Westfalen"
    )
    twinning = service.handle(
        FormTwinning.parse(
            programme="03KF0003",
            first_region="kreis-steinfurt",
            second_region="lk-muenchen",
            starts_on="21.06.2016",
            ends_on="20.06.2017",
            topics=[{"topic": "cycling", "teaching_region": "05566"}],
        ),
        actor=SYSTEM,
    ).aggregate_id
    service.handle(StartTwinning.parse(twinning_id=twinning), actor=SYSTEM)
    return twinning


async def join(client: EmulatorClient, admin: User, person: User, invite: str) -> None:
    admin_chat = Chat.private(admin)
    await client.send_command(admin, admin_chat, invite)
    invitation = await client.wait_for_reply(admin_chat, "start=", timeout=15)
    chat = Chat.private(person)
    await client.send_command(person, chat, f"/start {invite_code(invitation.text)}")
    await client.wait_for_reply(chat, timeout=15)


async def test_steinfurt_advises_and_muenchens_coordinator_is_told(
    emulator: Emulator,
    bot_token: str,
    emulator_client: EmulatorClient,
    start_bot_process: StartBotProcess,
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    service = RegioTwin.from_env(sqlite_env(str(data / "events.sqlite")))
    try:
        twinning = programme_with_a_twinning(service)
        admin = User.make("Ada", "ada_admin", language_code="en")
        maria = User.make("Maria", "maria_lkm", language_code="de")  # München's coordinator
        jan = User.make("Jan", "jan_kst", language_code="de")  # Steinfurt's staff
        bot = start_bot_process(
            python_cmd(str(REPO_ROOT / "run_bot.py")),
            {
                **emulator.bot_env(bot_token),
                "REGIOTWIN_DATA_DIR": str(data),
                "REGIOTWIN_ADMINS": str(admin.id),
            },
        )
        bot.wait_for_log(r"polling as @", timeout=60)

        await emulator_client.send_command(admin, Chat.private(admin), "/start")
        await emulator_client.wait_for_reply(Chat.private(admin), "admin", timeout=15)
        await join(emulator_client, admin, maria, "/invite 09184 coordinator")
        await join(emulator_client, admin, jan, "/invite 05566 staff")

        jan_member = service.member_for_telegram(jan.id)
        assert jan_member is not None
        service.handle(
            GiveAdvice.parse(
                twinning_id=twinning,
                topic="cycling",
                text="Count cyclists <before> and after: a pilot corridor first.",
            ),
            actor=jan_member,
        )

        told = await emulator_client.wait_for_reply(Chat.private(maria), "Rat", timeout=20)
        assert told.text.startswith("💡 <b>Jan</b> (Kreis Steinfurt) hat Ihrer Region einen Rat")
        assert "&lt;before&gt;" in told.text
        assert told.parse_mode == "HTML"
        assert told.button_texts == ["Zum Twinning"]
        # The actor is not told of their own advice; the office has nothing to hear of it.
        await emulator_client.assert_no_reply(Chat.private(jan), within=1.0)
        await emulator_client.assert_no_reply(Chat.private(admin), within=0.2)
        bot.assert_alive()
    finally:
        service.close()
