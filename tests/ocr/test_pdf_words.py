"""The words of a PDF text layer (ocr.pdf.page_words) on the five real invoices.

The references were computed with the first implementation of page_words (one
`get_charbox` call and one box list update per character) before it was rewritten for
speed: the rewrite must give the same words with the same boxes. Boxes are in points from
the top-left corner; a digest covers every word of every page (text, box to 1e-4 pt, page,
confidence), and a few words that fields are read from are spelled out.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import pypdfium2 as pdfium
import pytest

from ocr import pdf
from ocr.layout import Word

# (document, page) -> (word count, digest of all words)
REFERENCE = {
    ("AmazonWebServices", 0): (313, "4252bd27f3660e50"),
    ("AzureInterior", 0): (162, "9aca64e6f5da9558"),
    ("FlipkartInvoice", 0): (295, "28b4f252c291826f"),
    ("QualityHosting", 0): (190, "c726834120a07e7e"),
    ("QualityHosting", 1): (214, "9ede16865f87c3d8"),
    ("oyo", 0): (184, "ba02efd87206ea7e"),
}

# (document, page) -> words (text, x0, y0, x1, y1) exactly as the first implementation read them
KNOWN_WORDS = {
    ("AmazonWebServices", 0): [
        ("42183017", 535.416015625, 118.1800537109375, 571.0, 125.4200439453125),
        ("$4.11", 545.97998046875, 144.7249755859375, 571.0, 154.7249755859375),
    ],
    ("AzureInterior", 0): [
        (
            "INV/2023/03/0008",
            98.7654037475586,
            206.21270751953125,
            276.0435791015625,
            228.753662109375,
        ),
        ("04/04/2023", 214.67221069335938, 262.3653564453125, 269.7219543457031, 273.6358642578125),
        ("279.84", 531.0144653320312, 580.6288757324219, 562.8109130859375, 591.8993835449219),
    ],
    ("FlipkartInvoice", 0): [
        ("20-10-2015", 67.08200073242188, 124.9549560546875, 113.10800170898438, 135.4759521484375),
        ("319.00", 523.7999877929688, 307.989990234375, 569.6699829101562, 325.82501220703125),
    ],
    ("QualityHosting", 1): [
        (
            "30064443",
            148.34600830078125,
            306.34490966796875,
            188.37799072265625,
            315.34490966796875,
        ),
        ("34,73", 550.1950073242188, 445.5828857421875, 570.2109985351562, 453.5828857421875),
    ],
    ("oyo", 0): [
        ("IBZY2087", 316.96002197265625, 153.51104736328125, 354.1926574707031, 163.81121826171875),
        (
            "06AABCO6063D1ZQ",
            57.12000274658203,
            601.2947235107422,
            135.2230224609375,
            611.9942474365234,
        ),
    ],
}


def _digest(words: list[Word]) -> str:
    h = hashlib.sha256()
    for w in words:
        line = f"{w.text}|{w.x0:.4f}|{w.y0:.4f}|{w.x1:.4f}|{w.y1:.4f}|{w.page}|{w.conf}\n"
        h.update(line.encode())
    return h.hexdigest()[:16]


@pytest.fixture(scope="module")
def words(shared_data: Path) -> dict[tuple[str, int], list[Word]]:
    out = {}
    with pdf.PDFIUM_LOCK:
        for name in sorted({name for name, _ in REFERENCE}):
            document = pdfium.PdfDocument(str(shared_data / "invoices" / f"{name}.pdf"))
            try:
                for n in range(len(document)):
                    page = document[n]
                    try:
                        out[name, n] = pdf.page_words(page, n)
                    finally:
                        page.close()
            finally:
                document.close()
    return out


@pytest.mark.parametrize("key", sorted(REFERENCE), ids=lambda k: f"{k[0]}-p{k[1]}")
def test_every_word_and_box_is_unchanged(words: dict, key: tuple[str, int]) -> None:
    count, digest = REFERENCE[key]
    assert len(words[key]) == count
    assert _digest(words[key]) == digest


@pytest.mark.parametrize("key", sorted(KNOWN_WORDS), ids=lambda k: f"{k[0]}-p{k[1]}")
def test_known_words_have_their_exact_boxes(words: dict, key: tuple[str, int]) -> None:
    page = key[1]
    got = {(w.text, w.x0, w.y0, w.x1, w.y1) for w in words[key]}
    for text, x0, y0, x1, y1 in KNOWN_WORDS[key]:
        assert (text, x0, y0, x1, y1) in got, text
    assert all(w.page == page and w.conf == pdf.TEXT_LAYER_CONFIDENCE for w in words[key])


def test_words_end_at_every_whitespace_and_pdfium_marker() -> None:
    whitespace = {c for c in range(sys.maxunicode + 1) if chr(c).isspace()}
    assert pdf._WORD_BREAKS == whitespace | {0x00, 0x02, 0xFFFE, 0xFFFF}
