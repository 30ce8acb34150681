"""The bank CSV format's entry points: `sniff` (does a file look like a CSV export) and
`parse` (its statements: one per account and currency, in order of first appearance).

The file's rows are read once, as a stream, into columns (closeflow.bank.csv_export.rows:
each field's cells as Arrow strings, nothing per row kept in Python), and everything
after works on whole columns: first what the whole file says about its date order
(closeflow.bank.csv_export.dates), decimals (closeflow.bank.csv_export.amounts) and
balance column, then the lines themselves, each reader run once per distinct cell value.
A row that cannot be read is found among the columns, then read again on its own to
refuse the file with the reason and the line. The account comes from an account column if
there is one, else from the caller, else from the file name's stem; the currency from a
currency column, else the mapping, else a header suffix (`Betrag (EUR)`), else the caller.
With a running-balance column the balances are derived and every row is checked against
the one before (closeflow.bank.csv_export.balances); a balance column that holds no
number at all (masked, `xx,yyyy.zz`) is ignored with a warning; without one, the
statement has no balances and says so.

Memory: the file's bytes until its rows are read (then they are let go), its cells once as
Arrow strings (a field's are dropped once read into the lines' values), and the lines'
Arrow columns; the decoded text is streamed, never held whole (bench/statement_memory.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from closeflow.bank import mappings as mapping_files
from closeflow.bank.csv_export.amounts import (
    Marks,
    MoneyColumn,
    cents_reader,
    currency_code,
    decides_comma,
    money_array,
    separators,
    signed_amount,
    signed_amounts,
    to_decimal,
)
from closeflow.bank.csv_export.balances import running_balances
from closeflow.bank.csv_export.columns import MONEY_FIELDS
from closeflow.bank.csv_export.dates import DATE_TOKEN, DateOrder, date_reader, read_date
from closeflow.bank.csv_export.distinct import flags, map_distinct, map_one, present
from closeflow.bank.csv_export.layout import (
    Layout,
    column_name,
    find_header,
    find_layout,
    mapping_layout,
)
from closeflow.bank.csv_export.rows import RowColumns, read_columns, skip_rules
from closeflow.bank.csv_export.text import HEADER_SEARCH, head_lines, open_text
from closeflow.bank.encoding import BOMS, EncodingError, decode_text
from closeflow.bank.mappings import BankMapping
from closeflow.bank.statement import (
    LINE_FIELDS,
    Balance,
    ParsedStatement,
    SourceFile,
    build_statement_table,
    minor_units,
    money,
)

NAME = "csv"
_KEY_ROWS = 65_536  # rows whose statement is found at a time
# a statement's name (account and currency), rows, and opening and closing balances
_Group = tuple[str, slice | np.ndarray, Balance | None, Balance | None]
_TEXT_COLUMNS = (
    "counterparty_name",
    "counterparty_account",
    "remittance_info",
    "bank_reference",
    "end_to_end_id",
)


def sniff(head: bytes) -> bool:
    """Text whose first lines hold a header naming a booking date and an amount, or that
    a mapping file names."""
    if b"\x00" in head and not head.startswith(tuple(bom for bom, _ in BOMS)):
        return False
    try:
        text = decode_text(head, complete=False).text
    except EncodingError:
        # still a CSV export if its header shows through a byte-per-character reading; parse
        # then refuses it for its encoding instead of as a format closeflow does not read
        text = head.decode("latin-1")
    lines = head_lines(text)
    lines = lines[:-1] if len(lines) > 1 else lines
    if find_header(lines) is not None:
        return True
    try:
        probe = SourceFile(Path("<sniff>"), b"", "")
        return any(
            mapping_layout(probe, m, lines, chosen=False) is not None
            for m in mapping_files.available()
        )
    except Exception:  # noqa: BLE001 - a broken mapping file is reported when parsing
        return False


def parse(src: SourceFile) -> list[ParsedStatement]:
    """One statement per account and currency in the file, in order of first appearance."""
    text = open_text(src)
    head = text.head()
    layout = find_layout(src, head)
    if layout is None:
        raise src.error(
            1,
            f"no header row naming a booking date and an amount in the first {HEADER_SEARCH} "
            "lines, and no bank mapping names the file; add one (closeflow.bank.mappings)",
        )
    skip = skip_rules(src, layout)
    table = read_columns(src, text, layout, [i for i, _, _ in skip])
    # the rows are read: the file's bytes are not needed any more, and are freed when the
    # caller handed over its only reference (closeflow.bank.formats.parse_statements)
    del text
    src = replace(src, data=b"")
    file = _File(src, layout, table, skip, Marks.of(layout.mapping))
    file.decide(head)
    return file.statements()


@dataclass
class _Money:
    """What pass 1 decided about the file's amounts."""

    decimal_comma: bool
    whole: bool


