"""A canonical text dump of every read-model table: equal dumps mean equal read models.

Tables in name order, rows ordered by all their columns, values as JSON. FTS5 tables are
dumped through their virtual table (row id and text); their shadow tables hold b-tree
segments whose layout depends on how many transactions wrote them, not on the content.
Operational tables (failures noted with wall-clock times) are left out.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from projections.store import OPERATIONAL_TABLES

FTS5_SHADOW_SUFFIXES = ("_data", "_idx", "_content", "_docsize", "_config")


def canonical_dump(path: Path | str) -> str:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return "\n".join(_dump_lines(connection)) + "\n"
    finally:
        connection.close()


def _dump_lines(connection: sqlite3.Connection) -> list[str]:
    rows = connection.execute(
        "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY type, name"
    ).fetchall()
    virtual = {
        name for kind, name, sql in rows if kind == "table" and sql.upper().startswith("CREATE V")
    }
    shadow = {name + suffix for name in virtual for suffix in FTS5_SHADOW_SUFFIXES}
    lines: list[str] = []
    for kind, name, sql in rows:
        if name in shadow or name in OPERATIONAL_TABLES:
            continue
        lines.append(f"-- {kind} {name}: {' '.join(sql.split())}")
        if kind != "table":
            continue
        columns = "rowid, *" if name in virtual else "*"
        cursor = connection.execute(f'SELECT {columns} FROM "{name}"')
        width = len(cursor.description)
        order = ", ".join(str(index) for index in range(1, width + 1))
        for row in connection.execute(f'SELECT {columns} FROM "{name}" ORDER BY {order}'):
            lines.append(json.dumps(list(row), ensure_ascii=False))
    return lines
