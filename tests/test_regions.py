"""Registering the partners: official keys (AGS, Verbandsschlüssel), Länder and slugs."""

import pytest

from domain import ids
from domain.commands import FormTwinning, RegisterRegion
from domain.errors import InvalidCommand, NotAllowed, RuleViolated
from domain.values import KeyType, RegionKind
from tests import builders
from tests.builders import SYSTEM, act, get, refused


def register(service, actor=SYSTEM, **fields):
    return act(service, actor, RegisterRegion, **fields).aggregate_id


# Verified keys from data/regions.csv.
WOLFHAGEN = {
    "key": "06633028",
    "slug": "wolfhagen",
    "name": "Wolfhagen, Hans-Staden-Stadt",
    "kind": "Stadt",
    "land": "Hessen",
}
MANSFELDER_GRUND = {
    "key": "150875052",
    "slug": "vg-mansfelder-grund-helbra",
    "name": "Verbandsgemeinde Mansfelder Grund-Helbra",
    "kind": "Verbandsgemeinde",
    "land": "Sachsen-Anhalt",
}
RHEIN_NECKAR = {
    "key": None,
    "slug": "vrrn",
    "name": "Verband Region Rhein-Neckar",
    "kind": "Verband",
    "land": "Baden-Württemberg/Hessen/Rheinland-Pfalz",
}
MARBURG = {
    "key": "06534",
    "slug": "lk-marburg-biedenkopf",
    "name": "Landkreis Marburg-Biedenkopf",
    "kind": "Landkreis",
    "land": "Hessen",
}


def problems_of(**fields):
    with pytest.raises(InvalidCommand) as caught:
        RegisterRegion.parse(**fields)
    return caught.value.problems


def test_a_landkreis_is_registered_under_its_five_digit_ags(service):
    region = get(service, register(service, **MARBURG))
    assert (region.key, region.key_type, region.kind) == (
        "06534",
        KeyType.AGS,
        RegionKind.LANDKREIS,
    )
    assert region.id == ids.region_id("06534", "anything")


def test_a_town_is_registered_under_its_eight_digit_ags(service):
    region = get(service, register(service, **WOLFHAGEN))
    assert (region.key, region.key_type) == ("06633028", KeyType.AGS)


def test_a_verbandsgemeinde_is_registered_under_its_nine_digit_verbandsschluessel(service):
    region = get(service, register(service, **MANSFELDER_GRUND))
    assert (region.key, region.key_type) == ("150875052", KeyType.VERBANDSSCHLUESSEL)
    assert region.land == "Sachsen-Anhalt"


def test_a_verband_has_no_key_and_may_span_several_laender(service):
    region = get(service, register(service, **RHEIN_NECKAR))
    assert region.key is None
    assert region.key_type is None
    assert region.land == "Baden-Württemberg/Hessen/Rheinland-Pfalz"
    assert region.id == ids.region_id(None, "vrrn")


def test_a_region_is_found_by_its_key_and_by_its_slug(service):
    builders.programme(service)
    register(service, **MARBURG)
    register(service, **RHEIN_NECKAR)
    twinning = act(
        service,
        SYSTEM,
        FormTwinning,
        programme="03KF0003",
        first_region="06534",
        second_region="VRRN",
        starts_on="2016-06-21",
        ends_on="2017-06-20",
    ).aggregate_id
    assert set(get(service, twinning).region_ids) == {
        ids.region_id("06534", ""),
        ids.region_id(None, "vrrn"),
    }


@pytest.mark.parametrize(
    "key",
    [
        "9184",  # too short
        "091840",  # six digits
        "0918400",  # seven digits
        "0663302800",  # ten digits
        "17184",  # no Land 17
        "00184",  # no Land 00
        "09l84",  # a letter
        "09 184",  # a blank inside
    ],
)
def test_a_key_that_is_no_official_key_is_refused(key):
    assert problems_of(**{**MARBURG, "key": key}) == [("key", "string_pattern_mismatch")]


@pytest.mark.parametrize("kind", ["Landkreis", "Stadt", "Gemeinde"])
def test_a_nine_digit_key_belongs_to_a_verbandsgemeinde_only(kind):
    assert problems_of(**{**MANSFELDER_GRUND, "kind": kind}) == [("*", "value_error")]


def test_a_verbandsgemeinde_does_not_have_an_ags(service):
    assert problems_of(**{**MANSFELDER_GRUND, "key": "15087505"}) == [("*", "value_error")]


def test_a_verband_has_no_official_key():
    assert problems_of(**{**RHEIN_NECKAR, "key": "08222"}) == [("*", "value_error")]


def test_the_land_must_be_a_german_land():
    assert problems_of(**{**MARBURG, "land": "Hesse"}) == [("land", "value_error")]
    assert problems_of(**{**RHEIN_NECKAR, "land": "Hessen/Elsass"}) == [("land", "value_error")]


def test_a_key_must_lie_in_the_named_land(service):
    with refused(service, "region.key_not_in_land", RuleViolated) as caught:
        register(service, **{**MARBURG, "land": "Bayern"})
    assert caught.value.params == {"key": "06534", "land": "Bayern"}


def test_a_key_is_registered_once(service):
    register(service, **MARBURG)
    with refused(service, "region.key_taken"):
        register(service, **{**MARBURG, "slug": "marburg-biedenkopf"})


@pytest.mark.parametrize("other", [WOLFHAGEN, RHEIN_NECKAR], ids=["with-key", "without-key"])
def test_a_slug_is_registered_once(service, other):
    register(service, **MARBURG)
    with refused(service, "region.slug_taken"):
        register(service, **{**other, "slug": "lk-marburg-biedenkopf"})


def test_only_programme_management_registers_regions(service):
    pair = builders.muenchen_and_steinfurt(service)
    with refused(service, "auth.programme_management", NotAllowed):
        register(service, actor=pair.muenchen_staff, **MARBURG)


@pytest.mark.parametrize("slug", ["12345", "06534", "150875052"])
def test_a_slug_cannot_look_like_an_official_key(slug):
    # A reference that looks like a key is read as a key: such a slug would never be found.
    assert problems_of(**{**RHEIN_NECKAR, "slug": slug}) == [("slug", "value_error")]


def test_a_slug_of_digits_that_is_no_key_is_fine(service):
    region = get(service, register(service, **{**RHEIN_NECKAR, "slug": "1234"}))
    assert region.slug == "1234"
