"""Till receipts: what tells one from an invoice, and how its fields are read.

A till receipt is the voucher of an expense claim: the merchant, the date, the amount paid
(after the rounding line), the tax where printed, and how it was paid. It has no invoice
number to speak of, no buyer, no due date; what it has instead is a till's arithmetic:
subtotal + tax (+ rounding) = total, and cash tendered - change = total. Its fields are
read with that arithmetic, not with the invoice labels alone:

- the total is the amount the receipt's own sums agree on (`read_total`): every total
  line ("TOTAL", "NETT TOTAL", "Total Sales (Inclusive GST)", "Total After Rounding",
  "Grand Total", "Amount To Be Paid"...), cash - change, cash tendered where there is no
  change, net + tax, a total before rounding + the rounding line. The value most of them
  agree on wins; a line after the rounding line or labelled as the rounded or payable
  amount breaks ties. It is trusted (CORROBORATED) only where two of them agree and no
  other value has two of its own; a total read once is left doubtful (for review);
- the tax is the GST/SST/VAT line, or the sum of the tax summary's tax column, trusted
  where it checks against the total or the net (rate x net, the rate's share of a
  tax-inclusive total, net + tax = total); the net is then total - tax (the rounding goes
  with the cost);
- the merchant (supplier_name) is the name at the head of the receipt: the line with a
  legal form (SDN BHD, BHD, S/B, PTE LTD, LTD...), joined with the line above where it
  only continues it ("POPULAR BOOK" / "CO. (M) SDN BHD"), else the first line that reads
  as a name; company and GST numbers in brackets are left off. A header name without a
  legal form while a company with one is named elsewhere ("Owned by ... Sdn Bhd") leaves
  it open which is the supplier of record: doubtful;
- the date is the printed one (a "Date" label, else a date printed with a time, else the
  first), day-first unless the page proves otherwise (ocr.normalize.infer_dayfirst), a
  day over 12, a month written as a word, a weekday name that fits only one reading); where
  nothing decides day and month (05/01/17) its confidence is at most AMBIGUOUS_DATE;
- the payment method: CASH, a card (VISA, MASTER, AMEX, DEBIT, CREDIT) or an e-wallet.

The labels are data (RECEIPT_LABELS, TILL_WORDS), English and Malay as these tills print
them; a new language is a new row, not a branch.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
from PIL import Image

from ocr.amounts import CORROBORATED
from ocr.layout import Line, Word
from ocr.model import ExtractedInvoice
from ocr.normalize import (
    MONTHS,
    WEEKDAY_RX,
    WEEKDAYS,
    find_amounts,
    find_dates,
    fold,
    infer_dayfirst,
    parse_rate,
)
from ocr.validate import plausible_date

UNCONFIRMED = 0.5  # an amount nothing else on the receipt confirms: for review
AMBIGUOUS_DATE = 0.7  # day and month could be swapped and nothing on the page decides
CONFLICTING_DATES = 0.5  # two printed dates of the receipt differ
UNSURE_MERCHANT = 0.5  # the trading name heads the receipt, a company is named elsewhere
MAX_ROUNDING = Decimal("0.10")  # a rounding line moves the total by cents, never more

ZERO = Decimal("0.00")


def _rx(pattern: str) -> re.Pattern:
    return re.compile(pattern, re.IGNORECASE)


# ---------------------------------------------------------------- the scan

DARK_EDGE = 60  # mean grey of a scanner's black edge (the lid's shadow past the sheet)
MAX_EDGE_SHARE = 0.05  # ... a thin band; a wider dark band is a desk, left to `prepare`


def trim_scanner_edges(image: Image.Image) -> Image.Image:
    """`image` without the black bands a flatbed leaves along a narrow sheet's edges.

    tesseract takes a page framed by solid black lines for a picture and reads nothing
    ("Empty page!!"): 2 of the 67 SROIE receipts (a 15-pixel black band at the top and
    bottom, a 1-pixel line at the side) read no word at all, and every word once the bands
    are cut off. Only edge rows and columns averaging under DARK_EDGE grey are cut, and
    only where the band is under MAX_EDGE_SHARE of the side; any other image is returned
    as it is (the same object)."""
    grey = np.asarray(image.convert("L") if image.mode != "L" else image)
    if grey.ndim != 2 or min(grey.shape) < 50:
        return image
    rows, cols = grey.mean(axis=1), grey.mean(axis=0)

    def band(means: np.ndarray) -> tuple[int, int]:
        limit = int(len(means) * MAX_EDGE_SHARE)
        start = 0
        while start < limit and means[start] < DARK_EDGE:
            start += 1
        end = len(means)
        while len(means) - end < limit and means[end - 1] < DARK_EDGE:
            end -= 1
        start = 0 if start == limit else start
        end = len(means) if len(means) - end == limit else end
        return start, end

    top, bottom = band(rows)
    left, right = band(cols)
    if (top, bottom, left, right) == (0, grey.shape[0], 0, grey.shape[1]):
        return image
    return image.crop((left, top, right, bottom))


# ---------------------------------------------------------------- is it a receipt?

# Words a till prints and an invoice rarely does, by kind; `is_receipt` counts the kinds.
TILL_WORDS: dict[str, re.Pattern] = {
    "cash": _rx(r"\bcash\b(?!\s*(?:flow|discount))"),
    "change": _rx(r"\b(?:cash\s*)?change\b(?:\s*(?:due|amt|amount))?"),
    "rounding": _rx(r"\bround(?:ing|ed)?\b(?:\s*adj)?"),
    "cashier": _rx(r"\b(?:cashier|operator|served\s*by|terminal|counter\s*(?:no|#|:))"),
    "thanks": _rx(r"\bthank\s*you\b|\bcome\s*again\b|\bterima\s*kasih\b|\bsila\s*datang\b"),
    "receipt": _rx(r"\breceipt\b|\bcash\s*(?:bill|sales?)\b|\bslip\s*no\b"),
    "count": _rx(r"\bitem\s*count\b|\btotal\s*(?:qty|items?|quantity)\b|\bitem\(s\)|\bpax\b"),
    "card": _rx(r"\bvisa\b|\bmaster\s*card\b|\bapp(?:roval)?\.?\s*code\b|\bcard\s*no\b"),
    "tax_summary": _rx(r"\b(?:gst|sst|tax)\s*summary\b|\bgst\s*analysis\b|\bprice\s*incl"),
}
# What only an invoice prints: a date or terms to pay by, an account to pay to.
INVOICE_ONLY = _rx(
    r"\bdue\s*date\b|\bpayment\s*terms\b|\bnet\s*\d{1,3}\s*days\b|\biban\b|\bpayable\s*"
    r"(?:by|within|until)\b|\bf[äa]llig|\bzahlbar\b|\b[ée]ch[ée]ance\b|"
    r"\bvervaldatum\b|\bvencimiento\b"
)
MIN_TILL_KINDS = 3  # kinds of till words that make a receipt on any page
MIN_TILL_KINDS_NARROW = 2  # ... on a narrow one (a till roll)
NARROW = 0.6  # the printed block's width over its height on a till roll (A4 text: 0.7-1.5)


def _narrow(lines: Sequence[Line]) -> bool:
    """Whether the first page's print is a tall narrow column, as a till roll is: measured
    on the words, so a receipt scanned on an A4 flatbed counts too."""
    words = [w for ln in lines if ln.page == lines[0].page for w in ln.words]
    if len(lines) < 8 or not words:
        return False
    width = max(w.x1 for w in words) - min(w.x0 for w in words)
    height = max(w.y1 for w in words) - min(w.y0 for w in words)
    return height > 0 and width / height <= NARROW


def is_receipt(lines: Sequence[Line]) -> bool:
    """Whether the document is a till receipt, from positive evidence on the page.

    Evidence: the kinds of till words it prints (TILL_WORDS: cash, change, rounding,
    cashier, "thank you / come again", receipt or cash bill, item count, card payment, a
    tax summary), at least MIN_TILL_KINDS of them, or MIN_TILL_KINDS_NARROW on a narrow
    print (a till roll's column, `_narrow`); and nothing only an invoice prints (a due
    date, payment terms, an IBAN: INVOICE_ONLY). An invoice number does not decide it:
    Malaysian tills print "TAX INVOICE NO" on every receipt.

    Measured on the 67 SROIE receipts (../shared/data/receipts, bench/ocr_accuracy.py):
    57 are read as receipts; of the others 6 are a bakery's delivery slips titled "TAX
    INVOICE / ADJUSTMENT NOTE" (no cash, no change, no till: read as invoices, which
    they are), one is titled "CREDIT NOTE" (a credit note first), three OCR read too
    little of. The generated, real and European invoices of bench/ocr_accuracy.py keep
    their document type (none is taken for a receipt).
    """
    if not lines:
        return False
    text = fold("\n".join(ln.text for ln in lines))
    if INVOICE_ONLY.search(text):
        return False
    kinds = sum(1 for rx in TILL_WORDS.values() if rx.search(text))
    if kinds >= MIN_TILL_KINDS:
        return True
    return kinds >= MIN_TILL_KINDS_NARROW and _narrow(lines)


# ---------------------------------------------------------------- amounts


@dataclass(frozen=True)
class ReceiptLabel:
    role: str  # final | total | subtotal | net | tax | rounding | tendered | change
    rx: re.Pattern
    method: str | None = None  # tendered: the payment method it names


_T = r"t[o0]ta[l1I|!]"  # "Total" as OCR reads it: T0tal, Tota1, Tota|, Tota!
_TAX = r"(?:gst|sst|vat|tax)"
_NOT_TAX_ID = r"(?!\s*[:.#]?\s*(?:id\b|reg|no\b|no\.|number|summary|invoice|code|analysis|#|payer))"
RECEIPT_LABELS: list[ReceiptLabel] = [
    # the amount paid: after rounding, rounded, grand, final, payable
    ReceiptLabel(
        "final",
        _rx(
            rf"\b(?:{_T}\s*(?:amt\s*)?|nett?\s*{_T}\s*)?(?:after|aft)\s*(?:rounding|round|adj\w*)"
            rf"(?:\s*incl\w*\.?\s*(?:of\s*)?{_TAX})?|"
            rf"\b(?:nett?\s*)?{_T}\s*(?:amt\s*)?rounded|\brounded\s*{_T}|"
            rf"\bgrand\s*{_T}|\bfinal\s*{_T}|\bfinal{_T}|\b{_T}\s*payable|\bamount\s*payable|"
            rf"\bamount\s*(?:to\s*be\s*)?paid|\b{_T}\s*(?:amount\s*)?due|\bamount\s*due|"
            rf"\bbalance\s*due|\b{_T}\s*to\s*pay|\bnett\s*{_T}"
        ),
    ),
    # the net, before tax
    ReceiptLabel(
        "net",
        _rx(
            rf"\b(?:{_T}|amt\.?|amount)\s*(?:sales\s*)?\(?\s*(?:excl?\w*\.?|before|w/o)\s*"
            rf"(?:of\s*)?{_TAX}"
        ),
    ),
    ReceiptLabel("subtotal", _rx(rf"\bsub[\s\-]*{_T}|\bsub[\s\-]*t[o0]\w{{0,3}}\b")),
    # the tax: "GST 6%", "GST @6%:", "TotalGST", "6% GST Included", "GST payable (6%)"
    ReceiptLabel(
        "tax",
        _rx(
            rf"(?:\b{_T}\s*)?(?<![a-z]){_TAX}\b{_NOT_TAX_ID}(?:\s*@?\s*\d+(?:\.\d+)?\s*%)?"
            rf"(?:\s*(?:payable|amount|amt|included|incl\.?)\b(?:\s*in\s*(?:the\s*)?{_T}\b)?)?|"
            rf"\b\d+(?:\.\d+)?\s*%\s*{_TAX}\b{_NOT_TAX_ID}(?:\s*included)?"
        ),
    ),
    # any other total: "TOTAL", "Total Sales (Inclusive GST)", "Total RM Incl. of GST"
    ReceiptLabel(
        "total",
        _rx(
            rf"(?<!sub)(?<!sub-)(?<!sub\s)\b(?:nett?\s*)?{_T}(?:\s*sales)?(?:\s*amount)?"
            r"(?!\s*(?:qty|quantity|items?|item\(s\)|savings?|saving|promotional|discount|"
            r"stamp|points?|rc\b|sv\b|gv\b|units?|\d+\s*%?\s*supplies|@\S*\s*supplies|"
            r"excl|w/o|before|gross))"
            rf"(?:\s*\(?\s*(?:rm|myr)\s*\)?)?"
            rf"(?:\s*\(?\s*(?:incl?\w*\.?|inclusive)\s*(?:of\s*)?{_TAX}\s*\)?)?"
        ),
    ),
    ReceiptLabel("rounding", _rx(r"\bround(?:ing)?\b\.?(?:\s*adj\w*\.?)?|\brounding\w*")),
    ReceiptLabel("change", _rx(r"\b(?:cash\s*)?change\b(?:\s*(?:due|amt|amount))?")),
    # what was handed over, and how
    ReceiptLabel("tendered", _rx(r"\bvisa\b(?:\s*card)?"), "visa"),
    ReceiptLabel("tendered", _rx(r"\bmaster\s*(?:card)?\b"), "mastercard"),
    ReceiptLabel("tendered", _rx(r"\bamex\b|\bamerican\s*express\b"), "amex"),
    ReceiptLabel("tendered", _rx(r"\bdebit(?:\s*card)?\b"), "debit_card"),
    ReceiptLabel("tendered", _rx(r"\bcredit(?:\s*card)?\b(?!\s*note)"), "credit_card"),
    ReceiptLabel(
        "tendered",
        _rx(
            r"\b(?:boost|grab\s*pay|touch\s*'?\s*n\s*go|tng\s*e?wallet|e-?wallet|alipay|"
            r"wechat\s*pay|shopee\s*pay|apple\s*pay|google\s*pay)\b"
        ),
        "e_wallet",
    ),
    ReceiptLabel(
        "tendered",
        _rx(
            r"\b(?:pay\s*)?cash\b(?!\s*(?:sales|bill|inv\w*|register|change|counter))"
            r"(?:\s*(?:received|tendered|paid))?"
        ),
        "cash",
    ),
    ReceiptLabel(
        "tendered",
        _rx(
            r"\btender(?:ed)?\b|\bpayment\b(?!\s*(?:method|mode|detail|type))|"
            r"\bpaid\b"
        ),
        None,
    ),
]
# Payment words where no amount stands beside them ("Payment Method  VISA CARD").
PAYMENT_METHODS = [(lb.rx, lb.method) for lb in RECEIPT_LABELS if lb.method]
TOTAL_RANK = {"final": 3, "total": 2, "subtotal": 1}
TAX_SUMMARY_RX = _rx(rf"\b{_TAX}\s*(?:summary|analysis)\b|\btax\s*code\b")
# a row of the tax summary: a tax code and its rate, then net and tax ("SR @ 6%  4.72  0.28")
TAX_ROW_RX = _rx(r"^\W{0,3}(?:[a-z]{1,3}|gst)\b(?!\s*(?:summary|code))")


def receipt_text(text: str) -> str:
    """A receipt line as amounts are read from it (same length): a decimal point or comma
    the till's monospaced print set apart put back ("11, 80", "0. 00", "538 .00")."""
    text = fold(text)
    for rx in (r"(?<=\d)([.,]) (\d{2})(?!\d)", r"(?<=\d) ([.,])(\d{2})(?!\d)"):
        text = re.sub(rx, lambda m: "." + m.group(2) + " ", text)
    return text


