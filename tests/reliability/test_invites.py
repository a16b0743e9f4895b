"""Invite codes: 192 bits of randomness, only their SHA-256 stored, one-time, expiring, and
guessing is rate-limited per Telegram user (5 failures in 10 minutes), across restarts."""

from __future__ import annotations

import base64
import hashlib
import re
import sqlite3
from datetime import timedelta
from pathlib import Path

from bot.app import BotServices, build_dispatcher
from bot.handled_updates import HandledUpdates
from bot.invite_guard import MAX_FAILURES, WINDOW
from bot.middlewares import MemberMiddleware
from domain.commands import InviteMember
from domain.handlers.members import INVITE_CODE_BYTES, hash_invite_code
from tests import builders
from tests.bot.conftest import ADMIN, BotWorld
from tests.bot.harness import BotHarness, Person

EVE = Person(id=9101, first_name="Eve", language_code="de")
MALLORY = Person(id=9102, first_name="Mallory", language_code="en")
TRUDY = Person(id=9103, first_name="Trudy", language_code="en")


def invite(world: BotWorld, valid_days: int = 7) -> str:
    outcome = world.service.handle(
        InviteMember.parse(region="09184", role="staff", valid_days=valid_days),
        actor="system:test",
    )
    assert outcome.secret is not None
    world.settle()
    return outcome.secret


def a_guess(number: int) -> str:
    """A code of the right shape that no invite has."""
    return base64.urlsafe_b64encode(number.to_bytes(24, "big")).decode()


class DomainCalls:
    """Counts the commands that reach the domain."""

    def __init__(self, world: BotWorld, monkeypatch) -> None:
        self.count = 0
        handle = world.service.handle

        def counting(*args, **kwargs):
            self.count += 1
            return handle(*args, **kwargs)

        monkeypatch.setattr(world.service, "handle", counting)


async def test_an_invite_code_carries_192_bits_and_only_its_hash_is_kept(
    world: BotWorld, tmp_path: Path
):
    builders.muenchen_and_steinfurt(world.service)
    await world.send(ADMIN, "/start")
    [invitation] = await world.send(ADMIN, "/invite 09184 staff")
    code = re.search(r"\?start=([A-Za-z0-9_-]+)", invitation.text).group(1)

    assert len(base64.urlsafe_b64decode(code + "==")) == INVITE_CODE_BYTES == 24  # 192 bits
    codes = {invite(world) for _ in range(64)}
    assert len(codes) == 64
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{32}", c) for c in codes)

    [welcome] = await world.send(EVE, f"/start {code}")
    assert "Willkommen" in welcome.text
    world.settle()
    stored = b"".join(path.read_bytes() for path in tmp_path.rglob("*.sqlite*") if path.is_file())
    for secret in (code, *list(codes)[:20]):
        assert secret.encode() not in stored, "an invite code is stored in plain text"
    assert hash_invite_code(code) == hashlib.sha256(code.encode()).hexdigest()
    assert hash_invite_code(code).encode() in stored  # what is kept instead


async def test_an_invite_works_once(world: BotWorld):
    builders.muenchen_and_steinfurt(world.service)
    code = invite(world)
    await world.send(EVE, f"/start {code}")
    before = builders.recorded(world.service)

    [refusal] = await world.send(MALLORY, f"/start {code}")

    assert "already used" in refusal.text
    assert world.service.member_for_telegram(MALLORY.id) is None
    assert builders.recorded(world.service) == before


async def test_an_invite_expires(world: BotWorld):
    builders.muenchen_and_steinfurt(world.service)
    code = invite(world, valid_days=1)
    world.clock.advance(timedelta(days=1, seconds=1))
    before = builders.recorded(world.service)

    [refusal] = await world.send(MALLORY, f"/start {code}")

    assert "expired" in refusal.text
    assert world.service.member_for_telegram(MALLORY.id) is None
    assert builders.recorded(world.service) == before


