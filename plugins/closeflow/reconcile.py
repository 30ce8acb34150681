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
6. `reference~typo+amount`: no reference found, but a run of the text is one edit
   (a character changed, added, dropped, or two neighbours swapped: optimal string
   alignment distance 1) from the reference of exactly one open item of exactly the
   line's amount; references shorter than TYPO_MIN_LENGTH are not compared. Only the
   items of that amount are compared (an index by currency and amount), so the work
   grows with the lines, not with lines x items. Score 0.85.
7. `counterparty~name+amount`: no reference and an account no open item names, but the
   counterparty's name is a supplier's (rapidfuzz token-set ratio at least the policy's
   `name_similarity` against the supplier's name, its aliases and the invoice's name),
   exactly one open item of that supplier has the line's amount, and the booking date
   is within `due_window_days` of its due date. Again only items of the amount are
   looked at. Score 0.8.

A match scoring at least the policy's `auto_confirm_score` (0.9 by default) is `auto`:
it settles the item and its entries are booked. Below it, it is `suggested`: recorded
with its rule, score and why, but it settles nothing and its line stays unexplained
(retried each night, in review naming the suggested invoices and the score) until a
person confirms it (`closeflow match confirm`, closeflow.match_decisions) or rejects it.
Suggestions are made after every line has had its auto matches, so a suggestion never
names an item another line of the run settles. A person's confirmation (`confirmed`)
settles its items before any pass looks at the line; a rejected pair is never proposed
again, by any pass.

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

Which items each line's texts name is looked up column-wise, and the lines that pass 1
settles whatever the other lines do are settled column-wise too, before the passes run
line by line on the rest (closeflow.reconcile_exact): the same result, sooner.

Each item is settled by at most one line in a run (a partial payment leaves the rest for
a later night). Lines are taken in booking-date order (then statement, then position), so
when two lines pay one item the earlier line gets it; output rows follow that order.
`match_id` is the first 16 hex characters of sha256(bank_line_id | item_id), with
`|suggested` appended for a suggestion (so a suggestion and its later confirmation are
two rows), so a re-run gives the same ids. `why` says in words what the match rests on.
`matched_amount` is the part of the open item the match settles (sign
of amount_open); `difference` is what was written off (open part minus paid, item
currency), with `difference_account`.
"""

from __future__ import annotations

import datetime as dt
import functools
import gc
import hashlib
import json
import re
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from rapidfuzz import fuzz
from rapidfuzz.distance import OSA
from rapidfuzz.utils import default_process

from closeflow.reconcile_exact import (
    exact_matches,
    normalised_references,
    reference_hits,
    settle_exact,
)
from closeflow.schemas import BANK_LINES, MATCHES, OPEN_ITEMS, REVIEW_QUEUE
from closeflow.warehouse import conform

RULE_REFERENCE_EXACT = "reference+exact_amount"
RULE_REFERENCE_SEVERAL = "reference+several"
RULE_REFERENCE_TOLERANCE = "reference+tolerance"
RULE_REFERENCE_PARTIAL = "reference+partial"
RULE_REFERENCE_FX = "reference+fx_amount"
RULE_COUNTERPARTY = "counterparty+amount"
RULE_REFERENCE_TYPO = "reference~typo+amount"
RULE_COUNTERPARTY_NAME = "counterparty~name+amount"
RULE_PERSON = "person"  # a person confirmed a pair no pass had suggested
SCORES = {
    RULE_REFERENCE_EXACT: 1.0,
    RULE_REFERENCE_SEVERAL: 1.0,
    RULE_REFERENCE_TOLERANCE: 0.95,
    RULE_REFERENCE_PARTIAL: 0.9,
    RULE_REFERENCE_FX: 0.9,
    RULE_COUNTERPARTY: 0.9,
    RULE_REFERENCE_TYPO: 0.85,
    RULE_COUNTERPARTY_NAME: 0.8,
    RULE_PERSON: 1.0,
}
TYPO_MIN_LENGTH = 8  # shorter references are one edit away from too much text
SUBSET_LIMIT = 8  # at most this many referenced items are tried as subsets of a payment
MIN_REFERENCE_LENGTH = 4
NO_MATCH = "no open invoice matches this bank line"
ZERO = Decimal("0.00")

# Words: runs of letters and digits; in scripts written without spaces (Chinese,
# Japanese, Korean) every character is a word, so 发票号码01234567 holds 01234567.
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
_WORD = re.compile(f"[{_CJK}]|[^\\W_{_CJK}]+")
# what is not part of a word: dropped in one pass, so the words are joined without a list
_NOT_WORD = re.compile(f"[^\\w{_CJK}]+|_+")
_NOT_ALNUM = re.compile(r"[\W_]+")  # \w is str.isalnum() and the underscore


def text_words(text: str | None) -> list[str]:
    """The words of `text`, upper case: runs of letters and digits, each CJK character
    a word of its own."""
    return _WORD.findall(text.upper()) if text else []


def normalise_reference(text: str | None) -> str:
    """Letters and digits only, upper case: how references are compared (the words of
    `text_words`, joined)."""
    return _NOT_WORD.sub("", text.upper()) if text else ""


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
    paid more (a charge) to `overpaid_account`. The default takes no difference.

    A match scoring at least `auto_confirm_score` is booked at once (`auto`); below it is
    `suggested` for a person. `name_similarity` (0-100) is how alike a counterparty's
    name and a supplier's must be, `due_window_days` how far from the due date a payment
    found by name may be booked. A line in another currency than the one invoice its text
    names (an invoice paid through the bank's conversion) settles it when it pays the
    invoice's amount converted at the booking date's rates within `fx_tolerance_percent`
    (0: never)."""

    tolerance: Decimal = Decimal("0.00")
    tolerance_percent: Decimal = Decimal("0")
    underpaid_account: str | None = None
    overpaid_account: str | None = None
    auto_confirm_score: float = 0.9
    name_similarity: float = 90.0
    due_window_days: int = 30
    fx_tolerance_percent: Decimal = Decimal("0")

    def status_for(self, score: float) -> str:
        return "auto" if score >= self.auto_confirm_score else "suggested"

    def allows(self, difference: Decimal, open_amount: Decimal) -> bool:
        limit = min(self.tolerance, abs(open_amount) * self.tolerance_percent / 100)
        return 0 < abs(difference) <= limit

    def account_for(self, difference: Decimal) -> str | None:
        return self.underpaid_account if difference > 0 else self.overpaid_account


