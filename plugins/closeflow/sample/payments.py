"""The movements on the company's two bank accounts during the generated window.

Each invoice is paid 5-30 days after it arrived, on a business day: 85 % with the exact
total, 5 % partially (same reference, less money), 10 % not at all. Credit notes are
refunded by the supplier as an incoming line quoting the credit note. Each month, a few
of those lines (HARDER, drawn from a stream of their own, so the other lines stay as
they were) are made harder, each with the rule that should match it
(`expected_match_rule`): a reference with a typo (one character changed, added, dropped
or two neighbours swapped), no reference at all (the supplier's IBAN only), no reference
and no IBAN (only the supplier's name, as a bank prints it), a 2 % cash discount taken,
a refund with the bank's charge deducted, and two invoices of one supplier paid by one
line naming both (`several_invoices`). EUR invoices are
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
from dataclasses import dataclass, replace
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
    TOLERANCE,
    TOLERANCE_PERCENT,
    CompanyIdentity,
)
from closeflow.sample.documents import InboxDocument
from closeflow.sample.seeds import digits, stream

LineKind = Literal[
    "payment",
    "partial_payment",
    "refund",
    "bank_fee",
    "capital",
    "salary",
    "customer_receipt",
    "typo_reference",
    "no_reference",
    "name_only",
    "cash_discount",
    "refund_fee_deducted",
    "several_invoices",
    "fx_paid",
]
ExpectedMatch = Literal["exact", "partial", "tolerance", "several", "fx", "none"]
# closeflow.reconcile's rules, as the truth names them
RULE_EXACT, RULE_SEVERAL = "reference+exact_amount", "reference+several"
RULE_TOLERANCE, RULE_PARTIAL = "reference+tolerance", "reference+partial"
RULE_IBAN, RULE_TYPO, RULE_NAME = (
    "counterparty+amount",
    "reference~typo+amount",
    "counterparty~name+amount",
)
RULE_FX = "reference+fx_amount"
# the harder cases each month (taken from its exact payments and refunds, by a stream of
# their own): kind, how many, and which lines may become one (EUR: the supplier's IBAN
# is on its invoices; CNY: it is not)
HARDER = (
    ("typo_reference", 1, "CNY"),  # found by the typo pass
    ("fx_paid", 1, "CNY"),  # a yuan invoice paid from the euro account, the bank converting
    ("typo_reference", 1, "EUR"),  # the supplier's IBAN and the amount find it first
    ("no_reference", 1, "EUR"),
    ("name_only", 1, "EUR"),
    ("cash_discount", 1, "EUR"),
    ("refund_fee_deducted", 1, "any"),
)
SEVERAL_PAIRS = 1  # pairs of one supplier's exact payments paid by one line, each month
HARDER_EVERY = 4  # at most one harder case per this many of a month's eligible lines
CASH_DISCOUNT = Decimal("0.02")
FX_MARGIN = Decimal("1.008")  # what a bank charges over the day's rate to convert
# with company.yml's tolerance (2.5 %, at most 250.00) a 2 % discount is written off,
# a 3 % short payment stays a partial one
NAME_WINDOW_DAYS = 30  # company.yml's due_window_days (the default)
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
    expected_match_rule: str | None = None  # closeflow.reconcile's rule that should match it
    invoice_sha256s: tuple[str, ...] = ()  # every invoice it pays (several_invoices: two)

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
    rule = {"payment": RULE_EXACT, "refund": RULE_EXACT, "partial_payment": RULE_PARTIAL}[kind]
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
        expected_match_rule=rule,
        invoice_sha256s=(doc.sha256,),
    )


def _typo(rng: random.Random, reference: str) -> str | None:
    """`reference` with one edit among its letters and digits (a character changed,
    added or dropped, two different neighbours swapped), or None when it is too short
    for the matcher to compare (8 letters and digits)."""
    places = [k for k, ch in enumerate(reference) if ch.isalnum()]
    if len(places) < 8:
        return None
    k = rng.choice(places[2:])  # keep the start (RF, INV) as people rarely mistype it
    ch = reference[k]
    other = rng.choice([d for d in "0123456789" if d != ch])
    edit = rng.choice(("change", "add", "drop", "swap"))
    if edit == "swap":
        j = next((j for j in places if j > k and reference[j] != ch), None)
        if j is not None and places.index(j) == places.index(k) + 1:
            return reference[:k] + reference[j] + reference[k + 1 : j] + ch + reference[j + 1 :]
        edit = "change"
    if edit == "add":
        return reference[:k] + other + reference[k:]
    if edit == "drop":
        return reference[:k] + reference[k + 1 :]
    return reference[:k] + other + reference[k + 1 :]


def _short_name(name: str) -> str:
    """A supplier's name as a bank might print it: upper case, without the legal form."""
    words = name.replace(",", " ").split()
    forms = {"GMBH", "AG", "B.V.", "BV", "KG", "SE", "LTD", "LTD.", "CO.", "&", "S.A.", "SAS"}
    kept = [w for w in words if w.upper() not in forms]
    return " ".join(kept or words).upper()


