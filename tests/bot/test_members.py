"""Managing members through the bot: /members, its buttons, /role and /remove."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.partners import short_id
from bot.routers.members import MemberAct, MembersPage
from domain.commands import ChangeRole, InviteMember
from tests import builders
from tests.bot.conftest import ADMIN, BotWorld
from tests.bot.harness import GROUP, Person
from tests.bot.people import button_update, forged, join, said, with_button

CORA = Person(id=401, first_name="Cora Koch", language_code="de")  # München, coordinator
ANNA = Person(id=402, first_name="Lena Maier", language_code="de")  # München, staff
JAN = Person(id=403, first_name="Jonas Weber", language_code="en")  # Steinfurt, staff
SVEN = Person(id=404, first_name="Sven Ott", language_code="en")  # Steinfurt, coordinator
STRANGER = Person(id=999, first_name="Eve", language_code="de")


class People:
    def __init__(self, world: BotWorld) -> None:
        self.pair = builders.muenchen_and_steinfurt(world.service)
        self.cora = join(world, CORA, "09184", "coordinator")
        self.anna = join(world, ANNA, "09184", "staff")
        self.jan = join(world, JAN, "05566", "staff")
        self.sven = join(world, SVEN, "05566", "coordinator")
        self.role_button = f"Rolle: Lena Maier ({self.anna.hex[:6]})"  # the handle: names repeat
        self.remove_button = f"Entfernen: Lena Maier ({self.anna.hex[:6]})"


def recorded(world: BotWorld) -> int:
    return builders.recorded(world.service)


def role_of(world: BotWorld, member_id) -> str:
    return str(builders.get(world.service, member_id).role)


async def test_a_coordinator_lists_the_members_of_the_region_with_handles_and_state(
    world: BotWorld,
):
    people = People(world)
    invited = world.service.handle(
        InviteMember.parse(region="09184", role="staff", valid_days=3), actor=people.cora
    )
    world.settle()

    [listing] = await world.send(CORA, "/mitglieder")

    text = listing.text
    assert "<b>Mitglieder von Landkreis München</b>: 4" in text  # two from the builder
    assert (
        f"<code>{people.anna.hex[:6]}</code> Lena Maier – Mitarbeiter:in – "
        "beigetreten am 01.06.2016" in text
    )
    assert (
        f"<code>{invited.aggregate_id.hex[:6]}</code> (noch nicht beigetreten) – Mitarbeiter:in – "
        "eingeladen, die Einladung gilt bis 04.06.2016" in text
    )
    assert "Jonas Weber" not in text
    assert f"Rolle: Lena Maier ({people.anna.hex[:6]})" in dict(listing.buttons)
    assert not any("Cora" in label for label, _data in listing.buttons)  # not oneself

    world.clock.set(datetime(2016, 6, 10, 9, 0, tzinfo=UTC))
    [later] = await world.send(CORA, "/mitglieder")
    assert "Einladung abgelaufen am 04.06.2016" in later.text


async def test_changing_a_role_with_buttons(world: BotWorld):
    people = People(world)
    [listing] = await world.send(CORA, "/mitglieder")

    replies = await world.harness.press(CORA, listing, people.role_button)
    roles = replies[-1]
    assert "Welche Rolle soll Lena Maier (Mitarbeiter:in) haben?" in roles.text
    assert set(dict(roles.buttons)) == {"Koordinator:in", "‹ Zurück zur Liste"}
    replies = await world.harness.press(CORA, roles, "Koordinator:in")

    assert "Lena Maier ist jetzt Koordinator:in (geändert von Cora Koch)." in said(replies)
    assert role_of(world, people.anna) == "coordinator"
    replies = await world.harness.press(CORA, replies[-1], "‹ Zurück zur Liste")
    assert "Lena Maier – Koordinator:in" in replies[-1].text


async def test_removing_with_buttons_asks_to_confirm_and_for_the_reason(world: BotWorld):
    people = People(world)
    [listing] = await world.send(CORA, "/mitglieder")
    replies = await world.harness.press(CORA, listing, people.remove_button)
    assert "Lena Maier (Mitarbeiter:in) entfernen?" in replies[-1].text
    replies = await world.harness.press(CORA, replies[-1], "Ja, entfernen")
    assert "Warum wird Lena Maier entfernt?" in replies[-1].text

    replies = await world.send(CORA, "Hat den Landkreis verlassen")

    assert "Lena Maier wurde von Cora Koch entfernt." in said(replies)
    assert builders.get(world.service, people.anna).removed
    assert world.service.member_profile(ANNA.id) is None
    [listing] = await world.send(CORA, "/mitglieder")
    assert "Lena Maier" not in listing.text


async def test_cancel_while_giving_the_reason_removes_nobody(world: BotWorld):
    people = People(world)
    [listing] = await world.send(CORA, "/mitglieder")
    replies = await world.harness.press(CORA, listing, people.remove_button)
    await world.harness.press(CORA, replies[-1], "Ja, entfernen")
    before = recorded(world)
    [cancelled] = await world.send(CORA, "/abbrechen")
    assert "nichts erfasst" in cancelled.text
    assert recorded(world) == before
    assert not builders.get(world.service, people.anna).removed


async def test_role_and_remove_by_handle_in_english(world: BotWorld):
    people = People(world)
    handle = people.jan.hex[:6]

    [changed] = await world.send(SVEN, f"/role {handle} coordinator")
    [same] = await world.send(SVEN, f"/role {handle} coordinator")
    [bad_role] = await world.send(SVEN, f"/role {handle} boss")
    [usage] = await world.send(SVEN, "/role")
    [removed] = await world.send(SVEN, f"/remove {handle} moved to another job")
    [gone] = await world.send(SVEN, f"/remove {handle} again")

    assert "Jonas Weber is coordinator now (changed by Sven Ott)." in changed.text
    assert "already has the role coordinator" in same.text
    assert "There is no role boss" in bad_role.text
    assert "/role MEMBER ROLE" in usage.text
    assert "Jonas Weber was removed by Sven Ott." in removed.text
    assert "There is no such member." in gone.text
    assert builders.get(world.service, people.jan).removed


async def test_german_role_words_are_understood(world: BotWorld):
    people = People(world)
    [reply] = await world.send(CORA, f"/rolle {people.anna.hex[:8]} koordinatorin")
    assert "Lena Maier ist jetzt Koordinator:in" in reply.text
    assert role_of(world, people.anna) == "coordinator"


async def test_coordinators_manage_only_their_own_region(world: BotWorld):
    people = People(world)
    before = recorded(world)
    [other_list] = await world.send(CORA, "/mitglieder 05566")
    [other_role] = await world.send(CORA, f"/rolle {people.jan.hex[:6]} coordinator")
    data = MemberAct(action="remove", member=short_id(people.jan), version=2).pack()
    forged_press = await world.harness.press(CORA, forged(CORA, data), "x")
    page = MembersPage(scope=short_id(people.pair.steinfurt_id), page=1).pack()
    forged_page = await world.harness.press(CORA, forged(CORA, page), "x")
    office = await world.send(CORA, "/mitglieder office")

    assert "nur für Ihre eigene Region" in other_list.text
    assert "Dieses Mitglied gibt es nicht." in other_role.text
    assert "Dieses Mitglied gibt es nicht." in said(forged_press)
    assert "nur für Ihre eigene Region" in said(forged_page)
    assert "nur für Ihre eigene Region" in said(office)
    assert "Jonas Weber" not in said(forged_press + forged_page + office)
    assert recorded(world) == before


async def test_only_admins_hand_out_the_auditor_role(world: BotWorld):
    people = People(world)
    [refused] = await world.send(CORA, f"/rolle {people.anna.hex[:6]} auditor")
    assert "Nur Admins vergeben die Rolle Prüfer:in." in refused.text
    await world.send(ADMIN, "/start")
    [done] = await world.send(ADMIN, f"/role {people.anna.hex[:6]} auditor")
    assert "Lena Maier is auditor now" in done.text


async def test_admins_see_any_region_and_the_office(world: BotWorld):
    People(world)
    await world.send(ADMIN, "/start")
    [own] = await world.send(ADMIN, "/members")
    [steinfurt] = await world.send(ADMIN, "/members kreis-steinfurt")
    [unknown] = await world.send(ADMIN, "/members 99999")
    assert "<b>Members of the programme office</b>: 1" in own.text
    assert "Ada – admin – joined" in own.text
    assert "Jonas Weber" in steinfurt.text
    assert "Sven Ott" in steinfurt.text
    assert "There is no region 99999." in unknown.text


async def test_staff_strangers_and_groups_get_no_member_list(world: BotWorld):
    People(world)
    [staff] = await world.send(ANNA, "/mitglieder")
    [stranger] = await world.send(STRANGER, "/mitglieder")
    [group] = await world.send(CORA, "/mitglieder", chat=GROUP)
    [staff_role] = await world.send(ANNA, "/rolle abcdef staff")
    assert "Nur Koordinator:innen und Admins verwalten Mitglieder." in staff.text
    assert "Nur Koordinator:innen und Admins" in staff_role.text
    assert "kein Mitglied" in stranger.text
    assert "privaten Chat" in group.text
    assert "Anna" not in group.text


async def test_a_stale_role_button_says_so(world: BotWorld):
    people = People(world)
    [listing] = await world.send(CORA, "/mitglieder")
    replies = await world.harness.press(CORA, listing, people.role_button)
    roles = replies[-1]
    builders.act(world.service, people.cora, ChangeRole, member_id=people.anna, role="coordinator")
    world.settle()
    before = recorded(world)

    replies = await world.harness.press(CORA, roles, "Koordinator:in")
    stale_list = await world.harness.press(CORA, listing, people.remove_button)

    [alert] = [r for r in replies if r.method == "AnswerCallbackQuery"]
    assert alert.show_alert
    assert "inzwischen geändert" in alert.text
    assert "Lena Maier ist jetzt Koordinator:in." in said(replies)
    assert "inzwischen geändert" in said(stale_list)
    assert "Lena Maier – Koordinator:in" in stale_list[-1].text
    assert recorded(world) == before


async def test_a_redelivered_role_change_is_recorded_once(world: BotWorld):
    people = People(world)
    [listing] = await world.send(CORA, "/mitglieder")
    replies = await world.harness.press(CORA, listing, people.role_button)
    press = button_update(world, CORA, with_button(replies, "Koordinator:in"), "Koordinator:in")
    before = recorded(world)

    first = await world.harness.feed(press)
    again = await world.harness.feed(press)

    assert "ist jetzt Koordinator:in" in said(first)
    assert again == []
    assert recorded(world) == before + 2  # RoleChanged and the receipt
    assert role_of(world, people.anna) == "coordinator"


async def test_long_member_lists_are_paginated(world: BotWorld):
    People(world)
    for _ in range(9):
        world.service.handle(InviteMember.parse(region="09184", role="staff"), actor="system:test")
    world.settle()
    [first] = await world.send(CORA, "/mitglieder")
    assert "Seite 1 von 2" in first.text
    replies = await world.harness.press(CORA, first, "›")
    assert "Seite 2 von 2" in replies[-1].text
    assert "‹" in dict(replies[-1].buttons)
