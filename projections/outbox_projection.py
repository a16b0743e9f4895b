"""Who hears what: the projection that turns events into notifications in the outbox.

Recipients are decided from the events alone: the projection keeps the little state it
needs (members with their Telegram chat and language, regions, twinnings, measures,
advice, exchanges, notification settings) in the outbox's own tables, moved in the
same transaction as the notifications and its position. So the recipients of an event
are the members *as of that event*, whatever the read models show.

The rules (see ``bot/NOTIFICATIONS.md``):

* the partner region's members hear of exchanges recorded, advice requested, given,
  adopted and declined, follow-ups agreed for them, and of the other side's measures
  reaching ``implemented``;
* a region's coordinators hear of status changes of their measures made by someone else;
* the programme office hears of twinnings started and completed;
* the actor never hears of their own action.

Personal data: a member's name and chat id come from the sealed personal data of
``Member.Joined`` (:mod:`domain.personal_data`). ``Member.PersonalDataErased`` forgets
both, takes the chat id out of the member's notifications and the chat's rate-limit row,
and blanks the name in every notification's payload that named them as the actor
(``actor_id``), digests included.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from eventsourcing.persistence import Tracking
from eventsourcing.projection import Projection

from domain.application import RegioTwinApplication
from projections.encoding import day, instant, text, uid
from projections.outbox import (
    BUSINESS_TIMEZONE,
    NewNotification,
    OutboxStore,
    OutboxTracking,
    Recipient,
    Transaction,
)

EXCERPT = 300
"""Characters of a user's text quoted in a notification."""

OPEN_TWINNING_STATUSES = ("formed", "running")


