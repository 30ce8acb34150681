"""A parsed bank statement: the `bank_statements` row, its `bank_lines` rows, and the checks.

Every format parser (camt.052/053/054, MT940/MT942, OFX, BAI2, CSV) reads its file into
`Entry` drafts and hands them to `build_statement`, which owns what must hold whatever the
format: deterministic ids, one currency per statement, amounts that fit the warehouse,
and opening balance + sum(lines) == closing balance. A file that breaks any of these
raises `StatementError`, naming the file, the line and the problem in a finance user's
words; nothing downstream ever sees half a statement.

Each line also gets a `line_key`: the identity of the bank's booking itself, the same in
every download that shows it (two overlapping CSV downloads of the same days; across
formats too where both carry the bank's reference), so that an import can drop a line it
already holds. It is a hash of the account, the currency and either the bank's own
reference for the line (with its booking date and amount), or, when the bank gives none,
a fingerprint of booking date, amount, counterparty name and account and text; to either
is added the line's occurrence among the statement's lines with the same basis (two
identical coffees on one day are occurrence 1 and 2 in every download that holds that
whole day). `line_id` stays the line's place in its statement.

Amounts are kept in cents (the warehouse's DECIMAL(18,2)): currencies with no minor unit
(JPY, KRW, ...) are read as they are, currencies with three decimals (KWD, BHD, ...) are
read when the amount is a whole number of cents (`1.250 KWD`) and refused, never rounded,
when it is not (`1.255 KWD`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from closeflow.bank.line_keys import keys_and_repeats
from closeflow.money import CENT
from closeflow.schemas import BANK_LINES, BANK_STATEMENTS

# the fields of a bank line a format parser reads (BANK_LINES without ids and bookkeeping)
LINE_FIELDS = pa.schema(
    [f for f in BANK_LINES if f.name not in ("line_id", "statement_id", "run_id", "line_key")]
)
# a parsed statement's lines: BANK_LINES but the run, which the import sets
PARSED_LINES = pa.schema([f for f in BANK_LINES if f.name != "run_id"])

# decimal128(18, 2) holds at most 16 digits before the decimal point.
_MONEY_LIMIT = Decimal(10) ** 16


# ISO 4217 minor units, where they are not 2 (decimals the currency's amounts are written in)
_MINOR_UNITS = {
    **dict.fromkeys(
        "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF".split(), 0
    ),
    **dict.fromkeys("BHD IQD JOD KWD LYD OMR TND".split(), 3),
    **dict.fromkeys("CLF UYW".split(), 4),
}


def minor_units(currency: str | None) -> int:
    """How many decimals `currency`'s amounts have (ISO 4217); 2 when unknown."""
    return _MINOR_UNITS.get((currency or "").upper(), 2)


