"""Line items from a simple table: a header row naming the columns, rows up to the totals.

Columns come from the header words' positions (Description / Qty / Unit price / Amount,
Beschreibung / Menge / Zeilenbetrag, 货物或应税劳务名称 / 数量 / 单价 / 金额 / 税率 / 税额);
each word of a row belongs to the nearest column. A row without an amount continues the
description of the row above. The caller keeps the items only if they add up to the
invoice's net amount, so a table this reader misunderstands is dropped, not posted.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal

from ocr.layout import Line, Word
from ocr.model import LineItem
from ocr.normalize import find_amounts, fold, parse_rate

_COLUMNS = [
    ("tax_amount", r"\btax\s*amount\b|税\s*额"),
    ("tax_rate", r"\btax\s*rate\b|\btax\s*\(%\)|\bvat\s*%|\btaxes\b|\bmwst\.?\s*%|税\s*率"),
    (
        "unit_price",
        r"\bunit\s*price\b|\bprice\b|\beinzelpreis\b|\bvk-preis\b|\bpreis\b|单\s*价|"
        r"\bprix\b",
    ),
    ("quantity", r"\bqty\b|\bquantity\b|\bmenge\b|\banzahl\b|数\s*量|\bquantité\b"),
    ("unit", r"\bunit\b|\buom\b|\beinheit\b|单\s*位"),  # read past, not kept
    ("spec", r"规\s*格\s*型\s*号|\bmodel\b"),  # read past, not kept
    (
        "amount",
        r"\bamount\b|\bline\s*total\b|\bzeilenbetrag\b|\bbetrag\b|\bgesamtpreis\b|"
        r"金\s*额|\bmontant\b|\btotal\b",
    ),
    (
        "description",
        r"\bdescription\b|\bbeschreibung\b|\bbezeichnung\b|\bartikel\b|"
        r"\bproduct(?:\s*title)?\b|\bitem\b|\bleistung\b|货物或应税劳务(?:、服务)?名称|"
        r"项目名称|\bdésignation\b",
    ),
]
_COLUMN_RX = [(name, re.compile(p, re.IGNORECASE)) for name, p in _COLUMNS]
_STOP_RX = re.compile(
    r"\bsub[\s-]?total|\btotal\b|\bsumme\b|\bzwischensumme\b|合\s*计|\bnet\s*amount|"
    r"\bnettobetrag|\bübertrag\b|\bcarried\s*forward",
    re.IGNORECASE,
)


@dataclass
class _Column:
    name: str
    x0: float
    x1: float


def _header(line: Line) -> list[_Column] | None:
    text = fold(line.text)
    taken: list[tuple[int, int]] = []
    columns = []
    for name, rx in _COLUMN_RX:
        for m in rx.finditer(text):
            if any(a < m.end() and m.start() < b for a, b in taken):
                continue
            if any(c.name == name for c in columns):
                continue
            words = line.words_in(m.start(), m.end())
            taken.append((m.start(), m.end()))
            columns.append(_Column(name, min(w.x0 for w in words), max(w.x1 for w in words)))
    names = {c.name for c in columns}
    if "amount" not in names or "description" not in names or len(columns) < 3:
        return None
    return sorted(columns, key=lambda c: c.x0)


def _column_of(word: Word, columns: list[_Column]) -> str:
    """The column a row's word sits in: the description's span, else the nearest header."""
    k = next(i for i, c in enumerate(columns) if c.name == "description")
    left = columns[k - 1].x1 if k > 0 else -math.inf
    right = columns[k + 1].x0 if k + 1 < len(columns) else math.inf
    if left + 2 <= word.x0 and word.x1 <= right - 2:
        return "description"  # a description runs from the column before to the next

    def distance(c: _Column) -> float:
        if c.x0 <= (word.x0 + word.x1) / 2 <= c.x1:
            return 0.0
        return min(
            abs(word.x1 - c.x1), abs(word.x0 - c.x0), abs(word.x0 - c.x1), abs(word.x1 - c.x0)
        )

    nearest = min(columns, key=distance)
    return nearest.name if distance(nearest) <= 2 * word.height else "other"


def _number(text: str, last: bool = True) -> Decimal | None:
    amounts = find_amounts(text)
    if not amounts:
        return None
    return (amounts[-1] if last else amounts[0]).value


def _continues(line: Line, columns: list[_Column], row_height: float) -> bool:
    """A line that wraps the description above: same type size, starts in its column."""
    same_size = abs(line.height - row_height) <= 0.2 * row_height
    return same_size and _column_of(line.words[0], columns) == "description"


def line_items(lines: list[Line]) -> list[LineItem]:
    """Items of every table found in `lines` (a table may continue on the next page)."""
    items: list[LineItem] = []
    i = 0
    while i < len(lines):
        columns = _header(lines[i])
        if columns is None:
            i += 1
            continue
        page, height = lines[i].page, lines[i].height
        bottom = lines[i].y1
        first = len(items)
        row_height = height
        i += 1
        while i < len(lines) and lines[i].page == page:
            line = lines[i]
            if _STOP_RX.search(fold(line.text)) or _header(line) is not None:
                break
            if len(items) > first and line.y0 - bottom > 4 * height:
                break
            bottom = line.y1
            cells: dict[str, list[str]] = {}
            for w in line.words:
                cells.setdefault(_column_of(w, columns), []).append(w.text)
            cell = {k: " ".join(v) for k, v in cells.items()}
            amount = _number(cell.get("amount", ""))
            description = cell.get("description", "").strip()
            if amount is None:  # a wrapped description, a note, or the end of the table
                if len(items) > first and description:
                    if not _continues(line, columns, row_height):
                        break
                    items[-1].description = f"{items[-1].description}\n{description}"
                i += 1
                continue
            row_height = line.height
            items.append(
                LineItem(
                    line_no=len(items) + 1,
                    description=description,
                    quantity=_number(cell.get("quantity", ""), last=False),
                    unit_price=_number(cell.get("unit_price", "")),
                    amount=amount,
                    tax_rate=parse_rate(cell.get("tax_rate", "")),
                    tax_amount=_number(cell.get("tax_amount", "")),
                )
            )
            i += 1
    return items
