from domain.commands import ChangeResponsible, EditDescription, ProposeMeasure
from projections.queries import connect, measures
from tests import builders
from tests.projections.support import move


def propose(service, actor, code, title, topic, responsible, description="", region="09184"):
    return service.handle(
        ProposeMeasure.parse(
            region=region,
            code=code,
            title=title,
            topic=topic,
            responsible=responsible,
            description=description,
        ),
        actor=actor,
    ).aggregate_id


def catalogue(service):
    pair = builders.muenchen_and_steinfurt(service)
    muc, stf = pair.muenchen_staff, pair.steinfurt_staff
    ids = {
        "LKM-01": propose(
            service,
            muc,
            "LKM-01",
            "Radschnellweg München–Garching",
            "cycling",
            "Fachbereich Mobilität",
            "Schnelle Radverbindung für Pendler.",
        ),
        "LKM-02": propose(
            service,
            muc,
            "LKM-02",
            "Ladesäulen an Schulen",
            "e_mobility",
            "Fachbereich Mobilität",
            "Zwölf Ladepunkte für Elektroautos.",
        ),
        "LKM-03": propose(
            service,
            muc,
            "LKM-03",
            "Bürgerdialog Energievision",
            "public_participation",
            "Stabsstelle Klimaschutz",
            "Öffentliche Werkstätten in allen Gemeinden.",
        ),
        "ST-01": propose(
            service,
            stf,
            "ST-01",
            "Fahrradstraßen im Kreis",
            "cycling",
            "Amt für Klimaschutz",
            "Radverkehr stärken.",
            region="05566",
        ),
    }
    move(service, muc, ids["LKM-01"], "in_progress")
    return pair, ids


async def test_the_catalogue_filters_by_region_topic_status_and_responsible(regiotwin, read_models):
    pair, _ids = catalogue(regiotwin)
    read_models.refresh()
    async with connect(read_models.path) as db:
        by_region = await measures(db, region=pair.muenchen_id)
        by_slug = await measures(db, region="kreis-steinfurt")
        by_key = await measures(db, region="09184", topic="cycling")
        by_status = await measures(db, status="in_progress")
        by_responsible = await measures(db, responsible="fachbereich mobilität")
    assert [m.code for m in by_region.items] == ["LKM-01", "LKM-02", "LKM-03"]
    assert [m.code for m in by_slug.items] == ["ST-01"]
    assert [m.code for m in by_key.items] == ["LKM-01"]
    assert [m.code for m in by_status.items] == ["LKM-01"]
    assert [m.code for m in by_responsible.items] == ["LKM-01", "LKM-02"]
    assert by_region.items[0].region.name == "Landkreis München"


async def test_full_text_search_finds_words_in_titles_and_descriptions(regiotwin, read_models):
    _pair, _ids = catalogue(regiotwin)
    read_models.refresh()
    async with connect(read_models.path) as db:
        rad = await measures(
            db, text="rad"
        )  # word prefix: Radschnellweg, Radverkehr, Radverbindung
        umlaut = await measures(db, text="offentliche werkstatten")  # diacritics folded
        both_words = await measures(db, text="Ladepunkte Schulen")
        quotes = await measures(db, text='"Ladesäulen" OR *')  # user text is never FTS syntax
    assert sorted(m.code for m in rad.items) == ["LKM-01", "ST-01"]
    assert [m.code for m in umlaut.items] == ["LKM-03"]
    assert [m.code for m in both_words.items] == ["LKM-02"]
    assert quotes.total == 0  # "OR" is a word to find here, and no measure has it


async def test_an_edited_description_is_searched_in_its_new_wording(regiotwin, read_models):
    pair, ids = catalogue(regiotwin)
    regiotwin.handle(
        EditDescription.parse(measure_id=ids["LKM-02"], description="Wallboxen am Landratsamt."),
        actor=pair.muenchen_staff,
    )
    regiotwin.handle(
        ChangeResponsible.parse(measure_id=ids["LKM-02"], responsible="Kreisbauamt"),
        actor=pair.muenchen_staff,
    )
    read_models.refresh()
    async with connect(read_models.path) as db:
        old = await measures(db, text="Ladepunkte")
        new = await measures(db, text="wallboxen", responsible="Kreisbauamt")
    assert old.total == 0
    assert [m.code for m in new.items] == ["LKM-02"]
    assert new.items[0].version == 3


async def test_the_catalogue_is_paginated(regiotwin, read_models):
    pair = builders.muenchen_and_steinfurt(regiotwin)
    for n in range(1, 8):
        builders.measure(regiotwin, pair.muenchen_staff, code=f"LKM-{n:02d}")
    read_models.refresh()
    async with connect(read_models.path) as db:
        first = await measures(db, page=1, per_page=3)
        last = await measures(db, page=3, per_page=3)
    assert (first.total, first.pages, first.has_next) == (7, 3, True)
    assert [m.code for m in first.items] == ["LKM-01", "LKM-02", "LKM-03"]
    assert [m.code for m in last.items] == ["LKM-07"]
    assert not last.has_next
