"""The rows of a bank CSV below its header, as a stream, and the rows left out of it.

A row's cells are read with the layout's delimiter; blank rows and a separator line after
the table are passed over, trailing empty cells dropped, and a row of another width than
the header is refused, naming its line. Left out, each with a warning, are total rows
(人民币合计, Total, Summe) and the rows a mapping's `skip_rows` names (Alipay's 交易关闭, a
closed trade that moved no money). A cell of `-` is empty.
"""

from __future__ import annotations

import csv
import re
from array import array
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from closeflow.bank.csv_export.columns import TEXT_FIELDS
from closeflow.bank.csv_export.layout import Layout
from closeflow.bank.csv_export.text import Text
from closeflow.bank.mappings import norm
from closeflow.bank.statement import SourceFile

EMPTY = {"-", "--", "—", "/", "N/A", "n/a"}
TOTAL = re.compile(r"合计|总计|小计|\btotals?\b|\bsumme\b|\bgesamt|\btotaal\b|sous total", re.I)


@dataclass
class Row:
    """One row: the file line it starts on, and its cells."""

    line: int
    cells: list[str]

    def get(self, columns: dict[str, list[int]], field: str) -> str:
        """The field's value: the first filled column of it (texts: all, joined)."""
        return field_value(self.cells, columns.get(field, ()), field)


def field_value(cells: list[str], positions: Sequence[int], field: str) -> str:
    """The value of `field` in a row's `cells`: the first filled of its columns at
    `positions` (texts: all, joined), whitespace squashed; a cell of `-` is empty."""
    values = []
    for i in positions:
        v = " ".join(cells[i].split()) if i < len(cells) else ""
        if v in EMPTY and field != "sign":
            v = ""
        if v and v not in values:
            if field not in TEXT_FIELDS:
                return v
            values.append(v)
    return " ".join(values)


def rows(src: SourceFile, text: Text, layout: Layout) -> Iterator[Row]:
    """The rows below the header, with their file line, read from `text` as a stream."""
    start = layout.index + 1
    reader = csv.reader(text.lines(start), delimiter=layout.delimiter)
    width = layout.width
    while True:
        line = start + reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise src.error(line, f"the row cannot be read as CSV ({exc})") from exc
        if not any(c.strip() for c in cells):
            continue
        if cells[0].strip()[:3] in ("---", "===", "***") and not any(c.strip() for c in cells[1:]):
            continue  # a separator line after the table
        if width is None:
            width = len(cells)
        while len(cells) > width and not cells[-1].strip():
            cells = cells[:-1]
        if len(cells) < width and layout.mapping is not None and len(cells) > 1:
            cells = cells + [""] * (width - len(cells))
        if len(cells) != width and any(TOTAL.search(c) for c in cells):
            cells = (cells + [""] * width)[:width]  # a total row: recognised and left out later
        if len(cells) != width:
            raise src.error(
                line,
                f"the row has {len(cells)} fields but the header has {width}; "
                f"is a {layout.delimiter!r} inside a value not quoted?",
            )
        yield Row(line, cells)


def skip_rules(src: SourceFile, layout: Layout) -> list[tuple[int, set[str], str]]:
    """The mapping's `skip_rows`: (column position, values, column name) each."""
    m = layout.mapping
    if m is None or not m.skip_rows:
        return []
    have = [norm(c) for c in layout.names]
    rules = []
    for column, values in m.skip_rows.items():
        if norm(column) not in have:
            raise src.error(
                layout.header_line,
                f"bank mapping {m.name!r}: skip_rows column {column!r} is not in the header row",
            )
        rules.append((have.index(norm(column)), {" ".join(v.split()) for v in values}, column))
    return rules


def is_total(row: Row, cols: dict[str, list[int]], read_date: Callable[[str], object]) -> bool:
    """A total row: no readable booking date, and a cell naming a total."""
    raw = row.get(cols, "booking_date")
    return (not raw or read_date(raw) is None) and any(TOTAL.search(c) for c in row.cells)


