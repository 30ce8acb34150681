"""The dates of a bank CSV, and their order (day or month first) decided from the whole file.

Dates are read as ISO, `20240131`, `2024年1月31日`, `31 Jan 2024`, day.month.year (no
locale writes the month first with dots), and day/month/year or month/day/year with `/`
or `-`. The order is decided from the whole file: an order that cannot read a date (a day
above 12 anywhere, in any date column or in the preamble's statement period) is out; when
day-first and month-first both read every date differently, the one whose dates all fall
in the statement period given above the header wins, else the one in which the booking
dates run in order (oldest or newest first); when nothing decides, the file is refused
with the reason. A mapping may name the format (`date_format`) or the order instead.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from closeflow.bank.csv_export.distinct import flags, integers, map_one, present
from closeflow.bank.mappings import BankMapping, norm
from closeflow.bank.statement import SourceFile

_MONTHS = {
    name: n
    for n, names in enumerate(
        (
            ("jan", "january", "januar", "janvier", "enero", "gennaio", "januari"),
            ("feb", "february", "februar", "fevrier", "febrero", "febbraio", "februari"),
            ("mar", "march", "marz", "maerz", "mars", "marzo", "maart", "mrt"),
            ("apr", "april", "avril", "abril", "aprile"),
            ("may", "mai", "mayo", "maggio", "mei"),
            ("jun", "june", "juni", "juin", "junio", "giugno"),
            ("jul", "july", "juli", "juillet", "julio", "luglio"),
            ("aug", "august", "aout", "agosto", "augustus"),
            ("sep", "sept", "september", "septembre", "septiembre", "settembre"),
            ("oct", "october", "oktober", "octobre", "octubre", "ottobre", "okt"),
            ("nov", "november", "novembre", "noviembre"),
            ("dec", "december", "dezember", "decembre", "diciembre", "dicembre", "dez"),
        ),
        start=1,
    )
    for name in names
}

ORDERS = ("YMD", "DMY", "MDY")
_NUMERIC_DATE = re.compile(r"(\d{1,4})([./-])(\d{1,2})\2(\d{1,4})(?:[ T,].*)?")
_CJK_DATE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?(?:\s.*)?")
_COMPACT_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})(?:[ T]?\d{2}:?\d{2}(?::?\d{2})?.*)?")
_NAMED_DMY = re.compile(r"(\d{1,2})[ ./-]+([^\W\d_]{3,9})\.?[ ./,-]+(\d{2,4})(?:\s.*)?")
_NAMED_MDY = re.compile(r"([^\W\d_]{3,9})\.?[ ./-]+(\d{1,2}),?[ ./-]+(\d{2,4})(?:\s.*)?")
DATE_TOKEN = re.compile(r"\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}|\d{1,4}[./-]\d{1,2}[./-]\d{1,4}")


def _year(text: str) -> int:
    return int(text) + (2000 if len(text) == 2 else 0)


def read_date(raw: str, order: str) -> dt.date | None:
    """`raw` as a date when the day, month and year are in `order` (order does not matter
    for ISO-like, compact, Chinese and month-name dates)."""
    text = raw.strip()
    try:
        if m := _COMPACT_DATE.fullmatch(text):
            return dt.date(int(m[1]), int(m[2]), int(m[3]))
        if m := _CJK_DATE.fullmatch(text):
            return dt.date(int(m[1]), int(m[2]), int(m[3]))
        if m := _NUMERIC_DATE.fullmatch(text):
            a, sep, b, c = m[1], m[2], m[3], m[4]
            if len(a) == 4:
                return dt.date(int(a), int(b), int(c)) if len(c) <= 2 else None
            if len(c) not in (2, 4) or len(a) > 2:
                return None
            if order == "DMY":
                return dt.date(_year(c), int(b), int(a))
            if order == "MDY" and sep != ".":  # no locale writes month.day.year
                return dt.date(_year(c), int(a), int(b))
            return None
        if m := _NAMED_DMY.fullmatch(text):
            month = _MONTHS.get(norm(m[2]))
            return dt.date(_year(m[3]), month, int(m[1])) if month else None
        if m := _NAMED_MDY.fullmatch(text):
            month = _MONTHS.get(norm(m[1]))
            return dt.date(_year(m[3]), month, int(m[2])) if month else None
    except ValueError:
        return None
    return None


@dataclass
class _OrderState:
    read: int = 0
    failed: int = 0
    previous: dt.date | None = None
    ascending: bool = True
    descending: bool = True
    dates_min: dt.date | None = None
    dates_max: dt.date | None = None


class DateOrder:
    """Decides, from every date of the file, whether it writes day or month first."""

    def __init__(self) -> None:
        self.states = {o: _OrderState() for o in ORDERS}
        self.differ: tuple[int, str] | None = None  # first date the orders read apart
        self.period: list[str] = []

    def feed(self, raw: str, line: int, booking: bool) -> None:
        readings = {}
        for order, st in self.states.items():
            d = read_date(raw, order)
            if d is None:
                st.failed += 1
                continue
            st.read += 1
            readings[order] = d
            if booking:
                if st.previous is not None:
                    st.ascending &= d >= st.previous
                    st.descending &= d <= st.previous
                st.previous = d
                st.dates_min = min(st.dates_min or d, d)
                st.dates_max = max(st.dates_max or d, d)
        if self.differ is None and len(set(readings.values())) > 1:
            self.differ = (line, raw.strip())

    def feed_rows(
        self, booking: pa.ChunkedArray | None, value: pa.ChunkedArray | None, lines: np.ndarray
    ) -> None:
        """`feed` of every row's booking date then value date (null: none), read column by
        column, once per distinct value; the rows are at file `lines`."""
        first: tuple[int, int, str] | None = None  # (row, 0 booking / 1 value, raw)
        for rank, (column, is_booking) in enumerate(((booking, True), (value, False))):
            if column is None:
                continue
            given = present(column)
            for order, st in self.states.items():
                dates = map_one(column, lambda raw, o=order: read_date(raw, o), pa.date32())
                read = present(dates)
                st.read += int(read.sum())
                st.failed += int((given & ~read).sum())
                if not is_booking or not read.any():
                    continue
                days = integers(dates, pa.int32())[read]
                if st.previous is not None:
                    days = np.concatenate(([_days(st.previous)], days))
                steps = np.diff(days)
                st.ascending &= bool((steps >= 0).all())
                st.descending &= bool((steps <= 0).all())
                st.previous = _date(int(days[-1]))
                low, high = _date(int(days.min())), _date(int(days.max()))
                st.dates_min = min(st.dates_min or low, low)
                st.dates_max = max(st.dates_max or high, high)
            differ = flags(map_one(column, _orders_differ, pa.bool_()))
            if self.differ is None and differ.any():
                row = int(np.argmax(differ))
                if first is None or (row, rank) < first[:2]:
                    first = (row, rank, column[row].as_py())
        if self.differ is None and first is not None:
            self.differ = (int(lines[first[0]]), first[2].strip())

    def _in_period(self, order: str) -> bool:
        """Whether, read in `order`, every booking date is within the period above the
        header (False when there is no period, or it does not read in `order`)."""
        ends = [read_date(p, order) for p in self.period]
        st = self.states[order]
        if len(ends) < 2 or None in ends or st.dates_min is None:
            return False
        return min(ends) <= st.dates_min and st.dates_max <= max(ends)

    def decide(self, src: SourceFile, column: str) -> str:
        full = [o for o, st in self.states.items() if st.failed == 0 and st.read]
        if not full:  # the best reader; rows it cannot read are refused one by one
            return max(ORDERS, key=lambda o: self.states[o].read)
        if len(full) == 1 or self.differ is None or not ({"DMY", "MDY"} <= set(full)):
            return full[0]
        inside = [o for o in ("DMY", "MDY") if self._in_period(o)]
        if len(inside) == 1:  # the statement period above the header
            return inside[0]
        ordered = [
            o for o in ("DMY", "MDY") if self.states[o].ascending or self.states[o].descending
        ]
        if len(ordered) == 1:  # booking dates that run in order one way only
            return ordered[0]
        line, raw = self.differ
        raise src.error(
            line,
            f"the dates ({column}) can be read day first or month first ({raw!r}: "
            f"{read_date(raw, 'DMY'):%d %B %Y} or {read_date(raw, 'MDY'):%d %B %Y}), and "
            "nothing in the file decides: no day above 12, no statement period, and the "
            "dates are in order either way"
            + ("" if ordered else " or in neither")
            + "; give the format in a bank mapping (date_order: DMY or MDY)",
        )


_EPOCH = dt.date(1970, 1, 1)


def _days(day: dt.date) -> int:
    return (day - _EPOCH).days


def _date(days: int) -> dt.date:
    return _EPOCH + dt.timedelta(days=days)


def _orders_differ(raw: str) -> bool:
    """Whether the orders that read `raw` read it as different dates."""
    return len({d for o in ORDERS if (d := read_date(raw, o)) is not None}) > 1


def date_reader(mapping: BankMapping | None, order: str) -> Callable[[str], dt.date | None]:
    """A reader of the file's dates: the mapping's formats (strptime), else `order`."""
    formats = mapping.date_formats if mapping else []

    def read(raw: str) -> dt.date | None:
        text = raw.strip()
        for fmt in formats:
            try:
                return dt.datetime.strptime(text, fmt).date()
            except ValueError:
                continue
        return None if formats else read_date(text, order)

    return read
