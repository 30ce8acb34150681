"""Invoices rendered for the ocr tests, in another layout than the sample generator's
(so extraction is not tuned to one), and the ways to degrade them into scans.

Rendering uses reportlab and pypdfium2; scans are degraded with PIL and numpy like a
cheap office scanner (grey paper, skew, blur, noise) at 200 dpi to keep OCR quick.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
from PIL import Image, ImageFilter
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

# The invoices in the tests' own layout and the photo renderers live in closeflow.sample
# (bench/ocr_preprocess.py renders them too); re-exported here for the tests.
from closeflow.sample.fonts import LATIN, LATIN_BOLD, register_fonts
from closeflow.sample.layouts import (  # noqa: F401
    TODAY,
    ChineseInvoice,
    EnglishInvoice,
    _draw_english,
    _draw_totals,
    draw_item_rows,
    render_chinese,
    render_english,
    uscc,
)
from closeflow.sample.photo import (  # noqa: F401
    EXIF_TURN_CLOCKWISE,
    ORIENTATION_TAG,
    _perspective_coeffs,
    phone_photo,
    render_pages,
    turned,
)
from closeflow.sample.scan import office_scan as scan  # noqa: F401 (used by the tests)


def image_pdf(image: Path, out: Path, text_page: str | None = None) -> Path:
    """A PDF whose first page is only a picture (a scanned PDF), optionally followed by a
    digital page of text."""
    c = canvas.Canvas(str(out), pagesize=A4)
    c.drawImage(str(image), 0, 0, width=A4[0], height=A4[1])
    c.showPage()
    if text_page:
        register_fonts()
        c.setFont(LATIN, 10)
        y = A4[1] - 60
        for line in text_page.splitlines():
            c.drawString(50, y, line)
            y -= 14
        c.showPage()
    c.save()
    return out


def pdf_bytes(draw) -> bytes:  # noqa: ANN001
    buffer = io.BytesIO()
    c = canvas.Canvas(buffer, pagesize=A4)
    draw(c)
    c.showPage()
    c.save()
    return buffer.getvalue()


# ---------------------------------------------------------------- other languages

# The German, French, Dutch and Spanish invoices live in closeflow.sample.local_invoices
# (bench/ocr_accuracy.py renders them too); re-exported here for the tests.
from closeflow.sample.local_invoices import (  # noqa: E402
    DUTCH_INVOICE,
    DUTCH_LABELS,
    FRENCH_INVOICE,
    FRENCH_LABELS,
    GERMAN_INVOICE,
    GERMAN_LABELS,
    LOCAL_INVOICES,
    SPANISH_INVOICE,
    SPANISH_LABELS,
    LocalInvoice,
    render_local,
)

__all__ = [
    "DUTCH_INVOICE",
    "DUTCH_LABELS",
    "FRENCH_INVOICE",
    "FRENCH_LABELS",
    "GERMAN_INVOICE",
    "GERMAN_LABELS",
    "LOCAL_INVOICES",
    "SPANISH_INVOICE",
    "SPANISH_LABELS",
    "LocalInvoice",
    "render_local",
]


ENGLISH_INVOICE = EnglishInvoice()  # the default invoice of the renderers below

# --- every document form (tests/ocr/test_documents.py, bench/ocr_preprocess.py) ---------
# Appended here: a multi-page layout, digital pages with image regions, an encrypted copy,
# pages turned, multi-page TIFFs and phone photos.


def degrade(image: Image.Image, *, angle: float = 0.8, seed: int = 1) -> Image.Image:
    """A rendered page as a cheap office scan: turned by `angle`, blurred, grey, noisy."""
    image = image.rotate(angle, resample=Image.Resampling.BICUBIC, fillcolor=255)
    image = image.filter(ImageFilter.GaussianBlur(0.6))
    pixels = np.asarray(image, dtype=np.float32) * (235 - 30) / 255 + 30
    pixels += np.random.default_rng(seed).normal(0, 6, pixels.shape)
    return Image.fromarray(np.clip(pixels, 0, 255).round().astype(np.uint8))


@dataclass(frozen=True)
class LongInvoice:
    """An invoice whose item table runs over two pages; totals on the last page."""

    supplier: str = "Hafenlicht Technik GmbH"
    supplier_vat: str = "DE811907980"
    number: str = "HT-2026-0317"
    date: str = "12 Jan 2026"
    due: str = "11 Feb 2026"
    lines: tuple = (
        ("Cable ties 200 mm, pack of 100", "4", "3.20", "12.80"),
        ("LED panel 60x60 cm", "6", "41.50", "249.00"),
        ("Mounting rail 2 m", "10", "7.90", "79.00"),
        ("Junction box IP65", "12", "5.35", "64.20"),
        ("Installation cable NYM 3x1.5, 50 m", "3", "48.60", "145.80"),
        ("Motion sensor 180 degrees", "5", "19.90", "99.50"),
        ("Wall switch, white", "20", "2.45", "49.00"),
        ("Service call, per hour", "3", "65.00", "195.00"),
    )
    on_first_page: int = 5
    subtotal: str = "894.30"
    vat: str = "169.92"
    total: str = "1,064.22"


def render_long(path: Path, inv: LongInvoice = LongInvoice(), **canvas_options: object) -> Path:
    """Two pages: header and the first items, then the remaining items and the totals."""
    register_fonts()
    c = canvas.Canvas(str(path), pagesize=A4, **canvas_options)
    width, height = A4

    def table_header(y: float) -> None:
        c.setFont(LATIN_BOLD, 10)
        for x, text in ((50, "Description"), (330, "Qty"), (400, "Unit price"), (500, "Amount")):
            c.drawString(x, y, text)
        c.setFont(LATIN, 10)

    y = height - 60
    c.setFont(LATIN_BOLD, 16)
    c.drawString(50, y, inv.supplier)
    c.drawRightString(width - 50, y, "INVOICE")
    c.setFont(LATIN, 10)
    y -= 18
    c.drawString(50, y, "Kaistraße 8, 24103 Kiel")
    y -= 16
    c.drawString(50, y, f"VAT ID: {inv.supplier_vat}")
    y -= 30
    for label, value in (
        ("Invoice number:", inv.number),
        ("Invoice date:", inv.date),
        ("Due date:", inv.due),
    ):
        c.drawString(50, y, label)
        c.drawString(170, y, value)
        y -= 16
    y -= 20
    table_header(y)
    draw_item_rows(c, inv.lines[: inv.on_first_page], y)
    c.drawString(50, 60, "Continued on page 2")
    c.drawRightString(545, 60, "Page 1 of 2")
    c.showPage()
    c.setFont(LATIN, 10)
    y = height - 60
    c.drawString(50, y, f"{inv.supplier}, invoice {inv.number} (continued)")
    y -= 30
    table_header(y)
    y = draw_item_rows(c, inv.lines[inv.on_first_page :], y)
    y -= 30
    for label, value in (
        ("Subtotal:", inv.subtotal),
        ("VAT 19%:", inv.vat),
        ("Total EUR:", inv.total),
    ):
        c.drawString(380, y, label)
        c.drawRightString(545, y, value)
        y -= 16
    c.drawRightString(545, 60, "Page 2 of 2")
    c.showPage()
    c.save()
    return path


def owner_password_only() -> object:
    """reportlab encryption with an owner password only: the PDF opens without a password,
    but editing and copying are restricted (as many supplier systems send them)."""
    from reportlab.lib.pdfencrypt import StandardEncryption

    return StandardEncryption("", ownerPassword="x", canPrint=1)


def _scanned_piece(
    draw: Callable[[canvas.Canvas], None], size: tuple[float, float], out: Path, dpi: int = 200
) -> Path:
    """A small drawing (`draw(canvas)` on a page of `size` points) as a degraded scan."""
    buffer = io.BytesIO()
    c = canvas.Canvas(buffer, pagesize=size)
    draw(c)
    c.showPage()
    c.save()
    document = pdfium.PdfDocument(buffer.getvalue())
    image = document[0].render(scale=dpi / 72, grayscale=True).to_pil().convert("L")
    document.close()
    degrade(image, angle=0.4, seed=3).save(out, dpi=(dpi, dpi))
    return out


def _with_pasted_totals(c: canvas.Canvas, path: Path, inv: EnglishInvoice) -> Path:
    """Draw the invoice without its totals, paste them as a scanned image, and save."""
    y = _draw_english(c, inv, totals=False)
    w, h = 200.0, 64.0
    piece = _scanned_piece(
        lambda pc: _draw_totals(pc, inv, 15, h - 18), (w, h), path.with_suffix(".totals.png")
    )
    c.drawImage(str(piece), 365, y - h + 18, width=w, height=h)
    c.showPage()
    c.save()
    return path


def render_pasted_totals(path: Path, inv: EnglishInvoice = ENGLISH_INVOICE) -> Path:
    """A digital invoice whose totals block is a pasted scan (an image, no text layer)."""
    c = canvas.Canvas(str(path), pagesize=A4)
    return _with_pasted_totals(c, path, inv)


def render_turned_pasted_totals(
    path: Path, rotation: int, inv: EnglishInvoice = ENGLISH_INVOICE
) -> Path:
    """`render_pasted_totals` on a page with /Rotate `rotation` (90, 180 or 270): the page
    is stored turned the other way (landscape for 90 and 270, as a sideways scanner or a
    rotated print driver writes it) and upright as shown, text layer and pasted image
    alike."""
    width, height = A4
    c = canvas.Canvas(str(path), pagesize=A4)
    c.setPageRotation(rotation)  # reportlab stores the page turned by it (width, height swap)
    shift = {90: (height, 0.0), 180: (width, height), 270: (0.0, width)}[rotation]
    c.translate(*shift)
    c.rotate(rotation)  # the page as shown, in the stored page's space
    return _with_pasted_totals(c, path, inv)


LETTER = (612.0, 792.0)  # US Letter, points
RECEIPT = (226.8, 623.6)  # 80 x 220 mm till roll


def render_letter(path: Path, inv: EnglishInvoice = ENGLISH_INVOICE) -> Path:
    """`render_english` on US Letter paper (8.5 x 11 in)."""
    c = canvas.Canvas(str(path), pagesize=LETTER)
    c.translate(0, LETTER[1] - A4[1])  # the same margin from the top
    _draw_english(c, inv)
    c.showPage()
    c.save()
    return path


RECEIPT_LINES = (
    ("Cafe Lumen", ""),
    ("Receipt no.", "R-20931"),
    ("Date", "05 Jan 2026"),
    ("Flat white", "3.80"),
    ("Croissant", "2.60"),
    ("Sparkling water", "2.90"),
    ("Total EUR", "9.30"),
)


def render_receipt(path: Path) -> Path:
    """A till receipt on 80 mm paper, its text the size a till prints (9 pt)."""
    register_fonts()
    width, height = RECEIPT
    c = canvas.Canvas(str(path), pagesize=RECEIPT)
    y = height - 40
    for label, value in RECEIPT_LINES:
        c.setFont(LATIN_BOLD if not value or label.startswith("Total") else LATIN, 9)
        c.drawString(14, y, label)
        c.drawRightString(width - 14, y, value)
        y -= 20
    c.showPage()
    c.save()
    return path


def render_stamped(path: Path, inv: EnglishInvoice = ENGLISH_INVOICE) -> Path:
    """A digital invoice with a received stamp pasted on it as an image."""
    c = canvas.Canvas(str(path), pagesize=A4)
    _draw_english(c, inv)
    w, h = 170.0, 80.0

    def stamp(sc: canvas.Canvas) -> None:
        register_fonts()
        sc.setStrokeGray(0.35)
        sc.setFillGray(0.35)
        sc.setLineWidth(2.5)
        sc.roundRect(5, 5, w - 10, h - 10, 8)
        sc.setFont(LATIN_BOLD, 16)
        sc.drawCentredString(w / 2, h - 32, "RECEIVED")
        sc.setFont(LATIN, 11)
        sc.drawCentredString(w / 2, h - 52, "14 JAN 2026")
        sc.drawCentredString(w / 2, h - 68, "Accounts payable")

    piece = _scanned_piece(stamp, (w, h), path.with_suffix(".stamp.png"))
    c.drawImage(str(piece), 360, 130, width=w, height=h)
    c.showPage()
    c.save()
    return path


def render_partial_text_scan(path: Path, inv: EnglishInvoice = ENGLISH_INVOICE) -> Path:
    """A scanned page (one full-page image) whose text layer covers only the letterhead:
    invisible text over the scan, as a scanner's half-finished OCR leaves it."""
    plain = render_english(path.with_suffix(".plain.pdf"), inv)
    scanned = path.with_suffix(".scan.png")
    degrade(render_pages(plain)[0], angle=0.0, seed=4).save(scanned, dpi=(200, 200))
    c = canvas.Canvas(str(path), pagesize=A4)
    c.drawImage(str(scanned), 0, 0, width=A4[0], height=A4[1])
    register_fonts()
    width, height = A4
    text = c.beginText()
    text.setTextRenderMode(3)  # invisible, as OCR text layers are
    for x, y, font, size, line in (
        (50, height - 60, LATIN_BOLD, 16, inv.supplier),
        (50, height - 78, LATIN, 10, "Hafenstraße 12, 20457 Hamburg"),
        (50, height - 94, LATIN, 10, f"VAT ID: {inv.supplier_vat}"),
        (300, height - 94, LATIN, 10, f"IBAN: {inv.iban}"),
    ):
        text.setFont(font, size)
        text.setTextOrigin(x, y)
        text.textLine(line)
    c.drawText(text)
    c.showPage()
    c.save()
    return path


def multipage_tiff(pdf: Path, out: Path, dpi: int = 200) -> Path:
    """Every page of `pdf` as a degraded scan, in one multi-page TIFF (as a scanner's
    feeder writes them)."""
    pages = [degrade(p, seed=10 + k) for k, p in enumerate(render_pages(pdf, dpi))]
    pages[0].save(
        out, format="TIFF", save_all=True, append_images=pages[1:], dpi=(dpi, dpi),
        compression="tiff_lzw",
    )  # fmt: skip
    return out
