"""The ledger marts built by `closeflow.dbt.build` on DuckDB and PostgreSQL.

Each engine gets the same small ledger (ledger.py) and must produce the trial balance
and general ledger worked out by hand, with money as DECIMAL(18,2); books that do not
balance must stop the build and name the test that caught them.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from decimal import Decimal

import pytest

from closeflow.dbt import DbtBuildError, DbtResult, build
from closeflow.warehouse import Warehouse
from tests.dbt.ledger import BANK_LEDGER, ENTRIES, TRIAL_BALANCE, entry, load_ledger

MARTS = {"fct_journal_lines", "general_ledger", "trial_balance"}


def rows(url: str, sql: str) -> list[dict]:
    wh = Warehouse(url)
    try:
        return wh.query(sql).to_pylist()
    finally:
        wh.dispose()


@pytest.fixture(scope="module")
def built(engine: str) -> tuple[str, DbtResult]:
    """The balanced ledger in `raw`, built into `analytics`."""
    load_ledger(engine)
    return engine, build(engine)


def test_build_reports_models_and_tests(built):
    _, result = built
    assert result.success
    assert result.models_failed == result.tests_failed == result.skipped == 0
    built_models = {n.name for n in result.nodes if n.resource_type == "model"}
    assert MARTS <= built_models
    assert result.models_built == len(built_models)
    assert result.tests_passed == sum(1 for n in result.nodes if n.resource_type == "test")
    assert {"assert_journal_entries_balance", "assert_trial_balance_sums_to_zero"} <= {
        n.name for n in result.nodes if n.status == "pass"
    }
    assert result.as_dict()["failures"] == []


def test_layers_land_in_their_schemas(built):
    url, _ = built
    found = {
        (r["table_schema"], r["table_name"])
        for r in rows(
            url,
            "select table_schema, table_name from information_schema.tables "
            "where table_schema like 'analytics%'",
        )
    }
    assert {("analytics", m) for m in MARTS} <= found
    assert ("analytics_staging", "stg_raw__journal_lines") in found
    assert ("analytics_intermediate", "int_journal_lines_enriched") in found


def test_trial_balance_for_one_account_and_period(built):
    url, _ = built
    (bank,) = rows(
        url,
        "select * from analytics.trial_balance where period = '2026-02' and account = '1200'",
    )
    assert bank["account_name"] == "Bank EUR"
    assert bank["account_type"] == "asset"
    assert bank["opening_balance"] == Decimal("12500.50")
    assert bank["period_debits"] == Decimal("0.00")
    assert bank["period_credits"] == Decimal("1001.25")
    assert bank["period_net"] == Decimal("-1001.25")
    assert bank["closing_balance"] == Decimal("11499.25")
    assert bank["line_count"] == 2


def test_trial_balance_equals_the_hand_computed_one(built):
    url, _ = built
    got: dict[str, dict[str, tuple]] = {}
    for r in rows(url, "select * from analytics.trial_balance"):
        got.setdefault(r["period"], {})[r["account"]] = tuple(
            r[c]
            for c in (
                "opening_balance",
                "period_debits",
                "period_credits",
                "period_net",
                "closing_balance",
            )
        )
    expected = {
        period: {acct: tuple(Decimal(v) for v in values) for acct, values in accounts.items()}
        for period, accounts in TRIAL_BALANCE.items()
    }
    # February lists equity and revenue (no lines that month) and not the unused 8999
    assert got == expected


def test_every_period_sums_to_zero(built):
    url, _ = built
    totals = rows(
        url,
        "select period, sum(opening_balance) as opening, sum(period_net) as net, "
        "sum(closing_balance) as closing, sum(period_debits) - sum(period_credits) as diff "
        "from analytics.trial_balance group by period order by period",
    )
    assert [t["period"] for t in totals] == ["2026-01", "2026-02"]
    for t in totals:
        assert t["opening"] == t["net"] == t["closing"] == t["diff"] == 0, t


def test_general_ledger_running_balance(built):
    url, _ = built
    bank = rows(
        url,
        "select entry_id, amount, running_balance, ledger_sequence "
        "from analytics.general_ledger where account = '1200' order by ledger_sequence",
    )
    assert [(r["entry_id"], r["amount"], r["running_balance"]) for r in bank] == [
        (e, Decimal(a), Decimal(b)) for e, a, b in BANK_LEDGER
    ]
    assert [r["ledger_sequence"] for r in bank] == [1, 2, 3, 4]
    # each account's last running balance is its closing balance in the last period
    last = rows(
        url,
        "select account, running_balance from analytics.general_ledger g "
        "where ledger_sequence = (select max(ledger_sequence) from analytics.general_ledger h "
        "where h.account = g.account)",
    )
    assert {r["account"]: r["running_balance"] for r in last} == {
        acct: Decimal(values[4]) for acct, values in TRIAL_BALANCE["2026-02"].items()
    }


def test_fct_journal_lines_one_row_per_line_with_account(built):
    url, _ = built
    lines = rows(url, "select * from analytics.fct_journal_lines")
    assert len(lines) == sum(len(e[4]) for e in ENTRIES)
    (rent,) = [r for r in lines if r["journal_line_id"] == "E-002-1"]
    assert (rent["account"], rent["account_name"], rent["account_type"]) == (
        "6200",
        "Rent",
        "expense",
    )
    assert (rent["debit_amount"], rent["credit_amount"]) == (Decimal("1000.00"), Decimal("0.00"))
    assert rent["entry_date"] == dt.date(2026, 1, 5)


def test_mart_money_columns_are_decimal_18_2(built):
    url, _ = built
    columns = rows(
        url,
        "select table_name, column_name, data_type, numeric_precision, numeric_scale "
        "from information_schema.columns where table_schema = 'analytics'",
    )
    money = {
        "fct_journal_lines": {"amount", "debit_amount", "credit_amount", "amount_txn"},
        "general_ledger": {"amount", "debit_amount", "credit_amount", "running_balance"},
        "trial_balance": {
            "opening_balance",
            "period_debits",
            "period_credits",
            "period_net",
            "closing_balance",
        },
    }
    checked = 0
    for c in columns:
        assert "double" not in c["data_type"].lower() and "real" not in c["data_type"].lower()
        assert "float" not in c["data_type"].lower(), c
        if c["column_name"] in money.get(c["table_name"], ()):
            assert c["data_type"].lower() in ("decimal(18,2)", "numeric"), c
            assert (c["numeric_precision"], c["numeric_scale"]) == (18, 2), c
            checked += 1
    assert checked == sum(len(v) for v in money.values())


@pytest.mark.parametrize(
    "engine", ["duckdb"], indirect=True
)  # the PostgreSQL negative test below is that engine's second build
def test_repeated_build_in_the_same_process(built):
    url, first = built
    again = build(url)
    assert (again.models_built, again.tests_passed) == (first.models_built, first.tests_passed)
    assert again.artifacts_dir == first.artifacts_dir  # partial parse re-used
    (count,) = rows(url, "select count(*) as n from analytics.trial_balance")
    assert count["n"] == sum(len(a) for a in TRIAL_BALANCE.values())


# DuckDB only: one writer per file.
@pytest.mark.parametrize("engine", ["duckdb"], indirect=True)
def test_duckdb_file_is_released_after_build(built):
    url, _ = built
    path = url.removeprefix("duckdb:///")
    # another process can open the warehouse for writing: dbt let go of it
    subprocess.run(
        [sys.executable, "-c", f"import duckdb; duckdb.connect({path!r}).execute('checkpoint')"],
        check=True,
        timeout=60,
    )


def test_unbalanced_books_fail_the_build_and_name_the_test(engine):
    unbalanced = [
        entry("E-BAD", "2026-02-12", "manual", ("6200", "10.00"), ("2000", "-9.99")),
        entry("E-ORPHAN", "2026-02-13", "manual", ("7777", "5.00"), ("1200", "-5.00")),
    ]
    load_ledger(engine, raw_schema="raw_unbalanced", extra_entries=unbalanced)

    with pytest.raises(DbtBuildError) as caught:
        build(engine, raw_schema="raw_unbalanced", target_schema="analytics_unbalanced")

    error = caught.value
    failed = {n.name for n in error.failures}
    assert {"assert_journal_entries_balance", "assert_journal_line_accounts_exist"} <= failed
    message = str(error)
    assert "assert_journal_entries_balance" in message
    assert "E-BAD" in message and "0.01" in message  # the failing rows, in the message
    assert "7777" in message
    # the marts are not built from books that do not balance
    skipped = {n.name for n in error.result.nodes if n.status == "skipped"}
    assert MARTS <= skipped
    tables = rows(
        engine,
        "select table_name from information_schema.tables "
        "where table_schema = 'analytics_unbalanced'",
    )
    assert not MARTS & {t["table_name"] for t in tables}


@pytest.mark.parametrize(
    "engine", ["duckdb"], indirect=True
)  # selection is engine-independent; once is enough
def test_an_undone_match_no_longer_stands(built):
    """stg_raw__matches keys a match by id and status (an undone match has two rows) and
    says which stand; the decisions are staged with who undid what."""
    url, _ = built
    got = rows(
        url,
        "select match_id, match_status, matched_amount, is_standing "
        "from analytics_staging.stg_raw__matches order by match_id, match_status",
    )
    assert [tuple(r.values()) for r in got] == [
        ("m1", "auto", Decimal("500.00"), False),
        ("m1", "undone", Decimal("-500.00"), False),
        ("m2", "auto", Decimal("250.00"), True),
    ]
    (decision,) = rows(url, "select * from analytics_staging.stg_raw__match_decisions")
    assert (decision["decision"], decision["decided_by"], decision["open_item_id"]) == (
        "undo",
        "anna",
        "inv1",
    )


def test_select_builds_only_the_selection(built):
    url, _ = built
    result = build(url, select="trial_balance")
    assert [n.name for n in result.nodes if n.resource_type == "model"] == ["trial_balance"]
    assert result.models_built == 1 and result.tests_passed > 0
