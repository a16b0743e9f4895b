"""A synthetic programme at any scale, recorded through the domain's own batch path.

At 10⁶ events: 100 twinnings (200 regions), 10,000 measures with about fifty changes each
(status, progress, description, responsible, due date), exchanges with follow-ups and
advice in every twinning, two members per region. Smaller scales shrink the number of
twinnings and measures, not the shape of a measure's history.

Every event is recorded by :meth:`domain.service.RegioTwin.handle_batch` – the same
handlers, rules, receipts and hash chain as a command from the bot – never by writing
rows. A measure's whole history is decided in one batch together with nine other
measures' (a batch touches each aggregate once, so nothing is loaded from the store
twice), one batch ≈ 1,000 events, one transaction.

The bot's benchmark person (``BENCH_STAFF_TELEGRAM_ID``, staff of region 0) has
``spare`` measures ``SP-1…`` still *proposed* to move on with ``/setstatus``.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

from domain import ids
from domain.commands import (
    AcknowledgeAdvice,
    ChangeDueDate,
    ChangeMeasureStatus,
    ChangeResponsible,
    Command,
    EditDescription,
    FormTwinning,
    GiveAdvice,
    InviteMember,
    JoinWithInvite,
    ProposeMeasure,
    RecordExchange,
    RegisterRegion,
    ReportProgress,
    StartProgramme,
    StartTwinning,
)
from domain.service import Outcome

SYSTEM = "system:benchmark"
PROGRAMME = "BENCH2015"
START = datetime(2015, 1, 5, 8, 0, tzinfo=UTC)
SPAN = timedelta(days=700)
MEASURES_PER_GROUP = 10
BENCH_STAFF_TELEGRAM_ID = 7_000_001
BENCH_COORDINATOR_TELEGRAM_ID = 7_000_002
TELEGRAM_BASE = 7_100_000
TOPICS = ("cycling", "e_mobility", "energy_vision", "public_participation")
LAENDER = (  # (first two digits of the key, Land)
    ("01", "Schleswig-Holstein"),
    ("03", "Niedersachsen"),
    ("05", "Nordrhein-Westfalen"),
    ("06", "Hessen"),
    ("07", "Rheinland-Pfalz"),
    ("08", "Baden-Württemberg"),
    ("09", "Bayern"),
    ("14", "Sachsen"),
)
WORDS = (
    "Radschnellweg",
    "Ladesäulen",
    "Bürgerdialog",
    "Wärmepumpen",
    "Photovoltaik auf Schulen",
    "Energieberatung",
    "Klimaschutzmanagement",
    "Mobilitätsstation",
)
Item = tuple[Command, str | UUID, str | None]


@dataclass(frozen=True)
class Shape:
    """How big the synthetic programme is, derived from the number of events wanted."""

    events: int
    twinnings: int
    measures: int
    spare: int

    @classmethod
    def for_events(cls, events: int, spare: int = 300) -> Shape:
        measures = max(4, events // 100)
        twinnings = max(1, measures // 100)
        return cls(events=events, twinnings=twinnings, measures=measures, spare=spare)

    @property
    def regions(self) -> int:
        return 2 * self.twinnings


@dataclass
class Region:
    number: int
    key: str
    land: str
    staff: UUID | None = None
    coordinator: UUID | None = None
    twinning: UUID | None = None
    partner: int = 0
    teaches: bool = False


@dataclass
class Plan:
    """What was recorded (ids the benchmarks need afterwards)."""

    shape: Shape
    regions: list[Region] = field(default_factory=list)
    head: int = 0
    commands: int = 0

    def code(self, region: int, number: int) -> str:
        return f"R{region:03d}-{number}"


class ScriptedClock:
    """Recording times rise by a fixed step per command (over about two years at full
    scale; at most an hour, so that invitations are still valid when they are used)."""

    def __init__(self, commands: int) -> None:
        self.step = min(SPAN / max(commands, 1), timedelta(hours=1))
        self.moment = START

    def now(self) -> datetime:
        moment = self.moment
        self.moment += self.step
        return moment


def region_key(number: int) -> tuple[str, str]:
    prefix, land = LAENDER[number % len(LAENDER)]
    return f"{prefix}{100 + number // len(LAENDER):03d}", land


def measures_per_region(shape: Shape) -> list[int]:
    per_region = [shape.measures // shape.regions] * shape.regions
    for extra in range(shape.measures - sum(per_region)):
        per_region[extra] += 1
    return per_region


def open_measures(shape: Shape, regions: list[Region]) -> list[tuple[Region, str, UUID]]:
    """Measures still in progress at the end of the programme: (region, code, id)."""
    found = []
    for region, count in zip(regions, measures_per_region(shape), strict=True):
        for number in range(1, count + 1):
            if number % 10 >= 5:
                code = f"R{region.number:03d}-{number}"
                found.append((region, code, ids.measure_id(ids.region_id(region.key, ""), code)))
    return found


def expected_commands(shape: Shape) -> int:
    return shape.events // 2


def batches(shape: Shape, plan: Plan) -> Generator[list[Item], list[Outcome], None]:
    """The programme as batches of commands; send each batch's outcomes back in."""
    regions = [Region(n, *region_key(n)) for n in range(shape.regions)]
    plan.regions = regions
    outcomes: list[Outcome] = []

    def note(done: Sequence[Outcome]) -> None:
        plan.commands += len(done)
        positions = [o.position for o in done if o.position is not None]
        if positions:
            plan.head = max(plan.head, *positions)

    # --- the programme, its regions and twinnings --------------------------------------
    setup: list[Item] = [
        (
            StartProgramme.parse(
                code=PROGRAMME,
                name="RegioTwin Benchmark",
                starts_on="2014-12-01",
                ends_on="2017-12-31",
                office="Programmbüro",
                funder="Benchmark",
            ),
            SYSTEM,
            None,
        )
    ]
    for region in regions:
        setup.append(
            (
                RegisterRegion.parse(
                    key=region.key,
                    slug=f"bench-{region.number:03d}",
                    name=f"Landkreis Bench {region.number:03d}",
                    kind="Landkreis",
                    land=region.land,
                ),
                SYSTEM,
                None,
            )
        )
    for t in range(shape.twinnings):
        first, second = regions[2 * t], regions[2 * t + 1]
        first.partner, second.partner = second.number, first.number
        first.teaches = True
        setup.append(
            (
                FormTwinning.parse(
                    programme=PROGRAMME,
                    first_region=first.key,
                    second_region=second.key,
                    starts_on="2015-01-01",
                    ends_on="2017-12-31",
                    topics=[
                        {"topic": "cycling", "teaching_region": first.key},
                        {"topic": "e_mobility", "teaching_region": first.key},
                        {"topic": "energy_vision", "teaching_region": second.key},
                        {"topic": "public_participation", "teaching_region": None},
                    ],
                ),
                SYSTEM,
                None,
            )
        )
    outcomes = yield setup
    note(outcomes)
    twinning_ids = [o.aggregate_id for o in outcomes[-shape.twinnings :]]
    starts: list[Item] = []
    for t, twinning_id in enumerate(twinning_ids):
        regions[2 * t].twinning = regions[2 * t + 1].twinning = twinning_id
        starts.append((StartTwinning.parse(twinning_id=twinning_id), SYSTEM, None))

    # --- members: a staff member and a coordinator per region -------------------------
    invites: list[Item] = []
    for region in regions:
        invites.append((InviteMember.parse(region=region.key, role="staff"), SYSTEM, None))
        invites.append((InviteMember.parse(region=region.key, role="coordinator"), SYSTEM, None))
    outcomes = yield starts + invites
    note(outcomes)
    invited = outcomes[len(starts) :]
    joins: list[Item] = []
    for region in regions:
        staff, coordinator = invited[2 * region.number], invited[2 * region.number + 1]
        region.staff, region.coordinator = staff.aggregate_id, coordinator.aggregate_id
        for outcome, telegram_id, name in (
            (staff, TELEGRAM_BASE + 2 * region.number, f"Staff {region.number}"),
            (coordinator, TELEGRAM_BASE + 2 * region.number + 1, f"Koordination {region.number}"),
        ):
            if region.number == 0:  # the benchmark's own people, known by Telegram id
                telegram_id = (
                    BENCH_STAFF_TELEGRAM_ID if outcome is staff else BENCH_COORDINATOR_TELEGRAM_ID
                )
            assert outcome.secret is not None
            joins.append(
                (
                    JoinWithInvite.parse(
                        code=outcome.secret, telegram_user_id=telegram_id, name=name
                    ),
                    "system:onboarding",
                    None,
                )
            )
    outcomes = yield joins
    note(outcomes)

    # --- the spare measures of region 0 (for /setstatus) -------------------------------
    home = regions[0]
    spare = [(_proposal(home, f"SP-{n}", n), home.staff, None) for n in range(1, shape.spare + 1)]
    for start in range(0, len(spare), 500):
        note((yield spare[start : start + 500]))

    # --- the measures and their histories, ten measures per batch ----------------------
    per_region = measures_per_region(shape)
    groups: list[tuple[Region, list[int]]] = []
    for region, count in zip(regions, per_region, strict=True):
        numbers = list(range(1, count + 1))
        for start in range(0, len(numbers), MEASURES_PER_GROUP):
            groups.append((region, numbers[start : start + MEASURES_PER_GROUP]))
    # Each group: its measures' commands (2 events each, with the receipt), an exchange
    # (4 events), advice (2) and its acknowledgement (2).
    remaining_events = max(0, shape.events - plan.head - 8 * len(groups))
    per_measure = max(4, -(-remaining_events // (2 * shape.measures)))
    # Interleave regions, so that the log mixes twinnings like real life does.
    groups.sort(key=lambda group: (group[1][0], group[0].number))
    unacknowledged: list[Item] = []  # advice given in the previous batch
    for group_number, (region, numbers) in enumerate(groups):
        batch: list[Item] = unacknowledged
        histories = [_history(region, number, per_measure) for number in numbers]
        for step in range(max(len(h) for h in histories)):
            for history in histories:
                if step < len(history):
                    batch.append((history[step], region.staff, None))
        batch.extend(_twinning_activity(regions, region, group_number))
        outcomes = yield batch
        note(outcomes)
        learner = region if not region.teaches else regions[region.partner]
        unacknowledged = [
            (AcknowledgeAdvice.parse(advice_id=outcomes[-1].aggregate_id), learner.staff, None)
        ]


def _proposal(region: Region, code: str, number: int) -> ProposeMeasure:
    word = WORDS[number % len(WORDS)]
    return ProposeMeasure.parse(
        region=region.key,
        code=code,
        title=f"{word} {number}",
        topic=TOPICS[number % len(TOPICS)],
        responsible=f"Fachbereich {number % 7 + 1}",
        due_on=date(2016, 1 + number % 12, 1 + number % 28),
        expected_co2_t_per_year=f"{(number * 37) % 900 + 10}.5",
        description=f"{word} im Landkreis, Abschnitt {number}.",
    )


def _history(region: Region, number: int, commands: int) -> list[Command]:
    """One measure's life: proposed, planned, in progress, reported on, maybe finished."""
    code = f"R{region.number:03d}-{number}"
    measure_id = ids.measure_id(ids.region_id(region.key, ""), code)
    history: list[Command] = [
        _proposal(region, code, number),
        ChangeMeasureStatus.parse(measure_id=measure_id, status="planned", note="Beschluss"),
        ChangeMeasureStatus.parse(measure_id=measure_id, status="in_progress"),
    ]
    ending = number % 10  # 0–3: implemented, 4: discontinued, else still in progress
    updates = commands - len(history) - (1 if ending <= 4 else 0)
    for step in range(max(0, updates)):
        kind = step % 8
        if kind == 5:
            history.append(
                EditDescription.parse(
                    measure_id=measure_id, description=f"Stand {step}: Abschnitt {number} läuft."
                )
            )
        elif kind == 6:
            history.append(
                ChangeResponsible.parse(measure_id=measure_id, responsible=f"Team {step % 5}")
            )
        elif kind == 7:
            history.append(
                ChangeDueDate.parse(measure_id=measure_id, due_on=date(2017, 1 + step % 12, 15))
            )
        else:
            percent = min(99, 5 + (90 * (step + 1)) // max(updates, 1))
            history.append(
                ReportProgress.parse(
                    measure_id=measure_id, percent=percent, note=f"Bericht {step + 1}"
                )
            )
    if ending <= 3:
        history.append(ChangeMeasureStatus.parse(measure_id=measure_id, status="implemented"))
    elif ending == 4:
        history.append(
            ChangeMeasureStatus.parse(
                measure_id=measure_id, status="discontinued", note="Kein Budget"
            )
        )
    return history


def _twinning_activity(regions: list[Region], region: Region, group: int) -> list[Item]:
    """An exchange with two follow-ups, and a piece of advice (the last item)."""
    partner = regions[region.partner]
    teacher, learner = (region, partner) if region.teaches else (partner, region)
    assert region.twinning is not None
    assert teacher.staff is not None
    held_on = date(2015, 1, 1) + timedelta(days=(group * 3) % 700)
    items: list[Item] = [
        (
            RecordExchange.parse(
                twinning_id=region.twinning,
                kind=("meeting", "call", "site_visit", "workshop")[group % 4],
                held_on=held_on,
                place="Online" if group % 2 else "Rathaus",
                participants=[f"Staff {region.number}", f"Staff {partner.number}"],
                topics=[TOPICS[group % len(TOPICS)]],
                summary=f"Austausch {group}: Stand der Maßnahmen und nächste Schritte.",
                follow_ups=[
                    {
                        "text": f"Unterlagen {group}/{n}",
                        "owner_region": learner.key,
                        "due_on": held_on + timedelta(days=14 * n),
                    }
                    for n in (1, 2)
                ],
            ),
            region.staff,
            None,
        ),
    ]
    items.append(
        (
            GiveAdvice.parse(
                twinning_id=region.twinning,
                topic="cycling",
                text=f"Rat {group}: erst eine Pilotstrecke, dann zählen.",
            ),
            teacher.staff,
            None,
        )
    )
    return items
