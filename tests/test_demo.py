"""`python run_bot.py` without a token: a newcomer sees the product working."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from rich.console import Console

from demo.terminal import play_demo

REPO = Path(__file__).resolve().parents[1]


def test_the_demo_plays_a_conversation_through_the_bot_then_notifications_and_audit(
    tmp_path: Path,
):
    console = Console(record=True, width=200, color_system=None)
    play_demo(tmp_path / "store", console, results=tmp_path / "out")
    text = console.export_text()

    # München asks, Steinfurt advises, München adopts it into a new measure.
    assert "Ihre Frage zu E-Mobilität ist an Kreis Steinfurt gegangen" in text
    assert "Ihr Rat zu E-Mobilität ist an Landkreis München gegangen." in text
    assert "Übernommen in die neue Maßnahme LKM-20" in text
    assert "LKM-20 ist jetzt „geplant“" in text
    # The auditor reads who changed what; the status shows the new measure counted.
    assert "Historie von LKM-20" in text
    assert "4 von 9 umgesetzt" in text
    # A notification and a reminder reach the partner.
    assert "Telegram → Demo: Anna Huber (LK München)" in text
    assert "Erinnerung" in text
    assert "(intact)" in text


def test_run_bot_without_a_token_shows_the_demo(tmp_path: Path):
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith("REGIOTWIN_")
    }
    finished = subprocess.run(
        [sys.executable, str(REPO / "run_bot.py")],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr
    assert "No REGIOTWIN_BOT_TOKEN set" in finished.stdout
    assert "Übernommen in die neue Maßnahme" in finished.stdout
    assert "Traceback" not in finished.stdout + finished.stderr
