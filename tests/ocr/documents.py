"""Invoices rendered for the ocr tests, in another layout than the sample generator's
(so extraction is not tuned to one), and the ways to degrade them into scans.

Rendering uses reportlab and pypdfium2; scans are degraded with PIL and numpy like a
cheap office scanner (grey paper, skew, blur, noise) at 200 dpi to keep OCR quick.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
from PIL import Image, ImageFilter
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from closeflow.sample.scan import office_scan as scan  # noqa: F401 (used by the tests)
from ocr.chinese import uscc_check_char

DEJAVU = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
DEJAVU_BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
WQY = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"
TODAY = dt.date(2026, 3, 1)  # "now" for the future-date check of 2026 documents


def uscc(first17: str) -> str:
    """A unified social credit code with its correct check character."""
    return first17 + uscc_check_char(first17)


def _fonts() -> None:
    if "CFSans" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("CFSans", DEJAVU))
        pdfmetrics.registerFont(TTFont("CFSans-Bold", DEJAVU_BOLD))
        pdfmetrics.registerFont(TTFont("CFHei", WQY, subfontIndex=0))


@dataclass(frozen=True)
class EnglishInvoice:
    supplier: str = "Nordwind Bürobedarf GmbH"
    supplier_vat: str = "DE123456788"
    iban: str = "DE89 3704 0044 0532 0130 00"
    number: str = "NW-2026-0042"
    date: str = "05 Jan 2026"
    due: str = "04 Feb 2026"
    reference: str = "RF18539007547034"
    lines: tuple = (
        ("Printer paper A4, 80 g", "10", "4.50", "45.00"),
        ("Toner cartridge black", "2", "38.75", "77.50"),
    )
    subtotal: str = "122.50"
    vat_label: str = "VAT 19%"
    vat: str = "23.28"
    total: str = "145.78"
    title: str = "INVOICE"


def render_english(path: Path, inv: EnglishInvoice = EnglishInvoice()) -> Path:
    """An invoice laid out differently from the generator's: labels left, values in a column."""
    c = canvas.Canvas(str(path), pagesize=A4)
    _draw_english(c, inv)
    c.showPage()
    c.save()
    return path


@dataclass(frozen=True)
class ChineseInvoice:
    """A 增值税发票; `items` (rows of the columns below) replace the one `item` if given."""

    title: str = "上海增值税专用发票"
    code: str = "3100201130"
    number: str = "01234567"
    date: str = "2026年01月05日"
    check_code: str = "12345 67890 12345 67890"  # "": not printed
    buyer: str = "克洛斯弗洛（上海）贸易有限公司"
    buyer_id: str = uscc("91310000MA1FL1MM0")
    seller: str = "上海明远科技有限公司"
    seller_id: str = uscc("91310115MA1H7XY21")
    item: tuple = ("办公用品", "A4", "箱", "10", "100.00", "1,000.00", "13%", "130.00")
    items: tuple = ()
    subtotal: str = "1,000.00"
    tax: str = "130.00"
    capitals: str = "壹仟壹佰叁拾元整"
    total: str = "1,130.00"


def render_chinese(path: Path, inv: ChineseInvoice = ChineseInvoice()) -> Path:
    """A 增值税发票 in the layout of docs/sample_company.md, on an A4 page."""
    _fonts()
    c = canvas.Canvas(str(path), pagesize=A4)
    width, height = A4
    y = height - 60
    c.setFont("CFHei", 18)
    c.drawCentredString(width / 2, y, inv.title)
    c.setFont("CFHei", 11)
    y -= 34
    c.drawString(40, y, f"发票代码: {inv.code}")
    c.drawString(220, y, f"发票号码: {inv.number}")
    c.drawString(390, y, f"开票日期: {inv.date}")
    y -= 20
    if inv.check_code:
        c.drawString(40, y, f"校验码: {inv.check_code}")
    y -= 28
    c.drawString(40, y, f"购买方 名称: {inv.buyer}")
    c.drawString(330, y, f"纳税人识别号: {inv.buyer_id}")
    y -= 30
    columns = (40, 170, 240, 280, 320, 380, 450, 500)
    headers = ("货物或应税劳务名称", "规格型号", "单位", "数量", "单价", "金额", "税率", "税额")
    for x, text in zip(columns, headers, strict=True):
        c.drawString(x, y, text)
    for row in inv.items or (inv.item,):
        y -= 20
        for x, text in zip(columns, row, strict=True):
            c.drawString(x, y, text)
    y -= 28
    c.drawString(40, y, "合计")
    c.drawString(380, y, f"¥{inv.subtotal}")
    c.drawString(500, y, f"¥{inv.tax}")
    y -= 24
    c.drawString(40, y, f"价税合计(大写) {inv.capitals}")
    c.drawString(380, y, f"(小写) ¥{inv.total}")
    y -= 28
    c.drawString(40, y, f"销售方 名称: {inv.seller}")
    c.drawString(330, y, f"纳税人识别号: {inv.seller_id}")
    c.showPage()
    c.save()
    return path


