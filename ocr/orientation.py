"""Putting a page upright: a cheap test for lines running up and down
(`lines_run_vertically`), tesseract's orientation detection (`orientation`, OSD, as dear
as a pass, so asked only when the test or a bad pass calls for it: ocr.extract), and the
lossless turn (`turn`).
"""

from __future__ import annotations

import numpy as np
import pytesseract
from PIL import Image

from ocr.image_filters import percentiles, reduced_copy
from ocr.layout import Word
from ocr.preprocess import CAMERA_DPI, PageCache
from ocr.tesseract import DEFAULT_TIMEOUT, HANDOVER, OSD_MIN_CONF, OcrTimeout, single_threaded

# Orientation (docs/ocr_decisions.md): a pass with fewer than UPRIGHT_SHARE of its
# words at UPRIGHT_CONF or more reads badly, and only then is OSD asked.
UPRIGHT_CONF = 0.6
UPRIGHT_SHARE = 0.5
VERTICAL_RATIO = 1.5


def lines_run_vertically(image: Image.Image, cache: PageCache | None = None) -> bool:
    """True if the text lines of `image` run up and down (a page turned by 90 or 270
    degrees): the ink profile is sharper across columns than across rows.

    A projection profile on a small copy, a few milliseconds; it cannot tell 0 from 180.
    """
    grey = image if image.mode == "L" else image.convert("L")
    pixels = np.asarray(reduced_copy(grey) if cache is None else cache.small(grey))
    low, high = percentiles(pixels[::4, ::4], (2, 98))
    ink = pixels < (low + high) / 2
    rows = np.square(np.diff(ink.sum(axis=1))).sum() / ink.shape[1]
    columns = np.square(np.diff(ink.sum(axis=0))).sum() / ink.shape[0]
    return bool(columns > VERTICAL_RATIO * rows)


def orientation(image: Image.Image, dpi: int | None, timeout: float = DEFAULT_TIMEOUT) -> int:
    """Degrees (0, 90, 180, 270) to turn `image` clockwise so its text stands upright, by
    tesseract's orientation and script detection (OSD); 0 when OSD is unsure or cannot
    tell (too few characters, a blank page). Raises OcrTimeout.
    """
    image = image.convert("L")
    if dpi is None or dpi in CAMERA_DPI:
        dpi = max(round(min(image.size) / 8.3), 50)
    if not 150 <= dpi <= 300:  # letters of a readable size, and no more pixels than that
        target = min(max(dpi, 200), 300)
        factor = target / dpi
        image = image.resize(
            (round(image.width * factor), round(image.height * factor)), Image.LANCZOS
        )
        dpi = target
    image.format = HANDOVER
    try:
        with single_threaded():
            osd = pytesseract.image_to_osd(
                image,
                config=f"--psm 0 --dpi {dpi}",
                timeout=timeout,
                output_type=pytesseract.Output.DICT,
            )
    except RuntimeError as exc:
        if "timeout" in str(exc).lower():
            raise OcrTimeout(timeout) from exc
        return 0
    except (pytesseract.TesseractError, ValueError, KeyError):
        return 0  # "Too few characters. Skipping this page", unparsable output
    rotate = int(osd.get("rotate", 0)) % 360
    if rotate not in (90, 180, 270) or float(osd.get("orientation_conf", 0)) < OSD_MIN_CONF:
        return 0
    return rotate


def reads_badly(words: list[Word]) -> bool:
    """True if an OCR pass is mostly doubt, as a page read upside down or sideways is
    (False when it read nothing at all: a blank page has no orientation to find)."""
    if not words:
        return False
    sure = sum(1 for w in words if w.conf >= UPRIGHT_CONF)
    return sure < UPRIGHT_SHARE * len(words)


def turn(image: Image.Image, degrees: int) -> Image.Image:
    """`image` turned clockwise by `degrees` (a multiple of 90), losslessly."""
    method = {90: Image.Transpose.ROTATE_270, 180: Image.Transpose.ROTATE_180,
              270: Image.Transpose.ROTATE_90}  # fmt: skip
    return image.transpose(method[degrees]) if degrees in method else image
