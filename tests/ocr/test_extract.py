"""extract_file on invoices rendered here: digital, scanned, scanned inside a PDF, Chinese."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from pathlib import Path

from closeflow.config import Supplier
from ocr.extract import extract_file, extract_files
from tests.ocr.documents import (
    TODAY,
    ChineseInvoice,
    EnglishInvoice,
    image_pdf,
    render_chinese,
    render_english,
)

NORDWIND = Supplier(
    supplier_id="SUP-900",
    name="Nordwind Bürobedarf GmbH",
    tax_id="DE 123 456 788",
    iban="DE89370400440532013000",
    aliases=["Nordwind"],
)


def test_digital_english_invoice(english_pdf: Path) -> None:
    inv = extract_file(english_pdf, today=TODAY)
    assert inv.extraction_method == "text"
    assert inv.status == "extracted", inv.review_reasons
    assert (inv.invoice_number, inv.invoice_date, inv.due_date) == (
        "NW-2026-0042",
        dt.date(2026, 1, 5),
        dt.date(2026, 2, 4),
    )
    assert (inv.subtotal, inv.tax_amount, inv.total) == (
        Decimal("122.50"),
        Decimal("23.28"),
        Decimal("145.78"),
    )
    assert (inv.currency, inv.supplier_tax_id) == ("EUR", "DE123456788")
    assert inv.buyer_tax_id == "DE272914250"
    assert inv.supplier_name == "Nordwind Bürobedarf GmbH"
    assert inv.buyer_name == "Closeflow Demo GmbH"
    assert inv.supplier_iban == "DE89370400440532013000"
    assert inv.payment_reference == "RF18539007547034"
    assert [(i.description, i.quantity, i.amount, i.tax_rate) for i in inv.line_items] == [
        ("Printer paper A4, 80 g", Decimal(10), Decimal("45.00"), Decimal("0.19")),
        ("Toner cartridge black", Decimal(2), Decimal("77.50"), Decimal("0.19")),
    ]
    # a text layer is exact: confidence is how sure the label makes the field
    assert inv.field_confidence["invoice_number"] == inv.field_confidence["invoice_date"] == 0.99
    assert inv.field_confidence["supplier_name"] < 0.9  # guessed from the letterhead
    assert inv.supplier_id is None  # no supplier list given


def test_supplier_is_matched_by_tax_id_then_iban_then_name(english_pdf: Path) -> None:
    other = Supplier(supplier_id="SUP-1", name="Someone Else AG", tax_id="DE999999999")
    inv = extract_file(english_pdf, [other, NORDWIND], today=TODAY)
    assert (inv.supplier_id, inv.supplier_name) == ("SUP-900", "Nordwind Bürobedarf GmbH")
    by_iban = NORDWIND.model_copy(update={"tax_id": None})
    assert extract_file(english_pdf, [by_iban], today=TODAY).supplier_id == "SUP-900"
    by_name = Supplier(supplier_id="SUP-901", name="NORDWIND BUEROBEDARF", aliases=["Nordwind"])
    by_name_only = extract_file(english_pdf, [by_name], today=TODAY)
    assert by_name_only.supplier_id == "SUP-901"
    assert by_name_only.supplier_name == "NORDWIND BUEROBEDARF"  # the canonical name
    assert extract_file(english_pdf, [other], today=TODAY).supplier_id is None


def test_scanned_english_invoice(english_scan: Path) -> None:
    inv = extract_file(english_scan, [NORDWIND], today=TODAY)
    assert (inv.media_type, inv.extraction_method, inv.language) == ("image/png", "ocr", "en")
    assert inv.invoice_number == "NW-2026-0042"
    assert inv.invoice_date == dt.date(2026, 1, 5)
    assert inv.total == Decimal("145.78")
    assert (inv.subtotal, inv.tax_amount) == (Decimal("122.50"), Decimal("23.28"))
    assert inv.supplier_id == "SUP-900"
    assert inv.status == "extracted", inv.review_reasons
    assert all(0 <= c <= 1 for c in inv.field_confidence.values())


def test_scan_inside_a_pdf_with_a_digital_page_is_mixed(english_scan: Path, tmp_path: Path) -> None:
    terms = "Terms and conditions\nPayment within 30 days of the invoice date without deduction."
    pdf = image_pdf(english_scan, tmp_path / "scanned.pdf", text_page=terms)
    inv = extract_file(pdf, dpi=200, today=TODAY)
    assert inv.extraction_method == "mixed"
    assert (inv.invoice_number, inv.total) == ("NW-2026-0042", Decimal("145.78"))


def test_ocr_timeout_quarantines(english_scan: Path) -> None:
    inv = extract_file(english_scan, ocr_timeout=0.01)
    assert inv.status == "quarantined"
    assert inv.review_reasons == ["OCR timed out after 0.01 s"]


def test_credit_note_amounts_are_positive(tmp_path: Path) -> None:
    note = EnglishInvoice(
        title="CREDIT NOTE", subtotal="-122.50", vat="-23.28", total="-145.78", lines=()
    )
    inv = extract_file(render_english(tmp_path / "cn.pdf", note), today=TODAY)
    assert inv.document_type == "credit_note"
    assert (inv.subtotal, inv.tax_amount, inv.total) == (
        Decimal("122.50"),
        Decimal("23.28"),
        Decimal("145.78"),
    )


def test_chinese_vat_invoice_digital(chinese_pdf: Path) -> None:
    inv = extract_file(chinese_pdf, today=TODAY)
    assert inv.status == "extracted", inv.review_reasons
    assert (inv.invoice_number, inv.invoice_date) == ("01234567", dt.date(2026, 1, 5))
    assert (inv.subtotal, inv.tax_amount, inv.total) == (
        Decimal("1000.00"),
        Decimal("130.00"),
        Decimal("1130.00"),
    )
    assert (inv.currency, inv.language, inv.payment_reference) == ("CNY", "zh", "01234567")
    assert inv.buyer_name == "克洛斯弗洛（上海）贸易有限公司"
    assert inv.buyer_tax_id == ChineseInvoice.buyer_id
    assert inv.supplier_name == "上海明远科技有限公司"
    assert inv.supplier_tax_id == ChineseInvoice.seller_id
    (item,) = inv.line_items
    assert (item.description, item.quantity, item.unit_price) == ("办公用品", 10, Decimal("100"))
    assert (item.amount, item.tax_rate, item.tax_amount) == (
        Decimal("1000.00"),
        Decimal("0.13"),
        Decimal("130.00"),
    )


def test_chinese_vat_invoice_scanned(chinese_scan: Path) -> None:
    inv = extract_file(chinese_scan, today=TODAY)
    assert (inv.media_type, inv.extraction_method, inv.language) == ("image/jpeg", "ocr", "zh")
    assert inv.invoice_number == "01234567"  # 发票号码
    assert inv.invoice_date == dt.date(2026, 1, 5)  # 开票日期
    assert inv.total == Decimal("1130.00")  # 价税合计 (小写)
    assert inv.currency == "CNY"


def test_chinese_checks_give_review_reasons(tmp_path: Path) -> None:
    misprinted_id = ChineseInvoice.seller_id[:-1] + (
        "0" if ChineseInvoice.seller_id[-1] != "0" else "1"
    )
    wrong = dataclasses.replace(
        ChineseInvoice(), capitals="壹仟壹佰叁拾伍元整", seller_id=misprinted_id
    )
    inv = extract_file(render_chinese(tmp_path / "wrong.pdf", wrong), today=TODAY)
    assert inv.status == "needs_review"
    assert inv.review_reasons == [
        f"supplier tax id {misprinted_id} fails the unified social credit code check "
        "(GB 32100-2015): probably misread",
        "amount in words (1,135.00) does not equal the total in figures (1,130.00)",
    ]


def test_extract_files_keeps_order_and_never_raises(english_pdf: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    results = extract_files([english_pdf, empty, english_pdf])
    assert [r.status for r in results] == ["extracted", "quarantined", "extracted"]
    assert results[1].review_reasons == ["the file is empty (0 bytes)"]
