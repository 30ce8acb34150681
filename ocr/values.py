"""Values read from the text after a label, one parser per kind of value (id, tax id,
IBAN, payment reference, name, digits, Chinese invoice number, currency code, amount),
and how sure a reading is (`Found`).

Each parser takes the text where a value may be and returns the value with the span it
was read from, or None. OCR's look-alikes are put right where an id's shape says which
one is meant (`repair`); a repair no check character proves leaves the id doubtful
(REPAIRED_CONFIDENCE). On a Chinese form the yuan sign OCR reads as "Y", "*Y" or "半" is
taken for "¥"; on a European one, "€" read as "C" or "e" before an amount is put right.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from ocr.labels import BUYER_MARKERS, LABELS, SUPPLIER_MARKERS, TITLE_RX, Label
from ocr.layout import Word, is_cjk
from ocr.normalize import (
    IdRepair,
    compact,
    find_amounts,
    find_dates,
    iban_fits_registry,
    iban_is_valid,
    repair_invoice_number,
    repair_tax_id,
)

SEPARATORS = " \t:：;；.=-–|>"  # ";" and "；": how OCR reads some colons


@dataclass
class Found:
    """One field value and how sure we are of it."""

    value: object
    conf: float
    weight: float = 1.0
    line: int = 0
    pos: int = 0
    currency: str | None = None  # amounts: currency printed next to it
    parts: int = 1  # amounts: how many printed amounts were added up (one tax per rate)
    column: int | None = None  # amounts read in a header row's column: that row's line


def conf_of(words: list[Word], weight: float) -> float:
    base = min((w.conf for w in words), default=0.0)
    return round(max(0.0, min(1.0, base * weight)), 3)


_ID_RX = re.compile(r"(#\s*)?([A-Za-z0-9][A-Za-z0-9/_.\-]*[A-Za-z0-9]|[0-9]{1,2})")


def parse_id(text: str) -> tuple[str, int, int] | None:
    """An invoice number: the first token with a digit that is not an amount or date."""
    stripped = text.lstrip(SEPARATORS)  # "#" stays: "No. # BLR_1" is printed "#BLR_1"
    offset = len(text) - len(stripped)
    m = _ID_RX.match(stripped)
    if not m:
        return None
    token = m.group(2)
    if not any(c.isdigit() for c in token) or len(token) < 2:
        return None
    if re.fullmatch(r"\d{1,3}(?:[.,]\d{3})*[.,]\d{2}", token) or find_dates(token):
        return None
    value = ("#" if m.group(1) else "") + token
    return value, offset + m.start(), offset + m.end()


def parse_ref(text: str) -> tuple[str, int, int] | None:
    stripped = text.lstrip(SEPARATORS)
    offset = len(text) - len(stripped)
    m = re.match(r"RF\d{2}(?:\s?[0-9A-Z]{1,4})+", stripped)
    if m:
        return compact(m.group(0)), offset, offset + m.end()
    return parse_id(text)


_USCC_OCR_FIXES = str.maketrans("OISZ", "0152")  # letters a USCC never contains


def parse_taxid(text: str) -> tuple[str, int, int] | None:
    stripped = text.lstrip(SEPARATORS)
    offset = len(text) - len(stripped)
    m = re.match(r"(?:[A-Z]{2}\s?)?[0-9A-Z](?:[0-9A-Z]|[ ./-](?=[0-9A-Z])){5,24}", stripped)
    if not m:
        return None
    value = re.sub(r"[\s.]", "", m.group(0)).upper()
    if sum(c.isdigit() for c in value) < 5 or not 8 <= len(value) <= 20:
        return None
    if len(value) == 18 and value[:2].isdigit():  # a unified social credit code
        value = value.translate(_USCC_OCR_FIXES)
    return value, offset, offset + m.end()


_CHECK_DIGIT_MISREADS = str.maketrans("OoIlSBZ", "0011582")


def parse_iban(text: str) -> tuple[str, int, int] | None:
    stripped = text.lstrip(SEPARATORS)
    offset = len(text) - len(stripped)
    # OCR may put a speck before it ("ı.DEI2") and read a space between groups as "."
    m = re.match(
        r"[^A-Za-z0-9\s]{0,2}([A-Z]{2}[\dOoIlSBZ]{2}(?:[ .]{0,3}[A-Za-z0-9]){11,34})", stripped
    )
    if not m:
        return None
    raw = compact(m.group(1).replace(".", "").replace(" ", ""))
    # check digits are digits: a letter there is a misread with only one reading
    value = raw[:2] + raw[2:4].translate(_CHECK_DIGIT_MISREADS) + raw[4:]
    if iban_fits_registry(value):  # its country's length: nothing ran into it
        return value, offset, offset + m.end()
    for n in range(len(value), 14, -1):  # text after the IBAN may have run into it
        if iban_is_valid(value[:n]):
            return value[:n], offset, offset + m.end()
    return value, offset, offset + m.end()


def is_label(text: str) -> bool:
    """True if `text` starts with a label or party marker rather than a value."""
    return any(rx.match(text) for rx in (BUYER_MARKERS, SUPPLIER_MARKERS, TITLE_RX)) or any(
        lb.rx.match(text) for lb in LABELS if lb.after is None
    )


def parse_name(text: str) -> tuple[str, int, int] | None:
    stripped = text.lstrip(SEPARATORS)
    offset = len(text) - len(stripped)
    cell = re.split(r"\s{3,}", stripped, maxsplit=1)[0]
    cell = re.sub(r"^(?:attn|z\.?\s*hd\.?)[:.]?\s*", "", cell, flags=re.IGNORECASE)
    value = cell.strip(" ,;:|")
    letters = sum(1 for c in value if c.isalpha() or is_cjk(c))
    if letters < 2 or value.startswith("(") or sum(c.isdigit() for c in value) > letters:
        return None
    if is_label(value):
        return None
    if any(is_cjk(c) for c in value):  # Chinese names: full-width brackets, no spaces
        value = re.sub(r"\s*([()（）])\s*", r"\1", value).replace("(", "（").replace(")", "）")
    start = offset + stripped.index(value[0])
    return value, start, start + len(value)


def parse_digits(text: str) -> tuple[str, int, int] | None:
    """A number printed as digits, maybe in groups ("23238 63613 14861 66204"): the digits."""
    m = re.match(r"[\s:：;；.]*([0-9](?:[0-9A-Z]| (?=[0-9A-Z]))*)", text)
    if not m:
        return None
    return m.group(1).replace(" ", ""), m.start(1), m.end(1)


CN_NUMBER_DIGITS = (8, 20)  # 发票号码: 8 digits on the paper form, 20 on a fully digital one


def parse_cn_number(text: str) -> tuple[str, int, int] | None:
    """A 发票号码: its digits even where OCR split them ("05528 162"), if that gives one of
    the lengths the number has; else read as any invoice number."""
    digits = parse_digits(text)
    if digits is not None and digits[0].isdigit() and len(digits[0]) in CN_NUMBER_DIGITS:
        return digits
    return parse_id(text)


def parse_code(text: str) -> tuple[str, int, int] | None:
    """A currency printed as its ISO code; a code OCR misread stays as read (`_read` puts
    it right where one look-alike letter gives a code, doubtfully)."""
    m = re.match(r"[\s:：]*([A-Z]{3})\b", text)  # printed as a code, not a word
    if not m:
        return None
    return m.group(1).upper(), m.start(1), m.end(1)


def parse_amount(text: str, label: Label) -> tuple[Decimal, str | None, int, int] | None:
    amounts = find_amounts(text)
    money = [a for a in amounts if a.has_decimals or a.currency]
    if not money:
        if len(amounts) != 1:
            return None
        money = amounts
    if len(money) < label.min_amounts:
        return None
    chosen = money[0] if label.pick == "first" else money[-1]
    return chosen.value, chosen.currency, chosen.start, chosen.end


# How OCR reads the yuan sign of a Chinese form: "Y14,265.26", "*Y", "“YY", "半 13,457.80".
_YUAN_MISREAD_RX = re.compile(r"(?<![A-Za-z])[*“”\"'‘’#]{0,2}(?:Y{1,2}|¥|半|关|羊)(?=\s?\d)")


def yuan_misreads(text: str) -> str:
    """`text` of a line with Chinese on it, each misread yuan sign as "¥" (same length)."""
    return _YUAN_MISREAD_RX.sub(lambda m: " " * (len(m.group(0)) - 1) + "¥", text)


# How OCR reads a "€" glued to its amount: "E1.448,07", "1.448,07E" (never a word).
_EURO_MISREAD_RX = re.compile(
    r"(?<![A-Za-z0-9])E(?=\d{1,3}(?:[.,]\d{3})*[.,]\d{2}(?![\d.,]))|(?<=\d[.,]\d{2})E(?![A-Za-z0-9])"
)


def euro_misreads(text: str) -> tuple[str, list[int]]:
    """`text` of an OCR'd line with each "E" glued to an amount as "€" (same length), and
    where they were."""
    at = [m.start() for m in _EURO_MISREAD_RX.finditer(text)]
    for i in at:
        text = text[:i] + "€" + text[i + 1 :]
    return text, at


REPAIRED_CONFIDENCE = 0.5  # an OCR'd id whose look-alikes were put right without proof
# An OCR'd number of digits behind one letter that OCR also makes of a digit: "A71113" may
# be 471113 (A/4, S/5, B/8, Z/2, G/6, T/7). Left as read, but doubtful.
LOOKALIKE_PREFIX_RX = re.compile(r"[ASBZGT]\d{4,}")
# An IBAN its country's format and check digits prove (ocr.normalize.iban_is_proven): read
# right, however unsure tesseract was of a glyph ("DEO8" for "DE08", a check digit read
# as a letter, is the usual doubt on a scan).
PROVEN_CONFIDENCE = 0.9
DATE_UNITS_RX = re.compile(r"[年月日号]+")  # the units of 2026年01月07日: no value in them


def repair(kind: str, value: str, ocr: bool) -> IdRepair | None:
    """The look-alike repair of an OCR'd id (never of a text layer's), if it has one."""
    if not ocr:
        return None
    if kind == "taxid":
        return repair_tax_id(value)
    if kind in ("id", "cn_number"):
        return repair_invoice_number(value)
    return None
