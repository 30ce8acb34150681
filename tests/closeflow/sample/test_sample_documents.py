"""HOME/inbox and truth/documents.jsonl: every file accounted for, amounts exact."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from decimal import Decimal

import pypdfium2 as pdfium
import pytest
import yaml
from PIL import Image

from closeflow.config import CompanyConfig
from closeflow.money import round_money
from closeflow.sample import checksums
from closeflow.sample.formats import format_amount

KINDS = {
    "digital_pdf",
    "scan_png",
    "scan_jpeg",
    "cn_vat_pdf",
    "cn_vat_scan",
    "not_invoice",
    "corrupt",
}


def _pdf_text(path) -> str:  # noqa: ANN001
    document = pdfium.PdfDocument(path)
    try:
        return "\n".join(page.get_textpage().get_text_range() for page in document)
    finally:
        document.close()


def test_every_inbox_file_is_in_the_truth_once(sample) -> None:
    files = sorted(p.name for p in (sample.home / "inbox").iterdir())
    truth = sorted(d["file"].removeprefix("inbox/") for d in sample.documents)
    assert files == truth
    for doc in sample.documents:
        content = (sample.home / doc["file"]).read_bytes()
        assert hashlib.sha256(content).hexdigest() == doc["sha256"]
    assert sample.summary.files == len(files)


def test_truth_is_sorted_by_received_at(sample) -> None:
    keys = [(dt.datetime.fromisoformat(d["received_at"]), d["file"]) for d in sample.documents]
    assert keys == sorted(keys)


def test_file_mtime_is_the_received_instant(sample) -> None:
    for doc in sample.documents:
        received = dt.datetime.fromisoformat(doc["received_at"])
        assert received.utcoffset() == dt.timedelta(hours=1)  # Berlin in January
        assert 8 <= received.hour < 18 and received.weekday() < 5
        assert (sample.home / doc["file"]).stat().st_mtime == received.timestamp()


def test_the_mix_has_every_kind_and_status(sample) -> None:
    kinds = Counter(d["kind"] for d in sample.documents)
    assert set(kinds) == KINDS
    assert kinds["digital_pdf"] > kinds["scan_png"] + kinds["scan_jpeg"] > kinds["cn_vat_pdf"]
    statuses = Counter(d["expected_status"] for d in sample.documents)
    assert statuses["duplicate"] == 1 and statuses["quarantined"] == 2
    assert statuses["extracted"] == len(sample.documents) - 3
    for doc in sample.documents:
        if doc["kind"] in ("not_invoice", "corrupt"):
            assert doc["expected_status"] == "quarantined" and doc["invoice"] is None
    assert any(
        d["invoice"] and d["invoice"]["document_type"] == "credit_note" for d in sample.documents
    )


def test_duplicate_is_the_same_bytes_as_an_earlier_file(sample) -> None:
    (duplicate,) = [d for d in sample.documents if d["expected_status"] == "duplicate"]
    originals = [d for d in sample.documents if d["sha256"] == duplicate["sha256"]]
    assert len(originals) == 2
    (original,) = [d for d in originals if d is not duplicate]
    assert original["expected_status"] == "extracted"
    assert original["received_at"] < duplicate["received_at"]
    assert duplicate["expected_posting"] is None
    assert duplicate["invoice"] == original["invoice"]


def test_invoice_amounts_add_up_exactly(sample) -> None:
    for doc in sample.documents:
        invoice = doc["invoice"]
        if invoice is None:
            continue
        subtotal, tax, total = (Decimal(invoice[k]) for k in ("subtotal", "tax_amount", "total"))
        assert subtotal + tax == total
        lines = doc["lines"]
        assert 1 <= len(lines) <= 4
        assert sum(Decimal(ln["amount"]) for ln in lines) == subtotal
        assert sum(Decimal(ln["tax_amount"]) for ln in lines) == tax
        for ln in lines:
            amount = Decimal(ln["amount"])
            assert amount == round_money(Decimal(ln["quantity"]) * Decimal(ln["unit_price"]))
            assert Decimal(ln["tax_amount"]) == round_money(amount * Decimal(ln["tax_rate"]))
        for field in ("subtotal", "tax_amount", "total"):
            assert len(invoice[field].split(".")[1]) == 2
        if invoice["currency"] == "CNY":
            assert invoice["due_date"] is None  # not printed on a Chinese VAT invoice
        else:
            due = dt.date.fromisoformat(invoice["due_date"])
            assert due > dt.date.fromisoformat(invoice["invoice_date"])
        received = dt.datetime.fromisoformat(doc["received_at"]).date()
        assert 0 <= (received - dt.date.fromisoformat(invoice["invoice_date"])).days <= 3


def test_expected_postings_balance_to_zero(sample) -> None:
    config = CompanyConfig(sample.home / "company")
    rules = yaml.safe_load(config.rules_path.read_text(encoding="utf-8"))["rules"]
    covered = {r["when"]["supplier_id"] for r in rules if r["id"].startswith("r-sup-")}
    no_rule = {s.supplier_id for s in config.suppliers} - covered
    assert len(no_rule) == 2
    seen_postings = 0
    for doc in sample.documents:
        posting, invoice = doc["expected_posting"], doc["invoice"]
        if invoice is None or doc["expected_status"] != "extracted":
            assert posting is None
            continue
        if invoice["supplier_id"] in no_rule:
            assert posting is None and doc["expected_review"] == "no_rule"
            continue
        if doc["expected_review"] == "approval":  # the professional-fees limit
            assert posting is None and Decimal(invoice["total"]) > Decimal("7500.00")
            continue
        assert doc["expected_review"] is None
        seen_postings += 1
        amounts = {p["account"]: Decimal(p["amount"]) for p in posting}
        assert sum(amounts.values()) == 0
        sign = -1 if invoice["document_type"] == "credit_note" else 1
        if invoice["currency"] == "EUR":
            assert amounts["1400"] == sign * Decimal(invoice["tax_amount"])
            assert amounts["2000"] == -sign * Decimal(invoice["total"])
        else:
            rate = config.fx.rate("CNY", dt.date.fromisoformat(invoice["invoice_date"]), "EUR")
            assert amounts["1400"] == sign * round_money(Decimal(invoice["tax_amount"]) * rate)
            expense = [a for acct, a in amounts.items() if acct not in ("1400", "2000")]
            # the Chinese suppliers' lines all go to one account: one net leg, rounded once
            assert expense == [sign * round_money(Decimal(invoice["subtotal"]) * rate)]
        if invoice["currency"] == "EUR":  # each line on its item's account, net per account
            net = sum(a for acct, a in amounts.items() if acct not in ("1400", "2000"))
            assert net == sign * Decimal(invoice["subtotal"])
    assert seen_postings > 20


def test_identifiers_on_invoices_are_valid(sample) -> None:
    for doc in sample.documents:
        invoice = doc["invoice"]
        if invoice is None:
            continue
        reference = invoice["payment_reference"]
        if reference.startswith("RF"):
            assert checksums.is_valid_rf(reference)
        else:
            assert reference == invoice["invoice_number"]
        if invoice["currency"] == "CNY":
            assert checksums.is_valid_uscc(invoice["supplier_tax_id"])
            assert checksums.is_valid_uscc(invoice["buyer_tax_id"])
            assert invoice["buyer_name"] == "克洛斯弗洛（上海）贸易有限公司"
            assert len(invoice["invoice_number"]) == 8 and invoice["invoice_number"].isdigit()
            assert invoice["supplier_iban"] is None
        else:
            assert checksums.is_valid_de_vat_id(invoice["supplier_tax_id"])
            assert checksums.is_valid_iban(invoice["supplier_iban"])
            assert invoice["buyer_name"] == "Closeflow Demo GmbH"


def test_digital_pdf_text_layer_shows_number_and_total(sample) -> None:
    languages = {
        s.supplier_id: s.language for s in CompanyConfig(sample.home / "company").suppliers
    }
    digital = [
        d
        for d in sample.documents
        if d["kind"] == "digital_pdf" and d["expected_status"] == "extracted"
    ]
    assert digital
    for doc in digital[:12]:
        invoice = doc["invoice"]
        locale = "de" if languages[invoice["supplier_id"]] == "de" else "en"
        text = _pdf_text(sample.home / doc["file"])
        assert invoice["invoice_number"] in text
        assert f"Total EUR: {format_amount(Decimal(invoice['total']), locale)}" in text
        assert invoice["payment_reference"] in text
        title = "CREDIT NOTE" if invoice["document_type"] == "credit_note" else "INVOICE"
        assert title in text


def test_chinese_vat_pdf_text_layer(sample) -> None:
    chinese = [d for d in sample.documents if d["kind"] == "cn_vat_pdf"]
    assert chinese
    for doc in chinese:
        text = _pdf_text(sample.home / doc["file"])
        invoice = doc["invoice"]
        assert f"发票号码: {invoice['invoice_number']}" in text
        assert invoice["buyer_name"] in text
        assert f"(小写) ¥{Decimal(invoice['total']):,.2f}" in text
        assert "增值税" in text and "价税合计(大写)" in text


def test_scans_are_grayscale_images_at_scanner_resolution(sample) -> None:
    scans = [d for d in sample.documents if d["kind"] in ("scan_png", "scan_jpeg", "cn_vat_scan")]
    assert scans
    for doc in scans:
        with Image.open(sample.home / doc["file"]) as image:
            assert image.mode == "L"
            assert image.format == ("PNG" if doc["kind"] == "scan_png" else "JPEG")
            assert 150 <= round(image.info["dpi"][0]) <= 300


def test_corrupt_pdf_cannot_be_opened(sample) -> None:
    for doc in (d for d in sample.documents if d["kind"] == "corrupt"):
        path = sample.home / doc["file"]
        assert path.read_bytes().startswith(b"%PDF")
        with pytest.raises(pdfium.PdfiumError):
            pdfium.PdfDocument(path)


def test_letter_is_a_readable_pdf_without_invoice_fields(sample) -> None:
    (letter,) = [d for d in sample.documents if d["kind"] == "not_invoice"]
    text = _pdf_text(sample.home / letter["file"])
    assert "Dear customer" in text
    assert "Invoice number" not in text and "Total" not in text
