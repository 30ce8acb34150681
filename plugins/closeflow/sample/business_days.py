"""The sample company's calendar: business days, office hours, the generated range.

A business day is Monday to Friday except the German nationwide public holidays; the
same calendar serves the inbox (documents arrive on business days) and the banks
(statements are produced on business days). Times are Europe/Berlin.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from functools import cache
from zoneinfo import ZoneInfo

BERLIN = ZoneInfo("Europe/Berlin")


def easter_sunday(year: int) -> dt.date:
    """Gregorian Easter Sunday (anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    ell = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ell) // 451
    month, day = divmod(h + ell - 7 * m + 114, 31)
    return dt.date(year, month, day + 1)


@cache
def german_holidays(year: int) -> frozenset[dt.date]:
    """Public holidays observed in every German state."""
    easter = easter_sunday(year)
    offsets = (-2, 1, 39, 50)  # Good Friday, Easter Monday, Ascension, Whit Monday
    fixed = ((1, 1), (5, 1), (10, 3), (12, 25), (12, 26))
    return frozenset(
        [easter + dt.timedelta(days=o) for o in offsets] + [dt.date(year, m, d) for m, d in fixed]
    )


def is_business_day(day: dt.date) -> bool:
    return day.weekday() < 5 and day not in german_holidays(day.year)


def next_business_day(day: dt.date) -> dt.date:
    """`day` itself if it is a business day, else the next one."""
    while not is_business_day(day):
        day += dt.timedelta(days=1)
    return day


def business_days(start: dt.date, end: dt.date) -> list[dt.date]:
    """Business days in `[start, end)`."""
    days = (start + dt.timedelta(days=n) for n in range((end - start).days))
    return [d for d in days if is_business_day(d)]


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day of the month `months` later, clamped to that month's last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = index // 12, index % 12 + 1
    following = dt.date(year + month // 12, month % 12 + 1, 1)
    return dt.date(year, month, min(day.day, (following - dt.timedelta(days=1)).day))


@dataclass(frozen=True)
class DateRange:
    """The generated window `[start, end)`; `chunks()` splits it at month boundaries."""

    start: dt.date
    end: dt.date

    def __contains__(self, day: object) -> bool:
        return isinstance(day, dt.date) and self.start <= day < self.end

    def chunks(self) -> list[DateRange]:
        out, cursor = [], self.start
        while cursor < self.end:
            month_end = add_months(cursor.replace(day=1), 1)
            out.append(DateRange(cursor, min(month_end, self.end)))
            cursor = month_end
        return out

    def business_days(self) -> list[dt.date]:
        return business_days(self.start, self.end)


def office_time(rng: random.Random, day: dt.date, first: int = 8, last: int = 18) -> dt.datetime:
    """A random instant on `day` between `first`:00 and `last`:00 Berlin time, whole seconds."""
    seconds = rng.randrange((last - first) * 3600)
    naive = dt.datetime.combine(day, dt.time(first)) + dt.timedelta(seconds=seconds)
    return naive.replace(tzinfo=BERLIN)


def local_instant(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=BERLIN)
