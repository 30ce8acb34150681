"""The nightly reconciliation books the bank lines no invoice explains by the company's
bank rules: balanced entries against the bank's ledger account that record the rule; a
re-run gives the same rows and a later night adds none; a locked period is never
written. And the opening balance sheet is posted as one `opening` entry."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest

from closeflow.config import ConfigError, FxRates
from closeflow.invoice_posting import post
from closeflow.opening import load_opening_balances
from closeflow.periods import lock
from closeflow.reconcile import NO_MATCH
from closeflow.reconciliation import reconcile_window
from closeflow.report import window_reconciliation
from closeflow.runtime import Runtime, Window
from closeflow.sample.company import build_company, write_company_folder
from closeflow.sample.fx import cny_rates
from closeflow.sample.suppliers import build_suppliers
from tests.bank_statements import insert_statement

DAY, NEXT = dt.date(2026, 1, 12), dt.date(2026, 1, 13)
COMPANY = build_company(7)


@pytest.fixture(params=["duckdb", "postgresql"])
def rt(tmp_path, request):
    write_company_folder(
        tmp_path / "company",
        COMPANY,
        build_suppliers(7),
        cny_rates(7, dt.date(2026, 1, 1), dt.date(2026, 3, 1)),
        "2026-01",
    )
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    if request.param == "postgresql":
        url = request.getfixturevalue("pg_url")
    rt = Runtime(home=tmp_path, warehouse_url=url)
    yield rt
    rt.warehouse.dispose()


def _statement(rt: Runtime, sid: str, day: dt.date, lines: list[tuple]) -> None:
    """A EUR statement imported by the night of `day`: (amount, name, text) per line."""
    insert_statement(rt, sid, day, COMPANY.eur_iban, lines)


def _booked(rt: Runtime) -> list[tuple]:
    raw = rt.warehouse.schema
    return [
        tuple(r.values())
        for r in rt.warehouse.query(
            f"SELECT source_id, line_no, entry_date, account, amount, amount_txn, source_type, "
            f"rule_id, cost_center, description, run_id FROM {raw}.journal_lines "
            f"WHERE source_type IN ('bank_rule', 'bank_fee') ORDER BY source_id, line_no"
        ).to_pylist()
    ]


def _review(rt: Runtime) -> list[tuple]:
    raw = rt.warehouse.schema
    return [
        (r["item_id"], r["reason"], r["created_run_id"])
        for r in rt.warehouse.query(
            f"SELECT item_id, reason, created_run_id FROM {raw}.review_queue "
            f"WHERE item_type = 'bank_line' ORDER BY item_id"
        ).to_pylist()
    ]


LINES = [
    ("300000.00", "Closeflow Holding AG", "Kapitaleinlage Closeflow Demo GmbH"),
    ("-4210.00", "Lena Schwarz", "Gehalt 01/2026 Lena Schwarz"),
    ("-12.90", "Commerzbank Hamburg", "Kontoführungsgebühr 12/2025"),
    ("18250.00", "Morgenrot Media AG", "RE AR-2026-0102 Zahlung"),
    ("-8.40", "Kaffeerösterei Elbe", "Kaffee und Bankchargesfrei-Bohnen"),
]


def test_rules_book_the_lines_no_invoice_explains(rt) -> None:
    _statement(rt, "S1", DAY, LINES)
    summary = reconcile_window(rt, Window.day(DAY, rt.tz))
    assert summary.counts["booked by bank rules"] == 3
    assert summary.counts["bank fees booked"] == 1
    run = "reconcile:2026-01-12"
    assert _booked(rt) == [
        ("S1:1", 1, DAY, "3100", D("-300000.00"), D("-300000.00"), "bank_rule", "capital", None,
         "Capital contribution Closeflow Holding AG: Kapitaleinlage Closeflow Demo GmbH", run),
        ("S1:1", 2, DAY, "1200", D("300000.00"), D("300000.00"), "bank_rule", "capital", None,
         "Capital contribution Closeflow Holding AG: Kapitaleinlage Closeflow Demo GmbH", run),
        ("S1:2", 1, DAY, "6000", D("4210.00"), D("4210.00"), "bank_rule", "salaries", "HR",
         "Gehalt 01/2026 Lena Schwarz", run),
        ("S1:2", 2, DAY, "1200", D("-4210.00"), D("-4210.00"), "bank_rule", "salaries", "HR",
         "Gehalt 01/2026 Lena Schwarz", run),
        ("S1:3", 1, DAY, "6900", D("12.90"), D("12.90"), "bank_fee", "bank-fees", None,
         "Kontoführungsgebühr 12/2025", run),
        ("S1:3", 2, DAY, "1200", D("-12.90"), D("-12.90"), "bank_fee", "bank-fees", None,
         "Kontoführungsgebühr 12/2025", run),
        ("S1:4", 1, DAY, "4000", D("-18250.00"), D("-18250.00"), "bank_rule",
         "customer-receipts", None, "Receipt Morgenrot Media AG: RE AR-2026-0102 Zahlung", run),
        ("S1:4", 2, DAY, "1200", D("18250.00"), D("18250.00"), "bank_rule",
         "customer-receipts", None, "Receipt Morgenrot Media AG: RE AR-2026-0102 Zahlung", run),
    ]  # fmt: skip
    # "Bankchargesfrei" holds "charges" only as part of a word: no rule, so it waits
    assert _review(rt) == [("S1:5", NO_MATCH, run)]
    raw = rt.warehouse.schema
    versions = rt.warehouse.query(
        f"SELECT DISTINCT rule_version FROM {raw}.journal_lines WHERE source_type LIKE 'bank_%'"
    )["rule_version"].to_pylist()
    assert versions == [rt.company.bank_rules().content_hash]


def test_a_rerun_gives_the_same_rows_and_a_later_night_adds_none(rt) -> None:
    _statement(rt, "S1", DAY, LINES)
    reconcile_window(rt, Window.day(DAY, rt.tz))
    booked, review = _booked(rt), _review(rt)
    reconcile_window(rt, Window.day(DAY, rt.tz))
    assert _booked(rt) == booked and _review(rt) == review
    # the next night retries only what no earlier night explained (S1:5), and books a
    # new line of its own
    _statement(rt, "S2", NEXT, [("-1.50", "Commerzbank Hamburg", "Bank charges")])
    summary = reconcile_window(rt, Window.day(NEXT, rt.tz))
    assert summary.counts["bank lines tried"] == 2
    assert summary.counts["bank fees booked"] == 1
    assert summary.counts["booked by bank rules"] == 0
    new = [b for b in _booked(rt) if b not in booked]
    assert [(b[0], b[3], b[4], b[7], b[10]) for b in new] == [
        ("S2:1", "6900", D("1.50"), "bank-fees", "reconcile:2026-01-13"),
        ("S2:1", "1200", D("-1.50"), "bank-fees", "reconcile:2026-01-13"),
    ]
    assert _review(rt) == review  # S1:5 stays in review once, from its first night
    # re-running the first night after the second changes nothing
    reconcile_window(rt, Window.day(DAY, rt.tz))
    assert sorted(_booked(rt)) == sorted(booked + new)


def test_a_locked_period_is_never_written(rt) -> None:
    _statement(rt, "S1", DAY, LINES[:3])
    reconcile_window(rt, Window.day(DAY, rt.tz))
    booked = _booked(rt)
    lock(rt, "2026-01", by="controller", run_id="close:2026-01")
    # a re-run of a night of the locked month writes nothing and says so
    summary = reconcile_window(rt, Window.day(DAY, rt.tz))
    assert "locked" in summary.skipped
    assert _booked(rt) == booked
    # a January line the bank reports late is booked in February, saying why
    _statement(rt, "S9", DAY, [("-3.00", "Commerzbank Hamburg", "Bank charges")])
    raw = rt.warehouse.schema
    with rt.warehouse.transaction() as t:
        t.execute(f"UPDATE {raw}.bank_lines SET run_id = 'bank:2026-02-02' WHERE line_id = 'S9:1'")
    reconcile_window(rt, Window.day(dt.date(2026, 2, 2), rt.tz))
    late = [b for b in _booked(rt) if b[0] == "S9:1"]
    assert [(b[2], b[3], b[4]) for b in late] == [
        (dt.date(2026, 2, 1), "6900", D("3.00")),
        (dt.date(2026, 2, 1), "1200", D("-3.00")),
    ]
    assert late[0][9] == "Bank charges (period 2026-01 is closed; posted to 2026-02)"
    assert (
        rt.warehouse.scalar(
            f"SELECT count(*) FROM {raw}.journal_lines WHERE period = '2026-01' "
            f"AND run_id > 'reconcile:2026-01-12'"
        )
        == 0
    )


def _opening(rt: Runtime) -> list[tuple]:
    raw = rt.warehouse.schema
    return [
        (r["entry_date"], r["account"], r["amount"], r["run_id"])
        for r in rt.warehouse.query(
            f"SELECT entry_date, account, amount, run_id FROM {raw}.journal_lines "
            f"WHERE source_type = 'opening' ORDER BY line_no"
        ).to_pylist()
    ]


def test_the_opening_balance_sheet_posts_once_and_stays_when_its_period_is_locked(rt) -> None:
    start = dt.date(2026, 1, 1)
    want = [
        (start, "1200", D("25000.00"), "opening:2026-01-01"),
        (start, "3000", D("-25000.00"), "opening:2026-01-01"),
    ]
    post(rt, Window.day(dt.date(2026, 1, 2), rt.tz))
    assert _opening(rt) == want
    post(rt, Window.day(dt.date(2026, 1, 3), rt.tz))  # every night: the same rows, once
    assert _opening(rt) == want
    lock(rt, "2026-01", by="controller", run_id="close:2026-01")
    sheet = rt.home / "company" / "opening_balances.csv"
    sheet.write_text(
        sheet.read_text().replace("25000.00", "30000.00"), encoding="utf-8"
    )  # a correction after the close: the locked entry stays
    summary = post(rt, Window.day(dt.date(2026, 2, 2), rt.tz))
    assert summary.counts["opening balances"].startswith("left as it is: period 2026-01")
    assert _opening(rt) == want


def test_an_opening_balance_sheet_that_does_not_balance_is_refused(tmp_path) -> None:
    path = tmp_path / "opening_balances.csv"
    fx = FxRates({("CNY", dt.date(2026, 1, 1)): D("0.128")})
    chart = {"1200", "1210", "3000"}
    path.write_text(
        "account,amount,currency,date\n"
        "1200,25000.00,EUR,2026-01-01\n"
        "1210,1000.00,CNY,2026-01-01\n"
        "3000,-25000.00,EUR,2026-01-01\n"
    )
    with pytest.raises(ConfigError, match="sum to 128.00 EUR, not 0.00") as err:
        load_opening_balances(path, chart, "EUR", fx)
    assert "equity" in err.value.fix
    path.write_text(path.read_text().replace("-25000.00", "-25128.00"))
    sheet = load_opening_balances(path, chart, "EUR", fx)
    assert [(b.account, b.amount, b.functional) for b in sheet.balances] == [
        ("1200", D("25000.00"), D("25000.00")),
        ("1210", D("1000.00"), D("128.00")),
        ("3000", D("-25128.00"), D("-25128.00")),
    ]
    path.write_text(path.read_text().replace("1210,", "1299,"))
    with pytest.raises(ConfigError, match="'1299' is not in the chart") as err:
        load_opening_balances(path, chart, "EUR", fx)
    assert err.value.line == 3
    path.write_text("account,amount,currency,date\n1200,25000.001,EUR,2026-01-01\n")
    with pytest.raises(ConfigError, match="not money") as err:
        load_opening_balances(path, chart, "EUR", fx)
    assert err.value.line == 2


def test_the_close_counts_each_line_once_and_rule_bookings_as_explained(rt) -> None:
    """The close's match rate: a line booked by a rule is explained, and a payment for two
    invoices is one line (its invoices joined), never two."""
    _statement(rt, "S1", DAY, LINES + [("-300.00", "Nordwind GmbH", "RE 7 und RE 8")])
    reconcile_window(rt, Window.day(DAY, rt.tz))
    with rt.warehouse.transaction() as t:  # the last line paid two invoices
        t.insert(
            "invoices",
            [
                {"invoice_id": f"I{n}", "invoice_number": f"RE {n}", "supplier_name": "Nordwind"}
                for n in (7, 8)
            ],
        )
        t.insert(
            "matches",
            [
                {"match_id": f"M{n}", "bank_line_id": "S1:6", "item_id": f"I{n}", "status": "auto"}
                for n in (7, 8)
            ],
        )
    lines = window_reconciliation(rt, Window.month("2026-01", rt.tz))
    assert [(r["line_id"], r["outcome"]) for r in lines] == [
        ("S1:1", "bank_rule"),
        ("S1:2", "bank_rule"),
        ("S1:3", "bank_fee"),
        ("S1:4", "bank_rule"),
        ("S1:5", "unmatched"),
        ("S1:6", "matched"),
    ]
    assert (lines[5]["invoice_number"], lines[5]["supplier_name"]) == ("RE 7, RE 8", "Nordwind")
