"""seed-demo: the programme RegioTwin, its regions and pairs, and an illustrative year.

Facts, from ``demo/data``: the programme (03KF0003), the regions with their official keys
exactly as verified (a body without a key keeps none) and the pairs of both rounds.
Everything else – demo members, measures, goals, exchanges, follow-ups, advice – is
illustrative and says so: member names start with "Demo:", texts carry "illustrativ".

The seed is idempotent. Every command carries a stable id ``seed-demo:<step>`` and the
same payload on every run, so a second run meets the service's command receipts and
records nothing. (A step whose payload is changed later is refused by an already seeded
store as ``command.id_reused``: give a changed step a new id.)

Recording times follow the story: before each command the seed sets the
:class:`~domain.clock.ManualClock`, so the event log reads as the twinning year
happened, from the programme's start in December 2014 to June 2017.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from importlib.resources import files
from typing import Any
from uuid import UUID

from domain.clock import ManualClock
from domain.commands import (
    AcknowledgeAdvice,
    AdoptAdvice,
    ChangeDueDate,
    ChangeMeasureStatus,
    Command,
    CompleteFollowUp,
    CompleteTwinning,
    DeclineAdvice,
    FormTwinning,
    GiveAdvice,
    InviteMember,
    JoinWithInvite,
    ProposeMeasure,
    RecordExchange,
    RegisterRegion,
    ReportProgress,
    RequestAdvice,
    ReviseGoal,
    SetGoal,
    StartProgramme,
    StartTwinning,
)
from domain.service import Outcome, RegioTwin
from domain.values import ExchangeKind, MeasureStatus, RegionKind, Role, Topic

SEED_ACTOR = "system:seed-demo"
COMMAND_PREFIX = "seed-demo"

# --- facts -----------------------------------------------------------------------------

PROGRAMME_CODE = "03KF0003"
PROGRAMME: dict[str, Any] = {
    "code": PROGRAMME_CODE,
    "name": "RegioTwin",
    "starts_on": date(2014, 12, 1),
    "ends_on": date(2017, 12, 31),
    "office": "IdE Institut dezentrale Energietechnologien, Kassel",
    "funder": (
        "Bundesministerium für Umwelt, Naturschutz, Bau und Reaktorsicherheit "
        "(Nationale Klimaschutzinitiative)"
    ),
}

# Round 1 met in Wolfhagen "am Mittwoch" (HNA; Wolfhagen's report is dated 22.06.2015):
# Wednesday 17 June 2015, inferred. Round 2 started at the kickoff in Kassel, 21 June 2016.
ROUND_STARTS: dict[int, date] = {1: date(2015, 6, 17), 2: date(2016, 6, 21)}

# Short slugs, by official key or, for a body without one, by its name in regions.csv.
SLUGS: dict[str, str] = {
    "09184": "lk-muenchen",
    "05566": "kreis-steinfurt",
    "06633028": "wolfhagen",
    "150875052": "vg-mansfelder-grund-helbra",
    "06633003": "baunatal",
    "12065136": "hennigsdorf",
    "08437078": "messkirch",
    "08237040": "horb-am-neckar",
    "06534": "lk-marburg-biedenkopf",
    "03241": "region-hannover",
    "05562020": "herten",
    "05962032": "luedenscheid",
    "05758012": "herford",
    "05334008": "baesweiler",
    "07335004": "enkenbach-alsenborn",
    "073355002": "vg-enkenbach-alsenborn",
    "073315006": "vg-woerrstadt",
    "071345002": "vg-birkenfeld",
    "Verband Region Rhein-Neckar": "verband-region-rhein-neckar",
    "Zweckverband Großraum Braunschweig": "zv-grossraum-braunschweig",
    "Regionalverband Ruhr (Metropole Ruhr)": "regionalverband-ruhr",
    "LEADER-Region Leipziger Muldenland": "leader-leipziger-muldenland",
}
# pairs.csv names a keyless body as the press did; regions.csv by its full name.
PAIR_NAME_ALIASES: dict[str, str] = {"Metropole Ruhr": "Regionalverband Ruhr (Metropole Ruhr)"}

MAIN_TEACHING_KEY = "05566"  # Kreis Steinfurt
MAIN_LEARNING_KEY = "09184"  # Landkreis München
# The press release of Landkreis München names the focus of the twinning.
MAIN_TOPICS = (
    Topic.ENERGY_VISION,
    Topic.PUBLIC_PARTICIPATION,
    Topic.COMPANIES,
    Topic.CYCLING,
    Topic.E_MOBILITY,
)
# The sources do not name the other pairs' topics: placeholders.
PLACEHOLDER_TOPICS = (Topic.ENERGY_VISION, Topic.PUBLIC_PARTICIPATION)


@dataclass(frozen=True)
class RegionRow:
    key: str | None
    name: str
    kind: RegionKind
    land: str
    slug: str


@dataclass(frozen=True)
class PairRow:
    round: int
    teaching: RegionRow
    learning: RegionRow
    direction: str

    @property
    def has_teaching_side(self) -> bool:
        return teaching_side_teaches(self.direction)

    @property
    def starts_on(self) -> date:
        return ROUND_STARTS[self.round]

    @property
    def ends_on(self) -> date:
        """One year of twinning."""
        start = self.starts_on
        return start.replace(year=start.year + 1) - timedelta(days=1)

    @property
    def is_main(self) -> bool:
        return (self.teaching.key, self.learning.key) == (MAIN_TEACHING_KEY, MAIN_LEARNING_KEY)

    @property
    def slugs(self) -> tuple[str, str]:
        return (self.teaching.slug, self.learning.slug)


def _read_csv(name: str) -> list[dict[str, str]]:
    text = files("demo").joinpath("data", name).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def load_regions() -> list[RegionRow]:
    """The regions of regions.csv, keys exactly as given (empty: no official key)."""
    regions = []
    for row in _read_csv("regions.csv"):
        key = row["key"].strip() or None
        ref = key or row["name"]
        if ref not in SLUGS:
            raise ValueError(f"regions.csv: no slug chosen for {ref!r}; add one to SLUGS")
        regions.append(
            RegionRow(
                key=key,
                name=row["name"].strip(),
                kind=RegionKind(row["kind"].strip()),
                land=row["land"].strip(),
                slug=SLUGS[ref],
            )
        )
    return regions


def teaching_side_teaches(direction: str) -> bool:
    """Does the pair's "teaching" column teach its topics, or is the pair mutual?"""
    text = direction.strip().lower().removeprefix("probably").strip()
    if text == "teaching->learning":
        return True
    if text.startswith("mutual"):  # "mutual", "mutual (auf Augenhöhe)"
        return False
    if text == "unknown":
        # No source names a teaching side: seed the pair as mutual (topics without a
        # teaching side) rather than invent a direction.
        return False
    raise ValueError(f"pairs.csv: unknown direction {direction!r}")


