"""Value types of the domain: statuses, kinds, roles, topics and keys."""

from __future__ import annotations

import re
from datetime import date, datetime
from enum import StrEnum


class RegionKind(StrEnum):
    LANDKREIS = "Landkreis"
    KREIS = "Kreis"
    STADT = "Stadt"
    GEMEINDE = "Gemeinde"
    VERBANDSGEMEINDE = "Verbandsgemeinde"
    VERBAND = "Verband"
    REGION = "Region"


class KeyType(StrEnum):
    """AGS for Kreise and municipalities; a Verbandsgemeinde has a Gemeindeverband key."""

    AGS = "AGS"
    VERBANDSSCHLUESSEL = "Verbandsschluessel"


class Role(StrEnum):
    STAFF = "staff"
    COORDINATOR = "coordinator"
    AUDITOR = "auditor"
    ADMIN = "admin"


class Language(StrEnum):
    DE = "de"
    EN = "en"


class MeasureStatus(StrEnum):
    PROPOSED = "proposed"
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    IMPLEMENTED = "implemented"
    DISCONTINUED = "discontinued"

    @property
    def is_open(self) -> bool:
        return self not in (MeasureStatus.IMPLEMENTED, MeasureStatus.DISCONTINUED)


# proposed → planned → in_progress → implemented; discontinued from any open state.
MEASURE_TRANSITIONS: dict[MeasureStatus, frozenset[MeasureStatus]] = {
    MeasureStatus.PROPOSED: frozenset({MeasureStatus.PLANNED, MeasureStatus.DISCONTINUED}),
    MeasureStatus.PLANNED: frozenset({MeasureStatus.IN_PROGRESS, MeasureStatus.DISCONTINUED}),
    MeasureStatus.IN_PROGRESS: frozenset({MeasureStatus.IMPLEMENTED, MeasureStatus.DISCONTINUED}),
    MeasureStatus.IMPLEMENTED: frozenset(),
    MeasureStatus.DISCONTINUED: frozenset(),
}


class TwinningStatus(StrEnum):
    FORMED = "formed"
    RUNNING = "running"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class GoalStatus(StrEnum):
    ACTIVE = "active"
    ACHIEVED = "achieved"
    DROPPED = "dropped"


class ExchangeKind(StrEnum):
    MEETING = "meeting"
    CALL = "call"
    SITE_VISIT = "site_visit"
    WORKSHOP = "workshop"
    JOINT_EVENT = "joint_event"


class AdviceStatus(StrEnum):
    GIVEN = "given"
    ACKNOWLEDGED = "acknowledged"
    ADOPTED = "adopted"
    DECLINED = "declined"


class Topic(StrEnum):
    """Handlungsfelder of municipal climate protection."""

    ENERGY_VISION = "energy_vision"  # Ziele und Strukturen der Energievision
    PUBLIC_PARTICIPATION = "public_participation"  # Öffentlichkeitsbeteiligung
    COMPANIES = "companies"  # Klimaschutz in Unternehmen und Betrieben
    CYCLING = "cycling"  # Radverkehr
    E_MOBILITY = "e_mobility"  # E-Mobilität
    BUILDINGS = "buildings"  # Gebäude und Sanierung
    RENEWABLE_ENERGY = "renewable_energy"  # Erneuerbare Energien
    HEAT = "heat"  # Wärmeplanung
    MUNICIPAL_PROPERTIES = "municipal_properties"  # Kommunale Liegenschaften
    PUBLIC_TRANSPORT = "public_transport"  # ÖPNV


# The first two digits of every official key name the Land.
LAND_CODES: dict[str, str] = {
    "01": "Schleswig-Holstein",
    "02": "Hamburg",
    "03": "Niedersachsen",
    "04": "Bremen",
    "05": "Nordrhein-Westfalen",
    "06": "Hessen",
    "07": "Rheinland-Pfalz",
    "08": "Baden-Württemberg",
    "09": "Bayern",
    "10": "Saarland",
    "11": "Berlin",
    "12": "Brandenburg",
    "13": "Mecklenburg-Vorpommern",
    "14": "Sachsen",
    "15": "Sachsen-Anhalt",
    "16": "Thüringen",
}
LAENDER = frozenset(LAND_CODES.values())

# AGS: 5 digits for a Kreis, 8 for a Gemeinde; a Verbandsgemeinde's key has 9.
REGION_KEY_PATTERN = r"^(0[1-9]|1[0-6])(\d{3}|\d{6}|\d{7})$"
SLUG_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
MEASURE_CODE_PATTERN = r"^[A-Z0-9ÄÖÜ]{1,10}-[0-9]{1,4}$"


def key_type_of(key: str) -> KeyType:
    if not re.fullmatch(REGION_KEY_PATTERN, key):
        raise ValueError("not an official region key")
    return KeyType.VERBANDSSCHLUESSEL if len(key) == 9 else KeyType.AGS


def land_of_key(key: str) -> str:
    return LAND_CODES[key[:2]]


GERMAN_DATE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_date(value: object) -> object:
    """Accept ISO ``2026-11-25`` and German ``25.11.2026``; leave other values to pydantic."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        text = value.strip()
        match = GERMAN_DATE.fullmatch(text)
        try:
            if match:
                day, month, year = (int(part) for part in match.groups())
                return date(year, month, day)
            if ISO_DATE.fullmatch(text):
                return date.fromisoformat(text)
            raise ValueError(text)
        except ValueError as error:
            raise ValueError("not a date: use 25.11.2026 or 2026-11-25") from error
    return value
