"""``python -m benchmarks``: build the synthetic programme, run the figures, print one table.

    python -m benchmarks                     # full: 10⁶ events (long; stores are cached)
    python -m benchmarks --quick             # every figure at small scale (CI, < 1 min)
    python -m benchmarks --events 200000     # another scale
    python -m benchmarks --only 1 4 7        # some figures
    python -m benchmarks --json out.json     # where the JSON goes

Full runs write ``benchmarks/results.json`` by default, quick runs a temporary file.
Generated stores are cached in ``benchmarks/.cache/`` (by scale and code version);
``--drop-cache`` deletes the cache (and the cached PostgreSQL databases) first.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from benchmarks.core import CACHE, FULL_EVENTS, QUICK_EVENTS, REPO, Config, Row

FIGURES = ("1", "2", "3", "4", "5", "6", "7", "8")
DEFAULT_JSON = REPO / "benchmarks" / "results.json"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="RegioTwin's speed, cost and scale beside raw references, in one table.",
    )
    parser.add_argument("--quick", action="store_true", help="every figure at small scale")
    parser.add_argument(
        "--events", type=int, help=f"events in the big store (default {FULL_EVENTS:,})"
    )
    parser.add_argument("--json", type=Path, help="where to write the table as JSON")
    parser.add_argument("--only", nargs="+", choices=FIGURES, metavar="FIGURE", help="1 … 8")
    parser.add_argument("--skip", nargs="+", choices=FIGURES, metavar="FIGURE", default=[])
    parser.add_argument(
        "--postgres-url",
        help="a PostgreSQL server to use (default: the benchmark starts its own on 127.0.0.1)",
    )
    parser.add_argument("--samples", type=int, help="samples per bot command (figure 4)")
    parser.add_argument("--cache", type=Path, default=CACHE, help="folder of generated stores")
    parser.add_argument("--drop-cache", action="store_true", help="delete cached stores first")
    parser.add_argument("--keep-work", action="store_true", help="keep the scratch folder")
    parser.add_argument(
        "--update",
        action="store_true",
        help="merge into the existing JSON: replace the figures run now, keep the others",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    results = run(args)
    return 0 if results["complete"] else 1


def run(args: argparse.Namespace, console: Console | None = None) -> dict[str, Any]:
    """Run the chosen figures; print the table, write the JSON, return it."""
    console = console or Console(width=None if sys.stdout.isatty() else 160)
    events = args.events or (QUICK_EVENTS if args.quick else FULL_EVENTS)
    figures = [f for f in (args.only or FIGURES) if f not in args.skip]
    work = Path(tempfile.mkdtemp(prefix="regiotwin-bench-"))
    config = Config(
        quick=args.quick,
        events=events,
        console=console,
        work=work,
        cache=args.cache,
        sample_count=args.samples,
    )
    if args.drop_cache:
        from benchmarks import pgserver

        pgserver.stop(config)
        shutil.rmtree(config.cache, ignore_errors=True)
        if args.postgres_url:
            from benchmarks.stores import drop_cached_databases

            drop_cached_databases(args.postgres_url)
    config.cache.mkdir(parents=True, exist_ok=True)
    if "8" in figures:
        from benchmarks import pgserver

        config.postgres_url = args.postgres_url or pgserver.start(config)
    started = time.perf_counter()
    load_at_start = os.getloadavg()
    rows: list[Row] = []
    failures: dict[str, str] = {}
    config.say(
        f"RegioTwin benchmarks: {'quick' if args.quick else 'full'}, {events:,} events, "
        f"figures {' '.join(figures)}; scratch {work}"
    )
    try:
        for figure in figures:
            figure_started = time.perf_counter()
            try:
                new = RUNNERS[figure](config)
                rows.extend(new)
                config.say(f"figure {figure} done:")
                console.print(_plain_rows(new), highlight=False, markup=False)
            except Exception as error:  # one broken figure does not hide the others
                rows.extend(getattr(error, "rows", []))  # the parts that did run
                failures[figure] = f"{type(error).__name__}: {error}"
                console.print(f"[red]figure {figure} failed[/red]")
                console.print(traceback.format_exc(), highlight=False, markup=False)
            config.say(f"figure {figure}: {time.perf_counter() - figure_started:.0f} s")
    finally:
        for cleanup in reversed(config.cleanups):
            try:
                cleanup()
            except Exception as error:
                console.print(f"[yellow]cleaning up failed: {error}[/yellow]")
        if not args.keep_work:
            shutil.rmtree(work, ignore_errors=True)
    elapsed = time.perf_counter() - started
    machine = machine_summary()
    now = datetime.now(UTC).isoformat(timespec="seconds")
    target = args.json or (
        DEFAULT_JSON
        if not args.quick
        else Path(tempfile.gettempdir()) / "regiotwin-bench-quick.json"
    )
    results = {
        "date": now,
        "mode": "quick" if args.quick else "full",
        "events": events,
        "figures": figures,
        "figure_dates": dict.fromkeys(figures, now),
        "elapsed_seconds": round(elapsed, 1),
        "machine": machine,
        "load_average": {
            "start": [round(x, 1) for x in load_at_start],
            "end": [round(x, 1) for x in os.getloadavg()],
        },
        "figure_loads": {},
        "rows": [row.as_json() for row in rows],
        "failures": failures,
        "complete": not failures,
    }
    results["figure_loads"] = dict.fromkeys(figures, results["load_average"])
    if args.update and target.exists():
        results = merged(json.loads(target.read_text()), results)
        rows = [Row(**row) for row in results["rows"]]
    console.print(table(rows, results))
    for figure, failure in results["failures"].items():
        console.print(f"[red]figure {figure} did not run: {failure}[/red]", highlight=False)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(results, indent=1, default=_json_default) + "\n")
    console.print(f"JSON: {target}  ·  {elapsed:.0f} s in all", highlight=False)
    return results


def figure_of(row: dict[str, Any]) -> str:
    return row["figure"].rstrip("abc")


def merged(earlier: dict[str, Any], now: dict[str, Any]) -> dict[str, Any]:
    """``now``'s figures replace ``earlier``'s; the figures not run now are kept."""
    ran = set(now["figures"])
    figures = sorted(set(earlier.get("figures", [])) | ran, key=FIGURES.index)
    rows = [r for r in earlier["rows"] if figure_of(r) not in ran] + now["rows"]
    rows.sort(key=lambda r: FIGURES.index(figure_of(r)))  # stable: order within a figure kept
    failures = {k: v for k, v in earlier.get("failures", {}).items() if k not in ran}
    failures.update(now["failures"])
    dates = {**earlier.get("figure_dates", {}), **now["figure_dates"]}
    loads = {**earlier.get("figure_loads", {}), **now["figure_loads"]}
    return {
        **now,
        "figures": figures,
        "figure_dates": dates,
        "figure_loads": loads,
        "elapsed_seconds": round(earlier.get("elapsed_seconds", 0) + now["elapsed_seconds"], 1),
        "rows": rows,
        "failures": failures,
        "complete": not failures,
    }


def _plain_rows(rows: list[Row]) -> str:
    return "\n".join(
        f"  {row.figure:<3} {row.name.strip()}: {fmt(row.value, row.unit)}"
        f" | ref {fmt(row.reference, row.unit)}"
        + ("" if row.ratio is None else f" | {row.ratio:.2f}×")
        + (f" | {row.target} {'ok' if row.met else 'MISSED'}" if row.met is not None else "")
        for row in rows
    )


def _json_default(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return str(value)


# --- the table -------------------------------------------------------------------------------


def fmt(value: float | None, unit: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, float) and math.isinf(value):
        return "∞"
    if unit in ("cmd/s", "events/s", "saves/s", "msg/s") and value >= 100:
        return f"{value:,.0f} {unit}"
    if unit in ("ms",):
        return f"{value:.1f} ms" if value < 100 else f"{value:,.0f} ms"
    if unit == "s":
        return f"{value:.2f} s" if value < 10 else f"{value:,.1f} s"
    if unit == "MB":
        return f"{value:,.0f} MB"
    if unit in ("", "count", "messages"):
        return f"{value:,.0f}" + (f" {unit}" if unit not in ("", "count") else "")
    return f"{value:,.1f} {unit}"


def table(rows: list[Row], results: dict[str, Any]) -> Table:
    machine = results["machine"]
    grid = Table(
        title=(
            f"RegioTwin benchmarks · {results['mode']} · {results['events']:,} events · "
            f"{results['date']}"
        ),
        caption=f"{machine['cpu']} · {machine['cores']} cores · {machine['memory']} · "
        f"Python {machine['python']} · {results['elapsed_seconds']:.0f} s",
        show_lines=False,
    )
    grid.add_column("figure", no_wrap=True)
    grid.add_column("what")
    grid.add_column("RegioTwin", justify="right", no_wrap=True)
    grid.add_column("reference", justify="right")
    grid.add_column("ratio", justify="right", no_wrap=True)
    grid.add_column("target", no_wrap=True)
    grid.add_column("", no_wrap=True)
    for row in rows:
        verdict = (
            Text("")
            if row.met is None
            else Text("✓", style="green")
            if row.met
            else Text("✗ missed", style="red")
        )
        reference = fmt(row.reference, row.details.get("reference_unit", row.unit))
        if row.reference_name:
            reference = f"{reference}\n[dim]{row.reference_name}[/dim]"
        what = row.name + (f"\n[dim]{row.note}[/dim]" if row.note else "")
        grid.add_row(
            row.figure,
            what,
            fmt(row.value, row.unit),
            reference,
            "–" if row.ratio is None or math.isnan(row.ratio) else f"{row.ratio:.2f}×",
            row.target,
            verdict,
        )
    return grid


def machine_summary() -> dict[str, Any]:
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.0f} GiB RAM"
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory": memory,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "sqlite": __import__("sqlite3").sqlite_version,
    }


# --- the figures -------------------------------------------------------------------------------


def _figure_1(config: Config) -> list[Row]:
    from benchmarks.fig_write import run_write_path

    return run_write_path(config)


def _figure_2(config: Config) -> list[Row]:
    from benchmarks.fig_write import run_import

    return run_import(config)


def _figure_3(config: Config) -> list[Row]:
    from benchmarks.fig_rebuild import run_rebuild

    return run_rebuild(config)


def _figure_4(config: Config) -> list[Row]:
    from benchmarks.fig_bot import run_bot_latency

    return run_bot_latency(config)


def _figure_5(config: Config) -> list[Row]:
    from benchmarks.fig_fanout import run_fanout

    return run_fanout(config)


def _figure_6(config: Config) -> list[Row]:
    from benchmarks.fig_startup import run_startup

    return run_startup(config)


def _figure_7(config: Config) -> list[Row]:
    from benchmarks.fig_audit import run_audit

    return run_audit(config)


def _figure_8(config: Config) -> list[Row]:
    from benchmarks.fig_postgres import run_postgres

    return run_postgres(config)


RUNNERS: dict[str, Callable[[Config], list[Row]]] = {
    "1": _figure_1,
    "2": _figure_2,
    "3": _figure_3,
    "4": _figure_4,
    "5": _figure_5,
    "6": _figure_6,
    "7": _figure_7,
    "8": _figure_8,
}


if __name__ == "__main__":
    sys.exit(main())