def load_pairs(regions: list[RegionRow]) -> list[PairRow]:
    by_key = {region.key: region for region in regions if region.key}
    by_name = {region.name: region for region in regions if not region.key}

    def find(name: str, key: str) -> RegionRow:
        key = key.strip()
        found = by_key.get(key) if key else by_name.get(PAIR_NAME_ALIASES.get(name, name))
        if found is None:
            raise ValueError(f"pairs.csv: {name!r} ({key or 'no key'}) is not in regions.csv")
        return found

    pairs = []
    for row in _read_csv("pairs.csv"):
        number = re.match(r"\s*(\d+)", row["round"])
        if number is None:
            raise ValueError(f"pairs.csv: no round number in {row['round']!r}")
        pairs.append(
            PairRow(
                round=int(number.group(1)),
                teaching=find(row["teaching"], row["teaching_key"]),
                learning=find(row["learning"], row["learning_key"]),
                direction=row["direction"],
            )
        )
    return pairs


# --- what the seed reports -------------------------------------------------------------


@dataclass(frozen=True)
class DemoMember:
    """A made-up member of the demo; the bot demo acts as them through their Telegram id."""

    member_id: UUID
    telegram_user_id: int
    name: str
    side: str  # the region's slug, or "office" for the programme office
    role: Role


@dataclass(frozen=True)
class SeedReport:
    commands_handled: int  # recorded by this run
    commands_replayed: int  # already present (recorded by an earlier run)
    programme_id: UUID
    main_twinning_id: UUID  # Kreis Steinfurt (teaching) – Landkreis München (learning)
    members: dict[str, DemoMember]  # "<side>:<role>", e.g. "lk-muenchen:coordinator"
    region_ids: dict[str, UUID]  # by slug
    twinning_ids: dict[tuple[str, str], UUID]  # by the slugs of pairs.csv's two columns
    measure_ids: dict[str, UUID]  # the demo measures by code (LKM-01…, KST-01…)
    final_moment: datetime  # the recording time of the last step; the clock stands there

    def member(self, side: str, role: Role | str) -> DemoMember:
        return self.members[f"{side}:{Role(role)}"]


class SeedError(RuntimeError):
    """The store holds a seed the loader cannot continue."""


# --- the loader ------------------------------------------------------------------------

LKM = "lk-muenchen"
KST = "kreis-steinfurt"
OFFICE = "office"

# side, role, made-up Telegram id, name, who invites (side:role, or None: the seed itself)
DEMO_MEMBERS: tuple[tuple[str, Role, int, str, str | None], ...] = (
    (OFFICE, Role.AUDITOR, 9_100_000_001, "Demo: Petra Kühn (Programmbüro IdE Kassel)", None),
    (LKM, Role.COORDINATOR, 9_100_000_011, "Demo: Anna Huber (LK München)", None),
    (KST, Role.COORDINATOR, 9_100_000_021, "Demo: Jan Brinkmann (Kreis Steinfurt)", None),
    (LKM, Role.STAFF, 9_100_000_012, "Demo: Lukas Maier (LK München)", f"{LKM}:coordinator"),
    (KST, Role.STAFF, 9_100_000_022, "Demo: Maria Schulte (Kreis Steinfurt)", f"{KST}:coordinator"),
)

# code, title, topic, responsible, due on, expected t CO₂/year, description
MeasureSpec = tuple[str, str, Topic, str, date | None, str | None, str]

