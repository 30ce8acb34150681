"""Line items from a simple table: a header row naming the columns, rows up to the totals.

Columns come from the header words' positions (Description / Qty / Unit price / Amount,
Beschreibung / Menge / Zeilenbetrag, Désignation / Quantité / Prix unitaire / Montant,
Omschrijving / Aantal / Prijs / Bedrag, Descripción / Cantidad / Precio unitario / Importe,
货物或应税劳务名称 / 数量 / 单价 / 金额 / 税率 / 税额);
each word of a row belongs to the nearest column. A row without an amount continues the
description of the row above. The caller keeps the items only if they add up to the
invoice's net amount, so a table this reader misunderstands is dropped, not posted.

A Chinese table keeps 规格型号 and 单位, reads 数量 and 单价 with all their decimals, and
an OCR'd row of it is completed by the form's arithmetic (`_settle`): a lost 数量, a
misread 金额 or 税率 that the row's other cells agree on. Any other OCR'd row whose
quantity was lost or misread takes amount / unit price when that is a whole number
(`_settle_quantity`). A text layer is kept as printed.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal

from closeflow.money import CENT, round_money
from ocr.chinese import tidy_item_name
from ocr.layout import Line, Word, is_cjk
from ocr.model import LineItem
from ocr.normalize import find_amounts, fold, parse_rate

_COLUMNS = [
    ("tax_amount", r"\btax\s*amount\b|税\s*额"),
    ("tax_rate", r"\btax\s*rate\b|\btax\s*\(%\)|\bvat\s*%|\btaxes\b|\bmwst\.?\s*%|税\s*率"),
    (
        "unit_price",
        r"\bunit\s*price\b|\bprice\b|\beinzelpreis\b|\bvk-preis\b|\bpreis\b|单\s*价|"
        r"\bprix(?:\s*unitaire)?\b|\bprijs\b|\bprecio(?:\s*unitario)?\b|\bstukprijs\b",
    ),
    (
        "quantity",
        r"\bqty\b|\bquantity\b|\bmenge\b|\banzahl\b|数\s*量|\bquantit[ée]\b|\bqt[ée]\b|"
        r"\baantal\b|\bcantidad\b|\bcant\.",
    ),
    ("unit", r"\bunit\b|\buom\b|\beinheit\b|单\s*位"),
    ("spec", r"规\s*格\s*型\s*号|\bmodel\b"),
    (
        "amount",
        r"\bamount\b|\bline\s*total\b|\bzeilenbetrag\b|\bbetrag\b|\bgesamtpreis\b|"
        r"金\s*额|\bmontant\b|\btotal\b|\bbedrag\b|\bimporte\b",
    ),
    (
        "description",
        r"\bdescription\b|\bbeschreibung\b|\bbezeichnung\b|\bartikel\b|"
        r"\bproduct(?:\s*title)?\b|\bitem\b|\bleistung\b|货物或应税劳务(?:、服务)?名称|"
        r"项目名称|\bd[ée]signation\b|\bomschrijving\b|\bdescripci[óo]n\b|\bconcepto\b",
    ),
]
# Other Chinese headers: the 销货清单 (list of goods) of a long invoice, 全电发票, older forms
_COLUMNS_ZH = [
    ("tax_rate", r"征\s*收\s*率"),
    ("unit", r"计\s*量\s*单\s*位"),
    ("spec", r"规\s*格|型\s*号"),
    ("description", r"货物\s*[(（]\s*劳务\s*[)）]\s*名称|(?:商品|货物|服务)名称"),
]
_COLUMN_RX = [(name, re.compile(p, re.IGNORECASE)) for name, p in _COLUMNS + _COLUMNS_ZH]
_STOP_RX = re.compile(
    r"\bsub[\s-]?total|\btotal\b|\bsumme\b|\bzwischensumme\b|合\s*计|\bnet\s*amount|"
    r"\bnettobetrag|\bübertrag\b|\bcarried\s*forward|\bsous[\s-]?total|\btotaal\b|"
    r"\bsubtotaal\b|\bbase\s*imponible|\bmontant\s*h\.?t\b",
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


_PLAIN_RX = re.compile(r"-?\d{1,3}(?:,\d{3})+(?:\.\d+)?|-?\d+(?:\.\d+)?")


def _plain(text: str, last: bool = True) -> Decimal | None:
    """A quantity or unit price of a Chinese table as printed, all its decimals kept
    (单价 7.079646017699; 数量 1.235 is not 1235 as a European 1.235 would be)."""
    found = _PLAIN_RX.findall(fold(text))
    if not found:
        return None
    return Decimal((found[-1] if last else found[0]).replace(",", ""))


# The rates of Chinese VAT (增值税) and of the simplified method (征收率)
CN_RATES = tuple(Decimal(r) for r in ("0.13", "0.09", "0.06", "0.05", "0.03", "0.015", "0.01"))


def _percent(rate: Decimal) -> str:
    return f"{(rate * 100).normalize():f}"


def _settle_rate(item: LineItem) -> None:
    """A 税率 read with a digit lost ("13%" read "3%") where 金额 and 税额, which agree with
    each other, fit exactly one rate that has the digits read: that rate."""
    if item.tax_rate is None or item.tax_amount is None or item.tax_rate == 0:
        return
    if abs(item.amount * item.tax_rate - item.tax_amount) <= CENT:
        return
    fitting = [r for r in CN_RATES if abs(item.amount * r - item.tax_amount) <= CENT]
    if len(fitting) == 1 and _percent(item.tax_rate) in _percent(fitting[0]):
        item.tax_rate = fitting[0]


def _settle(item: LineItem) -> None:
    """A Chinese row read by OCR, completed by the form's own arithmetic (数量 x 单价 = 金额,
    金额 x 税率 = 税额, both to the fen): a 数量 tesseract lost (a lone "1" or "2" in its
    cell) is 金额 / 单价 when that is a whole number; a 金额 misread where 数量 x 单价 and
    税额 / 税率 agree on another value is that value; then the 税率 (`_settle_rate`).
    Anything else is left as read, for validation to name."""
    price = item.unit_price
    if price is not None and price > 0:
        places = max(-price.as_tuple().exponent, 0)
        half_unit = Decimal(5).scaleb(-places - 1)  # how far the printed 单价 may be rounded
        if item.quantity is None:
            count = (item.amount / price).to_integral_value()
            if count >= 1 and abs(count * price - item.amount) <= max(CENT, count * half_unit):
                item.quantity = count
        else:
            product = item.quantity * price
            off = abs(product - item.amount) > max(CENT, abs(item.quantity) * half_unit)
            if off and item.tax_rate is not None and item.tax_amount is not None:
                fits = abs(round_money(product) * item.tax_rate - item.tax_amount) <= CENT
                if fits and abs(item.amount * item.tax_rate - item.tax_amount) > CENT:
                    item.amount = round_money(product)
    _settle_rate(item)


def _settle_quantity(item: LineItem) -> None:
    """An OCR'd row whose quantity was lost or misread (a lone "1" read "c", a "3" read
    "8") while the amount is a whole multiple of the unit price: amount / unit price."""
    price = item.unit_price
    if price is None or price <= 0:
        return
    if item.quantity is not None and item.quantity * price == item.amount:
        return
    count = item.amount / price
    if count >= 1 and count == count.to_integral_value():
        item.quantity = count.to_integral_value()


def _join(words: list[str]) -> str:
    """A cell's words as printed: Chinese characters without the spaces between boxes."""
    out = ""
    for w in words:
        if out and not (is_cjk(out[-1]) and is_cjk(w[0])):
            out += " "
        out += w
    return out


