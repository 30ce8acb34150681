"""Validation of an extracted invoice: the reasons a person must look at it, in words.

An invoice with no reasons goes on to posting; one with reasons goes to the review
queue with them. A readable document without an invoice number and without a total is
not an invoice at all (a letter, a delivery note) and is quarantined instead.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ocr.chinese import looks_like_uscc, uscc_is_valid
from ocr.model import ExtractedInvoice
from ocr.normalize import ISO_CURRENCIES, iban_is_valid

DEFAULT_MIN_CONFIDENCE = 0.6
EARLIEST_DATE = dt.date(2000, 1, 1)

FIELD_NAMES = {
    "invoice_number": "invoice number",
    "invoice_date": "invoice date",
    "due_date": "due date",
    "total": "total",
    "subtotal": "net amount",
    "tax_amount": "tax amount",
    "currency": "currency",
    "supplier_name": "supplier name",
    "supplier_tax_id": "supplier tax id",
    "buyer_name": "buyer name",
    "buyer_tax_id": "buyer tax id",
    "payment_reference": "payment reference",
    "supplier_iban": "supplier IBAN",
    "supplier_id": "supplier",
}

# Fields a posting or a payment depends on; a doubtful buyer name changes neither.
CONFIDENCE_CHECKED = frozenset(FIELD_NAMES) - {"buyer_name", "buyer_tax_id"}


def _money(value: Decimal) -> str:
    return f"{value:,.2f}"


def _one_year_after(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)


def not_an_invoice(inv: ExtractedInvoice, first_words: str) -> str | None:
    """The quarantine reason if the document does not look like an invoice, else None."""
    if inv.invoice_number is None and inv.total is None:
        snippet = " ".join(first_words.split())[:60]
        return f"not an invoice: no invoice number and no total found (starts: {snippet!r})"
    return None


def review_reasons(
    inv: ExtractedInvoice,
    *,
    amount_in_words: Decimal | None = None,
    min_confidence: float = DEFAULT_MIN_CONFIDENCE,
    today: dt.date | None = None,
) -> list[str]:
    """Every reason `inv` cannot be posted without a person looking at it."""
    today = today or dt.date.today()
    reasons = []
    if inv.invoice_number is None:
        reasons.append("invoice number not found")
    if inv.invoice_date is None:
        reasons.append("invoice date not found")
    if inv.total is None:
        reasons.append("total amount not found")
    if inv.subtotal is not None and inv.tax_amount is not None and inv.total is not None:
        if inv.subtotal + inv.tax_amount != inv.total:
            reasons.append(
                f"net {_money(inv.subtotal)} + tax {_money(inv.tax_amount)} does not equal "
                f"total {_money(inv.total)}"
            )
    if inv.subtotal is not None and inv.total is not None and inv.tax_amount is None:
        if inv.subtotal != inv.total:
            reasons.append(
                f"tax amount not found, and net {_money(inv.subtotal)} differs from total "
                f"{_money(inv.total)}"
            )
    for name in ("invoice_date", "due_date"):
        value = getattr(inv, name)
        if value is None:
            continue
        label = FIELD_NAMES[name]
        if value < EARLIEST_DATE:
            reasons.append(f"{label} {value.isoformat()} is before 2000")
        elif value > _one_year_after(today):
            reasons.append(f"{label} {value.isoformat()} is more than a year in the future")
    if inv.due_date and inv.invoice_date and inv.due_date < inv.invoice_date:
        reasons.append(
            f"due date {inv.due_date.isoformat()} is before the invoice date "
            f"{inv.invoice_date.isoformat()}"
        )
    if inv.currency is None:
        reasons.append("currency not found on the invoice")
    elif inv.currency not in ISO_CURRENCIES:
        reasons.append(f"unknown currency {inv.currency!r}")
    for name in ("supplier_tax_id", "buyer_tax_id"):
        value = getattr(inv, name)
        if value and looks_like_uscc(value) and not uscc_is_valid(value):
            reasons.append(
                f"{FIELD_NAMES[name]} {value} fails the unified social credit code check "
                "(GB 32100-2015): probably misread"
            )
    if inv.supplier_iban and not iban_is_valid(inv.supplier_iban):
        reasons.append(f"supplier IBAN {inv.supplier_iban} fails its check digits")
    if amount_in_words is not None and inv.total is not None and amount_in_words != inv.total:
        reasons.append(
            f"amount in words ({_money(amount_in_words)}) does not equal the total in figures "
            f"({_money(inv.total)})"
        )
    for name, conf in sorted(inv.field_confidence.items()):
        if name in CONFIDENCE_CHECKED and conf < min_confidence and getattr(inv, name) is not None:
            reasons.append(
                f"{FIELD_NAMES.get(name, name)} read with low confidence ({conf:.2f}): "
                "check it against the document"
            )
    return reasons
