"""Till receipts (ocr.receipts): recognised as receipts, read by the till's own arithmetic,
checked by the same review rules, posted as invoices.

The receipts here are rendered for the tests (reportlab, monospaced till print on 58 and
80 mm paper) and degraded like a scan (closeflow.sample.scan); the real SROIE receipts
have no licence and are only benchmarked in place (bench/ocr_accuracy.py).
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal as D
from pathlib import Path

import pytest
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from closeflow.config import FxRates
from closeflow.posting import load_rules, post_invoices
from closeflow.sample.fonts import LATIN, LATIN_BOLD, register_fonts
from closeflow.sample.scan import ScanSettings, degrade, rasterize
from ocr.extract import extract_file
from ocr.layout import Word, build_lines
from ocr.model import ExtractedInvoice
from ocr.receipts import (
    AMBIGUOUS_DATE,
    CORROBORATED,
    REPAIRED_YEAR,
    UNCONFIRMED,
    is_receipt,
    read_amounts,
    read_date,
    read_merchant,
    read_tax,
    read_total,
    trim_scanner_edges,
)
from ocr.validate import not_an_invoice

TODAY = dt.date(2018, 6, 30)
MONO = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"
MONO_BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf"


# ---------------------------------------------------------------- lines without OCR


def lines_of(text: str, conf: float = 0.95):
    """Layout lines of a receipt typed as text: a word per token, 10 units a character,
    three spaces or more a gap between cells, 30 units a line."""
    words = []
    for i, row in enumerate(text.strip("\n").splitlines()):
        col = 0
        for token in row.split(" "):
            if token:
                x0 = col * 10
                words.append(Word(token, x0, i * 30, x0 + 10 * len(token), i * 30 + 20, 0, conf))
            col += len(token) + 1
    return build_lines(words)


GROCER = """
MAJU JAYA MINIMART SDN BHD
(Co. No. 123456-X)
(GST Reg No. 001234567890)
NO 8, JALAN MERANTI 2, 43000 KAJANG
TEL : 03-8736 1234
TAX INVOICE
Date: 13/03/2018 14:22      Cashier: AINA
MILO 1KG                         23.90 SR
ROTI GARDENIA                     2.72 SR
TOTAL SALES INCL. GST            26.62
ROUNDING ADJ                     -0.02
TOTAL ROUNDED                    26.60
CASH                             50.00
CHANGE                           23.40
GST SUMMARY     AMOUNT(RM)      TAX(RM)
SR @ 6%           25.11           1.51
THANK YOU. PLEASE COME AGAIN
"""


def test_a_till_receipt_is_recognised_and_an_invoice_is_not() -> None:
    assert is_receipt(lines_of(GROCER))
    invoice = """
