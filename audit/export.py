"""The export for auditors: the complete log as JSON Lines, the read models as CSV and XLSX.

Everything streams. The log is read in pages and written line by line
(:func:`log_lines` is a generator); the tables are read row by row from read models
rebuilt for exactly the exported log (up to the same position) in a temporary folder,
and written with csv and openpyxl's write-only workbook. Memory stays flat however
long the log.

A folder holds::

    events.jsonl        one event per line (format: audit/records.py)
    measures.csv, exchanges.csv, advice.csv, advice_requests.csv, follow_ups.csv,
    members.csv, rates.csv
                        the read models for spreadsheets (UTF-8, comma separated)
    tables.xlsx         the same tables, one sheet each
    manifest.json       the log's head (position and chain hash), every file's SHA-256
    verify_export.py    the stand-alone verifier (Python's standard library only)

Personal data: in ``events.jsonl`` members' names and Telegram ids exist only sealed
(``personal``: ``{"subject", "sealed"}``, see ``domain/personal_data.py``), for everyone:
the log's bytes are what the chain covers, so they cannot carry clear names. Auditors
see who acted by name in the tables (``members.csv``, follow-up owners), built from the
read models: names of members not erased, blank for those erased (``erased_at`` says
when). An export is a copy: erasing a member later does not reach it.

Encryption at rest (``REGIOTWIN_CIPHER_KEY``): each line's ``state`` stays the stored
ciphertext, which the chain covers, and its ``data`` (with ``recorded_at``, ``actor``,
``command_id``) is decoded with the key; such lines, and the manifest, say
``"encrypted": true``. ``verify_export.py`` checks their chain but cannot check their
decoded fields (it reports how many it left unchecked); ``python run_bot.py verify --file``
with the key checks everything.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import json
import shutil
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from openpyxl import Workbook

from audit.as_of import replayed
from audit.records import FORMAT, dump_line, encrypted_at_rest, line_of, plain_of
from domain.application import RegioTwinApplication
from projections import log as event_log
from projections import queries

LOG_FILE = "events.jsonl"
XLSX_FILE = "tables.xlsx"
MANIFEST_FILE = "manifest.json"
VERIFIER = Path(__file__).resolve().parent.parent / "tools" / "verify_export.py"


# --- the log ---------------------------------------------------------------------------


@dataclass
class LogSummary:
    events: int = 0
    head_position: int = 0
    head_hash: str | None = None
    """The stored hash of the last exported event."""


def log_lines(
    log: RegioTwinApplication, until: int | None = None, summary: LogSummary | None = None
) -> Iterator[str]:
    """The export's lines, one per stored event in log order, up to position ``until``."""
    plain = plain_of(log)
    for event in log.recorder.chained_events():  # type: ignore[attr-defined]
        if until is not None and event.position > until:
            return
        if summary is not None:
            summary.events += 1
            summary.head_position = event.position
            summary.head_hash = event.stored_hash
        yield dump_line(line_of(event, plain))


def write_log(log: RegioTwinApplication, out: IO[str], until: int | None = None) -> LogSummary:
    summary = LogSummary()
    for line in log_lines(log, until, summary):
        out.write(line)
    return summary


# --- the tables ------------------------------------------------------------------------


def _twinning_name(alias: str) -> str:
    return (
        f"(SELECT coalesce(f.name, '?') || ' – ' || coalesce(s.name, '?') FROM twinnings t "
        f"LEFT JOIN regions f ON f.region_id = t.first_region_id "
        f"LEFT JOIN regions s ON s.region_id = t.second_region_id "
        f"WHERE t.twinning_id = {alias}.twinning_id)"
    )


def _region_name(column: str) -> str:
    return f"(SELECT name FROM regions WHERE region_id = {column})"


def _measure_code(column: str) -> str:
    return f"(SELECT code FROM catalogue_measures WHERE measure_id = {column})"


