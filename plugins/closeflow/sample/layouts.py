"""Invoices in another layout than the sample generator's (labels left, values in a
column; a 增值税发票 laid out as in docs/sample_company.md), so that the OCR is not tuned to
one layout: the ocr tests (tests/ocr/documents.py) and the OCR benchmarks
(bench/ocr_preprocess.py) render them with reportlab.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from closeflow.sample.checksums import _uscc_check
from closeflow.sample.fonts import CJK, LATIN, LATIN_BOLD, register_fonts

TODAY = dt.date(2026, 3, 1)  # "now" for the future-date check of 2026 documents


def uscc(first17: str) -> str:
    """A unified social credit code with its correct check character."""
    return first17 + _uscc_check(first17)


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
    register_fonts()
    c = canvas.Canvas(str(path), pagesize=A4)
    width, height = A4
    y = height - 60
    c.setFont(CJK, 18)
    c.drawCentredString(width / 2, y, inv.title)
    c.setFont(CJK, 11)
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


def _draw_english(c: canvas.Canvas, inv: EnglishInvoice, *, totals: bool = True) -> float:
    """`render_english`'s page on `c`; returns where the totals block starts (its first
    baseline, in points from the bottom)."""
    register_fonts()
    width, height = A4
    y = height - 60
    c.setFont(LATIN_BOLD, 16)
    c.drawString(50, y, inv.supplier)
    c.drawRightString(width - 50, y, inv.title)
    c.setFont(LATIN, 10)
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
    c.setFont(LATIN_BOLD, 10)
    for x, text in ((50, "Description"), (330, "Qty"), (400, "Unit price"), (500, "Amount")):
        c.drawString(x, y, text)
    c.setFont(LATIN, 10)
    y = draw_item_rows(c, inv.lines, y)
    y -= 30
    if totals:
        _draw_totals(c, inv, 380, y)
    return y


def draw_item_rows(c: canvas.Canvas, rows: tuple, y: float) -> float:
    """Item rows (description, quantity, unit price, amount) under a table header at `y`,
    one every 16 pt, numbers right-aligned; returns the last row's baseline."""
    for description, qty, price, amount in rows:
        y -= 16
        c.drawString(50, y, description)
        c.drawRightString(350, y, qty)
        c.drawRightString(450, y, price)
        c.drawRightString(545, y, amount)
    return y


def _draw_totals(c: canvas.Canvas, inv: EnglishInvoice, x: float, y: float) -> None:
    c.setFont(LATIN, 10)
    for label, value in (
        ("Subtotal:", inv.subtotal),
        (f"{inv.vat_label}:", inv.vat),
        ("Total EUR:", inv.total),
    ):
        c.drawString(x, y, label)
        c.drawRightString(x + 165, y, value)
        y -= 16
