"""Dates and amounts as invoices print them, normalised to `date` and `Decimal`."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from ocr.normalize import (
    find_amounts,
    find_dates,
    iban_is_proven,
    iban_is_valid,
    infer_dayfirst,
    parse_amount,
    parse_date,
    parse_rate,
)

D = dt.date


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-01-05", D(2026, 1, 5)),
        ("05.01.2026", D(2026, 1, 5)),
        ("05/01/2026", D(2026, 1, 5)),  # day first unless the document says otherwise
        ("5/1/2026", D(2026, 1, 5)),
        ("05-01-2026", D(2026, 1, 5)),
        ("05 Jan 2026", D(2026, 1, 5)),
        ("5 January 2026", D(2026, 1, 5)),
        ("05-Jan-2026", D(2026, 1, 5)),
        ("Jan 5, 2026", D(2026, 1, 5)),
        ("January 5th, 2026", D(2026, 1, 5)),
        ("August 3 , 2014", D(2014, 8, 3)),
        ("2026年01月05日", D(2026, 1, 5)),
        ("2026 年 1 月 5 日", D(2026, 1, 5)),
        ("7. Mai 2014", D(2014, 5, 7)),
        ("3. März 2026", D(2026, 3, 3)),
        ("21.05.14", D(2014, 5, 21)),
        ("2026/01/05", D(2026, 1, 5)),
        ("03/20/2023", D(2023, 3, 20)),  # only one reading is a date
        ("Invoice date: 20-10-2015", D(2015, 10, 20)),
        ("32.01.2026", None),
        ("2026-13-01", None),
        ("INV-2026-0042", None),
        ("1,234.56", None),
    ],
)
def test_dates(text: str, expected: dt.date | None) -> None:
    assert parse_date(text) == expected


def test_ambiguous_dates_follow_the_document() -> None:
    us_document = "Invoice Date: 03/20/2023  Due Date: 04/05/2023"
    assert infer_dayfirst(us_document) is False
    assert parse_date("04/05/2023", dayfirst=False) == D(2023, 4, 5)
    assert infer_dayfirst("Date: 31/12/2017, check out 01/01/2018") is True
    assert infer_dayfirst("05.01.2026 and 01/02/2026") is True  # no evidence: day first


def test_a_period_gives_both_dates() -> None:
    found = find_dates("Leistungszeitraum 01.05.14-31.05.14")
    assert [f.value for f in found] == [D(2014, 5, 1), D(2014, 5, 31)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.234,56", "1234.56"),
        ("1,234.56", "1234.56"),
        ("¥1,234.56", "1234.56"),
        ("￥1,234.56", "1234.56"),
        ("€ 1 234,56", "1234.56"),
        ("1 234,56", "1234.56"),
        ("1\u00a0234,56 €", "1234.56"),
        ("1'234.56 CHF", "1234.56"),
        ("EUR 1.234.567,89", "1234567.89"),
        ("$4.11", "4.11"),
        ("Rs 1939", "1939.00"),
        ("Rs -40.00", "-40.00"),
        ("-12,50", "-12.50"),
        ("34,73 EUR", "34.73"),
        ("12", "12.00"),
        ("0.9", "0.90"),
        ("1.234", "1234.00"),  # three decimals are a thousands separator
        ("15.00%", None),
        ("19 %", None),
        ("80g", None),
        ("INV-2026-0042", None),
        ("2026-01-05", None),
        ("1,234.5678", None),
    ],
)
def test_amounts(text: str, expected: str | None) -> None:
    value = parse_amount(text)
    assert value == (Decimal(expected) if expected else None)
    assert value is None or isinstance(value, Decimal)


def test_amounts_in_a_line_keep_their_currency() -> None:
    found = find_amounts("Tax 15% on $ 112.90 $ 16.94")
    assert [(a.value, a.currency) for a in found] == [
        (Decimal("112.90"), "$"),
        (Decimal("16.94"), "$"),
    ]


def test_space_grouping_needs_a_decimal_comma_or_a_currency() -> None:
    # "Total  1  278.61  40.39  319.00": quantity, net, tax, gross; not 1278.61
    values = [a.value for a in find_amounts("Total 1 278.61 40.39 319.00")]
    assert values == [Decimal("1.00"), Decimal("278.61"), Decimal("40.39"), Decimal("319.00")]
    assert parse_amount("USD 1 000.00") == Decimal("1000.00")


def test_dates_are_not_amounts() -> None:
    values = [a.value for a in find_amounts("TOTAL AMOUNT DUE ON August 3 , 2014 $4.11")]
    assert values == [Decimal("4.11")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("VAT 19%", "0.19"), ("MwSt. 7 %", "0.07"), ("15.00%", "0.15"), ("13%", "0.13"), ("-", None)],
)
def test_rates(text: str, expected: str | None) -> None:
    assert parse_rate(text) == (Decimal(expected) if expected else None)


def test_iban_check_digits() -> None:
    assert iban_is_valid("DE89 3704 0044 0532 0130 00")
    assert iban_is_valid("DE30507500940000048567")
    assert not iban_is_valid("DE89 3704 0044 0532 0130 01")
    assert not iban_is_valid("US1234567890")


def test_an_iban_is_proven_by_its_country_format_and_check_digits() -> None:
    assert iban_is_proven("DE89 3704 0044 0532 0130 00")
    assert iban_is_proven("GB33BUKB20201555555555")
    assert not iban_is_proven("DE89 3704 0044 0532 0130 01")  # check digits fail
    # mod 97 passes, but a German IBAN has 22 characters, not 21: text cut short
    assert iban_is_valid("DE5137040044053201300")
    assert not iban_is_proven("DE5137040044053201300")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5. Januar 2026", D(2026, 1, 5)),
        ("24. Dezember 2026", D(2026, 12, 24)),
        ("5 janvier 2026", D(2026, 1, 5)),
        ("1er février 2026", D(2026, 2, 1)),
        ("4 fevrier 2026", D(2026, 2, 4)),  # OCR without the accent
        ("15 août 2026", D(2026, 8, 15)),
        ("31 décembre 2026", D(2026, 12, 31)),
        ("5 januari 2026", D(2026, 1, 5)),
        ("3 maart 2026", D(2026, 3, 3)),
        ("12 mei 2026", D(2026, 5, 12)),
        ("1 okt. 2026", D(2026, 10, 1)),
        ("5 de enero de 2026", D(2026, 1, 5)),
        ("4 de febrero del 2026", D(2026, 2, 4)),
        ("12 dic. 2026", D(2026, 12, 12)),
        ("20 septiembre 2026", D(2026, 9, 20)),
        ("Fecha de factura: 5 de enero de 2026", D(2026, 1, 5)),
        ("Factuurdatum 5 januari 2026", D(2026, 1, 5)),
    ],
)
def test_european_month_names(text: str, expected: dt.date) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.234,56 €", "1234.56"),  # de, nl, es
        ("€ 1.234,56", "1234.56"),  # nl: the sign first
        ("1 234,56 €", "1234.56"),  # fr: space-grouped
        ("1\u202f234\u202f567,89 €", "1234567.89"),  # fr: narrow spaces
        ("CHF 1'234.56", "1234.56"),  # ch
        ("12.345,00 EUR", "12345.00"),
        ("Total TTC : 1 428,00 €", "1428.00"),
        ("IVA 21%: 247,17 €", "247.17"),
    ],
)
def test_european_amounts(text: str, expected: str) -> None:
    assert parse_amount(text) == Decimal(expected)
