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


if __name__ == "__main__":
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_JSON
    print(markdown(json.loads(path.read_text())))