@dataclass
class Seen:
    role: str
    value: Decimal
    line: int
    conf: float
    method: str | None = None


def _conf(words: Sequence[Word]) -> float:
    return round(min((w.conf for w in words), default=0.0), 3)


def _labels(text: str) -> list[tuple[ReceiptLabel, int, int]]:
    """The receipt labels on a line, left to right; of overlapping ones the longer."""
    found = [(lb, m.start(), m.end()) for lb in RECEIPT_LABELS for m in lb.rx.finditer(text)]
    found = [f for f in found if f[2] > f[1]]
    found.sort(key=lambda f: (-(f[2] - f[1]), RECEIPT_LABELS.index(f[0])))
    kept: list[tuple[ReceiptLabel, int, int]] = []
    for f in found:
        if not any(k[1] < f[2] and f[1] < k[2] for k in kept):
            kept.append(f)
    return sorted(kept, key=lambda f: f[1])


QUALIFIED_TAX = _rx(r"(?:incl\w*|excl\w*|inclusive|exclusive|w/o|before)\W*(?:of\W*)?$|\([^()]*$")
MAX_TAX_SHARE = Decimal("0.3")  # no sales tax is 30 % of the net: a bigger "tax" is misread


def read_amounts(lines: Sequence[Line]) -> list[Seen]:
    """Every labelled amount of the receipt: the money amount after each label, up to the
    next label on its line. A "rounding" line over MAX_ROUNDING is the rounded total
    (some tills print "Rounding  RM 45.35"); a total printed after the rounding line is
    the amount paid. "GST" after "Incl." or "Excl." qualifies a total, it is no tax line;
    the tax summary's own rows and total row (two amounts: net and tax) are no totals."""
    out: list[Seen] = []
    rounding_at = None
    summary_at = next(
        (i for i, ln in enumerate(lines) if TAX_SUMMARY_RX.search(fold(ln.text))), None
    )
    for i, line in enumerate(lines):
        text = receipt_text(line.text)
        labels = _labels(text)
        in_summary = summary_at is not None and summary_at < i <= summary_at + 6
        if in_summary and len(re.findall(r"\d+(?:[.,]\d+)?", text)) >= 2:
            continue
        for k, (label, start, end) in enumerate(labels):
            if label.role == "tax" and QUALIFIED_TAX.search(text[max(0, start - 16) : start]):
                continue
            stop = labels[k + 1][1] if k + 1 < len(labels) else len(text)
            money = [a for a in find_amounts(text[end:stop]) if a.has_decimals]
            if not money:
                continue
            a = money[0]
            value, role = a.value, label.role
            if role in ("tendered", "change"):
                value = abs(value)
            if role == "rounding":
                if abs(value) > MAX_ROUNDING:
                    role = "final"
                elif value:
                    rounding_at = i
            elif role == "total" and rounding_at is not None:
                role = "final"
            words = line.words_in(end + a.start, end + a.end)
            out.append(Seen(role, value, i, _conf(words), label.method))
    return out


