"""Bank reconciliation's common case, settled column-wise: a bank line whose texts name
exactly one open item by reference and pay exactly what it has open, in its currency.

Why it exists: most lines of a statement are such payments, and the per-line passes of
closeflow.reconcile spend a few microseconds of Python on each (its words and their runs,
the index look-ups, Decimals, a dict per match), which on a million lines is most of the
run. Here the same look-up is done on whole columns (pyarrow and numpy): every run of
consecutive words of every line's remittance text and end-to-end id (as
`reconcile.reference_candidates` makes them), joined to the items' normalised references
(as `reconcile.normalise_reference` makes them); amounts are compared as integer cents.
Texts with characters outside ASCII take the Python functions themselves, so the words
are the same by construction (upper case, CJK characters and Unicode letters as Python
reads them).

It produces exactly what the per-line pass would. The per-line pass gives line L the
match `reference+exact_amount` to item I when L has no person's decision, I is the only
item L names whose open amount L pays exactly in its currency, and I is still open when
L's turn comes (booking order). That last condition depends on the other lines, so a
pair is only settled here when no other line can touch I at all, whatever the order:

- no other line names I (by either reference), so none settles it by reference, none
  lists it in review with its `settled_by_bank_line`, none finds it a double payment;
- no line that reaches the amount passes (one that names nothing, or one with a
  person's decision, conservatively) pays I's open amount in I's currency, so none
  settles or suggests it by account, typo or name;
- no person confirmed I for any line;
- I's payment reference is empty or long enough to be indexed, so the `why` can say
  which of I's references the text gives without the words of the text.

Then L settles I at L's turn in any order, and taking L and I out of the per-line passes
changes nothing the other lines see: the rest is left to them (a reference naming
several items, an item named by several lines, two lines paying one item, decisions).
Money stays Decimal (decimal128) in the rows made here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from closeflow.schemas import MATCHES

_NOT_ASCII_WORD = r"[^A-Z0-9]+"  # what separates words in upper-cased ASCII text
_NO_CURRENCY = ""  # a missing currency compares as "" (as `(currency or "").upper()`)
_BASE = np.uint64(0x9E3779B97F4A7C15)  # odd: the base of the hash runs are found by
_INVERSE = np.uint64(pow(int(_BASE), -1, 1 << 64))  # its inverse mod 2**64
_BATCH = 1 << 18  # texts at a time (the bytes of their words are copied)
_SEEN_BITS = 26  # a table of 2**26 flags for the keys' hashes (64 MiB)


@dataclass(frozen=True)
class ExactSettlement:
    """The lines settled here and the item each settles (rows of the two tables), with
    the item reference the text gives (for the `why`)."""

    line_rows: np.ndarray  # int64, in row order
    item_rows: np.ndarray  # int64, the item line_rows[k] settles
    named: pa.Array  # string, the reference the text names

    def __len__(self) -> int:
        return len(self.line_rows)


def normalised_references(
    open_items: pa.Table, normalise: Callable[[str | None], str]
) -> tuple[pa.Array, pa.Array]:
    """Each item's payment reference and invoice number normalised (never null):
    column-wise for ASCII values, `normalise` itself for the others."""
    return tuple(  # type: ignore[return-value]
        _normalised(open_items.column(name).combine_chunks(), normalise)
        for name in ("payment_reference", "invoice_number")
    )


def _normalised(values: pa.Array, normalise: Callable[[str | None], str]) -> pa.Array:
    ascii_ = pc.fill_null(pc.string_is_ascii(values), True)
    out = pc.replace_substring_regex(pc.ascii_upper(values), _NOT_ASCII_WORD, "")
    out = pc.fill_null(out, "")
    other = np.flatnonzero(~_np(ascii_))
    if len(other) == 0:
        return out
    fixed = pa.array([normalise(v) for v in values.take(other).to_pylist()], pa.string())
    return pc.replace_with_mask(out, _mask(len(values), other), fixed)


@dataclass(frozen=True)
class ReferenceHits:
    """Which open items each bank line's texts name (`index.get` of the line's
    `reference_candidates`, as the per-line pass looks them up): one row per (line, item),
    in line then item order, and whether the item's payment reference is among the runs
    of the line's words (else the invoice number is)."""

    line: np.ndarray  # int64 row of bank_lines
    item: np.ndarray  # int64 row of open_items
    via_payment_reference: np.ndarray  # bool


