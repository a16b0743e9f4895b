"""A member's personal data can be erased on request, and the log still verifies.

Crypto-shredding (domain/personal_data.py): name and Telegram id are stored sealed under
the member's own key; erasing destroys the key. Every test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from audit.export import export
from domain import ids
from domain.commands import EnrolAdmin, EraseMemberData, InviteMember, JoinWithInvite
from domain.errors import DomainError, NotAllowed, NotFound, RuleViolated
from domain.personal_data import (
    KeyMissing,
    MemoryKeyStore,
    PersonalData,
    PersonalDataAsCiphertext,
    personal_keys,
    telegram_account_id,
)
from domain.service import RegioTwin
from projections.outbox import open_outbox
from projections.outbox_projection import OutboxProjection, apply_log
from tests import builders
from tests.audit.support import standalone
from tests.builders import SYSTEM, act, get, refused
from tests.projections.support import ReadModels, rebuilt_dump

NAME = "Wiebke Quellmalz-Zwiebelhaus"
TELEGRAM_ID = 7318402953
OTHER_NAME = "Jan Brinkmann"


@dataclass
class World:
    pair: builders.Pair
    wiebke: UUID
    measure: UUID


def wiebke_joins(service: RegioTwin, telegram_id: int = TELEGRAM_ID) -> UUID:
    invite = act(service, SYSTEM, InviteMember, region="09184", role="coordinator")
    return act(
        service,
        "system:onboarding",
        JoinWithInvite,
        code=invite.secret,
        telegram_user_id=telegram_id,
        name=NAME,
    ).aggregate_id


@pytest.fixture
def world(service: RegioTwin) -> World:
    """München and Steinfurt; Wiebke (coordinator in München) proposes a measure, records
    an exchange and gives advice: her name is in timelines, notifications and history."""
    pair = builders.muenchen_and_steinfurt(service)
    wiebke = wiebke_joins(service)
    measure = builders.measure(service, wiebke)
    builders.exchange(service, pair, actor=wiebke)
    builders.advice(service, pair)
    return World(pair, wiebke, measure)


def erase(service: RegioTwin, member: UUID, actor: str | UUID = SYSTEM) -> None:
    act(service, actor, EraseMemberData, member_id=member, reason="request under GDPR Art. 17")


# --- what the store holds ------------------------------------------------------------------


def needles(telegram_id: int = TELEGRAM_ID, name: str = NAME) -> dict[str, bytes]:
    """Every form in which the person could be found: the name, the Telegram id, and the
    index id a plain uuid5 of the Telegram id would give (so ~10¹⁰ tries would find it)."""
    plain_index = ids.natural_id("telegram-account", telegram_id)
    return {
        "name": name.encode(),
        "name (JSON escaped)": json.dumps(name).encode(),
        "telegram id": str(telegram_id).encode(),
        "uuid5 index id": plain_index.hex.encode(),
        "uuid5 index id (text)": str(plain_index).encode(),
        "uuid5 index id (bytes)": plain_index.bytes,
    }


def raw_store(service: RegioTwin, store: dict[str, str]) -> bytes:
    """Everything the event store holds: the SQLite files (database and write-ahead log),
    or every row of every table of the PostgreSQL schema."""
    if store["PERSISTENCE_MODULE"].endswith("sqlite"):
        path = Path(store["SQLITE_DBNAME"])
        return b"".join(
            candidate.read_bytes()
            for candidate in (path, Path(f"{path}-wal"), Path(f"{path}-journal"))
            if candidate.exists()
        )
    import psycopg
    from psycopg.sql import SQL, Identifier

    from tests.stores import postgres_url

    schema = store["POSTGRES_SCHEMA"]
    chunks: list[bytes] = []
    with psycopg.connect(postgres_url()) as connection:
        tables = [
            row[0]
            for row in connection.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                (schema,),
            )
        ]
        for table in tables:
            for row in connection.execute(
                SQL("SELECT * FROM {}.{}").format(Identifier(schema), Identifier(table))
            ):
                for value in row:
                    chunks.append(value if isinstance(value, bytes) else str(value).encode())
    return b"\n".join(chunks)


def found_in(data: bytes, wanted: dict[str, bytes]) -> list[str]:
    return [label for label, needle in wanted.items() if needle in data]


# --- the log -------------------------------------------------------------------------------


def test_personal_data_is_never_stored_in_clear(service, store, world):
    raw = raw_store(service, store)
    assert "Radschnellweg München–Garching".encode() in raw  # what is no personal data is
    assert found_in(raw, needles()) == []
    assert get(service, world.wiebke).name == NAME  # but reads back for the service


def test_erasure_keeps_the_chain_verifiable_and_the_data_unreadable(service, store, world, caplog):
    before = service.verify_log()
    key = personal_keys(service.app).key_for_reading(world.wiebke)
    assert key is not None
    assert key in raw_store(service, store)  # the key table sits beside the events

    erase(service, world.wiebke)

    verdict = service.verify_log()
    assert verdict.intact
    assert verdict.checked > before.checked
    member = get(service, world.wiebke)
    assert (member.name, member.telegram_user_id) == (None, None)
    assert member.erased
    assert member.removed
    assert personal_keys(service.app).key_for_reading(world.wiebke) is None
    raw = raw_store(service, store)
    assert found_in(raw, needles()) == []
    assert key not in raw  # SQLite: not even in the file's free space or write-ahead log
    assert not [r for r in caplog.records if r.name == "domain.personal_data"]  # purged


def test_the_erased_account_acts_no_more_and_may_join_again(service, world):
    assert service.member_profile(TELEGRAM_ID) is not None
    erase(service, world.wiebke)

    assert service.member_profile(TELEGRAM_ID) is None
    assert service.member_for_telegram(TELEGRAM_ID) is None
    with refused(service, "member.removed", NotAllowed):
        builders.measure(service, world.wiebke, code="LKM-99")
    # the other members are unaffected
    jan = get(service, world.pair.steinfurt_staff)
    assert jan.name == OTHER_NAME
    assert service.member_for_telegram(jan.telegram_user_id) == jan.id

    again = wiebke_joins(service)  # a new invite, the same Telegram account
    assert again != world.wiebke
    assert service.member_for_telegram(TELEGRAM_ID) == again
    assert get(service, again).name == NAME
    assert get(service, world.wiebke).name is None
    assert service.verify_log().intact


def test_who_may_erase(service, world):
    jan = world.pair.steinfurt_staff
    with refused(service, "auth.erasure", NotAllowed):
        erase(service, world.wiebke, actor=jan)
    with refused(service, "member.not_found", NotFound):
        erase(service, UUID(int=7))
    erase(service, jan, actor=jan)  # a member erases their own data
    assert get(service, jan).erased
    with refused(service, "member.erased", RuleViolated):
        erase(service, jan)
    erase(service, world.wiebke)  # admins (and the system) erase anybody's
    assert get(service, world.wiebke).erased


def test_a_refused_batch_destroys_no_key(service, world):
    keys = personal_keys(service.app)
    batch = [
        (EraseMemberData.parse(member_id=world.wiebke, reason="request"), SYSTEM, None),
        (EraseMemberData.parse(member_id=UUID(int=7), reason="request"), SYSTEM, None),
    ]
    with pytest.raises(DomainError):
        service.handle_batch(batch)
    assert keys.key_for_reading(world.wiebke) is not None
    assert get(service, world.wiebke).name == NAME


def test_a_member_who_never_joined_can_be_erased_and_the_invite_dies(service, world):
    invite = act(service, SYSTEM, InviteMember, region="09184", role="staff")
    erase(service, invite.aggregate_id)
    with refused(service, "invite.invalid", NotAllowed):
        act(
            service,
            "system:onboarding",
            JoinWithInvite,
            code=invite.secret,
            telegram_user_id=4711,
            name="Nobody",
        )


def test_an_enrolled_admin_leaves_no_guessable_fingerprint(service, store):
    name, telegram_id = "Ada Admin-Lovelace", 8123456789
    admin = act(service, "system:bootstrap", EnrolAdmin, telegram_user_id=telegram_id, name=name)
    # A plain hash of the command in its receipt could be tried for every Telegram id.
    command = EnrolAdmin.parse(telegram_user_id=telegram_id, name=name)
    payload = f"system:bootstrap:EnrolAdmin:{command.model_dump_json()}"
    unkeyed = hashlib.sha256(payload.encode()).hexdigest().encode()
    wanted = {**needles(telegram_id, name), "unkeyed fingerprint": unkeyed}
    assert found_in(raw_store(service, store), wanted) == []
    erase(service, admin.aggregate_id)
    assert found_in(raw_store(service, store), wanted) == []
    assert service.member_profile(telegram_id) is None


def test_the_account_index_id_is_keyed(service, world):
    account_id = get(service, world.wiebke).account_id
    assert account_id == telegram_account_id(service.app, TELEGRAM_ID)
    assert account_id != ids.natural_id("telegram-account", TELEGRAM_ID)
    assert account_id != ids.telegram_account_id(b"another store's key", TELEGRAM_ID)


# --- read models ----------------------------------------------------------------------------


def test_read_models_forget_the_name_live_and_a_rebuild_equals_them(
    service, store, world, tmp_path
):
    live = ReadModels(store, tmp_path / "live.sqlite")
    try:
        live.refresh()
        assert NAME in live.dump()
        erase(service, world.wiebke)
        live.refresh(batch_size=1)
        live_dump = live.dump()
    finally:
        live.close()
    rebuilt = rebuilt_dump(store, tmp_path / "rebuilt.sqlite")
    assert rebuilt == live_dump
    assert NAME not in rebuilt
    assert str(TELEGRAM_ID) not in rebuilt
    assert OTHER_NAME in rebuilt  # the others keep their names


def test_history_names_the_erased_member_as_erased(service, store, world, tmp_path):
    import asyncio

    from audit.history import describe, find_subjects, history, names_for
    from projections import queries

    erase(service, world.wiebke)
    models = ReadModels(store, tmp_path / "read_models.sqlite")
    try:
        models.refresh()
    finally:
        models.close()

    async def lines() -> list[tuple[str, str]]:
        async with queries.connect(tmp_path / "read_models.sqlite") as db:
            [subject] = await find_subjects(db, world.wiebke.hex)
            page = await history(db, subject, per_page=50)
            names = await names_for(db, page.items)
            return [(names.actor(e.actor, e.actor_name), describe(e, names)) for e in page.items]

    found = asyncio.run(lines())
    assert ("system:test", "Personal data erased: request under GDPR Art. 17") in found
    assert ("erased member", "Joined") in found  # who joined, and that they did
    assert NAME not in repr(found)


# --- export --------------------------------------------------------------------------------


def test_a_fresh_export_verifies_and_holds_no_personal_data_of_the_erased(service, world, tmp_path):
    erase(service, world.wiebke)
    folder = tmp_path / "export"
    export(service.app, folder, date(2016, 6, 30))

    code, output = standalone(folder / "events.jsonl")
    assert code == 0, output
    everything = b"".join(path.read_bytes() for path in sorted(folder.iterdir()))
    assert found_in(everything, needles()) == []
    with (folder / "members.csv").open(encoding="utf-8") as file:
        members = {row["member_id"]: row for row in csv.DictReader(file)}
    assert members[world.wiebke.hex]["name"] == ""
    assert members[world.wiebke.hex]["erased_at"]
    assert members[world.pair.steinfurt_staff.hex]["name"] == OTHER_NAME  # for auditors


def test_the_log_shows_the_erasure_without_personal_data(service, world, tmp_path):
    erase(service, world.wiebke)
    export(service.app, tmp_path, date(2016, 6, 30))
    lines = [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()]
    [erased] = [line for line in lines if line["type"] == "Member.PersonalDataErased"]
    assert erased["originator_id"] == str(world.wiebke)
    assert erased["actor"] == SYSTEM
    assert erased["data"] == {
        "reason": "request under GDPR Art. 17",
        "personal": {"subject": world.wiebke.hex, "sealed": None},
    }
    [joined] = [
        line
        for line in lines
        if line["type"] == "Member.Joined" and line["originator_id"] == str(world.wiebke)
    ]
    assert set(joined["data"]["personal"]) == {"subject", "sealed"}  # sealed, as ever
    assert any(
        line["type"] == "TelegramAccount.Retired"
        and line["originator_id"] == str(get(service, world.wiebke).account_id)
        for line in lines
    )


# --- notifications ----------------------------------------------------------------------------


def outbox_rows(outbox: Any, table: str) -> list[dict[str, Any]]:
    with outbox.db.read() as tx:
        return tx.all(f"SELECT * FROM {table}")


def test_the_outbox_forgets_the_chat_and_the_name(service, store, tmp_path):
    outbox = open_outbox(store, tmp_path)
    try:
        outbox.initialise("RegioTwin", 0)  # notify from the start
        projection = OutboxProjection(outbox)
        pair = builders.muenchen_and_steinfurt(service)
        wiebke = wiebke_joins(service)
        builders.exchange(service, pair, actor=wiebke)  # Steinfurt hears of Wiebke
        builders.advice(service, pair)  # Wiebke hears of Steinfurt's advice
        apply_log(projection, service.app)
        notes = outbox_rows(outbox, "outbox_notifications")
        assert any(NAME in note["payload"] for note in notes)
        assert any(note["chat_id"] == TELEGRAM_ID for note in notes)

        erase(service, wiebke)
        apply_log(projection, service.app)

        notes = outbox_rows(outbox, "outbox_notifications")
        assert not any(NAME in note["payload"] for note in notes)
        assert not any(note["chat_id"] == TELEGRAM_ID for note in notes)
        members = {row["member_id"]: row for row in outbox_rows(outbox, "outbox_members")}
        assert (members[wiebke.hex]["name"], members[wiebke.hex]["chat_id"]) == (None, None)
        assert members[pair.steinfurt_staff.hex]["name"] == OTHER_NAME
        chats = [row["chat_id"] for row in outbox_rows(outbox, "outbox_chats")]
        assert TELEGRAM_ID not in chats
    finally:
        outbox.close()


# --- the key store ------------------------------------------------------------------------


def transcoding() -> tuple[MemoryKeyStore, PersonalDataAsCiphertext]:
    keys = MemoryKeyStore()
    return keys, PersonalDataAsCiphertext(lambda: keys)


def test_sealed_data_is_bound_to_its_member():
    keys, coding = transcoding()
    anna, bert = UUID(int=1), UUID(int=2)
    sealed = coding.encode(PersonalData(anna, "Anna", 1))
    keys.key_for_writing(bert)
    with pytest.raises(ValueError, match="MAC check failed"):
        coding.decode({"subject": bert.hex, "sealed": sealed["sealed"]})
    assert "Anna" not in repr(coding.decode(sealed))  # never in logs or tracebacks


def test_a_lost_key_table_is_an_error_not_an_erasure():
    keys, coding = transcoding()
    anna = UUID(int=1)
    sealed = coding.encode(PersonalData(anna, "Anna", 1))
    _fresh, reader = transcoding()
    with pytest.raises(KeyMissing):
        reader.decode(sealed)
    keys.erase(anna)
    assert coding.decode(sealed) == PersonalData.erased_for(anna)
