"""The generated sample company's inbox, read against its ground truth.

A few days of closeflow.sample: digital PDFs and Chinese VAT PDFs must come out exactly
as the truth says; scans (tesseract) must get number, date and total right or say they
need review; the letter and the broken PDF are quarantined.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest

from ocr.extract import extract_file, extract_files
from ocr.model import ExtractedInvoice
from tests.ocr.documents import TODAY

if TYPE_CHECKING:
    from tests.ocr.conftest import Sample

HEADER = [
    "supplier_id", "supplier_name", "supplier_tax_id", "buyer_name", "buyer_tax_id",
    "invoice_number", "invoice_date", "due_date", "currency", "subtotal", "tax_amount",
    "total", "document_type", "payment_reference", "supplier_iban",
]  # fmt: skip
NOT_ON_THE_FORM = {"due_date"}  # a 增值税发票 prints no due date; the truth has the terms'


def _typed(field: str, value: str | None) -> object:
    if value is None:
        return None
    if field in ("subtotal", "tax_amount", "total"):
        return Decimal(value)
    if field in ("invoice_date", "due_date"):
        return dt.date.fromisoformat(value)
    return value


def _extract(sample: Sample, doc: dict) -> ExtractedInvoice:
    return extract_file(sample.home / doc["file"], sample.suppliers, today=TODAY)


@pytest.fixture(scope="module")
def digital(sample: Sample) -> list[tuple[dict, ExtractedInvoice]]:
    docs = sample.of_kind("digital_pdf", "cn_vat_pdf")
    results = extract_files([sample.home / d["file"] for d in docs], sample.suppliers, today=TODAY)
    return list(zip(docs, results, strict=True))


def test_the_sample_has_every_kind(sample: Sample) -> None:
    kinds = {d["kind"] for d in sample.documents}
    assert kinds >= {"digital_pdf", "scan_png", "scan_jpeg", "cn_vat_pdf", "cn_vat_scan"}
    assert kinds >= {"not_invoice", "corrupt"}
    assert any(
        d["invoice"]["document_type"] == "credit_note" for d in sample.of_kind("digital_pdf")
    )


def test_digital_pdfs_read_exactly(digital: list) -> None:
    for doc, inv in digital:
        want = doc["invoice"]
        skip = NOT_ON_THE_FORM if doc["kind"] == "cn_vat_pdf" else set()
        got = {f: getattr(inv, f) for f in HEADER if f not in skip}
        assert got == {f: _typed(f, want[f]) for f in HEADER if f not in skip}, doc["file"]
        assert inv.status == "extracted", (doc["file"], inv.review_reasons)
        assert inv.extraction_method == "text"
        assert inv.file_sha256 == doc["sha256"]
        assert inv.media_type == "application/pdf"


def test_digital_pdfs_line_items(digital: list) -> None:
    for doc, inv in digital:
        got = [
            (i.line_no, i.description, i.quantity, i.unit_price, i.amount, i.tax_rate)
            for i in inv.line_items
        ]
        want = [
            (
                w["line_no"],
                w["description"],
                Decimal(w["quantity"]),
                Decimal(w["unit_price"]),
                Decimal(w["amount"]),
                Decimal(w["tax_rate"]),
            )
            for w in doc["lines"]
        ]
        assert got == want, doc["file"]


def test_chinese_vat_pdf(digital: list) -> None:
    (doc, inv), *_ = [(d, i) for d, i in digital if d["kind"] == "cn_vat_pdf"]
    assert inv.language == "zh"
    assert inv.currency == "CNY"
    assert inv.payment_reference == inv.invoice_number == doc["invoice"]["invoice_number"]
    assert inv.buyer_name == "克洛斯弗洛（上海）贸易有限公司"


@pytest.fixture(scope="module")
def scanned(sample: Sample) -> list[tuple[dict, ExtractedInvoice]]:
    docs = sample.of_kind("scan_png", "scan_jpeg", "cn_vat_scan")
    return [(doc, _extract(sample, doc)) for doc in docs]


def test_scans_read_number_date_and_total_or_ask_for_review(scanned: list) -> None:
    for doc, inv in scanned:
        want = doc["invoice"]
        assert inv.extraction_method == "ocr"
        if doc["kind"] != "cn_vat_scan":
            assert inv.invoice_date == _typed("invoice_date", want["invoice_date"]), doc["file"]
            assert inv.total == Decimal(want["total"]), doc["file"]
        wrong = [
            f
            for f in ("invoice_number", "invoice_date", "total", "supplier_id")
            if getattr(inv, f) != _typed(f, want[f])
        ]
        # what OCR got wrong is never passed on silently
        assert not wrong or inv.status == "needs_review", (doc["file"], wrong)


def test_chinese_scan_number_date_and_total(scanned: list) -> None:
    ((doc, inv),) = [(d, i) for d, i in scanned if d["kind"] == "cn_vat_scan"]
    want = doc["invoice"]
    assert inv.language == "zh"
    assert inv.invoice_number == want["invoice_number"]  # 发票号码
    assert inv.invoice_date == dt.date.fromisoformat(want["invoice_date"])  # 开票日期
    assert inv.total == Decimal(want["total"])  # 价税合计 (小写)
    assert inv.supplier_id == want["supplier_id"]


def test_letter_and_broken_pdf_are_quarantined(sample: Sample) -> None:
    (letter,) = sample.of_kind("not_invoice")
    inv = _extract(sample, letter)
    assert inv.status == "quarantined"
    assert inv.review_reasons[0].startswith("not an invoice: no invoice number and no total")
    (corrupt,) = sample.of_kind("corrupt")
    inv = _extract(sample, corrupt)
    assert inv.status == "quarantined"
    assert inv.review_reasons == ["the PDF is damaged and cannot be opened"]
    assert inv.file_sha256 == corrupt["sha256"]
