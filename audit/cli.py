"""What ``python run_bot.py history|asof|export|verify|report|checkpoint`` call.

Each function takes the settings and a rich console (like :mod:`projections.cli`) and
exits with status 1 (``SystemExit(1)``) when it finds nothing, or a broken chain.
"""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from audit import answers
from audit.as_of import replayed
from audit.checkpoint import record_checkpoint
from audit.export import export as export_folder
from audit.history import HistoryEntry, Names, Subject, describe, names_for
from audit.history import history as history_page
from audit.records import plain_of
from audit.report import ChainBroken, find_issued, publish_reports
from audit.texts import translator
from audit.verify import Anchor, ChainVerdict, cipher_reader, verify_file, verify_store
from audit.views import View
from bot.acting import today as today_of
from bot.rendering import moment
from domain.audit import CHECKPOINT_ACTOR
from domain.clock import Clock, SystemClock
from domain.errors import DomainError
from domain.service import RegioTwin
from projections import queries
from projections.catch_up import catch_up
from projections.models import Page
from projections.registry import read_models
from projections.store import ReadModelStore
from settings import Settings


def _service(settings: Settings, clock: Clock | None) -> RegioTwin:
    return RegioTwin.from_env(settings.event_store_env, clock or SystemClock())


def _print_view(console: Console, view: View) -> None:
    console.print(Text(view.title, style="bold"))
    for line in view.lines:
        console.print(Text(line))


# --- history -------------------------------------------------------------------------------


def _caught_up_read_models(settings: Settings, service: RegioTwin) -> None:
    """The live read models, caught up with the log (as the bot does when it starts)."""
    with ReadModelStore(settings.read_model_path) as store:
        projections = read_models(store)
        for projection in projections:
            projection.ensure_schema()
        catch_up(service.app, projections)


def history(
    settings: Settings,
    console: Console,
    ref: str,
    *,
    page: int = 1,
    per_page: int = 20,
    language: str = "en",
    clock: Clock | None = None,
) -> None:
    """Every event of a measure (``LKM-07``, ``09184/LKM-07``), a twinning (a partner's key
    or slug, or ``09184+05566``), a region, or a member (name or id), newest first."""
    service = _service(settings, clock)
    try:
        _caught_up_read_models(settings, service)
    finally:
        service.close()
    t = translator(language)

    async def ask() -> tuple[list[Subject], list[tuple[Subject, Page[HistoryEntry], Names]]]:
        async with queries.connect(settings.read_model_path) as db:
            subjects = await answers.history_subject(db, ref, None) if ref.strip() else []
            pages = []
            for subject in subjects[:1]:
                found = await history_page(db, subject, page, per_page)
                pages.append((subject, found, await names_for(db, found.items)))
            return subjects, pages

    try:
        subjects, pages = asyncio.run(ask())
    except DomainError as error:
        console.print(Text(f"Nothing found for {ref!r} ({error.code}).", style="red"))
        raise SystemExit(1) from None
    if len(subjects) > 1:
        console.print(Text(f"{ref!r} is ambiguous; showing the first of:", style="yellow"))
        for subject in subjects:
            console.print(Text(f"  {subject.kind} {subject.label} ({subject.id.hex})"))
    for subject, found, names in pages:
        table = Table(
            title=f"History of {subject.kind} {subject.label}",
            caption=f"page {found.page} of {found.pages}, {found.total} events, newest first",
        )
        for column in ("#", "recorded (Berlin)", "by", "what"):
            table.add_column(column)
        for entry in found.items:
            table.add_row(
                str(entry.position),
                moment(entry.at, language),
                Text(names.actor(entry.actor, entry.actor_name, t)),
                Text(describe(entry, names, t, language)),
            )
        console.print(table)


# --- as of a date --------------------------------------------------------------------------


def asof(
    settings: Settings,
    console: Console,
    day: date,
    what: str = "status",
    ref: str | None = None,
    *,
    language: str = "en",
    clock: Clock | None = None,
) -> None:
    """The status (programme overview, or a region's with ``ref``), the measures or the
    twinnings as known at the end of ``day``, from read models replayed in a temporary
    folder (the live read models are untouched)."""
    if what not in answers.WHAT:
        console.print(Text(f"Choose one of: {', '.join(answers.WHAT)}", style="red"))
        raise SystemExit(1)
    service = _service(settings, clock)
    t = translator(language)
    try:
        if day > today_of(service.clock):
            console.print(Text(f"{day} lies in the future.", style="red"))
            raise SystemExit(1)
        with replayed(service.app, day=day) as models:

            async def ask() -> list[View]:
                async with queries.connect(models.path) as db:
                    return await answers.as_of_views(db, what, day, ref, t, language)

            try:
                views = asyncio.run(ask())
            except DomainError as error:
                console.print(Text(f"Nothing found ({error.code}).", style="red"))
                raise SystemExit(1) from None
            console.print(
                Text(
                    f"As of {day.isoformat()} (end of day, Europe/Berlin): the log up to "
                    f"position {models.position}.",
                    style="dim",
                )
            )
            for view in views:
                _print_view(console, view)
    finally:
        service.close()


# --- export --------------------------------------------------------------------------------


def export(
    settings: Settings,
    console: Console,
    folder: Path | None = None,
    *,
    clock: Clock | None = None,
) -> Path:
    """The complete log (JSON Lines) and the read models (CSV, XLSX) into ``folder``
    (default ``./export-<date>``), then the export verified on its own."""
    service = _service(settings, clock)
    try:
        now = service.clock.now()
        today = today_of(service.clock)
        target = folder or Path(f"export-{today.isoformat()}")
        result = export_folder(service.app, target, today, exported_at=now)
        verdict = verify_file(result.log_file, plain=plain_of(service.app))
    finally:
        service.close()
    table = Table(title=f"Export in {target}")
    table.add_column("file")
    table.add_column("rows / events", justify="right")
    table.add_column("bytes", justify="right")
    for path in result.files:
        count = result.rows.get(path.stem, result.log.events if path == result.log_file else None)
        table.add_row(path.name, "" if count is None else str(count), str(path.stat().st_size))
    console.print(table)
    _print_verdict(console, verdict, f"{result.log_file}")
    if not verdict.intact:
        raise SystemExit(1)
    return target