ACME TRADING LTD
INVOICE NO: INV-2026-0042          Date: 05/01/2026
Description                 Qty       Amount
Consulting                    2       200.00
Subtotal                              200.00
VAT 20%                                40.00
Total                                 240.00
Payment terms: net 30 days. Thank you for your business.
IBAN GB29 NWBK 6016 1331 9268 19
"""
    assert not is_receipt(lines_of(invoice))


def test_the_total_is_the_amount_paid_after_rounding_and_cash_minus_change_confirms_it() -> None:
    lines = lines_of(GROCER)
    seen = read_amounts(lines)
    total = read_total(lines, seen)
    assert total.value == D("26.60") and total.conf >= CORROBORATED
    tax = read_tax(lines, seen, total)  # the summary's tax column, checked by the rate
    assert (tax.value, tax.rate) == (D("1.51"), D("0.06")) and tax.conf >= CORROBORATED


def test_a_total_that_the_cash_and_change_contradict_is_for_review() -> None:
    lines = lines_of(GROCER.replace("23.40", "13.40"))  # 50.00 - 13.40 is 36.60
    total = read_total(lines, read_amounts(lines))
    assert total.value == D("26.60") and total.conf <= UNCONFIRMED


def test_a_total_read_once_and_confirmed_by_nothing_is_doubtful() -> None:
    lines = lines_of("SHOP\nTOTAL    12.30\nTHANK YOU")
    total = read_total(lines, read_amounts(lines))
    assert (total.value, total.conf) == (D("12.30"), UNCONFIRMED)


def test_subtotal_plus_tax_plus_rounding_gives_a_total_the_till_misprinted() -> None:
    text = "SUB TOTAL     7.00\nGST 6%        0.42\nROUNDING ADJ  -0.02\nNET TOTAL     140\n"
    lines = lines_of(text)
    total = read_total(lines, read_amounts(lines))
    assert total.value == D("7.40") and total.conf <= UNCONFIRMED  # derived: for review


def test_decimal_points_the_monospaced_print_set_apart_are_put_back() -> None:
    lines = lines_of("Total RM Incl. of GST    11, 80\nCash    -11, 80\nChange   0. 00")
    total = read_total(lines, read_amounts(lines))
    assert total.value == D("11.80") and total.conf >= CORROBORATED


def test_the_merchant_is_the_header_name_without_its_company_number() -> None:
    assert read_merchant(lines_of(GROCER)).value == "MAJU JAYA MINIMART SDN BHD"
    two_lines = "POPULAR BOOK\nCO. (M) SDN BHD\n(Co. No. 113825-W)\nNo 8, Jalan 7/118B"
    assert read_merchant(lines_of(two_lines)).value == "POPULAR BOOK CO. (M) SDN BHD"
    trading = "SANYU STATIONERY SHOP\nNO. 31G, JALAN SETIA\nOwned By:\nSANYU SUPPLY SDN BHD"
    merchant = read_merchant(lines_of(trading))
    assert merchant.value == "SANYU STATIONERY SHOP" and merchant.conf < 0.6  # which one?


@pytest.mark.parametrize(
    ("printed", "date", "ambiguous"),
    [
        ("Date: 13/03/18 14:22", dt.date(2018, 3, 13), False),  # a day over 12 decides
        ("Date: 05/01/17 14:22", dt.date(2017, 1, 5), True),  # day-first, but unproven
        ("Date: 11 Jan 2016 09:10", dt.date(2016, 1, 11), False),  # the month as a word
        ("MON 05/01/17 10:22", dt.date(2017, 5, 1), False),  # 1 May 2017 was a Monday
        ("THU 05/01/17 10:22", dt.date(2017, 1, 5), False),  # 5 January 2017 a Thursday
        ("26-03-18 18:09", dt.date(2018, 3, 26), False),
        ("Date : 06- 05- 2018 22:06", dt.date(2018, 5, 6), True),  # OCR's spaces
    ],
)
def test_dates_as_receipts_print_them(printed: str, date: dt.date, ambiguous: bool) -> None:
    got = read_date(lines_of(f"SHOP\n{printed}\nTOTAL   1.00"))
    assert (got.value, got.ambiguous) == (date, ambiguous)
    assert (got.conf <= AMBIGUOUS_DATE) if ambiguous else got.conf > AMBIGUOUS_DATE


@pytest.mark.parametrize(
    ("printed", "date"),
    [
        ("Date: 12-02-2618 10:22", dt.date(2018, 2, 12)),  # a 0 read as 6: only 2018 fits
        ("Date: 28/08/7017 10:22", dt.date(2017, 8, 28)),  # a 2 read as 7
        ("Date: 18 MAR 2048 10:22", None),  # 2008 or 2018: not put right
    ],
)
def test_a_year_one_misread_digit_explains_is_put_right_but_doubtful(printed, date) -> None:
    got = read_date(lines_of(f"SHOP\n{printed}\nTOTAL   1.00"), today=dt.date(2026, 12, 7))
    if date is None:
        assert got.value == dt.date(2048, 3, 18)  # left as read: validation sends it to review
    else:
        assert got.value == date and got.conf <= REPAIRED_YEAR


def test_a_plausible_date_wins_over_one_whose_year_cannot_be() -> None:
    text = "SHOP\nDate: 01/01/1970 00:00\n26-03-18 18:09\nTOTAL   1.00"
    got = read_date(lines_of(text), today=dt.date(2026, 12, 7))
    assert got.value == dt.date(2018, 3, 26)


def test_a_page_with_amounts_is_not_quarantined_a_letter_or_a_page_without_is() -> None:
    blank = ExtractedInvoice(file="x", file_sha256="0" * 64, media_type="image/png", size_bytes=1)
    assert not_an_invoice(blank, "KEDAI\nSUBTOTAL 12.90\nCASH 20.00") is None
    assert not_an_invoice(blank, "Dear customer, the price is 12.90 from May").startswith(
        "not an invoice"
    )
    assert not_an_invoice(blank, "Meeting notes, room 12").startswith("not an invoice")


# ---------------------------------------------------------------- rendered and scanned


@dataclass(frozen=True)
class Till:
    """A till receipt: header lines (bold, centred), rows (label, value), footer lines."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, str], ...]
    footer: tuple[str, ...]
    width_mm: float = 80