@dataclass
class Total:
    value: Decimal
    conf: float
    line: int | None
    support: int
    notes: list[str]


def _support(v: Decimal, seen: list[Seen]) -> tuple[int, set[Decimal]]:
    """How many separate readings on the receipt give `v` as the amount paid, and the
    amounts that lead up to it (a total before rounding, a net before tax)."""
    by = {r: [s for s in seen if s.role == r] for r in ("tendered", "change", "rounding", "tax")}
    totals = [s for s in seen if s.role in TOTAL_RANK]
    lines_reading = {s.line for s in totals if s.value == v}
    support = len(lines_reading)
    changes = [s.value for s in by["change"]]
    tendered = [s.value for s in by["tendered"]]
    if any(c - h == v for c in tendered for h in changes if h > 0):
        support += 1
    elif any(c == v for c in tendered) and all(h == 0 for h in changes):
        support += 1
    before: set[Decimal] = set()
    signed = [s for s in by["rounding"] if s.value]
    roundings = [abs(s.value) for s in signed]
    for t in {s.value for s in totals} - {v}:
        # v = t + rounding as printed; or, the sign lost ("0.02-", "~0.04"), t is read
        # above the rounding line and v is not read only above it
        above = [s.line for s in totals if s.value == t]
        v_lines = [s.line for s in totals if s.value == v]
        for r in signed:
            if v - t == r.value or (
                abs(v - t) == abs(r.value)
                and all(k < r.line for k in above)
                and v_lines
                and not all(k < r.line for k in v_lines)
            ):
                before.add(t)
    if before:
        support += 1
    nets = {s.value for s in seen if s.role in ("net", "subtotal")}
    taxes = {s.value for s in by["tax"]}
    for n in nets:
        for x in taxes:
            if x and x <= MAX_TAX_SHARE * n and (n + x == v or abs(v - n - x) in roundings):
                before.add(n)
    if nets & before and not lines_reading & {s.line for s in seen if s.value in nets}:
        support += 1
    return support, before