def image_pdf(image: Path, out: Path, text_page: str | None = None) -> Path:
    """A PDF whose first page is only a picture (a scanned PDF), optionally followed by a
    digital page of text."""
    c = canvas.Canvas(str(out), pagesize=A4)
    c.drawImage(str(image), 0, 0, width=A4[0], height=A4[1])
    c.showPage()
    if text_page:
        _fonts()
        c.setFont("CFSans", 10)
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


def render_pages(pdf: Path, dpi: int = 200) -> list[Image.Image]:
    """Every page of `pdf` as a clean grey image."""
    document = pdfium.PdfDocument(str(pdf))
    try:
        return [p.render(scale=dpi / 72, grayscale=True).to_pil().convert("L") for p in document]
    finally:
        document.close()


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
    _fonts()
    c = canvas.Canvas(str(path), pagesize=A4, **canvas_options)
    width, height = A4

    def table_header(y: float) -> None:
        c.setFont("CFSans-Bold", 10)
        for x, text in ((50, "Description"), (330, "Qty"), (400, "Unit price"), (500, "Amount")):
            c.drawString(x, y, text)
        c.setFont("CFSans", 10)

    def items(rows: tuple, y: float) -> float:
        for description, qty, price, amount in rows:
            y -= 16
            c.drawString(50, y, description)
            c.drawRightString(350, y, qty)
            c.drawRightString(450, y, price)
            c.drawRightString(545, y, amount)
        return y

    y = height - 60
    c.setFont("CFSans-Bold", 16)
    c.drawString(50, y, inv.supplier)
    c.drawRightString(width - 50, y, "INVOICE")
    c.setFont("CFSans", 10)
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
    items(inv.lines[: inv.on_first_page], y)
    c.drawString(50, 60, "Continued on page 2")
    c.drawRightString(545, 60, "Page 1 of 2")
    c.showPage()
    c.setFont("CFSans", 10)
    y = height - 60
    c.drawString(50, y, f"{inv.supplier}, invoice {inv.number} (continued)")
    y -= 30
    table_header(y)
    y = items(inv.lines[inv.on_first_page :], y)
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


def _draw_english(c: canvas.Canvas, inv: EnglishInvoice, *, totals: bool = True) -> float:
    """`render_english`'s page on `c`; returns where the totals block starts (its first
    baseline, in points from the bottom)."""
    _fonts()
    width, height = A4
    y = height - 60
    c.setFont("CFSans-Bold", 16)
    c.drawString(50, y, inv.supplier)
    c.drawRightString(width - 50, y, inv.title)
    c.setFont("CFSans", 10)
    y -= 18
    c.drawString(50, y, "Hafenstraße 12, 20457 Hamburg")
    y -= 16
    c.drawString(50, y, f"VAT ID: {inv.supplier_vat}")
    c.drawString(300, y, f"IBAN: {inv.iban}")
    y -= 30
    c.drawString(50, y, "Bill to: Closeflow Demo GmbH, VAT ID: DE272914250")
    y -= 30
    for label, value in (
        ("Invoice number:", inv.number),
        ("Invoice date:", inv.date),
        ("Due date:", inv.due),
        ("Payment reference:", inv.reference),
    ):
        c.drawString(50, y, label)
        c.drawString(170, y, value)
        y -= 16
    y -= 20
    c.setFont("CFSans-Bold", 10)
    for x, text in ((50, "Description"), (330, "Qty"), (400, "Unit price"), (500, "Amount")):
        c.drawString(x, y, text)
    c.setFont("CFSans", 10)
    for description, qty, price, amount in inv.lines:
        y -= 16
        c.drawString(50, y, description)
        c.drawRightString(350, y, qty)
        c.drawRightString(450, y, price)
        c.drawRightString(545, y, amount)
    y -= 30
    if totals:
        _draw_totals(c, inv, 380, y)
    return y


def _draw_totals(c: canvas.Canvas, inv: EnglishInvoice, x: float, y: float) -> None:
    c.setFont("CFSans", 10)
    for label, value in (
        ("Subtotal:", inv.subtotal),
        (f"{inv.vat_label}:", inv.vat),
        ("Total EUR:", inv.total),
    ):
        c.drawString(x, y, label)
        c.drawRightString(x + 165, y, value)
        y -= 16


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


