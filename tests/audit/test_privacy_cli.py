"""``python run_bot.py erase MEMBER REASON``: :func:`audit.privacy.erase`."""

from __future__ import annotations

import pytest

from audit import cli
from audit.privacy import erase
from demo.seed import SeedReport, seed_demo
from domain.clock import ManualClock
from domain.service import RegioTwin
from projections.dump import canonical_dump
from projections.outbox import open_outbox
from projections.outbox_projection import OutboxProjection, apply_log
from settings import Settings

LUKAS = "Demo: Lukas Maier (LK München)"


@pytest.fixture
def seeded(settings: Settings, clock: ManualClock) -> SeedReport:
    """The demo, with an outbox the bot has started (silent about the past)."""
    service = RegioTwin.from_env(settings.event_store_env, clock)
    try:
        report = seed_demo(service, clock)
        outbox = open_outbox(settings.event_store_env, settings.data_dir)
        outbox.initialise(service.app.name, service.app.recorder.max_notification_id())
        apply_log(OutboxProjection(outbox), service.app)
        outbox.close()
        return report
    finally:
        service.close()


def table_of(dump: str, wanted: str) -> str:
    """The table a line of a canonical dump belongs to."""
    table = ""
    for line in dump.splitlines():
        if line.startswith("-- "):
            table = line.split()[2].rstrip(":")
        elif line == wanted:
            return table
    raise LookupError(wanted)


def test_erase_by_name_updates_read_models_and_outbox_and_the_chain_verifies(
    settings, console, clock, seeded
):
    lukas = seeded.member("lk-muenchen", "staff")

    erased = erase(settings, console, LUKAS, "request under GDPR Art. 17", clock=clock)

    assert erased == lukas.member_id
    text = console.export_text()
    assert f"Personal data of member {lukas.member_id.hex} erased" in text
    assert "The hash chain verifies" in text
    dump = canonical_dump(settings.read_model_path)
    assert str(lukas.telegram_user_id) not in dump
    # The name is left only where people typed it as free text: the demo lists members
    # among an exchange's participants (a known limit of erasure, see the README).
    left = [(table_of(dump, line), line) for line in dump.splitlines() if LUKAS in line]
    assert {table for table, _ in left} == {"exchanges", "timeline_entries"}
    assert all("Exchange.Recorded" in line for table, line in left if table != "exchanges")
    outbox = open_outbox(settings.event_store_env, settings.data_dir)
    try:
        with outbox.db.read() as tx:
            row = tx.one(
                "SELECT name, chat_id FROM outbox_members WHERE member_id = ?",
                (lukas.member_id.hex,),
            )
    finally:
        outbox.close()
    assert row == {"name": None, "chat_id": None}

    cli.history(settings, console, lukas.member_id.hex, clock=clock)
    assert "erased member" in console.export_text()
    assert LUKAS not in console.export_text().split("erased (log position")[-1]


def test_erase_refuses_what_it_cannot_tell_apart(settings, console, clock, seeded):
    with pytest.raises(SystemExit):
        erase(settings, console, "Nobody Known", "request", clock=clock)
    assert "No member found" in console.export_text()
    lukas = seeded.member("lk-muenchen", "staff")
    erase(settings, console, lukas.member_id.hex[:8], "request", clock=clock)
    with pytest.raises(SystemExit):
        erase(settings, console, lukas.member_id.hex, "request", clock=clock)
    assert "Not erased (member.erased)" in console.export_text()