def read_total(lines: Sequence[Line], seen: list[Seen]) -> Total | None:
    """The amount paid: the value most readings agree on (see the module docstring)."""
    totals = [s for s in seen if s.role in TOTAL_RANK]
    tendered = [s for s in seen if s.role == "tendered"]
    changes = [s for s in seen if s.role == "change"]
    candidates = {s.value for s in totals if s.value > 0}
    candidates |= {c.value - h.value for c in tendered for h in changes if c.value > h.value > 0}
    if not changes or all(h.value == 0 for h in changes):
        candidates |= {c.value for c in tendered if c.value > 0}
    nets = {s.value for s in seen if s.role in ("net", "subtotal")}
    taxes = {s.value for s in seen if s.role == "tax" and s.value > 0}
    roundings = {s.value for s in seen if s.role == "rounding" and s.value} or {ZERO}
    candidates |= {
        n + x + r for n in nets for x in taxes for r in roundings | {ZERO} if x <= MAX_TAX_SHARE * n
    }
    if not candidates:
        return None
    scored = {}
    for v in candidates:
        support, before = _support(v, seen)
        reading = [s for s in totals if s.value == v]
        rank = max((TOTAL_RANK[s.role] for s in reading), default=0)
        last = max((s.line for s in reading), default=-1)
        scored[v] = (support + (rank == 3), rank, last, support, before)
    # a subtotal that only leads up to another candidate (net + tax, a total before
    # rounding) as well supported as it is not the amount paid
    pool = [
        w
        for w in scored
        if not any(
            w in scored[v][4] and scored[v][3] >= scored[w][3] and scored[w][1] <= 1
            for v in scored
            if v != w
        )
    ]
    best = max(pool or scored, key=lambda v: scored[v][:3])
    _, rank, last, support, before = scored[best]
    # what cash - change says was paid, where change was given
    paid = {c.value - h.value for c in tendered for h in changes if c.value > h.value > 0}
    reading = [s for s in totals if s.value == best]
    conf = min((s.conf for s in reading), default=UNCONFIRMED)
    notes = []
    rivals = [v for v in scored if v != best and v not in before and scored[v][3] >= 2]
    if paid and best not in paid:
        rivals += sorted(paid - set(rivals))
    rounding = [s for s in seen if s.role == "rounding" and s.value]
    unrounded = (
        rounding
        and reading
        and all(s.line < rounding[0].line for s in reading)
        and not before
        and support < 3
    )
    if support >= 2 and not rivals and not unrounded:
        conf = max(conf, CORROBORATED)
    else:
        conf = min(conf, UNCONFIRMED)
        if rivals:
            others = ", ".join(f"{v:,.2f}" for v in sorted(rivals))
            notes.append(f"the receipt's amounts disagree on the total: {best:,.2f} or {others}")
        elif unrounded:
            notes.append(
                f"total {best:,.2f} is before the rounding line; the rounded amount paid "
                "could not be read"
            )
    return Total(best, round(conf, 3), last if last >= 0 else None, support, notes)


