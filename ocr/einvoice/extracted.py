"""An `EInvoice` into the `ExtractedInvoice` contract: the one place the XML's terms
become closeflow's fields.

    invoice_number BT-1, invoice_date BT-2, due_date BT-9, currency BT-5
    supplier_name / supplier_tax_id   the seller's name, VAT id (else tax number)
    buyer_name / buyer_tax_id         the buyer's
    supplier_iban                     the payee account's IBAN (compact; never a direct
                                      debit's payer account)
    payment_reference BT-83
    subtotal BT-109 (net), tax_amount BT-110 (in the invoice currency), total BT-112 (the
    gross total, not what is left to pay after a prepayment: BT-115)
    tax_breakdown                     BG-23, one per rate (categories at one rate summed)
    line_items                        the lines, and each document-level allowance
                                      (negative) and charge as a line of its own, so they
                                      add up to the net as the posting engine needs; left
                                      off (as the page reading does) where they do not
    document_type                     credit_note for a UBL CreditNote or a credit-note
                                      type code (381, …); amounts then positive, as the
                                      page reading gives them. A corrected invoice (384)
                                      or one with negative amounts stays an invoice with
                                      its signs.

Every field read from the XML has confidence 1.0. The supplier is identified against the
master data as the page reading does it (ocr.suppliers: VAT id, then IBAN, then name) and
its master data pins what the XML leaves out; a value differing from it goes to review.
Then the checks every invoice goes through (ocr.validate), and for a hybrid PDF the
cross-check against its page (ocr.einvoice.crosscheck).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from ocr.einvoice.document import EInvoice, Line
from ocr.language import language
from ocr.model import ExtractedInvoice, LineItem, TaxBreakdown
from ocr.normalize import compact
from ocr.suppliers import SupplierLike, match_supplier, pin_master_data
from ocr.validate import DEFAULT_MIN_CONFIDENCE, not_an_invoice, review_reasons

XML_CONFIDENCE = 1.0
HEADER_FIELDS = (
    "invoice_number",
    "invoice_date",
    "due_date",
    "currency",
    "subtotal",
    "tax_amount",
    "total",
    "supplier_name",
    "supplier_tax_id",
    "buyer_name",
    "buyer_tax_id",
    "payment_reference",
    "supplier_iban",
)


def _rate(percent: Decimal | None) -> Decimal | None:
    """19.00 -> 0.19, as the page reading gives rates."""
    return None if percent is None else percent.scaleb(-2).normalize()


def _tax_total(e: EInvoice) -> Decimal | None:
    """BT-110; where the XML leaves it out (it may, EN 16931 makes it optional), the sum
    of its breakdown's taxes (BR-CO-14 makes them equal), or 0 where net and gross are
    the same and there is no breakdown."""
    if e.tax_total is not None:
        return e.tax_total
    if e.taxes and all(t.tax is not None for t in e.taxes):
        return sum((t.tax for t in e.taxes), Decimal(0))
    if not e.taxes and e.tax_basis_total is not None and e.tax_basis_total == e.grand_total:
        return Decimal("0.00")
    return None


def _counted_lines(lines: tuple[Line, ...], line_total: Decimal | None) -> list[Line]:
    """The lines that make up the line total (BR-CO-10), those without an amount (a
    note-only line) left out: all of them, or in an EXTENDED invoice with sub-lines those
    that add up (the top-level ones, or all but group and information lines). Empty if
    no such set adds up."""
    priced = [line for line in lines if line.net_amount is not None]
    options = [
        priced,
        [line for line in priced if line.parent_id is None],
        [line for line in priced if (line.status or "").upper() not in ("GROUP", "INFORMATION")],
    ]
    for option in options:
        if line_total is None or sum((x.net_amount for x in option), Decimal(0)) == line_total:
            return option
    return []


def _adjustments(e: EInvoice) -> list[tuple[str, Decimal, Decimal | None]]:
    """The document-level allowances and charges as (description, what each adds to the
    net, VAT rate in percent). The net is the lines less the allowances plus the charges
    (BR-CO-13); where a producer signs the allowances or charges against their own total
    (a corrected invoice), the total's sign rules. A total without its items (ZUGFeRD 1.0
    BASIC) is one adjustment of its own, at no known rate."""
    out = []
    for charge, total in ((False, e.allowance_total), (True, e.charge_total)):
        kind = "charge" if charge else "allowance"
        items = [ac for ac in e.allowances_charges if ac.charge == charge]
        given = sum((ac.amount for ac in items), Decimal(0))
        sign = 1 if charge else -1
        if items and total is not None and given != 0 and given == -total:
            sign = -sign
        out += [
            (f"{kind}: {ac.reason}" if ac.reason else kind, sign * ac.amount, ac.percent)
            for ac in items
        ]
        if not items and total:
            out.append((f"{kind}s", sign * total, None))
    return out


def _line_items(e: EInvoice, subtotal: Decimal | None) -> list[LineItem]:
    """The lines with the document-level allowances and charges, if they add up to the
    net (BR-CO-10 / BR-CO-13); else none."""
    lines = _counted_lines(e.lines, e.line_total)
    if not lines or subtotal is None:
        return []
    numbers = [x.line_id for x in lines]
    numbered = all(n.isdigit() for n in numbers) and len(set(numbers)) == len(numbers)
    items = [
        LineItem(
            line_no=int(x.line_id) if numbered else k,
            description=x.name or "",
            quantity=x.quantity,
            unit_price=x.unit_price,
            amount=x.net_amount,
            tax_rate=_rate(x.percent),
            unit=x.unit,
        )
        for k, x in enumerate(lines, 1)
    ]
    after = max(item.line_no for item in items)
    for k, (description, amount, percent) in enumerate(_adjustments(e), 1):
        items.append(
            LineItem(
                line_no=after + k, description=description, amount=amount, tax_rate=_rate(percent)
            )
        )
    if sum((i.amount for i in items), Decimal(0)) != subtotal:
        return []
    return items


def _tax_breakdown(e: EInvoice, credit: bool) -> list[TaxBreakdown]:
    """Net and tax per rate from the XML's VAT breakdown; categories at one rate (a
    standard and a reverse-charge 0 %, say) summed, as the journal's tax lines want."""
    by_rate: dict[Decimal, TaxBreakdown] = {}
    for t in e.taxes:
        if t.basis is None:
            continue
        rate = _rate(t.percent) if t.percent is not None else Decimal(0)
        net = abs(t.basis) if credit else t.basis
        tax = None if t.tax is None else (abs(t.tax) if credit else t.tax)
        if rate in by_rate:
            known = by_rate[rate]
            tax = None if tax is None or known.tax is None else known.tax + tax
            net = known.net + net
        by_rate[rate] = TaxBreakdown(rate=rate, net=net, tax=tax)
    return sorted(by_rate.values(), key=lambda b: b.rate, reverse=True)