SQL_TABLES: dict[str, str] = {
    "measures": (
        "SELECT r.key AS region_key, r.name AS region, m.code, m.title, m.topic, "
        "m.responsible, m.status, m.progress, m.due_on, "
        "m.expected_co2_t_per_year AS expected_co2_t_per_year, m.description, "
        "m.proposed_at, m.changed_at, m.version, m.measure_id "
        "FROM catalogue_measures m LEFT JOIN regions r ON r.region_id = m.region_id "
        "ORDER BY r.name, m.code, m.measure_id"
    ),
    "exchanges": (
        f"SELECT {_twinning_name('e')} AS twinning, e.held_on, e.kind, e.place, "
        "e.participants, e.topics, e.summary, e.recorded_at, e.exchange_id, e.twinning_id "
        "FROM exchanges e ORDER BY e.held_on, e.recorded_at, e.exchange_id"
    ),
    "advice": (
        f"SELECT {_twinning_name('a')} AS twinning, "
        f"{_region_name('a.from_region_id')} AS from_region, "
        f"{_region_name('a.to_region_id')} AS to_region, a.topic, a.status, "
        "(SELECT json_extract(details, '$.text') FROM timeline_entries "
        " WHERE aggregate_id = a.advice_id AND version = 1) AS text, "
        f"{_measure_code('a.measure_id')} AS on_measure, "
        f"{_measure_code('a.adopted_measure_id')} AS adopted_into, "
        "a.decline_reason, a.given_at, a.decided_at, a.request_id, a.advice_id "
        "FROM advice a ORDER BY a.given_at, a.advice_id"
    ),
    "advice_requests": (
        f"SELECT {_twinning_name('q')} AS twinning, "
        f"{_region_name('q.from_region_id')} AS from_region, "
        f"{_region_name('q.to_region_id')} AS to_region, q.topic, "
        f"{_measure_code('q.measure_id')} AS on_measure, q.question, q.requested_at, "
        "q.answers, q.request_id "
        "FROM advice_requests q ORDER BY q.requested_at, q.request_id"
    ),
    "follow_ups": (
        f"SELECT {_twinning_name('u')} AS twinning, "
        "(SELECT held_on FROM exchanges x WHERE x.exchange_id = u.exchange_id) "
        "AS exchange_held_on, u.number, u.text, "
        "coalesce(" + _region_name("u.owner_region_id") + ", "
        "(SELECT name FROM members WHERE member_id = u.owner_member_id)) AS owner, "
        "u.due_on, CASE u.done WHEN 1 THEN 'yes' ELSE 'no' END AS done, u.done_at, "
        "u.exchange_id "
        "FROM follow_ups u ORDER BY u.due_on, u.exchange_id, u.number"
    ),
    "members": (
        "SELECT r.key AS region_key, r.name AS region, m.role, m.name, m.status, "
        "m.invited_at, m.joined_at, m.removed_at, m.erased_at, m.member_id "
        "FROM members m LEFT JOIN regions r ON r.region_id = m.region_id "
        "ORDER BY m.invited_at, m.member_id"
    ),
}
TABLES = (*SQL_TABLES, "rates")
RATE_COLUMNS = (
    "region_key",
    "region",
    "month",
    "as_of",
    "implemented",
    "counted",
    "rate",
    "weighted_rate",
)
LISTS = ("participants", "topics")
"""Columns stored as JSON lists: written as ``a; b`` for spreadsheets."""


def _cell(column: str, value: Any) -> Any:
    if column in LISTS and isinstance(value, str) and value.startswith("["):
        return "; ".join(str(item) for item in json.loads(value))
    return value


def sql_rows(db: sqlite3.Connection, table: str) -> tuple[list[str], Iterator[tuple[Any, ...]]]:
    cursor = db.execute(SQL_TABLES[table])
    columns = [d[0] for d in cursor.description]

    def rows() -> Iterator[tuple[Any, ...]]:
        for row in cursor:
            yield tuple(_cell(column, value) for column, value in zip(columns, row, strict=True))

    return columns, rows()


async def _rate_rows(path: Path, today: date) -> AsyncIterator[list[tuple[Any, ...]]]:
    """One region's rows at a time, regions by name: memory does not grow with the log."""
    async with queries.connect(path) as db:
        async with db.execute(
            "SELECT DISTINCT region_id FROM (SELECT first_region_id AS region_id FROM twinnings "
            "UNION SELECT second_region_id FROM twinnings)"
        ) as cursor:
            region_ids = [row[0] for row in await cursor.fetchall()]
        regions = [await queries.region_ref(db, rid) for rid in region_ids]
        regions.sort(key=lambda region: (region.name, region.region_id.hex))
        for region in regions:
            status = await queries.region_status(db, region.region_id, today)
            if not any(point.rate.counted for point in status.monthly):
                continue  # a region without measures has no rate in any month
            yield [
                (
                    status.region.key,
                    status.region.name,
                    point.month,
                    point.as_of.isoformat(),
                    point.rate.implemented,
                    point.rate.counted,
                    None if point.rate.value is None else round(point.rate.value, 4),
                    None if point.rate.weighted is None else round(point.rate.weighted, 4),
                )
                for point in status.monthly
            ]