class StatementError(ValueError):
    """A bank statement that cannot be used. The message names file, line and problem."""

    def __init__(self, path: Path | str, line: int | None, message: str) -> None:
        self.path, self.line, self.problem = str(path), line, message
        where = f"{path}:{line}" if line else str(path)
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class SourceFile:
    """A statement file as read from disk, with what the caller knows about it."""

    path: Path
    data: bytes
    sha256: str
    account_id: str | None = None  # caller's account id, for files that do not name one
    currency: str | None = None  # caller's currency, for files that do not name one
    mapping: Path | None = None  # a CSV mapping file the caller names for this file
    mapping_dirs: list[Path] | None = None  # where CSV mappings are looked for (None: default)

    @classmethod
    def read(
        cls,
        path: Path | str,
        account_id: str | None = None,
        currency: str | None = None,
        mapping: Path | str | None = None,
        mapping_dirs: list[Path] | None = None,
    ) -> SourceFile:
        path = Path(path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise StatementError(path, None, f"cannot read the file: {exc.strerror}") from exc
        return cls(
            path,
            data,
            hashlib.sha256(data).hexdigest(),
            account_id,
            currency.upper() if currency else None,
            Path(mapping) if mapping else None,
            mapping_dirs,
        )

    def error(self, line: int | None, message: str) -> StatementError:
        return StatementError(self.path, line, message)


@dataclass(slots=True)
class Entry:
    """One booked line as a format parser read it, before ids are assigned."""

    booking_date: dt.date
    amount: Decimal  # signed, money in positive
    currency: str
    value_date: dt.date | None = None
    counterparty_name: str | None = None
    counterparty_account: str | None = None
    remittance_info: str | None = None
    bank_reference: str | None = None
    end_to_end_id: str | None = None
    source_line: int | None = None  # where the entry starts in the file, for messages


@dataclass
class Balance:
    amount: Decimal  # signed: negative is an overdraft
    currency: str
    date: dt.date | None = None
    source_line: int | None = None


@dataclass
class ParsedStatement:
    """One statement: `.statement` per BANK_STATEMENTS, `.table` its lines per BANK_LINES
    (but `run_id`, which the import sets), as Arrow columns.

    `.warnings` are things a finance user should look at that do not make the
    statement unusable (no balances to check against, identical entries kept).
    """

    statement: dict[str, Any]
    table: pa.Table
    warnings: list[str] = field(default_factory=list)

    @property
    def lines(self) -> list[dict[str, Any]]:
        """The lines as dicts (Decimal amounts, `datetime.date` dates): for small files and
        tests; the import works on `.table`."""
        return self.table.to_pylist()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: dates ISO, amounts decimal strings."""
        return {
            "statement": {k: _jsonable(v) for k, v in self.statement.items()},
            "lines": [{k: _jsonable(v) for k, v in line.items()} for line in self.lines],
            "warnings": list(self.warnings),
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


@dataclass
class Draft:
    """One statement as a format parser read it; `build` checks it into a ParsedStatement."""

    source_format: str
    own_id: str | None
    account_id: str
    currency: str
    entries: list[Entry]
    opening: Balance | None = None
    closing: Balance | None = None
    from_date: dt.date | None = None
    to_date: dt.date | None = None
    warnings: list[str] = field(default_factory=list)
    where: str = "statement"
    line: int | None = None

    def build(self, src: SourceFile) -> ParsedStatement:
        return build_statement(
            src,
            source_format=self.source_format,
            own_id=self.own_id,
            account_id=self.account_id,
            currency=self.currency,
            entries=self.entries,
            opening=self.opening,
            closing=self.closing,
            from_date=self.from_date,
            to_date=self.to_date,
            warnings=self.warnings,
            where=self.where,
            line=self.line,
        )


def statements_table(parsed: list[ParsedStatement]) -> pa.Table:
    """The `bank_statements` rows of `parsed` as an Arrow table (BANK_STATEMENTS)."""
    return pa.Table.from_pylist([p.statement for p in parsed], schema=BANK_STATEMENTS)


def lines_table(parsed: list[ParsedStatement]) -> pa.Table:
    """The `bank_lines` rows of `parsed` as an Arrow table (BANK_LINES)."""
    if not parsed:
        return BANK_LINES.empty_table()
    table = pa.concat_tables([p.table for p in parsed])
    return table.append_column("run_id", pa.nulls(table.num_rows, pa.string())).select(
        BANK_LINES.names
    )


def statement_id(own_id: str | None, account_id: str, currency: str, file_sha256: str) -> str:
    """Deterministic id: the statement's own id (else the file's sha256) + account + currency."""
    key = "\x1f".join([own_id or f"sha256:{file_sha256}", account_id, currency])
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


def money(
    src: SourceFile, line: int | None, value: Decimal, what: str, currency: str | None = None
) -> Decimal:
    """`value` as cents; refuses amounts with fractions of a cent or too large to store.

    With `currency`, an amount with more decimals than the currency has is refused too
    (`10.50 JPY`), and a three-decimal currency's amount must be whole cents: the
    warehouse keeps 2 decimals, and rounding money away is never right."""
    digits = minor_units(currency)
    if digits < 2 and value != value.quantize(Decimal(1).scaleb(-digits)):
        raise src.error(
            line,
            f"{what} {value} {currency} has decimals, but {currency} amounts have "
            f"{'none' if digits == 0 else digits}",
        )
    cents = value.quantize(CENT)
    if cents != value:
        if digits > 2 and value == value.quantize(Decimal(1).scaleb(-digits)):
            raise src.error(
                line,
                f"{what} {value} {currency} is not a whole number of cents: closeflow keeps "
                f"amounts with 2 decimals and refuses to round the {currency} amount's "
                f"last {digits - 2} decimal{'s' if digits > 3 else ''} away; book it by hand",
            )
        raise src.error(line, f"{what} {value} has more than 2 decimal places")
    if abs(cents) >= _MONEY_LIMIT:
        raise src.error(line, f"{what} {value} is too large to be a bank amount")
    return cents


def _fmt(d: Decimal) -> str:
    return f"{d:,.2f}"


def entries_table(entries: list[Entry]) -> pa.Table:
    """The entries' bank-line fields as columns (LINE_FIELDS, no ids yet)."""
    return pa.table(
        {
            name: pa.array([getattr(e, name) for e in entries], LINE_FIELDS.field(name).type)
            for name in LINE_FIELDS.names
        },
        schema=LINE_FIELDS,
    )


