"""Validation of an extracted invoice: the reasons a person must look at it, in words.

An invoice with no reasons goes on to posting; one with reasons goes to the review
queue with them. A readable document without an invoice number and without a total is
quarantined as not an invoice only on positive evidence: it prints no amount of money at
all, or it is a letter (a salutation or a closing formula). A receipt or a hard-to-read
invoice that shows some amount goes to review instead, saying what was read and what is
missing. A till receipt (document_type "receipt", ocr.receipts) needs no invoice number.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import ROUND_CEILING, Decimal

from closeflow.money import CENT, round_money
from ocr.chinese import (
    check_code_problem,
    invoice_code_problem,
    looks_like_uscc,
    uscc_is_valid,
)
from ocr.model import ExtractedInvoice, TaxBreakdown
from ocr.normalize import GSTIN_RE, ISO_CURRENCIES, find_amounts, gstin_is_valid, iban_is_valid

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
    "invoice_code": "发票代码 (invoice code)",
    "check_code": "校验码 (check code)",
}

# Fields a posting or a payment depends on; a doubtful buyer name changes neither.
CONFIDENCE_CHECKED = frozenset(FIELD_NAMES) - {"buyer_name", "buyer_tax_id"}


def _money(value: Decimal) -> str:
    return f"{value:,.2f}"


def plausible_date(value: dt.date, today: dt.date) -> bool:
    """Not before EARLIEST_DATE and not more than a year after `today`."""
    return EARLIEST_DATE <= value <= _one_year_after(today)


def _one_year_after(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)


# A letter's salutation or closing formula (en, de, fr, nl, es): positive evidence that a
# document without a number and a total is correspondence, not an unreadable invoice.
LETTER_RX = re.compile(
    r"\b(?:dear\s+\w+|to\s+whom\s+it\s+may\s+concern|kind\s+regards|best\s+regards|"
    r"yours\s+(?:sincerely|faithfully)|sehr\s+geehrte|liebe[rs]?\s+\w+|"
    r"mit\s+freundlichen\s+gr(?:ü|ue|u)(?:ß|ss)en|madame,?\s+monsieur|cher\s+client|"
    r"ch[èe]re\s+cliente|cordialement|geachte|met\s+vriendelijke\s+groet|estimad[oa]s?|"
    r"atentamente|un\s+cordial\s+saludo)\b",
    re.IGNORECASE,
)


def _money_amounts(text: str) -> list[Decimal]:
    """The amounts of money `text` shows: with decimals or a currency (not a house number)."""
    return [a.value for a in find_amounts(text) if a.has_decimals or a.currency]


def not_an_invoice(inv: ExtractedInvoice, first_words: str) -> str | None:
    """The quarantine reason if the document is positively not an invoice, else None.

    Without an invoice number and a total, `first_words` (the document's text) decides:
    no amount of money in it, or a letter's salutation or closing (LETTER_RX), quarantines
    it. Anything else with some amount (a receipt, a hard-to-read invoice) is not
    quarantined: it goes to review (`unread_reasons`)."""
    if inv.invoice_number is None and inv.total is None:
        if LETTER_RX.search(first_words) or not _money_amounts(first_words):
            snippet = " ".join(first_words.split())[:60]
            return f"not an invoice: no invoice number and no total found (starts: {snippet!r})"
    return None


def unread_reasons(inv: ExtractedInvoice, text: str) -> list[str]:
    """For a document that shows amounts but whose number and total could not be read
    (not quarantined, see `not_an_invoice`): what was read, and the amounts it shows."""
    if inv.total is not None or (inv.invoice_number is not None and inv.document_type != "receipt"):
        return []
    read = [
        f"{FIELD_NAMES[name]} {getattr(inv, name)}"
        for name in ("supplier_name", "invoice_date", "invoice_number", "tax_amount")
        if getattr(inv, name) is not None
    ]
    amounts = sorted(set(_money_amounts(text)), reverse=True)[:5]
    shown = ", ".join(_money(a) for a in amounts)
    return [
        f"no total could be read; read: {'; '.join(read) or 'nothing else'}; "
        f"amounts on the page: {shown or 'none'}"
    ]


def tax_breakdown(
    inv: ExtractedInvoice, rate: Decimal | None = None, base: Decimal | None = None
) -> list[TaxBreakdown]:
    """Net (and tax, where one amount is charged at one rate) per tax rate.

    From the items' rates; else from the one `rate` printed beside the tax amount, on the
    `base` that line prints ("Tax 15% on 112.90"), the rest of the net being untaxed.
    Empty when the rates are not known.
    """
    items = inv.line_items
    if items and all(i.tax_rate is not None for i in items):
        nets: dict[Decimal, Decimal] = {}
        for i in items:
            nets[i.tax_rate] = nets.get(i.tax_rate, Decimal(0)) + abs(i.amount)
        if len(nets) == 1:
            (only,) = nets
            return [TaxBreakdown(rate=only, net=nets[only], tax=inv.tax_amount)]
        return [TaxBreakdown(rate=r, net=n) for r, n in sorted(nets.items(), reverse=True)]
    if rate is None or inv.subtotal is None:
        return []
    if base is None or base >= inv.subtotal:
        return [TaxBreakdown(rate=rate, net=inv.subtotal, tax=inv.tax_amount)]
    return [
        TaxBreakdown(rate=rate, net=base, tax=inv.tax_amount),
        TaxBreakdown(rate=Decimal(0), net=inv.subtotal - base, tax=Decimal("0.00")),
    ]


# Rounding per line moves the tax by up to half a cent a line; with no item table the
# number of lines is unknown and up to ten are allowed for.
HALF_CENT = Decimal("0.005")
UNKNOWN_LINES = 10


def tax_rate_reasons(inv: ExtractedInvoice) -> list[str]:
    """The tax amount must be rate x net, within the rounding of the lines."""
    if inv.tax_amount is None or not inv.tax_breakdown:
        return []
    expected = sum((b.net * b.rate for b in inv.tax_breakdown), Decimal(0))
    lines = len(inv.line_items) or UNKNOWN_LINES
    tolerance = max(CENT, (HALF_CENT * lines).quantize(CENT, ROUND_CEILING))
    if abs(expected - inv.tax_amount) <= tolerance:
        return []
    rates = " and ".join(
        f"{(b.rate * 100).normalize():f} % of {_money(b.net)}" for b in inv.tax_breakdown
    )
    return [
        f"tax {_money(inv.tax_amount)} is not {rates} (that is {_money(round_money(expected))})"
    ]


# ---------------------------------------------------------------- Chinese VAT invoices


def is_chinese_vat(inv: ExtractedInvoice) -> bool:
    """A 增值税专用发票 or 普通发票: titled so, or printing a 发票代码."""
    return inv.invoice_kind is not None or inv.invoice_code is not None


def _percent(rate: Decimal) -> str:
    return f"{(rate * 100).normalize():f} %"


def _price_tolerance(quantity: Decimal, price: Decimal) -> Decimal:
    """How far 数量 x 单价 may be from 金额 when 单价 is printed rounded to its decimals."""
    places = max(-price.as_tuple().exponent, 0)
    return max(CENT, abs(quantity) * Decimal(5).scaleb(-places - 1))


def chinese_line_reasons(inv: ExtractedInvoice) -> list[str]:
    """Each line's 税额 is its 金额 x 税率 within a cent, and its 金额 is 数量 x 单价 (within
    the rounding of 单价); the lines add up to 合计. Sums are compared without sign: a
    red-letter invoice (红字发票) prints its lines negative."""
    reasons = []
    items = inv.line_items
    for item in items:
        n = item.line_no
        if item.quantity is not None and item.unit_price is not None:
            product = item.quantity * item.unit_price
            if abs(product - item.amount) > _price_tolerance(item.quantity, item.unit_price):
                reasons.append(
                    f"line {n}: 金额 {_money(item.amount)} is not 数量 {item.quantity:f} x "
                    f"单价 {item.unit_price:f} = {_money(round_money(product))}"
                )
        if item.tax_rate is None or item.tax_amount is None:
            missing = "税率 (tax rate)" if item.tax_rate is None else "税额 (tax amount)"
            reasons.append(f"line {n}: {missing} not read")
            continue
        expected = item.amount * item.tax_rate
        if abs(item.tax_amount - expected) > CENT:
            reasons.append(
                f"line {n}: 税额 {_money(item.tax_amount)} is not 金额 {_money(item.amount)} x "
                f"{_percent(item.tax_rate)} = {_money(round_money(expected))}"
            )
    if items and inv.subtotal is not None:
        amounts = abs(sum((i.amount for i in items), Decimal(0)))
        if amounts != abs(inv.subtotal):
            reasons.append(
                f"the lines' 金额 add up to {_money(amounts)}, not to 合计 {_money(inv.subtotal)}"
            )
    if items and inv.tax_amount is not None and all(i.tax_amount is not None for i in items):
        taxes = abs(sum((i.tax_amount for i in items), Decimal(0)))
        if taxes != abs(inv.tax_amount):
            reasons.append(
                f"the lines' 税额 add up to {_money(taxes)}, not to 合计 税额 "
                f"{_money(inv.tax_amount)}"
            )
    return reasons


def chinese_total_reasons(inv: ExtractedInvoice) -> list[str]:
    """合计 金额 + 合计 税额 = 价税合计 (小写), to the fen."""
    if inv.subtotal is None or inv.tax_amount is None or inv.total is None:
        return []
    if inv.subtotal + inv.tax_amount == inv.total:
        return []
    return [
        f"合计 金额 {_money(inv.subtotal)} + 税额 {_money(inv.tax_amount)} is not 价税合计 "
        f"{_money(inv.total)}"
    ]


def chinese_code_reasons(inv: ExtractedInvoice) -> list[str]:
    """发票代码 and 校验码 are plausible; a paper-form invoice (8-digit 发票号码) has a
    发票代码, and a 普通发票 a 校验码. A fully digital one (20-digit 号码) has neither."""
    reasons = []
    paper_form = inv.invoice_number is not None and len(inv.invoice_number) == 8
    if inv.invoice_code is not None:
        problem = invoice_code_problem(inv.invoice_code, inv.invoice_date)
        if problem:
            reasons.append(
                f"发票代码 (invoice code) {inv.invoice_code} {problem}: probably misread"
            )
    elif paper_form:
        reasons.append("发票代码 (invoice code) not found")
    if inv.check_code is not None:
        problem = check_code_problem(inv.check_code)
        if problem:
            reasons.append(f"校验码 (check code) {inv.check_code} {problem}: probably misread")
    elif paper_form and inv.invoice_kind == "vat_ordinary":
        reasons.append("校验码 (check code) not found on the 增值税普通发票")
    return reasons


def chinese_vat_reasons(inv: ExtractedInvoice) -> list[str]:
    if not is_chinese_vat(inv):
        return []
    return chinese_code_reasons(inv) + chinese_total_reasons(inv) + chinese_line_reasons(inv)


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
    if inv.invoice_number is None and inv.document_type != "receipt":
        reasons.append("invoice number not found")
    if inv.invoice_date is None:
        reasons.append("invoice date not found")
    if inv.total is None:
        reasons.append("total amount not found")
    if inv.subtotal is not None and inv.tax_amount is not None and inv.total is not None:
        if inv.subtotal + inv.tax_amount != inv.total and not is_chinese_vat(inv):
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
        elif value and GSTIN_RE.fullmatch(value) and not gstin_is_valid(value):
            reasons.append(
                f"{FIELD_NAMES[name]} {value} fails the GSTIN check character: probably misread"
            )
    if inv.supplier_iban and not iban_is_valid(inv.supplier_iban):
        reasons.append(f"supplier IBAN {inv.supplier_iban} fails its check digits")
    if amount_in_words is not None and inv.total is not None and amount_in_words != inv.total:
        reasons.append(
            f"amount in words ({_money(amount_in_words)}) does not equal the total in figures "
            f"({_money(inv.total)})"
        )
    reasons += tax_rate_reasons(inv)
    reasons += chinese_vat_reasons(inv)  # the net + tax = total check in their words
    for name, conf in sorted(inv.field_confidence.items()):
        if name in CONFIDENCE_CHECKED and conf < min_confidence and getattr(inv, name) is not None:
            reasons.append(
                f"{FIELD_NAMES.get(name, name)} read with low confidence ({conf:.2f}): "
                "check it against the document"
            )
    return reasons
