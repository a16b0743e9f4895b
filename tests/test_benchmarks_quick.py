"""The benchmarks keep working: every figure runs at a tiny scale and gives numbers.

Speed targets are not asserted here (machines are noisy); ``python -m benchmarks`` reports
them. Limits that hold on any machine are: Telegram's (never more than 30 messages in a
second, one a second per chat) and no notification sent twice by two instances. Figures 6
and 8 start real bot processes (importing aiogram takes seconds), so this takes a minute
or two rather than seconds. ``make test`` runs it: CI keeps the benchmarks working.
"""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import pytest
from rich.console import Console

from benchmarks.cli import parse_args, run
from tests.stores import postgres_url

TINY = ["--quick", "--events", "1500", "--samples", "8"]


def tiny_run(tmp_path: Path, *figures: str, postgres: str | None = None) -> dict:
    argv = [*TINY, "--cache", str(tmp_path / "cache"), "--json", str(tmp_path / "out.json")]
    argv += ["--only", *figures]
    if postgres:
        argv += ["--postgres-url", postgres]
    output = io.StringIO()
    results = run(parse_args(argv), console=Console(file=output, width=160))
    assert results["failures"] == {}, output.getvalue()
    written = json.loads((tmp_path / "out.json").read_text())["rows"]
    assert [(r["name"], r["value"]) for r in written] == [
        (r["name"], r["value"]) for r in results["rows"]
    ]
    assert "RegioTwin benchmarks" in output.getvalue()
    return results


def has_number(value: object) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)


def check_rows(results: dict, figures: tuple[str, ...]) -> None:
    rows = results["rows"]
    for figure in figures:
        own = [row for row in rows if row["figure"].rstrip("bc") == figure]
        assert own, f"figure {figure} is missing from the table"
        for row in own:
            assert has_number(row["value"]), row
            if row["reference_name"]:
                assert has_number(row["reference"]), row
            assert row["met"] in (True, False, None), row


def test_every_figure_without_postgres_runs_and_gives_numbers(tmp_path: Path) -> None:
    figures = ("1", "2", "3", "4", "5", "6", "7")
    results = tiny_run(tmp_path, *figures)
    check_rows(results, figures)
    assert results["mode"] == "quick"
    assert results["machine"]["cores"]
    telegram_limits = [row for row in results["rows"] if row["figure"] in ("5b", "5c")]
    assert len(telegram_limits) == 2
    assert all(row["met"] for row in telegram_limits), telegram_limits


@pytest.mark.postgres
def test_the_postgres_figure_runs_and_gives_numbers(tmp_path: Path) -> None:
    results = tiny_run(tmp_path, "8", postgres=postgres_url())
    check_rows(results, ("8",))
    names = " ".join(row["name"] for row in results["rows"])
    assert "Two bot instances" in names
    [duplicates] = [row for row in results["rows"] if "duplicated notifications" in row["name"]]
    assert duplicates["value"] == 0, duplicates
