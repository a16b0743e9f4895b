"""Figure 6: start-up of the real bot process, with a short and a long history.

``python run_bot.py`` with a token, its Bot API pointed at the local stand-in
(:mod:`benchmarks.botapi`), on a copy of a cached store whose read models and
notification outbox are caught up (as after a restart). Measured: seconds from just
before the process is started until its first ``getUpdates`` reaches the stand-in (it
is polling), and its resident memory after 3 s of idling (1 s in quick mode). Beside
it, in the same run and interleaved: ``python -c "import aiogram, eventsourcing,
pydantic"`` (the time until it exits, and its resident memory at the end).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.botapi import BotAPIStandIn
from benchmarks.core import REPO, Config, Row, median, rss_mb
from benchmarks.stores import Generated, ensure_read_models, sqlite_store, working_copy

IDLE_SECONDS = 3.0
TOKEN = "4242:BENCH-start-up"
BARE = (
    "import aiogram, eventsourcing, pydantic\n"
    "for line in open('/proc/self/status'):\n"
    "    if line.startswith('VmRSS:'): print(int(line.split()[1]) / 1024)\n"
)


def outbox_at_head(env: dict[str, str], folder: Path, head: int) -> None:
    """An outbox whose position is the head of the log, as a running bot keeps it.

    Its member and twinning tables stay empty: nothing reads them at start-up, and
    catching a new outbox up with 10⁶ events (one transaction each) would take longer
    than the benchmark. A bot that finds no outbox creates one and catches it up in the
    background after it started polling.
    """
    from eventsourcing.persistence import Tracking

    from projections.outbox import OutboxTracking, open_outbox

    store = open_outbox(env, folder)
    try:
        store.initialise("RegioTwin", head)
        OutboxTracking(store).insert_tracking(Tracking("RegioTwin", head))
    finally:
        store.close()


def clean_environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGIOTWIN_")}
    env.update(extra)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def bare_import() -> tuple[float, float]:
    """(seconds until the bare import's process ended, its resident MB at the end)."""
    started = time.time()
    done = subprocess.run(
        [sys.executable, "-c", BARE],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
        env=clean_environment(),
    )
    return time.time() - started, float(done.stdout.strip().splitlines()[-1])


def bot_start(
    api: BotAPIStandIn, data_dir: Path, extra_env: dict[str, str], log: Path, idle: float
) -> tuple[float, float]:
    """(seconds until the bot polled, its resident MB after idling)."""
    api.reset()
    env = clean_environment(
        REGIOTWIN_BOT_TOKEN=TOKEN,
        REGIOTWIN_TELEGRAM_API_URL=api.url,
        REGIOTWIN_DATA_DIR=str(data_dir),
        **extra_env,
    )
    with log.open("ab") as output:
        started = time.time()
        process = subprocess.Popen(
            [sys.executable, "run_bot.py"], cwd=REPO, env=env, stdout=output, stderr=output
        )
        try:
            deadline = time.monotonic() + 600
            while api.recorded.first_get_updates is None:
                if process.poll() is not None:
                    raise RuntimeError(f"the bot exited with {process.returncode}: see {log}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the bot did not poll within 600 s: see {log}")
                time.sleep(0.005)
            polled = api.recorded.first_get_updates - started
            time.sleep(idle)
            memory = rss_mb(process.pid)
        finally:
            stop(process)
    return polled, memory


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


def prepared(config: Config, store: Generated) -> Path:
    ensure_read_models(config, store)
    folder = working_copy(config, store)
    outbox_at_head(store.env(folder), folder, store.head)
    return folder


def measure(
    config: Config,
    stores: dict[str, tuple[Path, dict[str, str]]],
    prepare_again: Callable[[str], tuple[Path, dict[str, str]]] | None = None,
) -> dict[str, Any]:
    """Interleaved: bare import, then each store's bot start, ``repeats`` times."""
    repeats = 1 if config.quick else 3
    found: dict[str, list[tuple[float, float]]] = {"bare": [], **{name: [] for name in stores}}
    log = config.work / "start-up.log"
    idle = 1.0 if config.quick else IDLE_SECONDS
    with BotAPIStandIn() as api:
        if not config.quick:
            bare_import()  # the first import fills the OS's file cache: not counted
        for _ in range(repeats):
            found["bare"].append(bare_import())
            for name, (folder, extra_env) in stores.items():
                found[name].append(bot_start(api, folder, extra_env, log, idle))
    return {
        name: {
            "seconds": median(s for s, _ in values),
            "rss_mb": median(m for _, m in values),
            "all": values,
        }
        for name, values in found.items()
    }


def rows_for(
    figure: str, label: str, measured: dict[str, Any], small: Generated, large: Generated
) -> list[Row]:
    bare, short, long = measured["bare"], measured["small"], measured["large"]
    limit = bare["seconds"] + 1.0
    change = long["seconds"] / short["seconds"]
    details = {
        "repeats": len(bare["all"]),
        "bare": bare["all"],
        f"{small.head}": short["all"],
        f"{large.head}": long["all"],
    }
    return [
        Row(
            figure,
            f"Start-up{label} with {large.head:,} events: until polling",
            long["seconds"],
            "s",
            bare["seconds"],
            'python -c "import aiogram, eventsourcing, pydantic"',
            target="≤ import + 1 s",
            ratio=long["seconds"] / bare["seconds"],
            met=long["seconds"] <= limit,
            details=details,
        ),
        Row(
            f"{figure}b",
            f"  start-up with {large.head:,} vs {small.head:,} events",
            long["seconds"],
            "s",
            short["seconds"],
            f"start-up with {small.head:,} events",
            target="within 10 %",
            ratio=change,
            met=abs(change - 1) <= 0.10,
        ),
        Row(
            f"{figure}c",
            f"  idle resident memory with {large.head:,} events",
            long["rss_mb"],
            "MB",
            bare["rss_mb"],
            "the bare import's",
            target="≤ import + 100 MB",
            ratio=long["rss_mb"] / bare["rss_mb"],
            met=long["rss_mb"] <= bare["rss_mb"] + 100,
            note=f"with {small.head:,} events: {short['rss_mb']:.0f} MB",
        ),
    ]


def run_startup(config: Config) -> list[Row]:
    small = sqlite_store(config, config.small_events)
    large = sqlite_store(config, config.events)
    stores = {"small": (prepared(config, small), {}), "large": (prepared(config, large), {})}
    config.say(f"figure 6: starting the bot on {small.head:,} and {large.head:,} events …")
    measured = measure(config, stores)
    return rows_for("6", "", measured, small, large)