def excerpt(value: str | None, limit: int = EXCERPT) -> str:
    line = " ".join((value or "").split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


@dataclass
class Step:
    """Applying one event: its transaction, and whether it may notify anybody."""

    tx: Transaction
    store: OutboxStore
    event: Any
    position: int
    emit: bool
    zone: ZoneInfo
    added: int = 0
    _notified: set[str] = field(default_factory=set)

    @property
    def actor(self) -> str:
        return str(self.event.actor)

    def member(self, member_id: str | None) -> dict[str, Any] | None:
        if member_id is None:
            return None
        return self.tx.one("SELECT * FROM outbox_members WHERE member_id = ?", (member_id,))

    def region_name(self, region_id: str | None) -> str | None:
        if region_id is None:
            return None
        row = self.tx.one("SELECT name FROM outbox_regions WHERE region_id = ?", (region_id,))
        return None if row is None else str(row["name"])

    def twinning(self, twinning_id: str) -> dict[str, Any] | None:
        return self.tx.one("SELECT * FROM outbox_twinnings WHERE twinning_id = ?", (twinning_id,))

    def twinning_label(self, twinning: dict[str, Any] | None) -> str:
        if twinning is None:
            return ""
        first = self.region_name(twinning["first_region_id"]) or ""
        second = self.region_name(twinning["second_region_id"]) or ""
        return f"{first} – {second}"

    def actor_region(self, actor: str | None = None) -> str | None:
        actor = actor or self.actor
        row = None if actor.startswith("system:") else self.member(actor)
        return None if row is None else row["region_id"]

    def who(self, actor: str | None = None) -> dict[str, Any]:
        """Who did it, for the message: name and region (the office: no region)."""
        actor = actor or self.actor
        row = None if actor.startswith("system:") else self.member(actor)
        if row is None:
            return {"actor": None, "actor_region": None}
        return {
            "actor": row["name"],
            "actor_id": actor,  # to blank the name, should the actor's data be erased
            "actor_region": self.region_name(row["region_id"]),
        }

    def notify(
        self,
        recipients: Iterable[Recipient],
        kind: str,
        template: str,
        payload: dict[str, Any],
        *,
        twinning_id: str | None = None,
        actor: str | None = None,
        position: int | None = None,
        at: datetime | None = None,
    ) -> None:
        if not self.emit:
            return
        actor = actor or self.actor
        position = position or self.position
        for recipient in recipients:
            if recipient.member_id == actor or recipient.member_id in self._notified:
                continue
            self._notified.add(recipient.member_id)
            added = self.store.deliver(
                self.tx,
                NewNotification(
                    dedupe_key=f"event:{position}:{recipient.member_id}",
                    recipient=recipient,
                    kind=kind,
                    template=template,
                    payload={**self.who(actor), **payload},
                    created_at=at or self.event.timestamp,
                    twinning_id=twinning_id,
                    position=position,
                ),
                self.zone,
            )
            if added is not None:
                self.added += 1

    def region_members(self, region_id: str | None, role: str | None = None) -> list[Recipient]:
        if region_id is None:
            return []
        return self.store.recipients(self.tx, region_id=region_id, role=role)

    def office(self) -> list[Recipient]:
        return self.store.recipients(self.tx, office=True)


Rule = Callable[[Step], None]
RULES: dict[str, list[Rule]] = {}


def on(*event_types: str) -> Callable[[Rule], Rule]:
    def register(rule: Rule) -> Rule:
        for event_type in event_types:
            RULES.setdefault(event_type, []).append(rule)
        return rule

    return register


class OutboxProjection(Projection[OutboxTracking]):
    """Followed by the bot's ProjectionHost (``followers=[...]``), like the read models."""

    name = "outbox"
    application_name: ClassVar[str] = RegioTwinApplication.name

    def __init__(
        self,
        store: OutboxStore,
        *,
        on_added: Callable[[], None] | None = None,
        timezone: str = "Europe/Berlin",
    ) -> None:
        super().__init__(OutboxTracking(store))
        self.store = store
        self.on_added = on_added
        self.zone = ZoneInfo(timezone)

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        """Apply one event in one transaction with the position; an event at or before
        the stored position was applied already (by this or another instance)."""
        with self.store.db.transaction() as tx:
            position, emit_after = self.store.lock_position(tx, tracking.application_name)
            if tracking.notification_id <= position:
                return
            step = Step(
                tx,
                self.store,
                domain_event,
                tracking.notification_id,
                emit=tracking.notification_id > emit_after,
                zone=self.zone,
            )
            for rule in RULES.get(type(domain_event).__qualname__, []):
                rule(step)
            self.store.set_position(tx, tracking.application_name, tracking.notification_id)
        if step.added and self.on_added is not None:
            self.on_added()


def apply_log(projection: OutboxProjection, log: RegioTwinApplication) -> int:
    """Apply the whole log after the outbox's position, synchronously (tools, demo, tests)."""
    from projections import log as event_log

    position = projection.view.max_tracking_id(log.name)
    applied = 0
    while True:
        entries = event_log.read(log, position, 500, event_log.head(log))
        if not entries:
            return applied
        for entry in entries:
            if entry.error is not None:
                raise entry.error
            projection.process_event(entry.event, entry.tracking)
            position = entry.tracking.notification_id
            applied += 1


# --- state the rules need ------------------------------------------------------------


@on("Member.Invited")
def _member_invited(s: Step) -> None:
    s.tx.execute(
        "INSERT INTO outbox_members (member_id, region_id, role, name, chat_id, language,"
        " active) VALUES (?, ?, ?, NULL, NULL, NULL, 0) ON CONFLICT (member_id) DO NOTHING",
        (uid(s.event.originator_id), uid(s.event.region_id), text(s.event.role)),
    )


@on("Member.Joined")
def _member_joined(s: Step) -> None:
    s.tx.execute(
        "UPDATE outbox_members SET name = ?, chat_id = ?, active = 1 WHERE member_id = ?",
        (
            s.event.personal.name,
            s.event.personal.telegram_user_id,  # None: erased (the member hears nothing)
            uid(s.event.originator_id),
        ),
    )


@on("Member.RoleChanged")
def _member_role_changed(s: Step) -> None:
    s.tx.execute(
        "UPDATE outbox_members SET role = ? WHERE member_id = ?",
        (text(s.event.role), uid(s.event.originator_id)),
    )


@on("Member.LanguageChosen")
def _member_language(s: Step) -> None:
    s.tx.execute(
        "UPDATE outbox_members SET language = ? WHERE member_id = ?",
        (text(s.event.language), uid(s.event.originator_id)),
    )


@on("Member.Removed")
def _member_removed(s: Step) -> None:
    member_id = uid(s.event.originator_id)
    s.tx.execute("UPDATE outbox_members SET active = 0 WHERE member_id = ?", (member_id,))
    # Who left hears nothing more: what still waited for them is not sent.
    s.tx.execute(
        "UPDATE outbox_notifications SET state = 'cancelled' WHERE member_id = ?"
        " AND state IN ('pending', 'digest')",
        (member_id,),
    )


@on("Member.PersonalDataErased")
def _member_erased(s: Step) -> None:
    member_id = uid(s.event.originator_id)
    assert member_id is not None
    row = s.member(member_id)
    chat_id = None if row is None else row["chat_id"]
    s.tx.execute(
        "UPDATE outbox_members SET name = NULL, chat_id = NULL, active = 0 WHERE member_id = ?",
        (member_id,),
    )
    # What was sent to them stays on record (sent once, never again), without their chat.
    s.tx.execute(
        "UPDATE outbox_notifications SET state = 'cancelled' WHERE member_id = ?"
        " AND state IN ('pending', 'digest')",
        (member_id,),
    )
    s.tx.execute("UPDATE outbox_notifications SET chat_id = 0 WHERE member_id = ?", (member_id,))
    if chat_id is not None:
        s.tx.execute("DELETE FROM outbox_chats WHERE chat_id = ?", (chat_id,))
    for note in s.tx.all(
        "SELECT id, payload FROM outbox_notifications WHERE payload LIKE ?", (f"%{member_id}%",)
    ):
        payload = json.loads(note["payload"])
        if _forget_actor(payload, member_id):
            s.tx.execute(
                "UPDATE outbox_notifications SET payload = ? WHERE id = ?",
                (json.dumps(payload, sort_keys=True, ensure_ascii=False), note["id"]),
            )


def _forget_actor(value: Any, member_id: str) -> bool:
    """Blank the actor's name wherever ``actor_id`` is the member (nested: digests)."""
    changed = False
    if isinstance(value, dict):
        if value.get("actor_id") == member_id and value.get("actor") is not None:
            value["actor"] = None
            changed = True
        for item in value.values():
            changed = _forget_actor(item, member_id) or changed
    elif isinstance(value, list):
        for item in value:
            changed = _forget_actor(item, member_id) or changed
    return changed


@on("Region.Registered")
def _region_registered(s: Step) -> None:
    s.tx.execute(
        "INSERT INTO outbox_regions (region_id, name) VALUES (?, ?)"
        " ON CONFLICT (region_id) DO NOTHING",
        (uid(s.event.originator_id), s.event.name),
    )


@on("Twinning.Formed")
def _twinning_formed(s: Step) -> None:
    s.tx.execute(
        "INSERT INTO outbox_twinnings VALUES (?, ?, ?, 'formed') ON CONFLICT DO NOTHING",
        (uid(s.event.originator_id), uid(s.event.first_region_id), uid(s.event.second_region_id)),
    )


def _twinning_status(s: Step, status: str) -> dict[str, Any] | None:
    twinning_id = uid(s.event.originator_id)
    assert twinning_id is not None
    s.tx.execute(
        "UPDATE outbox_twinnings SET status = ? WHERE twinning_id = ?", (status, twinning_id)
    )
    return s.twinning(twinning_id)


@on("Twinning.Started")
def _twinning_started(s: Step) -> None:
    twinning = _twinning_status(s, "running")
    s.notify(
        s.office(),
        "twinnings",
        "twinning_started",
        {"twinning": s.twinning_label(twinning), "twinning_id": uid(s.event.originator_id)},
        twinning_id=uid(s.event.originator_id),
    )


@on("Twinning.Completed")
def _twinning_completed(s: Step) -> None:
    twinning = _twinning_status(s, "completed")
    s.notify(
        s.office(),
        "twinnings",
        "twinning_completed",
        {"twinning": s.twinning_label(twinning), "twinning_id": uid(s.event.originator_id)},
        twinning_id=uid(s.event.originator_id),
    )


@on("Twinning.Cancelled")
def _twinning_cancelled(s: Step) -> None:
    _twinning_status(s, "cancelled")


# --- measures -------------------------------------------------------------------------


@on("Measure.Proposed")
def _measure_proposed(s: Step) -> None:
    measure_id = uid(s.event.originator_id)
    s.tx.execute(
        "INSERT INTO outbox_measures VALUES (?, ?, ?, ?, 'proposed') ON CONFLICT DO NOTHING",
        (measure_id, uid(s.event.region_id), s.event.code, s.event.title),
    )
    advice_id = uid(getattr(s.event, "advice_id", None))
    if advice_id is None:
        return
    advice = s.tx.one("SELECT * FROM outbox_advice WHERE advice_id = ?", (advice_id,))
    if advice is None or not advice["adoption"]:
        return
    # Adopted into this new measure: the adoption was recorded just before it.
    adoption = json.loads(advice["adoption"])
    s.tx.execute("UPDATE outbox_advice SET adoption = NULL WHERE advice_id = ?", (advice_id,))
    _advice_adopted_into(s, advice, measure_id or "", adoption)


@on("Measure.StatusChanged")
def _measure_status_changed(s: Step) -> None:
    measure_id = uid(s.event.originator_id)
    measure = s.tx.one("SELECT * FROM outbox_measures WHERE measure_id = ?", (measure_id,))
    if measure is None:
        return
    new_status = text(s.event.status)
    s.tx.execute(
        "UPDATE outbox_measures SET status = ? WHERE measure_id = ?", (new_status, measure_id)
    )
    item = {
        "measure_id": measure_id,
        "code": measure["code"],
        "title": measure["title"],
        "region": s.region_name(measure["region_id"]),
        "old_status": measure["status"],
        "new_status": new_status,
    }
    if new_status == "implemented":
        twinnings = s.tx.all(
            "SELECT * FROM outbox_twinnings WHERE (first_region_id = ? OR second_region_id = ?)"
            " AND status IN ('formed', 'running') ORDER BY twinning_id",
            (measure["region_id"], measure["region_id"]),
        )
        for twinning in twinnings:
            partner = (
                twinning["second_region_id"]
                if twinning["first_region_id"] == measure["region_id"]
                else twinning["first_region_id"]
            )
            s.notify(
                s.region_members(partner),
                "measures",
                "measure_implemented",
                {**item, "twinning_id": twinning["twinning_id"]},
                twinning_id=twinning["twinning_id"],
            )
    s.notify(
        s.region_members(measure["region_id"], role="coordinator"),
        "measures",
        "measure_status_changed",
        item,
    )


# --- advice ---------------------------------------------------------------------------


@on("AdviceRequest.Requested")
def _advice_requested(s: Step) -> None:
    twinning_id = uid(s.event.twinning_id)
    s.notify(
        s.region_members(uid(s.event.to_region_id)),
        "advice",
        "advice_requested",
        {
            "topic": text(s.event.topic),
            "question": excerpt(s.event.question),
            "region": s.region_name(uid(s.event.from_region_id)),
            "twinning_id": twinning_id,
        },
        twinning_id=twinning_id,
    )


@on("Advice.Given")
def _advice_given(s: Step) -> None:
    advice_id = uid(s.event.originator_id)
    twinning_id = uid(s.event.twinning_id)
    s.tx.execute(
        "INSERT INTO outbox_advice (advice_id, twinning_id, from_region_id, to_region_id, topic)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        (
            advice_id,
            twinning_id,
            uid(s.event.from_region_id),
            uid(s.event.to_region_id),
            text(s.event.topic),
        ),
    )
    s.notify(
        s.region_members(uid(s.event.to_region_id)),
        "advice",
        "advice_given",
        {
            "topic": text(s.event.topic),
            "text": excerpt(s.event.text),
            "region": s.region_name(uid(s.event.from_region_id)),
            "answers_question": s.event.request_id is not None,
            "twinning_id": twinning_id,
        },
        twinning_id=twinning_id,
    )