_CHUNK_ROWS = 65_536


def _strings(values: list[str | None]) -> pa.Array:
    """`values` as an Arrow string array whose buffers are exactly their size (Arrow's
    builder would leave up to twice that in its memory pool, kept after it is freed)."""
    encoded = [v.encode() if v is not None else b"" for v in values]
    offsets = np.zeros(len(encoded) + 1, np.int32)
    np.cumsum(np.fromiter(map(len, encoded), np.int64, len(encoded)), out=offsets[1:])
    data = b"".join(encoded)
    del encoded
    given = np.fromiter((v is not None for v in values), bool, len(values))
    validity = None if given.all() else _pooled(np.packbits(given, bitorder="little"))
    return pa.Array.from_buffers(
        pa.string(), len(values), [validity, _pooled(offsets), _pooled(data)]
    )


def _pooled(data: bytes | np.ndarray) -> pa.Buffer:
    """`data` copied into a buffer of exactly its size in Arrow's memory pool: the cells of
    a field are dropped once read (closeflow.bank.csv_export.reader), and memory freed there
    is used again for the lines' Arrow columns, where freed Python memory would not be."""
    raw = memoryview(data).cast("B")
    buffer = pa.allocate_buffer(len(raw))
    memoryview(buffer).cast("B")[:] = raw
    return buffer


@dataclass
class RowColumns:
    """The rows below the header as columns: each row's file line, each field's value (as
    `Row.get` gives it; null when empty), the cells a mapping's `skip_rows` looks at, and
    whether a cell of the row names a total. Only the fields the layout places are kept,
    a chunk of rows at a time as Arrow strings: no Python object per row survives."""

    line: np.ndarray
    fields: dict[str, pa.ChunkedArray]
    cells: dict[int, pa.ChunkedArray]
    total: np.ndarray

    def __len__(self) -> int:
        return len(self.line)

    def value(self, field: str, i: int) -> str:
        """Row `i`'s value of `field` ('' when empty or not placed)."""
        column = self.fields.get(field)
        return (column[i].as_py() or "") if column is not None else ""


def read_columns(
    src: SourceFile, text: Text, layout: Layout, cell_positions: Sequence[int] = ()
) -> RowColumns:
    """Every row of the file (as `rows` reads them) into columns."""
    cols = layout.columns
    names = list(cols)
    lists: list[list[str | None]] = [[] for _ in names]
    cell_lists: list[list[str]] = [[] for _ in cell_positions]
    chunks: list[list[pa.Array]] = [[] for _ in names]
    cell_chunks: list[list[pa.Array]] = [[] for _ in cell_positions]
    lines = array("q")  # compact: 8 bytes a row, not an int object
    totals = bytearray()

    def flush() -> None:
        for values, out in zip(lists, chunks, strict=True):
            out.append(_strings(values))
            values.clear()
        for values, out in zip(cell_lists, cell_chunks, strict=True):
            out.append(_strings(values))
            values.clear()

    specs = [(cols[name], name, values) for name, values in zip(names, lists, strict=True)]
    cell_specs = list(zip(cell_positions, cell_lists, strict=True))
    for n, row in enumerate(rows(src, text, layout), start=1):
        cells = row.cells
        for positions, name, values in specs:
            values.append(field_value(cells, positions, name) or None)
        for i, values in cell_specs:
            values.append(" ".join(cells[i].split()))
        lines.append(row.line)
        totals.append(TOTAL.search("\x1f".join(cells)) is not None)  # as any(cell matches)
        if n % _CHUNK_ROWS == 0:
            flush()
    flush()
    return RowColumns(
        np.frombuffer(lines, np.int64) if lines else np.zeros(0, np.int64),
        {name: pa.chunked_array(c, pa.string()) for name, c in zip(names, chunks, strict=True)},
        {
            i: pa.chunked_array(c, pa.string())
            for i, c in zip(cell_positions, cell_chunks, strict=True)
        },
        np.frombuffer(bytes(totals), bool) if totals else np.zeros(0, bool),
    )
