"""The aggregate cache never decides for the store: what is cached is what was stored.

RegioTwin keeps recently used aggregates in memory (eventsourcing's aggregate cache,
fast-forwarded from the store and copied out on every read). A command that is refused or
loses a race leaves nothing behind in the cache, and two instances on one store (two bot
processes) see each other's events at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from eventsourcing.application import LRUCache

from domain.application import AGGREGATE_CACHE_SIZE, RegioTwinApplication
from domain.commands import ChangeMeasureStatus, EditDescription, ReportProgress
from domain.errors import Conflict, DomainError
from domain.service import HANDLERS, BatchRefused, RegioTwin
from tests import builders
from tests.builders import act, get, meanwhile, refused


@pytest.fixture
def pair(service: RegioTwin) -> builders.Pair:
    return builders.muenchen_and_steinfurt(service)


@pytest.fixture
def measure_id(service: RegioTwin, pair: builders.Pair) -> Any:
    return builders.measure(service, pair.muenchen_staff)


@pytest.fixture
def other_instance(store: dict[str, str], clock: Any) -> Iterator[RegioTwin]:
    """A second RegioTwin on the same store, with its own cache (another bot process)."""
    other = RegioTwin.from_env(store, clock)
    yield other
    other.close()


def cached(service: RegioTwin, aggregate_id: Any) -> Any:
    """The aggregate as it sits in the cache (not a copy)."""
    cache = service.app.repository.cache
    assert cache is not None
    return cache.get(aggregate_id)


def test_the_cache_is_on_by_default_bounded_and_can_be_turned_off(store) -> None:
    app = RegioTwinApplication(env=store)
    try:
        assert isinstance(app.repository.cache, LRUCache)
        assert app.repository.cache.maxsize == AGGREGATE_CACHE_SIZE
        assert app.repository.fastforward
        assert app.repository.deepcopy_from_cache
    finally:
        app.close()
    off = RegioTwinApplication(env={**store, "AGGREGATE_CACHE_MAXSIZE": "0"})
    try:
        assert off.repository.cache is None
    finally:
        off.close()


def test_changing_what_was_read_does_not_change_the_cache(service, measure_id) -> None:
    measure = get(service, measure_id)
    measure.progress = 99
    measure.title = "Überschrieben"

    again = get(service, measure_id)
    assert (again.progress, again.version) == (0, measure.version)
    assert again.title != "Überschrieben"
    assert cached(service, measure_id) is not again


def test_a_command_refused_after_changing_its_aggregate_leaves_the_cache_as_stored(
    service, pair, measure_id, monkeypatch
) -> None:
    act(service, pair.muenchen_staff, ReportProgress, measure_id=measure_id, percent=20)
    handler = HANDLERS[ReportProgress]

    def changes_then_refuses(command: Any, uow: Any, actor: Any) -> Any:
        handler(command, uow, actor)  # the measure now has progress 70, not saved
        raise DomainError("measure.refused_for_the_test")

    monkeypatch.setitem(HANDLERS, ReportProgress, changes_then_refuses)
    with refused(service, "measure.refused_for_the_test"):
        act(service, pair.muenchen_staff, ReportProgress, measure_id=measure_id, percent=70)
    monkeypatch.setitem(HANDLERS, ReportProgress, handler)

    assert cached(service, measure_id).progress == 20
    assert get(service, measure_id).progress == 20
    done = act(service, pair.muenchen_staff, ReportProgress, measure_id=measure_id, percent=30)
    assert done.version == get(service, measure_id).version
    assert get(service, measure_id).progress == 30


def test_a_refused_batch_leaves_the_cache_as_stored(service, pair, measure_id) -> None:
    before = get(service, measure_id)
    staff = pair.muenchen_staff
    with pytest.raises(BatchRefused):
        service.handle_batch(
            [
                (ReportProgress.parse(measure_id=measure_id, percent=60), staff, None),
                (EditDescription.parse(measure_id=measure_id, description="Neu"), staff, None),
                (ChangeMeasureStatus.parse(measure_id=measure_id, status="proposed"), staff, None),
            ]
        )

    after = get(service, measure_id)
    assert (after.version, after.progress, after.description) == (
        before.version,
        before.progress,
        before.description,
    )


def test_another_instance_sees_each_write_at_once(
    service, other_instance, pair, measure_id
) -> None:
    seen = get(service, measure_id)  # cached here
    get(other_instance, measure_id)  # and there

    act(other_instance, pair.muenchen_staff, ReportProgress, measure_id=measure_id, percent=40)
    assert get(service, measure_id).progress == 40  # fast-forwarded from the store
    act(service, pair.muenchen_staff, ReportProgress, measure_id=measure_id, percent=50)
    assert get(other_instance, measure_id).progress == 50

    with refused(service, "conflict.stale_version", Conflict):
        act(
            service,
            pair.muenchen_staff,
            ReportProgress,
            measure_id=measure_id,
            percent=90,
            expected_version=seen.version,  # what the user saw before both edits
        )
    assert get(other_instance, measure_id).progress == 50


def test_losing_a_race_decides_again_on_the_winners_state(
    service, other_instance, pair, measure_id, monkeypatch
) -> None:
    seen = get(service, measure_id)
    meanwhile(
        monkeypatch,
        service,
        lambda: act(
            other_instance, pair.muenchen_staff, ReportProgress, measure_id=measure_id, percent=40
        ),
    )

    with pytest.raises(Conflict):  # decided again after the lost save: now it is stale
        act(
            service,
            pair.muenchen_staff,
            ReportProgress,
            measure_id=measure_id,
            percent=70,
            expected_version=seen.version,
        )

    assert get(service, measure_id).progress == 40
    assert cached(service, measure_id).progress == 40