def _advice_adopted_into(
    s: Step, advice: dict[str, Any], measure_id: str, adoption: dict[str, Any]
) -> None:
    measure = s.tx.one("SELECT * FROM outbox_measures WHERE measure_id = ?", (measure_id,))
    s.notify(
        s.region_members(advice["from_region_id"]),
        "advice",
        "advice_adopted",
        {
            "topic": advice["topic"],
            "measure_id": measure_id,
            "code": None if measure is None else measure["code"],
            "title": None if measure is None else measure["title"],
            "region": s.region_name(advice["to_region_id"]),
            "twinning_id": advice["twinning_id"],
        },
        twinning_id=advice["twinning_id"],
        actor=adoption["actor"],
        position=int(adoption["position"]),
        at=s.event.timestamp,
    )


@on("Advice.Adopted")
def _advice_adopted(s: Step) -> None:
    advice_id = uid(s.event.originator_id)
    advice = s.tx.one("SELECT * FROM outbox_advice WHERE advice_id = ?", (advice_id,))
    if advice is None:
        return
    measure_id = uid(s.event.measure_id) or ""
    adoption = {"actor": s.actor, "position": s.position}
    known = s.tx.one("SELECT 1 AS known FROM outbox_measures WHERE measure_id = ?", (measure_id,))
    if known is None:  # a new measure: its Proposed event follows in the same command
        s.tx.execute(
            "UPDATE outbox_advice SET adoption = ? WHERE advice_id = ?",
            (json.dumps(adoption), advice_id),
        )
        return
    _advice_adopted_into(s, advice, measure_id, adoption)


