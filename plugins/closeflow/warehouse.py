"""Warehouse I/O: the `raw` tables on DuckDB (embedded default) or PostgreSQL.

One small interface for both engines: create the contracted tables, read with SQL, and
replace a window's rows in one transaction (delete what the window produced, insert the
new rows), so a re-run never adds a second copy. DuckDB is reached through its own
driver (Arrow in and out, one writer at a time: connections are opened per operation and
closed at once); PostgreSQL through SQLAlchemy.

SQL passed in uses `:name` parameters on both engines.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa

from closeflow.schemas import TABLES, is_bookkeeping

_PARAM = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


def sql_type(dtype: pa.DataType, dialect: str) -> str:
    """The SQL column type for an Arrow type (the table contracts' types only)."""
    if pa.types.is_decimal(dtype):
        return f"DECIMAL({dtype.precision},{dtype.scale})"
    if pa.types.is_string(dtype):
        return "VARCHAR" if dialect == "duckdb" else "TEXT"
    if pa.types.is_int64(dtype):
        return "BIGINT"
    if pa.types.is_int32(dtype):
        return "INTEGER"
    if pa.types.is_float64(dtype):
        return "DOUBLE" if dialect == "duckdb" else "DOUBLE PRECISION"
    if pa.types.is_date32(dtype):
        return "DATE"
    if pa.types.is_timestamp(dtype):
        return "TIMESTAMPTZ" if dtype.tz else "TIMESTAMP"
    if pa.types.is_boolean(dtype):
        return "BOOLEAN"
    raise TypeError(f"no SQL type for {dtype}")


def conform(table: pa.Table | list[dict], schema: pa.Schema) -> pa.Table:
    """Return `table` with exactly `schema`'s columns, in order, cast (safely) to its types.

    A missing bookkeeping column (which run owns a row) comes back null; any other
    missing column is an error."""
    if isinstance(table, list):
        return pa.Table.from_pylist(table, schema=schema)
    for f in schema:
        if f.name not in table.column_names and is_bookkeeping(f):
            table = table.append_column(f, pa.nulls(table.num_rows, f.type))
    missing = [f.name for f in schema if f.name not in table.column_names]
    if missing:
        raise ValueError(f"missing columns {missing}")
    return table.select(schema.names).cast(schema)


def _bind(sql: str, params: Mapping[str, Any] | None) -> dict[str, Any]:
    """The parameters `sql` names (engines reject unused ones)."""
    names = set(_PARAM.findall(sql))
    return {k: v for k, v in (params or {}).items() if k in names}


class _DuckTxn:
    def __init__(self, con: Any, schema: str) -> None:
        self.con, self.schema = con, schema

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        self.con.execute(_PARAM.sub(r"$\1", sql), _bind(sql, params))

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> pa.Table:
        rel = self.con.sql(_PARAM.sub(r"$\1", sql), params=_bind(sql, params))
        return rel.to_arrow_table() if rel is not None else pa.table({})

    def insert(self, table: str, rows: pa.Table) -> None:
        if rows.num_rows == 0:
            return
        self.con.register("_incoming", rows)
        try:
            self.con.execute(f"INSERT INTO {self.schema}.{table} BY NAME SELECT * FROM _incoming")
        finally:
            self.con.unregister("_incoming")


class _PgTxn:
    def __init__(self, conn: Any, schema: str) -> None:
        self.conn, self.schema = conn, schema

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        from sqlalchemy import text

        self.conn.execute(text(sql), _bind(sql, params))

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> pa.Table:
        from sqlalchemy import text

        result = self.conn.execute(text(sql), _bind(sql, params))
        cols = list(result.keys())
        rows = [dict(zip(cols, r, strict=True)) for r in result]
        if not rows:
            return pa.table({c: pa.array([], pa.null()) for c in cols})
        return pa.Table.from_pylist(rows)

    def insert(self, table: str, rows: pa.Table) -> None:
        if rows.num_rows == 0:
            return
        from sqlalchemy import text

        cols = rows.column_names
        sql = (
            f"INSERT INTO {self.schema}.{table} ({', '.join(cols)}) "
            f"VALUES ({', '.join(':' + c for c in cols)})"
        )
        self.conn.execute(text(sql), rows.to_pylist())


class Txn:
    """Operations inside one warehouse transaction."""

    def __init__(self, impl: _DuckTxn | _PgTxn) -> None:
        self._impl = impl
        self.schema = impl.schema

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        self._impl.execute(sql, params)

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> pa.Table:
        return self._impl.query(sql, params)

    def insert(self, table: str, rows: pa.Table | list[dict]) -> int:
        rows = conform(rows, TABLES[table])
        self._impl.insert(table, rows)
        return rows.num_rows

    def replace(
        self,
        table: str,
        rows: pa.Table | list[dict],
        where: str,
        params: Mapping[str, Any] | None = None,
    ) -> int:
        """Delete the rows matching `where` (the window's own rows), then insert `rows`."""
        self.execute(f"DELETE FROM {self.schema}.{table} WHERE {where}", params)
        return self.insert(table, rows)


class Warehouse:
    """The warehouse at `url`: `duckdb:///path/file.duckdb` or `postgresql://…`."""

    def __init__(self, url: str, schema: str = "raw") -> None:
        self.url, self.schema = url, schema
        self._con = None
        # the contracted tables are made (or brought up to date) by the first transaction,
        # not on construction: naming a warehouse (to take its run lock, say) never opens it
        self._tables_ready = False
        if url.startswith("duckdb:///"):
            self.dialect = "duckdb"
            self.path = Path(url.removeprefix("duckdb:///"))
        elif url.startswith(("postgresql://", "postgresql+psycopg2://")):
            self.dialect = "postgresql"
            from sqlalchemy import create_engine

            pg_url = url.replace("postgresql://", "postgresql+psycopg2://", 1)
            self._engine = create_engine(pg_url, pool_pre_ping=True)
        else:
            raise ValueError(f"unsupported warehouse url {url!r}: use duckdb:/// or postgresql://")

    def __repr__(self) -> str:
        return f"Warehouse({self.dialect}, schema={self.schema})"

    @contextmanager
    def connected(self) -> Iterator[Warehouse]:
        """Keep one DuckDB connection open for the block (one step's work), then release
        the file for other processes. Re-entrant; a no-op on PostgreSQL (pooled)."""
        if self.dialect != "duckdb" or self._con is not None:
            yield self
            return
        import duckdb

        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._con = duckdb.connect(str(self.path))
        try:
            yield self
        finally:
            self._con.close()
            self._con = None

    @contextmanager
    def transaction(self) -> Iterator[Txn]:
        """One transaction: everything inside commits together or not at all."""
        if not self._tables_ready:
            self._tables_ready = True
            try:
                self.create_tables()
            except BaseException:
                self._tables_ready = False
                raise
        if self.dialect == "duckdb":
            with self.connected():
                con = self._con
                con.execute("BEGIN TRANSACTION")
                try:
                    yield Txn(_DuckTxn(con, self.schema))
                except BaseException:
                    con.execute("ROLLBACK")
                    raise
                con.execute("COMMIT")
        else:
            with self._engine.begin() as conn:
                yield Txn(_PgTxn(conn, self.schema))

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> pa.Table:
        with self.transaction() as txn:
            return txn.query(sql, params)

    def scalar(self, sql: str, params: Mapping[str, Any] | None = None) -> Any:
        table = self.query(sql, params)
        return table.column(0)[0].as_py() if table.num_rows else None

    def create_tables(self) -> None:
        """Create the `raw` schema and every contracted table if missing, and add the
        columns a newer contract has to a table an older closeflow created."""
        with self.transaction() as txn:
            txn.execute(f"CREATE SCHEMA IF NOT EXISTS {self.schema}")
            for name, schema in TABLES.items():
                cols = ", ".join(f"{f.name} {sql_type(f.type, self.dialect)}" for f in schema)
                txn.execute(f"CREATE TABLE IF NOT EXISTS {self.schema}.{name} ({cols})")
            have = txn.query(
                "SELECT table_name, column_name FROM information_schema.columns "
                "WHERE table_schema = :schema",
                {"schema": self.schema},
            ).to_pylist()
            existing = {(r["table_name"], r["column_name"]) for r in have}
            for name, schema in TABLES.items():
                for f in schema:
                    if (name, f.name) not in existing:
                        txn.execute(
                            f"ALTER TABLE {self.schema}.{name} "
                            f"ADD COLUMN {f.name} {sql_type(f.type, self.dialect)}"
                        )

    def read_table(
        self, table: str, where: str = "TRUE", params: Mapping | None = None
    ) -> pa.Table:
        """Rows of a contracted table, typed exactly as the contract says."""
        schema = TABLES[table]
        got = self.query(
            f"SELECT {', '.join(schema.names)} FROM {self.schema}.{table} WHERE {where}", params
        )
        if got.num_rows == 0:
            return schema.empty_table()
        return conform(got, schema)

    def dispose(self) -> None:
        if self.dialect == "postgresql":
            self._engine.dispose()
