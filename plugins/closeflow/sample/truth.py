"""Ground truth: what the pipeline should make of every inbox file and bank line.

HOME/truth/documents.jsonl has one object per inbox file, HOME/truth/bank_lines.jsonl one
per bank line, in the formats of docs/sample_company.md. `expected_posting` is the
balanced journal entry in EUR: expense = subtotal, input VAT = tax, accounts payable =
minus their sum; Chinese invoices convert each debit at the invoice-date rate, rounded
half-up to the cent, so the entry still sums to exactly zero. Credit notes reverse all
signs. No rule for the supplier (or a duplicate file) means no posting: null.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

from closeflow.money import round_money
from closeflow.sample.company import AP_ACCOUNT, INPUT_VAT_ACCOUNT
from closeflow.sample.documents import InboxDocument
from closeflow.sample.invoices import Invoice
from closeflow.sample.statements import StatementFile


def expected_posting(
    invoice: Invoice, rates: dict[dt.date, Decimal]
) -> list[tuple[str, Decimal]] | None:
    """(account, signed EUR amount) lines of the invoice's journal entry, or None."""
    account = invoice.supplier.template.account
    if account is None:
        return None
    if invoice.currency == "EUR":
        expense, tax = invoice.subtotal, invoice.tax_amount
    else:
        rate = rates[invoice.invoice_date]
        expense, tax = round_money(invoice.subtotal * rate), round_money(invoice.tax_amount * rate)
    sign = -1 if invoice.document_type == "credit_note" else 1
    lines = [(account, sign * expense), (INPUT_VAT_ACCOUNT, sign * tax)]
    lines = [(acct, amount) for acct, amount in lines if amount]
    lines.append((AP_ACCOUNT, -sum((amount for _, amount in lines), Decimal("0.00"))))
    return lines


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def invoice_record(invoice: Invoice) -> dict:
    supplier = invoice.supplier
    return {
        "supplier_id": supplier.supplier_id,
        "supplier_name": supplier.name,
        "supplier_tax_id": supplier.tax_id,
        "buyer_name": invoice.buyer.name,
        "buyer_tax_id": invoice.buyer.tax_id,
        "invoice_number": invoice.invoice_number,
        "invoice_date": invoice.invoice_date.isoformat(),
        # Chinese VAT invoices print no due date: the supplier's terms are not on the page
        "due_date": None if supplier.is_chinese else invoice.due_date.isoformat(),
        "currency": invoice.currency,
        "subtotal": _money(invoice.subtotal),
        "tax_amount": _money(invoice.tax_amount),
        "total": _money(invoice.total),
        "document_type": invoice.document_type,
        "payment_reference": invoice.payment_reference,
        "supplier_iban": supplier.iban,
    }


def line_records(invoice: Invoice) -> list[dict]:
    return [
        {
            "line_no": line.line_no,
            "description": line.description,
            "quantity": str(line.quantity),
            "unit_price": _money(line.unit_price),
            "amount": _money(line.amount),
            "tax_rate": str(line.tax_rate),
            "tax_amount": _money(line.tax_amount),
        }
        for line in invoice.lines
    ]


def document_record(doc: InboxDocument, rates: dict[dt.date, Decimal]) -> dict:
    invoice = doc.invoice
    posting = None
    if invoice is not None and doc.expected_status == "extracted":
        lines = expected_posting(invoice, rates)
        if lines is not None:
            posting = [{"account": acct, "amount": _money(amount)} for acct, amount in lines]
    return {
        "file": doc.path,
        "sha256": doc.sha256,
        "received_at": doc.received_at.isoformat(),
        "kind": doc.kind,
        "expected_status": doc.expected_status,
        "invoice": invoice_record(invoice) if invoice else None,
        "lines": line_records(invoice) if invoice else [],
        "expected_posting": posting,
    }


def bank_line_records(statements: list[StatementFile]) -> list[dict]:
    out = []
    for statement in statements:
        for line, reference in statement.entries:
            out.append(
                {
                    "statement_file": statement.path,
                    "account_id": statement.account_id,
                    "booking_date": line.booking_date.isoformat(),
                    "amount": _money(line.amount),
                    "currency": statement.currency,
                    "remittance_info": line.remittance_info,
                    "kind": line.kind,
                    "invoice_sha256": line.invoice_sha256,
                    "expected_match": line.expected_match,
                    "bank_reference": reference,
                }
            )
    return out


def _write_jsonl(path: Path, records: list[dict]) -> None:
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    path.write_text(text, encoding="utf-8", newline="\n")


def write_truth(
    folder: Path,
    docs: list[InboxDocument],
    statements: list[StatementFile],
    rates: dict[dt.date, Decimal],
) -> tuple[list[dict], list[dict]]:
    """Write documents.jsonl (by received_at, file) and bank_lines.jsonl (by statement
    day, account, position); return both record lists."""
    folder.mkdir(parents=True, exist_ok=True)
    ordered = sorted(docs, key=lambda d: (d.received_at, d.path))
    documents = [document_record(d, rates) for d in ordered]
    bank = bank_line_records(statements)
    _write_jsonl(folder / "documents.jsonl", documents)
    _write_jsonl(folder / "bank_lines.jsonl", bank)
    return documents, bank
