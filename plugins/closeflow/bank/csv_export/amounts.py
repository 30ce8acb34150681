"""The amounts of a bank CSV: decimal comma or point decided from the whole file, and the
direction of each line's money (a signed amount, debit/credit columns, or an amount with a
debit/credit marker column).

Decimals are comma or point, whichever the file's amounts are unambiguously written in
(`-4,50` can only be a comma decimal, `100.00` only a point decimal); when all are
ambiguous (`1.234`), a `;`-delimited file is taken as comma decimals. In a currency
without minor unit (JPY, KRW) both are digit grouping. A value that fits neither (`12..34`)
is rejected, never guessed. Markers are D/C, S/H, 借/贷, 收入/支出, Af/Bij; a mapping adds
its bank's words, and the values of rows that moved no money (Alipay's 不计收支).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pyarrow as pa

from closeflow.bank.mappings import BankMapping
from closeflow.bank.statement import SourceFile, StatementError, minor_units, money
from closeflow.schemas import MONEY

_POINT = re.compile(r"(?:\d{1,3}(?:([,' \u00a0\u202f])\d{3}(?:\1\d{3})*)|\d+)(?:\.\d+)?|\.\d+")
_COMMA = re.compile(r"(?:\d{1,3}(?:([.' \u00a0\u202f])\d{3}(?:\1\d{3})*)|\d+)(?:,\d+)?|,\d+")
_GROUPED = re.compile(r"\d{1,3}(?:([.,' \u00a0\u202f])\d{3}(?:\1\d{3})*)|\d+")
_DEBIT_MARKS = {
    "S", "D", "DR", "DB", "DBIT", "DEBIT", "SOLL", "DEBE", "-", "AF", "借", "借方", "支出",
    "支", "出", "付", "付款",
}  # fmt: skip
_CREDIT_MARKS = {
    "H", "C", "CR", "CRDT", "CREDIT", "HABEN", "HABER", "+", "BIJ", "贷", "贷方", "收入",
    "收", "入", "存", "收款",
}  # fmt: skip
_CURRENCY_NAMES = {
    "人民币": "CNY", "RMB": "CNY", "美元": "USD", "港币": "HKD", "港元": "HKD", "欧元": "EUR",
    "日元": "JPY", "英镑": "GBP", "澳元": "AUD", "澳大利亚元": "AUD", "加元": "CAD",
    "加拿大元": "CAD", "新加坡元": "SGD", "瑞士法郎": "CHF", "韩元": "KRW", "新台币": "TWD",
    "€": "EUR", "£": "GBP", "¥": "CNY",
}  # fmt: skip


def split_sign(raw: str) -> tuple[bool, str]:
    """(negative, unsigned body) of an amount as banks write it: -1, 1-, (1), −1, € 1."""
    text = raw.strip().replace("\u2212", "-")
    text = re.sub(r"^[€$£¥￥]\s*|\s*[€$£¥￥元]$", "", text)
    negative = False
    if text.startswith("(") and text.endswith(")"):
        negative, text = True, text[1:-1].strip()
    if text and text[0] in "+-":
        negative, text = negative or text[0] == "-", text[1:].strip()
    elif text.endswith(("-", "+")):
        negative, text = negative or text[-1] == "-", text[:-1].strip()
    return negative, text


def to_decimal(raw: str, decimal_comma: bool, whole: bool = False) -> Decimal | None:
    """The amount `raw` says; `whole`: a currency without minor unit (all separators group)."""
    negative, body = split_sign(raw)
    if whole and _GROUPED.fullmatch(body):
        value = Decimal("".join(c for c in body if c.isdigit()))
        return -value if negative else value
    pattern = _COMMA if decimal_comma else _POINT
    if not pattern.fullmatch(body):
        return None
    point = "," if decimal_comma else "."
    digits = "".join(c for c in body if c.isdigit() or c == point).replace(",", ".")
    value = Decimal(digits)
    return -value if negative else value


def separators(raw: str) -> tuple[bool, bool]:
    """Whether `raw` reads as an amount with a decimal point, and with a decimal comma."""
    body = split_sign(raw)[1]
    return bool(_POINT.fullmatch(body)), bool(_COMMA.fullmatch(body))


def decides_comma(
    mapping: BankMapping | None, point_only: int, comma_only: int, delimiter: str
) -> bool:
    """Whether the file writes decimal commas: the mapping says, else the amounts that can
    be read only one way, else a `;` delimiter."""
    if mapping and mapping.decimal:
        return mapping.decimal == ","
    if point_only != comma_only:
        return comma_only > point_only
    return delimiter == ";"


def currency_code(raw: str) -> str:
    """The ISO code of a currency cell (`EUR`, or a name: 人民币, €)."""
    text = " ".join(raw.split())
    return _CURRENCY_NAMES.get(text, text.upper())


@dataclass
class Marks:
    """The debit/credit marker values: the usual ones and the mapping's own."""

    debit: set[str]
    credit: set[str]
    ignore: set[str]

    @classmethod
    def of(cls, mapping: BankMapping | None) -> Marks:
        extra = mapping.signs if mapping else None

        def up(values: list[str]) -> set[str]:
            return {" ".join(v.split()).upper() for v in values}

        return cls(
            _DEBIT_MARKS | (up(extra.debit) if extra else set()),
            _CREDIT_MARKS | (up(extra.credit) if extra else set()),
            up(extra.ignore) if extra else set(),
        )


