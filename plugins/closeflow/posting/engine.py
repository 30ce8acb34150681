"""Turn extracted invoices into journal entries with the posting rules.

Each invoice becomes one entry: a debit of the net amount to the rule's expense account,
one input-tax debit per tax rate, and a credit of the total to accounts payable. Amounts
are converted to the functional currency at the invoice date's rate, each line rounded
to the cent, and accounts payable takes what makes the entry sum to exactly zero. Credit
notes post the reverse. What cannot be posted goes to the review queue with the reason.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from closeflow.config import FxRates
from closeflow.money import round_money, round_rate
from closeflow.posting.rules import RuleSet
from closeflow.review import review_item


@dataclass
class PostingResult:
    journal_lines: list[dict] = field(default_factory=list)
    review: list[dict] = field(default_factory=list)
    posted: list[str] = field(default_factory=list)  # invoice ids posted


def entry_id_for(source_type: str, source_id: str) -> str:
    """A deterministic entry id: the same source always gives the same entry."""
    return f"{source_type[:3].upper()}-{hashlib.sha256(source_id.encode()).hexdigest()[:16]}"


def first_open_date(d: dt.date, closed_through: str | None) -> tuple[dt.date, str | None]:
    """The posting date for document date `d`: itself, or the first day after a closed period."""
    if closed_through and d.strftime("%Y-%m") <= closed_through:
        first = dt.date.fromisoformat(closed_through + "-01")
        moved = (first + dt.timedelta(days=32)).replace(day=1)
        return moved, f"period {d:%Y-%m} is closed; posted to {moved:%Y-%m}"
    return d, None


def _review(invoice: dict, reason: str, run_id: str) -> dict:
    return review_item(
        "invoice",
        invoice["invoice_id"],
        reason,
        run_id,
        file=invoice.get("source_uri"),
        supplier=invoice.get("supplier_name"),
        invoice_number=invoice.get("invoice_number"),
    )


def _tax_by_rate(invoice: dict, lines: list[dict]) -> dict[Decimal, Decimal]:
    """Tax per rate from the invoice lines, or from the header when lines carry no tax."""
    by_rate: dict[Decimal, Decimal] = defaultdict(Decimal)
    for line in lines:
        if line.get("tax_rate") is not None and line.get("tax_amount") is not None:
            by_rate[Decimal(line["tax_rate"]).normalize()] += line["tax_amount"]
    tax = invoice["tax_amount"] or Decimal(0)
    if by_rate and sum(by_rate.values()) == tax:
        return dict(by_rate)
    if tax == 0:
        return {}
    net = invoice["subtotal"]
    rate = (tax / net).quantize(Decimal("0.01")).normalize() if net else Decimal(0)
    return {rate: tax}


def post_invoices(
    invoices: list[dict],
    lines: list[dict],
    rules: RuleSet,
    fx: FxRates,
    functional_currency: str,
    run_id: str,
    closed_through: str | None = None,
) -> PostingResult:
    """Post every invoice that a rule covers; send the rest to review with the reason."""
    result = PostingResult()
    lines_by_invoice: dict[str, list[dict]] = defaultdict(list)
    for line in lines:
        lines_by_invoice[line["invoice_id"]].append(line)

    for inv in sorted(invoices, key=lambda i: i["invoice_id"]):
        rule = rules.rule_for(inv)
        if rule is None:
            result.review.append(_review(inv, "no posting rule matches this supplier", run_id))
            continue
        missing = [
            k for k in ("invoice_date", "currency", "subtotal", "total") if inv.get(k) is None
        ]
        if missing:
            result.review.append(_review(inv, f"cannot post without {', '.join(missing)}", run_id))
            continue
        rate = fx.rate(inv["currency"], inv["invoice_date"], functional_currency)
        if rate is None:
            result.review.append(
                _review(
                    inv,
                    f"no {functional_currency} rate for {inv['currency']} on "
                    f"{inv['invoice_date']}: add it to fx_rates.csv",
                    run_id,
                )
            )
            continue
        taxes = _tax_by_rate(inv, lines_by_invoice[inv["invoice_id"]])
        unknown = [r for r in taxes if rules.tax_account(r) is None]
        if unknown:
            pct = ", ".join(f"{(r * 100).normalize():f} %" for r in unknown)
            result.review.append(_review(inv, f"no tax code for VAT rate {pct}", run_id))
            continue

        sign = Decimal(-1) if inv.get("document_type") == "credit_note" else Decimal(1)
        entry_date, moved = first_open_date(inv["invoice_date"], closed_through)
        entry_id = entry_id_for("invoice", inv["invoice_id"])
        desc = rule.then.description or f"{inv.get('supplier_name')} {inv.get('invoice_number')}"
        if moved:
            desc = f"{desc} ({moved})"
        debits = [(rule.then.debit_account, sign * inv["subtotal"], rule.then.cost_center)]
        debits += [(rules.tax_account(r), sign * amt, None) for r, amt in sorted(taxes.items())]
        base = {
            "entry_id": entry_id,
            "entry_date": entry_date,
            "period": entry_date.strftime("%Y-%m"),
            "currency": inv["currency"],
            "fx_rate": round_rate(rate),
            "supplier_id": inv.get("supplier_id"),
            "source_type": "invoice",
            "source_id": inv["invoice_id"],
            "rule_id": rule.id,
            "rule_version": rules.content_hash,
            "description": desc,
            "run_id": run_id,
        }
        entry = []
        for account, amount_txn, cost_center in debits:
            entry.append(
                {
                    **base,
                    "account": account,
                    "amount_txn": amount_txn,
                    "amount": round_money(amount_txn * rate),
                    "cost_center": cost_center,
                }
            )
        entry.append(
            {
                **base,
                "account": rules.ap_account,
                "amount_txn": -sign * inv["total"],
                "amount": -sum(e["amount"] for e in entry),
                "cost_center": None,
            }
        )
        for n, jl in enumerate(entry, start=1):
            jl["line_no"] = n
        assert sum(jl["amount"] for jl in entry) == 0, entry_id  # invariant, never data-driven
        result.journal_lines.extend(entry)
        result.posted.append(inv["invoice_id"])
    return result