def confirmed_parts(
    owed: Sequence[Decimal], paid: Decimal, policy: MatchPolicy
) -> list[tuple[Decimal, Decimal]] | str:
    """How a payment of `paid` (item currency, the sign of what it settles) settles the
    open amounts `owed` a person confirmed it pays: (matched amount, difference written
    off) per item, by the same rules as the passes (exactly; within the tolerance; a
    part of one item; exactly the sum of several), or why it cannot."""
    if len(owed) > 1:
        if sum(owed, ZERO) == paid:
            return [(o, ZERO) for o in owed]
        return f"it pays {paid:,.2f}, not the {sum(owed, ZERO):,.2f} the invoices have open"
    (o,) = owed
    if o == paid:
        return [(o, ZERO)]
    if (o > 0) != (paid > 0):
        return "it moves money the other way than the invoice is owed"
    if policy.allows(o - paid, o):
        return [(o, o - paid)]
    if abs(paid) < abs(o):
        return [(paid, ZERO)]
    return f"it pays {abs(paid):,.2f}, but only {abs(o):,.2f} is open"


@dataclass(frozen=True)
class Confirmation:
    """A person's word that a bank line pays an open item (raw.match_decisions)."""

    item_id: str
    rule: str  # the suggestion's rule, or RULE_PERSON
    score: float
    by: str
    at: dt.datetime


@dataclass(frozen=True)
class PersonDecisions:
    """What people decided about matches: per bank line the items confirmed for it, and
    the (bank line, item) pairs rejected, which no pass proposes again."""

    confirmed: Mapping[str, tuple[Confirmation, ...]] = field(default_factory=dict)
    rejected: frozenset[tuple[str, str]] = frozenset()


class _Proposal(NamedTuple):
    """What the passes propose for a line: the items it settles (row, matched amount,
    difference), the rule, the score and why. (A named tuple: one is made per line.)"""

    rule: str
    score: float
    parts: tuple[tuple[int, Decimal, Decimal], ...]
    why: str
    status: str = ""  # "confirmed" for a person's, else from the score

    @classmethod
    def of(cls, rule: str, parts: tuple[tuple[int, Decimal, Decimal], ...], why: str) -> _Proposal:
        return cls(rule, SCORES[rule], parts, why)


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


