"""Every kind of bad input comes back quarantined with a reason, never as an exception."""

from __future__ import annotations

import hashlib
import os
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image
from reportlab.pdfgen import canvas

from ocr.extract import extract_file
from ocr.model import ExtractedInvoice


def png_bomb(width: int, height: int) -> bytes:
    """A valid 1-bit PNG of `width` x `height` zeros: ~200 KB that inflate to gigapixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    rows = (b"\x00" * (1 + (width + 7) // 8)) * 1000
    packer = zlib.compressobj(9)
    body = b"".join(packer.compress(rows) for _ in range(height // 1000)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    chunks = chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + chunks


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
