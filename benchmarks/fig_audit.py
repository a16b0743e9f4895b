"""Figure 7: export and verification of the whole log, speed and peak memory.

Each operation runs in a process of its own (:mod:`benchmarks.probe`), on the big store
and on one a tenth its size (10⁶ and 10⁵ events at full scale): memory must stay flat as
the log grows. The reference is a raw sqlite3 scan of the same events with a JSON decode
of each, run before and after the operations (their mean counts).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from benchmarks.core import REPO, Config, Row
from benchmarks.stores import EVENTS_FILE, Generated, sqlite_store

FLAT = 0.10
"""Peak memory at 10× the events may be at most 10 % higher."""


def probe(operation: str, events_file: Path, out: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.probe", operation, str(events_file), str(out)],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{operation} failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(config: Config, store: Generated) -> dict[str, dict[str, Any]]:
    assert store.folder is not None
    events_file = store.folder / EVENTS_FILE
    out = config.work / f"audit-{store.head}"
    found: dict[str, dict[str, Any]] = {}
    scans = [probe("raw-scan", events_file, out)]
    for operation in ("export-log", "verify-file", "verify-store", "export"):
        found[operation] = probe(operation, events_file, out)
    scans.append(probe("raw-scan", events_file, out))
    found["raw-scan"] = {
        "events": scans[0]["events"],
        "seconds": sum(s["seconds"] for s in scans) / len(scans),
        "base_mb": scans[0]["base_mb"],
        "peak_mb": max(s["peak_mb"] for s in scans),
    }
    return found


def rate(result: dict[str, Any]) -> float:
    return result["events"] / result["seconds"]


def run_audit(config: Config) -> list[Row]:
    mid = sqlite_store(config, config.mid_events)
    large = sqlite_store(config, config.events)
    config.say(f"figure 7: export and verify {mid.head:,} and {large.head:,} events …")
    small_results = measure(config, mid)
    large_results = measure(config, large)
    reference = rate(large_results["raw-scan"])
    rows: list[Row] = []
    names = {
        "export": "Export (log, tables, manifest – run_bot.py export)",
        "export-log": "  export of the log alone (events.jsonl)",
        "verify-store": "  verify the chain in the store",
        "verify-file": "  verify an export file",
    }
    for operation, name in names.items():
        result = large_results[operation]
        rows.append(
            Row(
                "7",
                f"{name}: events/s at {large.head:,}",
                rate(result),
                "events/s",
                reference,
                "raw sqlite3 scan + JSON decode",
                ratio=rate(result) / reference,
                details={"seconds": round(result["seconds"], 1), "events": result["events"]},
            )
        )
    for label, operations in (
        ("export", ("export", "export-log")),
        ("verification", ("verify-store", "verify-file")),
    ):
        peak_large = max(large_results[o]["peak_mb"] for o in operations)
        peak_small = max(small_results[o]["peak_mb"] for o in operations)
        rows.append(
            Row(
                "7b",
                f"  peak memory of {label} at {large.head:,} events",
                peak_large,
                "MB",
                peak_small,
                f"the same at {mid.head:,} events",
                target="flat: ≤ +10 %",
                ratio=peak_large / peak_small,
                met=peak_large <= peak_small * (1 + FLAT),
                details={
                    "base_mb": round(large_results[operations[0]]["base_mb"]),
                    "raw_scan_peak_mb": round(large_results["raw-scan"]["peak_mb"]),
                    **{
                        f"{o}_peak_mb": [
                            round(small_results[o]["peak_mb"]),
                            round(large_results[o]["peak_mb"]),
                        ]
                        for o in operations
                    },
                },
            )
        )
    return rows
