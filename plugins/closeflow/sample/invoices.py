"""The content of a sample invoice or credit note: lines, amounts, numbers, dates.

Money is Decimal throughout: a line's amount is quantity x unit price rounded half-up to
the cent, its tax is amount x rate rounded the same way; the invoice tax is the sum of
the line taxes and the total is subtotal + tax, exactly. Amounts of credit notes are
positive, as printed; `document_type` says they reduce what is owed.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from closeflow.money import round_money
from closeflow.sample import checksums
from closeflow.sample.formats import month_name
from closeflow.sample.seeds import digits
from closeflow.sample.suppliers import Item, SupplierProfile

DocumentType = Literal["invoice", "credit_note"]


@dataclass(frozen=True)
class InvoiceLine:
    line_no: int
    description: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal
    tax_rate: Decimal
    tax_amount: Decimal
    unit: str = ""
    spec: str = ""
    account: str | None = None  # the expense account the sample's rules post it to


@dataclass(frozen=True)
class Buyer:
    name: str
    tax_id: str
    address: str


@dataclass(frozen=True)
class Invoice:
    supplier: SupplierProfile
    buyer: Buyer
    document_type: DocumentType
    invoice_number: str
    invoice_date: dt.date
    due_date: dt.date
    lines: tuple[InvoiceLine, ...]
    payment_reference: str
    cn_invoice_code: str = ""  # 发票代码
    cn_check_code: str = ""  # 校验码, 20 digits
    cn_special: bool = False  # 增值税专用发票 (else 普通发票)

    @property
    def currency(self) -> str:
        return self.supplier.currency

    @property
    def subtotal(self) -> Decimal:
        return sum((ln.amount for ln in self.lines), Decimal("0.00"))

    @property
    def tax_amount(self) -> Decimal:
        return sum((ln.tax_amount for ln in self.lines), Decimal("0.00"))

    @property
    def total(self) -> Decimal:
        return self.subtotal + self.tax_amount

    @property
    def tax_rates(self) -> list[Decimal]:
        return sorted({ln.tax_rate for ln in self.lines}, reverse=True)


def _price(rng: random.Random, item: Item) -> Decimal:
    if item.max_cents - item.min_cents > 1000:  # larger ranges: round prices to 10 cents
        cents = rng.randint(item.min_cents // 10, item.max_cents // 10) * 10
    else:
        cents = rng.randint(item.min_cents, item.max_cents)
    return Decimal(cents).scaleb(-2)


def _line(
    line_no: int, description: str, quantity: Decimal, price: Decimal, rate: Decimal, item: Item
) -> InvoiceLine:
    amount = round_money(quantity * price)
    return InvoiceLine(
        line_no=line_no,
        description=description,
        quantity=quantity,
        unit_price=price,
        amount=amount,
        tax_rate=rate,
        tax_amount=round_money(amount * rate),
        unit=item.unit,
        spec=item.spec,
        account=item.account,
    )


def make_lines(
    rng: random.Random, supplier: SupplierProfile, invoice_date: dt.date, credit_note: bool
) -> tuple[InvoiceLine, ...]:
    """1-4 lines from the supplier's price list (all of them for a monthly bill)."""
    tpl = supplier.template
    if tpl.recurring_day is not None and not credit_note:
        items = list(tpl.items)
    else:
        wanted = rng.choices((1, 2, 3, 4), weights=(35, 30, 20, 15))[0]
        if credit_note:
            wanted = min(wanted, 2)
        items = rng.sample(tpl.items, min(wanted, len(tpl.items)))
    month = month_name(invoice_date, tpl.language)
    lines = []
    for n, item in enumerate(items, start=1):
        description = item.description.replace("{month}", month)
        quantity = Decimal(rng.choice(item.quantities))
        if credit_note:
            prefix = "Gutschrift" if tpl.language == "de" else "Credit"
            description = f"{prefix}: {description}"
            quantity = Decimal(1)
        lines.append(_line(n, description, quantity, _price(rng, item), tpl.tax_rate, item))
    return tuple(lines)


@dataclass
class Numbering:
    """Each supplier's invoice and credit-note counters (other customers' invoices in
    between make the numbers jump)."""

    invoice_seq: dict[str, int] = field(default_factory=dict)
    credit_seq: dict[str, int] = field(default_factory=dict)

    def next(self, rng: random.Random, supplier: SupplierProfile, credit_note: bool) -> int:
        counters = self.credit_seq if credit_note else self.invoice_seq
        start = supplier.first_seq // (10 if credit_note else 1)
        seq = counters.get(supplier.supplier_id, start) + rng.randint(1, 3 if credit_note else 9)
        counters[supplier.supplier_id] = seq
        return seq


def make_invoice(
    rng: random.Random,
    supplier: SupplierProfile,
    buyer: Buyer,
    invoice_date: dt.date,
    numbering: Numbering,
    credit_note: bool = False,
) -> Invoice:
    """An invoice (or credit note) of `supplier` dated `invoice_date`."""
    tpl = supplier.template
    seq = numbering.next(rng, supplier, credit_note)
    fields = {
        "year": invoice_date.year,
        "yy": invoice_date.year % 100,
        "month": invoice_date.month,
        "seq": seq,
    }
    if supplier.is_chinese:
        number = f"{(supplier.first_seq * 7919 + seq) % 10**8:08d}"
    elif credit_note:
        prefix = "GS" if tpl.language == "de" else "CR"
        number = f"{prefix}-{invoice_date.year}-{seq:04d}"
    else:
        number = tpl.number_format.format(**fields)
    if tpl.reference == "rf":
        reference = checksums.make_rf(
            supplier.rf_base + f"{seq:06d}" + ("9" if credit_note else "")
        )
    else:
        reference = number
    return Invoice(
        supplier=supplier,
        buyer=buyer,
        document_type="credit_note" if credit_note else "invoice",
        invoice_number=number,
        invoice_date=invoice_date,
        due_date=invoice_date + dt.timedelta(days=tpl.terms_days),
        lines=make_lines(rng, supplier, invoice_date, credit_note),
        payment_reference=reference,
        cn_invoice_code=supplier.cn_invoice_code,
        cn_check_code=digits(rng, 20) if supplier.is_chinese else "",
        cn_special=supplier.is_chinese and rng.random() < 0.6,
    )