def build_statement(
    src: SourceFile,
    *,
    source_format: str,
    own_id: str | None,
    account_id: str,
    currency: str,
    entries: list[Entry],
    opening: Balance | None = None,
    closing: Balance | None = None,
    from_date: dt.date | None = None,
    to_date: dt.date | None = None,
    warnings: list[str] | None = None,
    where: str = "statement",
    line: int | None = None,
) -> ParsedStatement:
    """Check a statement read by a format parser and give it its rows and ids.

    `where` names the statement in messages ("statement GOLDEN-MULTI-EUR"); `line` is
    where it starts in the file.
    """
    return build_statement_table(
        src,
        source_format=source_format,
        own_id=own_id,
        account_id=account_id,
        currency=currency,
        lines=entries_table(entries),
        source_lines=[e.source_line for e in entries],
        negative_zero=np.array([e.amount.is_zero() and e.amount.is_signed() for e in entries]),
        opening=opening,
        closing=closing,
        from_date=from_date,
        to_date=to_date,
        warnings=warnings,
        where=where,
        line=line,
    )


def build_statement_table(
    src: SourceFile,
    *,
    source_format: str,
    own_id: str | None,
    account_id: str,
    currency: str,
    lines: pa.Table,
    source_lines: Sequence[int | None] | np.ndarray | None = None,
    negative_zero: np.ndarray | None = None,
    opening: Balance | None = None,
    closing: Balance | None = None,
    from_date: dt.date | None = None,
    to_date: dt.date | None = None,
    warnings: list[str] | None = None,
    where: str = "statement",
    line: int | None = None,
) -> ParsedStatement:
    """`build_statement` for lines read into columns (LINE_FIELDS): `source_lines` are
    where each starts in the file, `negative_zero` marks amounts read as -0.00."""
    warnings = list(warnings or [])

    def file_line(i: int) -> int | None:
        return None if source_lines is None or source_lines[i] is None else int(source_lines[i])

    other = pc.not_equal(lines["currency"], currency)
    if pc.any(other).as_py():
        i = _first(other)
        raise src.error(
            file_line(i),
            f"{where}: an entry is in {lines['currency'][i].as_py()} but the account is kept "
            f"in {currency}",
        )
    for bal in (opening, closing):
        if bal is not None and bal.currency != currency:
            raise src.error(
                bal.source_line,
                f"{where}: a balance is in {bal.currency} but the account is kept in {currency}",
            )
    n = lines.num_rows
    total = pc.sum(lines["amount"]).as_py() if n else None
    total = Decimal("0.00") if total is None else total.quantize(CENT)
    if opening is not None and closing is not None:
        if opening.amount + total != closing.amount:
            raise src.error(
                closing.source_line,
                f"{where}: lines do not add up to the closing balance: opening balance "
                f"{_fmt(opening.amount)} + {n} line{'' if n == 1 else 's'} "
                f"{_fmt(total)} = "
                f"{_fmt(opening.amount + total)} {currency}, but the bank's closing balance is "
                f"{_fmt(closing.amount)} {currency} (difference "
                f"{_fmt(closing.amount - opening.amount - total)})",
            )
    else:
        if opening is None and closing is None:
            missing = "opening and closing balances"
        else:
            missing = "opening balance" if opening is None else "closing balance"
        warnings.append(f"{where} has no {missing}: closeflow cannot check that no line is missing")

    dates = pc.min_max(lines["booking_date"]).as_py() if n else {"min": None, "max": None}
    from_date = from_date or dates["min"] or (opening and opening.date)
    to_date = to_date or dates["max"] or (closing and closing.date)
    if from_date is None or to_date is None:
        raise src.error(line, f"{where} has no dates: no entries, period or balance dates")

    sid = statement_id(own_id, account_id, currency, src.sha256)
    statement = {
        "statement_id": sid,
        "account_id": account_id,
        "currency": currency,
        "opening_balance": opening.amount if opening else None,
        "closing_balance": closing.amount if closing else None,
        "from_date": from_date,
        "to_date": to_date,
        "source_format": source_format,
        "file_sha256": src.sha256,
    }
    keys, repeated = keys_and_repeats(account_id, currency, lines, negative_zero)
    numbers = pc.cast(pa.array(np.arange(1, n + 1, dtype=np.int64)), pa.string())
    line_ids = pc.binary_join_element_wise(f"{sid}:", numbers, "")
    del numbers  # only the ids are kept
    table = pa.table(
        {
            "line_id": line_ids,
            "statement_id": pa.repeat(pa.scalar(sid, pa.string()), n),
            **{name: lines[name] for name in LINE_FIELDS.names},
            "line_key": keys,
        },
        schema=PARSED_LINES,
    )
    # identical entries share their line key's basis (or are 0.00 and -0.00): only those
    # lines are compared field by field
    maybe = repeated | flags_of(pc.equal(lines["amount"], Decimal(0))) if n else repeated
    warnings.extend(_identical_entries(table, np.flatnonzero(maybe), file_line, where))
    return ParsedStatement(statement, table, warnings)