def match_id(bank_line_id: str, item_id: str, status: str = "auto") -> str:
    """The match's id: the same for the pair in every run; a suggestion has its own."""
    key = f"{bank_line_id}|{item_id}" + ("|suggested" if status == "suggested" else "")
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def _line_order(line_id: str) -> tuple[str, int, str]:
    statement, _, position = line_id.rpartition(":")
    return (statement, int(position), line_id) if position.isdigit() else (line_id, 0, line_id)


def _norm_account(value: str | None) -> str:
    """An account number as compared: letters and digits only (str.isalnum), upper case."""
    return _NOT_ALNUM.sub("", (value or "").upper())


_LINE_COLUMNS = (  # what the passes and the review read of a bank line
    "line_id",
    "booking_date",
    "amount",
    "currency",
    "counterparty_name",
    "counterparty_account",
    "remittance_info",
    "end_to_end_id",
)
_ITEM_COLUMNS = tuple(name for name in OPEN_ITEMS.names if name != "ap_account")
_REPEATED = {  # columns whose values many rows share
    "booking_date",
    "currency",
    "counterparty_name",
    "counterparty_account",
    "supplier_id",
    "supplier_name",
    "supplier_account",
    "due_date",
}
_REFERENCE_COLUMNS = ("payment_reference", "invoice_number")  # named in this order
_NONE: frozenset[str] = frozenset()
_NO_HITS: dict[int, bool] = {}


def _column_lists(table: pa.Table, names: Sequence[str]) -> dict[str, list]:
    """The columns `names` of `table` as Python lists."""
    return {name: _as_list(table.column(name), name in _REPEATED) for name in names}


def _as_list(column: pa.ChunkedArray, repeated: bool) -> list:
    """`column` as a Python list. The values of a `repeated` column (a currency, a
    supplier, a day) are one shared object per distinct value instead of one per row,
    which keeps a million rows a few hundred MB smaller (and dates are made 20x faster);
    amounts are made from their text, twice as fast as pyarrow makes Decimals."""
    if pa.types.is_decimal(column.type):
        return [None if v is None else Decimal(v) for v in column.cast(pa.string()).to_pylist()]
    if not repeated or len(column) == 0:
        return column.to_pylist()
    encoded = column.combine_chunks().dictionary_encode()
    values = [*encoded.dictionary.to_pylist(), None]
    codes = encoded.indices.fill_null(len(values) - 1).to_pylist()
    return list(map(values.__getitem__, codes))


def _mapped(values: list, fn: Any) -> list:
    """`fn` of each value, computed once per distinct value (accounts and currencies
    repeat across a supplier's items)."""
    done = {v: fn(v) for v in set(values)}
    return list(map(done.__getitem__, values))


def _typo_references(normalised: list[tuple[str, str]]) -> list[tuple[str, ...]]:
    """Per item, from its payment reference and invoice number normalised (as
    _REFERENCE_COLUMNS), the distinct ones of TYPO_MIN_LENGTH or more, sorted, that a typo
    is looked for in. (Which items a line names is looked up column-wise:
    closeflow.reconcile_exact.reference_hits.)"""
    refs: list[tuple[str, ...]] = []
    for reference, number in normalised:
        keys = (reference,) if reference == number else sorted((reference, number))
        refs.append(tuple([key for key in keys if len(key) >= TYPO_MIN_LENGTH]))
    return refs


def _amount_index(amounts: list, currencies: list[str]) -> dict[str, dict[Decimal, list[int]]]:
    """The open items by currency (upper case) and open amount: their rows, in row order."""
    by_amount: dict[str, dict[Decimal, list[int]]] = defaultdict(dict)
    for i, (amount, currency) in enumerate(zip(amounts, currencies, strict=True)):
        if amount is not None:
            by_amount[currency].setdefault(amount, []).append(i)
    return by_amount


