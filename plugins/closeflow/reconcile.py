"""Bank reconciliation: match bank lines to open items (what we owe suppliers).

The first rule, `reference+exact_amount`, is the one a finance user trusts without
looking: the line's remittance information or end-to-end id names the item's payment
reference or invoice number, and the line pays exactly what is open, in the item's
currency (line amount == -amount_open; a refund of a credit note, money in against a
negative open item, follows from the same equation). Everything else goes to review
with the reason in words: a reference to an item with a different amount or currency
(partial payment, wrong currency), a reference to an item already settled in this run
(a possible double payment), a reference to several items with the same amount, or no
reference at all.

References are compared on letters and digits only, upper case, at word boundaries:
`RF18 5390 0754 7034`, `rf18539007547034` and `RF18-5390-0754-7034` are the same
reference, while `INV-7` is not found in `INV-70`; in Chinese, written without spaces,
every character is a word, so `发票号码01234567` names invoice 01234567. Open items are
indexed by their normalised references, and each line looks up the runs of consecutive
words of its text that are no longer than the longest reference, so the work grows with
the number of lines and items, not their product. References shorter than 4 characters are not used:
they turn up in any text by chance.

Each line matches at most one item and each item at most one line. Lines are taken in
booking-date order (then statement, then position), so when two lines pay one item
the earlier line gets it; output rows follow that order. `match_id` is the first 16 hex
characters of sha256(bank_line_id | item_id), so a re-run gives the same ids.
`matched_amount` is the part of the open item the match settles (sign of amount_open).
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
MIN_REFERENCE_LENGTH = 4
NO_MATCH = "no open invoice matches this bank line"

# Words: runs of letters and digits; in scripts written without spaces (Chinese,
# Japanese, Korean) every character is a word, so 发票号码01234567 holds 01234567.
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
_WORD = re.compile(f"[{_CJK}]|[^\\W_{_CJK}]+")


def normalise_reference(text: str | None) -> str:
    """Letters and digits only, upper case: how references are compared."""
    return "".join(_WORD.findall(text.upper())) if text else ""


def reference_candidates(text: str | None, max_length: int) -> set[str]:
    """Every run of consecutive words of `text`, joined and normalised, up to `max_length`."""
    if not text:
        return set()
    words = _WORD.findall(text.upper())
    found = set()
    for i in range(len(words)):
        joined = ""
        for word in words[i:]:
            joined += word
            if len(joined) > max_length:
                break
            found.add(joined)
    return found


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


def reconcile(bank_lines: pa.Table, open_items: pa.Table, run_id: str) -> ReconcileResult:
    """Match `bank_lines` (BANK_LINES) to `open_items` (OPEN_ITEMS) by reference and amount."""
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
        if len(free) == 1:
            i = free[0]
            settled_by[i] = line_id
            matches.append(
                {
                    "match_id": _match_id(line_id, items["item_id"][i]),
                    "bank_line_id": line_id,
                    "item_id": items["item_id"][i],
                    "matched_amount": items["amount_open"][i],
                    "rule": RULE_REFERENCE_EXACT,
                    "score": 1.0,
                    "difference": Decimal("0.00"),
                    "difference_account": None,
                    "status": "auto",
                    "run_id": run_id,
                }
            )
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
