"""Arrow schemas of the warehouse's `raw` tables: the table contracts of DESIGN.md.

One schema per table; the warehouse DDL, the Parquet files of the command line and the
tests all derive from these, so a column is named and typed in exactly one place.
Money is decimal128(18, 2), rates decimal128(18, 6); never float.
"""

from __future__ import annotations

import pyarrow as pa

MONEY = pa.decimal128(18, 2)
RATE = pa.decimal128(18, 6)
TS = pa.timestamp("us", tz="UTC")
# Invoice lines print quantities and unit prices with more decimals than money has
# (a Chinese VAT invoice's 单价 7.079646017699): kept as printed, never rounded to cents.
QUANTITY = pa.decimal128(24, 8)
UNIT_PRICE = pa.decimal128(30, 12)


def bookkeeping(name: str) -> pa.Field:
    """A column the warehouse keeps for itself (which run owns a row, which inbox a file
    came from): written by the pipeline, optional in Parquet handed to the command line."""
    return pa.field(name, pa.string(), metadata={b"bookkeeping": b"1"})


def is_bookkeeping(field: pa.Field) -> bool:
    return bool(field.metadata and field.metadata.get(b"bookkeeping"))


FILE_STATUSES = ("extracted", "needs_review", "quarantined", "duplicate")
FILE_KINDS = ("invoice", "bank_statement")
SOURCE_TYPES = (
    "opening",
    "invoice",
    "payment",
    "bank_rule",
    "bank_fee",
    "fx_difference",
    "manual",
    "adjustment",
    "match_undo",
)
MATCH_STATUSES = ("auto", "suggested", "confirmed", "undone")

FILE_MANIFEST = pa.schema(
    [
        ("file_sha256", pa.string()),
        ("source_uri", pa.string()),
        ("received_at", TS),
        ("size_bytes", pa.int64()),
        ("media_type", pa.string()),
        ("status", pa.string()),
        ("reason", pa.string()),
        ("run_id", pa.string()),
        bookkeeping("kind"),  # invoice | bank_statement: which inbox the file came from
    ]
)

# What each window received, recorded when it first ran (closeflow.intake): a re-run
# reads these from the archive, never from the inbox, so moving or deleting inbox files
# loses nothing. One row per inbox entry per window; a link or special file is refused
# (archive_uri null, refusal set) and never opened.
FILE_ARRIVALS = pa.schema(
    [
        ("run_id", pa.string()),  # the window's intake: ingest:2026-01-05 | bank:2026-01-05
        ("kind", pa.string()),  # invoice | bank_statement
        ("source_uri", pa.string()),  # where it was received, relative to CLOSEFLOW_HOME
        ("file_sha256", pa.string()),
        ("size_bytes", pa.int64()),
        ("received_at", TS),
        ("archive_uri", pa.string()),  # archive/<sha[:2]>/<sha><ext>, relative to the home
        ("refusal", pa.string()),  # why it was not taken (a link, a device), else null
        ("recorded_at", TS),
    ]
)

INVOICES = pa.schema(
    [
        ("invoice_id", pa.string()),
        ("supplier_id", pa.string()),
        ("supplier_name", pa.string()),
        ("supplier_tax_id", pa.string()),
        ("buyer_name", pa.string()),
        ("buyer_tax_id", pa.string()),
        ("invoice_number", pa.string()),
        ("invoice_date", pa.date32()),
        ("due_date", pa.date32()),
        ("currency", pa.string()),
        ("subtotal", MONEY),
        ("tax_amount", MONEY),
        ("total", MONEY),
        ("document_type", pa.string()),
        ("payment_reference", pa.string()),
        ("supplier_iban", pa.string()),
        ("extraction_method", pa.string()),
        ("field_confidence", pa.string()),  # JSON object: field -> confidence in [0, 1]
        ("status", pa.string()),
        ("period", pa.string()),
        ("language", pa.string()),  # en, de, fr, nl, es, zh: detected per document
        ("invoice_kind", pa.string()),  # Chinese VAT: vat_special (专用) | vat_ordinary (普通)
        ("invoice_code", pa.string()),  # Chinese VAT: 发票代码
        ("check_code", pa.string()),  # Chinese VAT: 校验码
        bookkeeping("run_id"),  # the ingest run that owns the row (ingest:2026-01-05)
    ]
)

