"""RegioTwin's entry point: wires settings → domain → (projections → bot).

``python run_bot.py`` without a Telegram token plays the demo; ``--help`` lists
the subcommands.
"""

from __future__ import annotations

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
    import asyncio

    from bot.runner import run_polling

    asyncio.run(run_polling(settings))


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


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    cli()
