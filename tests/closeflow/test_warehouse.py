"""The warehouse on DuckDB and PostgreSQL: contracted tables, window replacement, rollback."""

import datetime as dt
from decimal import Decimal

import pytest

from closeflow.schemas import TABLES
from closeflow.warehouse import Warehouse, sql_type


def _line(n: int, amount: str, run: str = "post:2026-01-05") -> dict:
    return {
        "entry_id": "INV-1",
        "line_no": n,
        "entry_date": dt.date(2026, 1, 5),
        "period": "2026-01",
        "account": "6200" if n == 1 else "2000",
        "amount": Decimal(amount),
        "currency": "EUR",
        "amount_txn": Decimal(amount),
        "fx_rate": Decimal("1"),
        "cost_center": None,
        "supplier_id": "SUP-001",
        "source_type": "invoice",
        "source_id": "abc",
        "rule_id": "r1",
        "rule_version": "v1",
        "description": "test",
        "run_id": run,
    }


@pytest.fixture(params=["duckdb", "postgresql"])
def warehouse(request, tmp_path):
    if request.param == "duckdb":
        wh = Warehouse(f"duckdb:///{tmp_path / 'wh.duckdb'}")
    else:
        wh = Warehouse(request.getfixturevalue("pg_url"))
    wh.create_tables()
    yield wh
    wh.dispose()


def test_every_contracted_table_exists_with_its_columns(warehouse):
    for name, schema in TABLES.items():
        assert warehouse.read_table(name).schema == schema, name


def test_replace_twice_keeps_one_copy_and_exact_decimals(warehouse):
    for _ in range(2):
        with warehouse.transaction() as t:
            t.replace(
                "journal_lines",
                [_line(1, "100.05"), _line(2, "-100.05")],
                "run_id = :r",
                {"r": "post:2026-01-05"},
            )
    rows = warehouse.read_table("journal_lines").to_pylist()
    assert [r["amount"] for r in rows] == [Decimal("100.05"), Decimal("-100.05")]
    assert warehouse.scalar("SELECT SUM(amount) FROM raw.journal_lines") == Decimal("0.00")


def test_replace_touches_only_its_own_window(warehouse):
    with warehouse.transaction() as t:
        t.insert("journal_lines", [_line(1, "5.00", "post:2026-01-04")])
        t.replace("journal_lines", [_line(1, "7.00")], "run_id = :r", {"r": "post:2026-01-05"})
    with warehouse.transaction() as t:
        t.replace("journal_lines", [], "run_id = :r", {"r": "post:2026-01-05"})
    assert warehouse.read_table("journal_lines").column("amount").to_pylist() == [Decimal("5.00")]


def test_failed_transaction_loses_nothing_already_written(warehouse):
    with warehouse.transaction() as t:
        t.insert("journal_lines", [_line(1, "1.00"), _line(2, "-1.00")])
    with pytest.raises(RuntimeError), warehouse.transaction() as t:
        t.execute("DELETE FROM raw.journal_lines")
        raise RuntimeError("step failed half way")
    assert warehouse.scalar("SELECT count(*) FROM raw.journal_lines") == 2


def test_an_older_table_gets_the_new_columns_and_printed_prices_stay_exact(warehouse):
    with warehouse.transaction() as t:
        t.execute("DROP TABLE raw.invoice_lines")
        t.execute(  # the contract before unit, spec and the wider quantity / price
            "CREATE TABLE raw.invoice_lines (invoice_id TEXT, line_no INTEGER, "
            "description TEXT, quantity DECIMAL(18,4), unit_price DECIMAL(18,2), "
            "amount DECIMAL(18,2), tax_rate DECIMAL(18,6), tax_amount DECIMAL(18,2))"
        )
    warehouse.create_tables()
    cols = (
        warehouse.query(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = 'raw' AND table_name = 'invoice_lines' ORDER BY ordinal_position"
        )
        .column(0)
        .to_pylist()
    )
    assert cols[-2:] == ["unit", "spec"]
    warehouse.create_tables()  # idempotent: nothing more to add
    assert (
        cols
        == warehouse.query(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = 'raw' AND table_name = 'invoice_lines' ORDER BY ordinal_position"
        )
        .column(0)
        .to_pylist()
    )
    with warehouse.transaction() as t:
        t.execute("DROP TABLE raw.invoice_lines")
    warehouse.create_tables()
    row = {
        "invoice_id": "a" * 64,
        "line_no": 1,
        "description": "*纸制品*复印纸",
        "quantity": Decimal("33.33333333"),
        "unit_price": Decimal("7.079646017699"),
        "amount": Decimal("235.99"),
        "tax_rate": Decimal("0.13"),
        "tax_amount": Decimal("30.68"),
        "unit": "箱",
        "spec": "A4 70g",
    }
    with warehouse.transaction() as t:
        t.insert("invoice_lines", [row])
    assert warehouse.read_table("invoice_lines").to_pylist() == [row]


def test_an_older_ledger_gets_the_project_column_and_keeps_its_lines(warehouse):
    """journal_lines from before the project dimension: the column is added, the old
    lines stay (project empty) and new lines carry their project."""
    old = [f for f in TABLES["journal_lines"] if f.name != "project"]
    with warehouse.transaction() as t:
        t.execute("DROP TABLE raw.journal_lines")
        cols = ", ".join(f"{f.name} {sql_type(f.type, warehouse.dialect)}" for f in old)
        t.execute(f"CREATE TABLE raw.journal_lines ({cols})")
        names = ", ".join(f.name for f in old)
        t.execute(
            f"INSERT INTO raw.journal_lines ({names}) VALUES ("
            + ", ".join(f":{f.name}" for f in old)
            + ")",
            _line(1, "10.00", run="post:2026-01-04"),
        )
    warehouse.create_tables()
    with warehouse.transaction() as t:
        t.insert("journal_lines", [_line(1, "20.00") | {"project": "APOLLO"}])
    got = warehouse.read_table("journal_lines", "TRUE ORDER BY run_id")
    assert [(r["amount"], r["project"]) for r in got.to_pylist()] == [
        (Decimal("10.00"), None),
        (Decimal("20.00"), "APOLLO"),
    ]