def to_extracted(
    e: EInvoice,
    base: dict,
    suppliers: Sequence[SupplierLike] | None = None,
    *,
    page_reasons: Sequence[str] = (),
    page_text: str | None = None,
    min_confidence: float = DEFAULT_MIN_CONFIDENCE,
    today: dt.date | None = None,
) -> ExtractedInvoice:
    """The ExtractedInvoice of `e` (`base`: file, file_sha256, media_type, size_bytes).

    `page_reasons` are the hybrid PDF's cross-check disagreements (reasons to review);
    `page_text` its text layer, which gives the document's language (else the XML's
    own words do)."""
    credit = e.credit_note
    subtotal, tax, total = e.tax_basis_total, _tax_total(e), e.grand_total
    if credit:  # printed positive, as the page reading gives a credit note's amounts
        subtotal, tax, total = (None if x is None else abs(x) for x in (subtotal, tax, total))
    inv = ExtractedInvoice(
        **base,
        extraction_method="einvoice",
        document_type="credit_note" if credit else "invoice",
        invoice_number=e.number,
        invoice_date=e.issue_date,
        due_date=e.due_date,
        currency=e.currency.upper() if e.currency else None,
        subtotal=subtotal,
        tax_amount=tax,
        total=total,
        supplier_name=e.seller.name,
        supplier_tax_id=compact(e.seller.tax_id) if e.seller.vat_id else e.seller.tax_id,
        buyer_name=e.buyer.name,
        buyer_tax_id=compact(e.buyer.tax_id) if e.buyer.vat_id else e.buyer.tax_id,
        supplier_iban=compact(e.payee_iban) if e.payee_iban else None,
        payment_reference=e.payment_reference,
        language=language(page_text if page_text else e.text),
    )
    confidence = {name: XML_CONFIDENCE for name in HEADER_FIELDS if getattr(inv, name) is not None}
    reasons: list[str] = []
    if suppliers:
        match = match_supplier(
            suppliers,
            tax_id=inv.supplier_tax_id,
            iban=inv.supplier_iban,
            name=inv.supplier_name,
            text="",  # the XML's fields are exact: no looking for ids anywhere in a text
            buyer_tax_id=inv.buyer_tax_id,
            buyer_name=inv.buyer_name,
        )
        if match:
            inv.supplier_id = match.supplier.supplier_id
            confidence["supplier_id"] = match.confidence
            if inv.supplier_name is None:
                inv.supplier_name = match.supplier.name
                confidence["supplier_name"] = match.confidence
            # "text": the XML's ids are exact, a difference is never a misread to correct
            reasons += pin_master_data(inv, match.supplier, confidence, "text")
    inv.field_confidence = confidence
    inv.line_items = _line_items(e, e.tax_basis_total)
    inv.tax_breakdown = _tax_breakdown(e, credit)
    reason = not_an_invoice(inv, f"{e.syntax} {e.type_code or ''}")
    if reason:
        inv.status, inv.review_reasons = "quarantined", [reason]
        return inv
    inv.review_reasons = (
        list(page_reasons)
        + reasons
        + review_reasons(inv, min_confidence=min_confidence, today=today)
    )
    inv.status = "needs_review" if inv.review_reasons else "extracted"
    return inv
