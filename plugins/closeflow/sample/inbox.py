"""What arrives in the inbox and when: the plan of documents for the generated window.

Per month (or the part of a month inside the window): on each business day about four
invoices (binomial 8 x 1/2) at random office hours, plus the monthly bills of the
recurring suppliers (rent, telecom, utilities). Their formats are dealt by quota so every
month has the same mix: ~6.5 % Chinese VAT invoices (at least two, one of them scanned),
~26 % scans (half PNG, half JPEG), the rest digital PDFs; 1-2 of the European ones are
credit notes. Each month also gets one re-sent duplicate, one letter that is not an
invoice and one truncated PDF.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import Literal

from closeflow.sample.business_days import (
    DateRange,
    add_months,
    business_days,
    office_time,
)
from closeflow.sample.seeds import stream
from closeflow.sample.suppliers import SupplierProfile

Kind = Literal[
    "digital_pdf", "scan_png", "scan_jpeg", "cn_vat_pdf", "cn_vat_scan", "not_invoice", "corrupt"
]
Role = Literal["invoice", "duplicate", "letter", "corrupt"]
SCAN_KINDS: frozenset[str] = frozenset({"scan_png", "scan_jpeg", "cn_vat_scan"})


@dataclass(frozen=True)
class Arrival:
    """One file to drop in the inbox."""

    received_at: dt.datetime  # Europe/Berlin
    role: Role
    kind: Kind
    supplier: SupplierProfile | None = None
    invoice_date: dt.date | None = None
    credit_note: bool = False
    original: Arrival | None = None  # the arrival a duplicate re-sends


def _weighted(rng: random.Random, suppliers: list[SupplierProfile]) -> SupplierProfile:
    return rng.choices(suppliers, weights=[s.template.weight for s in suppliers])[0]


def _kinds(rng: random.Random, n: int) -> list[Kind]:
    """The formats of `n` non-recurring invoices, by quota, shuffled."""
    n_cn = min(n // 3, max(2, round(n * 0.065)))
    n_cn_scan = max(1 if n_cn >= 2 else 0, round(n_cn * 0.4))
    n_scan = min(n - n_cn, max(2, round(n * 0.26)))
    n_png = n_scan // 2
    kinds: list[Kind] = (
        ["cn_vat_scan"] * n_cn_scan
        + ["cn_vat_pdf"] * (n_cn - n_cn_scan)
        + ["scan_png"] * n_png
        + ["scan_jpeg"] * (n_scan - n_png)
    )
    kinds += ["digital_pdf"] * (n - len(kinds))
    rng.shuffle(kinds)
    return kinds


def _recurring(chunk: DateRange, suppliers: list[SupplierProfile]) -> list[tuple]:
    """(day, supplier) of the monthly bills whose business day falls in `chunk`."""
    first = chunk.start.replace(day=1)
    month_days = business_days(first, add_months(first, 1))
    out = []
    for s in suppliers:
        index = s.template.recurring_day
        if index is not None and index < len(month_days) and month_days[index] in chunk:
            out.append((month_days[index], s))
    return out


def _invoice(rng: random.Random, day: dt.date, kind: Kind, supplier: SupplierProfile) -> Arrival:
    """An invoice received on `day`, dated 0-3 days earlier (monthly bills: not before the
    1st, so the bill of a month is dated in that month)."""
    received = office_time(rng, day)
    invoice_date = day - dt.timedelta(days=rng.randint(0, 3))
    if supplier.template.recurring_day is not None:
        invoice_date = max(invoice_date, day.replace(day=1))
    return Arrival(received, "invoice", kind, supplier, invoice_date)


def plan_month(
    rng: random.Random, chunk: DateRange, suppliers: list[SupplierProfile]
) -> list[Arrival]:
    """The arrivals of one month (or part of a month) of the window."""
    days = chunk.business_days()
    if not days:
        return []
    european = [s for s in suppliers if not s.is_chinese and s.template.weight > 0]
    chinese = [s for s in suppliers if s.is_chinese and s.template.weight > 0]
    slots = [day for day in days for _ in range(sum(rng.random() < 0.5 for _ in range(8)))]
    if not slots:
        slots = [rng.choice(days)]
    kinds = _kinds(rng, len(slots))
    arrivals = [
        _invoice(rng, day, kind, _weighted(rng, chinese if kind.startswith("cn") else european))
        for day, kind in zip(slots, kinds, strict=True)
    ]
    # 1-2 of the European invoices become credit notes
    european_idx = [i for i, a in enumerate(arrivals) if not a.kind.startswith("cn")]
    for i in rng.sample(european_idx, min(len(european_idx), rng.randint(1, 2))):
        a = arrivals[i]
        arrivals[i] = Arrival(a.received_at, "invoice", a.kind, a.supplier, a.invoice_date, True)
    arrivals += [_invoice(rng, day, "digital_pdf", s) for day, s in _recurring(chunk, suppliers)]

    # the month's extras: a re-sent duplicate, a letter, a truncated PDF
    original = rng.choice(sorted(arrivals, key=lambda a: a.received_at))
    later = [d for d in days if d > original.received_at.date()]
    if later and rng.random() < 0.8:
        resent = office_time(rng, rng.choice(later))
    else:
        resent = original.received_at + dt.timedelta(minutes=rng.randint(5, 180))
    arrivals.append(
        Arrival(
            resent,
            "duplicate",
            original.kind,
            original.supplier,
            original.invoice_date,
            original.credit_note,
            original,
        )
    )
    arrivals.append(
        Arrival(
            office_time(rng, rng.choice(days)), "letter", "not_invoice", _weighted(rng, european)
        )
    )
    day = rng.choice(days)
    arrivals.append(
        Arrival(office_time(rng, day), "corrupt", "corrupt", _weighted(rng, european), day)
    )
    return sorted(arrivals, key=lambda a: a.received_at)


def plan_inbox(seed: int, window: DateRange, suppliers: list[SupplierProfile]) -> list[Arrival]:
    """All arrivals of the window in the order they are received."""
    out: list[Arrival] = []
    for chunk in window.chunks():
        out += plan_month(stream(seed, "inbox", chunk.start.isoformat()), chunk, suppliers)
    return sorted(out, key=lambda a: a.received_at)
