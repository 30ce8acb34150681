"""Bank reconciliation: match bank lines to open items (what we owe suppliers).

The passes, in order; each match records its rule, a score and the difference:

1. `reference+exact_amount`: the line's remittance information or end-to-end id names
   the item's payment reference or invoice number, and the line pays exactly what is
   open, in the item's currency (line amount == -amount_open; a refund of a credit note,
   money in against a negative open item, follows from the same equation). Score 1.0.
2. `reference+several`: the line names several open items of the same currency and pays
   exactly the sum of some of them (a bounded subset sum, up to SUBSET_LIMIT items): one
   payment for several invoices. Only a single subset that fits is taken. Score 1.0.
3. `reference+tolerance`: the line names one open item and pays it but for a small
   difference within the policy's tolerance (a cash discount taken, a fee deducted): the
   item is settled and the difference written off to the policy's account. Score 0.95.
4. `reference+partial`: the line names one open item and pays part of it: the part is
   settled and the item stays open for the rest. Score 0.9.
5. `counterparty+amount`: no reference, but the line's counterparty account (IBAN) is
   the supplier's and exactly one of that supplier's open items has the line's amount.
   Score 0.9.

Everything else goes to review with the reason in words: a reference to an item with a
different currency or a larger amount than open (an overpayment), a reference to an
item already settled in this run (a possible double payment), a reference to several
items none of whose sums fit, or no reference at all.

References are compared on letters and digits only, upper case, at word boundaries:
`RF18 5390 0754 7034`, `rf18539007547034` and `RF18-5390-0754-7034` are the same
reference, while `INV-7` is not found in `INV-70`; in Chinese, written without spaces,
every character is a word, so `发票号码01234567` names invoice 01234567. Open items are
indexed by their normalised references, and each line looks up the runs of consecutive
words of its text that are no longer than the longest reference, so the work grows with
the number of lines and items, not their product. References shorter than 4 characters are not used:
they turn up in any text by chance.

Each item is settled by at most one line in a run (a partial payment leaves the rest for
a later night). Lines are taken in booking-date order (then statement, then position), so
when two lines pay one item the earlier line gets it; output rows follow that order.
`match_id` is the first 16 hex characters of sha256(bank_line_id | item_id), so a re-run
gives the same ids. `matched_amount` is the part of the open item the match settles (sign
of amount_open); `difference` is what was written off (open part minus paid, item
currency), with `difference_account`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pyarrow as pa

from closeflow.schemas import BANK_LINES, MATCHES, OPEN_ITEMS, REVIEW_QUEUE
from closeflow.warehouse import conform

RULE_REFERENCE_EXACT = "reference+exact_amount"
RULE_REFERENCE_SEVERAL = "reference+several"
RULE_REFERENCE_TOLERANCE = "reference+tolerance"
RULE_REFERENCE_PARTIAL = "reference+partial"
RULE_COUNTERPARTY = "counterparty+amount"
SUBSET_LIMIT = 8  # at most this many referenced items are tried as subsets of a payment
MIN_REFERENCE_LENGTH = 4
NO_MATCH = "no open invoice matches this bank line"
ZERO = Decimal("0.00")

# Words: runs of letters and digits; in scripts written without spaces (Chinese,
# Japanese, Korean) every character is a word, so 发票号码01234567 holds 01234567.
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
_WORD = re.compile(f"[{_CJK}]|[^\\W_{_CJK}]+")


def text_words(text: str | None) -> list[str]:
    """The words of `text`, upper case: runs of letters and digits, each CJK character
    a word of its own."""
    return _WORD.findall(text.upper()) if text else []


def normalise_reference(text: str | None) -> str:
    """Letters and digits only, upper case: how references are compared."""
    return "".join(text_words(text))


def reference_candidates(text: str | None, max_length: int) -> set[str]:
    """Every run of consecutive words of `text`, joined and normalised, up to `max_length`."""
    if not text:
        return set()
    words = text_words(text)
    found = set()
    for i in range(len(words)):
        joined = ""
        for word in words[i:]:
            joined += word
            if len(joined) > max_length:
                break
            found.add(joined)
    return found


@dataclass(frozen=True)
class MatchPolicy:
    """How far a payment may differ from what is open and still settle it, and where the
    difference goes: at most `tolerance` (item currency) and at most `tolerance_percent`
    of the open amount. Paid less (a cash discount taken) goes to `underpaid_account`,
    paid more (a charge) to `overpaid_account`. The default takes no difference."""

    tolerance: Decimal = Decimal("0.00")
    tolerance_percent: Decimal = Decimal("0")
    underpaid_account: str | None = None
    overpaid_account: str | None = None

    def allows(self, difference: Decimal, open_amount: Decimal) -> bool:
        limit = min(self.tolerance, abs(open_amount) * self.tolerance_percent / 100)
        return 0 < abs(difference) <= limit

    def account_for(self, difference: Decimal) -> str | None:
        return self.underpaid_account if difference > 0 else self.overpaid_account


@dataclass
class ReconcileResult:
    """`matches` per MATCHES, `unmatched_lines` per BANK_LINES, `review` items for people."""

    matches: pa.Table
    unmatched_lines: pa.Table
    review: list[dict[str, str]]
    run_id: str

    def review_table(self) -> pa.Table:
        """The review items as `review_queue` rows (REVIEW_QUEUE), created by this run."""
        rows = [dict(r, created_run_id=self.run_id, resolved_at=None) for r in self.review]
        return pa.Table.from_pylist(rows, schema=REVIEW_QUEUE)


def _money_columns_are_decimal(table: pa.Table, column: str, name: str) -> None:
    if column in table.column_names and not pa.types.is_decimal(table.schema.field(column).type):
        raise TypeError(
            f"{name}.{column} is {table.schema.field(column).type}; money must be decimal"
        )


def _fmt(amount: Decimal, currency: str) -> str:
    return f"{abs(amount):,.2f} {currency}"


def _match_id(bank_line_id: str, item_id: str) -> str:
    return hashlib.sha256(f"{bank_line_id}|{item_id}".encode()).hexdigest()[:16]


def _line_order(line_id: str) -> tuple[str, int, str]:
    statement, _, position = line_id.rpartition(":")
    return (statement, int(position), line_id) if position.isdigit() else (line_id, 0, line_id)


def _norm_account(value: str | None) -> str:
    return "".join(ch for ch in (value or "").upper() if ch.isalnum())


def _fitting_subsets(amounts: list[Decimal], target: Decimal) -> list[tuple[int, ...]]:
    """The subsets (2 or more) of `amounts` that add up to `target` (at most two are
    looked for: one is taken, two are ambiguous)."""
    from itertools import combinations

    found: list[tuple[int, ...]] = []
    for size in range(2, len(amounts) + 1):
        for combo in combinations(range(len(amounts)), size):
            if sum(amounts[i] for i in combo) == target:
                found.append(combo)
                if len(found) > 1:
                    return found
    return found


def reconcile(
    bank_lines: pa.Table,
    open_items: pa.Table,
    run_id: str,
    policy: MatchPolicy | None = None,
) -> ReconcileResult:
    """Match `bank_lines` (BANK_LINES) to `open_items` (OPEN_ITEMS): by reference and
    amount, then by counterparty account and amount (the module docstring has the
    passes)."""
    policy = policy or MatchPolicy()
    _money_columns_are_decimal(bank_lines, "amount", "bank_lines")
    _money_columns_are_decimal(open_items, "amount_open", "open_items")
    bank_lines = conform(bank_lines, BANK_LINES)
    open_items = conform(open_items, OPEN_ITEMS)
    lines = {name: bank_lines.column(name).to_pylist() for name in BANK_LINES.names}
    items = {name: open_items.column(name).to_pylist() for name in OPEN_ITEMS.names}

    index: dict[str, list[int]] = defaultdict(list)
    for i in range(open_items.num_rows):
        keys = {
            normalise_reference(items["payment_reference"][i]),
            normalise_reference(items["invoice_number"][i]),
        }
        for key in sorted(k for k in keys if len(k) >= MIN_REFERENCE_LENGTH):
            index[key].append(i)
    longest = max((len(k) for k in index), default=0)
    by_account: dict[str, list[int]] = defaultdict(list)
    for i in range(open_items.num_rows):
        account = _norm_account(items["supplier_account"][i])
        if account:
            by_account[account].append(i)

    order = sorted(
        range(bank_lines.num_rows),
        key=lambda n: (lines["booking_date"][n] or dt.date.min, *_line_order(lines["line_id"][n])),
    )
    settled_by: dict[int, str] = {}  # item row -> bank_line_id that settled it
    matches: list[dict[str, Any]] = []
    unmatched: list[int] = []
    review: list[dict[str, str]] = []

    for n in order:
        line_id, amount = lines["line_id"][n], lines["amount"][n]
        currency = (lines["currency"][n] or "").upper()
        words = reference_candidates(lines["remittance_info"][n], longest) | reference_candidates(
            lines["end_to_end_id"][n], longest
        )
        hits = sorted(
            {i for w in words for i in index.get(w, ())}, key=lambda i: items["item_id"][i]
        )
        exact = [
            i
            for i in hits
            if amount is not None
            and items["amount_open"][i] is not None
            and (items["currency"][i] or "").upper() == currency
            and items["amount_open"][i] == -amount
        ]
        free = [i for i in exact if i not in settled_by]

        def settle(i: int, part: Decimal, rule: str, score: float, diff: Decimal, line_id=line_id):
            settled_by[i] = line_id
            matches.append(
                {
                    "match_id": _match_id(line_id, items["item_id"][i]),
                    "bank_line_id": line_id,
                    "item_id": items["item_id"][i],
                    "matched_amount": part,
                    "rule": rule,
                    "score": score,
                    "difference": diff,
                    "difference_account": policy.account_for(diff) if diff else None,
                    "status": "auto",
                    "run_id": run_id,
                }
            )

        if len(free) == 1:
            settle(free[0], items["amount_open"][free[0]], RULE_REFERENCE_EXACT, 1.0, ZERO)
            continue
        # the referenced items still open, in the line's currency, owed the way it pays
        open_hits = [
            i
            for i in hits
            if i not in settled_by
            and amount is not None
            and items["amount_open"][i] is not None
            and (items["currency"][i] or "").upper() == currency
            and (items["amount_open"][i] > 0) == (amount < 0)
        ]
        if not exact and amount is not None and 2 <= len(open_hits) <= SUBSET_LIMIT:
            subsets = _fitting_subsets([items["amount_open"][i] for i in open_hits], -amount)
            if len(subsets) == 1:
                for k in subsets[0]:
                    i = open_hits[k]
                    settle(i, items["amount_open"][i], RULE_REFERENCE_SEVERAL, 1.0, ZERO)
                continue
        if not exact and len(open_hits) == 1:
            i = open_hits[0]
            owed, paid = items["amount_open"][i], -amount
            if policy.allows(owed - paid, owed):
                settle(i, owed, RULE_REFERENCE_TOLERANCE, 0.95, owed - paid)
                continue
            if abs(paid) < abs(owed):
                settle(i, paid, RULE_REFERENCE_PARTIAL, 0.9, ZERO)
                continue
        if not hits and amount is not None:
            same = [
                i
                for i in by_account.get(_norm_account(lines["counterparty_account"][n]), ())
                if i not in settled_by
                and (items["currency"][i] or "").upper() == currency
                and items["amount_open"][i] == -amount
            ]
            if len(same) == 1:
                settle(same[0], items["amount_open"][same[0]], RULE_COUNTERPARTY, 0.9, ZERO)
                continue
        unmatched.append(n)
        reason = _reason(lines, items, n, hits, exact, free, settled_by)
        details = {
            "bank_line_id": line_id,
            "booking_date": _iso(lines["booking_date"][n]),
            "amount": str(amount) if amount is not None else None,
            "currency": currency,
            "counterparty_name": lines["counterparty_name"][n],
            "remittance_info": lines["remittance_info"][n],
            "end_to_end_id": lines["end_to_end_id"][n],
            "referenced_items": [
                {
                    "item_id": items["item_id"][i],
                    "invoice_number": items["invoice_number"][i],
                    "payment_reference": items["payment_reference"][i],
                    "supplier_name": items["supplier_name"][i],
                    "amount_open": str(items["amount_open"][i]),
                    "currency": items["currency"][i],
                    "settled_by_bank_line": settled_by.get(i),
                }
                for i in hits
            ],
        }
        review.append(
            {
                "item_type": "bank_line",
                "item_id": line_id,
                "reason": reason,
                "details": json.dumps(details, ensure_ascii=False, sort_keys=True),
            }
        )

    return ReconcileResult(
        matches=pa.Table.from_pylist(matches, schema=MATCHES),
        unmatched_lines=bank_lines.take(pa.array(unmatched, type=pa.int64())),
        review=review,
        run_id=run_id,
    )


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def _reason(
    lines: dict[str, list],
    items: dict[str, list],
    n: int,
    hits: list[int],
    exact: list[int],
    free: list[int],
    settled_by: dict[int, str],
) -> str:
    """Why line `n` was not matched, in a finance user's words."""
    if not hits:
        return NO_MATCH
    amount, currency = lines["amount"][n], (lines["currency"][n] or "").upper()
    paid = (
        f"{'payment' if amount is None or amount < 0 else 'receipt'} of "
        f"{_fmt(amount, currency) if amount is not None else 'an unknown amount'}"
    )

    def name(i: int) -> str:
        return items["invoice_number"][i] or items["payment_reference"][i] or items["item_id"][i]

    if len(free) > 1:
        return (
            f"{paid} references {len(free)} open invoices of exactly that amount "
            f"({', '.join(name(i) for i in free)}); choose the one it pays"
        )
    if exact:  # every exact candidate is settled already
        i = exact[0]
        return (
            f"{paid} references invoice {name(i)}, which bank line {settled_by[i]} already "
            "paid: possibly a double payment"
        )
    opened = [
        _fmt(items["amount_open"][i], items["currency"][i] or "")
        if items["amount_open"][i] is not None
        else "an unknown amount"
        for i in hits
    ]
    if len(hits) == 1:
        return f"{paid} references invoice {name(hits[0])} but {opened[0]} is open"
    return (
        f"{paid} references invoices {', '.join(name(i) for i in hits)} but "
        f"{' and '.join(opened)} are open"
    )
