"""Supplier master data and templates: anchors, a supplier's own labels, pinned values,
and the reasons a difference from the master data needs a person."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from closeflow.config import ConfigError, Supplier, Suppliers, load_model
from closeflow.sample.fonts import LATIN, LATIN_BOLD, register_fonts
from ocr.extract import extract_file
from ocr.model import ExtractedInvoice
from ocr.suppliers import SupplierTemplate, pin_master_data
from tests.ocr.documents import TODAY, pdf_bytes

IBAN = "GB33BUKB20201555555555"
OTHER_IBAN = "GB94BARC10201530093459"


def _quickprint(c, *, iban: str = IBAN, currency: str = "GBP") -> None:  # noqa: ANN001
    """A print shop that calls its invoice number a job ticket, and prints no due date."""
    register_fonts()
    c.setFont(LATIN_BOLD, 16)
    c.drawString(50, 780, "Quickprint Ltd")
    c.setFont(LATIN, 10)
    c.drawString(50, 762, "12 Fleet Street, London EC4Y 1AA")
    c.drawString(50, 746, f"IBAN: {iban}")
    c.drawString(50, 700, "Bill to: Closeflow Demo GmbH")
    c.drawString(50, 670, "Job ticket:")
    c.drawString(170, 670, "QP-7781")
    c.drawString(50, 654, "Date:")
    c.drawString(170, 654, "12 Jan 2026")
    c.drawString(50, 620, "Leaflets A5, 1000 pcs")
    c.drawRightString(545, 620, "250.00")
    c.drawString(380, 590, "Subtotal:")
    c.drawRightString(545, 590, "250.00")
    c.drawString(380, 574, "VAT 20%:")
    c.drawRightString(545, 574, "50.00")
    c.drawString(380, 558, f"Total {currency}:")
    c.drawRightString(545, 558, "300.00")


def _pdf(tmp_path: Path, name: str, **kw: str) -> Path:
    path = tmp_path / name
    path.write_bytes(pdf_bytes(lambda c: _quickprint(c, **kw)))
    return path


TEMPLATE = SupplierTemplate(
    anchors=["Quickprint Ltd", "Fleet Street"],
    fields={"invoice_number": {"label": r"job\s*ticket", "pattern": r"QP-\d{4}"}},
    currency="GBP",
    payment_terms_days=30,
)
QUICKPRINT = Supplier(
    supplier_id="SUP-QP", name="Quickprint Ltd", tax_id="GB123456789", iban=IBAN, currency="GBP"
)


def test_generic_extraction_misses_the_suppliers_own_label(tmp_path: Path) -> None:
    inv = extract_file(_pdf(tmp_path, "qp.pdf"), [QUICKPRINT], today=TODAY)
    assert inv.supplier_id == "SUP-QP"
    assert inv.template is None
    assert inv.invoice_number is None
    assert inv.status == "needs_review"
    assert "invoice number not found" in inv.review_reasons


def test_template_reads_the_label_and_fills_the_due_date_from_terms(tmp_path: Path) -> None:
    supplier = QUICKPRINT.model_copy(update={"template": TEMPLATE})
    inv = extract_file(_pdf(tmp_path, "qp.pdf"), [supplier], today=TODAY)
    assert inv.status == "extracted", inv.review_reasons
    assert inv.template == "SUP-QP"
    assert inv.invoice_number == "QP-7781"
    assert inv.invoice_date == dt.date(2026, 1, 12)
    assert inv.due_date == dt.date(2026, 2, 11)  # 30 days' terms
    assert (inv.subtotal, inv.tax_amount, inv.total) == (
        Decimal("250.00"),
        Decimal("50.00"),
        Decimal("300.00"),
    )
    assert inv.currency == "GBP"
    assert inv.supplier_tax_id == "GB123456789"  # not printed: taken from the master data
    assert [b.model_dump() for b in inv.tax_breakdown] == [
        {"rate": Decimal("0.2"), "net": Decimal("250.00"), "tax": Decimal("50.00")}
    ]


def test_template_applies_only_when_every_anchor_is_there(tmp_path: Path) -> None:
    moved = TEMPLATE.model_copy(update={"anchors": ["Quickprint Ltd", "Canary Wharf"]})
    supplier = QUICKPRINT.model_copy(update={"template": moved})
    inv = extract_file(_pdf(tmp_path, "qp.pdf"), [supplier], today=TODAY)
    assert inv.template is None
    assert inv.invoice_number is None  # generic extraction, as without a template


def test_a_value_out_of_the_suppliers_pattern_goes_to_review(tmp_path: Path) -> None:
    strict = SupplierTemplate.model_validate(
        TEMPLATE.model_dump()
        | {"fields": {"invoice_number": {"label": r"job\s*ticket", "pattern": r"QP-\d{6}"}}}
    )
    supplier = QUICKPRINT.model_copy(update={"template": strict})
    inv = extract_file(_pdf(tmp_path, "qp.pdf"), [supplier], today=TODAY)
    assert inv.status == "needs_review"
    assert inv.review_reasons == [
        r"invoice number QP-7781 does not have the form Quickprint Ltd uses (QP-\d{6}): "
        "check it against the document"
    ]


def test_a_changed_bank_account_is_flagged_as_a_payment_risk(tmp_path: Path) -> None:
    supplier = QUICKPRINT.model_copy(update={"template": TEMPLATE})
    inv = extract_file(_pdf(tmp_path, "qp.pdf", iban=OTHER_IBAN), [supplier], today=TODAY)
    assert inv.supplier_iban == OTHER_IBAN  # what the invoice says is kept, for the reviewer
    assert inv.status == "needs_review"
    assert inv.review_reasons == [
        f"bank account (IBAN) {OTHER_IBAN} on the invoice differs from {IBAN} in the supplier "
        "master data of Quickprint Ltd: confirm with the supplier before paying"
    ]


def test_a_pinned_currency_that_differs_goes_to_review(tmp_path: Path) -> None:
    supplier = QUICKPRINT.model_copy(update={"template": TEMPLATE})
    inv = extract_file(_pdf(tmp_path, "qp.pdf", currency="EUR"), [supplier], today=TODAY)
    assert inv.currency == "EUR"
    assert inv.review_reasons == [
        "currency EUR differs from GBP, the currency Quickprint Ltd always invoices in"
    ]


def _invoice(**fields: object) -> ExtractedInvoice:
    base = {"file": "x.png", "file_sha256": "0" * 64, "media_type": "image/png", "size_bytes": 1}
    return ExtractedInvoice(**(base | fields))


def test_an_ocr_slip_in_a_known_id_is_corrected_but_not_in_a_text_layer() -> None:
    scanned = _invoice(supplier_tax_id="GB123456780", extraction_method="ocr")
    confidence = {"supplier_id": 0.95, "supplier_tax_id": 0.7}
    assert pin_master_data(scanned, QUICKPRINT, confidence, "ocr") == []
    assert scanned.supplier_tax_id == "GB123456789"
    assert confidence["supplier_tax_id"] == 0.9

    digital = _invoice(supplier_tax_id="GB123456780", extraction_method="text")
    reasons = pin_master_data(digital, QUICKPRINT, {"supplier_id": 0.95}, "text")
    assert reasons == [
        "tax id GB123456780 on the invoice differs from GB123456789 in the supplier master "
        "data of Quickprint Ltd"
    ]
    far = _invoice(supplier_tax_id="GB987654321")
    assert len(pin_master_data(far, QUICKPRINT, {}, "ocr")) == 1  # not a slip: a person looks


def test_a_bad_template_fails_loading_with_the_line(tmp_path: Path) -> None:
    path = tmp_path / "suppliers.yml"
    path.write_text(
        "suppliers:\n"
        "  - supplier_id: SUP-QP\n"
        "    name: Quickprint Ltd\n"
        "    template:\n"
        "      anchors: [Quickprint]\n"
        "      fields:\n"
        "        invoice_number: {label: 'job(ticket'}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as err:
        load_model(path, Suppliers)
    assert str(err.value).startswith(f"{path}:7: suppliers.0.template.fields.invoice_number.label")
    assert "not a valid regular expression" in str(err.value)

    path.write_text(
        "suppliers:\n"
        "  - supplier_id: SUP-QP\n"
        "    name: Quickprint Ltd\n"
        "    template:\n"
        "      anchors: [Quickprint]\n"
        "      fields:\n"
        "        invoice_numbr: {label: 'job ticket'}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"suppliers.yml:7: .*invoice_numbr"):
        load_model(path, Suppliers)


def test_an_id_read_as_the_master_data_has_it_is_confirmed_by_it() -> None:
    """A scanned IBAN tesseract was unsure of (a check digit read as a letter) that reads
    exactly as the master data has it needs no look; one that differs keeps its doubt."""
    scanned = _invoice(supplier_iban=IBAN, extraction_method="ocr")
    confidence = {"supplier_id": 0.95, "supplier_iban": 0.37}
    assert pin_master_data(scanned, QUICKPRINT, confidence, "ocr") == []
    assert confidence["supplier_iban"] == 0.9  # the supplier match's, at most 0.9

    weak_match = {"supplier_id": 0.7, "supplier_iban": 0.37}
    pin_master_data(_invoice(supplier_iban=IBAN), QUICKPRINT, weak_match, "ocr")
    assert weak_match["supplier_iban"] == 0.7

    sure = {"supplier_id": 0.95, "supplier_iban": 0.96}
    pin_master_data(_invoice(supplier_iban=IBAN), QUICKPRINT, sure, "ocr")
    assert sure["supplier_iban"] == 0.96  # never lowered

    changed = {"supplier_id": 0.95, "supplier_iban": 0.37}
    assert len(pin_master_data(_invoice(supplier_iban=OTHER_IBAN), QUICKPRINT, changed, "ocr")) == 1
    assert changed["supplier_iban"] == 0.37