LKM_MEASURES: tuple[MeasureSpec, ...] = (
    (
        "LKM-01",
        "Fortschreibung der Energievision: Ziele und Strukturen",
        Topic.ENERGY_VISION,
        "Klimaschutzmanagement Landratsamt",
        date(2017, 6, 30),
        None,
        "Ziele der Energievision von 2006 überprüfen, Zuständigkeiten und Gremien neu "
        "ordnen (illustrativ)",
    ),
    (
        "LKM-02",
        "Klimaschutz-Bürgerdialog in den Gemeinden",
        Topic.PUBLIC_PARTICIPATION,
        "Öffentlichkeitsarbeit Landratsamt",
        date(2016, 12, 31),
        None,
        "Dialogabende und eine Online-Beteiligung zu den Maßnahmen des "
        "Klimaschutzkonzepts (illustrativ)",
    ),
    (
        "LKM-03",
        "Klimaschutz-Netzwerk für Unternehmen",
        Topic.COMPANIES,
        "Wirtschaftsförderung Landratsamt",
        date(2017, 6, 30),
        "450",
        "Energieeffizienz-Netzwerk mit zehn bis fünfzehn Betrieben aus dem Landkreis (illustrativ)",
    ),
    (
        "LKM-04",
        "Radverkehrskonzept für den Landkreis",
        Topic.CYCLING,
        "Fachbereich Mobilität",
        date(2016, 9, 30),
        "300",
        "Kreisweites Alltagsradnetz mit den Gemeinden abstimmen und beschließen (illustrativ)",
    ),
    (
        "LKM-05",
        "Ladeinfrastruktur an Kreisliegenschaften",
        Topic.E_MOBILITY,
        "Liegenschaftsverwaltung",
        date(2017, 4, 30),
        "40",
        "Öffentliche Ladepunkte an Landratsamt und Kreisschulen (illustrativ)",
    ),
    (
        "LKM-06",
        "Energieberatung für private Hausbesitzer",
        Topic.BUILDINGS,
        "Klimaschutzmanagement Landratsamt",
        date(2017, 12, 31),
        "200",
        "Kostenlose Erstberatung zur Sanierung in Zusammenarbeit mit der Energieagentur "
        "(illustrativ)",
    ),
    (
        "LKM-07",
        "Bürgersolaranlage auf Kreisflächen",
        Topic.RENEWABLE_ENERGY,
        "Klimaschutzmanagement Landratsamt",
        date(2017, 6, 30),
        "350",
        "Photovoltaik-Freiflächenanlage mit Bürgerbeteiligung auf einer Fläche des "
        "Landkreises (illustrativ)",
    ),
    (
        "LKM-08",
        "Energiemanagement in kreiseigenen Liegenschaften",
        Topic.MUNICIPAL_PROPERTIES,
        "Liegenschaftsverwaltung",
        date(2017, 6, 30),
        "250",
        "Verbrauchserfassung und Energiecontrolling für Schulen und Verwaltungsgebäude "
        "(illustrativ)",
    ),
)

KST_MEASURES: tuple[MeasureSpec, ...] = (
    (
        "KST-01",
        "Unternehmensnetzwerk Klimaschutz",
        Topic.COMPANIES,
        "Amt für Klimaschutz und Nachhaltigkeit",
        date(2016, 12, 31),
        "600",
        "Zweite Runde des Netzwerks mit Betrieben aus dem Kreisgebiet (illustrativ)",
    ),
    (
        "KST-02",
        "Radverkehrsnetz mit einheitlicher Wegweisung",
        Topic.CYCLING,
        "Amt für Straßenbau",
        date(2017, 12, 31),
        "350",
        "Lückenschlüsse und Beschilderung des kreisweiten Radnetzes (illustrativ)",
    ),
    (
        "KST-03",
        "E-Fahrzeuge im Fuhrpark der Kreisverwaltung",
        Topic.E_MOBILITY,
        "Zentrale Dienste",
        date(2017, 12, 31),
        "25",
        "Dienstwagen schrittweise durch Elektrofahrzeuge ersetzen (illustrativ)",
    ),
)