INVOICE_LINES = pa.schema(
    [
        ("invoice_id", pa.string()),
        ("line_no", pa.int32()),
        ("description", pa.string()),
        ("quantity", QUANTITY),
        ("unit_price", UNIT_PRICE),
        ("amount", MONEY),
        ("tax_rate", RATE),
        ("tax_amount", MONEY),
        ("unit", pa.string()),  # unit of measure (单位)
        ("spec", pa.string()),  # specification / model (规格型号)
    ]
)

INVOICE_TAXES = pa.schema(
    [
        # The tax per rate as the document prints it (one row per rate): what a VAT
        # return and the journal's tax lines need, kept apart from the line items because
        # many invoices print a tax summary but no line taxes.
        ("invoice_id", pa.string()),
        ("tax_rate", RATE),  # a fraction: 0.190000 for 19 %
        ("net_amount", MONEY),  # the net taxed at this rate
        ("tax_amount", MONEY),  # None where the document prints no tax for the rate
    ]
)

JOURNAL_LINES = pa.schema(
    [
        ("entry_id", pa.string()),
        ("line_no", pa.int32()),
        ("entry_date", pa.date32()),
        ("period", pa.string()),
        ("account", pa.string()),
        ("amount", MONEY),  # signed, debit positive, functional currency
        ("currency", pa.string()),  # transaction currency
        ("amount_txn", MONEY),  # signed, transaction currency
        ("fx_rate", RATE),  # functional units per one transaction-currency unit
        ("cost_center", pa.string()),
        ("supplier_id", pa.string()),
        ("source_type", pa.string()),
        ("source_id", pa.string()),
        ("rule_id", pa.string()),
        ("rule_version", pa.string()),
        ("description", pa.string()),
        ("run_id", pa.string()),
        ("project", pa.string()),  # project dimension, if a rule (or split) set one
    ]
)

BANK_STATEMENTS = pa.schema(
    [
        ("statement_id", pa.string()),
        ("account_id", pa.string()),
        ("currency", pa.string()),
        ("opening_balance", MONEY),
        ("closing_balance", MONEY),
        ("from_date", pa.date32()),
        ("to_date", pa.date32()),
        ("source_format", pa.string()),
        ("file_sha256", pa.string()),
        bookkeeping("run_id"),  # the bank import run that owns the row (bank:2026-01-05)
    ]
)

BANK_LINES = pa.schema(
    [
        ("line_id", pa.string()),
        ("statement_id", pa.string()),
        ("booking_date", pa.date32()),
        ("value_date", pa.date32()),
        ("amount", MONEY),  # signed, money in positive
        ("currency", pa.string()),
        ("counterparty_name", pa.string()),
        ("counterparty_account", pa.string()),
        ("remittance_info", pa.string()),
        ("bank_reference", pa.string()),
        ("end_to_end_id", pa.string()),
        bookkeeping("run_id"),  # the bank import run that owns the row
        # the bank's booking itself, the same in two overlapping downloads of it
        # (closeflow.bank.statement.line_keys): an import keeps the first
        bookkeeping("line_key"),
    ]
)

OPEN_ITEMS = pa.schema(
    [
        ("item_id", pa.string()),
        ("supplier_id", pa.string()),
        ("supplier_name", pa.string()),
        ("supplier_account", pa.string()),
        ("invoice_number", pa.string()),
        ("payment_reference", pa.string()),
        ("due_date", pa.date32()),
        ("amount_open", MONEY),  # positive: what we owe, transaction currency
        ("currency", pa.string()),
        bookkeeping("ap_account"),  # the payables account the invoice's entry credited
    ]
)

