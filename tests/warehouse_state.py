"""The whole visible state of a DuckDB warehouse, for comparing two of them row for row."""

from __future__ import annotations

from pathlib import Path

import duckdb

from closeflow.schemas import RUN_LOG_COLUMNS, TABLES

# the run-log timestamps, also where a model carries them on (stg_raw__close_metrics)
RUN_TIMES = {c for cols in RUN_LOG_COLUMNS.values() for c in cols if c.endswith("_at")}


def dump(db_path: Path, periods: set[str] | None = None) -> dict[str, list[tuple]]:
    """Every raw table and mart, rows sorted, without the run-log columns (when things
    ran): what the books hold. With `periods`, only the rows of those periods where a
    table has a `period` column."""
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        out = {}
        names = [("raw", t) for t in TABLES]
        names += con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema NOT IN ('raw', 'information_schema', 'main') "
            "ORDER BY 1, 2"
        ).fetchall()
        for schema, table in names:
            cols = [
                c
                for (c,) in con.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_schema = ? "
                    "AND table_name = ? ORDER BY ordinal_position",
                    [schema, table],
                ).fetchall()
                if c not in (RUN_LOG_COLUMNS.get(table, ()) if schema == "raw" else RUN_TIMES)
            ]
            where = ""
            if periods is not None and "period" in cols:
                where = " WHERE period IN (" + ", ".join(f"'{p}'" for p in sorted(periods)) + ")"
            rows = con.execute(f"SELECT {', '.join(cols)} FROM {schema}.{table}{where}").fetchall()
            out[f"{schema}.{table}"] = sorted(rows, key=repr)
        return out
    finally:
        con.close()


def differences(a: dict, b: dict) -> dict[str, tuple[list, list]]:
    """Per table, the rows only in `a` and the rows only in `b` (both ways)."""
    out = {}
    for name in sorted(set(a) | set(b)):
        left, right = a.get(name, []), b.get(name, [])
        only_a = [r for r in left if r not in right]
        only_b = [r for r in right if r not in left]
        if only_a or only_b or len(left) != len(right):
            out[name] = (only_a[:5], only_b[:5])
    return out
