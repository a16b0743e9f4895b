"""Erasing personal data through the bot: /erase MEMBER REASON (admins), /erase me REASON."""

from __future__ import annotations

from tests import builders
from tests.bot.conftest import ADMIN, BotWorld
from tests.bot.harness import Person
from tests.bot.people import join

ANNA = Person(id=7318402953, first_name="Anna Quellmalz", language_code="de")
BERT = Person(id=7318402954, first_name="Bert Zwiebelhaus", language_code="en")


async def test_a_member_erases_their_own_data_and_is_a_stranger_then(world: BotWorld):
    builders.muenchen_and_steinfurt(world.service)
    anna = join(world, ANNA, "09184", "staff")

    [reply] = await world.send(ANNA, "/loeschen mich Ich verlasse das Programm")

    assert "gelöscht" in reply.text
    member = world.service.app.repository.get(anna)
    assert (member.erased, member.name, member.telegram_user_id) == (True, None, None)
    [stranger] = await world.send(ANNA, "/start")
    assert "Einladung" in stranger.text  # the bot no longer knows the account
    assert world.service.verify_log().intact


async def test_an_admin_erases_a_member_by_handle_others_may_not(world: BotWorld):
    builders.muenchen_and_steinfurt(world.service)
    await world.send(ADMIN, "/start")
    anna = join(world, ANNA, "09184", "coordinator")
    bert = join(world, BERT, "09184", "staff")

    [refusal] = await world.send(ANNA, f"/erase {bert.hex[:8]} left the programme")
    assert "Nur Admins" in refusal.text
    assert not world.service.app.repository.get(bert).erased

    [done] = await world.send(ADMIN, f"/erase {bert.hex[:8]} left the programme")

    assert f"member {bert.hex[:8]} was erased" in done.text
    assert "Zwiebelhaus" not in done.text
    assert world.service.app.repository.get(bert).erased
    assert world.service.member_for_telegram(BERT.id) is None
    assert world.service.member_for_telegram(ANNA.id) == anna
    [usage] = await world.send(ADMIN, "/erase")
    assert "/erase me REASON" in usage.text
