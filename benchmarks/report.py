"""The table of a run as Markdown (for the README): ``python -m benchmarks.report [JSON]``."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

from benchmarks.cli import DEFAULT_JSON, fmt


def markdown(results: dict[str, Any]) -> str:
    machine = results["machine"]
    lines = [
        f"Run of {results['date'][:10]} ({results['mode']}, {results['events']:,} events "
        f"asked; {results['elapsed_seconds'] / 60:.0f} min in all) on {machine['cpu']}, "
        f"{machine['cores']} cores, {machine['memory']}, Python {machine['python']}, "
        f"SQLite {machine['sqlite']}.",
        *_runs(results),
        "",
        "| # | figure | RegioTwin | reference | ratio | target | |",
        "|---|---|---:|---:|---:|---|---|",
    ]
    for row in results["rows"]:
        ratio = row["ratio"]
        verdict = "" if row["met"] is None else ("✓" if row["met"] else "**✗ missed**")
        reference = fmt(row["reference"], row["unit"])
        if row["reference_name"]:
            reference += f" ({row['reference_name']})"
        name = row["name"].strip() + (f" — {row['note']}" if row["note"] else "")
        lines.append(
            f"| {row['figure']} | {name} | {fmt(row['value'], row['unit'])} | {reference} | "
            f"{'–' if ratio is None or math.isnan(ratio) else f'{ratio:.2f}×'} | "
            f"{row['target']} | {verdict} |"
        )
    for figure, failure in results.get("failures", {}).items():
        lines.append(f"| {figure} | did not run: {failure} | | | | | ✗ |")
    return "\n".join(lines)


def _runs(results: dict[str, Any]) -> list[str]:
    """When and under what load (1-minute load average, start → end) each figure ran."""
    dates: dict[str, str] = results.get("figure_dates", {})
    loads: dict[str, Any] = results.get("figure_loads", {})
    runs: dict[tuple[str, str], list[str]] = {}
    one_run = len(set(dates.values())) <= 1
    for figure in results.get("figures", dates):
        date = dates.get(figure, results["date"])[:16].replace("T", " ")
        load = loads.get(figure, results.get("load_average") if one_run else None)
        where = f"load {load['start'][0]:g} → {load['end'][0]:g}" if load else "load not noted"
        runs.setdefault((date, where), []).append(figure)
    return [
        f"Figure{'s' if len(figures) > 1 else ''} {', '.join(figures)}: run of {date} UTC, "
        f"{where} (load average, {results['machine']['cores']} cores)."
        for (date, where), figures in runs.items()
    ]


if __name__ == "__main__":
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_JSON
    print(markdown(json.loads(path.read_text())))
