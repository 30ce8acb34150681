"""The movements on the company's two bank accounts during the generated window.

Each invoice is paid 5-30 days after it arrived, on a business day: 85 % with the exact
total, 5 % partially (same reference, less money), 10 % not at all. Credit notes are
refunded by the supplier as an incoming line quoting the credit note. EUR invoices are
paid from the EUR account, Chinese ones from the CNY account. Per month come bank lines
no invoice explains: customer receipts, salaries, the account fee and transfer charges;
on the first day, the capital that funds both accounts. Each of those carries the id of
the sample's bank rule that books it (`expected_rule`, closeflow.sample.company's
bank_rules.yml). Lines falling after the window are not produced: those invoices stay
open.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from closeflow.money import round_money
from closeflow.sample import checksums
from closeflow.sample.business_days import DateRange, next_business_day
from closeflow.sample.company import (
    BANK_RULE_OF_KIND,
    CAPITAL_HOLDING,
    CUSTOMERS,
    OPENING_BALANCE,
    CompanyIdentity,
)
from closeflow.sample.documents import InboxDocument
from closeflow.sample.seeds import digits, stream

LineKind = Literal[
    "payment", "partial_payment", "refund", "bank_fee", "capital", "salary", "customer_receipt"
]
ExpectedMatch = Literal["exact", "partial", "none"]
SENT, RECEIVED = ("PMNT", "ICDT", "ESCT"), ("PMNT", "RCDT", "ESCT")  # camt BkTxCd
SALARY, FEES = ("PMNT", "ICDT", "SALA"), ("ACMT", "MDOP", "CHRG")
__all__ = ["OPENING_BALANCE", "BankLine", "plan_bank_lines"]
CAPITAL = {"EUR": Decimal("300000.00"), "CNY": Decimal("500000.00")}
HOLDING = CAPITAL_HOLDING
_CUSTOMERS = CUSTOMERS
_EMPLOYEES = ("Sophie Krüger", "Felix Neumann", "Lena Schwarz", "Tim Zimmermann")


@dataclass(frozen=True)
class BankLine:
    """One booked movement, signed (money in positive), in the account's currency."""

    currency: str  # the account: EUR or CNY
    booking_date: dt.date
    sort_key: str  # order within the day's statement
    amount: Decimal
    counterparty_name: str
    counterparty_account: str
    remittance_info: str
    end_to_end_id: str
    kind: LineKind
    expected_match: ExpectedMatch
    invoice_sha256: str | None = None
    rf_reference: str | None = None  # structured creditor reference (camt Strd)
    bank_domain: tuple[str, str, str] = ("PMNT", "ICDT", "ESCT")  # camt BkTxCd Domn/Fmly/SubFmly

    @property
    def value_date(self) -> dt.date:
        return self.booking_date

    @property
    def expected_rule(self) -> str | None:
        """The sample's bank rule that books the line (none for invoice payments)."""
        return BANK_RULE_OF_KIND.get(self.kind)


def _remittance(rng: random.Random, doc: InboxDocument, refund: bool) -> str:
    invoice = doc.invoice
    ref = invoice.payment_reference
    if invoice.supplier.is_chinese:
        return rng.choice((f"货款 {ref}", f"发票号码{ref}", f"支付货款 发票{ref}", ref))
    if refund:
        return rng.choice((f"Refund {ref}", f"Gutschrift {ref}", f"Credit note {ref}"))
    if ref.startswith("RF"):
        return ref
    return rng.choice((ref, f"Invoice {ref}", f"Rechnung {ref}", f"{ref} Closeflow Demo GmbH"))


def _invoice_line(
    rng: random.Random, doc: InboxDocument, window: DateRange, n: int
) -> BankLine | None:
    invoice = doc.invoice
    credit = invoice.document_type == "credit_note"
    roll = rng.random()
    if not credit and roll >= 0.90:
        return None  # never paid in the window
    days = rng.randint(5, 20) if credit else rng.randint(5, 30)
    booking = next_business_day(doc.received_at.date() + dt.timedelta(days=days))
    if booking not in window:
        return None
    amount, kind, match = invoice.total, "payment", "exact"
    if credit:
        kind = "refund"
    elif roll >= 0.85:
        share = Decimal(rng.choice(("0.50", "0.90", "0.97")))
        amount, kind, match = round_money(invoice.total * share), "partial_payment", "partial"
    supplier = invoice.supplier
    ref = invoice.payment_reference
    return BankLine(
        currency=invoice.currency,
        booking_date=booking,
        sort_key=f"{rng.randrange(10**6):06d}-{n:05d}",
        amount=amount if credit else -amount,
        counterparty_name=supplier.name,
        counterparty_account=supplier.bank_account,
        remittance_info=_remittance(rng, doc, credit),
        end_to_end_id=(f"{supplier.supplier_id}-{ref}" if credit else f"CF-PAY-{n:05d}")[:35],
        kind=kind,
        expected_match=match,
        invoice_sha256=doc.sha256,
        rf_reference=ref if ref.startswith("RF") else None,
        bank_domain=RECEIVED if credit else SENT,
    )


