"""A small balanced ledger worked out by hand, and how to load it into `raw`.

A few accounts and six entries across 2026-01 and 2026-02: small enough to compute the
trial balance and general ledger by hand, so the tests read like worked examples.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from closeflow.warehouse import Warehouse

ACCOUNTS = [
    ("1200", "Bank EUR", "asset"),
    ("2000", "Accounts payable", "liability"),
    ("3000", "Share capital", "equity"),
    ("4000", "Revenue", "income"),
    ("6200", "Rent", "expense"),
    ("6900", "Bank fees", "expense"),
    ("8999", "Rounding", "expense"),  # never posted to: not in the trial balance
]


def entry(entry_id: str, day: str, source_type: str, *lines: tuple[str, str]) -> tuple:
    """One journal entry: id, date, period (the date's month), source type, lines."""
    date = dt.date.fromisoformat(day)
    return (entry_id, date, date.strftime("%Y-%m"), source_type, list(lines))


ENTRIES = [
    entry("E-001", "2026-01-02", "manual", ("1200", "10000.00"), ("3000", "-10000.00")),
    entry("E-002", "2026-01-05", "invoice", ("6200", "1000.00"), ("2000", "-1000.00")),
    entry("E-003", "2026-01-20", "manual", ("1200", "2500.50"), ("4000", "-2500.50")),
    entry("E-004", "2026-02-03", "payment", ("2000", "1000.00"), ("1200", "-1000.00")),
    entry("E-005", "2026-02-03", "bank_fee", ("6900", "1.25"), ("1200", "-1.25")),
    entry(
        "E-006",
        "2026-02-10",
        "invoice",
        ("6200", "833.33"),
        ("6200", "166.67"),
        ("2000", "-1000.00"),
    ),
]

# period -> account -> (opening, debits, credits, net, closing), worked out by hand
TRIAL_BALANCE = {
    "2026-01": {
        "1200": ("0.00", "12500.50", "0.00", "12500.50", "12500.50"),
        "2000": ("0.00", "0.00", "1000.00", "-1000.00", "-1000.00"),
        "3000": ("0.00", "0.00", "10000.00", "-10000.00", "-10000.00"),
        "4000": ("0.00", "0.00", "2500.50", "-2500.50", "-2500.50"),
        "6200": ("0.00", "1000.00", "0.00", "1000.00", "1000.00"),
    },
    "2026-02": {
        "1200": ("12500.50", "0.00", "1001.25", "-1001.25", "11499.25"),
        "2000": ("-1000.00", "1000.00", "1000.00", "0.00", "-1000.00"),
        "3000": ("-10000.00", "0.00", "0.00", "0.00", "-10000.00"),  # no lines in February
        "4000": ("-2500.50", "0.00", "0.00", "0.00", "-2500.50"),  # no lines in February
        "6200": ("1000.00", "1000.00", "0.00", "1000.00", "2000.00"),
        "6900": ("0.00", "1.25", "0.00", "1.25", "1.25"),  # first used in February
    },
}

# the bank account's ledger: (entry_id, amount, running balance)
BANK_LEDGER = [
    ("E-001", "10000.00", "10000.00"),
    ("E-003", "2500.50", "12500.50"),
    ("E-004", "-1000.00", "11500.50"),  # same day as E-005: entry id decides
    ("E-005", "-1.25", "11499.25"),
]


def journal_rows(entries: list) -> list[dict]:
    """Rows of raw.journal_lines for `entries` (EUR, rate 1)."""
    rows = []
    for entry_id, day, period, source_type, lines in entries:
        for line_no, (account, amount) in enumerate(lines, start=1):
            rows.append(
                {
                    "entry_id": entry_id,
                    "line_no": line_no,
                    "entry_date": day,
                    "period": period,
                    "account": account,
                    "amount": Decimal(amount),
                    "currency": "EUR",
                    "amount_txn": Decimal(amount),
                    "fx_rate": Decimal("1.000000"),
                    "source_type": source_type,
                    "source_id": entry_id,
                    "description": f"{entry_id} line {line_no}",
                    "run_id": "test",
                }
            )
    return rows


# Two payments matched by the night of 2026-02-03; a person undid the first the day after,
# so the night of 2026-02-04 wrote its `undone` row (closeflow.match_state).
BANK_LINES = [
    {
        "line_id": f"S0203:{n}",
        "statement_id": "S0203",
        "booking_date": dt.date(2026, 2, 3),
        "amount": -amount,
        "currency": "EUR",
        "run_id": "bank:2026-02-03",
    }
    for n, amount in ((1, Decimal("500.00")), (2, Decimal("250.00")))
]
MATCHES = [
    {
        "match_id": match_id,
        "bank_line_id": line,
        "item_id": item,
        "matched_amount": amount,
        "rule": "reference+exact_amount",
        "score": 1.0,
        "difference": Decimal(0),
        "status": status,
        "run_id": run,
    }
    for match_id, line, item, amount, status, run in (
        ("m1", "S0203:1", "inv1", Decimal("500.00"), "auto", "reconcile:2026-02-03"),
        ("m1", "S0203:1", "inv1", Decimal("-500.00"), "undone", "reconcile:2026-02-04"),
        ("m2", "S0203:2", "inv2", Decimal("250.00"), "auto", "reconcile:2026-02-03"),
    )
]
DECISIONS = [
    {
        "decision_id": "d1",
        "bank_line_id": "S0203:1",
        "item_id": "inv1",
        "decision": "undo",
        "rule": "reference+exact_amount",
        "score": 1.0,
        "reason": "a refund, not the invoice",
        "decided_by": "anna",
        "decided_at": dt.datetime(2026, 2, 4, 9, tzinfo=dt.UTC),
    }
]


def load_ledger(url: str, raw_schema: str = "raw", extra_entries: list | None = None) -> None:
    """Create the raw tables in `raw_schema` and load the chart and the ledger."""
    wh = Warehouse(url, schema=raw_schema)
    try:
        wh.create_tables()
        with wh.transaction() as txn:
            txn.insert(
                "accounts",
                [
                    dict(zip(("account", "account_name", "account_type"), a, strict=True))
                    for a in ACCOUNTS
                ],
            )
            txn.insert("journal_lines", journal_rows(ENTRIES + (extra_entries or [])))
            txn.insert("bank_lines", BANK_LINES)
            txn.insert("matches", MATCHES)
            txn.insert("match_decisions", DECISIONS)
    finally:
        wh.dispose()