def _booking_order(bank_lines: pa.Table) -> np.ndarray:
    """The line rows in booking-date order, then statement, then position (_line_order),
    sorted column-wise (a stable sort on the same keys); line ids whose position is not
    plain digits that Python reads as digits (or too many of them) take the keys
    themselves."""
    ids = bank_lines.column("line_id").combine_chunks()
    days = bank_lines.column("booking_date").combine_chunks()
    parts = pc.extract_regex(ids, r"(?s)^(?P<statement>.*):(?P<position>[^:]*)$")  # rpartition
    colon = parts.is_valid()
    statement = pc.if_else(colon, pc.struct_field(parts, "statement"), "")
    position = pc.if_else(colon, pc.struct_field(parts, "position"), ids)
    digits = pc.fill_null(pc.match_substring_regex(position, "^[0-9]{1,18}$"), False)
    odd = pc.filter(position, pc.invert(digits)).to_pylist()
    if ids.null_count or any(p.isdigit() for p in odd):
        keys = [
            (day or dt.date.min, *_line_order(line_id))
            for day, line_id in zip(days.to_pylist(), ids.to_pylist(), strict=True)
        ]
        return np.array(sorted(range(len(keys)), key=keys.__getitem__), np.int64)
    no_day = (dt.date.min - dt.date(1970, 1, 1)).days
    table = pa.table(
        {
            "day": pc.fill_null(days.cast(pa.int32()), no_day),
            "statement": pc.if_else(digits, statement, ids),
            "position": pc.if_else(digits, position, "0").cast(pa.int64()),
            "line_id": ids,
        }
    )
    keys = [(name, "ascending") for name in table.column_names]
    return pc.sort_indices(table, sort_keys=keys).to_numpy(zero_copy_only=False)


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


def _cycle_collector_paused(fn: Any) -> Any:
    """`fn` run with Python's cycle collector paused (and restored after): reconciling a
    million lines makes millions of small objects and no cycles, which the collector
    would otherwise scan again and again, more often the more lines there are."""

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        enabled = gc.isenabled()
        gc.disable()
        try:
            return fn(*args, **kwargs)
        finally:
            if enabled:
                gc.enable()

    return run