def _fonts() -> tuple[str, str]:
    if Path(MONO).exists() and Path(MONO_BOLD).exists():
        pdfmetrics.registerFont(TTFont("TillMono", MONO))
        pdfmetrics.registerFont(TTFont("TillMono-Bold", MONO_BOLD))
        return "TillMono", "TillMono-Bold"
    register_fonts()
    return LATIN, LATIN_BOLD


def render_till(till: Till, path: Path, *, seed: int, dpi: int = 200, tag_dpi: bool = True) -> Path:
    """The receipt printed on a till roll (monospaced, 8 pt), scanned: grey paper, a
    little skew, blur and noise (closeflow.sample.scan.degrade), saved as a JPEG with its
    resolution, or without (`tag_dpi` False) as some phone apps send it."""
    regular, bold = _fonts()
    width = till.width_mm * mm
    step = 11
    height = (len(till.header) + len(till.rows) + len(till.footer) + 6) * step + 40
    pdf = path.with_suffix(".pdf")
    c = canvas.Canvas(str(pdf), pagesize=(width, height))
    y = height - 24
    for k, line in enumerate(till.header):
        c.setFont(bold if k == 0 else regular, 9 if k == 0 else 7.5)
        c.drawCentredString(width / 2, y, line)
        y -= step
    y -= step / 2
    for label, value in till.rows:
        c.setFont(bold if label.startswith(("TOTAL", "NETT", "GRAND")) else regular, 7.5)
        c.drawString(4 * mm, y, label)
        if value:
            c.drawRightString(width - 4 * mm, y, value)
        y -= step
    y -= step / 2
    c.setFont(regular, 7.5)
    for line in till.footer:
        c.drawCentredString(width / 2, y, line)
        y -= step
    c.showPage()
    c.save()
    rng = random.Random(seed)
    settings = ScanSettings(
        image_format="jpeg",
        dpi=dpi,
        angle=round(rng.uniform(-0.8, 0.8), 2),
        blur=0.5,
        noise=5.0,
        paper=rng.randint(228, 245),
        ink=rng.randint(25, 50),
        quality=85,
    )
    image = degrade(rasterize(pdf.read_bytes(), dpi), settings, seed)
    options = {"dpi": (dpi, dpi)} if tag_dpi else {}
    image.save(path, format="JPEG", quality=85, **options)
    return path


MINIMART = Till(
    header=(
        "MAJU JAYA MINIMART SDN BHD",
        "(Co. No. 123456-X)",
        "(GST Reg No. 001234567890)",
        "NO 8, JALAN MERANTI 2,",
        "43000 KAJANG, SELANGOR",
        "TEL : 03-8736 1234",
        "TAX INVOICE",
    ),
    rows=(
        ("Date: 13/03/2018 14:22", "Cashier: AINA"),
        ("MILO ACTIV-GO 1KG", "23.90 SR"),
        ("ROTI GARDENIA", "3.72 SR"),
        ("TOTAL SALES INCL. GST", "27.62"),
        ("ROUNDING ADJ", "-0.02"),
        ("TOTAL ROUNDED (RM)", "27.60"),
        ("CASH", "50.00"),
        ("CHANGE", "22.40"),
        ("GST @6% INCLUDED IN TOTAL", "1.56"),
        ("GST SUMMARY", "AMOUNT(RM)  TAX(RM)"),
        ("SR @ 6%", "26.06      1.56"),
    ),
    footer=("THANK YOU. PLEASE COME AGAIN", "GOODS SOLD ARE NOT RETURNABLE"),
)
CAFE = Till(
    header=("KOPI CORNER", "CO. (M) SDN BHD", "(Co. Reg 998877-A)", "12, JALAN SS2/24, PJ"),
    rows=(
        ("THU 05/01/17 10:22", "Table: 4"),
        ("1 x KOPI O", "2.40"),
        ("1 x ROTI BAKAR", "6.60"),
        ("SUBTOTAL", "9.00"),
        ("GST 6%", "0.54"),
        ("ROUNDING", "0.01"),
        ("NETT TOTAL RM", "9.55"),
        ("VISA", "9.55"),
        ("Card No: XXXX XXXX XXXX 1819", ""),
    ),
    footer=("Thank you, please come again",),
    width_mm=58,
)


