"""RegioTwin's entry point: wires settings → domain → (projections → bot).

``python run_bot.py`` without a Telegram token plays the demo; ``--help`` lists
the subcommands.
"""

from __future__ import annotations

import datetime
import logging
import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from settings import Settings

cli = typer.Typer(
    add_completion=False,
    no_args_is_help=False,
    help="RegioTwin: climate-protection twinnings between German regions.",
)
console = Console()


@cli.callback(invoke_without_command=True)
def main(ctx: typer.Context) -> None:
    """Without a subcommand: run the bot with a token, else show the demo."""
    if ctx.invoked_subcommand is not None:
        return
    settings = Settings()
    if settings.bot_token is None:
        console.print(
            "[dim]No REGIOTWIN_BOT_TOKEN set: showing the demo on a fresh embedded store.[/]"
        )
        demo()
        return
    from bot.runner import run

    run(settings)  # webhook mode if REGIOTWIN_WEBHOOK_URL is set, else long polling


@cli.command("seed-demo")
def seed_demo() -> None:
    """Load the RegioTwin programme, its known pairs and an illustrative history (idempotent)."""
    from demo.terminal import seed_configured_store

    seed_configured_store(Settings(), console)


@cli.command()
def demo(
    keep: Annotated[
        Path | None,
        typer.Option(help="Keep the demo's store in this folder instead of a temporary one."),
    ] = None,
) -> None:
    """Seed a fresh store and show the product working in the terminal."""
    from demo.terminal import play_demo

    logging.getLogger().setLevel(logging.WARNING)  # the transcript, not the bot's log

    if keep is not None:
        play_demo(keep, console)
        return
    with tempfile.TemporaryDirectory(prefix="regiotwin-demo-") as folder:
        play_demo(Path(folder), console)


@cli.command()
def rebuild() -> None:
    """Rebuild every read model from zero (stop the bot first)."""
    from projections.cli import rebuild as rebuild_read_models

    rebuild_read_models(Settings(), console)


@cli.command()
def health() -> None:
    """Each projection's position against the head of the log, and any failure."""
    from projections.cli import health as show_health

    show_health(Settings(), console)


Day = Annotated[
    datetime.date,
    typer.Argument(parser=lambda text: parse_day(text), help="25.11.2026 or 2026-11-25"),
]


@cli.command()
def history(
    ref: Annotated[str, typer.Argument(help="a measure code, a partner region, a member")],
    page: Annotated[int, typer.Option(min=1)] = 1,
    language: Annotated[str, typer.Option(help="de or en")] = "en",
) -> None:
    """Every event of a measure, twinning or member: who, when and what."""
    from audit import cli as audit_cli

    audit_cli.history(Settings(), console, ref, page=page, language=language)


@cli.command()
def asof(
    day: Day,
    what: Annotated[str, typer.Argument(help="status, measures or twinning")] = "status",
    ref: Annotated[str | None, typer.Argument(help="a region or twinning")] = None,
    language: Annotated[str, typer.Option(help="de or en")] = "en",
) -> None:
    """The status as it was known at the end of a day (replayed in a temporary store)."""
    from audit import cli as audit_cli

    audit_cli.asof(Settings(), console, day, what, ref, language=language)


@cli.command()
def export(
    folder: Annotated[Path | None, typer.Argument(help="default: ./export-<date>")] = None,
) -> None:
    """The complete log as JSON Lines plus CSV/XLSX tables, verified after writing."""
    from audit import cli as audit_cli

    audit_cli.export(Settings(), console, folder)


@cli.command()
def verify(
    file: Annotated[Path | None, typer.Option(help="an events.jsonl export")] = None,
    expect: Annotated[str | None, typer.Option(help="an anchor POSITION:HASH kept earlier")] = None,
) -> None:
    """Re-derive the hash chain of the store (or of an export) and report the first break."""
    from audit import cli as audit_cli

    audit_cli.verify(Settings(), console, file, expect=expect)


@cli.command()
def checkpoint() -> None:
    """Record the verified chain head in the log."""
    from audit import cli as audit_cli

    audit_cli.checkpoint(Settings(), console)


@cli.command()
def report(
    folder: Annotated[Path | None, typer.Argument(help="default: ./reports")] = None,
    language: Annotated[str, typer.Option(help="de or en")] = "de",
    check: Annotated[Path | None, typer.Option(help="tell whether this file was issued")] = None,
) -> None:
    """A self-contained HTML page per programme, recorded as issued with its hash."""
    from audit import cli as audit_cli

    audit_cli.report(Settings(), console, folder, language=language, check=check)


@cli.command()
def erase(
    member: Annotated[str, typer.Argument(help="a member id, its first 6+ hex digits, or a name")],
    reason: Annotated[str, typer.Argument(help="why, e.g. the date and channel of the request")],
) -> None:
    """Erase a member's personal data (name, Telegram id); the hash chain still verifies."""
    from audit.privacy import erase as erase_member

    erase_member(Settings(), console, member, reason)


@cli.command()
def backup(
    folder: Annotated[
        Path | None, typer.Argument(help="parent folder of the backup; default: ./backups")
    ] = None,
    print_only: Annotated[
        bool, typer.Option("--print-only", help="PostgreSQL: print the pg_dump command only")
    ] = False,
) -> None:
    """A consistent online backup while the bot runs, verified (SQLite), or pg_dump."""
    from ops.backup import backup as take_backup

    take_backup(Settings(), console, folder, run_dump=not print_only)


@cli.command()
def restore(
    folder: Annotated[Path, typer.Argument(help="a backup folder regiotwin-<time>")],
) -> None:
    """Restore a SQLite backup into the empty data folder (stop the bot first)."""
    from ops.backup import restore as restore_backup

    restore_backup(Settings(), console, folder)


def parse_day(text: str) -> datetime.date:
    from domain.values import parse_date

    parsed = parse_date(text)
    if not isinstance(parsed, datetime.date):
        raise typer.BadParameter("use 25.11.2026 or 2026-11-25")
    return parsed


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    from bot.log_redaction import configured_secrets, install_redaction

    install_redaction(configured_secrets())  # the token and other secrets never reach a log
    cli()