@on("Advice.Declined")
def _advice_declined(s: Step) -> None:
    advice = s.tx.one(
        "SELECT * FROM outbox_advice WHERE advice_id = ?", (uid(s.event.originator_id),)
    )
    if advice is None:
        return
    s.notify(
        s.region_members(advice["from_region_id"]),
        "advice",
        "advice_declined",
        {
            "topic": advice["topic"],
            "reason": excerpt(s.event.reason),
            "region": s.region_name(advice["to_region_id"]),
            "twinning_id": advice["twinning_id"],
        },
        twinning_id=advice["twinning_id"],
    )


# --- exchanges ------------------------------------------------------------------------


@on("Exchange.Recorded")
def _exchange_recorded(s: Step) -> None:
    twinning_id = uid(s.event.twinning_id) or ""
    s.tx.execute(
        "INSERT INTO outbox_exchanges VALUES (?, ?) ON CONFLICT DO NOTHING",
        (uid(s.event.originator_id), twinning_id),
    )
    twinning = s.twinning(twinning_id)
    if twinning is None:
        return
    own = s.actor_region()
    partners = [
        region
        for region in (twinning["first_region_id"], twinning["second_region_id"])
        if region != own
    ]
    payload = {
        "exchange_kind": text(s.event.kind),
        "held_on": day(s.event.held_on),
        "place": excerpt(s.event.place, 100),
        "summary": excerpt(s.event.summary),
        "twinning": s.twinning_label(twinning),
        "twinning_id": twinning_id,
    }
    for region in partners:
        s.notify(
            s.region_members(region),
            "exchanges",
            "exchange_recorded",
            payload,
            twinning_id=twinning_id,
        )