# --- verification --------------------------------------------------------------------------


def _print_verdict(console: Console, verdict: ChainVerdict, source: str) -> None:
    if verdict.intact:
        console.print(
            Text(
                f"OK: {source}: {verdict.checked} events, {verdict.checkpoints} checkpoints "
                f"match; head at position {verdict.head_position}: {verdict.head}",
                style="green",
            )
        )
        _print_unchecked(console, verdict, source)
        console.print(
            Text(
                f"Keep the head to check later logs against it: --expect {verdict.anchor}",
                style="dim",
            )
        )
        return
    line = f" (line {verdict.line})" if verdict.line is not None else ""
    console.print(
        Text(
            f"BROKEN: {source}: first broken position {verdict.first_broken_position}{line}: "
            f"{verdict.reason}; {verdict.checked} events intact before it",
            style="bold red",
        )
    )


def _print_unchecked(console: Console, verdict: ChainVerdict, source: str) -> None:
    """What an encrypted export checked without the cipher key leaves open."""
    if verdict.unchecked:
        console.print(
            Text(
                f"{verdict.unchecked} events encrypted: their decoded fields were not checked; "
                f"check them with `python run_bot.py verify --file {source}` and the cipher "
                "key (REGIOTWIN_CIPHER_KEY).",
                style="yellow",
            )
        )
    if verdict.unread_checkpoints:
        console.print(
            Text(
                f"{verdict.unread_checkpoints} checkpoints encrypted: not matched against the "
                "chain without the cipher key.",
                style="yellow",
            )
        )


def verify(
    settings: Settings,
    console: Console,
    file: Path | None = None,
    *,
    expect: str | None = None,
) -> ChainVerdict:
    """Re-derive the hash chain from the store (or from an export file), check every
    checkpoint and the anchor ``expect`` (``POSITION:HASH``); exit 1 if broken. An export
    of an encrypted store is checked field by field only with ``REGIOTWIN_CIPHER_KEY`` set;
    without it the chain is checked and the unchecked lines are counted."""
    anchor = Anchor.parse(expect) if expect else None
    if file is not None:
        # With the cipher key configured, an encrypted export is checked field by field too.
        with cipher_reader(settings.event_store_env) as plain:
            verdict = verify_file(file, anchor, plain)
        source = str(file)
    else:
        service = _service(settings, None)
        try:
            verdict = verify_store(service.app, anchor)
        finally:
            service.close()
        source = "the event store"
    _print_verdict(console, verdict, source)
    if not verdict.intact:
        raise SystemExit(1)
    return verdict


def checkpoint(settings: Settings, console: Console, *, clock: Clock | None = None) -> None:
    """Verify the chain and record its head as a checkpoint in the log (e.g. from cron)."""
    service = _service(settings, clock)
    try:
        result = record_checkpoint(service)
    finally:
        service.close()
    _print_verdict(console, result.verdict, "the event store")
    if not result.verdict.intact:
        raise SystemExit(1)
    if result.recorded:
        console.print(
            Text(f"Checkpoint of position {result.position} recorded by {CHECKPOINT_ACTOR}.")
        )
    else:
        console.print(Text("Nothing new since the last checkpoint.", style="dim"))


# --- reports -------------------------------------------------------------------------------


def report(
    settings: Settings,
    console: Console,
    folder: Path | None = None,
    *,
    as_of: date | None = None,
    language: str = "de",
    issue: bool = True,
    check: Path | None = None,
    clock: Clock | None = None,
) -> list[Path]:
    """One HTML page per programme into ``folder`` (default ``./reports``), as of a day
    (default today), recorded as issued (``Report.Issued`` with its SHA-256).

    ``check=FILE`` instead tells whether and when exactly that file was issued.
    """
    service = _service(settings, clock)
    try:
        if check is not None:
            return _check_report(service, console, check)
        try:
            published = publish_reports(
                service,
                folder or Path("reports"),
                as_of=as_of,
                language=language,
                issue=issue,
            )
        except ChainBroken as broken:
            _print_verdict(console, broken.verdict, "the event store")
            console.print(Text("No report: the log's chain is broken.", style="red"))
            raise SystemExit(1) from None
        for report_ in published:
            built = report_.built
            console.print(
                Text(
                    f"{report_.path}: {built.title} ({len(built.content)} bytes), "
                    f"sha256 {built.sha256}"
                )
            )
            if report_.issued_at is not None:
                console.print(
                    Text(
                        f"Recorded as issued (Report.Issued at position {report_.issued_at}).",
                        style="dim",
                    )
                )
        if not published:
            console.print(Text("No programme in the log yet.", style="yellow"))
        return [report_.path for report_ in published]
    finally:
        service.close()


def _check_report(service: RegioTwin, console: Console, path: Path) -> list[Path]:
    found = find_issued(service.app, path.read_bytes())
    if not found:
        console.print(Text(f"{path} was never issued: no Report.Issued has its SHA-256.", "red"))
        raise SystemExit(1)
    for issued in found:
        console.print(
            Text(
                f"{path} was issued at position {issued.position} ({issued.recorded_at}) by "
                f"{issued.actor}: {issued.title}, built from the log up to position "
                f"{issued.log_position} (chain head {issued.chain_head}).",
                style="green",
            )
        )
    return [path]
