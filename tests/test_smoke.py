from domain.commands import ChangeMeasureStatus
from domain.values import MeasureStatus
from tests import builders


def test_a_measure_moves_from_proposed_to_planned(service):
    pair = builders.muenchen_and_steinfurt(service)
    measure_id = builders.measure(service, pair.muenchen_staff)
    outcome = service.handle(
        ChangeMeasureStatus.parse(measure_id=measure_id, status="planned"),
        actor=pair.muenchen_staff,
    )
    assert outcome.details["status"] == MeasureStatus.PLANNED