@on("Exchange.FollowUpAgreed")
def _follow_up_agreed(s: Step) -> None:
    exchange = s.tx.one(
        "SELECT twinning_id FROM outbox_exchanges WHERE exchange_id = ?",
        (uid(s.event.originator_id),),
    )
    twinning_id = None if exchange is None else exchange["twinning_id"]
    owner_member = uid(s.event.owner_member_id)
    owner_region = uid(s.event.owner_region_id)
    if owner_member is not None:
        recipients = s.store.recipients(s.tx, member_id=owner_member)
    elif owner_region is not None and owner_region != s.actor_region():
        recipients = s.region_members(owner_region)
    else:
        return
    s.notify(
        recipients,
        "follow_ups",
        "follow_up_agreed",
        {
            "text": excerpt(s.event.text),
            "due_on": day(s.event.due_on),
            "twinning": s.twinning_label(s.twinning(twinning_id) if twinning_id else None),
            "twinning_id": twinning_id,
        },
        twinning_id=twinning_id,
    )


# --- notification settings --------------------------------------------------------------


def _settings_member(s: Step) -> str:
    row = s.tx.one(
        "SELECT member_id FROM outbox_settings WHERE settings_id = ?",
        (uid(s.event.originator_id),),
    )
    assert row is not None, "settings changed before they were opened"
    return str(row["member_id"])


