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

FILE_STATUSES = ("extracted", "needs_review", "quarantined", "duplicate")
SOURCE_TYPES = ("invoice", "payment", "bank_fee", "fx_difference", "manual", "adjustment")
MATCH_STATUSES = ("auto", "suggested", "confirmed")

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
        ("status", pa.string()),
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

ACCOUNTS = pa.schema(
    [
        ("account", pa.string()),
        ("account_name", pa.string()),
        ("account_type", pa.string()),  # asset | liability | equity | income | expense
    ]
)

TABLES: dict[str, pa.Schema] = {
    "accounts": ACCOUNTS,
    "file_manifest": FILE_MANIFEST,
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
}