def _iban(rng: random.Random) -> str:
    bank = rng.choice(("20050550", "10010010", "30050000"))
    return checksums.make_iban("DE", bank + digits(rng, 10, first_nonzero=True))


def _unexplained(
    currency: str,
    day: dt.date,
    order: str,
    amount: Decimal,
    counterparty: str,
    account: str,
    text: str,
    domain: tuple[str, str, str],
    kind: LineKind,
    end_to_end_id: str = "NOTPROVIDED",
) -> BankLine:
    """A bank line that no invoice explains."""
    return BankLine(
        currency=currency,
        booking_date=day,
        sort_key=order,
        amount=amount,
        counterparty_name=counterparty,
        counterparty_account=account,
        remittance_info=text,
        end_to_end_id=end_to_end_id,
        kind=kind,
        expected_match="none",
        bank_domain=domain,
    )


def _month_lines(rng: random.Random, chunk: DateRange, company: CompanyIdentity) -> list:
    """Customer receipts, salaries and fees of one month (part) of the window."""
    days = chunk.business_days()
    if not days:
        return []

    def order() -> str:
        return f"{rng.randrange(10**6):06d}-x"

    year, month = chunk.start.year, chunk.start.month
    lines = []
    for n in range(3):
        amount = Decimal(rng.randint(800_000, 4_000_000)).scaleb(-2)
        number = f"AR-{year}-{month:02d}{n + 1:02d}"
        text = rng.choice((f"Invoice {number}", f"RE {number} Zahlung"))
        customer = rng.choice(_CUSTOMERS)
        lines.append(
            _unexplained(
                "EUR",
                rng.choice(days),
                order(),
                amount,
                customer,
                _iban(rng),
                text,
                RECEIVED,
                "customer_receipt",
            )
        )
    for name in rng.sample(_EMPLOYEES, rng.randint(1, 2)):
        amount = -Decimal(rng.randint(320_000, 580_000)).scaleb(-2)
        lines.append(
            _unexplained(
                "EUR",
                days[-1],
                order(),
                amount,
                name,
                _iban(rng),
                f"Gehalt {month:02d}/{year} {name}",
                SALARY,
                "salary",
                end_to_end_id=f"CF-SAL-{year}{month:02d}",
            )
        )
    previous = (chunk.start.replace(day=1) - dt.timedelta(days=1)).strftime("%m/%Y")
    lines.append(
        _unexplained(
            "EUR",
            days[0],
            order(),
            Decimal("-12.90"),
            company.eur_bank,
            "",
            f"Kontoführungsgebühr {previous}",
            FEES,
            "bank_fee",
        )
    )
    for _ in range(rng.randint(1, 2)):
        amount = Decimal(rng.choice(("-1.50", "-3.00", "-15.00", "-25.00")))
        lines.append(
            _unexplained(
                "EUR",
                rng.choice(days),
                order(),
                amount,
                company.eur_bank,
                "",
                "Bank charges",
                FEES,
                "bank_fee",
            )
        )
    amount = -Decimal(rng.randint(2000, 8000)).scaleb(-2)
    lines.append(
        _unexplained(
            "CNY",
            rng.choice(days),
            order(),
            amount,
            company.cny_bank,
            "",
            "手续费 Bank charges",
            FEES,
            "bank_fee",
            "",
        )
    )
    return lines


def plan_bank_lines(
    seed: int, window: DateRange, company: CompanyIdentity, docs: list[InboxDocument]
) -> list[BankLine]:
    """Every bank line of the window, both accounts, in no particular order."""
    lines: list[BankLine] = []
    first = window.business_days()
    if not first:
        return lines
    rng = stream(seed, "bank", "capital")
    lines.append(
        _unexplained(
            "EUR",
            first[0],
            "000000-capital",
            CAPITAL["EUR"],
            HOLDING,
            _iban(rng),
            "Kapitaleinlage Closeflow Demo GmbH",
            RECEIVED,
            "capital",
            end_to_end_id="CF-CAPITAL-EUR",
        )
    )
    lines.append(
        _unexplained(
            "CNY",
            first[0],
            "000000-capital",
            CAPITAL["CNY"],
            HOLDING,
            _iban(rng),
            "Capital injection 注资",
            RECEIVED,
            "capital",
            end_to_end_id="",
        )
    )
    for n, doc in enumerate(docs):
        if doc.expected_status == "extracted" and doc.invoice is not None:
            line = _invoice_line(stream(seed, "pay", doc.sha256, doc.name), doc, window, n)
            if line is not None:
                lines.append(line)
    for chunk in window.chunks():
        lines += _month_lines(stream(seed, "bank", chunk.start.isoformat()), chunk, company)
    return lines