def render_pasted_totals(path: Path, inv: EnglishInvoice = EnglishInvoice()) -> Path:
    """A digital invoice whose totals block is a pasted scan (an image, no text layer)."""
    c = canvas.Canvas(str(path), pagesize=A4)
    y = _draw_english(c, inv, totals=False)
    w, h = 200.0, 64.0
    piece = _scanned_piece(
        lambda pc: _draw_totals(pc, inv, 15, h - 18), (w, h), path.with_suffix(".totals.png")
    )
    c.drawImage(str(piece), 365, y - h + 18, width=w, height=h)
    c.showPage()
    c.save()
    return path


def render_stamped(path: Path, inv: EnglishInvoice = EnglishInvoice()) -> Path:
    """A digital invoice with a received stamp pasted on it as an image."""
    c = canvas.Canvas(str(path), pagesize=A4)
    _draw_english(c, inv)
    w, h = 170.0, 80.0

    def stamp(sc: canvas.Canvas) -> None:
        _fonts()
        sc.setStrokeGray(0.35)
        sc.setFillGray(0.35)
        sc.setLineWidth(2.5)
        sc.roundRect(5, 5, w - 10, h - 10, 8)
        sc.setFont("CFSans-Bold", 16)
        sc.drawCentredString(w / 2, h - 32, "RECEIVED")
        sc.setFont("CFSans", 11)
        sc.drawCentredString(w / 2, h - 52, "14 JAN 2026")
        sc.drawCentredString(w / 2, h - 68, "Accounts payable")

    piece = _scanned_piece(stamp, (w, h), path.with_suffix(".stamp.png"))
    c.drawImage(str(piece), 360, 130, width=w, height=h)
    c.showPage()
    c.save()
    return path


def render_partial_text_scan(path: Path, inv: EnglishInvoice = EnglishInvoice()) -> Path:
    """A scanned page (one full-page image) whose text layer covers only the letterhead:
    invisible text over the scan, as a scanner's half-finished OCR leaves it."""
    plain = render_english(path.with_suffix(".plain.pdf"), inv)
    scanned = path.with_suffix(".scan.png")
    degrade(render_pages(plain)[0], angle=0.0, seed=4).save(scanned, dpi=(200, 200))
    c = canvas.Canvas(str(path), pagesize=A4)
    c.drawImage(str(scanned), 0, 0, width=A4[0], height=A4[1])
    _fonts()
    width, height = A4
    text = c.beginText()
    text.setTextRenderMode(3)  # invisible, as OCR text layers are
    for x, y, font, size, line in (
        (50, height - 60, "CFSans-Bold", 16, inv.supplier),
        (50, height - 78, "CFSans", 10, "Hafenstraße 12, 20457 Hamburg"),
        (50, height - 94, "CFSans", 10, f"VAT ID: {inv.supplier_vat}"),
        (300, height - 94, "CFSans", 10, f"IBAN: {inv.iban}"),
    ):
        text.setFont(font, size)
        text.setTextOrigin(x, y)
        text.textLine(line)
    c.drawText(text)
    c.showPage()
    c.save()
    return path


def turned(image: Path, out: Path, degrees: int) -> Path:
    """`image` turned counter-clockwise by `degrees` (a page scanned or shot sideways)."""
    with Image.open(image) as im:
        dpi = im.info.get("dpi", (200, 200))
        im.rotate(degrees, expand=True).save(out, dpi=dpi)
    return out


def multipage_tiff(pdf: Path, out: Path, dpi: int = 200) -> Path:
    """Every page of `pdf` as a degraded scan, in one multi-page TIFF (as a scanner's
    feeder writes them)."""
    pages = [degrade(p, seed=10 + k) for k, p in enumerate(render_pages(pdf, dpi))]
    pages[0].save(
        out, format="TIFF", save_all=True, append_images=pages[1:], dpi=(dpi, dpi),
        compression="tiff_lzw",
    )  # fmt: skip
    return out


