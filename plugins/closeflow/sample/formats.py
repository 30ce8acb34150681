"""How amounts, quantities and dates are printed: German and English locales, Chinese.

German-locale suppliers print `1.234,56` and `05.01.2026`; the others `1,234.56` and
`2026-01-05` or `05 Jan 2026`. Chinese invoices print `¥1,130.00`, `2026年01月05日`
and the amount in words (`壹仟壹佰叁拾元整`). Everything takes Decimal, never float.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from closeflow.money import round_money

NumberLocale = Literal["de", "en"]
DateStyle = Literal["de", "iso", "long"]

_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
MONTH_NAMES_EN = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip
MONTH_NAMES_DE = (
    "Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September",
    "Oktober", "November", "Dezember",
)  # fmt: skip


def month_name(day: dt.date, language: str) -> str:
    """`January 2026` or, for German descriptions, `Januar 2026`."""
    names = MONTH_NAMES_DE if language == "de" else MONTH_NAMES_EN
    return f"{names[day.month - 1]} {day.year}"


def format_amount(amount: Decimal, locale: NumberLocale) -> str:
    """Two decimals with thousands separators: `1.234,56` (de) or `1,234.56` (en)."""
    text = f"{round_money(amount):,.2f}"
    if locale == "de":
        text = text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return text


def format_quantity(quantity: Decimal, locale: NumberLocale) -> str:
    """A quantity as written on a line: `3`, `2.5` or `2,5`."""
    text = format(quantity.normalize(), "f")
    return text.replace(".", ",") if locale == "de" else text


def format_date(day: dt.date, style: DateStyle) -> str:
    if style == "de":
        return day.strftime("%d.%m.%Y")
    if style == "long":
        return f"{day.day:02d} {_MONTHS_EN[day.month - 1]} {day.year}"
    return day.isoformat()


def format_cn_date(day: dt.date) -> str:
    return f"{day.year}年{day.month:02d}月{day.day:02d}日"


def format_cny(amount: Decimal) -> str:
    return f"¥{round_money(amount):,.2f}"


_CN_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_CN_SMALL_UNITS = ("", "拾", "佰", "仟")
_CN_BIG_UNITS = ("", "万", "亿", "万亿")


def _cn_group(n: int) -> str:
    """0 < n < 10000 in capital numerals, zeros inside the group read as one 零."""
    out, zero = [], False
    for pos in range(3, -1, -1):
        digit = n // 10**pos % 10
        if digit == 0:
            zero = bool(out)
            continue
        if zero:
            out.append("零")
            zero = False
        out.append(_CN_DIGITS[digit] + _CN_SMALL_UNITS[pos])
    return "".join(out)


def cny_in_words(amount: Decimal) -> str:
    """The amount in financial capitals as on a VAT invoice: 1130.00 -> 壹仟壹佰叁拾元整."""
    cents = int(round_money(amount) * 100)
    if cents < 0:
        return "负" + cny_in_words(Decimal(-cents) / 100)
    yuan, jiao, fen = cents // 100, cents // 10 % 10, cents % 10
    words = ""
    if yuan:
        groups = []
        while yuan:
            groups.append(yuan % 10000)
            yuan //= 10000
        need_zero = False
        for idx in range(len(groups) - 1, -1, -1):
            group = groups[idx]
            if group == 0:
                need_zero = bool(words)
                continue
            if words and (need_zero or group < 1000):
                words += "零"
            words += _cn_group(group) + _CN_BIG_UNITS[idx]
            need_zero = False
        words += "元"
    if not jiao and not fen:
        return (words or "零元") + "整"
    if jiao:
        words += _CN_DIGITS[jiao] + "角"
    elif words:
        words += "零"
    if fen:
        words += _CN_DIGITS[fen] + "分"
    else:
        words += "整"
    return words