def rate_rows(path: Path, today: date) -> Iterator[tuple[Any, ...]]:
    """Each twinned region's monthly implementation rate (regions with measures), streamed."""
    loop = asyncio.new_event_loop()
    regions = _rate_rows(path, today)
    try:
        while True:
            try:
                rows = loop.run_until_complete(anext(regions))
            except StopAsyncIteration:
                return
            yield from rows
    finally:
        loop.run_until_complete(regions.aclose())
        loop.close()


def table_rows(
    path: Path, today: date
) -> Iterator[tuple[str, list[str], Iterator[tuple[Any, ...]]]]:
    """(table, header, rows) for every exported table, rows streamed."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        for table in SQL_TABLES:
            header, rows = sql_rows(db, table)
            yield table, header, rows
    finally:
        db.close()
    yield "rates", list(RATE_COLUMNS), rate_rows(path, today)


def _xlsx_value(column: str, value: Any) -> Any:
    if isinstance(value, str) and (column.endswith("_on") or column == "as_of"):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return value
    return value


@dataclass
class TableFiles:
    rows: dict[str, int] = field(default_factory=dict)


def write_tables(path: Path, folder: Path, today: date) -> TableFiles:
    """CSV per table and one XLSX workbook (write-only: rows go straight to disk)."""
    result = TableFiles()
    workbook = Workbook(write_only=True)
    for table, header, rows in table_rows(path, today):
        sheet = workbook.create_sheet(title=table)
        sheet.append(header)
        count = 0
        with (folder / f"{table}.csv").open("w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(header)
            for row in rows:
                writer.writerow(["" if value is None else value for value in row])
                sheet.append(
                    [_xlsx_value(column, value) for column, value in zip(header, row, strict=True)]
                )
                count += 1
        result.rows[table] = count
    workbook.save(folder / XLSX_FILE)
    return result


# --- everything ------------------------------------------------------------------------


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class ExportResult:
    folder: Path
    log: LogSummary
    files: tuple[Path, ...]
    rows: dict[str, int]

    @property
    def log_file(self) -> Path:
        return self.folder / LOG_FILE


def export(
    log: RegioTwinApplication,
    folder: Path,
    today: date,
    *,
    until: int | None = None,
    exported_at: datetime | None = None,
    on_progress: Callable[[str], None] | None = None,
) -> ExportResult:
    """Write the log (up to ``until``, default its head now) and its read models."""
    folder.mkdir(parents=True, exist_ok=True)
    until = event_log.head(log) if until is None else until
    progress = on_progress or (lambda _step: None)
    progress("log")
    with (folder / LOG_FILE).open("w", encoding="utf-8", newline="\n") as out:
        summary = write_log(log, out, until)
    progress("tables")
    with replayed(log, until=summary.head_position) as models:
        tables = write_tables(models.path, folder, today)
    files: list[Path] = [folder / LOG_FILE]
    files += [folder / f"{table}.csv" for table in TABLES]
    files.append(folder / XLSX_FILE)
    if VERIFIER.exists():
        shutil.copyfile(VERIFIER, folder / VERIFIER.name)
        files.append(folder / VERIFIER.name)
    manifest = {
        "format": FORMAT,
        "exported_at": None if exported_at is None else exported_at.isoformat(),
        "as_of": today.isoformat(),
        "events": summary.events,
        "head_position": summary.head_position,
        "head_hash": summary.head_hash,
        "encrypted": encrypted_at_rest(log),
        "files": {
            path.name: {"bytes": path.stat().st_size, "sha256": file_sha256(path)} for path in files
        },
        "rows": tables.rows,
        "verify": f"python3 {VERIFIER.name} {LOG_FILE}",
    }
    if manifest["encrypted"]:
        manifest["verify_with_key"] = f"python run_bot.py verify --file {LOG_FILE}"
    (folder / MANIFEST_FILE).write_text(
        json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    files.append(folder / MANIFEST_FILE)
    return ExportResult(folder, summary, tuple(files), tables.rows)


def file_names(result: ExportResult) -> Sequence[str]:
    return [path.name for path in result.files]
