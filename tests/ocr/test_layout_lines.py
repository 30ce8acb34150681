"""Lines built by ocr.layout.build_lines, pinned to what the layout gave when it was written.

The layout keeps each run's and line's geometry instead of recomputing medians on every
access; these tests pin its output (text, cells and boxes) so that speed never changes it.
"""

from __future__ import annotations

from pathlib import Path

from ocr import pdf
from ocr.layout import Line, Word, build_lines

# AzureInterior.pdf, page 1 (text layer): text, (x0, y0, x1, y1) rounded to 0.1 pt, the
# line's height rounded to 0.01 and each word's cell number.
AZURE_PAGE_1 = [
    ("Global Wholesaler", (481.7, 29.9, 564.6, 41.1), 11.27, [0, 0]),
    ("Azure Interior", (29.6, 45.9, 93.0, 57.1), 11.27, [0, 0]),
    ("4557 De Silva St", (29.6, 61.2, 102.6, 72.5), 11.27, [0, 0, 0, 0]),
    ("Fremont CA 94538", (29.6, 76.6, 116.0, 87.9), 11.27, [0, 0, 0]),
    ("United States", (29.6, 92.0, 90.3, 103.2), 11.27, [0, 0]),
    ("YourCompany, Mitchell Admin", (353.6, 145.8, 490.9, 157.1), 11.27, [0, 0, 0]),
    ("215 Vine St", (353.6, 161.2, 405.2, 172.5), 11.27, [0, 0, 0]),
    ("Scranton PA 18503", (353.6, 176.6, 440.8, 187.8), 11.27, [0, 0, 0]),
    ("United States", (353.6, 191.9, 414.3, 203.2), 11.27, [0, 0]),
    ("Invoice INV/2023/03/0008", (29.6, 206.2, 276.0, 228.8), 22.54, [0, 0]),
    (
        "Invoice Date:   Due Date:   Reference:",
        (29.6, 246.8, 449.5, 258.2),
        11.44,
        [0, 0, 1, 1, 2],
    ),
    ("03/20/2023   04/04/2023   CUSTREF123", (29.6, 262.4, 461.8, 273.6), 11.27, [0, 1, 2]),
    (
        "Description   Quantity   Unit Price   Disc.% Taxes   Amount",
        (32.2, 301.2, 563.2, 312.7),
        11.44,
        [0, 1, 2, 2, 3, 3, 4],
    ),
    ("--- Non Food ---", (32.2, 322.4, 102.7, 333.8), 11.44, [0, 0, 0, 0]),
    (
        "[17589684] Beeswax XL   1.00 kg   42.00   0.00 15.00%   $ 42.00",
        (32.2, 343.7, 563.3, 355.0),
        11.27,
        [0, 0, 0, 1, 1, 2, 3, 3, 4, 4],
    ),
    ("Acme beeswax", (32.2, 359.1, 98.7, 370.3), 11.27, [0, 0]),
    (
        "[FURN_7777] Office Chair   1.00 Units   70.00   0.00 15.00%   $ 70.00",
        (32.2, 380.2, 563.3, 391.5),
        11.27,
        [0, 0, 0, 1, 1, 2, 3, 3, 4, 4],
    ),
    ("Subtotal $ 112.00", (482.3, 401.1, 562.8, 412.6), 11.27, [0, 0, 0]),
    ("--- Food Products ---", (32.2, 422.3, 124.7, 433.7), 11.44, [0, 0, 0, 0]),
    (
        "*987123* Olive Oil   1.00 L   1.00   10.00 15.00%   $ 0.90",
        (32.2, 443.6, 563.1, 454.9),
        11.27,
        [0, 0, 0, 1, 1, 2, 3, 3, 4, 4],
    ),
    (
        "Our Olive Oil is delivered in a re-usable glass container",
        (32.2, 465.4, 257.6, 477.0),
        11.59,
        [0] * 10,
    ),
    (
        "[LUX_TRF] Luxury Truffles   15.00 g   10.00   0.00   $ 150.00",
        (32.2, 485.9, 562.8, 497.1),
        11.27,
        [0, 0, 0, 1, 1, 2, 3, 4, 4],
    ),
    ("Subtotal $ 150.90", (482.3, 506.8, 562.8, 518.3), 11.27, [0, 0, 0]),
    ("Subtotal   $ 262.90", (310.1, 538.2, 562.8, 549.6), 11.27, [0, 1, 1]),
    ("Tax 15% on $ 112.90   $ 16.94", (310.1, 559.5, 562.9, 570.8), 11.27, [0, 0, 0, 0, 0, 1, 1]),
    ("Total   $ 279.84", (310.1, 580.4, 562.8, 591.9), 11.27, [0, 1, 1]),
    (
        "Please use the following communication for your payment : 202309097001",
        (29.6, 598.4, 364.6, 609.8),
        11.27,
        [0] * 10,
    ),
    ("Payment terms: 15 Days", (29.6, 624.2, 138.6, 635.4), 11.27, [0, 0, 0, 0]),
    ("Bank Account: US1234567890", (29.6, 649.6, 170.3, 661.1), 11.44, [0, 0, 0]),
    (
        "Due to global inflation our payment term has changed to 15 days.",
        (29.6, 675.4, 317.8, 686.7),
        11.27,
        [0] * 12,
    ),
    (
        "Incoterm: DPU - DELIVERED AT PLACE UNLOADED",
        (29.6, 700.8, 267.7, 712.3),
        11.27,
        [0] * 7,
    ),
    (
        "(870)-931-0505 azure.Interior24@example.com http://www.azure-interior.com",
        (114.8, 754.1, 480.7, 765.4),
        11.27,
        [0, 0, 0],
    ),
    ("Page: 1 / 1", (274.5, 779.7, 320.8, 791.0), 11.27, [0, 0, 0, 0]),
]


