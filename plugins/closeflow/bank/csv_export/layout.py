"""Where a bank CSV's table starts and which column holds what: its layout.

A bank mapping that names the file places the columns (by header name or position, and
refuses a file that lacks a column it names); otherwise the generic reader takes the
first of the first 60 lines that names a booking date and an amount (closeflow.bank.
csv_export.columns) as the header row. Lines above it (account preambles, Alipay's 24
lines) are kept only as evidence for the date order; unknown columns are ignored. The
delimiter (`;`, `,`, tab or `|`) is the one that splits the header into the most known
names.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field

from closeflow.bank import mappings as mapping_files
from closeflow.bank.csv_export.columns import is_header, map_header
from closeflow.bank.csv_export.text import HEADER_SEARCH
from closeflow.bank.mappings import BankMapping, norm
from closeflow.bank.statement import SourceFile

DELIMITERS = (";", ",", "\t", "|")


@dataclass
class Layout:
    """Where the table starts, its delimiter, and which columns hold which field."""

    index: int  # 0-based line index of the header in the file; -1: the file has none
    delimiter: str
    columns: dict[str, list[int]]  # canonical field -> column positions (0-based)
    width: int | None
    implied_currency: str | None = None
    mapping: BankMapping | None = None
    names: list[str] = field(default_factory=list)  # the header's cells

    @property
    def header_line(self) -> int:
        return self.index + 1 if self.index >= 0 else 1


def split_line(line: str, delimiter: str) -> list[str]:
    """The cells of one line (none when it is not a CSV line)."""
    try:
        return next(csv.reader([line], delimiter=delimiter))
    except (csv.Error, StopIteration):
        return []


def find_header(lines: list[str]) -> Layout | None:
    """The generic reader's layout: the first line naming a booking date and an amount."""
    for index, line in enumerate(lines[:HEADER_SEARCH]):
        best: Layout | None = None
        for delimiter in DELIMITERS:
            if delimiter not in line:
                continue
            fields = split_line(line, delimiter)
            columns, implied = map_header(fields)
            if is_header(columns) and (best is None or len(columns) > len(best.columns)):
                best = Layout(index, delimiter, columns, len(fields), implied, None, fields)
        if best is not None:
            return best
    return None


def mapping_layout(
    src: SourceFile, m: BankMapping, lines: list[str], chosen: bool
) -> Layout | None:
    """The layout `m` gives this file; None when `m` does not match it (unless `chosen`,
    when anything missing is an error naming the column)."""
    label = f"bank mapping {m.name!r} ({m.path})" if m.path else f"bank mapping {m.name!r}"
    refs = m.columns.refs()
    if not m.header:
        first = next((ln for ln in lines if ln.strip()), "")
        delimiter = m.delimiter or max(DELIMITERS, key=first.count)
        columns = {f: [r - 1 for r in rs if isinstance(r, int)] for f, rs in refs.items()}
        return Layout(-1, delimiter, columns, None, None, m, [])
    wanted = [norm(h) for h in m.match.header]
    if not chosen and not wanted:
        return None  # a mapping without match.header is used only when named
    named = [norm(r) for rs in refs.values() for r in rs if isinstance(r, str)]
    for index, line in enumerate(lines[:HEADER_SEARCH]):
        for delimiter in [m.delimiter] if m.delimiter else DELIMITERS:
            if delimiter not in line:
                continue
            cells = split_line(line, delimiter)
            have = [norm(c) for c in cells]
            need = wanted or named[:1]
            if not need or not all(w in have for w in need):
                continue
            above = "\n".join(lines[:index])
            if not chosen and not all(word in above for word in m.match.text):
                return None
            if not chosen and not all(n in have for n in named):
                return None  # a column it names is missing: not this layout
            columns: dict[str, list[int]] = {}
            for fld, rs in refs.items():
                for r in rs:
                    if isinstance(r, int):
                        if r > len(cells):
                            raise src.error(
                                index + 1,
                                f"{label}: column {r} of {fld} is beyond the header's "
                                f"{len(cells)} columns",
                            )
                        columns.setdefault(fld, []).append(r - 1)
                    elif norm(r) in have:
                        columns.setdefault(fld, []).append(have.index(norm(r)))
                    else:
                        raise src.error(
                            index + 1,
                            f"{label}: column {r!r} ({fld}) is not in the header row; "
                            f"the header has: {', '.join(c.strip() for c in cells if c.strip())}",
                        )
            return Layout(index, delimiter, columns, len(cells), None, m, cells)
    if chosen:
        need = m.match.header or [r for rs in refs.values() for r in rs if isinstance(r, str)]
        raise src.error(
            1,
            f"{label}: no header row with the columns {', '.join(map(str, need))} in the "
            f"first {HEADER_SEARCH} lines",
        )


def find_layout(src: SourceFile, lines: list[str]) -> Layout | None:
    """The layout of the file whose first lines are `lines`: the mapping the caller names,
    else the first mapping that matches, else the generic reader's; None when none does."""
    from closeflow.config import ConfigError

    try:
        if src.mapping is not None:
            chosen = mapping_files.load(src.mapping)
            return mapping_layout(src, chosen, lines, chosen=True)
        for m in mapping_files.available(src.mapping_dirs):
            found = mapping_layout(src, m, lines, chosen=False)
            if found is not None:
                return found
    except ConfigError as exc:
        raise src.error(None, f"a bank mapping cannot be used: {exc}") from exc
    return find_header(lines)


def column_name(layout: Layout, fld: str) -> str:
    """The header's name(s) of the columns holding `fld`, for messages."""
    names = [
        layout.names[i].strip() if i < len(layout.names) else f"column {i + 1}"
        for i in layout.columns.get(fld, ())
    ]
    return ", ".join(names) or fld