@dataclass
class Tax:
    value: Decimal
    conf: float
    rate: Decimal | None


def _summary_rows(lines: Sequence[Line]) -> list[tuple[Decimal, Decimal, Decimal | None, float]]:
    """The tax summary's rows under its heading: (net, tax, rate, confidence) each."""
    rows = []
    start = next((i for i, ln in enumerate(lines) if TAX_SUMMARY_RX.search(fold(ln.text))), None)
    if start is None:
        return rows
    for line in lines[start + 1 : start + 6]:
        text = receipt_text(line.text)
        if not TAX_ROW_RX.search(text):
            continue
        money = [a for a in find_amounts(text) if a.has_decimals]
        if len(money) < 2:
            continue
        net, tax = money[-2], money[-1]
        conf = _conf(line.words_in(net.start, tax.end))
        rows.append((net.value, tax.value, parse_rate(text), conf))
    return rows


def read_tax(lines: Sequence[Line], seen: list[Seen], total: Total) -> Tax | None:
    """The tax the receipt prints: its tax line, else the summary's tax column; trusted
    where it checks (module docstring)."""
    rows = _summary_rows(lines)
    taxes = [s for s in seen if s.role == "tax" and s.value >= 0]
    rates = [parse_rate(receipt_text(lines[s.line].text)) for s in taxes]
    if taxes:
        x, conf = taxes[0].value, taxes[0].conf
        rate = next((r for r in rates if r is not None), None)
    elif rows:
        x = sum((r[1] for r in rows), ZERO)
        conf = min(r[3] for r in rows)
        nonzero = {r[2] for r in rows if r[1]}
        rate = nonzero.pop() if len(nonzero) == 1 else None
    else:
        return None
    if rate is None:
        rate = next((r[2] for r in rows if r[1] and r[2] is not None), None)
    v = total.value
    if x > MAX_TAX_SHARE * v:
        return None
    nets = {s.value for s in seen if s.role in ("net", "subtotal")}
    nets |= {sum((r[0] for r in rows), ZERO)} if rows else set()
    roundings = {abs(s.value) for s in seen if s.role == "rounding"} | {ZERO}
    checks = [
        any(n + x == v or abs(v - n - x) in roundings for n in nets),
        any(r[1] == x for r in rows) and bool(taxes),  # the tax line and the summary agree
        rate is not None and x > 0 and abs(x - v * rate / (1 + rate)) <= Decimal("0.02"),
        rate is not None and any(abs(x - r[0] * rate) <= Decimal("0.01") for r in rows if r[1]),
        x == 0 and rate == 0,
    ]
    if any(checks):
        conf = max(conf, CORROBORATED)
    else:
        conf = min(conf, UNCONFIRMED)
    return Tax(x, round(conf, 3), rate)


