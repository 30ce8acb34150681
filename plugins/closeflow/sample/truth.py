"""Ground truth: what the pipeline should make of every inbox file and bank line.

HOME/truth/documents.jsonl has one object per inbox file, HOME/truth/bank_lines.jsonl one
per bank line, in the formats of docs/sample_company.md. `expected_posting` is the
balanced journal entry in EUR: expense = subtotal, input VAT = tax, accounts payable =
minus their sum; Chinese invoices convert each debit at the invoice-date rate, rounded
half-up to the cent, so the entry still sums to exactly zero. Credit notes reverse all
signs. Lines a description rule sends elsewhere (training, shipping) post to their own
account. No rule for the supplier, an invoice above the professional-fees rule's approval
limit (`expected_review`), or a duplicate file means no posting: null.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

from closeflow.money import round_money
from closeflow.sample.company import AP_ACCOUNT, FEES_RULE_MIN_TOTAL, INPUT_VAT_ACCOUNT
from closeflow.sample.documents import InboxDocument
from closeflow.sample.invoices import Invoice
from closeflow.sample.statements import StatementFile


def _eur_total(invoice: Invoice, rates: dict[dt.date, Decimal]) -> Decimal:
    if invoice.currency == "EUR":
        return invoice.total
    return round_money(invoice.total * rates[invoice.invoice_date])


def expected_review(invoice: Invoice, rates: dict[dt.date, Decimal]) -> str | None:
    """Why the rules send the invoice to review: `no_rule` (a supplier without a rule),
    `approval` (the professional-fees rule's limit, on the EUR total), or None."""
    tpl = invoice.supplier.template
    if tpl.account is None:
        return "no_rule"
    limit = tpl.approval_above
    if limit is not None and invoice.document_type == "invoice":
        if invoice.total >= FEES_RULE_MIN_TOTAL and _eur_total(invoice, rates) > limit:
            return "approval"
    return None


def expected_posting(
    invoice: Invoice, rates: dict[dt.date, Decimal]
) -> list[tuple[str, Decimal]] | None:
    """(account, signed EUR amount) lines of the invoice's journal entry, or None.

    Each line goes to its item's account (a description rule) or else the supplier's;
    the net per account is converted and rounded once, as the engine posts one net leg
    per account and rule."""
    account = invoice.supplier.template.account
    if account is None or expected_review(invoice, rates) is not None:
        return None
    net: dict[str, Decimal] = {}
    for line in invoice.lines:
        acct = line.account or account
        net[acct] = net.get(acct, Decimal("0.00")) + line.amount
    tax = invoice.tax_amount
    if invoice.currency != "EUR":
        rate = rates[invoice.invoice_date]
        net = {acct: round_money(amount * rate) for acct, amount in net.items()}
        tax = round_money(tax * rate)
    sign = -1 if invoice.document_type == "credit_note" else 1
    lines = [(acct, sign * amount) for acct, amount in net.items()]
    lines.append((INPUT_VAT_ACCOUNT, sign * tax))
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
    posting, review = None, None
    if invoice is not None and doc.expected_status == "extracted":
        lines = expected_posting(invoice, rates)
        if lines is not None:
            posting = [{"account": acct, "amount": _money(amount)} for acct, amount in lines]
        review = expected_review(invoice, rates)
    return {
        "file": doc.path,
        "sha256": doc.sha256,
        "received_at": doc.received_at.isoformat(),
        "kind": doc.kind,
        "expected_status": doc.expected_status,
        "invoice": invoice_record(invoice) if invoice else None,
        "lines": line_records(invoice) if invoice else [],
        "expected_posting": posting,
        # why the posting rules send an extracted invoice to review: no_rule | approval
        "expected_review": review,
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
                    # closeflow.reconcile's rule that should match it, and every invoice
                    # it pays (two for several_invoices)
                    "expected_match_rule": line.expected_match_rule,
                    "invoice_sha256s": list(line.invoice_sha256s),
                    # the bank rule that books a line no invoice explains, else null
                    "expected_rule": line.expected_rule,
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
