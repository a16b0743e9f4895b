"""The batch path: many commands, one transaction, the same log as one by one.

``RegioTwin.handle_batch`` is for bulk imports (and the benchmarks' synthetic programme).
A batch is all or nothing: one refused command refuses the whole batch, names the
command, and nothing is recorded.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from domain import ids
from domain.clock import ManualClock
from domain.commands import (
    ChangeMeasureStatus,
    Command,
    EditDescription,
    ProposeMeasure,
    ReportProgress,
    StartTwinning,
)
from domain.errors import CommandIdReused
from domain.service import BatchRefused, Outcome, RegioTwin
from tests import builders
from tests.builders import get, recorded
from tests.stores import STORES, store_env

SYSTEM = "system:import"
MEASURE = "LKM-40"


def proposal(code: str = MEASURE, region: str = "09184") -> ProposeMeasure:
    return ProposeMeasure.parse(
        region=region,
        code=code,
        title="Radschnellweg Ost",
        topic="cycling",
        responsible="Fachbereich Mobilität",
        due_on="31.12.2017",
        expected_co2_t_per_year="80",
    )


def measure_id(code: str = MEASURE) -> Any:
    return ids.measure_id(ids.region_id("09184", ""), code)


class TickingClock(ManualClock):
    """Each command reads the clock once: it records a minute after the previous one."""

    def now(self) -> Any:
        moment = super().now()
        self.advance(timedelta(minutes=1))
        return moment


def history(twinning_id: Any, first_measure: Any) -> list[Command]:
    """A measure proposed and then changed several times: later commands need the earlier."""
    return [
        StartTwinning.parse(twinning_id=twinning_id),
        proposal(),
        ChangeMeasureStatus.parse(measure_id=first_measure, status="planned"),
        ReportProgress.parse(measure_id=first_measure, percent=10, note="Trasse geprüft"),
        proposal("LKM-41"),
        ChangeMeasureStatus.parse(measure_id=first_measure, status="in_progress"),
        ReportProgress.parse(measure_id=first_measure, percent=35),
        EditDescription.parse(measure_id=first_measure, description="Bauabschnitt 1"),
    ]


@pytest.fixture(params=STORES)
def two_stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[dict, dict]]:
    """Two fresh stores of one kind: one fed one by one, the other in batches."""
    (tmp_path / "one").mkdir()
    (tmp_path / "batch").mkdir()
    with (
        store_env(request.param, tmp_path / "one") as one,
        store_env(request.param, tmp_path / "batch") as batch,
    ):
        yield one, batch


def stored_log(service: RegioTwin) -> list[tuple[Any, ...]]:
    return [
        (str(n.originator_id), n.originator_version, n.topic, n.state)
        for n in service.app.recorder.select_notifications(start=1, limit=10_000)
    ]


def feed(service: RegioTwin, name: str, commands: list[Command], batched: bool) -> list[Outcome]:
    items = [(command, SYSTEM, f"{name}-{n}") for n, command in enumerate(commands)]
    if batched:
        return service.handle_batch(items)
    return [service.handle(c, actor=actor, command_id=cid) for c, actor, cid in items]


def test_a_batch_records_the_same_log_and_state_as_one_by_one(two_stores, clock):
    one_env, batch_env = two_stores
    one = RegioTwin.from_env(one_env, TickingClock(clock.now()))
    batch = RegioTwin.from_env(batch_env, TickingClock(clock.now()))
    try:
        first = feed(one, "setup", builders.programme_and_pair(), batched=False)
        assert feed(batch, "setup", builders.programme_and_pair(), batched=True) == first
        later = history(first[-1].aggregate_id, measure_id())
        singles = feed(one, "history", later, batched=False)
        together = feed(batch, "history", later, batched=True)

        assert stored_log(batch) == stored_log(one)
        assert together == singles  # aggregate, version, details and log position
        measure = get(batch, measure_id())
        assert (measure.status, measure.progress, measure.version) == ("in_progress", 35, 6)
        assert batch.verify_log().intact
    finally:
        one.close()
        batch.close()


def test_all_commands_of_a_batch_land_in_one_transaction(service, monkeypatch):
    saves = []
    save = service.app.save

    def counting_save(*objects: Any, **kwargs: Any) -> Any:
        saves.append(sum(len(list(o.collect_events())) for o in objects))
        return save(*objects, **kwargs)

    monkeypatch.setattr(service.app, "save", counting_save)
    outcomes = service.handle_batch([(c, SYSTEM, None) for c in builders.programme_and_pair()])
    # Programme + receipt, 2 × (region, slug index, receipt), twinning (formed, 4 topics) +
    # receipt
    assert saves == [14]
    assert [o.position for o in outcomes] == [2, 5, 8, 14]
    assert recorded(service) == 14


def test_a_refused_command_refuses_the_whole_batch_and_records_nothing(service):
    service.handle_batch([(c, SYSTEM, None) for c in builders.programme_and_pair()])
    before = recorded(service)
    with pytest.raises(BatchRefused) as caught:
        service.handle_batch(
            [
                (proposal("LKM-50"), SYSTEM, "a"),
                (proposal("LKM-51"), SYSTEM, "b"),
                (proposal("LKM-50"), SYSTEM, "c"),  # the code was taken two commands earlier
                (proposal("LKM-52"), SYSTEM, "d"),
            ]
        )
    refusal = caught.value
    assert (refusal.code, refusal.index, refusal.command_id) == ("batch.refused", 2, "c")
    assert refusal.error.code == "measure.code_taken"
    assert refusal.__cause__ is refusal.error
    assert recorded(service) == before
    # Nothing of the refused batch stayed behind: the same commands go through now.
    service.handle_batch([(proposal("LKM-50"), SYSTEM, "a2"), (proposal("LKM-51"), SYSTEM, "b2")])


def test_a_member_acts_in_a_batch_with_the_same_rules_and_metadata(service):
    pair = builders.muenchen_and_steinfurt(service)
    outcomes = service.handle_batch(
        [
            (proposal("LKM-60"), pair.muenchen_staff, "tg-1"),
            (proposal("LKM-61"), pair.muenchen_staff, "tg-2"),
        ]
    )
    events = builders.events(service, after=recorded(service) - 4)
    assert [type(e).__qualname__ for e in events] == [
        "Measure.Proposed",
        "CommandReceipt.Handled",
        "Measure.Proposed",
        "CommandReceipt.Handled",
    ]
    assert {e.actor for e in events} == {pair.muenchen_staff.hex}
    assert [e.command_id for e in events] == ["tg-1", "tg-1", "tg-2", "tg-2"]
    assert outcomes[1].details == {"code": "LKM-61"}

    before = recorded(service)
    with pytest.raises(BatchRefused) as caught:  # Steinfurt's staff may not record for München
        service.handle_batch(
            [
                (proposal("LKM-62"), pair.muenchen_staff, None),
                (proposal("LKM-63"), pair.steinfurt_staff, None),
            ]
        )
    assert (caught.value.index, caught.value.error.code) == (1, "auth.other_region")
    assert recorded(service) == before


def test_command_ids_already_handled_return_the_first_outcome(service):
    service.handle_batch(
        [(c, SYSTEM, f"setup-{n}") for n, c in enumerate(builders.programme_and_pair())]
    )
    first = service.handle(proposal("LKM-70"), actor=SYSTEM, command_id="single")
    before = recorded(service)
    outcomes = service.handle_batch(
        [
            (proposal("LKM-70"), SYSTEM, "single"),  # handled before, by handle()
            (proposal("LKM-71"), SYSTEM, "new"),
            (proposal("LKM-71"), SYSTEM, "new"),  # the same command twice in the batch
        ]
    )
    assert [o.replayed for o in outcomes] == [True, False, True]
    assert outcomes[0].aggregate_id == first.aggregate_id
    assert outcomes[2].aggregate_id == outcomes[1].aggregate_id
    assert outcomes[2].position is None
    assert recorded(service) == before + 2

    again = service.handle_batch([(proposal("LKM-71"), SYSTEM, "new")])  # redelivered batch
    assert again[0].replayed
    assert recorded(service) == before + 2

    with pytest.raises(BatchRefused) as caught:  # same id, another command
        service.handle_batch([(proposal("LKM-72"), SYSTEM, "x"), (proposal("LKM-73"), SYSTEM, "x")])
    assert isinstance(caught.value.error, CommandIdReused)
    assert recorded(service) == before + 2


def test_an_empty_batch_records_nothing(service):
    assert service.handle_batch([]) == []
    assert recorded(service) == 0