MATCHES = pa.schema(
    [
        ("match_id", pa.string()),
        ("bank_line_id", pa.string()),
        ("item_id", pa.string()),
        ("matched_amount", MONEY),
        ("rule", pa.string()),
        ("score", pa.float64()),  # match confidence, not money
        ("difference", MONEY),
        ("difference_account", pa.string()),
        ("status", pa.string()),  # auto | suggested | confirmed | undone (match_state)
        ("why", pa.string()),  # what the match rests on, in words
        ("run_id", pa.string()),
    ]
)

REVIEW_QUEUE = pa.schema(
    [
        ("item_type", pa.string()),  # file | invoice | bank_line | statement
        ("item_id", pa.string()),
        ("reason", pa.string()),
        ("details", pa.string()),  # JSON
        ("created_run_id", pa.string()),
        ("resolved_at", TS),
    ]
)

CLOSE_METRICS = pa.schema(
    [
        ("period", pa.string()),
        ("invoices_received", pa.int64()),
        ("invoices_posted", pa.int64()),
        ("invoices_touchless", pa.int64()),  # auto-posted and never corrected
        ("touchless_rate", RATE),  # invoices_touchless / invoices_received
        ("invoices_auto_posted", pa.int64()),  # by a rule or confident suggestion, no review
        ("invoices_corrected", pa.int64()),  # auto-posted, later corrected
        ("wrong_posting_rate", RATE),  # invoices_corrected / invoices_auto_posted
        ("review_queue_open", pa.int64()),
        ("files_quarantined", pa.int64()),
        ("bank_lines", pa.int64()),
        ("bank_lines_matched", pa.int64()),
        ("match_rate", RATE),
        ("unreconciled_amount", MONEY),
        ("trial_balance_difference", MONEY),
        ("days_to_close", pa.int64()),
        ("computed_at", TS),
        ("run_id", pa.string()),
        # learned suggestions measured on held-back approved postings through the period
        # (closeflow.posting.suggest.holdout_accuracy); null when too little history
        ("suggestion_holdout_accuracy", RATE),  # right / held back
        ("suggestions_held_back", pa.int64()),
    ]
)

POSTING_CORRECTIONS = pa.schema(
    [
        # One row per invoice line a controller moved to another account: the audit
        # trail of `closeflow post correct`. The invoice's entry is re-posted with the
        # latest correction of each line (same entry id, replaced).
        ("correction_id", pa.string()),  # deterministic: invoice, lines, account, time
        ("invoice_id", pa.string()),
        ("entry_id", pa.string()),
        ("line_no", pa.int32()),  # the invoice line; 0: the invoice posted as one line
        ("from_account", pa.string()),
        ("to_account", pa.string()),
        ("reason", pa.string()),
        ("corrected_by", pa.string()),
        ("corrected_at", TS),
        ("period", pa.string()),  # the entry's period
        ("posting_run_id", pa.string()),  # the posting run whose entry was replaced
    ]
)

# A person's decision about a match (`closeflow match confirm|reject`,
# closeflow.match_decisions): one row per bank line and item, never updated; the latest
# decision per pair counts, from the night whose window holds `decided_at` on. A
# confirmation settles the items on that night; a rejected pair is never proposed again.
MATCH_DECISIONS = pa.schema(
    [
        ("decision_id", pa.string()),  # deterministic: line, items, decision, time
        ("bank_line_id", pa.string()),
        ("item_id", pa.string()),
        ("decision", pa.string()),  # confirm | reject | undo
        ("rule", pa.string()),  # the suggestion's rule; person: a pair nothing suggested
        ("score", pa.float64()),  # the suggestion's score (1.0 for a person's own pair)
        ("reason", pa.string()),
        ("decided_by", pa.string()),
        ("decided_at", TS),
    ]
)

ACCOUNTS = pa.schema(
    [
        ("account", pa.string()),
        ("account_name", pa.string()),
        ("account_type", pa.string()),  # asset | liability | equity | income | expense
    ]
)

