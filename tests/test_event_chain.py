"""Tamper evidence: every stored event is chained by hash; any change to the log shows."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from uuid import UUID

import pytest

from domain.chain import GENESIS, ChainedEvent, link, record, verify
from domain.service import RegioTwin
from tests import builders


def tamper(service: RegioTwin, statement: str, params: tuple[object, ...] = ()) -> None:
    """Run SQL directly against the event store, behind the application's back."""
    env = service.app.env
    table = service.app.recorder.events_table_name
    if env.get("PERSISTENCE_MODULE") == "eventsourcing.sqlite":
        with sqlite3.connect(env["SQLITE_DBNAME"]) as connection:
            connection.execute(statement.format(events=table, chain="event_chain"), params)
        return
    import psycopg

    schema = env["POSTGRES_SCHEMA"]
    events = f'"{schema}"."{table}"'
    chain = f'"{schema}"."{table}_chain"'
    position = "notification_id"
    url = (
        f"postgresql://{env['POSTGRES_USER']}:{env['POSTGRES_PASSWORD']}@"
        f"{env['POSTGRES_HOST']}:{env['POSTGRES_PORT']}/{env['POSTGRES_DBNAME']}"
    )
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(
            statement.replace("rowid", position)
            .replace("?", "%s")
            .format(events=events, chain=chain),
            params,
        )


def stored_id(service: RegioTwin, originator_id: UUID) -> str:
    """SQLite keeps ids as hex, PostgreSQL as uuid."""
    sqlite = service.app.env.get("PERSISTENCE_MODULE") == "eventsourcing.sqlite"
    return originator_id.hex if sqlite else str(originator_id)


@pytest.fixture
def recorded(service: RegioTwin) -> RegioTwin:
    pair = builders.muenchen_and_steinfurt(service)
    builders.measure(service, pair.muenchen_staff)
    return service


def test_an_untouched_log_verifies(recorded: RegioTwin):
    verdict = recorded.verify_log()
    assert verdict.intact
    assert verdict.checked == recorded.app.recorder.max_notification_id()


def test_each_new_event_extends_the_chain(recorded: RegioTwin):
    head = recorded.verify_log().head
    pair_measure = builders.measure(recorded, builders.SYSTEM, region="05566", code="KST-01")
    assert pair_measure
    verdict = recorded.verify_log()
    assert verdict.intact
    assert verdict.head != head


TAMPERING: dict[str, tuple[str, Callable[[int], tuple[object, ...]]]] = {
    "altered": ("UPDATE {events} SET state = ? WHERE rowid = ?", lambda n: (b'{"x":1}', n)),
    "deleted": ("DELETE FROM {events} WHERE rowid = ?", lambda n: (n,)),
    "reordered": (
        "UPDATE {events} SET topic = CASE WHEN rowid = ? THEN "
        "(SELECT topic FROM {events} WHERE rowid = ?) ELSE "
        "(SELECT topic FROM {events} WHERE rowid = ?) END WHERE rowid IN (?, ?)",
        lambda n: (n, n + 1, n, n, n + 1),
    ),
}


@pytest.mark.parametrize("how", sorted(TAMPERING))
def test_verification_finds_the_first_tampered_position(recorded: RegioTwin, how: str):
    position = 7
    statement, params = TAMPERING[how]
    tamper(recorded, statement, params(position))

    verdict = recorded.verify_log()

    assert not verdict.intact
    assert verdict.first_broken_position in (position, position + 1)
    assert verdict.checked == position - 1


def test_an_event_inserted_behind_the_applications_back_is_found(recorded: RegioTwin):
    head = recorded.app.recorder.max_notification_id()
    first = next(iter(recorded.app.recorder.select_notifications(1, 1)))
    tamper(
        recorded,
        "INSERT INTO {events} (originator_id, originator_version, topic, state) "
        "VALUES (?, ?, ?, ?)",
        (stored_id(recorded, first.originator_id), 99, first.topic, first.state),
    )
    verdict = recorded.verify_log()
    assert not verdict.intact
    assert verdict.first_broken_position > head
    assert verdict.reason == "no hash stored"


def test_the_chain_rule_is_plain_sha256_over_a_documented_record():
    state = b'{"a":1}'
    first = link(GENESIS, record(1, "id", 1, "topic", state))
    second = link(first, record(2, "id", 2, "topic", state))
    events = [
        ChainedEvent(1, "id", 1, "topic", state, first),
        ChainedEvent(2, "id", 2, "topic", state, second),
    ]
    assert verify(events).intact
    assert verify(events).head == second
    assert verify([events[1]]).first_broken_position == 2
