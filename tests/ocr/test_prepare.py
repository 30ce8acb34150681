"""Preprocessing primitives (ocr.preprocess, ocr.image_filters) that must equal what they
replace."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFilter

from ocr import image_filters, preprocess, tesseract
from tests.ocr.documents import scan


def test_median3_is_pils_median_filter_on_a_300_dpi_scan(english_pdf: Path) -> None:
    # "median" runs on scans of 250 dpi and more: PIL's filter took 0.8 s CPU on a 300 dpi
    # A4 page, more than tesseract's pass; median3 must give the very same pixels
    page = Image.open(scan(english_pdf, english_pdf.with_name("scan300.png"), dpi=300))
    assert page.size == (2481, 3508)
    assert (
        image_filters.median3(page).tobytes() == page.filter(ImageFilter.MedianFilter(3)).tobytes()
    )


@pytest.mark.parametrize("shape", [(1, 1), (2, 5), (3, 3), (63, 7), (64, 64), (65, 130)])
def test_median3_is_pils_median_filter_at_the_edges_and_band_ends(shape: tuple) -> None:
    noise = np.random.default_rng(sum(shape)).integers(0, 256, shape, dtype=np.uint8)
    image = Image.fromarray(noise)
    assert (
        image_filters.median3(image).tobytes()
        == image.filter(ImageFilter.MedianFilter(3)).tobytes()
    )


def test_prepare_filters_a_300_dpi_scan_with_median3(english_pdf: Path) -> None:
    page = Image.open(scan(english_pdf, english_pdf.with_name("scan300b.png"), dpi=300, angle=0))
    prepared, dpi = preprocess.prepare(page.convert("L"), 300, frozenset({"median"}))
    assert dpi == 300
    assert prepared.tobytes() == page.convert("L").filter(ImageFilter.MedianFilter(3)).tobytes()


def test_a_page_straightened_for_every_pass_is_straightened_once(english_pdf: Path) -> None:
    # A page skewed over a degree is straightened for the `eng` pass and for the `chi_sim`
    # or `deu` pass after it alike: the second asks `prepare` again, with the page's cache,
    # and gets the same image.
    eng = preprocess.deskew_from(tesseract.ENGLISH)
    chi = preprocess.deskew_from(tesseract.CHINESE)
    steep = Image.open(scan(english_pdf, english_pdf.with_name("steep.png"), angle=1.3))
    steep = steep.convert("L")
    cache = preprocess.PageCache()
    english, _ = preprocess.prepare(steep, 200, min_skew=eng, cache=cache)
    chinese, _ = preprocess.prepare(steep, 200, min_skew=chi, cache=cache)
    assert chinese is english
    assert english.info[tesseract.SKEW_KEY] == 0.0
    # without the page's cache nothing is kept: the same pixels, made again
    again, _ = preprocess.prepare(steep, 200, min_skew=chi)
    assert again is not english and again.tobytes() == english.tobytes()
    # a slight skew: the `eng` pass reads it as it is, the others straightened
    slight = Image.open(scan(english_pdf, english_pdf.with_name("slight.png"), angle=0.7))
    slight = slight.convert("L")
    cache = preprocess.PageCache()
    english, _ = preprocess.prepare(slight, 200, min_skew=eng, cache=cache)
    chinese, _ = preprocess.prepare(slight, 200, min_skew=chi, cache=cache)
    assert chinese is not english
    assert english.tobytes() == slight.tobytes()
    assert chinese.tobytes() != slight.tobytes()
