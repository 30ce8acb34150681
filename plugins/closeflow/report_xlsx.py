"""The nightly report as an Excel workbook (openpyxl): one sheet per section of the HTML.

Amounts are numbers (written from Decimal, shown with two decimals), dates are dates, so
finance can filter and sum them. Text is always a string cell, never a formula: a
remittance text reading `=HYPERLINK(...)` stays text (no formula injection). The rows
handed in are already masked (closeflow.report.public_line): no account number in clear.
The History sheet carries a native Excel line chart of the match rate and the
unreconciled amount.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

MONEY_FORMAT = "#,##0.00"
PERCENT_FORMAT = '0.0" %"'
# a fixed timestamp in the workbook's properties: the same night gives the same workbook
EPOCH = dt.datetime(2000, 1, 1)

# (sheet title, section key, [(header, key, kind)]); kind: text | money | int | date | pct
SHEETS: list[tuple[str, str, list[tuple[str, str, str]]]] = [
    (
        "Statements",
        "statements",
        [
            ("Account", "account_id", "text"),
            ("Currency", "currency", "text"),
            ("From", "from_date", "date"),
            ("To", "to_date", "date"),
            ("Opening", "opening_balance", "money"),
            ("Movements", "movements", "money"),
            ("Lines", "lines", "int"),
            ("Closing", "closing_balance", "money"),
            ("Difference", "difference", "money"),
            ("Check", "check", "text"),
        ],
    ),
    (
        "Balance gaps",
        "balance_gaps",
        [("Since night", "since", "date"), ("What", "reason", "text")],
    ),
    (
        "Ledger vs bank",
        "ledger_vs_bank",
        [
            ("Account", "account_id", "text"),
            ("Name", "name", "text"),
            ("Currency", "currency", "text"),
            ("Ledger account", "ledger_account", "text"),
            ("Statement date", "statement_date", "date"),
            ("Bank balance", "statement_balance", "money"),
            ("Ledger balance", "ledger_balance", "money"),
            ("Difference", "difference", "money"),
            ("Note", "note", "text"),
        ],
    ),
    (
        "New matches by rule",
        "new_matches_by_rule",
        [
            ("Rule", "rule", "text"),
            ("Status", "status", "text"),
            ("Currency", "currency", "text"),
            ("Matches", "matches", "int"),
            ("Bank lines", "lines", "int"),
            ("Amount", "amount", "money"),
        ],
    ),
    (
        "Suggestions",
        "suggestions",
        [
            ("Booking date", "booking_date", "date"),
            ("Account", "account_id", "text"),
            ("Counterparty", "counterparty_name", "text"),
            ("Reference", "remittance_info", "text"),
            ("Amount", "amount", "money"),
            ("Currency", "currency", "text"),
            ("Supplier", "supplier_name", "text"),
            ("Invoice", "invoice_number", "text"),
            ("Would settle", "matched_amount", "money"),
            ("Rule", "rule", "text"),
            ("Score", "score", "pct_fraction"),
        ],
    ),
    (
        "Write-offs",
        "write_offs",
        [
            ("Booking date", "booking_date", "date"),
            ("Supplier", "supplier_name", "text"),
            ("Invoice", "invoice_number", "text"),
            ("Settled", "matched_amount", "money"),
            ("Difference", "difference", "money"),
            ("Currency", "item_currency", "text"),
            ("Account", "difference_account", "text"),
            ("Status", "status", "text"),
        ],
    ),
    (
        "Unmatched by age",
        "unmatched_buckets",
        [("Age", "bucket", "text"), ("Lines", "count", "int"), ("Amount", "amount", "money")],
    ),
    (
        "Unmatched lines",
        "unmatched_lines",
        [
            ("Booking date", "booking_date", "date"),
            ("Age (days)", "age_days", "int"),
            ("Age bucket", "bucket", "text"),
            ("Account", "account_id", "text"),
            ("Counterparty", "counterparty_name", "text"),
            ("Counterparty account", "counterparty_account", "text"),
            ("Reference", "remittance_info", "text"),
            ("Amount", "amount", "money"),
            ("Currency", "currency", "text"),
            ("Amount (functional)", "amount_functional", "money"),
        ],
    ),
    (
        "Open items by age",
        "open_item_buckets",
        [("Age", "bucket", "text"), ("Items", "count", "int"), ("Amount", "amount", "money")],
    ),
    (
        "Open items",
        "open_items",
        [
            ("Invoice date", "invoice_date", "date"),
            ("Due date", "due_date", "date"),
            ("Age (days)", "age_days", "int"),
            ("Age bucket", "bucket", "text"),
            ("Supplier", "supplier_name", "text"),
            ("Invoice", "invoice_number", "text"),
            ("Open", "amount_open", "money"),
            ("Currency", "currency", "text"),
            ("Open (functional)", "amount_functional", "money"),
        ],
    ),
    (
        "Review",
        "review",
        [("What", "item_type", "text"), ("Reason", "reason", "text"), ("Details", "label", "text")],
    ),
    (
        "Bank lines tonight",
        "tonight",
        [
            ("Booking date", "booking_date", "date"),
            ("Account", "account_id", "text"),
            ("Line", "line_id", "text"),
            ("Amount", "amount", "money"),
            ("Currency", "currency", "text"),
            ("Counterparty", "counterparty_name", "text"),
            ("Reference", "remittance_info", "text"),
            ("Outcome", "outcome", "text"),
            ("Invoice", "invoice_number", "text"),
            ("Supplier", "supplier_name", "text"),
        ],
    ),
    (
        "History",
        "history",
        [
            ("Night", "night", "date"),
            ("Lines (30 days)", "lines", "int"),
            ("Explained", "explained", "int"),
            ("Match rate by count", "rate_count", "pct"),
            ("Match rate by amount", "rate_amount", "pct"),
            ("Unmatched lines", "unmatched", "int"),
            ("Unreconciled amount", "unreconciled", "money"),
        ],
    ),
]


def _put(ws, row: int, col: int, value: object, kind: str) -> None:
    cell = ws.cell(row=row, column=col)
    if value is None or value == "":
        return
    if kind in ("money", "pct", "int", "pct_fraction"):
        if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
            cell.value = value
            if kind == "money":
                cell.number_format = MONEY_FORMAT
            elif kind == "pct":
                cell.number_format = PERCENT_FORMAT
            return
        if isinstance(value, float) and kind == "pct_fraction":  # a match score, not money
            cell.value = value
            cell.number_format = "0.00"
            return
    if kind == "date" and isinstance(value, dt.date):
        cell.value = value
        cell.number_format = "yyyy-mm-dd"
        return
    cell.value = str(value)
    cell.data_type = "s"  # text, never a formula, whatever it starts with


def _sheet(wb: Workbook, title: str, columns: list[tuple[str, str, str]], rows: list[dict]):
    ws = wb.create_sheet(title)
    for c, (header, _, _) in enumerate(columns, start=1):
        _put(ws, 1, c, header, "text")
        ws.cell(row=1, column=c).font = Font(bold=True)
    for r, row in enumerate(rows, start=2):
        for c, (_, key, kind) in enumerate(columns, start=1):
            _put(ws, r, c, row.get(key), kind)
    for c, (header, key, _) in enumerate(columns, start=1):
        longest = max([len(header)] + [len(str(row.get(key) or "")) for row in rows[:200]])
        ws.column_dimensions[get_column_letter(c)].width = min(60, max(9, longest + 2))
    ws.freeze_panes = "A2"
    return ws


def _history_chart(ws, n: int) -> None:
    """A line of the match rate and bars of the unreconciled amount, night by night."""
    if n == 0:
        return
    nights = Reference(ws, min_col=1, min_row=2, max_row=n + 1)
    rate = LineChart()
    rate.title = "Match rate (%) and unreconciled amount"
    rate.y_axis.title = "match rate %"
    rate.add_data(Reference(ws, min_col=4, min_row=1, max_row=n + 1), titles_from_data=True)
    rate.set_categories(nights)
    amount = BarChart()
    amount.add_data(Reference(ws, min_col=7, min_row=1, max_row=n + 1), titles_from_data=True)
    amount.y_axis.axId = 200
    amount.y_axis.title = "unreconciled"
    amount.y_axis.crosses = "max"
    rate += amount
    rate.width, rate.height = 24, 10
    ws.add_chart(rate, "I2")


def write_workbook(path: Path, summary: list[tuple[str, object]], sections: dict) -> Path:
    """Write the report's workbook to `path`: a Summary sheet of (label, value) pairs,
    then one sheet per section in SHEETS (rows already masked)."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Summary"
    for r, (label, value) in enumerate(summary, start=1):
        _put(ws, r, 1, label, "text")
        kind = "money" if isinstance(value, Decimal) else "int" if isinstance(value, int) else ""
        _put(ws, r, 2, value, kind or ("date" if isinstance(value, dt.date) else "text"))
    ws.column_dimensions["A"].width = 44
    ws.column_dimensions["B"].width = 28
    for title, key, columns in SHEETS:
        sheet = _sheet(wb, title, columns, sections.get(key) or [])
        if key == "history":
            _history_chart(sheet, len(sections.get(key) or []))
    wb.properties.created = wb.properties.modified = EPOCH
    wb.properties.creator = "closeflow"
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path