def _harder(
    rng: random.Random,
    kind: str,
    line: BankLine,
    doc: InboxDocument,
    rates: dict[dt.date, Decimal] | None = None,
) -> BankLine | None:
    """`line` (an exact payment or a refund) made into a harder case of `kind`, or None
    when it cannot be one. `rates` (EUR per CNY by day) convert an `fx_paid` line."""
    invoice = doc.invoice
    supplier = invoice.supplier
    ref = invoice.payment_reference
    if kind == "refund_fee_deducted":
        limit = line.amount * TOLERANCE_PERCENT / 100
        fees = [Decimal(f) for f in ("1.50", "2.50", "5.00") if Decimal(f) <= limit]
        if line.kind != "refund" or not fees:
            return None
        fee = rng.choice(fees)
        return replace(
            line,
            amount=line.amount - fee,
            kind="refund_fee_deducted",
            expected_match="tolerance",
            expected_match_rule=RULE_TOLERANCE,
        )
    if line.kind != "payment":
        return None
    if kind == "fx_paid":
        rate = (rates or {}).get(line.booking_date)
        if line.currency != "CNY" or rate is None:
            return None
        return replace(
            line,
            currency="EUR",
            amount=-round_money(-line.amount * rate * FX_MARGIN),
            kind="fx_paid",
            expected_match="fx",
            expected_match_rule=RULE_FX,
        )
    eur = supplier.iban is not None  # EUR suppliers: the invoice names their IBAN
    if kind == "typo_reference":
        typo = _typo(rng, ref)
        if typo is None:
            return None
        text = line.remittance_info.replace(ref, typo)
        # with the supplier's IBAN on the line, the account and amount find it first
        rule = RULE_IBAN if eur else RULE_TYPO
        return replace(
            line, remittance_info=text, kind=kind, rf_reference=None, expected_match_rule=rule
        )
    if not eur:
        return None
    if kind == "no_reference":
        text = rng.choice(("Zahlung", "Payment", "Überweisung", "Zahlung Lieferant"))
        return replace(
            line, remittance_info=text, kind=kind, rf_reference=None, expected_match_rule=RULE_IBAN
        )
    if kind == "name_only":
        if abs((line.booking_date - invoice.due_date).days) > NAME_WINDOW_DAYS:
            return None
        return replace(
            line,
            remittance_info=rng.choice(("Zahlung", "Payment", "Ueberweisung")),
            counterparty_name=_short_name(supplier.name),
            counterparty_account="",
            kind=kind,
            rf_reference=None,
            expected_match_rule=RULE_NAME,
        )
    if kind == "cash_discount":
        discount = round_money(invoice.total * CASH_DISCOUNT)
        if not 0 < discount <= TOLERANCE:
            return None
        return replace(
            line,
            amount=line.amount + discount,
            remittance_info=f"{line.remittance_info} abzgl. 2% Skonto",
            kind=kind,
            expected_match="tolerance",
            expected_match_rule=RULE_TOLERANCE,
        )
    raise ValueError(f"unknown harder case {kind!r}")


