"""XML element text into typed values: text, decimals, dates, codes.

Shared by the CII and UBL readers. A value that is absent or does not parse is None: the
checks every invoice goes through (ocr.validate) then say what is missing.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

from lxml import etree


def first(node: etree._Element | None, path: str, ns: dict[str, str]) -> etree._Element | None:
    """The first element at `path` below `node`, or None."""
    if node is None:
        return None
    found = node.xpath(path, namespaces=ns)
    return found[0] if found else None


def text(el: etree._Element | None) -> str | None:
    """The element's text, stripped at both ends (inner line breaks kept), or None."""
    if el is None or el.text is None:
        return None
    value = el.text.strip()
    return value or None


def decimal(el: etree._Element | None) -> Decimal | None:
    """A decimal number ("1190.00", "-8.79", "300"); a decimal comma is accepted where
    there is no point, as some producers write one."""
    value = text(el)
    if value is None:
        return None
    if "," in value and "." not in value:
        value = value.replace(",", ".")
    value = value.replace(" ", "")
    try:
        number = Decimal(value)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _date_text(value: str, fmt: str | None) -> dt.date | None:
    value = value.strip()
    try:
        if fmt in (None, "102") and re.fullmatch(r"\d{8}", value):
            return dt.datetime.strptime(value, "%Y%m%d").date()
        if fmt == "203" and re.fullmatch(r"\d{12}", value):  # CCYYMMDDHHMM
            return dt.datetime.strptime(value[:8], "%Y%m%d").date()
        if fmt is None and re.fullmatch(r"\d{4}-\d{2}-\d{2}.*", value):
            return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None
    return None  # 610 (a month), 616 (a week) or unknown: not a day


def cii_date(el: etree._Element | None) -> dt.date | None:
    """A CII date: the DateTimeString (udt or qdt) inside `el`, by its format (102:
    CCYYMMDD, 203: CCYYMMDDHHMM)."""
    if el is None:
        return None
    found = el.xpath("*[local-name()='DateTimeString']")
    string = found[0] if found else el
    value = text(string)
    return None if value is None else _date_text(value, string.get("format"))


def iso_date(el: etree._Element | None) -> dt.date | None:
    """A UBL date (xs:date: 2026-01-31, perhaps with a time zone)."""
    value = text(el)
    return None if value is None else _date_text(value, None)


def flag(el: etree._Element | None) -> bool | None:
    """An indicator ("true" / "false"), directly or in a udt:Indicator inside `el`."""
    if el is None:
        return None
    found = el.xpath("*[local-name()='Indicator']")
    value = text(found[0] if found else el)
    if value is None:
        return None
    return {"true": True, "false": False}.get(value.lower())


def all_text(root: etree._Element) -> str:
    """Every text of the document, one per line."""
    return "\n".join(t.strip() for t in root.itertext() if t.strip())