# The period lock's log (closeflow.periods): one row per lock or reopen, never updated or
# deleted. Periods close in order; the last event decides whether a period is locked.
PERIOD_LOCKS = pa.schema(
    [
        ("period", pa.string()),  # YYYY-MM
        ("action", pa.string()),  # lock | reopen
        ("acted_at", TS),
        ("acted_by", pa.string()),
        ("run_id", pa.string()),  # the close run that locked it (close:2026-01), or cli
        ("reason", pa.string()),  # why it was reopened
    ]
)

# One row per step and window: what the latest run of it did (closeflow.steps). The
# close waits for every night of the month here, and the ledger for its night's ingest.
STEP_RUNS = pa.schema(
    [
        ("run_id", pa.string()),  # <step>:<window>, e.g. post:2026-01-05
        ("step", pa.string()),
        ("window_start", pa.date32()),
        ("window_end", pa.date32()),
        ("status", pa.string()),  # running | success | failed | skipped
        ("started_at", TS),
        ("finished_at", TS),
        ("summary", pa.string()),  # JSON: what it did, in numbers, or why it was skipped
    ]
)

TABLES: dict[str, pa.Schema] = {
    "accounts": ACCOUNTS,
    "file_manifest": FILE_MANIFEST,
    "file_arrivals": FILE_ARRIVALS,
    "invoices": INVOICES,
    "invoice_lines": INVOICE_LINES,
    "invoice_taxes": INVOICE_TAXES,
    "journal_lines": JOURNAL_LINES,
    "bank_statements": BANK_STATEMENTS,
    "bank_lines": BANK_LINES,
    "open_items": OPEN_ITEMS,
    "matches": MATCHES,
    "review_queue": REVIEW_QUEUE,
    "close_metrics": CLOSE_METRICS,
    "posting_corrections": POSTING_CORRECTIONS,
    "match_decisions": MATCH_DECISIONS,
    "period_locks": PERIOD_LOCKS,
    "step_runs": STEP_RUNS,
}


def _money_limit(dtype: pa.Decimal128Type) -> str:
    digits = dtype.precision - dtype.scale
    return f"{'9' * digits}.{'9' * dtype.scale}" if dtype.scale else "9" * digits


def _why_not_money(value: object, dtype: pa.Decimal128Type) -> str:
    from decimal import Decimal, InvalidOperation

    try:
        d = Decimal(str(value))
    except InvalidOperation:
        return "is not a number"
    if not d.is_finite():
        return "is not a number"
    if abs(d) >= Decimal(10) ** (dtype.precision - dtype.scale):
        return f"is too large for the ledger (its amounts go up to {_money_limit(dtype)})"
    return f"has more than {dtype.scale} decimals"


def contract_problems(schema: pa.Schema, row: dict) -> list[str]:
    """What in `row` does not fit the table contract `schema`, in words (empty when it
    fits): an amount too large for DECIMAL(18,2), a value of the wrong kind. Checked
    before rows reach the warehouse, so one bad document cannot fail a whole load."""
    problems = []
    for f in schema:
        value = row.get(f.name)
        if value is None:
            continue
        try:
            pa.array([value], type=f.type)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, ValueError, TypeError):
            shown = str(value)
            shown = shown if len(shown) <= 40 else shown[:37] + "..."
            what = f.name.replace("_", " ")
            if pa.types.is_decimal(f.type):
                problems.append(f"{what} {shown} {_why_not_money(value, f.type)}")
            else:
                problems.append(f"{f.name.replace('_', ' ')} {shown!r} is not a {f.type}")
    return problems


# Columns that record when something ran on this machine and how the latest run of a
# step went, not what the books hold: two warehouses that hold the same books (a re-run,
# a backfill, a recovery after a crash) differ only in these.
RUN_LOG_COLUMNS: dict[str, tuple[str, ...]] = {
    "step_runs": ("status", "started_at", "finished_at", "summary"),
    "file_arrivals": ("recorded_at",),
    "period_locks": ("acted_at",),
    "close_metrics": ("computed_at",),
}