def _pinned(line: Line) -> tuple:
    box = (min(w.x0 for w in line.words), line.y0, max(w.x1 for w in line.words), line.y1)
    return line.text, tuple(round(v, 1) for v in box), round(line.height, 2), line.segment_of


def _check_spans(line: Line) -> None:
    for w, (a, b) in zip(line.words, line.spans, strict=True):
        assert line.text[a:b] == w.text
        assert w in line.words_in(a, b)


def test_real_invoice_page_lines(shared_data: Path) -> None:
    data = (shared_data / "invoices" / "AzureInterior.pdf").read_bytes()
    (page,) = pdf.read_pages(data, 300)
    assert not page.regions
    lines = build_lines(page.words)
    assert [_pinned(line) for line in lines] == AZURE_PAGE_1
    assert {line.page for line in lines} == {0}
    for line in lines:
        _check_spans(line)


def test_ocr_runs_columns_and_pages() -> None:
    """OCR runs keep their order, a second column at the same height joins the line, a
    taller word does not split it, CJK characters join without spaces, pages sort first."""
    W = Word
    words = [
        W("Page", 10, 20, 40, 30, page=1),
        W("2", 44, 20, 50, 33, page=1),
        W("Invoice", 10, 100, 60, 112, run=(0, 1)),
        W("no.", 64, 101, 84, 113, run=(0, 1)),
        W("A-17", 200, 103, 240, 115, run=(0, 1)),
        W("Date:", 300, 104, 340, 116, run=(0, 2)),
        W("2026-01-05", 344, 104, 420, 117, run=(0, 2)),
        W("Total", 10, 140, 50, 152),
        W("12.00", 190, 140, 230, 152),
        W("EUR", 150, 139, 180, 153),
        W("合", 10, 180, 22, 192, run=(0, 3)),
        W("计", 23, 180, 35, 192, run=(0, 3)),
        W("¥", 40, 180, 48, 192, run=(0, 3)),
        W("9.50", 50, 180, 80, 192, run=(0, 3)),
    ]
    lines = build_lines(words)
    got = [(ln.page, ln.text, ln.segment_of, ln.y0, ln.y1, ln.height) for ln in lines]
    assert got == [
        (0, "Invoice no.   A-17   Date: 2026-01-05", [0, 0, 1, 2, 2], 100, 117, 12),
        (0, "Total   EUR 12.00", [0, 1, 1], 139, 153, 12),
        (0, "合计 ¥ 9.50", [0, 0, 0, 0], 180, 192, 12),
        (1, "Page 2", [0, 0], 20, 33, 11.5),
    ]
    assert lines[0].segments() == [[0, 1], [2], [3, 4]]
    assert lines[0].segment_text([3, 4]) == "Date: 2026-01-05"
    assert [w.text for w in lines[0].words_in(9, 16)] == ["no.", "A-17"]
    for line in lines:
        _check_spans(line)