class _Seeder:
    """Runs the seed's commands in the order of the story, counting what was new."""

    def __init__(self, service: RegioTwin, clock: ManualClock) -> None:
        self.service = service
        self.clock = clock
        self.handled = 0
        self.replayed = 0
        self.cursor: datetime | None = None
        self.last_moment: datetime | None = None
        self.members: dict[str, DemoMember] = {}
        self.measures: dict[str, UUID] = {}

    # time and commands

    def at(self, year: int, month: int, day: int, hour: int = 9, minute: int = 0) -> None:
        """Move the story on to a moment (UTC); the next commands are recorded from there."""
        moment = datetime(year, month, day, hour, minute, tzinfo=UTC)
        if self.cursor is not None and moment < self.cursor:
            raise ValueError(f"the seed's story must move forward: {moment} < {self.cursor}")
        self.cursor = moment

    def run(self, step: str, command: Command, actor: str | UUID = SEED_ACTOR) -> Outcome:
        assert self.cursor is not None, "call at() first"
        self.clock.set(self.cursor)
        self.last_moment = self.cursor
        outcome = self.service.handle(command, actor=actor, command_id=f"{COMMAND_PREFIX}:{step}")
        if outcome.replayed:
            self.replayed += 1
        else:
            self.handled += 1
        self.cursor += timedelta(minutes=1)
        return outcome

    # members

    def member(self, side: str, role: Role) -> UUID:
        return self.members[f"{side}:{role}"].member_id

    def add_member(
        self, side: str, role: Role, telegram_user_id: int, name: str, inviter: str | None
    ) -> None:
        actor = SEED_ACTOR if inviter is None else self.members[inviter].member_id
        region = None if side == OFFICE else side
        invite = self.run(
            f"invite:{side}:{role}", InviteMember.parse(region=region, role=role), actor
        )
        if invite.replayed:
            # The invite code is shown once and never stored: an earlier run used it to join.
            self.replayed += 1
            if self.service.member_for_telegram(telegram_user_id) != invite.aggregate_id:
                raise SeedError(
                    f"demo member {side}:{role} was invited by an earlier run but is not "
                    f"(or no longer) the member of Telegram user {telegram_user_id}; "
                    "seed a fresh store"
                )
        else:
            assert invite.secret is not None
            self.run(
                f"join:{side}:{role}",
                JoinWithInvite.parse(
                    code=invite.secret, telegram_user_id=telegram_user_id, name=name
                ),
            )
        self.members[f"{side}:{role}"] = DemoMember(
            member_id=invite.aggregate_id,
            telegram_user_id=telegram_user_id,
            name=name,
            side=side,
            role=role,
        )

    # measures

    def propose(self, actor: UUID, region: str, spec: MeasureSpec) -> None:
        code, title, topic, responsible, due_on, co2, description = spec
        outcome = self.run(
            f"measure:{code}",
            ProposeMeasure.parse(
                region=region,
                code=code,
                title=title,
                topic=topic,
                responsible=responsible,
                due_on=due_on,
                expected_co2_t_per_year=co2,
                description=description,
            ),
            actor,
        )
        self.measures[code] = outcome.aggregate_id

    def status(self, actor: UUID, code: str, status: MeasureStatus, note: str = "") -> None:
        self.run(
            f"measure:{code}:status:{status}",
            ChangeMeasureStatus.parse(measure_id=self.measures[code], status=status, note=note),
            actor,
        )

    def progress(self, actor: UUID, code: str, percent: int, note: str = "") -> None:
        self.run(
            f"measure:{code}:progress:{percent}",
            ReportProgress.parse(measure_id=self.measures[code], percent=percent, note=note),
            actor,
        )


def seed_demo(service: RegioTwin, clock: ManualClock) -> SeedReport:
    """Load the demo into the service's store, idempotently; ``clock`` must be its clock.

    Afterwards the clock stands at the recording time of the last step (June 2017).
    """
    if service.clock is not clock:
        raise ValueError("seed_demo needs the service's own ManualClock to date the story")
    seeder = _Seeder(service, clock)
    regions = load_regions()
    pairs = load_pairs(regions)

    programme_id = _programme(seeder)
    region_ids, twinning_ids = _regions_and_twinnings(seeder, regions, pairs)
    main = next((pair for pair in pairs if pair.is_main), None)
    if main is None:
        raise ValueError("pairs.csv lacks the pair Kreis Steinfurt – Landkreis München")
    main_twinning_id = twinning_ids[main.slugs]

    _main_history(seeder, main_twinning_id, twinning_ids)

    assert seeder.last_moment is not None
    clock.set(seeder.last_moment)
    return SeedReport(
        commands_handled=seeder.handled,
        commands_replayed=seeder.replayed,
        programme_id=programme_id,
        main_twinning_id=main_twinning_id,
        members=dict(seeder.members),
        region_ids=region_ids,
        twinning_ids=twinning_ids,
        measure_ids=dict(seeder.measures),
        final_moment=seeder.last_moment,
    )


def _programme(seeder: _Seeder) -> UUID:
    start = PROGRAMME["starts_on"]
    seeder.at(start.year, start.month, start.day)
    return seeder.run(f"programme:{PROGRAMME_CODE}", StartProgramme.parse(**PROGRAMME)).aggregate_id