def _make_harder(
    seed: int,
    lines: list[BankLine],
    docs: dict[str, InboxDocument],
    rates: dict[dt.date, Decimal] | None = None,
) -> list:
    """Each month's quota of harder cases (HARDER), from its exact payments and refunds
    in an order drawn from the seed; then SEVERAL_PAIRS pairs paid by one line; in all
    at most one per HARDER_EVERY of those lines."""
    out = list(lines)
    months = sorted({(ln.booking_date.year, ln.booking_date.month) for ln in lines})
    for year, month in months:
        rng = stream(seed, "bank", "harder", year, month)
        pool = [
            k
            for k, ln in enumerate(out)
            if ln.kind in ("payment", "refund")
            and (ln.booking_date.year, ln.booking_date.month) == (year, month)
        ]
        pool.sort(key=lambda k: (out[k].invoice_sha256 or "", out[k].sort_key))
        rng.shuffle(pool)
        budget = len(pool) // HARDER_EVERY  # a short window gets fewer
        for kind, count, currency in HARDER:
            for k in list(pool):
                if count == 0 or budget == 0:
                    break
                if currency != "any" and out[k].currency != currency:
                    continue
                made = _harder(rng, kind, out[k], docs[out[k].invoice_sha256], rates)
                if made is not None:
                    out[k] = made
                    pool.remove(k)
                    count -= 1
                    budget -= 1
        if budget > 0:
            out = _several(rng, out, pool)
    return out


def _several(rng: random.Random, lines: list[BankLine], pool: list[int]) -> list[BankLine]:
    """SEVERAL_PAIRS pairs of one supplier's exact payments in `pool` (line positions, in
    the month's drawn order) become one line naming both references and paying their
    sum, on the later day."""
    pairs: list[tuple[int, int]] = []
    used: set[int] = set()
    for a in pool:
        if len(pairs) == SEVERAL_PAIRS:
            break
        for b in pool:
            la, lb = lines[a], lines[b]
            if (
                a != b
                and not {a, b} & used
                and la.kind == lb.kind == "payment"
                and (la.counterparty_name, la.currency) == (lb.counterparty_name, lb.currency)
            ):
                pairs.append((a, b))
                used |= {a, b}
                break
    out = list(lines)
    for a, b in pairs:
        la, lb = lines[a], lines[b]
        refs = [ln.rf_reference or _reference_in(ln.remittance_info) for ln in (la, lb)]
        out[a] = replace(
            la,
            booking_date=max(la.booking_date, lb.booking_date),
            amount=la.amount + lb.amount,
            remittance_info=rng.choice(("{} {}", "Rechnungen {}, {}", "Invoices {} {}")).format(
                *refs
            ),
            kind="several_invoices",
            expected_match="several",
            rf_reference=None,
            expected_match_rule=RULE_SEVERAL,
            invoice_sha256s=(*la.invoice_sha256s, *lb.invoice_sha256s),
        )
    gone = {b for _, b in pairs}
    return [ln for k, ln in enumerate(out) if k not in gone]


def _reference_in(text: str) -> str:
    """The payment reference in an exact payment's remittance text (_remittance's forms)."""
    for prefix in ("Invoice ", "Rechnung ", "货款 ", "发票号码", "支付货款 发票"):
        if text.startswith(prefix):
            text = text[len(prefix) :]
    return text.removesuffix(" Closeflow Demo GmbH")


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
    seed: int,
    window: DateRange,
    company: CompanyIdentity,
    docs: list[InboxDocument],
    rates: dict[dt.date, Decimal] | None = None,
) -> list[BankLine]:
    """Every bank line of the window, both accounts, in no particular order; `rates`
    (EUR per CNY by day) for the yuan invoices paid from the euro account."""
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
    lines = _make_harder(seed, lines, {d.sha256: d for d in docs}, rates)
    for chunk in window.chunks():
        lines += _month_lines(stream(seed, "bank", chunk.start.isoformat()), chunk, company)
    return lines