@_cycle_collector_paused
def reconcile(
    bank_lines: pa.Table,
    open_items: pa.Table,
    run_id: str,
    policy: MatchPolicy | None = None,
    supplier_names: Mapping[str, Sequence[str]] | None = None,
    decisions: PersonDecisions | None = None,
    fx_rate: Callable[[str, dt.date], Decimal | None] | None = None,
) -> ReconcileResult:
    """Match `bank_lines` (BANK_LINES) to `open_items` (OPEN_ITEMS): by reference and
    amount, then by counterparty account and amount, then by a reference one typo off,
    then by counterparty name (the module docstring has the passes). `supplier_names`
    maps a supplier id to its names and aliases (suppliers.yml); `decisions` are what
    people confirmed and rejected; `fx_rate(currency, day)` is a currency's rate to the
    functional currency on a day (None: unknown), which an invoice paid in another
    currency is converted with."""
    policy = policy or MatchPolicy()
    decisions = decisions or PersonDecisions()
    supplier_names = supplier_names or {}
    _money_columns_are_decimal(bank_lines, "amount", "bank_lines")
    _money_columns_are_decimal(open_items, "amount_open", "open_items")
    bank_lines = conform(bank_lines, BANK_LINES)
    open_items = conform(open_items, OPEN_ITEMS)
    references = normalised_references(open_items, normalise_reference)
    longest = max(_longest(r, MIN_REFERENCE_LENGTH) for r in references)
    known_accounts = {
        _norm_account(a) for a in pc.unique(open_items.column("supplier_account")).to_pylist()
    } - {""}
    everyone = _booking_order(bank_lines)  # every line row, in booking order
    place = np.empty(bank_lines.num_rows, np.int64)  # line row -> its place in that order
    place[everyone] = np.arange(bank_lines.num_rows)

    # what each line's texts name, and the common case settled, column-wise
    # (closeflow.reconcile_exact); the rest line by line below, on the lines and items it
    # leaves, which it settles whatever those do
    hits = reference_hits(
        bank_lines, references, MIN_REFERENCE_LENGTH, longest, _CJK, reference_candidates
    )
    exact = settle_exact(
        bank_lines,
        open_items,
        hits,
        references,
        MIN_REFERENCE_LENGTH,
        place,
        {*decisions.confirmed, *(line_id for line_id, _ in decisions.rejected)},
        {c.item_id for confirmed in decisions.confirmed.values() for c in confirmed},
    )
    line_rows = _rows_but(bank_lines.num_rows, exact.line_rows)
    item_rows = _rows_but(open_items.num_rows, exact.item_rows)
    lines = _column_lists(bank_lines.take(pa.array(line_rows)), _LINE_COLUMNS)
    items = _column_lists(open_items.take(pa.array(item_rows)), _ITEM_COLUMNS)
    item_ids = items["item_id"]
    row_of = {item_id: i for i, item_id in enumerate(item_ids)}
    rejected: dict[str, set[str]] = defaultdict(set)
    for line_id, item_id in decisions.rejected:
        rejected[line_id].add(item_id)

    reference, number = (r.take(pa.array(item_rows)).to_pylist() for r in references)
    item_refs = list(zip(reference, number, strict=True))
    refs = _typo_references(item_refs)
    item_currency = _mapped(items["currency"], lambda c: (c or "").upper())
    item_account = _mapped(items["supplier_account"], _norm_account)
    by_amount = _amount_index(items["amount_open"], item_currency)

    row_to_n = np.full(bank_lines.num_rows, -1, np.int64)  # line row -> n (lines' index)
    row_to_n[line_rows] = np.arange(len(line_rows))
    order = [n for n in row_to_n[everyone].tolist() if n >= 0]
    position = place[line_rows].tolist()  # n -> its place among all lines
    item_to_i = np.full(open_items.num_rows, -1, np.int64)  # item row -> i (items' index)
    item_to_i[item_rows] = np.arange(len(item_rows))
    named_by: dict[int, dict[int, bool]] = defaultdict(dict)  # n -> {i: via its reference}
    left = row_to_n[hits.line] >= 0
    for n, i, via in zip(
        row_to_n[hits.line[left]].tolist(),
        item_to_i[hits.item[left]].tolist(),  # an item a left line names is left too
        hits.via_payment_reference[left].tolist(),
        strict=True,
    ):
        named_by[n][i] = via
    settled_by: dict[int, str] = {}  # item row -> bank_line_id that settled it
    matches: dict[str, list[Any]] = {name: [] for name in MATCHES.names}  # column by column
    match_places: list[int] = []  # per match row: where it goes among all lines' matches
    unmatched: list[int] = []
    review: list[dict[str, str]] = []

    def name(i: int) -> str:
        return items["invoice_number"][i] or items["payment_reference"][i] or items["item_id"][i]

    def propose(n: int) -> tuple[_Proposal | None, str | None, list[int]]:
        """The line's best proposal, else why none (None: the usual reasons) and the
        candidates a person should look at."""
        line_id, amount = lines["line_id"][n], lines["amount"][n]
        currency = (lines["currency"][n] or "").upper()
        paid = -amount if amount is not None else None
        no = rejected.get(line_id, _NONE)

        def usable(i: int) -> bool:
            return i not in settled_by and items["item_id"][i] not in no

        problem = None
        confirmed = decisions.confirmed.get(line_id, ())
        if confirmed and paid is not None:
            rows = [row_of.get(c.item_id) for c in confirmed]
            gone = [c.item_id for c, i in zip(confirmed, rows, strict=True) if i is None]
            if gone or any(i in settled_by for i in rows):
                problem = (
                    f"a person confirmed invoice {gone[0] if gone else name(rows[0])} for this "
                    "line, but it is no longer open"
                )
            elif any(item_currency[i] != currency for i in rows):
                problem = "a person confirmed an invoice in another currency for this line"
            else:
                parts = confirmed_parts([items["amount_open"][i] for i in rows], paid, policy)
                if isinstance(parts, str):
                    problem = f"a person confirmed invoices for this line, but {parts}"
                else:
                    c = confirmed[0]
                    return (
                        _Proposal(
                            c.rule,
                            c.score,
                            tuple((i, m, d) for i, (m, d) in zip(rows, parts, strict=True)),
                            f"confirmed by {c.by} on {c.at:%Y-%m-%d}",
                            "confirmed",
                        ),
                        None,
                        [],
                    )

        found = named_by.get(n, _NO_HITS)  # the items the line's words name (index.get)
        hits = sorted(
            [i for i in found if item_ids[i] not in no] if no else found,
            key=item_ids.__getitem__,
        )
        exact = [
            i
            for i in hits
            if paid is not None
            and items["amount_open"][i] is not None
            and item_currency[i] == currency
            and items["amount_open"][i] == paid
        ]
        free = [i for i in exact if i not in settled_by]

        def named(i: int) -> str:  # the item's reference as the text gives it (i in hits)
            if 0 < len(item_refs[i][0]) < MIN_REFERENCE_LENGTH:  # not indexed: in the words?
                words = reference_candidates(
                    lines["remittance_info"][n], longest
                ) | reference_candidates(lines["end_to_end_id"][n], longest)
                for column, normalised in zip(_REFERENCE_COLUMNS, item_refs[i], strict=True):
                    if normalised in words:
                        return items[column][i]
                return name(i)
            # a payment reference among the words is indexed, so found names it; else the
            # invoice number is how the text names it
            return items[_REFERENCE_COLUMNS[0] if found[i] else _REFERENCE_COLUMNS[1]][i]

        if len(free) == 1:
            i = free[0]
            why = f"the text names {named(i)}; it pays exactly what is open"
            return _Proposal.of(RULE_REFERENCE_EXACT, ((i, paid, ZERO),), why), None, []
        # the referenced items still open, in the line's currency, owed the way it pays
        open_hits = [
            i
            for i in hits
            if i not in settled_by
            and paid is not None
            and items["amount_open"][i] is not None
            and item_currency[i] == currency
            and (items["amount_open"][i] > 0) == (paid > 0)
        ]
        if not exact and paid is not None and 2 <= len(open_hits) <= SUBSET_LIMIT:
            subsets = _fitting_subsets([items["amount_open"][i] for i in open_hits], paid)
            if len(subsets) == 1:
                rows = [open_hits[k] for k in subsets[0]]
                why = f"the text names {', '.join(named(i) for i in rows)}; it pays their sum"
                parts = tuple((i, items["amount_open"][i], ZERO) for i in rows)
                return _Proposal.of(RULE_REFERENCE_SEVERAL, parts, why), None, []
        if not exact and len(open_hits) == 1:
            i = open_hits[0]
            owed = items["amount_open"][i]
            if policy.allows(owed - paid, owed):
                less = "less" if owed > paid else "more"
                why = (
                    f"the text names {named(i)}; it pays {abs(owed - paid):,.2f} {less} than "
                    "is open, within the tolerance"
                )
                part = (i, owed, owed - paid)
                return _Proposal.of(RULE_REFERENCE_TOLERANCE, (part,), why), None, []
            if abs(paid) < abs(owed):
                why = f"the text names {named(i)}; it pays {abs(paid):,.2f} of {abs(owed):,.2f}"
                return _Proposal.of(RULE_REFERENCE_PARTIAL, ((i, paid, ZERO),), why), None, []
        if not exact and not open_hits and paid is not None and fx_rate is not None:
            converted = _fx_match(
                paid, currency, lines["booking_date"][n], hits, settled_by, items, item_currency,
                fx_rate, policy,
            )  # fmt: skip
            if converted is not None:
                i, owed, expected, rate = converted
                why = (
                    f"the text names {named(i)}; it pays {_fmt(paid, currency)} for "
                    f"{abs(owed):,.2f} {item_currency[i]} open, {abs(expected):,.2f} {currency} "
                    f"at the rates of {lines['booking_date'][n]:%Y-%m-%d} ({rate})"
                )
                return _Proposal.of(RULE_REFERENCE_FX, ((i, owed, ZERO),), why), None, []
        if hits or paid is None:
            return None, problem or _reason(lines, items, n, hits, exact, free, settled_by), hits
        same_amount = [i for i in by_amount.get(currency, {}).get(paid, ()) if usable(i)]
        account = _norm_account(lines["counterparty_account"][n])
        known_account = bool(account) and account in known_accounts
        same = [i for i in same_amount if item_account[i] == account]
        if account and len(same) == 1:
            why = "no reference; paid to the supplier's own account, its one invoice of the amount"
            part = (same[0], paid, ZERO)
            return _Proposal.of(RULE_COUNTERPARTY, (part,), why), None, []
        typo = _typo_candidates(
            lines["remittance_info"][n], lines["end_to_end_id"][n], same_amount, refs
        )
        if len(typo) == 1:
            ((i, (found, ref)),) = typo.items()
            why = f"the text's {found} is one character off {ref}; it pays exactly what is open"
            return _Proposal.of(RULE_REFERENCE_TYPO, ((i, paid, ZERO),), why), None, []
        if len(typo) > 1:
            rows = sorted(typo, key=lambda i: items["item_id"][i])
            reason = (
                f"{_paid(amount, currency)} names no open invoice, but is one character off "
                f"{len(rows)} open invoices of exactly that amount "
                f"({', '.join(name(i) for i in rows)}); choose the one it pays"
            )
            return None, problem or reason, rows
        counterparty = lines["counterparty_name"][n]
        if counterparty and not known_account:
            alike = _named(counterparty, same_amount, items, supplier_names, policy)
            booked = lines["booking_date"][n]
            near = [
                (i, ratio)
                for i, ratio in alike
                if booked is not None
                and items["due_date"][i] is not None
                and abs((booked - items["due_date"][i]).days) <= policy.due_window_days
            ]
            if len(near) == 1:
                ((i, ratio),) = near
                why = (
                    f"no reference; {counterparty} is {ratio:.0f} % like supplier "
                    f"{items['supplier_name'][i]}, its one open invoice of the amount, due "
                    f"{items['due_date'][i]:%Y-%m-%d}"
                )
                return _Proposal.of(RULE_COUNTERPARTY_NAME, ((i, paid, ZERO),), why), None, []
            if len(near) > 1:
                rows = sorted((i for i, _ in near), key=lambda i: items["item_id"][i])
                reason = (
                    f"{_paid(amount, currency)} without reference from {counterparty} could pay "
                    f"{len(rows)} open invoices of exactly that amount "
                    f"({', '.join(name(i) for i in rows)}); choose the one it pays"
                )
                return None, problem or reason, rows
        return None, problem or NO_MATCH, []

    def record(n: int, p: _Proposal, status: str, later: int = 0) -> None:
        line_id = lines["line_id"][n]
        for i, part, diff in p.parts:
            match_places.append(later + position[n])
            if status != "suggested":
                settled_by[i] = line_id
            row = {
                "match_id": match_id(line_id, items["item_id"][i], status),
                "bank_line_id": line_id,
                "item_id": items["item_id"][i],
                "matched_amount": part,
                "rule": p.rule,
                "score": p.score,
                "difference": diff,
                "difference_account": policy.account_for(diff) if diff else None,
                "status": status,
                "why": p.why,
                "run_id": run_id,
            }
            for column, value in row.items():
                matches[column].append(value)

    def leave(n: int, reason: str, candidates: list[int], suggested: _Proposal | None) -> None:
        unmatched.append(n)
        amount = lines["amount"][n]
        details = {
            "bank_line_id": lines["line_id"][n],
            "booking_date": _iso(lines["booking_date"][n]),
            "amount": str(amount) if amount is not None else None,
            "currency": (lines["currency"][n] or "").upper(),
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
                for i in candidates
            ],
        }
        if suggested is not None:
            details["suggested"] = {
                "rule": suggested.rule,
                "score": suggested.score,
                "why": suggested.why,
                "items": [items["item_id"][i] for i, _, _ in suggested.parts],
            }
        review.append(
            {
                "item_type": "bank_line",
                "item_id": lines["line_id"][n],
                "reason": reason,
                "details": json.dumps(details, ensure_ascii=False, sort_keys=True),
            }
        )

    # auto matches first, over every line; suggestions after, from what is still open
    waiting: list[int] = []
    for n in order:
        p, reason, candidates = propose(n)
        if p is None:
            leave(n, reason or NO_MATCH, candidates, None)
        elif p.status == "confirmed" or policy.status_for(p.score) == "auto":
            record(n, p, p.status or "auto")
        else:
            waiting.append(n)
    after = bank_lines.num_rows  # the suggestions' round comes after every line's first
    for n in waiting:
        p, reason, candidates = propose(n)
        if p is None:
            leave(n, reason or NO_MATCH, candidates, None)
        elif p.status == "confirmed" or policy.status_for(p.score) == "auto":
            record(n, p, p.status or "auto", after)
        else:
            record(n, p, "suggested", after)
            rows = [i for i, _, _ in p.parts]
            reason = (
                f"suggested match, score {p.score:.2f} ({p.rule}): invoice "
                f"{', '.join(name(i) + ' of ' + items['supplier_name'][i] for i in rows)}; "
                f"{p.why}. Confirm or reject it (closeflow match confirm|reject "
                f"{lines['line_id'][n]})"
            )
            leave(n, reason, rows, p)
    unmatched.sort(key=position.__getitem__)
    reviewed = {r["item_id"] for r in review}
    review_order = {
        lines["line_id"][n]: position[n] for n in order if lines["line_id"][n] in reviewed
    }
    settled_ids = bank_lines.column("line_id").take(pa.array(exact.line_rows)).to_pylist()
    for line_id, k in zip(settled_ids, place[exact.line_rows].tolist(), strict=True):
        if line_id in reviewed:  # a line id twice: the later line's place, as over all lines
            review_order[line_id] = max(review_order[line_id], k)
    review.sort(key=lambda r: review_order[r["item_id"]])

    rule = RULE_REFERENCE_EXACT
    both = pa.concat_tables(
        [
            pa.Table.from_pydict(matches, schema=MATCHES),
            exact_matches(exact, bank_lines, open_items, rule, SCORES[rule], run_id),
        ]
    )
    places = np.concatenate([np.array(match_places, np.int64), place[exact.line_rows]])
    unmatched_rows = line_rows[np.array(unmatched, np.int64)]
    return ReconcileResult(
        matches=both.take(pa.array(np.argsort(places, kind="stable"))).combine_chunks(),
        unmatched_lines=bank_lines.take(pa.array(unmatched_rows, type=pa.int64())),
        review=review,
        run_id=run_id,
    )


