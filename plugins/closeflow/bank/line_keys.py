"""The `line_key` of each bank line: the identity of the bank's booking itself, the same in
every download that shows it, so that an import can drop a line it already holds.

It is a hash of the account, the currency and either the bank's own reference for the line
(with its booking date and amount), or, when the bank gives none, a fingerprint of
booking date, amount, counterparty name and account and text; to either is added the
line's occurrence among the statement's lines with the same basis (two identical coffees
on one day are occurrence 1 and 2 in every download that holds that whole day).

Keys are computed a batch of lines at a time from the statement's Arrow table, and the
occurrences from the hashes alone: memory stays proportional to the lines, a few bytes
each, never a Python object per line.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict

import numpy as np
import pyarrow as pa

_BATCH = 32_768  # keys made at a time (the key column's chunks)
_READ_BATCH = 8_192  # lines read into Python objects at a time: a few MB of them
_BASIS = (
    "booking_date",
    "amount",
    "bank_reference",
    "counterparty_name",
    "counterparty_account",
    "remittance_info",
)


def _squash(text: str | None) -> str:
    return " ".join((text or "").casefold().split())


def line_keys(
    account_id: str, currency: str, lines: pa.Table, negative_zero: np.ndarray | None = None
) -> pa.ChunkedArray:
    """The `line_key` of each line of `lines` (BANK_LINES columns): the bank's reference
    with the booking date and amount, else a fingerprint of date, amount, counterparty and
    text; plus the line's occurrence among the lines with the same basis. `negative_zero`
    marks amounts read as -0.00 (kept apart from 0.00, as the keys always have been)."""
    return keys_and_repeats(account_id, currency, lines, negative_zero)[0]


def keys_and_repeats(
    account_id: str, currency: str, lines: pa.Table, negative_zero: np.ndarray | None = None
) -> tuple[pa.ChunkedArray, np.ndarray]:
    """`line_keys`, and which lines may share their basis with another (a superset of the
    lines identical to another: only those need comparing field by field)."""
    n = lines.num_rows
    digests = bytearray(32 * n)
    prefix = "\x1f".join([account_id, currency, ""])
    at = 0
    for batch in lines.select(list(_BASIS)).to_batches(max_chunksize=_READ_BATCH):
        days, amounts, refs, names, accounts, texts = (c.to_pylist() for c in batch.columns)
        for j in range(batch.num_rows):
            amount = amounts[j]
            money = "-0.00" if negative_zero is not None and negative_zero[at] else f"{amount:.2f}"
            day, ref = days[j].isoformat(), _squash(refs[j])
            if ref:
                text = "\x1f".join(("ref", ref, day, money))
            else:
                text = "\x1f".join(
                    (
                        "fp",
                        day,
                        money,
                        _squash(names[j]),
                        _squash(accounts[j]).replace(" ", ""),
                        _squash(texts[j]),
                    )
                )
            digests[32 * at : 32 * at + 32] = hashlib.sha256((prefix + text).encode()).digest()
            at += 1
    occurrence, shared = _occurrences(digests, n)
    chunks = []
    for start in range(0, n, _BATCH):
        chunks.append(
            pa.array(
                [
                    hashlib.sha256(
                        bytes(digests[32 * i : 32 * i + 32]) + str(occurrence[i]).encode()
                    ).hexdigest()[:24]
                    for i in range(start, min(n, start + _BATCH))
                ],
                pa.string(),
            )
        )
    return pa.chunked_array(chunks, pa.string()), shared


def _occurrences(digests: bytearray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Each line's occurrence (1, 2, ...) among the lines before it with the same digest,
    and which lines share their digest's first 8 bytes with another.

    Lines whose digest's first 8 bytes no other line shares are first occurrences; only
    the few others (identical bookings) are counted by their whole digest."""
    occurrence = np.ones(n, np.int32)
    if n < 2:
        return occurrence, np.zeros(n, bool)
    head = np.frombuffer(digests, dtype="<u8")[::4]
    order = np.argsort(head, kind="stable")
    same = head[order[1:]] == head[order[:-1]]
    shared = np.zeros(n, bool)
    shared[order[1:][same]] = True
    shared[order[:-1][same]] = True
    seen: dict[bytes, int] = defaultdict(int)
    for i in np.flatnonzero(shared):  # in line order
        digest = bytes(digests[32 * i : 32 * i + 32])
        seen[digest] += 1
        occurrence[i] = seen[digest]
    return occurrence, shared