@on("NotificationSettings.Opened")
def _settings_opened(s: Step) -> None:
    s.tx.execute(
        "INSERT INTO outbox_settings (member_id, settings_id, holiday_until, digest, digest_time,"
        " timezone) VALUES (?, ?, NULL, 'off', '08:00', NULL) ON CONFLICT DO NOTHING",
        (uid(s.event.member_id), uid(s.event.originator_id)),
    )


@on("NotificationSettings.KindMuted")
def _kind_muted(s: Step) -> None:
    s.tx.execute(
        "INSERT INTO outbox_mutes VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
        (_settings_member(s), text(s.event.kind), uid(s.event.twinning_id) or ""),
    )


@on("NotificationSettings.KindUnmuted")
def _kind_unmuted(s: Step) -> None:
    s.tx.execute(
        "DELETE FROM outbox_mutes WHERE member_id = ? AND kind = ? AND twinning_id = ?",
        (_settings_member(s), text(s.event.kind), uid(s.event.twinning_id) or ""),
    )


@on("NotificationSettings.HolidayTaken")
def _holiday_taken(s: Step) -> None:
    s.tx.execute(
        "UPDATE outbox_settings SET holiday_until = ? WHERE member_id = ?",
        (day(s.event.until), _settings_member(s)),
    )


@on("NotificationSettings.HolidayEnded")
def _holiday_ended(s: Step) -> None:
    s.tx.execute(
        "UPDATE outbox_settings SET holiday_until = NULL WHERE member_id = ?",
        (_settings_member(s),),
    )


@on("NotificationSettings.DigestChosen")
def _digest_chosen(s: Step) -> None:
    member_id = _settings_member(s)
    mode = text(s.event.mode)
    s.tx.execute("UPDATE outbox_settings SET digest = ? WHERE member_id = ?", (mode, member_id))
    if mode != "off":
        return
    # Back to single messages: what the digest collected goes out now, as one digest.
    recipients = s.store.recipients(s.tx, member_id=member_id)
    if not recipients or not s.emit:
        s.tx.execute(
            "UPDATE outbox_notifications SET state = 'digested' WHERE member_id = ?"
            " AND state = 'digest'",
            (member_id,),
        )
        return
    added = s.store.collect_digest(
        s.tx,
        NewNotification(
            dedupe_key=f"digest:{member_id}:final:{s.position}",
            recipient=recipients[0],
            kind="digest",
            template="digest",
            payload={"period": "final", "until": instant(s.event.timestamp)},
            created_at=s.event.timestamp,
        ),
    )
    if added is not None:
        s.added += 1


@on("NotificationSettings.DigestTimeChosen")
def _digest_time_chosen(s: Step) -> None:
    s.tx.execute(
        "UPDATE outbox_settings SET digest_time = ?, timezone = ? WHERE member_id = ?",
        (s.event.at, s.event.timezone, _settings_member(s)),
    )


__all__ = ["BUSINESS_TIMEZONE", "OutboxProjection", "apply_log"]