def _rows_but(size: int, taken: np.ndarray) -> np.ndarray:
    """The rows 0..size-1 but `taken`, in order."""
    left = np.ones(size, bool)
    left[taken] = False
    return np.flatnonzero(left)


def _longest(references: pa.Array, shortest: int) -> int:
    """The length of the longest of `references` that is `shortest` or longer (0: none)."""
    lengths = pc.utf8_length(references)
    return pc.max(pc.if_else(pc.greater_equal(lengths, shortest), lengths, 0)).as_py() or 0


def _fx_match(
    paid: Decimal,
    currency: str,
    day: dt.date | None,
    hits: list[int],
    settled_by: Mapping[int, str],
    items: Mapping[str, list],
    item_currency: list[str],
    fx_rate: Callable[[str, dt.date], Decimal | None],
    policy: MatchPolicy,
) -> tuple[int, Decimal, Decimal, Decimal] | None:
    """The one open invoice in another currency that the line's text names and that it
    pays, converted at the day's rates, within `policy.fx_tolerance_percent`: (its row,
    its open amount, that amount in the line's currency, the rate), else None."""
    if not policy.fx_tolerance_percent or day is None:
        return None
    other = [
        i
        for i in hits
        if i not in settled_by
        and items["amount_open"][i] is not None
        and item_currency[i] != currency
        and (items["amount_open"][i] > 0) == (paid > 0)
    ]
    if len(other) != 1:
        return None
    i = other[0]
    owed = items["amount_open"][i]
    theirs, ours = fx_rate(item_currency[i], day), fx_rate(currency, day)
    if not theirs or not ours:
        return None
    rate = theirs / ours  # one unit of the invoice's currency in the line's
    expected = (owed * rate).quantize(Decimal("0.01"))
    if abs(expected - paid) > abs(expected) * policy.fx_tolerance_percent / 100:
        return None
    return i, owed, expected, rate.quantize(Decimal("0.000001"))