def _regions_and_twinnings(
    seeder: _Seeder, regions: list[RegionRow], pairs: list[PairRow]
) -> tuple[dict[str, UUID], dict[tuple[str, str], UUID]]:
    """Facts: each round registers its regions and forms and starts its twinnings."""
    region_ids: dict[str, UUID] = {}
    twinning_ids: dict[tuple[str, str], UUID] = {}
    rounds = sorted({pair.round for pair in pairs})
    completed: set[tuple[str, str]] = set()

    def register(region: RegionRow) -> None:
        if region.slug in region_ids:
            return
        region_ids[region.slug] = seeder.run(
            f"region:{region.slug}",
            RegisterRegion.parse(
                key=region.key,
                slug=region.slug,
                name=region.name,
                kind=region.kind,
                land=region.land,
            ),
        ).aggregate_id

    for number in rounds:
        start = ROUND_STARTS[number]
        # Earlier rounds ran their year out before this one started: completed the day after.
        ended = [
            pair
            for pair in pairs
            if pair.round < number and pair.ends_on < start and pair.slugs not in completed
        ]
        for day in sorted({pair.ends_on + timedelta(days=1) for pair in ended}):
            seeder.at(day.year, day.month, day.day)
            for pair in ended:
                if pair.ends_on + timedelta(days=1) != day:
                    continue
                completed.add(pair.slugs)
                seeder.run(
                    f"twinning:{_pair_ref(pair)}:complete",
                    CompleteTwinning.parse(twinning_id=twinning_ids[pair.slugs]),
                )
        this_round = [pair for pair in pairs if pair.round == number]
        seeder.at(start.year, start.month, start.day, 8)
        for pair in this_round:
            register(pair.teaching)
            register(pair.learning)
        if number == rounds[-1]:
            for region in regions:  # regions.csv rows that belong to no pair
                register(region)
        for pair in this_round:
            twinning_ids[pair.slugs] = seeder.run(
                f"twinning:{_pair_ref(pair)}", _form_twinning(pair)
            ).aggregate_id
        seeder.at(start.year, start.month, start.day, 10)  # the kickoff
        for pair in this_round:
            seeder.run(
                f"twinning:{_pair_ref(pair)}:start",
                StartTwinning.parse(twinning_id=twinning_ids[pair.slugs]),
            )
    return region_ids, twinning_ids


def _pair_ref(pair: PairRow) -> str:
    return f"{pair.teaching.slug}+{pair.learning.slug}"


def _form_twinning(pair: PairRow) -> FormTwinning:
    topics = MAIN_TOPICS if pair.is_main else PLACEHOLDER_TOPICS
    teacher = pair.teaching.slug if pair.has_teaching_side else None
    return FormTwinning.parse(
        programme=PROGRAMME_CODE,
        first_region=pair.teaching.slug,
        second_region=pair.learning.slug,
        starts_on=pair.starts_on,
        ends_on=pair.ends_on,
        topics=[{"topic": topic, "teaching_region": teacher} for topic in topics],
    )


