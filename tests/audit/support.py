"""Helpers for the audit tests: running the stand-alone verifier, tampering with exports."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from domain.chain import link, record

ROOT = Path(__file__).resolve().parents[2]
STANDALONE = ROOT / "tools" / "verify_export.py"


def standalone(path: Path, *args: str) -> tuple[int, str]:
    """Run tools/verify_export.py in an isolated interpreter (no project on the path)."""
    done = subprocess.run(
        [sys.executable, "-I", str(STANDALONE), str(path), *args],
        capture_output=True,
        text=True,
        cwd=path.parent,
        timeout=60,
        check=False,
    )
    return done.returncode, done.stdout + done.stderr


def broken_position(output: str) -> int | None:
    match = re.search(r"BROKEN at position (\d+)", output)
    return int(match.group(1)) if match else None


def read_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def write_lines(path: Path, lines: list[dict[str, Any]]) -> None:
    path.write_text(
        "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8"
    )


def chain_hash(previous: str, line: dict[str, Any]) -> str:
    return link(
        previous,
        record(
            line["position"],
            line["originator_id"],
            line["version"],
            line["topic"],
            base64.b64decode(line["state"]),
        ),
    )


def rechain(lines: list[dict[str, Any]], start: int = 0) -> None:
    """What a forger does: recompute every hash from line ``start`` on."""
    previous = lines[start - 1]["hash"] if start else "0" * 64
    for line in lines[start:]:
        line["hash"] = chain_hash(previous, line)
        previous = line["hash"]