@pytest.fixture(scope="module")
def minimart(tmp_path_factory: pytest.TempPathFactory) -> ExtractedInvoice:
    path = render_till(MINIMART, tmp_path_factory.mktemp("till") / "minimart.jpg", seed=3)
    return extract_file(path, today=TODAY)


@pytest.fixture(scope="module")
def cafe(tmp_path_factory: pytest.TempPathFactory) -> ExtractedInvoice:
    path = render_till(CAFE, tmp_path_factory.mktemp("till") / "cafe.jpg", seed=4, tag_dpi=False)
    return extract_file(path, today=TODAY)


def test_a_scanned_minimart_receipt_is_read_and_extracted(minimart: ExtractedInvoice) -> None:
    inv = minimart
    assert inv.document_type == "receipt"
    assert (inv.total, inv.tax_amount, inv.subtotal) == (D("27.60"), D("1.56"), D("26.04"))
    assert inv.invoice_date == dt.date(2018, 3, 13)
    assert inv.supplier_name == "MAJU JAYA MINIMART SDN BHD"
    assert (inv.currency, inv.payment_method) == ("MYR", "cash")
    assert inv.status == "extracted", inv.review_reasons
    assert inv.to_json()["payment_method"] == "cash"


def test_a_scanned_cafe_receipt_on_58_mm_paper(cafe: ExtractedInvoice) -> None:
    inv = cafe
    assert inv.document_type == "receipt"
    assert (inv.total, inv.tax_amount) == (D("9.55"), D("0.54"))
    assert inv.invoice_date == dt.date(2017, 1, 5)  # the Thursday decides it
    assert inv.supplier_name == "KOPI CORNER CO. (M) SDN BHD"
    assert inv.payment_method == "visa"
    assert inv.status == "extracted", inv.review_reasons


def test_a_receipt_posts_to_accounts_payable_as_an_invoice(tmp_path: Path) -> None:
    rules_file = tmp_path / "rules.yml"
    rules_file.write_text(
        'version: 1\nap_account: "2000"\ntax_codes:\n  MY6: {rate: "0.06", account: "1400"}\n'
        "rules:\n  - id: claims\n    when: {document_type: receipt}\n"
        '    then: {debit_account: "6800"}\n'
    )
    rules = load_rules(rules_file)
    receipt = {
        "invoice_id": "r" * 64,
        "supplier_name": "MAJU JAYA MINIMART SDN BHD",
        "invoice_number": None,
        "invoice_date": dt.date(2018, 3, 13),
        "currency": "MYR",
        "subtotal": D("25.09"),
        "tax_amount": D("1.51"),
        "total": D("26.60"),
        "document_type": "receipt",
    }
    res = post_invoices([receipt], [], rules, FxRates({}), "MYR", "post:2018-03-13")
    got = [(j["account"], j["amount"]) for j in res.journal_lines]
    assert got == [("6800", D("25.09")), ("1400", D("1.51")), ("2000", D("-26.60"))]
    assert res.posted == ["r" * 64] and res.review == []


def test_a_flatbed_scan_framed_in_black_is_read(tmp_path: Path) -> None:
    """tesseract reads nothing on a page framed by solid black bands (a flatbed's edges
    past a narrow sheet); they are cut off first (ocr.receipts.trim_scanner_edges)."""
    from PIL import Image, ImageDraw

    path = render_till(MINIMART, tmp_path / "minimart.jpg", seed=3)
    image = Image.open(path).convert("L")
    framed = Image.new("L", (image.width + 2, image.height + 30), 8)
    framed.paste(image, (0, 15))
    ImageDraw.Draw(framed).line([(framed.width - 1, 0), (framed.width - 1, framed.height)], 0)
    framed.save(tmp_path / "framed.jpg", quality=90, dpi=(200, 200))
    assert trim_scanner_edges(framed).size == image.size
    inv = extract_file(tmp_path / "framed.jpg", today=TODAY)
    assert (inv.document_type, inv.total) == ("receipt", D("27.60"))
