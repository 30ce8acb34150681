"""Review reasons: what makes an extracted invoice need a person, in words."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from ocr.model import ExtractedInvoice
from ocr.validate import not_an_invoice, review_reasons

TODAY = dt.date(2026, 3, 1)


def invoice(**fields: object) -> ExtractedInvoice:
    base = {
        "file": "inbox/x.pdf",
        "file_sha256": "0" * 64,
        "media_type": "application/pdf",
        "size_bytes": 1,
        "invoice_number": "INV-1",
        "invoice_date": dt.date(2026, 1, 5),
        "currency": "EUR",
        "subtotal": Decimal("100.00"),
        "tax_amount": Decimal("19.00"),
        "total": Decimal("119.00"),
    }
    return ExtractedInvoice(**(base | fields))


def test_a_good_invoice_has_no_reasons() -> None:
    assert review_reasons(invoice(), today=TODAY) == []


def test_net_plus_tax_must_equal_total_to_the_cent() -> None:
    reasons = review_reasons(invoice(total=Decimal("120.00")), today=TODAY)
    assert reasons == ["net 100.00 + tax 19.00 does not equal total 120.00"]
    big = invoice(
        subtotal=Decimal("1234.56"), tax_amount=Decimal("234.57"), total=Decimal("1469.14")
    )
    assert review_reasons(big, today=TODAY) == [
        "net 1,234.56 + tax 234.57 does not equal total 1,469.14"
    ]


def test_missing_number_date_and_total() -> None:
    inv = invoice(invoice_number=None, invoice_date=None, total=None, subtotal=None)
    assert review_reasons(inv, today=TODAY) == [
        "invoice number not found",
        "invoice date not found",
        "total amount not found",
    ]


def test_a_missing_tax_is_noticed_when_net_and_total_differ() -> None:
    assert review_reasons(invoice(tax_amount=None), today=TODAY) == [
        "tax amount not found, and net 100.00 differs from total 119.00"
    ]
    tax_free = invoice(tax_amount=None, total=Decimal("100.00"))
    assert review_reasons(tax_free, today=TODAY) == []


@pytest.mark.parametrize(
    ("day", "reason"),
    [
        (dt.date(1999, 12, 31), "invoice date 1999-12-31 is before 2000"),
        (dt.date(2027, 3, 2), "invoice date 2027-03-02 is more than a year in the future"),
        (dt.date(2027, 3, 1), None),
        (dt.date(2000, 1, 1), None),
    ],
)
def test_implausible_dates(day: dt.date, reason: str | None) -> None:
    assert review_reasons(invoice(invoice_date=day), today=TODAY) == ([reason] if reason else [])


def test_due_date_before_invoice_date() -> None:
    inv = invoice(due_date=dt.date(2026, 1, 4))
    assert review_reasons(inv, today=TODAY) == [
        "due date 2026-01-04 is before the invoice date 2026-01-05"
    ]


def test_currency() -> None:
    assert review_reasons(invoice(currency=None), today=TODAY) == [
        "currency not found on the invoice"
    ]
    assert review_reasons(invoice(currency="XYZ"), today=TODAY) == ["unknown currency 'XYZ'"]


def test_unified_social_credit_code_and_iban_checks() -> None:
    inv = invoice(
        supplier_tax_id="91350100M000100Y44",
        buyer_tax_id="91350100M000100Y43",
        supplier_iban="DE89370400440532013001",
    )
    assert review_reasons(inv, today=TODAY) == [
        "supplier tax id 91350100M000100Y44 fails the unified social credit code check "
        "(GB 32100-2015): probably misread",
        "supplier IBAN DE89370400440532013001 fails its check digits",
    ]
    assert review_reasons(invoice(supplier_tax_id="DE123456788"), today=TODAY) == []


def test_gstin_check_character() -> None:
    assert review_reasons(invoice(supplier_tax_id="06AABCO6063D1ZQ"), today=TODAY) == []
    assert review_reasons(invoice(supplier_tax_id="06AABCO6068D1ZQ"), today=TODAY) == [
        "supplier tax id 06AABCO6068D1ZQ fails the GSTIN check character: probably misread"
    ]


def test_amount_in_words_must_equal_the_figures() -> None:
    inv = invoice(currency="CNY", subtotal=None, tax_amount=None, total=Decimal("1130.00"))
    assert review_reasons(inv, amount_in_words=Decimal("1130.00"), today=TODAY) == []
    assert review_reasons(inv, amount_in_words=Decimal("1135.00"), today=TODAY) == [
        "amount in words (1,135.00) does not equal the total in figures (1,130.00)"
    ]


def test_low_confidence_fields_need_review() -> None:
    inv = invoice(field_confidence={"total": 0.42, "invoice_number": 0.95, "buyer_name": 0.1})
    assert review_reasons(inv, today=TODAY) == [
        "total read with low confidence (0.42): check it against the document"
    ]
    assert review_reasons(inv, min_confidence=0.4, today=TODAY) == []
    assert len(review_reasons(inv, min_confidence=0.99, today=TODAY)) == 2


def test_not_an_invoice() -> None:
    letter = invoice(invoice_number=None, total=None)
    assert not_an_invoice(letter, "Dear customer,\n our office moves") == (
        "not an invoice: no invoice number and no total found "
        "(starts: 'Dear customer, our office moves')"
    )
    assert not_an_invoice(invoice(invoice_number=None), "") is None
    assert not_an_invoice(invoice(total=None), "") is None


def test_tax_must_be_rate_times_net_within_line_rounding() -> None:
    one_rate = invoice(tax_breakdown=[{"rate": "0.19", "net": "100.00", "tax": "19.00"}])
    assert review_reasons(one_rate, today=TODAY) == []
    wrong = invoice(
        tax_amount=Decimal("21.00"),
        total=Decimal("121.00"),
        tax_breakdown=[{"rate": "0.19", "net": "100.00", "tax": "21.00"}],
    )
    assert review_reasons(wrong, today=TODAY) == ["tax 21.00 is not 19 % of 100.00 (that is 19.00)"]
    # three lines rounded one by one: 3 x 33.35 x 19 % = 19.0095 printed as 3 x 6.34 = 19.02
    lines = [
        {"line_no": n, "description": "x", "amount": "33.35", "tax_rate": "0.19"} for n in (1, 2, 3)
    ]
    rounded = invoice(
        subtotal=Decimal("100.05"),
        tax_amount=Decimal("19.02"),
        total=Decimal("119.07"),
        line_items=lines,
        tax_breakdown=[{"rate": "0.19", "net": "100.05", "tax": "19.02"}],
    )
    assert review_reasons(rounded, today=TODAY) == []
    off = rounded.model_copy(update={"tax_amount": Decimal("19.04"), "total": Decimal("119.09")})
    assert review_reasons(off, today=TODAY) == ["tax 19.04 is not 19 % of 100.05 (that is 19.01)"]


def test_tax_breakdown_from_items_and_from_a_printed_base() -> None:
    from ocr.validate import tax_breakdown

    items = [
        {"line_no": 1, "description": "paper", "amount": "100.00", "tax_rate": "0.19"},
        {"line_no": 2, "description": "book", "amount": "50.00", "tax_rate": "0.07"},
        {"line_no": 3, "description": "toner", "amount": "20.00", "tax_rate": "0.19"},
    ]
    inv = invoice(subtotal=Decimal("170.00"), tax_amount=Decimal("26.30"), line_items=items)
    assert [(b.rate, b.net, b.tax) for b in tax_breakdown(inv)] == [
        (Decimal("0.19"), Decimal("120.00"), None),
        (Decimal("0.07"), Decimal("50.00"), None),
    ]
    part = invoice(subtotal=Decimal("262.90"), tax_amount=Decimal("16.94"))
    assert [
        (b.rate, b.net, b.tax) for b in tax_breakdown(part, Decimal("0.15"), Decimal("112.90"))
    ] == [
        (Decimal("0.15"), Decimal("112.90"), Decimal("16.94")),
        (Decimal("0"), Decimal("150.00"), Decimal("0.00")),
    ]
    assert tax_breakdown(invoice()) == []  # no rate printed, no items: unknown
