"""Checkpoints and issued reports are recorded through the service layer, like all else."""

from __future__ import annotations

from uuid import UUID

import pytest

from domain.audit import CHECKPOINT_ACTOR, ChainCheckpoint, Report, checkpoint_id
from domain.commands import IssueReport, RecordCheckpoint
from domain.errors import InvalidCommand
from domain.service import RegioTwin
from tests import builders

HEAD = "ab" * 32


def test_the_checkpoint_job_records_the_chain_head_at_a_position(service: RegioTwin):
    builders.programme(service)

    outcome = service.handle(RecordCheckpoint(position=2, head_hash=HEAD), actor=CHECKPOINT_ACTOR)

    checkpoint = builders.get(service, outcome.aggregate_id)
    assert isinstance(checkpoint, ChainCheckpoint)
    assert outcome.aggregate_id == checkpoint_id(2)
    assert (checkpoint.position, checkpoint.head_hash) == (2, HEAD)
    [event] = service.app.events.get(checkpoint.id)
    assert (type(event).__qualname__, event.actor) == ("ChainCheckpoint.Recorded", CHECKPOINT_ACTOR)


def test_one_checkpoint_per_position(service: RegioTwin):
    builders.programme(service)
    service.handle(RecordCheckpoint(position=2, head_hash=HEAD), actor=CHECKPOINT_ACTOR)
    with builders.refused(service, "checkpoint.exists"):
        service.handle(RecordCheckpoint(position=2, head_hash="cd" * 32), actor=CHECKPOINT_ACTOR)


def test_the_same_checkpoint_command_again_records_nothing(service: RegioTwin):
    builders.programme(service)
    first = service.handle(
        RecordCheckpoint(position=2, head_hash=HEAD), actor=CHECKPOINT_ACTOR, command_id="cp:2"
    )
    before = builders.recorded(service)
    again = service.handle(
        RecordCheckpoint(position=2, head_hash=HEAD), actor=CHECKPOINT_ACTOR, command_id="cp:2"
    )
    assert again.replayed
    assert again.aggregate_id == first.aggregate_id
    assert builders.recorded(service) == before


def test_members_cannot_record_checkpoints(service: RegioTwin):
    pair = builders.muenchen_and_steinfurt(service)
    with builders.refused(service, "auth.system_only"):
        service.handle(RecordCheckpoint(position=1, head_hash=HEAD), actor=pair.muenchen_staff)


def test_a_checkpoint_needs_a_sha256_head():
    with pytest.raises(InvalidCommand) as caught:
        RecordCheckpoint.parse(position=0, head_hash="not a hash")
    assert {field for field, _rule in caught.value.problems} == {"position", "head_hash"}


def issue(service: RegioTwin, actor: str | UUID = "system:report", programme: str = "03KF0003"):
    return service.handle(
        IssueReport.parse(
            programme=programme,
            title="RegioTwin: Bericht zum 30.06.2017",
            as_of="30.06.2017",
            content_sha256="AB" * 32,
            log_position=42,
            chain_head=HEAD,
        ),
        actor=actor,
    )


def test_issuing_a_report_records_its_content_hash_and_the_log_it_was_built_from(
    service: RegioTwin,
):
    builders.programme(service)

    outcome = issue(service)

    report = builders.get(service, outcome.aggregate_id)
    assert isinstance(report, Report)
    assert report.content_sha256 == "ab" * 32
    assert (report.log_position, report.chain_head) == (42, HEAD)
    assert report.title == "RegioTwin: Bericht zum 30.06.2017"
    assert report.as_of.isoformat() == "2017-06-30"
    [event] = service.app.events.get(report.id)
    assert (type(event).__qualname__, event.actor) == ("Report.Issued", "system:report")


def test_a_report_is_issued_by_the_programme_management_only(service: RegioTwin):
    pair = builders.muenchen_and_steinfurt(service)
    with builders.refused(service, "auth.programme_management"):
        issue(service, actor=pair.muenchen_staff)


def test_a_report_names_an_existing_programme(service: RegioTwin):
    builders.programme(service)
    with builders.refused(service, "programme.not_found"):
        issue(service, programme="03KF9999")