def _main_history(s: _Seeder, twinning_id: UUID, twinning_ids: dict[tuple[str, str], UUID]) -> None:
    """Illustrative: a year of Kreis Steinfurt and Landkreis München, and a little of two
    other pairs. Measures, goals, exchanges and advice are made up; they say so."""
    # Members: the seed invites the coordinators and the office's auditor, the
    # coordinators invite their staff; each joins with a made-up Telegram account.
    s.at(2016, 6, 21, 14)
    for side, role, telegram_user_id, name, inviter in DEMO_MEMBERS:
        s.add_member(side, role, telegram_user_id, name, inviter)
    lkm_coord = s.member(LKM, Role.COORDINATOR)
    lkm_staff = s.member(LKM, Role.STAFF)
    kst_coord = s.member(KST, Role.COORDINATOR)
    kst_staff = s.member(KST, Role.STAFF)
    names = [member.name for member in s.members.values()]
    woerrstadt_birkenfeld = twinning_ids[("vg-woerrstadt", "vg-birkenfeld")]
    herten_luedenscheid = twinning_ids[("herten", "luedenscheid")]

    # The kickoff in Kassel comes first.
    s.at(2016, 6, 22)
    kickoff = s.run(
        "exchange:kickoff-kassel",
        RecordExchange.parse(
            twinning_id=twinning_id,
            kind=ExchangeKind.JOINT_EVENT,
            held_on=date(2016, 6, 21),
            place="Kassel",
            participants=names,
            topics=list(MAIN_TOPICS),
            summary=(
                "Illustrativ: Auftakt der zweiten Runde in Kassel. Landkreis München und "
                "Kreis Steinfurt lernen sich kennen und legen die Schwerpunkte fest: Ziele "
                "und Strukturen der Energievision, Beteiligung der Öffentlichkeit, "
                "Klimaschutz in Unternehmen, Radverkehr und E-Mobilität."
            ),
            follow_ups=[
                {
                    "text": "Terminplan für einen monatlichen Jour fixe vorschlagen (illustrativ)",
                    "owner_region": KST,
                    "due_on": date(2016, 7, 15),
                }
            ],
        ),
        lkm_coord,
    ).aggregate_id

    s.at(2016, 6, 27, 10)
    for spec in LKM_MEASURES:
        s.propose(lkm_staff, LKM, spec)

    s.at(2016, 6, 28, 10)
    for spec in KST_MEASURES:
        s.propose(kst_staff, KST, spec)
    running = "Illustrativ: läuft bereits seit 2015"
    for code in ("KST-01", "KST-02"):
        s.status(kst_staff, code, MeasureStatus.PLANNED)
        s.status(kst_staff, code, MeasureStatus.IN_PROGRESS, running)
    s.status(kst_staff, "KST-03", MeasureStatus.PLANNED)

    s.at(2016, 7, 4, 10)
    for code in ("LKM-01", "LKM-02", "LKM-03", "LKM-04", "LKM-05", "LKM-07"):
        s.status(lkm_staff, code, MeasureStatus.PLANNED)
    s.status(lkm_staff, "LKM-04", MeasureStatus.IN_PROGRESS)

    s.at(2016, 7, 8, 11)
    s.run(
        "exchange:kickoff-kassel:follow-up:1:done",
        CompleteFollowUp.parse(
            exchange_id=kickoff,
            number=1,
            note="Illustrativ: Jour fixe jeden zweiten Donnerstag im Monat",
        ),
        kst_coord,
    )

    # Goals of the Energievision (illustrative figures).
    s.at(2016, 7, 11)
    energy_goal = s.run(
        "goal:lkm-energy-demand",
        SetGoal.parse(
            region=LKM,
            topic=Topic.ENERGY_VISION,
            metric="Senkung des Endenergieverbrauchs gegenüber 2010 (illustrativ)",
            target_value="60",
            unit="%",
            target_year=2050,
        ),
        lkm_coord,
    ).aggregate_id
    s.run(
        "goal:lkm-renewable-power",
        SetGoal.parse(
            region=LKM,
            topic=Topic.RENEWABLE_ENERGY,
            metric="Anteil erneuerbarer Energien am Stromverbrauch (illustrativ)",
            target_value="100",
            unit="%",
            target_year=2050,
        ),
        lkm_coord,
    )
    s.run(
        "goal:lkm-cycling-share",
        SetGoal.parse(
            region=LKM,
            topic=Topic.CYCLING,
            metric="Anteil des Radverkehrs an allen Wegen (illustrativ)",
            target_value="20",
            unit="%",
            target_year=2030,
        ),
        lkm_coord,
    )

    s.at(2016, 7, 14, 14)
    call = s.run(
        "exchange:call-2016-07-14",
        RecordExchange.parse(
            twinning_id=twinning_id,
            kind=ExchangeKind.CALL,
            held_on=date(2016, 7, 14),
            place="Telefonkonferenz",
            participants=[
                s.members[f"{LKM}:coordinator"].name,
                s.members[f"{KST}:coordinator"].name,
            ],
            topics=[Topic.ENERGY_VISION, Topic.PUBLIC_PARTICIPATION],
            summary=(
                "Illustrativ: Erster Jour fixe. Kreis Steinfurt stellt vor, wie er Ziele "
                "und Gremien seiner Klimaschutzarbeit organisiert und Bürger beteiligt."
            ),
            follow_ups=[
                {
                    "text": "Unterlagen zur Bürgerbeteiligung an den Landkreis München "
                    "schicken (illustrativ)",
                    "owner_region": KST,
                    "due_on": date(2016, 7, 31),
                }
            ],
        ),
        kst_coord,
    ).aggregate_id

    s.at(2016, 7, 28, 10)
    s.run(
        "exchange:call-2016-07-14:follow-up:1:done",
        CompleteFollowUp.parse(exchange_id=call, number=1, note="Illustrativ: per E-Mail"),
        kst_staff,
    )

    s.at(2016, 8, 1, 10)
    s.status(lkm_staff, "LKM-02", MeasureStatus.IN_PROGRESS)
    s.progress(lkm_staff, "LKM-04", 70, "Illustrativ: Abstimmung mit 25 von 29 Gemeinden")

    s.at(2016, 9, 12, 10)
    network_request = s.run(
        "advice-request:lkm-companies-network",
        RequestAdvice.parse(
            twinning_id=twinning_id,
            topic=Topic.COMPANIES,
            question=(
                "Illustrativ: Wie habt ihr Betriebe für euer Klimaschutz-Netzwerk gewonnen? "
                "Bei uns zögern vor allem kleine Betriebe."
            ),
            measure_id=s.measures["LKM-03"],
        ),
        lkm_staff,
    ).aggregate_id

    s.at(2016, 9, 15, 10)
    s.status(
        lkm_staff,
        "LKM-04",
        MeasureStatus.IMPLEMENTED,
        "Illustrativ: Kreistag beschließt das Radverkehrskonzept",
    )
    s.status(lkm_staff, "LKM-01", MeasureStatus.IN_PROGRESS)
    s.status(lkm_staff, "LKM-06", MeasureStatus.PLANNED)

    s.at(2016, 9, 20, 10)
    network_advice = s.run(
        "advice:kst-companies-network",
        GiveAdvice.parse(
            twinning_id=twinning_id,
            topic=Topic.COMPANIES,
            text=(
                "Illustrativ: Eine kostenlose Einstiegsberatung vor dem Netzwerk senkt die "
                "Schwelle für kleine Betriebe; die ersten Teilnehmer werben die nächsten."
            ),
            measure_id=s.measures["LKM-03"],
            request_id=network_request,
        ),
        kst_coord,
    ).aggregate_id

    # Lightly: the mutual pair VG Wörrstadt – VG Birkenfeld (recorded by the seed itself).
    s.at(2016, 9, 29, 9)
    s.run(
        "exchange:woerrstadt-birkenfeld:workshop-2016-09-28",
        RecordExchange.parse(
            twinning_id=woerrstadt_birkenfeld,
            kind=ExchangeKind.WORKSHOP,
            held_on=date(2016, 9, 28),
            place="Wörrstadt",
            topics=[Topic.ENERGY_VISION],
            summary=(
                "Illustrativ: Workshop auf Augenhöhe zu den Klimaschutzzielen beider "
                "Verbandsgemeinden."
            ),
        ),
    )

    s.at(2016, 10, 4, 9)
    birkenfeld_advice = s.run(
        "advice:birkenfeld-to-woerrstadt",
        GiveAdvice.parse(
            twinning_id=woerrstadt_birkenfeld,
            topic=Topic.ENERGY_VISION,
            text="Illustrativ: Ein jährlicher Klimaschutzbericht an den Rat hält die Ziele "
            "im Blick.",
            from_region="vg-birkenfeld",
        ),
    ).aggregate_id

    s.at(2016, 10, 7, 9)
    site_visit = s.run(
        "exchange:site-visit-steinfurt-2016-10-06",
        RecordExchange.parse(
            twinning_id=twinning_id,
            kind=ExchangeKind.SITE_VISIT,
            held_on=date(2016, 10, 6),
            place="Kreis Steinfurt",
            participants=names[1:],
            topics=[Topic.COMPANIES, Topic.CYCLING, Topic.E_MOBILITY],
            summary=(
                "Illustrativ: Besuch im Kreis Steinfurt: ein Betrieb aus dem "
                "Unternehmensnetzwerk, eine Fahrradstation und die E-Dienstwagen der "
                "Kreisverwaltung."
            ),
            follow_ups=[
                {
                    "text": "Kontakt zu zwei Netzwerkbetrieben vermitteln (illustrativ)",
                    "owner_region": KST,
                    "due_on": date(2016, 10, 31),
                },
                {
                    "text": "Entwurf der Radwegweisung an Kreis Steinfurt schicken (illustrativ)",
                    "owner_member_id": lkm_staff,
                    "due_on": date(2017, 4, 30),
                },
            ],
        ),
        lkm_coord,
    ).aggregate_id

    s.at(2016, 10, 10, 10)
    adopted = s.run(
        "advice:kst-companies-network:adopt",
        AdoptAdvice.parse(
            advice_id=network_advice,
            new_measure={
                "code": "LKM-09",
                "title": "Einstiegsberatung Klimaschutz für kleine Betriebe",
                "topic": Topic.COMPANIES,
                "responsible": "Wirtschaftsförderung Landratsamt",
                "due_on": date(2017, 6, 30),
                "expected_co2_t_per_year": "120",
                "description": "Nach dem Rat des Kreises Steinfurt: kostenlose "
                "Einstiegsberatung als Weg ins Netzwerk (illustrativ)",
            },
        ),
        lkm_coord,
    )
    s.measures["LKM-09"] = UUID(adopted.details["measure_id"])
    s.status(lkm_staff, "LKM-03", MeasureStatus.IN_PROGRESS)
    s.status(lkm_staff, "LKM-08", MeasureStatus.PLANNED)

    s.at(2016, 10, 12, 9)
    s.run(
        "advice:birkenfeld-to-woerrstadt:acknowledge",
        AcknowledgeAdvice.parse(advice_id=birkenfeld_advice),
    )

    s.at(2016, 10, 24, 10)
    s.run(
        "exchange:site-visit-steinfurt-2016-10-06:follow-up:1:done",
        CompleteFollowUp.parse(exchange_id=site_visit, number=1),
        kst_staff,
    )

    s.at(2016, 10, 25, 10)
    s.progress(lkm_staff, "LKM-02", 50, "Illustrativ: vier von acht Dialogabenden")

    # Lightly: Herten – Lüdenscheid.
    s.at(2016, 11, 3, 15)
    s.run(
        "exchange:herten-luedenscheid:call-2016-11-03",
        RecordExchange.parse(
            twinning_id=herten_luedenscheid,
            kind=ExchangeKind.CALL,
            held_on=date(2016, 11, 3),
            place="Telefonkonferenz",
            topics=[Topic.ENERGY_VISION],
            summary="Illustrativ: Abstimmung der Study Tour nach Herten.",
        ),
    )

    s.at(2016, 11, 7, 10)
    s.progress(lkm_staff, "LKM-01", 30)
    s.status(lkm_staff, "LKM-05", MeasureStatus.IN_PROGRESS)
    s.status(lkm_staff, "LKM-09", MeasureStatus.PLANNED)

    s.at(2016, 11, 15, 10)
    carsharing_advice = s.run(
        "advice:kst-e-carsharing",
        GiveAdvice.parse(
            twinning_id=twinning_id,
            topic=Topic.E_MOBILITY,
            text=(
                "Illustrativ: Dienstfahrten über ein E-Carsharing mit einem regionalen "
                "Anbieter abwickeln; abends und am Wochenende nutzen es die Bürger."
            ),
        ),
        kst_coord,
    ).aggregate_id

    s.at(2016, 11, 21, 10)
    s.status(kst_staff, "KST-01", MeasureStatus.IMPLEMENTED)

    s.at(2016, 12, 5, 10)
    s.run(
        "advice:kst-e-carsharing:decline",
        DeclineAdvice.parse(
            advice_id=carsharing_advice,
            reason=(
                "Illustrativ: Der Fuhrpark des Landratsamts ist bis 2018 geleast; wir "
                "greifen die Idee bei der Neuausschreibung wieder auf."
            ),
        ),
        lkm_coord,
    )

    s.at(2016, 12, 12, 10)
    s.status(
        lkm_staff,
        "LKM-02",
        MeasureStatus.IMPLEMENTED,
        "Illustrativ: alle Dialogabende gehalten, Online-Beteiligung abgeschlossen",
    )

    s.at(2017, 1, 16, 10)
    s.status(
        lkm_coord,
        "LKM-07",
        MeasureStatus.DISCONTINUED,
        "Illustrativ: keine geeignete Kreisfläche; Bürgersolar verfolgen die Gemeinden",
    )

    s.at(2017, 1, 23, 10)
    signposting_request = s.run(
        "advice-request:lkm-cycling-signposting",
        RequestAdvice.parse(
            twinning_id=twinning_id,
            topic=Topic.CYCLING,
            question=(
                "Illustrativ: Wie habt ihr die Gemeinden für eine einheitliche Wegweisung "
                "im Radnetz gewonnen?"
            ),
        ),
        lkm_staff,
    ).aggregate_id
    s.progress(lkm_staff, "LKM-03", 40)
    s.status(lkm_staff, "LKM-09", MeasureStatus.IN_PROGRESS)

    s.at(2017, 2, 6, 10)
    signposting_advice = s.run(
        "advice:kst-cycling-signposting",
        GiveAdvice.parse(
            twinning_id=twinning_id,
            topic=Topic.CYCLING,
            text=(
                "Illustrativ: Ein Arbeitskreis mit den Bauämtern und ein Zuschuss des "
                "Kreises für die Schilder haben bei uns den Ausschlag gegeben."
            ),
            request_id=signposting_request,
        ),
        kst_staff,
    ).aggregate_id

    s.at(2017, 2, 8, 10)
    s.run(
        "advice:kst-cycling-signposting:acknowledge",
        AcknowledgeAdvice.parse(advice_id=signposting_advice),
        lkm_coord,
    )

    s.at(2017, 2, 13, 10)
    s.progress(lkm_staff, "LKM-01", 60)
    s.status(lkm_staff, "LKM-08", MeasureStatus.IN_PROGRESS)
    s.run(
        "measure:LKM-08:due:2017-12-31",
        ChangeDueDate.parse(measure_id=s.measures["LKM-08"], due_on=date(2017, 12, 31)),
        lkm_staff,
    )

    s.at(2017, 3, 17, 9)
    s.run(
        "exchange:workshop-muenchen-2017-03-16",
        RecordExchange.parse(
            twinning_id=twinning_id,
            kind=ExchangeKind.WORKSHOP,
            held_on=date(2017, 3, 16),
            place="Landratsamt München",
            participants=names[1:],
            topics=[Topic.ENERGY_VISION, Topic.PUBLIC_PARTICIPATION],
            summary=(
                "Illustrativ: Workshop zur Fortschreibung der Energievision mit Vertretern "
                "der Gemeinden; Kreis Steinfurt berichtet von seinen Zielen und Gremien."
            ),
            follow_ups=[
                {
                    "text": "Entwurf der fortgeschriebenen Energievision an Kreis Steinfurt "
                    "schicken (illustrativ)",
                    "owner_region": LKM,
                    "due_on": date(2017, 7, 31),
                }
            ],
        ),
        lkm_coord,
    )

    s.at(2017, 3, 20, 10)
    s.run(
        "goal:lkm-energy-demand:revision:1",
        ReviseGoal.parse(
            goal_id=energy_goal,
            target_value="65",
            reason="Illustrativ: höheres Ziel nach dem Workshop zur Energievision",
        ),
        lkm_coord,
    )

    s.at(2017, 3, 27, 10)
    s.progress(lkm_staff, "LKM-05", 50, "Illustrativ: sechs von zwölf Ladepunkten in Betrieb")

    s.at(2017, 4, 24, 10)
    s.status(lkm_staff, "LKM-05", MeasureStatus.IMPLEMENTED)

    s.at(2017, 5, 8, 10)
    s.progress(kst_staff, "KST-02", 80)

    s.at(2017, 5, 15, 10)
    s.status(
        lkm_staff,
        "LKM-03",
        MeasureStatus.IMPLEMENTED,
        "Illustrativ: Netzwerk mit zwölf Betrieben gegründet",
    )
    s.progress(lkm_staff, "LKM-01", 90)
    s.progress(lkm_staff, "LKM-08", 25)
    s.progress(lkm_staff, "LKM-09", 60)

    # The last Jour fixe before the report; the site visit's second follow-up stays open
    # (due 30 April 2017, so overdue by now).
    s.at(2017, 6, 8, 14)
    s.run(
        "exchange:call-2017-06-08",
        RecordExchange.parse(
            twinning_id=twinning_id,
            kind=ExchangeKind.CALL,
            held_on=date(2017, 6, 8),
            place="Telefonkonferenz",
            participants=[
                s.members[f"{LKM}:coordinator"].name,
                s.members[f"{KST}:coordinator"].name,
            ],
            topics=list(MAIN_TOPICS),
            summary=(
                "Illustrativ: Rückblick auf das Twinning-Jahr und Gliederung des Abschlussberichts."
            ),
        ),
        kst_coord,
    )
