"""Erasing a member's personal data: ``python run_bot.py erase MEMBER REASON``.

Crypto-shredding (``domain/personal_data.py``): the command records
``Member.PersonalDataErased`` (by ``system:erase``, when, why) and destroys the member's
key. Name and Telegram id stay sealed in the old events, so the hash chain verifies as
before, but nobody can read them again; the member's Telegram account acts for nobody
and may join again with a new invite. The live read models and the notification outbox
are brought up to date at once (a running bot's followers do the same).
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from uuid import UUID

from rich.console import Console
from rich.text import Text

from audit.cli import _caught_up_read_models, _service
from domain.clock import Clock
from domain.commands import EraseMemberData
from domain.errors import DomainError
from domain.service import RegioTwin
from projections.outbox import open_outbox
from projections.outbox_projection import OutboxProjection, apply_log
from settings import Settings

ERASE_ACTOR = "system:erase"
HANDLE_MIN = 6


def find_members(read_model_path: Path, ref: str) -> list[tuple[str, str, str | None]]:
    """(member id, status, erased_at) of the members a reference means: a member id, the
    first hex digits of one (at least six, as /members shows them), or a name."""
    text = ref.strip()
    compact = text.replace("-", "").lower()
    connection = sqlite3.connect(f"file:{read_model_path}?mode=ro", uri=True)
    try:
        if len(compact) >= HANDLE_MIN and re.fullmatch(r"[0-9a-f]{1,32}", compact):
            rows = connection.execute(
                "SELECT member_id, status, erased_at FROM members "
                "WHERE substr(member_id, 1, ?) = ? ORDER BY member_id",
                (len(compact), compact),
            ).fetchall()
            if rows:
                return [tuple(row) for row in rows]
        rows = connection.execute(
            "SELECT member_id, name, status, erased_at FROM members ORDER BY member_id"
        ).fetchall()
    finally:
        connection.close()
    wanted = text.casefold()
    return [(r[0], r[2], r[3]) for r in rows if r[1] is not None and r[1].casefold() == wanted]


def _outbox_caught_up(settings: Settings, service: RegioTwin) -> None:
    """Apply the log to the outbox, if the bot has started one (else its first start
    reads the member as erased anyway)."""
    outbox = open_outbox(settings.event_store_env, settings.data_dir)
    try:
        if outbox.max_tracking_id(service.app.name) is not None:
            apply_log(OutboxProjection(outbox, timezone=settings.timezone), service.app)
    finally:
        outbox.close()


def erase(
    settings: Settings,
    console: Console,
    member_ref: str,
    reason: str,
    *,
    clock: Clock | None = None,
) -> UUID:
    """Erase the personal data of the member ``member_ref`` means (id, handle or name);
    exit 1 if it means none or several, or the domain refuses."""
    service = _service(settings, clock)
    try:
        _caught_up_read_models(settings, service)
        found = find_members(settings.read_model_path, member_ref)
        if not found:
            console.print(Text(f"No member found for {member_ref!r}.", style="red"))
            raise SystemExit(1)
        if len(found) > 1:
            console.print(Text(f"{member_ref!r} means several members; use the id:", "yellow"))
            for member_id, status, erased_at in found:
                state = "erased" if erased_at else status
                console.print(Text(f"  {member_id} ({state})"))
            raise SystemExit(1)
        member_id = UUID(found[0][0])
        try:
            outcome = service.handle(
                EraseMemberData.parse(member_id=member_id, reason=reason), actor=ERASE_ACTOR
            )
        except DomainError as error:
            console.print(Text(f"Not erased ({error.code}).", style="red"))
            raise SystemExit(1) from None
        _caught_up_read_models(settings, service)
        _outbox_caught_up(settings, service)
        verdict = service.verify_log()
    finally:
        service.close()
    console.print(
        Text(
            f"Personal data of member {member_id.hex} erased (log position {outcome.position}); "
            "name and Telegram id can no longer be read.",
            style="green",
        )
    )
    if verdict.intact:
        console.print(Text(f"The hash chain verifies: {verdict.checked} events.", style="dim"))
    else:
        console.print(
            Text(f"BROKEN chain at position {verdict.first_broken_position}", style="bold red")
        )
        raise SystemExit(1)
    return member_id