def _perspective_coeffs(src: list[tuple[float, float]], dst: list[tuple[float, float]]) -> list:
    """PIL PERSPECTIVE data mapping points of the output (`dst`) back to the input (`src`)."""
    rows = []
    for (x, y), (u, v) in zip(dst, src, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
    solution = np.linalg.solve(np.array(rows, dtype=np.float64), np.array(src).reshape(8))
    return solution.tolist()


ORIENTATION_TAG = 0x0112
EXIF_TURN_CLOCKWISE = 6  # "rotate 90 degrees clockwise to display"


def phone_photo(
    pdf: Path,
    out: Path,
    *,
    seed: int = 1,
    long_side: int = 2000,
    quality: int = 80,
    keystone: float = 0.06,
    shadow: float = 0.45,
    cast_shadow: float = 0.0,
    exif_turned: bool = True,
) -> Path:
    """The first page of `pdf` photographed with a phone, as a JPEG.

    A 12 MP frame (3024 x 4032) with the page on a desk: keystone (the camera tilted, the
    far edge narrower), off-white paper, light falling off into a shadow across the page,
    (and with `cast_shadow` the phone's own shadow darkening the right of the page by that
    share, its edge through the totals), a little focus blur and sensor noise, then
    downscaled to `long_side` pixels as phones
    and messengers do when sending, saved at JPEG `quality` with 72 dpi (a camera's
    meaningless default). With `exif_turned` the pixels are stored sideways with an EXIF
    orientation tag saying to turn them, as a phone held upright writes them.
    """
    rng = np.random.default_rng(seed)
    # drawn at 1.5x the size sent (the full 12 MP at most), then downscaled like a phone
    k = min(1.0, 1.5 * long_side / 4032)
    frame_w, frame_h = round(3024 * k), round(4032 * k)
    ph = 0.86 * frame_h
    page = render_pages(pdf, dpi=round(ph / 11.69))[0]
    pw = ph * page.width / page.height
    cx, top = frame_w / 2 + rng.uniform(-60, 60) * k, (frame_h - ph) / 2 + rng.uniform(-40, 40) * k
    j = lambda: rng.uniform(-25, 25) * k  # noqa: E731
    corners = [
        (cx - pw / 2 * (1 - keystone) + j(), top + j()),
        (cx + pw / 2 * (1 - keystone) + j(), top + j()),
        (cx + pw / 2 + j(), top + ph + j()),
        (cx - pw / 2 + j(), top + ph + j()),
    ]
    src = [(0, 0), (page.width, 0), (page.width, page.height), (0, page.height)]
    coeffs = _perspective_coeffs(src, corners)
    warped = page.transform((frame_w, frame_h), Image.Transform.PERSPECTIVE, coeffs,
                            Image.Resampling.BILINEAR, fillcolor=255)  # fmt: skip
    warped = warped.filter(ImageFilter.GaussianBlur(1.2 * k))  # focus
    mask = Image.new("L", page.size, 255).transform(
        (frame_w, frame_h), Image.Transform.PERSPECTIVE, coeffs, Image.Resampling.BILINEAR
    )

    def smooth(values: np.ndarray) -> np.ndarray:  # a coarse field, enlarged to the frame
        return np.asarray(
            Image.fromarray(values.astype(np.float32)).resize((frame_w, frame_h), Image.BILINEAR)
        )

    g = np.asarray(warped, dtype=np.float32) / 255
    alpha = np.asarray(mask, dtype=np.float32) / 255
    yy, xx = np.mgrid[0 : frame_h // 32, 0 : frame_w // 32].astype(np.float32)
    t = xx / (frame_w // 32) * 0.6 + yy / (frame_h // 32) * 0.4  # light from the top left
    light = 1.05 - shadow * np.clip((t - 0.35) / 0.65, 0, 1) ** 1.5
    if cast_shadow:  # the phone's own shadow over the right of the page, soft-edged
        edge = xx / (frame_w // 32) + 0.25 * yy / (frame_h // 32) - 0.78
        light *= 1 - cast_shadow * np.clip(edge / 0.04 + 0.5, 0, 1)
    light = smooth(light)
    grain = smooth(1 + 0.08 * rng.standard_normal((frame_h // 64, frame_w // 64)))
    noise = rng.normal(0, 4, (frame_h, frame_w)).astype(np.float32)
    channels = []
    for paper, ink, desk in ((236, 38, 104), (230, 36, 86), (214, 44, 70)):
        sheet = ink + (paper - ink) * g
        channel = (sheet * alpha + desk * grain * (1 - alpha)) * light + noise
        channels.append(np.clip(channel, 0, 255).round().astype(np.uint8))
    image = Image.fromarray(np.dstack(channels), "RGB")
    if long_side < frame_h:
        image = image.resize(
            (round(frame_w * long_side / frame_h), long_side), Image.Resampling.BICUBIC
        )
    exif = Image.Exif()
    if exif_turned:
        image = image.rotate(90, expand=True)  # the sensor's landscape rows
        exif[ORIENTATION_TAG] = EXIF_TURN_CLOCKWISE
    image.save(out, format="JPEG", quality=quality, dpi=(72, 72), exif=exif.tobytes())
    return out