def _paid(amount: Decimal | None, currency: str) -> str:
    return (
        f"{'payment' if amount is None or amount < 0 else 'receipt'} of "
        f"{_fmt(amount, currency) if amount is not None else 'an unknown amount'}"
    )


def _typo_candidates(
    text: str | None, end_to_end_id: str | None, rows: list[int], refs: list[tuple[str, ...]]
) -> dict[int, tuple[str, str]]:
    """Among the item `rows` (those of the line's amount), the ones with a reference one
    edit from a run of the line's words: item row -> (the run found, the reference)."""
    wanted = [(i, ref) for i in rows for ref in refs[i]]
    if not wanted:
        return {}
    longest = max(len(ref) for _, ref in wanted) + 1
    runs = reference_candidates(text, longest) | reference_candidates(end_to_end_id, longest)
    runs = {r for r in runs if len(r) >= TYPO_MIN_LENGTH - 1}
    found: dict[int, tuple[str, str]] = {}
    for i, ref in wanted:
        for run in sorted(runs):
            if abs(len(run) - len(ref)) <= 1 and OSA.distance(run, ref, score_cutoff=1) <= 1:
                found.setdefault(i, (run, ref))
                break
    return found


def _named(
    counterparty: str,
    rows: list[int],
    items: dict[str, list],
    supplier_names: Mapping[str, Sequence[str]],
    policy: MatchPolicy,
) -> list[tuple[int, float]]:
    """The item `rows` whose supplier the counterparty's name resembles enough: (row,
    the best token-set ratio against the supplier's names)."""
    out = []
    for i in rows:
        names = [*supplier_names.get(items["supplier_id"][i] or "", ()), items["supplier_name"][i]]
        ratio = max(
            (fuzz.token_set_ratio(counterparty, n, processor=default_process) for n in names if n),
            default=0.0,
        )
        if ratio >= policy.name_similarity:
            out.append((i, ratio))
    return out


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
    paid = _paid(lines["amount"][n], (lines["currency"][n] or "").upper())

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