# ---------------------------------------------------------------- merchant

# Legal forms of a merchant's company as receipts print them (Malaysia, Singapore, and the
# ones ocr.labels.LEGAL_FORM_RX knows), in any case.
MERCHANT_LEGAL_FORM = _rx(
    r"(?<![\w.])(?:s[do0u]n\.?\s*bh[dop0]\.?|bh[dp]\.?|s/b|pte\.?\s*ltd\.?|ltd\.?|limited|llc|inc\.?|"
    r"plc|gmbh|corp\.?|corporation|pvt\.?\s*ltd\.?)(?![\w])|(?<=\s)sb(?![\w])"
)
CONTINUES_A_NAME = _rx(r"^\W*(?:co\.|\(m\)|sdn\b|bhd\b|s/b\b|&|and\b|pte\b|ltd\b|\(\w{1,3}\))")
# What a header line is when it is not the name: an address, phone, id, title, a web page.
NOT_A_NAME = _rx(
    r"\b(?:jalan|jln|lorong|taman|lot|no\.?\s*\d|tel|fax|phone|mobile|email|e-mail|www|http|"
    r"gst|sst|reg\b|reg\.|co\.?\s*no|company\s*no|tax\s*invoice|invoice|receipt|date|"
    r"cashier|welcome|selamat|floor|level|unit|kawasan|seksyen|bandar|street|road|"
    r"cash\s*(?:sa\w*|bill|memo)|bill|order|table|customer|member|thank|tq|shopping|copy)\b|@|"
    r"\b\d{5}\b"
)
# a company or tax number in brackets after the name, "(Co. No. 113825-W)", "(139386 X)"
NUMBER_IN_BRACKETS = re.compile(r"[\s,]*[(\[{<][^()\[\]{}<>]*\d[^()\[\]{}<>]*[)\]}>]?\s*$")
HEADER_LINES = 8


def _name_like(text: str) -> bool:
    letters = sum(c.isalpha() for c in text)
    chars = sum(not c.isspace() for c in text)
    words = [w for w in re.findall(r"[A-Za-z]{2,}", text)]
    return letters >= 3 and letters >= 0.6 * chars and bool(words) and not NOT_A_NAME.search(text)


def _clean_name(text: str) -> str:
    text = text.strip()
    while True:
        cut = NUMBER_IN_BRACKETS.sub("", text)
        if cut == text:
            break
        text = cut
    text = re.sub(
        r"[\s,]*\b(?:co\.?\s*(?:no|reg)\b.*|company\s*(?:no|reg)\b.*)$", "", text, flags=re.I
    )
    return " ".join(text.strip(" *•·“”\"'‘’,;:|-_~").split())


@dataclass
class Merchant:
    value: str
    conf: float


SURE_NAME = 0.6  # a header line read this surely is taken for the name before others