def signed_amount(
    src: SourceFile,
    line: int,
    mark: str | None,
    sign_column: int | None,
    amounts: dict[str, Decimal | None],
    marks: Marks,
) -> Decimal:
    """The line's money, positive in: its signed amount, turned by its marker `mark` (None:
    the file has no marker column, at 0-based `sign_column`), else its debit or credit."""
    amount, debit, credit = amounts["amount"], amounts["debit"], amounts["credit"]
    if amount is not None:
        if mark is None:
            return amount
        mark = mark.upper()
        if mark in marks.debit:
            return -abs(amount)
        if mark in marks.credit:
            return abs(amount)
        if not mark and amount < 0:
            return amount
        if not mark:
            raise src.error(
                line,
                f"the row has no debit/credit marker (column {(sign_column or 0) + 1}), so its "
                "amount has no direction",
            )
        raise src.error(line, f"debit/credit indicator {mark!r} is neither debit nor credit")
    if debit and credit:
        raise src.error(line, f"the row has both a debit ({debit}) and a credit ({credit}) amount")
    if credit is not None:
        return abs(credit)
    if debit is not None:
        return -abs(debit)
    raise src.error(line, "the row has no amount")


# --- whole columns ---------------------------------------------------------------------


def cents_reader(
    src: SourceFile, field: str, currency: str, decimal_comma: bool, whole: bool, invert: bool
) -> Callable[[str], tuple[int | None, bool, bool]]:
    """A reader of one money column's cells in `currency`: (cents, read as -0.00, readable);
    a cell that is not an amount, or not one the warehouse can keep, is not readable."""
    no_minor = minor_units(currency) == 0 or whole

    def read(raw: str) -> tuple[int | None, bool, bool]:
        value = to_decimal(raw, decimal_comma, whole=no_minor)
        if value is None:
            return None, False, False
        if invert and field != "balance":
            value = -value
        try:
            cents = money(src, None, value, field, currency)
        except StatementError:
            return None, False, False
        return int(cents.scaleb(2)), cents.is_zero() and cents.is_signed(), True

    return read


@dataclass
class MoneyColumn:
    """One money column read: cents, where there is an amount, where it was -0.00, and
    where a cell could not be read."""

    cents: np.ndarray
    given: np.ndarray
    negative_zero: np.ndarray
    bad: np.ndarray

    @classmethod
    def empty(cls, n: int) -> MoneyColumn:
        """No amounts (a column the file does not have): read-only views of one zero, no
        memory per row."""
        return cls(np.broadcast_to(np.int64(0), n), *(np.broadcast_to(False, n) for _ in range(3)))

    @classmethod
    def zeros(cls, n: int) -> MoneyColumn:
        """No amounts yet, to be filled in."""
        return cls(np.zeros(n, np.int64), *(np.zeros(n, bool) for _ in range(3)))


def signed_amounts(
    amount: MoneyColumn,
    debit: MoneyColumn,
    credit: MoneyColumn,
    marked: tuple[np.ndarray, np.ndarray, np.ndarray] | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`signed_amount` of every row at once: (cents, -0.00, rows it refuses). `marked` says
    of each row whether its marker is a debit one, a credit one, or empty; None when the
    file has no marker column."""
    a, d, c = amount.cents, debit.cents, credit.cents
    # the cents are worked out in one column, in place: no temporary column per step
    out = np.abs(d)
    np.negative(out, out=out)
    np.abs(c, out=out, where=credit.given)
    negz = ~credit.given & debit.given & (d == 0)
    bad = ~amount.given & (
        (debit.given & credit.given & (d != 0) & (c != 0)) | ~(debit.given | credit.given)
    )
    if marked is None:
        np.copyto(out, a, where=amount.given)
        negz = np.where(amount.given, amount.negative_zero, negz)
        return out, negz, bad
    is_debit, is_credit, unmarked = marked
    debited = amount.given & is_debit
    np.copyto(out, a, where=amount.given & ~is_debit & ~is_credit)
    np.abs(a, out=out, where=amount.given & ~is_debit & is_credit)
    np.abs(a, out=out, where=debited)
    np.negative(out, out=out, where=debited)
    negz = np.where(amount.given, is_debit & (a == 0), negz)
    refused = ~is_debit & ~is_credit & ~(unmarked & (a < 0))
    bad = np.where(amount.given, refused, bad)
    return out, negz, bad


def money_array(cents: np.ndarray, given: np.ndarray) -> pa.Array:
    """Cents as the warehouse's money (decimal128(18, 2)), null where not `given`."""
    words = np.empty((len(cents), 2), np.int64)
    words[:, 0] = cents
    words[:, 1] = cents >> 63  # the sign, extended to 128 bits
    validity = None if given.all() else pa.array(given).buffers()[1]
    return pa.Array.from_buffers(MONEY, len(cents), [validity, pa.py_buffer(words)])
