"""The real bot process, long-polling the Bot API emulator, used by several people.

An admin invites a coordinator of each region, they join; München asks for advice,
Steinfurt advises, München adopts it into a new measure and reports progress, and the
status shows the new implementation rate.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.e2e.conftest import StartBotProcess
from tests.e2e.emulator_client import BotMessage, Chat, EmulatorClient, User
from tests.e2e.harness import REPO_ROOT, Emulator, python_cmd

REPLY_TIMEOUT = 20.0  # the first answer waits for the bot process to start


def invite_code(message: BotMessage) -> str:
    match = re.search(r"\?start=([A-Za-z0-9_-]+)", message.text)
    assert match, message.text
    return match.group(1)


def rate_now(status: BotMessage, region: str) -> str:
    block = status.text.split(f"Umsetzungsquote von {region}</b>", 1)[1]
    return block.split("• jetzt: ", 1)[1].split("\n", 1)[0]


async def test_muenchen_and_steinfurt_work_through_the_bot(
    emulator: Emulator,
    bot_token: str,
    emulator_client: EmulatorClient,
    start_bot_process: StartBotProcess,
    tmp_path: Path,
) -> None:
    client = emulator_client
    data = tmp_path / "data"
    # The programme, its regions and pairs, as `python run_bot.py seed-demo` loads them.
    subprocess.run(
        [sys.executable, str(REPO_ROOT / "run_bot.py"), "seed-demo"],
        env={"REGIOTWIN_DATA_DIR": str(data), "PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
        check=True,
        capture_output=True,
    )
    admin = User.make("Ada", language_code="de")
    lea = User.make("Lea", last_name="Maurer", language_code="de")  # coordinator, München
    tom = User.make("Tom", last_name="Esch", language_code="de")  # coordinator, Steinfurt
    start_bot_process(
        python_cmd(str(REPO_ROOT / "run_bot.py")),
        {
            **emulator.bot_env(bot_token),
            "REGIOTWIN_DATA_DIR": str(data),
            "REGIOTWIN_ADMINS": str(admin.id),
        },
    )
    admin_chat, lea_chat, tom_chat = Chat.private(admin), Chat.private(lea), Chat.private(tom)

    await client.send_command(admin, admin_chat, "/start")
    assert "Admin" in (await client.wait_for_reply(admin_chat, timeout=REPLY_TIMEOUT)).text

    # The admin invites a coordinator of each region; they join with the link's code.
    await client.send_command(admin, admin_chat, "/invite 09184 coordinator")
    lea_code = invite_code(await client.wait_for_reply(admin_chat, "start="))
    await client.send_command(admin, admin_chat, "/einladen kreis-steinfurt coordinator")
    tom_code = invite_code(await client.wait_for_reply(admin_chat, "start="))
    await client.send_command(lea, lea_chat, f"/start {lea_code}")
    assert "Willkommen bei RegioTwin" in (await client.wait_for_reply(lea_chat)).text
    await client.send_command(tom, tom_chat, f"/start {tom_code}")
    assert "Koordinator" in (await client.wait_for_reply(tom_chat)).text

    await client.send_command(lea, lea_chat, "/status")
    before = rate_now(await client.wait_for_reply(lea_chat, "Umsetzungsquote"), "Landkreis München")

    # München asks Steinfurt for advice on cycling.
    await client.send_command(lea, lea_chat, "/ratfragen")
    topics = await client.wait_for_reply(lea_chat, "um Rat fragen")
    await client.press_button(lea, lea_chat, topics, "Radverkehr")
    measure_choice = await client.wait_for_reply(
        lea_chat, lambda m: "Keine bestimmte Maßnahme" in m.button_texts
    )
    await client.press_button(lea, lea_chat, measure_choice, "Keine bestimmte Maßnahme")
    await client.wait_for_reply(lea_chat, "Frage")
    await client.send_message(lea, lea_chat, "Wie zählen Sie den Radverkehr an Pendlerstrecken?")
    assert "an Kreis Steinfurt gegangen" in (await client.wait_for_reply(lea_chat, "gegangen")).text

    # Steinfurt answers the question.
    await client.send_command(tom, tom_chat, "/raten")
    questions = await client.wait_for_reply(tom_chat, "Offene Fragen")
    assert "Pendlerstrecken" in questions.text
    await client.press_button(tom, tom_chat, questions, "Frage 1 beantworten")
    await client.wait_for_reply(tom_chat, "höchstens 4000 Zeichen")
    await client.send_message(tom, tom_chat, "Dauerzählstellen an drei Achsen, vorher und nachher.")
    sent = await client.wait_for_reply(tom_chat, "gegangen")
    assert "Landkreis München" in sent.text

    # München adopts the advice into a new measure.
    await client.send_command(lea, lea_chat, "/rat")
    item = await client.wait_for_reply(
        lea_chat, lambda m: "Dauerzählstellen" in m.text and "Übernehmen" in m.button_texts
    )
    await client.press_button(lea, lea_chat, item, "Übernehmen")
    # The bot edits the advice in place to offer the measures (edits show in the history).
    choice = await client.wait_for_edit(
        lea_chat, item.message_id, lambda m: "Neue Maßnahme" in m.button_texts
    )
    await client.press_button(lea, lea_chat, choice, "Neue Maßnahme")
    await client.wait_for_reply(lea_chat, "Ihr Code?")
    await client.send_message(lea, lea_chat, "LKM-42")
    await client.wait_for_reply(lea_chat, "Ihr Titel?")
    await client.send_message(lea, lea_chat, "Dauerzählstellen Radverkehr")
    await client.wait_for_reply(lea_chat, "verantwortlich")
    await client.send_message(lea, lea_chat, "Fachbereich Mobilität")
    adopted = await client.wait_for_reply(lea_chat, "LKM-42")
    assert "Übernommen" in adopted.text

    # München reports progress on the new measure; the status shows the new rate.
    await client.send_command(lea, lea_chat, "/fortschritt LKM-42 40 Standorte gewählt")
    assert "40" in (await client.wait_for_reply(lea_chat, "LKM-42")).text
    await client.send_command(lea, lea_chat, "/status")
    after = rate_now(await client.wait_for_reply(lea_chat, "Umsetzungsquote"), "Landkreis München")
    assert after != before