def read_merchant(lines: Sequence[Line]) -> Merchant | None:
    """The merchant's name from the head of the receipt (module docstring): the lines
    above the first address, phone or id line."""
    page = [ln for ln in lines if ln.page == lines[0].page] if lines else []
    head: list[Line] = []
    for line in page[:HEADER_LINES]:
        text = fold(line.text)
        if not MERCHANT_LEGAL_FORM.search(text) and NOT_A_NAME.search(text):
            if any(_name_like(fold(h.text)) for h in head):
                break
            continue
        head.append(line)
    for i, line in enumerate(head):
        text = fold(line.text)
        m = MERCHANT_LEGAL_FORM.search(text)
        if not m:
            continue
        words = list(line.words)
        name = text
        if i > 0 and CONTINUES_A_NAME.match(text) and _name_like(fold(head[i - 1].text)):
            name = fold(head[i - 1].text) + " " + text
            words = list(head[i - 1].words) + words
        name = _clean_name(name)
        if sum(c.isalpha() for c in MERCHANT_LEGAL_FORM.sub("", name)) < 3:
            continue
        return Merchant(name, round(0.95 * _conf(words), 3))
    names = [
        ln
        for ln in head
        if _name_like(fold(ln.text)) and not fold(ln.text).lstrip().startswith("(")
    ]
    if not names:
        return None
    line = next((ln for ln in names if _conf(ln.words) >= SURE_NAME), names[0])
    conf = 0.9 * _conf(line.words)
    if any(MERCHANT_LEGAL_FORM.search(fold(ln.text)) for ln in page):
        conf = min(conf, UNSURE_MERCHANT)  # a company named elsewhere: which is the supplier?
    return Merchant(_clean_name(fold(line.text)), round(conf, 3))


# ---------------------------------------------------------------- date

DATE_LABEL = _rx(r"\b(?:date|bizdate|dd|dated|tarikh)\b")
TIME_RX = re.compile(r"\b\d{1,2}\s?:\s?\d{2}(?:\s?:\s?\d{2})?\b")


_SPACED_DATE = re.compile(r"(?<![\d.,])(\d{1,4}) ?([/-]) ?(\d{1,2}) ?([/-]) ?(\d{2,4})(?!\d)")


def _date_text(text: str) -> str:
    """A receipt line as dates are read from it (same length): spaces a till or OCR put
    inside a date taken out ("06- 05- 2018", "2018- 03- 18")."""

    def compact(m: re.Match) -> str:
        s = "".join(m.groups())
        return s + " " * (len(m.group(0)) - len(s))

    return _SPACED_DATE.sub(compact, fold(text))


@dataclass
class ReceiptDate:
    value: dt.date
    conf: float
    ambiguous: bool


def _weekday_decides(line_text: str, value: dt.date) -> bool | None:
    """A weekday printed on the date's line: True where it fits `value`, False where it
    fits the swapped reading only, None where there is none (or it fits neither)."""
    m = WEEKDAY_RX.search(line_text)
    if not m:
        return None
    day = WEEKDAYS[m.group(1).lower()]
    if value.weekday() == day:
        return True
    try:
        swapped = value.replace(month=value.day, day=value.month)
    except ValueError:
        return None
    return False if swapped.weekday() == day else None


REPAIRED_YEAR = 0.5  # a year put right by one misread digit: for review, never trusted


def _repaired_year(value: dt.date, today: dt.date) -> dt.date | None:
    """The one plausible date (ocr.validate.plausible_date) a single misread digit of the
    year stands for ("2618", "7017" for 2018, 2017: OCR reads 0 as 6, 2 as 7); None if
    none or several fit ("2048": 2008 or 2018)."""
    year = f"{value.year:04d}"
    fits = set()
    for k in range(4):
        for digit in "0123456789":
            if digit == year[k]:
                continue
            try:
                candidate = value.replace(year=int(year[:k] + digit + year[k + 1 :]))
            except ValueError:  # 29 February
                continue
            if plausible_date(candidate, today):
                fits.add(candidate)
    return fits.pop() if len(fits) == 1 else None