def reference_hits(
    bank_lines: pa.Table,
    references: tuple[pa.Array, pa.Array],
    min_length: int,
    longest: int,
    cjk: str,
    candidates: Callable[[str | None, int], set[str]],
) -> ReferenceHits:
    """The items each of `bank_lines` names (conformed): the runs of consecutive words of
    its remittance text and end-to-end id, up to `longest` characters, that are the
    items' normalised payment references or invoice numbers (`references`) of
    `min_length` or more. The words are `reconcile.text_words`': `cjk` its range of CJK
    characters; `candidates` is `reconcile.reference_candidates`, for texts in other
    scripts."""
    pr_key, in_key = references
    n_items = len(pr_key)
    empty = np.empty(0, np.int64)
    if bank_lines.num_rows == 0 or n_items == 0 or longest < min_length:
        return ReferenceHits(empty, empty, np.empty(0, bool))
    # the index: distinct keys, and per key the items it names
    pr_indexed = _lengths(pr_key) >= min_length
    in_indexed = (_lengths(in_key) >= min_length) & ~_np(pc.equal(pr_key, in_key))
    item_rows = np.arange(n_items, dtype=np.int64)
    key_items = np.concatenate([item_rows[pr_indexed], item_rows[in_indexed]])
    encoded = pa.concat_arrays(
        [pr_key.filter(pa.array(pr_indexed)), in_key.filter(pa.array(in_indexed))]
    ).dictionary_encode()
    keys = encoded.dictionary
    key_codes = _np(encoded.indices).astype(np.int64)
    pr_code = np.full(n_items, -1, np.int64)
    pr_code[item_rows[pr_indexed]] = key_codes[: int(pr_indexed.sum())]
    items_by_key = key_items[np.argsort(key_codes, kind="stable")]
    key_count = np.bincount(key_codes, minlength=len(keys))
    key_start = np.cumsum(key_count) - key_count

    # every line's runs of words that are keys, then the items they name
    found = _Keys(keys)
    run_lines, run_codes = [], []
    for column in ("remittance_info", "end_to_end_id"):
        texts = pc.fill_null(bank_lines.column(column).combine_chunks(), "")
        for first in range(0, len(texts), _BATCH):
            doc, code = found.in_texts(
                texts.slice(first, _BATCH), min_length, longest, cjk, candidates
            )
            run_lines.append(doc + first)
            run_codes.append(code)
    hit_line, hit_code = np.concatenate(run_lines), np.concatenate(run_codes)
    counts = key_count[hit_code]
    within = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    pair_item = items_by_key[np.repeat(key_start[hit_code], counts) + within]
    pair_via_pr = pr_code[pair_item] == np.repeat(hit_code, counts)
    # one row per (line, item)
    pair = np.repeat(hit_line, counts) * n_items + pair_item
    by_pair = np.argsort(pair, kind="stable")
    pair = pair[by_pair]
    if len(pair) == 0:
        return ReferenceHits(empty, empty, np.empty(0, bool))
    first = np.flatnonzero(np.r_[True, pair[1:] != pair[:-1]])
    via_pr = np.logical_or.reduceat(pair_via_pr[by_pair], first)
    return ReferenceHits(pair[first] // n_items, pair[first] % n_items, via_pr)


def settle_exact(
    bank_lines: pa.Table,
    open_items: pa.Table,
    hits: ReferenceHits,
    references: tuple[pa.Array, pa.Array],
    min_length: int,
    place: np.ndarray,
    decided_lines: Collection[str],
    confirmed_items: Collection[str],
) -> ExactSettlement:
    """The (line, item) pairs of `bank_lines` and `open_items` (conformed) that the
    per-line pass would settle by reference and exact amount whatever the other lines
    do (the module docstring says when): `hits` are what each line names, `references`
    the items' normalised payment references and invoice numbers (those of `min_length`
    or more indexed), `place` each line's place in the booking order, `decided_lines`
    the line ids people decided about, `confirmed_items` the item ids they confirmed."""
    n_lines, n_items = bank_lines.num_rows, open_items.num_rows
    line, item = hits.line, hits.item

    # exact: the item's currency, and the line pays exactly what is open
    line_ccy, item_ccy = _currency_codes(
        bank_lines.column("currency"), open_items.column("currency")
    )
    line_cents, line_known = _cents(bank_lines.column("amount"))
    item_cents, item_known = _cents(open_items.column("amount_open"))
    exact = (
        line_known[line]
        & item_known[item]
        & (line_ccy[line] == item_ccy[item])
        & (item_cents[item] == -line_cents[line])
    )
    exact_count = np.bincount(line[exact], minlength=n_lines)
    named_count = np.bincount(item, minlength=n_items)  # the lines naming each item

    # the first place at which a line reaching the amount passes (one naming nothing, or
    # one people decided about, conservatively) could take the item: paying its amount
    decided = _is_in(bank_lines.column("line_id"), decided_lines)
    names_something = np.zeros(n_lines, bool)
    names_something[line] = True
    reaching = line_known & (~names_something | decided)
    first_reach = np.full(n_items, n_lines, np.int64)
    for ccy in np.unique(item_ccy):
        rows = np.flatnonzero(reaching & (line_ccy == ccy))
        paid, at = -line_cents[rows], place[rows]
        by_amount = np.lexsort((at, paid))  # by amount, the earliest first
        paid, at = paid[by_amount], at[by_amount]
        mine = np.flatnonzero(item_known & (item_ccy == ccy))
        k = np.minimum(np.searchsorted(paid, item_cents[mine]), max(len(paid) - 1, 0))
        reached = (paid[k] == item_cents[mine]) if len(paid) else np.zeros(len(mine), bool)
        first_reach[mine[reached]] = at[k[reached]]
    confirmed = _is_in(open_items.column("item_id"), confirmed_items)
    pr_length = _lengths(references[0])

    take = exact & (exact_count[line] == 1) & ~decided[line]
    take &= (named_count[item] == 1) & ~confirmed[item] & (first_reach[item] > place[line])
    take &= (pr_length[item] == 0) | (pr_length[item] >= min_length)
    lines_taken, items_taken = line[take], item[take]
    named = pc.if_else(
        pa.array(hits.via_payment_reference[take]),
        open_items.column("payment_reference").take(pa.array(items_taken)),
        open_items.column("invoice_number").take(pa.array(items_taken)),
    )
    return ExactSettlement(lines_taken, items_taken, named)


def exact_matches(
    settled: ExactSettlement,
    bank_lines: pa.Table,
    open_items: pa.Table,
    rule: str,
    score: float,
    run_id: str,
) -> pa.Table:
    """The MATCHES rows of `settled`, as the per-line pass records them: `auto`, the
    line's payment of the item's open amount, no difference."""
    lines, items = pa.array(settled.line_rows), pa.array(settled.item_rows)
    line_ids = bank_lines.column("line_id").take(lines).combine_chunks()
    item_ids = open_items.column("item_id").take(items).combine_chunks()
    n = len(settled)
    ids = [
        hashlib.sha256(f"{line}|{item}".encode()).hexdigest()[:16]
        for line, item in zip(line_ids.to_pylist(), item_ids.to_pylist(), strict=True)
    ]
    money = MATCHES.field("matched_amount").type
    return pa.table(
        {
            "match_id": pa.array(ids, pa.string()),
            "bank_line_id": line_ids,
            "item_id": item_ids,
            # what the line pays: exactly the open amount
            "matched_amount": open_items.column("amount_open").take(items).cast(money),
            "rule": pa.repeat(pa.scalar(rule), n),
            "score": pa.repeat(pa.scalar(score), n),
            "difference": pa.repeat(pa.scalar(Decimal("0.00"), money), n),
            "difference_account": pa.nulls(n, pa.string()),
            "status": pa.repeat(pa.scalar("auto"), n),
            "why": pc.binary_join_element_wise(
                "the text names ", settled.named, "; it pays exactly what is open", ""
            ),
            "run_id": pa.repeat(pa.scalar(run_id), n),
        },
        schema=MATCHES,
    )


class _Keys:
    """The index keys, found in texts by the hashes of the runs of their words: a
    polynomial hash of the UTF-8 bytes (mod 2**64), the same for a run as for the key it
    spells; a run whose hash is a key's is that key only if its bytes are the key's
    (compared), so a collision of hashes costs a comparison, never a wrong key."""

    def __init__(self, keys: pa.Array) -> None:
        self.keys = keys
        self.data, self.start, self.size = _utf8(keys)
        hashes = _Hashes(self.data).of(self.start, self.start + self.size)
        self.by_hash = np.argsort(hashes, kind="stable")
        self.hashes = hashes[self.by_hash]
        self.seen = np.zeros(1 << _SEEN_BITS, bool)  # a first sieve: the hashes' top bits
        self.seen[hashes >> np.uint64(64 - _SEEN_BITS)] = True
        # a hash table when no two keys share a hash (else a binary search)
        unique = len(hashes) < 2 or bool(np.all(self.hashes[1:] != self.hashes[:-1]))
        self.table = pd.Index(self.hashes) if unique else None

    def in_texts(
        self,
        texts: pa.Array,
        min_length: int,
        longest: int,
        cjk: str,
        candidates: Callable[[str | None, int], set[str]],
    ) -> tuple[np.ndarray, np.ndarray]:
        """The keys among the runs of consecutive words of each text, `min_length` to
        `longest` characters long (`candidates`' runs): (text row, key code) pairs."""
        doc, data, start, size, chars, other = _words(texts, cjk)
        hashes = _Hashes(data)
        found_doc, found_code = [np.empty(0, np.int64)], [np.empty(0, np.int64)]
        run = np.flatnonzero(chars <= longest)  # each run: its first word, ...
        length, end = chars[run], start[run] + size[run]  # ... its characters, its end
        step = 0
        while len(run):
            wanted = np.flatnonzero(length >= min_length)
            first, last = start[run[wanted]], end[wanted]
            at, code = self._find(data, first, last, hashes.of(first, last))
            found_doc.append(doc[run[wanted[at]]])
            found_code.append(code)
            step += 1  # add the next word of the same text, if the run stays short enough
            nxt = run + step
            go = nxt < len(doc)
            go[go] = doc[nxt[go]] == doc[run[go]]
            go[go] = length[go] + chars[nxt[go]] <= longest
            run, nxt = run[go], nxt[go]
            length, end = length[go] + chars[nxt], start[nxt] + size[nxt]
        # the texts in other scripts: Python's own words
        runs = [
            (row, r)
            for row, text in zip(other, texts.take(pa.array(other)).to_pylist(), strict=True)
            for r in candidates(text, longest)
            if len(r) >= min_length
        ]
        if runs:
            code = pc.index_in(pa.array([r for _, r in runs], pa.string()), value_set=self.keys)
            found_doc.append(np.array([row for row, _ in runs], np.int64)[_np(code.is_valid())])
            found_code.append(_np(code.drop_null()).astype(np.int64))
        return np.concatenate(found_doc), np.concatenate(found_code)

    def _find(
        self, data: np.ndarray, start: np.ndarray, end: np.ndarray, hashes: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Which of the byte runs data[start:end] (with their `hashes`) are keys: (their
        indexes, the key codes)."""
        maybe = np.flatnonzero(self.seen[hashes >> np.uint64(64 - _SEEN_BITS)])
        start, end, hashes = start[maybe], end[maybe], hashes[maybe]
        if self.table is not None:
            left = self.table.get_indexer(hashes)
            count = (left >= 0).astype(np.int64)
        else:
            left = np.searchsorted(self.hashes, hashes, "left")
            count = np.searchsorted(self.hashes, hashes, "right") - left  # mostly 0, else 1
        run = np.repeat(np.arange(len(hashes)), count)
        code = self.by_hash[np.repeat(left, count) + _within(count)]
        size = end[run] - start[run]
        same = np.flatnonzero(size == self.size[code])
        run, code, size = run[same], code[same], size[same]
        at = _within(size)
        equal = (
            data[np.repeat(start[run], size) + at]
            == self.data[np.repeat(self.start[code], size) + at]
        )
        whole = np.logical_and.reduceat(equal, np.cumsum(size) - size) if len(run) else equal
        return maybe[run[whole]], code[whole]


def _words(
    texts: pa.Array, cjk: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The words of the texts written in ASCII and CJK characters (`cjk`, a regex range),
    as `reconcile.text_words` finds them: runs of A-Z and 0-9 upper-cased, each CJK
    character a word (upper case changes neither CJK nor the rest of ASCII). Returns each
    word's text row, the words' bytes one after the other (each text's words together,
    in order), each word's first byte, bytes and characters, and the rows of the other
    texts, left to Python (how it reads their letters and upper case is its own)."""
    ascii_ = _np(pc.string_is_ascii(texts))
    plain = ascii_.copy()
    rest = np.flatnonzero(~ascii_)
    plain[rest] = _np(pc.match_substring_regex(texts.take(pa.array(rest)), rf"^[\x00-\x7f{cjk}]*$"))
    rows = np.flatnonzero(plain)
    raw, first, length = _utf8(texts.take(pa.array(rows)))
    b = raw.copy()
    b[(b >= 97) & (b <= 122)] -= 32  # a-z upper case
    alnum = ((b >= 48) & (b <= 57)) | ((b >= 65) & (b <= 90))
    lead = b >= 0xC0  # a CJK character's first byte (a plain text has no other non-ASCII)
    starts_text = np.zeros(len(b) + 1, bool)
    starts_text[first] = True
    after_alnum = np.r_[False, alnum[:-1]] & ~starts_text[:-1]
    begins = lead | (alnum & ~after_alnum)  # a word begins here
    keep = alnum | (b >= 0x80)  # letters and digits, and CJK characters whole
    data = b[keep]
    begins, counted = begins[keep], (data < 0x80) | (data >= 0xC0)  # a character's 1st byte
    start = np.flatnonzero(begins)
    size = np.diff(np.r_[start, len(data)])
    chars = np.add.reduceat(counted, start).astype(np.int64) if len(start) else size
    # each word's text: where it begins among the texts' bytes
    text = np.repeat(np.arange(len(first)), length)  # each byte's text
    doc = rows[text[np.flatnonzero(keep)[start]]]
    return doc, data, start, size, chars, rest[~plain[rest]]


def _utf8(strings: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The strings' UTF-8 bytes one after the other, and each string's first byte and
    size (a null is empty)."""
    strings = pc.fill_null(strings.cast(pa.string()), "")
    if len(strings) == 0:
        return np.empty(0, np.uint8), np.empty(0, np.int64), np.empty(0, np.int64)
    _, offsets, data = strings.buffers()
    offsets = np.frombuffer(offsets, np.int32)[strings.offset : strings.offset + len(strings) + 1]
    raw = np.frombuffer(data, np.uint8)[offsets[0] : offsets[-1]] if data else np.empty(0, np.uint8)
    start = (offsets[:-1] - offsets[0]).astype(np.int64)
    return raw, start, np.diff(offsets).astype(np.int64)


class _Hashes:
    """Polynomial hashes (base _BASE, mod 2**64) of the byte spans of `data`, from its
    prefix sums: the hash of data[s:e] is B**(e-1) * sum(data[j] * B**-j for s <= j < e),
    which is sum(data[j] * B**(e-1-j)), the same as for those bytes anywhere else."""

    def __init__(self, data: np.ndarray) -> None:
        self.power = np.cumprod(np.r_[np.uint64(1), np.full(len(data), _BASE)])
        inverse = np.cumprod(np.r_[np.uint64(1), np.full(max(len(data) - 1, 0), _INVERSE)])
        self.prefix = np.zeros(len(data) + 1, np.uint64)
        np.cumsum(data * inverse[: len(data)], out=self.prefix[1:])

    def of(self, start: np.ndarray, end: np.ndarray) -> np.ndarray:
        """The hash of each data[start:end] (none empty)."""
        return self.power[end - 1] * (self.prefix[end] - self.prefix[start])


def _within(count: np.ndarray) -> np.ndarray:
    """0..count-1 for each count, one after the other."""
    return np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)


def _currency_codes(lines: pa.ChunkedArray, items: pa.ChunkedArray) -> tuple[np.ndarray, ...]:
    """The lines' and items' currencies as integer codes, equal when the currencies are
    equal upper-cased (Python's upper, a missing one as "")."""
    code: dict[str, int] = {}
    out = []
    for column in (lines, items):
        encoded = column.combine_chunks().dictionary_encode()
        upper = [(c or _NO_CURRENCY).upper() for c in encoded.dictionary.to_pylist()]
        codes = np.array([code.setdefault(c, len(code)) for c in upper] + [-1], np.int64)
        missing = code.setdefault(_NO_CURRENCY, len(code))
        codes[-1] = missing
        out.append(codes[_np(encoded.indices.fill_null(len(upper)))])
    return tuple(out)


def _cents(column: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """A decimal128 column with up to 18 digits as its unscaled integers (the low 64 bits
    of each value, which hold it whole), and whether each value is there."""
    values = column.combine_chunks()
    if not pa.types.is_decimal128(values.type) or values.type.precision > 18:
        raise TypeError(f"expected decimal128 of at most 18 digits, not {values.type}")
    words = np.frombuffer(values.buffers()[1], dtype="<i8")
    low = words[2 * values.offset : 2 * (values.offset + len(values)) : 2].copy()
    return low, _np(values.is_valid())


def _np(values: pa.Array) -> np.ndarray:
    return values.to_numpy(zero_copy_only=False)


def _lengths(values: pa.Array) -> np.ndarray:
    return _np(pc.utf8_length(values))


def _is_in(column: pa.ChunkedArray, values: Collection[str]) -> np.ndarray:
    if not values:
        return np.zeros(len(column), bool)
    found = pc.is_in(column, value_set=pa.array(list(values), pa.string()))
    return _np(pc.fill_null(found, False))


def _mask(size: int, rows: np.ndarray) -> pa.Array:
    mask = np.zeros(size, bool)
    mask[rows] = True
    return pa.array(mask)
