"""Reminders, digests and the weekly summary: computed on a periodic tick.

Every minute (``run``), with the injectable clock, :meth:`Reminders.tick` reads the read
models and the outbox's members and enqueues into the outbox:

* **reminders** – a follow-up due tomorrow, or overdue; a question or advice unanswered
  for 7 days; a measure ``in_progress`` without a progress report for 30 days; a goal
  whose target year has come without it being achieved. Per person and item: the first
  reminder on day 1 of the condition, then day 7, then every 30 days (37, 67, …); never
  two reminders of one kind to one person within 5 days (items due meanwhile wait and
  come together in the next one). Reminders go out from 08:00 in the member's time zone.
* **digests** – for members who chose ``/digest daily|weekly``: what was collected for
  them, as one message, daily or on Mondays at their digest time (08:00 by default).
* **weekly summaries** – per running twinning, Mondays at the recipient's digest time
  (Europe/Berlin 08:00 by default, correct across daylight-saving changes): to the
  programme office and to members with a weekly digest (a bot that was down then sends
  it when back, up to a day late).

Everything enqueued has a deterministic key (``reminder:{kind}:{member}:{day}``,
``summary:{twinning}:{week}:{member}`` …) under a UNIQUE constraint, and the throttle's
state lives in the outbox in the same transaction, so a restart (or a second instance)
never sends anything twice.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from domain.clock import Clock
from projections.encoding import instant
from projections.outbox import (
    MemberSettings,
    NewNotification,
    OutboxStore,
    Recipient,
    Transaction,
    parse_instant,
    route,
)

log = logging.getLogger("regiotwin.reminders")

REMINDER_TIME = time(8, 0)
"""Reminders are not sent before this local time."""
QUIET_DAYS = 5
"""Never two reminders of one kind to one person within this many days."""
SUMMARY_CATCH_UP = timedelta(days=1)
"""A bot that was down on Monday morning sends the week's summary when it is back, up to a
day late; later it waits for the next Monday (last week's figures would be stale)."""
ADVICE_WAIT = 7
STALE_MEASURE = 30


def reminders_due_by(day_number: int) -> int:
    """How many reminders are due by day ``day_number`` of a condition (day 1 = its first
    day): on day 1, day 7, then every 30 days (37, 67, …)."""
    if day_number < 1:
        return 0
    if day_number < 7:
        return 1
    return 2 + (day_number - 7) // 30


@dataclass(frozen=True)
class Subject:
    """Something a reminder is about, and who is to be reminded."""

    key: str
    kind: str
    since: date
    """Day 1 of the condition."""
    item: dict[str, Any]
    member_id: str | None = None
    region_id: str | None = None
    twinning_id: str | None = None
    once: bool = False
    """Only on day 1 (a follow-up "due tomorrow")."""


@dataclass
class Tally:
    added: int = 0
    kinds: dict[str, int] = field(default_factory=lambda: defaultdict(int))


class Reminders:
    def __init__(
        self,
        store: OutboxStore,
        read_model_path: Path | str,
        clock: Clock,
        *,
        timezone: str = "Europe/Berlin",
        on_added: Callable[[], None] | None = None,
    ) -> None:
        self.store = store
        self.read_model_path = Path(read_model_path)
        self.clock = clock
        self.zone = ZoneInfo(timezone)
        self.on_added = on_added

    async def run(self, interval: float = 60.0) -> None:
        """Tick every ``interval`` seconds until cancelled."""
        while True:
            try:
                added = await asyncio.to_thread(self.tick)
                if added and self.on_added is not None:
                    self.on_added()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("the reminder tick failed")
            await asyncio.sleep(interval)

    def tick(self) -> int:
        """Enqueue whatever is due now; returns how many notifications were added."""
        now = self.clock.now()
        members = self.store.active_members()
        tally = Tally()
        with self._read_models() as db:
            if db is None:
                return 0
            subjects = list(self._subjects(db))
            self._remind(subjects, members, now, tally)
            self._digests(members, now, tally)
            self._summaries(db, members, now, tally)
        return tally.added

    # --- reading the read models --------------------------------------------------------

    @contextmanager
    def _read_models(self) -> Iterator[sqlite3.Connection | None]:
        if not self.read_model_path.exists():
            yield None
            return
        db = sqlite3.connect(f"file:{self.read_model_path}?mode=ro", uri=True, timeout=10)
        db.row_factory = sqlite3.Row
        try:
            db.execute("SELECT 1 FROM twinnings LIMIT 1")
        except sqlite3.OperationalError:  # read models not built yet
            db.close()
            yield None
            return
        try:
            yield db
        finally:
            db.close()

    def _day(self, moment: str) -> date:
        return parse_instant(moment).astimezone(self.zone).date()

    def _subjects(self, db: sqlite3.Connection) -> Iterator[Subject]:
        names = {row["region_id"]: row["name"] for row in db.execute("SELECT * FROM regions")}
        twinnings = {
            row["twinning_id"]: row
            for row in db.execute("SELECT * FROM twinnings WHERE status IN ('formed', 'running')")
        }

        def label(twinning_id: str) -> str:
            row = twinnings[twinning_id]
            first, second = row["first_region_id"], row["second_region_id"]
            return f"{names.get(first, '')} – {names.get(second, '')}"

        for row in db.execute("SELECT * FROM follow_ups WHERE done = 0 ORDER BY due_on"):
            if row["twinning_id"] not in twinnings:
                continue
            due_on = date.fromisoformat(row["due_on"])
            item = {
                "text": row["text"],
                "due_on": row["due_on"],
                "twinning": label(row["twinning_id"]),
                "twinning_id": row["twinning_id"],
            }
            who = {"member_id": row["owner_member_id"], "region_id": row["owner_region_id"]}
            ref = f"{row['exchange_id']}:{row['number']}"
            yield Subject(
                f"fu-due:{ref}",
                "follow_up_due",
                due_on - timedelta(days=1),
                item,
                twinning_id=row["twinning_id"],
                once=True,
                **who,
            )
            yield Subject(
                f"fu-overdue:{ref}",
                "follow_up_overdue",
                due_on + timedelta(days=1),
                item,
                twinning_id=row["twinning_id"],
                **who,
            )

        for row in db.execute("SELECT * FROM advice_requests WHERE answers = 0"):
            if row["twinning_id"] not in twinnings:
                continue
            asked = self._day(row["requested_at"])
            yield Subject(
                f"question:{row['request_id']}",
                "advice_unanswered",
                asked + timedelta(days=ADVICE_WAIT),
                {
                    "what": "question",
                    "topic": row["topic"],
                    "region": names.get(row["from_region_id"]),
                    "since": asked.isoformat(),
                    "twinning_id": row["twinning_id"],
                },
                region_id=row["to_region_id"],
                twinning_id=row["twinning_id"],
            )
        for row in db.execute("SELECT * FROM advice WHERE status = 'given'"):
            if row["twinning_id"] not in twinnings:
                continue
            given = self._day(row["given_at"])
            yield Subject(
                f"advice:{row['advice_id']}",
                "advice_unanswered",
                given + timedelta(days=ADVICE_WAIT),
                {
                    "what": "advice",
                    "topic": row["topic"],
                    "region": names.get(row["from_region_id"]),
                    "since": given.isoformat(),
                    "twinning_id": row["twinning_id"],
                },
                region_id=row["to_region_id"],
                twinning_id=row["twinning_id"],
            )

        for row in db.execute(
            "SELECT m.measure_id, m.region_id, m.code, m.title, m.changed_at,"
            " (SELECT max(e.at) FROM timeline_index i"
            "  JOIN timeline_entries e ON e.position = i.position"
            "  WHERE i.subject_kind = 'measure' AND i.subject_id = m.measure_id"
            "  AND e.aggregate_id = m.measure_id"
            "  AND e.event_type IN ('Measure.ProgressReported', 'Measure.StatusChanged'))"
            " AS last_at FROM catalogue_measures m WHERE m.status = 'in_progress'"
        ):
            last = self._day(row["last_at"] or row["changed_at"])
            yield Subject(
                f"measure-stale:{row['measure_id']}:{last.isoformat()}",
                "measure_stale",
                last + timedelta(days=STALE_MEASURE),
                {
                    "code": row["code"],
                    "title": row["title"],
                    "last": last.isoformat(),
                    "measure_id": row["measure_id"],
                },
                region_id=row["region_id"],
            )

        for row in db.execute("SELECT * FROM goals WHERE status = 'active'"):
            yield Subject(
                f"goal:{row['goal_id']}:{row['target_year']}",
                "goal_due",
                date(int(row["target_year"]), 1, 1),
                {
                    "metric": row["metric"],
                    "value": row["target_value"],
                    "unit": row["unit"],
                    "year": str(row["target_year"]),
                },
                region_id=row["region_id"],
            )

    # --- reminders ----------------------------------------------------------------------

    @staticmethod
    def _recipients_of(
        subject: Subject, members: list[tuple[Recipient, MemberSettings]]
    ) -> list[tuple[Recipient, MemberSettings]]:
        if subject.member_id is not None:
            return [m for m in members if m[0].member_id == subject.member_id]
        region = [m for m in members if m[0].region_id == subject.region_id]
        coordinators = [m for m in region if m[0].role == "coordinator"]
        return coordinators or [m for m in region if m[0].role in ("staff", "admin")]

    def _remind(
        self,
        subjects: list[Subject],
        members: list[tuple[Recipient, MemberSettings]],
        now: datetime,
        tally: Tally,
    ) -> None:
        due: dict[tuple[str, str], list[Subject]] = defaultdict(list)
        people: dict[str, tuple[Recipient, MemberSettings]] = {}
        for subject in subjects:
            for recipient, settings in self._recipients_of(subject, members):
                local = now.astimezone(settings.zone(self.zone))
                if local.time() < REMINDER_TIME:
                    continue
                day_number = (local.date() - subject.since).days + 1
                if day_number < 1 or (subject.once and day_number != 1):
                    continue
                due[(recipient.member_id, subject.kind)].append(subject)
                people[recipient.member_id] = (recipient, settings)
        for (member_id, kind), candidates in sorted(due.items()):
            recipient, settings = people[member_id]
            today = now.astimezone(settings.zone(self.zone)).date()
            with self.store.db.transaction() as tx:
                if self._added_reminder(tx, recipient, kind, candidates, now, today):
                    tally.added += 1
                    tally.kinds[kind] += 1

    def _added_reminder(
        self,
        tx: Transaction,
        recipient: Recipient,
        kind: str,
        candidates: list[Subject],
        now: datetime,
        today: date,
    ) -> bool:
        member_id = recipient.member_id
        last_of_kind = tx.one(
            "SELECT last_sent_at FROM outbox_reminder_kinds WHERE member_id = ? AND kind = ?",
            (member_id, kind),
        )
        if last_of_kind is not None and parse_instant(last_of_kind["last_sent_at"]) > now - (
            timedelta(days=QUIET_DAYS)
        ):
            return False
        chosen: list[tuple[Subject, int]] = []
        for subject in candidates:
            progress = tx.one(
                "SELECT sent, last_sent_on FROM outbox_reminders WHERE subject = ?"
                " AND member_id = ?",
                (subject.key, member_id),
            )
            sent = 0 if progress is None else int(progress["sent"])
            day_number = (today - subject.since).days + 1
            if reminders_due_by(day_number) > sent:
                chosen.append((subject, reminders_due_by(day_number)))
        if not chosen:
            return False
        twinnings = {subject.twinning_id for subject, _ in chosen}
        twinning_id = twinnings.pop() if len(twinnings) == 1 else None
        settings = self.store.settings_of(tx, member_id)
        muted = settings.is_muted("reminders", twinning_id)
        if not muted and route(settings, "reminders", twinning_id, now, self.zone) is None:
            return False  # on holiday: the reminder comes when they are back
        added = (
            None
            if muted
            else self.store.insert(
                tx,
                NewNotification(
                    dedupe_key=f"reminder:{kind}:{member_id}:{today.isoformat()}",
                    recipient=recipient,
                    kind="reminders",
                    template="reminder",
                    payload={
                        "reminder": kind,
                        "items": [
                            {**subject.item, "subject": subject.key} for subject, _ in chosen
                        ],
                    },
                    created_at=now,
                    twinning_id=twinning_id,
                ),
                route(settings, "reminders", twinning_id, now, self.zone) or "pending",
            )
        )
        # Muted reminders move on silently, so that unmuting brings no backlog.
        for subject, due_count in chosen:
            tx.execute(
                "INSERT INTO outbox_reminders (subject, member_id, sent, last_sent_on)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (subject, member_id) DO UPDATE SET"
                " sent = excluded.sent, last_sent_on = excluded.last_sent_on",
                (subject.key, member_id, due_count, today.isoformat()),
            )
        if added is None:
            return False
        tx.execute(
            "INSERT INTO outbox_reminder_kinds (member_id, kind, last_sent_at) VALUES (?, ?, ?)"
            " ON CONFLICT (member_id, kind) DO UPDATE SET last_sent_at = excluded.last_sent_at",
            (member_id, kind, instant(now)),
        )
        return True

    # --- digests and summaries ------------------------------------------------------------

    def _moment(
        self, settings: MemberSettings, now: datetime, weekly: bool
    ) -> tuple[str, datetime]:
        """The current period (a day, or an ISO week) and when its delivery is due, in
        the member's time zone at their digest time (zoneinfo keeps it right across
        daylight-saving changes)."""
        zone = settings.zone(self.zone)
        local_day = now.astimezone(zone).date()
        hours, minutes = (int(part) for part in settings.digest_time.split(":"))
        if weekly:
            monday = local_day - timedelta(days=local_day.weekday())
            year, week, _ = monday.isocalendar()
            return f"{year}-W{week:02d}", datetime.combine(monday, time(hours, minutes), zone)
        return local_day.isoformat(), datetime.combine(local_day, time(hours, minutes), zone)

    @staticmethod
    def _claim_period(tx: Transaction, key: str, now: datetime) -> bool:
        row = tx.one(
            "INSERT INTO outbox_periods (key, done_at) VALUES (?, ?)"
            " ON CONFLICT (key) DO NOTHING RETURNING key",
            (key, instant(now)),
        )
        return row is not None

    def _digests(
        self, members: list[tuple[Recipient, MemberSettings]], now: datetime, tally: Tally
    ) -> None:
        for recipient, settings in members:
            if settings.digest not in ("daily", "weekly"):
                continue
            period, due_at = self._moment(settings, now, settings.digest == "weekly")
            if now < due_at:
                continue
            with self.store.db.transaction() as tx:
                if not self._claim_period(tx, f"digest:{recipient.member_id}:{period}", now):
                    continue
                if route(settings, "digest", None, now, self.zone) is None:
                    continue  # on holiday: what was collected waits for the next digest
                added = self.store.collect_digest(
                    tx,
                    NewNotification(
                        dedupe_key=f"digest:{recipient.member_id}:{period}",
                        recipient=recipient,
                        kind="digest",
                        template="digest",
                        payload={"period": period},
                        created_at=now,
                    ),
                    before=due_at,
                )
                if added is not None:
                    tally.added += 1
                    tally.kinds["digest"] += 1

    def _summaries(
        self,
        db: sqlite3.Connection,
        members: list[tuple[Recipient, MemberSettings]],
        now: datetime,
        tally: Tally,
    ) -> None:
        running = db.execute(
            "SELECT * FROM twinnings WHERE status = 'running' ORDER BY twinning_id"
        ).fetchall()
        if not running:
            return
        for recipient, settings in members:
            if recipient.region_id is not None and settings.digest != "weekly":
                continue
            week, due_at = self._moment(settings, now, weekly=True)
            if not due_at <= now < due_at + SUMMARY_CATCH_UP:
                continue
            theirs = [
                row
                for row in running
                if recipient.region_id is None
                or recipient.region_id in (row["first_region_id"], row["second_region_id"])
            ]
            with self.store.db.transaction() as tx:
                if not self._claim_period(tx, f"summary:{recipient.member_id}:{week}", now):
                    continue
                for row in theirs:
                    payload = self._summary(db, row, due_at, settings)
                    added = self.store.deliver(
                        tx,
                        NewNotification(
                            dedupe_key=f"summary:{row['twinning_id']}:{week}:{recipient.member_id}",
                            recipient=recipient,
                            kind="summaries",
                            template="weekly_summary",
                            payload=payload,
                            created_at=now,
                            twinning_id=row["twinning_id"],
                        ),
                        self.zone,
                    )
                    if added is not None:
                        tally.added += 1
                        tally.kinds["summaries"] += 1

    def _summary(
        self,
        db: sqlite3.Connection,
        twinning: sqlite3.Row,
        due_at: datetime,
        settings: MemberSettings,
    ) -> dict[str, Any]:
        """What each side did last week (Monday to Sunday), rates then and now, what is due."""
        zone = settings.zone(self.zone)
        monday = due_at.astimezone(zone).date()
        start_day = monday - timedelta(days=7)
        start = instant(datetime.combine(start_day, time(0, 0), zone))
        end = instant(datetime.combine(monday, time(0, 0), zone))
        twinning_id = twinning["twinning_id"]
        sides = (twinning["first_region_id"], twinning["second_region_id"])
        names = {
            row["region_id"]: row["name"]
            for row in db.execute(
                "SELECT region_id, name FROM regions WHERE region_id IN (?, ?)", sides
            )
        }
        did: dict[str, dict[str, int]] = {side: defaultdict(int) for side in sides}
        for row in db.execute(
            "SELECT e.event_type, e.details, m.region_id AS actor_region"
            " FROM timeline_index i JOIN timeline_entries e ON e.position = i.position"
            " LEFT JOIN members m ON m.member_id = e.actor"
            " WHERE i.subject_kind = 'twinning' AND i.subject_id = ? AND e.at >= ? AND e.at < ?",
            (twinning_id, start, end),
        ):
            category = TWINNING_ACTIVITY.get(row["event_type"])
            if category and row["actor_region"] in did:
                did[row["actor_region"]][category] += 1
        for side in sides:
            for row in db.execute(
                "SELECT e.event_type, e.details FROM timeline_index i"
                " JOIN timeline_entries e ON e.position = i.position"
                " WHERE i.subject_kind = 'region' AND i.subject_id = ? AND e.at >= ? AND e.at < ?"
                " AND e.event_type IN ('Measure.StatusChanged', 'Measure.ProgressReported')",
                (side, start, end),
            ):
                if row["event_type"] == "Measure.ProgressReported":
                    did[side]["progress"] += 1
                elif json.loads(row["details"]).get("status") == "implemented":
                    did[side]["implemented"] += 1
        today = monday.isoformat()
        soon = (monday + timedelta(days=7)).isoformat()
        follow_ups = db.execute(
            "SELECT sum(CASE WHEN due_on < ? THEN 1 ELSE 0 END) AS overdue,"
            " sum(CASE WHEN due_on >= ? AND due_on <= ? THEN 1 ELSE 0 END) AS soon"
            " FROM follow_ups WHERE twinning_id = ? AND done = 0",
            (today, today, soon, twinning_id),
        ).fetchone()
        questions = db.execute(
            "SELECT count(*) FROM advice_requests WHERE twinning_id = ? AND answers = 0",
            (twinning_id,),
        ).fetchone()[0]
        undecided = db.execute(
            "SELECT count(*) FROM advice WHERE twinning_id = ?"
            " AND status IN ('given', 'acknowledged')",
            (twinning_id,),
        ).fetchone()[0]
        year, week, _ = monday.isocalendar()
        return {
            "twinning": f"{names.get(sides[0], '')} – {names.get(sides[1], '')}",
            "twinning_id": twinning_id,
            "week": f"{week}/{year}",
            "from": start_day.isoformat(),
            "to": (monday - timedelta(days=1)).isoformat(),
            "sides": [
                {
                    "region": names.get(side, ""),
                    "did": dict(did[side]),
                    "rate_then": _rate_before(db, side, start),
                    "rate_now": _rate_before(db, side, end),
                }
                for side in sides
            ],
            "due": {
                "follow_ups_soon": int(follow_ups["soon"] or 0),
                "follow_ups_overdue": int(follow_ups["overdue"] or 0),
                "questions_unanswered": int(questions),
                "advice_undecided": int(undecided),
            },
        }


TWINNING_ACTIVITY = {
    "Exchange.Recorded": "exchanges",
    "AdviceRequest.Requested": "questions",
    "Advice.Given": "advice_given",
    "Advice.Adopted": "advice_decided",
    "Advice.Declined": "advice_decided",
    "Exchange.FollowUpDone": "follow_ups_done",
}

STATUSES = ("proposed", "planned", "in_progress", "implemented", "discontinued")


def _rate_before(db: sqlite3.Connection, region_id: str, moment: str) -> list[int]:
    """[implemented, counted] of a region's measures recorded before ``moment``."""
    row = db.execute(
        "SELECT * FROM region_rate_history WHERE region_id = ? AND at < ?"
        " ORDER BY position DESC LIMIT 1",
        (region_id, moment),
    ).fetchone()
    if row is None:
        return [0, 0]
    counted = sum(int(row[status]) for status in STATUSES) - int(row["discontinued"])
    return [int(row["implemented"]), counted]