# A Chinese VAT invoice prints 免税 / 不征税 for the rate of exempt lines and *** for their tax
_EXEMPT_RX = re.compile(r"免\s*税|不\s*征\s*税|免\s*征")


def _rate(text: str) -> Decimal | None:
    if _EXEMPT_RX.search(text):
        return Decimal(0)
    return parse_rate(text)


def _tax(text: str, rate: Decimal | None) -> Decimal | None:
    if rate == 0 and re.fullmatch(r"\s*\*+\s*", text):
        return Decimal("0.00")
    return _number(text)


def _text(cell: str | None) -> str | None:
    return (cell or "").strip() or None


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
        chinese = any(is_cjk(c) for c in lines[i].text)
        number = _plain if chinese else _number
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
            cell = {k: _join(v) for k, v in cells.items()}
            amount = _number(cell.get("amount", ""))
            description = cell.get("description", "").strip()
            if any(is_cjk(c) for c in description):
                description = tidy_item_name(description)
            if amount is None:  # a wrapped description, a note, or the end of the table
                if len(items) > first and description:
                    if not _continues(line, columns, row_height):
                        break
                    items[-1].description = f"{items[-1].description}\n{description}"
                i += 1
                continue
            row_height = line.height
            rate = _rate(cell.get("tax_rate", ""))
            items.append(
                LineItem(
                    line_no=len(items) + 1,
                    description=description,
                    quantity=number(cell.get("quantity", ""), last=False),
                    unit_price=number(cell.get("unit_price", "")),
                    amount=amount,
                    tax_rate=rate,
                    tax_amount=_tax(cell.get("tax_amount", ""), rate),
                    unit=_text(cell.get("unit")),
                    spec=_text(cell.get("spec")),
                )
            )
            if chinese and any(w.conf < 1 for w in line.words):  # OCR, not a text layer
                _settle(items[-1])
            elif any(w.conf < 1 for w in line.words):
                _settle_quantity(items[-1])
            i += 1
    return items
