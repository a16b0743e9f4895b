"""Joining RegioTwin through the bot, in German and English."""

from __future__ import annotations

import re

from tests import builders
from tests.bot.conftest import ADMIN, BotWorld
from tests.bot.harness import Person

ANNA = Person(id=101, first_name="Anna", language_code="de")
JOHN = Person(id=102, first_name="John", language_code="en")
STRANGER = Person(id=999, first_name="Eve", language_code="de")


def invite_code(text: str) -> str:
    match = re.search(r"\?start=([A-Za-z0-9_-]+)", text)
    assert match, text
    return match.group(1)


async def test_a_stranger_gets_a_polite_explanation_without_any_data(world: BotWorld):
    builders.muenchen_and_steinfurt(world.service)
    [reply] = await world.send(STRANGER, "/start")
    assert "Einladung" in reply.text
    assert "München" not in reply.text
    assert "Steinfurt" not in reply.text


async def test_an_admin_named_in_the_settings_is_enrolled_on_start(world: BotWorld):
    [reply] = await world.send(ADMIN, "/start")
    assert "admin" in reply.text
    assert world.service.member_for_telegram(ADMIN.id) is not None


async def test_an_admin_invites_a_coordinator_who_joins_with_the_link(world: BotWorld):
    builders.muenchen_and_steinfurt(world.service)
    await world.send(ADMIN, "/start")
    [invitation] = await world.send(ADMIN, "/invite 09184 coordinator")
    code = invite_code(invitation.text)

    [welcome] = await world.send(ANNA, f"/start {code}")

    assert "Willkommen" in welcome.text
    assert "Koordinator" in welcome.text
    assert world.service.member_for_telegram(ANNA.id) is not None


async def test_an_invite_works_once(world: BotWorld):
    builders.muenchen_and_steinfurt(world.service)
    await world.send(ADMIN, "/start")
    [invitation] = await world.send(ADMIN, "/invite 09184 staff")
    code = invite_code(invitation.text)
    await world.send(ANNA, f"/start {code}")

    [refusal] = await world.send(JOHN, f"/start {code}")

    assert "already used" in refusal.text
    assert world.service.member_for_telegram(JOHN.id) is None


async def test_staff_cannot_invite(world: BotWorld):
    builders.muenchen_and_steinfurt(world.service)
    await world.send(ADMIN, "/start")
    [invitation] = await world.send(ADMIN, "/invite 09184 staff")
    await world.send(ANNA, f"/start {invite_code(invitation.text)}")

    [refusal] = await world.send(ANNA, "/invite 09184 staff")

    assert "Koordinator" in refusal.text
    assert "start=" not in refusal.text


async def test_a_member_switches_the_language_with_a_button(world: BotWorld):
    builders.muenchen_and_steinfurt(world.service)
    await world.send(ADMIN, "/start")
    [invitation] = await world.send(ADMIN, "/invite 09184 staff")
    await world.send(ANNA, f"/start {invite_code(invitation.text)}")

    [question] = await world.send(ANNA, "/lang")
    replies = await world.harness.press(ANNA, question, "English")

    assert any("English" in reply.text for reply in replies)
    [help_text] = await world.send(ANNA, "/help")
    assert "What you can do here" in help_text.text


async def test_help_lists_only_what_this_member_may_do(world: BotWorld):
    [stranger_help] = await world.send(STRANGER, "/help")
    assert "/invite" not in stranger_help.text
    await world.send(ADMIN, "/start")
    [admin_help] = await world.send(ADMIN, "/help")
    assert "/invite" in admin_help.text


async def test_a_redelivered_update_is_answered_once_and_recorded_once(world: BotWorld):
    builders.muenchen_and_steinfurt(world.service)
    await world.send(ADMIN, "/start")
    update = world.harness.message_update(ADMIN, "/invite 09184 staff")
    head = world.service.app.recorder.max_notification_id()

    first = await world.harness.feed(update)
    again = await world.harness.feed(update)

    assert len(first) == 1
    assert again == []
    # Invited, the invitation index and the command receipt: recorded once.
    assert world.service.app.recorder.max_notification_id() == head + 3


async def test_an_unexpected_failure_is_an_apology_with_a_reference(world: BotWorld, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    await world.send(ADMIN, "/start")
    monkeypatch.setattr(world.service, "handle", broken)
    [reply] = await world.send(ADMIN, "/invite 09184 staff")
    assert "reference" in reply.text
    assert "disk on fire" not in reply.text
    assert "Traceback" not in reply.text