def read_date(lines: Sequence[Line], today: dt.date | None = None) -> ReceiptDate | None:
    """The receipt's date (module docstring). A date whose year cannot be (before 2000,
    more than a year after `today`) is passed over for a plausible one, or its year put
    right where one misread digit explains it (REPAIRED_YEAR)."""
    today = today or dt.date.today()
    text = "\n".join(ln.text for ln in lines)
    dayfirst = infer_dayfirst(text)
    proven = not dayfirst or any(
        not d.order_ambiguous and re.search(r"\d[/-]\d", text[d.start : d.end])
        for d in find_dates(fold(text), dayfirst=dayfirst)
        if not any(name in text[d.start : d.end].lower() for name in MONTHS)
    )
    found = []
    for i, line in enumerate(lines):
        t = _date_text(line.text)
        for d in find_dates(t, dayfirst=dayfirst):
            labelled = bool(DATE_LABEL.search(t[: d.start]))
            timed = bool(TIME_RX.search(t[d.end :]) or TIME_RX.search(t[: d.start]))
            words = line.words_in(d.start, d.end)
            found.append((labelled, timed, i, d, _conf(words), t))
    if not found:
        return None
    labelled, timed, i, d, conf, t = max(
        found, key=lambda f: (plausible_date(f[3].value, today), f[0], f[1], -f[2])
    )
    value = d.value
    if not plausible_date(value, today):
        repaired = _repaired_year(value, today)
        if repaired is not None:
            value, conf = repaired, min(conf, REPAIRED_YEAR)
    if not (labelled or timed):
        conf *= 0.9
    others = {f[3].value for f in found if f[0] or f[1]} - {value}
    if others:
        conf = min(conf, CONFLICTING_DATES)
    ambiguous = d.order_ambiguous and not proven
    weekday = _weekday_decides(t, value) if d.order_ambiguous else None
    if weekday is False:
        value = value.replace(month=value.day, day=value.month)
        ambiguous = False
    elif weekday is True:
        ambiguous = False
    if ambiguous:
        conf = min(conf, AMBIGUOUS_DATE)
    return ReceiptDate(value, round(conf, 3), ambiguous)


# ---------------------------------------------------------------- the receipt


def payment_method(lines: Sequence[Line], seen: list[Seen], total_line: int | None) -> str | None:
    """How the receipt was paid: the first tendering line that names a method, else a
    method named at or below the total ("Payment Method  VISA CARD")."""
    for s in seen:
        if s.role == "tendered" and s.method and (total_line is None or s.line >= total_line):
            return s.method
    start = total_line or 0
    for line in lines[start:]:
        text = fold(line.text)
        for rx, method in PAYMENT_METHODS:
            if rx.search(text):
                return method
    return None


def _tax_printed(lines: Sequence[Line]) -> bool:
    """Whether the receipt prints a tax amount: a tax summary, or a tax label with figures
    after it (not "GST ID", not "Price inclusive of 6% GST")."""
    for line in lines:
        text = receipt_text(line.text)
        if TAX_SUMMARY_RX.search(text):
            return True
        for label, start, end in _labels(text):
            if label.role == "tax" and not QUALIFIED_TAX.search(text[max(0, start - 16) : start]):
                if re.search(r"\d", text[end:]):
                    return True
    return False


OPTIONAL_IDS = (
    "invoice_number",
    "supplier_tax_id",
    "buyer_name",
    "buyer_tax_id",
    "payment_reference",
    "supplier_iban",
    "due_date",
)
RM_RX = re.compile(r"(?<![A-Za-z])RM(?![A-Za-z])|\bMYR\b")


def read_receipt(
    inv: ExtractedInvoice,
    lines: Sequence[Line],
    confidence: dict[str, float],
    min_confidence: float,
    today: dt.date | None = None,
) -> list[str]:
    """Read `inv`, a receipt whose invoice fields are read already, the receipt's way:
    total, tax, net, merchant, date, currency, payment method (module docstring); set them
    with their confidences. An optional id a receipt does not need (its number, a tax id,
    a buyer) read with less than `min_confidence` is left off rather than sent to review.
    Returns the review notes of the receipt's own checks."""
    notes: list[str] = []
    seen = read_amounts(lines)
    total = read_total(lines, seen)
    if total is None and inv.total is not None:  # a total only the invoice labels found
        total = Total(inv.total, min(confidence.get("total", 0.0), UNCONFIRMED), None, 0, [])
    inv.tax_amount = inv.subtotal = None  # the receipt's own arithmetic decides them
    confidence.pop("tax_amount", None)
    confidence.pop("subtotal", None)
    if total is not None:
        notes += total.notes
        inv.total, confidence["total"] = total.value, total.conf
        tax = read_tax(lines, seen, total)
        if tax is not None and tax.value <= total.value:
            inv.tax_amount, confidence["tax_amount"] = tax.value, tax.conf
            inv.subtotal = total.value - tax.value
            confidence["subtotal"] = min(total.conf, tax.conf)
        else:
            inv.subtotal, confidence["subtotal"] = total.value, total.conf
            if _tax_printed(lines):
                notes.append(
                    "the receipt prints a tax (a tax line or summary) whose amount was not read"
                )
    merchant = read_merchant(lines)
    if merchant is not None and merchant.value:
        inv.supplier_name, confidence["supplier_name"] = merchant.value, merchant.conf
    date = read_date(lines, today)
    if date is not None:
        inv.invoice_date, confidence["invoice_date"] = date.value, date.conf
    if inv.currency is None and RM_RX.search("\n".join(ln.text for ln in lines)):
        inv.currency, confidence["currency"] = "MYR", 0.8
    inv.payment_method = payment_method(lines, seen, total.line if total else None)
    for name in OPTIONAL_IDS:
        if getattr(inv, name) is not None and confidence.get(name, 1.0) < min_confidence:
            setattr(inv, name, None)
            confidence.pop(name, None)
    return notes
