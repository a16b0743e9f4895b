"""One audit operation in a process of its own, so that its peak memory is its own.

    python -m benchmarks.probe OPERATION EVENTS_FILE_OR_ENV_JSON OUT_FOLDER

OPERATION: ``raw-scan`` (sqlite3 read + JSON decode, the reference), ``export`` (what
``run_bot.py export`` writes: log, tables, manifest), ``export-log`` (the JSON Lines of
the log only), ``verify-store`` (re-derive the chain from the store), ``verify-file``
(from an ``events.jsonl`` written by ``export-log`` before). Prints one JSON line:
events, seconds, resident MB before the operation, peak resident MB.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import date
from pathlib import Path

from benchmarks.core import peak_rss_mb, rss_mb


def main(operation: str, source: str, out: str) -> dict[str, float | int | str]:
    from audit.export import export, write_log
    from audit.verify import verify_file, verify_store
    from benchmarks import raw
    from domain.application import RegioTwinApplication, sqlite_env

    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    env = json.loads(source) if source.startswith("{") else sqlite_env(source)
    base = rss_mb()
    started = time.perf_counter()
    if operation == "raw-scan":
        events = raw.scan_decode(Path(source))
    elif operation == "verify-file":
        verdict = verify_file(folder / "events.jsonl")
        assert verdict.intact, verdict.reason
        events = verdict.checked
    else:
        log = RegioTwinApplication(env=env)
        try:
            if operation == "export":
                result = export(log, folder / "export", date.today())
                events = result.log.events
            elif operation == "export-log":
                with (folder / "events.jsonl").open("w", encoding="utf-8", newline="\n") as file:
                    events = write_log(log, file).events
            elif operation == "verify-store":
                verdict = verify_store(log)
                assert verdict.intact, verdict.reason
                events = verdict.checked
            else:
                raise SystemExit(f"unknown operation {operation}")
        finally:
            log.close()
    seconds = time.perf_counter() - started
    return {
        "operation": operation,
        "events": events,
        "seconds": seconds,
        "base_mb": base,
        "peak_mb": peak_rss_mb(),
    }


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:4])))
