"""Everyone who may knock at the bot's front door, and a world for them to act in.

München (09184) and Steinfurt (05566) are twinned; Marburg-Biedenkopf (06534) is a region of
the programme without any twinning with them. Every role sits in each of these regions and
in the programme office; strangers have no member at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

from domain.commands import EnrolAdmin, RequestAdvice
from domain.values import Role
from tests import builders
from tests.bot.conftest import ADMIN, BotWorld
from tests.bot.harness import Person
from tests.bot.people import join

MUENCHEN, STEINFURT, MARBURG = "09184", "05566", "06534"
OFFICE = None


@dataclass(frozen=True)
class Seat:
    """A member of the cast: who they are on Telegram, their role and their region."""

    person: Person
    role: Role | None  # None: a stranger
    region: str | None  # a region key, None: the programme office (or nowhere, for strangers)

    @property
    def is_member(self) -> bool:
        return self.role is not None


def _seat(telegram_id: int, name: str, role: Role | None, region: str | None, lang: str) -> Seat:
    return Seat(Person(id=telegram_id, first_name=name, language_code=lang), role, region)


SEATS: tuple[Seat, ...] = (
    _seat(501, "Anna Huber", Role.STAFF, MUENCHEN, "de"),
    _seat(502, "Cora Koch", Role.COORDINATOR, MUENCHEN, "en"),
    _seat(503, "Paul Prüfer", Role.AUDITOR, MUENCHEN, "de"),
    _seat(504, "Mia Admin", Role.ADMIN, MUENCHEN, "de"),
    _seat(511, "Jan Brinkmann", Role.STAFF, STEINFURT, "de"),
    _seat(512, "Sven Ott", Role.COORDINATOR, STEINFURT, "en"),
    _seat(513, "Rita Revisor", Role.AUDITOR, STEINFURT, "de"),
    _seat(521, "Lea Lahn", Role.STAFF, MARBURG, "de"),
    _seat(522, "Max Marburg", Role.COORDINATOR, MARBURG, "de"),
    _seat(523, "Udo Unbeteiligt", Role.AUDITOR, MARBURG, "en"),
    _seat(531, "Olga Office", Role.STAFF, OFFICE, "de"),
    _seat(532, "Otto Office", Role.COORDINATOR, OFFICE, "en"),
    _seat(533, "Ida Audit", Role.AUDITOR, OFFICE, "en"),
    Seat(ADMIN, Role.ADMIN, OFFICE),
)
STRANGERS: tuple[Seat, ...] = (
    _seat(901, "Eve", None, None, "de"),
    _seat(902, "Mallory <b>", None, None, "en"),
    _seat(903, "Трудный ‮gnp.exe", None, None, "ru"),
)
EVERYONE: tuple[Seat, ...] = SEATS + STRANGERS
BYSTANDERS: tuple[tuple[str | None, Role], ...] = (
    (MUENCHEN, Role.STAFF),
    (MUENCHEN, Role.STAFF),
    (MUENCHEN, Role.AUDITOR),
    (STEINFURT, Role.STAFF),
    (MARBURG, Role.STAFF),
    (OFFICE, Role.STAFF),
)


def seat(role: Role | None, region: str | None) -> Seat:
    for candidate in EVERYONE:
        if candidate.role == role and candidate.region == region:
            return candidate
    raise LookupError((role, region))


@dataclass
class Stage:
    """The world and what is in it: ids of the items people act on."""

    world: BotWorld
    pair: builders.Pair
    marburg_id: UUID
    members: dict[int, UUID] = field(default_factory=dict)
    """Telegram id → member id of every seat."""
    measures: dict[str, UUID] = field(default_factory=dict)
    """Measure code → id: LKM-07 (München), KST-01 (Steinfurt), MRB-01 (Marburg)."""
    bystanders: list[UUID] = field(default_factory=list)
    """Members who never write to the bot: whom /role and /remove may be aimed at."""
    goal_id: UUID | None = None
    """München's goal (share of renewable electricity)."""
    advice_id: UUID | None = None
    """Advice of Steinfurt for München (open)."""
    exchange_code: str = ""

    def member_of(self, person: Person) -> UUID | None:
        return self.members.get(person.id)

    @property
    def region_ids(self) -> dict[str, UUID]:
        """Region key → id."""
        return {
            MUENCHEN: self.pair.muenchen_id,
            STEINFURT: self.pair.steinfurt_id,
            MARBURG: self.marburg_id,
        }


def set_the_stage(world: BotWorld) -> Stage:
    """München–Steinfurt running, Marburg alone; every seat joined; a measure per region,
    a goal, an exchange with a follow-up, an advice request and an open advice."""
    service = world.service
    pair = builders.muenchen_and_steinfurt(service)
    marburg_id = builders.marburg(service)
    stage = Stage(world=world, pair=pair, marburg_id=marburg_id)
    service.handle(
        EnrolAdmin.parse(telegram_user_id=ADMIN.id, name=ADMIN.first_name),
        actor="system:bootstrap",
    )
    for member in SEATS:
        if member.person.id == ADMIN.id:
            continue
        assert member.role is not None
        stage.members[member.person.id] = join(world, member.person, member.region, member.role)
    admin_id = service.member_for_telegram(ADMIN.id)
    assert admin_id is not None
    stage.members[ADMIN.id] = admin_id
    muenchen_staff = stage.members[seat(Role.STAFF, MUENCHEN).person.id]
    steinfurt_staff = stage.members[seat(Role.STAFF, STEINFURT).person.id]
    marburg_staff = stage.members[seat(Role.STAFF, MARBURG).person.id]
    stage.measures["LKM-07"] = builders.measure(service, muenchen_staff, MUENCHEN, "LKM-07")
    stage.measures["KST-01"] = builders.measure(service, steinfurt_staff, STEINFURT, "KST-01")
    stage.measures["MRB-01"] = builders.measure(service, marburg_staff, MARBURG, "MRB-01")
    stage.goal_id = builders.goal(service, muenchen_staff)
    recorded = builders.exchange(
        service,
        pair,
        follow_ups=[
            {"text": "Send the counting data", "owner_region": STEINFURT, "due_on": "30.09.2016"}
        ],
        actor=muenchen_staff,
    )
    stage.exchange_code = recorded.aggregate_id.hex[:8]
    builders.act(
        service,
        muenchen_staff,
        RequestAdvice,
        twinning_id=pair.twinning_id,
        topic="cycling",
        question="How do you count cyclists?",
    )
    stage.advice_id = builders.advice(service, pair, actor=steinfurt_staff)
    for number, (region, role) in enumerate(BYSTANDERS, start=6001):
        person = Person(id=number, first_name=f"Bystander {number}")
        stage.bystanders.append(join(world, person, region, role))
    world.settle()
    return stage
