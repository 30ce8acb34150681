"""Printed forms of amounts and dates, and the sample calendar."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from closeflow.sample.business_days import DateRange, business_days, easter_sunday
from closeflow.sample.formats import cny_in_words, format_amount, format_date, format_quantity


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("1130.00", "壹仟壹佰叁拾元整"),
        ("1000", "壹仟元整"),
        ("1010", "壹仟零壹拾元整"),
        ("10005.30", "壹万零伍元叁角整"),
        ("100000.07", "壹拾万元零柒分"),
        ("1000001", "壹佰万零壹元整"),
        ("23.45", "贰拾叁元肆角伍分"),
        ("0.50", "伍角整"),
    ],
)
def test_cny_in_words(amount: str, words: str) -> None:
    assert cny_in_words(Decimal(amount)) == words


def test_amounts_by_locale() -> None:
    assert format_amount(Decimal("1234.5"), "de") == "1.234,50"
    assert format_amount(Decimal("1234567.891"), "en") == "1,234,567.89"
    assert format_quantity(Decimal("2.5"), "de") == "2,5"


def test_dates_by_style() -> None:
    day = dt.date(2026, 1, 5)
    assert [format_date(day, s) for s in ("de", "iso", "long")] == [
        "05.01.2026",
        "2026-01-05",
        "05 Jan 2026",
    ]


def test_business_days_skip_weekends_and_german_holidays() -> None:
    assert easter_sunday(2026) == dt.date(2026, 4, 5)
    days = business_days(dt.date(2026, 1, 1), dt.date(2026, 1, 6))
    assert days == [dt.date(2026, 1, 2), dt.date(2026, 1, 5)]  # 1 Jan holiday, weekend
    assert dt.date(2026, 4, 3) not in business_days(dt.date(2026, 4, 1), dt.date(2026, 4, 8))


def test_window_splits_at_month_boundaries() -> None:
    window = DateRange(dt.date(2026, 1, 20), dt.date(2026, 3, 3))
    assert [(c.start.isoformat(), c.end.isoformat()) for c in window.chunks()] == [
        ("2026-01-20", "2026-02-01"),
        ("2026-02-01", "2026-03-01"),
        ("2026-03-01", "2026-03-03"),
    ]