class _File:
    """One CSV file's rows in columns, read into statements."""

    def __init__(
        self,
        src: SourceFile,
        layout: Layout,
        table: RowColumns,
        skip: list[tuple[int, set[str], str]],
        marks: Marks,
    ) -> None:
        self.src, self.layout, self.table, self.skip, self.marks = src, layout, table, skip, marks
        self.mapping: BankMapping | None = layout.mapping
        self.cols = layout.columns
        self.n = len(table)
        self.warnings: list[str] = []
        self.skipped = self._skipped()

    # --- which rows are left out ---------------------------------------------------------

    def _skipped(self) -> np.ndarray:
        """Rows a mapping's skip_rows names, or whose marker moves no money."""
        out = np.zeros(self.n, bool)
        for i, values, _ in self.skip:
            out |= flags(pc.is_in(self.table.cells[i], pa.array(sorted(values), pa.string())))
        if "sign" in self.cols and self.marks.ignore:
            ignore = self.marks.ignore
            marked = map_one(self.table.fields["sign"], lambda m: m.upper() in ignore, pa.bool_())
            out |= np.where(present(marked), flags(marked), "" in ignore)
        return out

    def _why_skipped(self, i: int) -> str | None:
        for position, values, column in self.skip:
            cell = self.table.cells[position][i].as_py()
            if cell in values:
                return f"{column} is {cell}"
        mark = self.table.value("sign", i).upper()
        if "sign" in self.cols and mark in self.marks.ignore:
            return f"it is marked {mark or 'with no direction'}, which moves no money"
        return None

    def _totals(self, read) -> np.ndarray:
        """Total rows: no booking date `read` reads, and a cell naming a total."""
        booking = self._column("booking_date")
        readable = flags(map_one(booking, lambda raw: read(raw) is not None, pa.bool_()))
        return ~readable & self.table.total

    # --- pass 1: what the whole file says --------------------------------------------------

    def decide(self, head: list[str]) -> None:
        """The date order, the decimals and whether the balance column holds numbers, from
        every row that is not left out."""
        src, layout, mapping, fields = self.src, self.layout, self.mapping, self.table.fields
        order = DateOrder()
        order.period = DATE_TOKEN.findall("\n".join(head[: max(layout.index, 0)]))
        for token in order.period:
            order.feed(token, layout.header_line, booking=False)
        probe = date_reader(mapping, "YMD")
        counted = ~self.skipped & ~self._totals(lambda r: read_date(r, "DMY") or probe(r))
        rows = pa.array(counted)
        keep = (lambda column: column) if counted.all() else (lambda column: column.filter(rows))
        order.feed_rows(
            keep(fields["booking_date"]) if "booking_date" in fields else None,
            keep(fields["value_date"]) if "value_date" in fields else None,
            self.table.line[counted],
        )
        point_only = comma_only = balance_numbers = balance_cells = 0
        for fld in MONEY_FIELDS:
            if fld not in fields:
                continue
            cells = keep(fields[fld])
            point, comma = (flags(c) for c in map_distinct(cells, separators, [pa.bool_()] * 2))
            point_only += int((point & ~comma).sum())
            comma_only += int((comma & ~point).sum())
            if fld == "balance":
                balance_cells += int(present(cells).sum())
                balance_numbers += int((point | comma).sum())
        currencies = {c for c in (mapping and mapping.currency, layout.implied_currency) if c}
        if "currency" in fields:
            codes = map_one(keep(fields["currency"]), currency_code, pa.string())
            currencies |= {c for c in pc.unique(codes).to_pylist() if c}
        if not currencies and src.currency:
            currencies.add(src.currency)
        self.money = _Money(
            decides_comma(mapping, point_only, comma_only, layout.delimiter),
            bool(currencies) and all(minor_units(c) == 0 for c in currencies),
        )
        if mapping and mapping.date_order:
            date_order = mapping.date_order
        elif mapping and mapping.date_formats:
            date_order = "YMD"
        else:
            date_order = order.decide(src, column_name(layout, "booking_date"))
        self.date_of = date_reader(mapping, date_order)
        if balance_cells and not balance_numbers:
            self.warnings.append(
                f"the balance column ({column_name(layout, 'balance')}) holds no numbers "
                "(masked?) and was not used"
            )
            self.cols = {k: v for k, v in self.cols.items() if k != "balance"}

    # --- pass 2: the lines -------------------------------------------------------------

    def _default_currency(self) -> str | None:
        m = self.mapping
        return (m and m.currency) or self.layout.implied_currency or self.src.currency

    def _column(self, field: str) -> pa.ChunkedArray:
        if field in self.cols and field in self.table.fields:
            return self.table.fields[field]
        return pa.chunked_array([pa.nulls(self.n, pa.string())])

    def _money_column(self, field: str, currency: pa.ChunkedArray) -> MoneyColumn:
        if field not in self.cols:
            return MoneyColumn.empty(self.n)
        out = None
        cells = self._column(field)
        for code in pc.unique(currency).to_pylist():
            if code is None:
                continue  # the row is refused for its currency first
            rows = flags(pc.equal(currency, code))
            read = cents_reader(
                self.src,
                field,
                code,
                self.money.decimal_comma,
                self.money.whole,
                bool(self.mapping and self.mapping.invert_amounts),
            )
            every = rows.all()
            some = cells if every else cells.filter(pa.array(rows))
            cents, negz, ok = map_distinct(some, read, [pa.int64(), pa.bool_(), pa.bool_()])
            read_cents = np.asarray(pc.fill_null(cents, 0).to_numpy(zero_copy_only=False))
            read_bad = present(ok) & ~flags(ok)
            if every:  # one currency: the columns as read, not copied into another
                return MoneyColumn(read_cents, present(cents), flags(negz), read_bad)
            out = out or MoneyColumn.zeros(self.n)
            out.cents[rows] = read_cents
            out.given[rows] = present(cents)
            out.negative_zero[rows] = flags(negz)
            out.bad[rows] = read_bad
        return out or MoneyColumn.empty(self.n)

    def statements(self) -> list[ParsedStatement]:
        lines_table, negative_zero, groups = self._lines()
        out = []
        for g, (name, rows, opening, closing) in enumerate(groups):
            part = lines_table if isinstance(rows, slice) else lines_table.take(pa.array(rows))
            account_id, ccy = name.split("\x1f")
            out.append(
                build_statement_table(
                    self.src,
                    source_format=NAME,
                    own_id=None,
                    account_id=account_id,
                    currency=ccy,
                    lines=part,
                    source_lines=self.table.line[rows],
                    negative_zero=negative_zero[rows],
                    opening=opening,
                    closing=closing,
                    warnings=self.warnings if g == 0 else [],  # file-level notes go on the first
                    where=f"statement for account {account_id} ({ccy})",
                    line=self.layout.header_line,
                )
            )
        return out

    def _lines(self) -> tuple[pa.Table, np.ndarray, list[_Group]]:
        """The lines' columns (LINE_FIELDS), which were read as -0.00, and the statements:
        the name (`account\\x1fcurrency`), rows, and opening and closing balances of each.
        What it takes to get there (the cells read, the masks, the money columns) is let go
        when it returns, before the statements are built."""
        src, layout, table = self.src, self.layout, self.table
        left_out = self.skipped | self._totals(self.date_of)
        default = self._default_currency()
        currency = map_one(self._column("currency"), currency_code, pa.string())
        if default:
            currency = pc.fill_null(currency, default)
        currency_bad = ~present(currency) | ~flags(
            map_one(currency, lambda c: re.fullmatch(r"[A-Z]{3}", c) is not None, pa.bool_())
        )
        money = {fld: self._money_column(fld, currency) for fld in MONEY_FIELDS}
        amount_bad = np.logical_or.reduce([m.bad for m in money.values()])
        booking = self._column("booking_date")
        no_date = ~present(booking)
        empty = no_date & ~money["amount"].given & ~money["debit"].given & ~money["credit"].given
        booked = map_one(booking, self.date_of, pa.date32())
        value = self._column("value_date")
        valued = map_one(value, self.date_of, pa.date32())
        marked = None
        if "sign" in self.cols:
            debit, credit = self.marks.debit, self.marks.credit
            kinds = map_distinct(
                self._column("sign"),
                lambda m: (m.upper() in debit, m.upper() in credit, m == ""),
                [pa.bool_()] * 3,
            )
            empty_mark = ~present(kinds[0])  # no marker: as '' (which no mark set holds)
            marked = (
                flags(kinds[0]) | (empty_mark & ("" in debit)),
                flags(kinds[1]) | (empty_mark & ("" in credit)),
                flags(kinds[2]) | empty_mark,
            )
        amounts, negative_zero, sign_bad = signed_amounts(
            money["amount"], money["debit"], money["credit"], marked
        )
        balance = money["balance"]
        del money, marked
        date_bad = ~present(booked) | (present(value) & ~present(valued))
        del booking, value
        bad = ~left_out & (currency_bad | amount_bad | (~empty & (date_bad | sign_bad)))
        if bad.any():
            self._refuse(int(np.argmax(bad)))
        for i in np.flatnonzero(left_out | empty):
            why = self._why_skipped(i) if self.skipped[i] else None
            line = table.line[i]
            if why:
                self.warnings.append(f"file line {line} was left out: {why}")
            elif left_out[i]:
                self.warnings.append(f"file line {line} is a total row and was left out")
            else:
                self.warnings.append(f"file line {line} has no date and no amount and was skipped")
        kept = ~left_out & ~empty
        if not kept.any():
            raise src.error(layout.header_line, "the file has a header but no bank lines")
        self._drop_read_cells()
        codes, names = self._statement_codes(currency, kept)
        every_row = len(names) == 1 and bool(kept.all())
        rows_kept = None if every_row else np.flatnonzero(kept)
        lines_table = pa.table(
            {
                "booking_date": booked,
                "value_date": valued,
                "amount": money_array(amounts, np.ones(self.n, bool)),
                "currency": currency,
                **{name: self._column(name) for name in _TEXT_COLUMNS},
            },
            schema=LINE_FIELDS,
        )
        groups = []
        for g, name in enumerate(names):
            rows: slice | np.ndarray = slice(None)  # one statement of every row: views
            if rows_kept is not None:
                rows = rows_kept[codes == g]
            account_id, ccy = name.split("\x1f")
            has_balances = "balance" in self.cols and balance.given[rows].all()
            opening, closing = running_balances(
                src,
                amounts[rows],
                balance.cents[rows] if has_balances else None,
                table.line[rows],
                ccy,
                f"statement for account {account_id} ({ccy})",
            )
            groups.append((name, rows, opening, closing))
        return lines_table, negative_zero, groups

    def _drop_read_cells(self) -> None:
        """Let go of the cells of the fields that are read into the lines' values (dates,
        amounts, markers, currencies) and of those `skip_rows` looks at: only the texts and
        the account are kept as they are."""
        keep = {"account_id", *_TEXT_COLUMNS}
        for fld in [f for f in self.table.fields if f not in keep]:
            del self.table.fields[fld]
        self.table.cells.clear()

    def _statement_codes(
        self, currency: pa.ChunkedArray, kept: np.ndarray
    ) -> tuple[np.ndarray, list[str]]:
        """The statement (account and currency, numbered in order of first appearance) of
        each kept row, and the statements' `account\\x1fcurrency` names; read a slice of
        rows at a time, so that no column of every row's key is made."""
        fallback = self.src.account_id or self.src.path.stem
        account = self._column("account_id")
        index: dict[str, int] = {}  # account and currency -> statement, in order of appearance
        parts = []
        for start in range(0, self.n, _KEY_ROWS):
            stop = min(start + _KEY_ROWS, self.n)
            some = pa.array(kept[start:stop])
            key = pc.binary_join_element_wise(
                pc.fill_null(account.slice(start, stop - start), fallback),
                currency.slice(start, stop - start),
                "\x1f",
            ).filter(some)
            for chunk in key.chunks:
                encoded = chunk.dictionary_encode()
                local = [index.setdefault(v, len(index)) for v in encoded.dictionary.to_pylist()]
                parts.append(np.asarray(local, np.int64)[encoded.indices.to_numpy()])
        codes = np.concatenate(parts) if parts else np.zeros(0, np.int64)
        return codes, list(index)

    def _refuse(self, i: int) -> None:
        """Refuse the file for row `i`, read on its own, with the reason and its line."""
        src, cols = self.src, self.cols
        line = int(self.table.line[i])

        def get(field: str) -> str:
            return self.table.value(field, i) if field in cols else ""

        raw_date, raw_ccy = get("booking_date"), get("currency")
        currency = currency_code(raw_ccy) if raw_ccy else self._default_currency()
        if not currency:
            raise src.error(
                self.layout.header_line if "currency" not in cols else line,
                "no currency: the file has no currency column (Currency, Währung, Devise, "
                "Moneda, 币种) and none was given for the account",
            )
        if not re.fullmatch(r"[A-Z]{3}", currency):
            raise src.error(line, f"currency {raw_ccy or currency!r} is not a currency code")
        amounts: dict[str, Decimal | None] = {}
        for fld in MONEY_FIELDS:
            raw = get(fld)
            if not raw:
                amounts[fld] = None
                continue
            no_minor = minor_units(currency) == 0 or self.money.whole
            value = to_decimal(raw, self.money.decimal_comma, whole=no_minor)
            if value is None:
                name = "amount" if fld == "amount" else f"{fld} amount"
                raise src.error(line, f"{name} {raw!r} is not a number")
            if self.mapping and self.mapping.invert_amounts and fld != "balance":
                value = -value
            amounts[fld] = money(src, line, value, fld, currency)
        if not raw_date and all(amounts[f] is None for f in ("amount", "debit", "credit")):
            raise AssertionError(f"file line {line} is not wrong")  # pragma: no cover
        if not raw_date:
            raise src.error(line, "the row has no booking date")
        if self.date_of(raw_date) is None:
            raise src.error(line, f"booking date {raw_date!r} is not a date")
        if get("value_date") and self.date_of(get("value_date")) is None:
            raise src.error(line, f"value date {get('value_date')!r} is not a date")
        mark = get("sign") if "sign" in cols else None
        signed_amount(src, line, mark, cols.get("sign", [0])[0], amounts, self.marks)
        raise AssertionError(f"file line {line} is not wrong")  # pragma: no cover