async def test_guessing_is_refused_after_five_failures_without_asking_the_domain(
    world: BotWorld, monkeypatch
):
    builders.muenchen_and_steinfurt(world.service)
    code = invite(world)
    guesses = [a_guess(1), "short", a_guess(2), a_guess(3), "x" * 80]
    for guess in guesses:
        [refusal] = await world.send(MALLORY, f"/start {guess}")
        assert "not valid" in refusal.text
    assert len(guesses) == MAX_FAILURES
    calls = DomainCalls(world, monkeypatch)
    before = builders.recorded(world.service)

    [blocked] = await world.send(MALLORY, f"/start {a_guess(4)}")
    [still] = await world.send(MALLORY, f"/start {code}")  # even the right one, for now

    assert "Too many invite codes" in blocked.text
    assert "try again in 10 minutes" in blocked.text
    assert "Too many invite codes" in still.text
    assert calls.count == 0, "a blocked guess reached the domain"
    assert builders.recorded(world.service) == before
    [others] = await world.send(TRUDY, f"/start {a_guess(5)}")
    assert "not valid" in others.text, "another user is not held to Mallory's failures"

    world.clock.advance(WINDOW)
    [welcome] = await world.send(MALLORY, f"/start {code}")
    assert "Welcome to RegioTwin" in welcome.text


async def test_the_block_is_told_in_german_and_counts_down(world: BotWorld):
    for number in range(MAX_FAILURES):
        await world.send(EVE, f"/start {a_guess(number)}")
        world.clock.advance(timedelta(minutes=1))

    [blocked] = await world.send(EVE, f"/start {a_guess(99)}")

    assert "Zu viele Einladungscodes" in blocked.text
    assert "in 5 Minuten" in blocked.text  # then the first failure leaves the window
    world.clock.advance(timedelta(minutes=5))
    [again] = await world.send(EVE, f"/start {a_guess(100)}")
    assert "ungültig" in again.text


async def test_a_restart_does_not_reset_the_count(world: BotWorld, tmp_path: Path):
    for number in range(MAX_FAILURES):
        await world.send(MALLORY, f"/start {a_guess(number)}")

    restarted = await HandledUpdates.open(tmp_path / "bot_state.sqlite")
    try:
        dispatcher = world.harness.dispatcher
        [members] = [
            m for m in dispatcher.update.outer_middleware if isinstance(m, MemberMiddleware)
        ]
        again = BotHarness(
            build_dispatcher(
                BotServices(
                    gateway=members.gateway,
                    handled_updates=restarted,
                    clock=world.clock,
                    admins=frozenset({ADMIN.id}),
                    read_models=dispatcher["read_models"],
                )
            )
        )
        again._update_ids = iter(range(10_000, 20_000))  # type: ignore[assignment]
        [blocked] = await again.send(MALLORY, f"/start {a_guess(42)}")
    finally:
        await restarted.close()

    assert "Too many invite codes" in blocked.text
    with sqlite3.connect(tmp_path / "bot_state.sqlite") as db:
        [(kept,)] = db.execute(
            "SELECT count(*) FROM invite_failures WHERE telegram_user_id = ?", (MALLORY.id,)
        ).fetchall()
    assert kept == MAX_FAILURES


async def test_a_successful_join_clears_the_failures(world: BotWorld):
    builders.muenchen_and_steinfurt(world.service)
    for number in range(MAX_FAILURES - 1):
        await world.send(EVE, f"/start {a_guess(number)}")
    await world.send(EVE, f"/start {invite(world)}")
    await world.send(ADMIN, "/start")
    code = invite(world)
    await world.send(EVE, f"/start {a_guess(50)}")  # a member now: not "blocked"

    [refusal] = await world.send(EVE, f"/start {code}")

    assert "Zu viele" not in refusal.text
    assert "gehört schon einem aktiven Mitglied" in refusal.text
