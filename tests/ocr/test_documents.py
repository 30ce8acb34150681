"""Every document form through real tesseract: digital pages with image regions (a pasted
scan of the totals, a stamp, a scan under a partial text layer; on a page with /Rotate
too), an invoice over two pages, an encrypted PDF that opens without a password, pages
turned sideways or upside down, phone photos, and a two-page TIFF."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from PIL import Image
from reportlab.lib.pagesizes import A4
from reportlab.lib.pdfencrypt import StandardEncryption
from reportlab.pdfgen import canvas

from ocr import load
from ocr.extract import _read_words, extract_file
from ocr.model import ExtractedInvoice
from tests.ocr.documents import (
    TODAY,
    ChineseInvoice,
    EnglishInvoice,
    LongInvoice,
    _draw_english,
    multipage_tiff,
    owner_password_only,
    phone_photo,
    render_long,
    render_partial_text_scan,
    render_pasted_totals,
    render_stamped,
    render_turned_pasted_totals,
    turned,
)

NORDWIND = ("NW-2026-0042", dt.date(2026, 1, 5), Decimal("122.50"), Decimal("23.28"))
NORDWIND_TOTAL = Decimal("145.78")


def _fields(inv: ExtractedInvoice) -> tuple:
    return (inv.invoice_number, inv.invoice_date, inv.subtotal, inv.tax_amount, inv.total)


def _assert_nordwind(inv: ExtractedInvoice) -> None:
    assert _fields(inv) == (*NORDWIND, NORDWIND_TOTAL)
    assert (inv.supplier_tax_id, inv.currency) == ("DE123456788", "EUR")


def _assert_long(inv: ExtractedInvoice) -> None:
    assert _fields(inv) == (
        "HT-2026-0317",
        dt.date(2026, 1, 12),
        Decimal("894.30"),
        Decimal("169.92"),
        Decimal("1064.22"),
    )
    assert inv.due_date == dt.date(2026, 2, 11)
    assert inv.supplier_tax_id == "DE811907980"


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("documents")


@pytest.fixture(scope="module")
def long_pdf(folder: Path) -> Path:
    return render_long(folder / "long.pdf")


# --- PDFs ------------------------------------------------------------------------------


def test_pasted_scan_of_the_totals_is_read_from_the_image(folder: Path) -> None:
    path = render_pasted_totals(folder / "pasted.pdf")
    inv = extract_file(path, today=TODAY)
    assert inv.extraction_method == "mixed"
    _assert_nordwind(inv)  # net, tax and total exist only in the pasted image
    assert inv.status == "extracted", inv.review_reasons
    assert [(i.description, i.amount) for i in inv.line_items] == [
        ("Printer paper A4, 80 g", Decimal("45.00")),
        ("Toner cartridge black", Decimal("77.50")),
    ]


def test_ocr_words_of_a_region_sit_where_the_image_is(folder: Path, english_pdf: Path) -> None:
    path = render_pasted_totals(folder / "placed.pdf")
    words, method = _read_words(load.read_input(path), 300, 60)
    assert method == "mixed"
    total = next(w for w in words if w.text == "145.78")
    assert total.conf < 0.99  # from OCR, not the text layer
    # where the same total is in the all-digital invoice's text layer (points from the
    # top-left), within a couple of points (OCR boxes are tight, text-layer boxes loose)
    digital, _ = _read_words(load.read_input(english_pdf), 300, 60)
    exact = next(w for w in digital if w.text == "145.78")
    assert abs(total.x0 - exact.x0) < 2 and abs(total.x1 - exact.x1) < 2
    assert exact.y0 - 1 < total.y0 < total.y1 < exact.y1 + 1
    assert next(w for w in words if w.text == "77.50").conf == 0.99  # text layer above it


@pytest.mark.parametrize("rotation", [90, 180, 270])
def test_image_region_on_a_page_with_rotate_is_read(
    folder: Path, english_pdf: Path, rotation: int
) -> None:
    path = render_turned_pasted_totals(folder / f"rotate{rotation}.pdf", rotation)
    document = pdfium.PdfDocument(path.read_bytes())
    assert document[0].get_rotation() == rotation  # a real /Rotate, not a drawn turn
    document.close()
    inv = extract_file(path, today=TODAY)
    assert inv.extraction_method == "mixed"
    _assert_nordwind(inv)  # net, tax and total exist only in the pasted image
    assert inv.status == "extracted", inv.review_reasons
    assert inv.supplier_name == "Nordwind Bürobedarf GmbH"  # the text layer, shown upright
    # text-layer and OCR words in the page's coordinates as shown, where the unturned
    # invoice has them
    words, _ = _read_words(load.read_input(path), 300, 60)
    digital, _ = _read_words(load.read_input(english_pdf), 300, 60)
    for text, conf in (("145.78", None), ("77.50", 0.99)):
        word = next(w for w in words if w.text == text)
        exact = next(w for w in digital if w.text == text)
        assert conf is None and word.conf < 0.99 or word.conf == conf
        assert abs(word.x0 - exact.x0) < 2 and abs(word.x1 - exact.x1) < 2
        assert exact.y0 - 1 < word.y0 < word.y1 < exact.y1 + 1


def test_stamp_image_on_a_digital_invoice(folder: Path) -> None:
    inv = extract_file(render_stamped(folder / "stamped.pdf"), today=TODAY)
    assert inv.extraction_method == "mixed"
    _assert_nordwind(inv)
    assert inv.status == "extracted", inv.review_reasons
    words, _ = _read_words(load.read_input(folder / "stamped.pdf"), 300, 60)
    ocr = [w.text for w in words if w.conf < 0.99]
    assert ocr == ["RECEIVED", "14", "JAN", "2026", "Accounts", "payable"]


def test_scan_with_a_partial_text_layer_reads_the_rest_once(folder: Path) -> None:
    path = render_partial_text_scan(folder / "partial.pdf")
    inv = extract_file(path, today=TODAY)
    assert inv.extraction_method == "mixed"
    _assert_nordwind(inv)
    assert inv.supplier_name == "Nordwind Bürobedarf GmbH"
    words, _ = _read_words(load.read_input(path), 300, 60)
    # the letterhead comes from the text layer only: blanked in the image before OCR
    assert [(w.text, w.conf) for w in words if w.text == "Nordwind"] == [("Nordwind", 0.99)]
    assert [w.text for w in words if w.text == "NW-2026-0042"] == ["NW-2026-0042"]


def test_a_letterhead_logo_is_not_ocrd(folder: Path) -> None:
    logo = folder / "logo.png"
    Image.new("L", (300, 110), 90).save(logo)
    path = folder / "logo.pdf"
    c = canvas.Canvas(str(path), pagesize=A4)
    _draw_english(c, EnglishInvoice())
    c.drawImage(str(logo), A4[0] - 210, A4[1] - 90, width=150, height=55)  # 1.7 % of A4
    c.showPage()
    c.save()
    inv = extract_file(path, today=TODAY)
    assert inv.extraction_method == "text"
    _assert_nordwind(inv)


def test_invoice_over_two_pages(long_pdf: Path) -> None:
    inv = extract_file(long_pdf, today=TODAY)
    assert inv.extraction_method == "text"
    assert inv.status == "extracted", inv.review_reasons
    _assert_long(inv)
    assert [(i.description, i.quantity, i.amount) for i in inv.line_items] == [
        (d, Decimal(q), Decimal(a)) for d, q, _, a in LongInvoice.lines
    ]
    assert sum(i.amount for i in inv.line_items) == inv.subtotal


def test_pdf_with_an_owner_password_only_is_read(folder: Path) -> None:
    path = render_long(folder / "restricted.pdf", encrypt=owner_password_only())
    assert b"/Encrypt" in path.read_bytes()
    inv = extract_file(path, today=TODAY)
    assert inv.status == "extracted", inv.review_reasons
    _assert_long(inv)
    assert len(inv.line_items) == len(LongInvoice.lines)


def test_pdf_with_a_user_password_stays_quarantined(folder: Path) -> None:
    path = render_long(
        folder / "locked.pdf", encrypt=StandardEncryption("open-sesame", ownerPassword="x")
    )
    inv = extract_file(path, today=TODAY)
    assert inv.status == "quarantined"
    assert inv.review_reasons == [
        "the PDF is password-protected; ask the supplier for an unprotected copy"
    ]


# --- images ----------------------------------------------------------------------------


@pytest.mark.parametrize("degrees", [90, 180, 270])
def test_scan_turned_sideways_or_upside_down(english_scan: Path, folder: Path, degrees: int):
    path = turned(english_scan, folder / f"turned{degrees}.png", degrees)
    inv = extract_file(path, today=TODAY)
    _assert_nordwind(inv)
    assert inv.status == "extracted", inv.review_reasons


def test_chinese_scan_turned_sideways(chinese_scan: Path, folder: Path) -> None:
    path = turned(chinese_scan, folder / "fapiao90.png", 90)
    inv = extract_file(path, today=TODAY)
    assert (inv.invoice_number, inv.invoice_date) == ("01234567", dt.date(2026, 1, 5))
    assert (inv.subtotal, inv.tax_amount, inv.total) == (
        Decimal("1000.00"),
        Decimal("130.00"),
        Decimal("1130.00"),
    )


@pytest.mark.parametrize(
    ("long_side", "seed", "shadow", "cast", "quality"),
    [(4032, 1, 0.45, 0.0, 85), (2000, 4, 0.65, 0.5, 70), (1600, 3, 0.55, 0.0, 75)],
    ids=["12MP", "2000px-phone-shadow", "1600px"],
)
def test_phone_photo(
    english_pdf: Path, folder: Path, long_side: int, seed: int, shadow: float, cast: float,
    quality: int,
) -> None:  # fmt: skip
    path = phone_photo(
        english_pdf,
        folder / f"photo{long_side}.jpg",
        long_side=long_side,
        seed=seed,
        shadow=shadow,
        cast_shadow=cast,
        quality=quality,
    )
    with Image.open(path) as raw:  # stored sideways, the EXIF tag says to turn it
        assert raw.width > raw.height and raw.getexif()[0x0112] == 6
    inv = extract_file(path, today=TODAY)
    assert inv.media_type == "image/jpeg"
    _assert_nordwind(inv)
    assert inv.status == "extracted", inv.review_reasons


def test_phone_photo_of_a_chinese_invoice(chinese_pdf: Path, folder: Path) -> None:
    path = phone_photo(chinese_pdf, folder / "fapiao-photo.jpg", seed=9, cast_shadow=0.4)
    inv = extract_file(path, today=TODAY)
    assert (inv.invoice_number, inv.invoice_date, inv.total) == (
        ChineseInvoice.number,
        dt.date(2026, 1, 5),
        Decimal("1130.00"),
    )


def test_two_page_tiff_with_the_totals_on_page_two(long_pdf: Path, folder: Path) -> None:
    path = multipage_tiff(long_pdf, folder / "long.tif")
    with Image.open(path) as tiff:
        assert tiff.n_frames == 2
    inv = extract_file(path, today=TODAY)
    assert (inv.media_type, inv.extraction_method) == ("image/tiff", "ocr")
    _assert_long(inv)
    assert inv.status == "extracted", inv.review_reasons
    assert len(inv.line_items) == len(LongInvoice.lines)
    assert sum(i.amount for i in inv.line_items) == Decimal("894.30")