def flags_of(mask: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A boolean column as numpy (null: False)."""
    return np.asarray(pc.fill_null(mask, False).to_numpy(zero_copy_only=False), bool)


def _first(mask: pa.Array | pa.ChunkedArray) -> int:
    """The position of the first true value of `mask`."""
    return int(pc.index(mask, True).as_py())


_SAME = list(LINE_FIELDS.names)  # what two identical entries share


def _take_rows(table: pa.Table, positions: np.ndarray) -> pa.Table:
    """The rows of `table` at the ascending `positions`, taken chunk by chunk: Arrow's
    `take` would first join each column's chunks into one array, a copy of the column."""
    columns = []
    for column in table.columns:
        ends = np.cumsum([len(chunk) for chunk in column.chunks])
        which = np.searchsorted(ends, positions, side="right")
        parts = []
        for k in np.unique(which):
            start = int(ends[k]) - len(column.chunks[k])
            parts.append(column.chunks[k].take(pa.array(positions[which == k] - start)))
        columns.append(pa.chunked_array(parts, column.type))
    return pa.table(columns, schema=table.schema)


def _identical_entries(
    table: pa.Table, candidates: np.ndarray, file_line: Any, where: str
) -> list[str]:
    """One warning per group of entries identical in every field the bank gave, among the
    lines at `candidates` (positions in `table`)."""
    if len(candidates) < 2:
        return []
    # the candidates are few (lines sharing their key's basis, zero amounts): grouped in
    # Python, not by Arrow's group_by, whose first use costs more memory than they take
    taken = _take_rows(table.select(_SAME), candidates)
    groups: dict[tuple[Any, ...], list[int]] = {}
    values = zip(*(column.to_pylist() for column in taken.columns), strict=True)
    for i, row in zip(candidates.tolist(), values, strict=True):
        groups.setdefault(row, []).append(i)
    out = []
    for idx in sorted(sorted(g) for g in groups.values() if len(g) > 1):
        first = {name: table[name][idx[0]].as_py() for name in table.column_names}
        what = " ".join(
            str(x)
            for x in (
                _fmt(first["amount"]),
                first["currency"],
                first["counterparty_name"],
                first["remittance_info"] and repr(first["remittance_info"]),
            )
            if x
        )
        at = ", ".join(
            f"{table['line_id'][i].as_py()}"
            + (f" (file line {file_line(i)})" if file_line(i) else "")
            for i in idx
        )
        out.append(
            f"{where}: {len(idx)} identical entries on {first['booking_date'].isoformat()} "
            f"({what}): {at}. All are kept because the bank booked each of them; if one is a "
            "double booking, ask the bank to reverse it"
        )
    return out
