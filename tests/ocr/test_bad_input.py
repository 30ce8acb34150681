"""Every kind of bad input comes back quarantined with a reason, never as an exception."""

from __future__ import annotations

import hashlib
import os
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter
from reportlab.pdfgen import canvas

from ocr.extract import extract_file
from ocr.model import ExtractedInvoice
from tests.bad_files import pdf_image_bomb, png_bomb


def invoice_pdf(path: Path, **options: object) -> Path:
    c = canvas.Canvas(str(path), **options)
    c.drawString(72, 720, "Invoice number: INV-1")
    c.drawString(72, 700, "Total EUR: 100.00")
    c.save()
    return path


def _quarantined(path: Path, reason_start: str) -> ExtractedInvoice:
    inv = extract_file(path)
    assert inv.status == "quarantined"
    assert len(inv.review_reasons) == 1
    assert inv.review_reasons[0].startswith(reason_start), inv.review_reasons
    data = path.read_bytes()
    assert inv.file_sha256 == hashlib.sha256(data).hexdigest()
    assert inv.size_bytes == len(data)
    assert inv.file == str(path)
    return inv


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "scan.pdf"
    path.write_bytes(b"")
    _quarantined(path, "the file is empty (0 bytes)")


def test_truncated_pdf(tmp_path: Path) -> None:
    whole = invoice_pdf(tmp_path / "whole.pdf").read_bytes()
    path = tmp_path / "truncated.pdf"
    path.write_bytes(whole[: len(whole) // 2])
    inv = _quarantined(path, "the PDF is damaged and cannot be opened")
    assert inv.media_type == "application/pdf"


def test_password_protected_pdf(tmp_path: Path) -> None:
    path = invoice_pdf(tmp_path / "locked.pdf", encrypt="secret")
    _quarantined(path, "the PDF is password-protected")


def test_random_bytes_named_pdf(tmp_path: Path) -> None:
    path = tmp_path / "invoice.pdf"
    path.write_bytes(os.urandom(4096).replace(b"%PDF", b"%PDX"))
    inv = _quarantined(
        path, "not a supported document type (unrecognised binary content, named .pdf)"
    )
    assert inv.media_type == "application/octet-stream"


def test_pdf_header_with_garbage_behind_it(tmp_path: Path) -> None:
    path = tmp_path / "invoice.pdf"
    path.write_bytes(b"%PDF-1.7\n" + os.urandom(4096))
    _quarantined(path, "the PDF is damaged and cannot be opened")


def test_text_file_named_png(tmp_path: Path) -> None:
    path = tmp_path / "invoice.png"
    path.write_text("Invoice number: 42\nTotal: 100.00 EUR\n", encoding="utf-8")
    _quarantined(path, "not a supported document type (plain text, named .png)")


def test_other_formats_say_what_they_are(tmp_path: Path) -> None:
    path = tmp_path / "invoice.gif"
    Image.new("L", (20, 20), 255).save(path, format="GIF")
    _quarantined(path, "not a supported document type (a GIF image, named .gif)")


def test_decompression_bomb(tmp_path: Path) -> None:
    path = tmp_path / "scan.png"
    path.write_bytes(png_bomb(40_000, 40_000))  # 1.6 gigapixels in ~200 KB
    inv = _quarantined(path, "the image is too large to read safely")
    assert inv.media_type == "image/png"


def test_image_over_the_page_limit(tmp_path: Path) -> None:
    path = tmp_path / "scan.png"
    path.write_bytes(png_bomb(9_000, 9_000))  # under PIL's own limit, over ours
    _quarantined(path, "the image is too large to read safely (9000 x 9000 pixels")


def test_truncated_image(tmp_path: Path) -> None:
    whole = tmp_path / "whole.png"
    Image.effect_noise((600, 800), 60).save(whole)
    path = tmp_path / "scan.png"
    path.write_bytes(whole.read_bytes()[:5000])
    _quarantined(path, "the image is damaged and cannot be read")


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_blank_page(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"blank{suffix}"
    Image.new("L", (1240, 1754), 255).save(path, dpi=(150, 150))
    _quarantined(path, "no text could be read")


def test_a_letter_is_not_an_invoice(tmp_path: Path) -> None:
    path = tmp_path / "letter.pdf"
    c = canvas.Canvas(str(path))
    c.drawString(72, 720, "Dear customer, our office moves to Hafenstrasse 12 on 1 March 2026.")
    c.drawString(72, 700, "Your contact person and bank details stay the same. Kind regards")
    c.save()
    _quarantined(path, "not an invoice: no invoice number and no total found (starts: 'Dear")


def test_a_scan_named_pdf_is_read_as_what_it_is(english_scan: Path, tmp_path: Path) -> None:
    path = tmp_path / "invoice.pdf"  # a PNG a mail gateway renamed
    path.write_bytes(english_scan.read_bytes())
    inv = extract_file(path)
    assert (inv.media_type, inv.extraction_method) == ("image/png", "ocr")
    assert (inv.invoice_number, inv.total) == ("NW-2026-0042", Decimal("145.78"))


def test_corrupt_pdf_body(tmp_path: Path) -> None:
    whole = invoice_pdf(tmp_path / "whole.pdf").read_bytes()
    garbage = np.random.default_rng(8).integers(0, 256, len(whole) // 2, dtype=np.uint8)
    path = tmp_path / "corrupt.pdf"  # header and trailer intact, the objects between garbled
    path.write_bytes(whole[:40] + garbage.tobytes() + whole[40 + len(garbage) :])
    inv = _quarantined(path, "the PDF is damaged and cannot be opened")
    assert inv.media_type == "application/pdf"


def _holiday_photo(path: Path) -> Path:
    """A phone photo with no text in it: sky, hills, trees, JPEG at 72 dpi."""
    rng = np.random.default_rng(5)
    w, h = 2000, 1500
    rows = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
    sky = np.array([120, 160, 230]) + np.array([60, 40, -30]) * rows
    image = Image.fromarray(np.broadcast_to(sky, (h, w, 3)).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 900, w, h), fill=(70, 110, 50))
    draw.polygon([(300, 900), (700, 350), (1100, 900)], fill=(90, 90, 100))
    for _ in range(40):
        x, y, r = rng.integers(0, w), rng.integers(500, h), rng.integers(20, 160)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=tuple(rng.integers(20, 200, 3).tolist()))
    pixels = np.asarray(image.filter(ImageFilter.GaussianBlur(2)), dtype=np.float32)
    pixels += rng.normal(0, 5, pixels.shape)
    Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(path, quality=85, dpi=(72, 72))
    return path


def test_a_photo_that_is_not_an_invoice(tmp_path: Path) -> None:
    inv = _quarantined(_holiday_photo(tmp_path / "IMG_2041.jpg"), "no text could be read")
    assert inv.media_type == "image/jpeg"


def test_a_file_tesseract_cannot_finish_times_out(tmp_path: Path) -> None:
    path = tmp_path / "scan.png"  # a page of salt-and-pepper noise: endless layout analysis
    noise = np.random.default_rng(3).random((3200, 2400)) < 0.5
    Image.fromarray(noise.astype(np.uint8) * 255).save(path, dpi=(300, 300))
    inv = extract_file(path, ocr_timeout=1)
    assert (inv.status, inv.review_reasons) == ("quarantined", ["OCR timed out after 1 s"])
    assert inv.extraction_method == "ocr"


def test_image_bomb_inside_a_pdf(tmp_path: Path) -> None:
    path = tmp_path / "scan.pdf"
    path.write_bytes(pdf_image_bomb(20_000, 20_000))  # 400 million pixels in ~50 KB
    inv = _quarantined(
        path, "the PDF holds an image too large to read safely (20000 x 20000 pixels"
    )
    assert inv.media_type == "application/pdf"


def test_a_small_image_is_read_inside_a_pdf(tmp_path: Path) -> None:
    path = tmp_path / "blank.pdf"  # the same PDF with a harmless image: read, not refused
    path.write_bytes(pdf_image_bomb(1_000, 1_000))
    _quarantined(path, "no text could be read")
