"""Tesseract OCR of one page image: words with boxes and confidences.

One tesseract process per call, single-threaded (OMP_THREAD_LIMIT=1): the pipeline
runs one process per core, and tesseract's own OpenMP threads only fight over them.

Language, chosen by measurement on the sample company's scans: every page is first read
with `eng` (~0.8 s CPU for an A4 page at 150-200 dpi). Chinese text comes out of that
pass as low-confidence fragments; only then is the page read again, with `chi_sim` alone.
On the Chinese VAT forms `chi_sim` found 发票号码 9/9 and net/tax 9/9 where `eng+chi_sim`
found 8/9 and 7/9, and at ~10 % less CPU (it reads the digits and Latin codes of the
form as well). A caller that knows the language (later pages of a document) passes it.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pytesseract
from PIL import Image, ImageFilter

from ocr.layout import Word, is_cjk

ENGLISH = "eng"
CHINESE = "chi_sim"
DEFAULT_TIMEOUT = 120.0
# The English pass looks like unread Chinese when this share of its words is doubtful.
CJK_SUSPECT_SHARE = 0.3
CJK_SUSPECT_CONF = 0.5
MIN_CJK_CHARS = 4
PSM = 3  # automatic page segmentation


class OcrTimeout(Exception):
    """Tesseract did not finish within the timeout."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"OCR timed out after {seconds:g} s")
        self.seconds = seconds


class OcrFailed(Exception):
    """Tesseract ran but could not read the image."""


_env_lock = threading.Lock()
_env_users = 0
_env_saved: str | None = None


@contextmanager
def _single_threaded() -> Iterator[None]:
    """OMP_THREAD_LIMIT=1 in the environment tesseract inherits, restored afterwards."""
    global _env_users, _env_saved
    with _env_lock:
        if _env_users == 0:
            _env_saved = os.environ.get("OMP_THREAD_LIMIT")
            os.environ["OMP_THREAD_LIMIT"] = "1"
        _env_users += 1
    try:
        yield
    finally:
        with _env_lock:
            _env_users -= 1
            if _env_users == 0:
                if _env_saved is None:
                    os.environ.pop("OMP_THREAD_LIMIT", None)
                else:
                    os.environ["OMP_THREAD_LIMIT"] = _env_saved


def skew_angle(image: Image.Image, max_angle: float = 2.0) -> float:
    """The rotation in degrees (counter-clockwise) that levels the text lines of `image`.

    Projection profile on a small copy: the angle at which rows of ink change most
    sharply from row to row is the one where text lines run horizontally. Searched in
    half degrees, then in tenths around the best.
    """
    scale = 800 / max(image.size)
    small = image.resize((round(image.width * scale), round(image.height * scale)))
    pixels = np.asarray(small, dtype=np.float32)
    threshold = (np.percentile(pixels, 2) + np.percentile(pixels, 98)) / 2
    ink = Image.fromarray((pixels < threshold).astype(np.uint8) * 255)

    def sharpness(angle: float) -> float:
        rows = np.asarray(ink.rotate(angle), dtype=np.float32).sum(axis=1)
        return np.square(np.diff(rows)).sum().item()  # a sharpness score, not money

    coarse = max(np.arange(-max_angle, max_angle + 0.25, 0.5), key=sharpness)
    fine = max(np.arange(coarse - 0.4, coarse + 0.45, 0.1), key=sharpness)
    return round(fine.item(), 1)


def prepare(image: Image.Image, dpi: int | None) -> tuple[Image.Image, int]:
    """Grey, level image ready for tesseract, and its resolution.

    A skew of up to 2 degrees is straightened (tesseract's layout analysis splits and
    merges lines of a skewed page). Pages under 150 dpi are upscaled (tesseract wants
    text ~20 px high); at 250 dpi and more a 3x3 median filter removes scanner noise
    without eating strokes.
    """
    image = image.convert("L")
    if dpi is None:  # assume the image is a whole A4/Letter page
        dpi = max(round(min(image.size) / 8.3), 50)
    angle = skew_angle(image)
    if abs(angle) >= 0.2:
        paper = int(np.median(np.asarray(image.reduce(8))))
        image = image.rotate(angle, resample=Image.BICUBIC, fillcolor=paper)
    if dpi < 150:
        factor = 200 / dpi
        image = image.resize(
            (round(image.width * factor), round(image.height * factor)), Image.LANCZOS
        )
        dpi = 200
    if dpi >= 250:
        image = image.filter(ImageFilter.MedianFilter(3))
    return image, dpi


def run(image: Image.Image, *, lang: str, dpi: int, timeout: float, page: int = 0) -> list[Word]:
    """OCR an already prepared image with `lang`; words in pixels with confidences 0..1."""
    image.format = "PPM"  # pytesseract writes this format: raw, the fastest to hand over
    config = f"--psm {PSM} --dpi {dpi} -c tessedit_do_invert=0"
    try:
        with _single_threaded():
            data = pytesseract.image_to_data(
                image,
                lang=lang,
                config=config,
                timeout=timeout,
                output_type=pytesseract.Output.DICT,
            )
    except RuntimeError as exc:
        if "timeout" in str(exc).lower():
            raise OcrTimeout(timeout) from exc
        raise OcrFailed(str(exc)) from exc
    except pytesseract.TesseractError as exc:
        raise OcrFailed(exc.message or str(exc)) from exc
    words = []
    for k, text in enumerate(data["text"]):
        text = text.strip()
        confidence = float(data["conf"][k]) / 100  # tesseract: 0..100, -1 for non-words
        if not text or confidence < 0:
            continue
        left, top = data["left"][k], data["top"][k]
        right, bottom = left + data["width"][k], top + data["height"][k]
        run = (data["block_num"][k], data["par_num"][k], data["line_num"][k])
        words.append(Word(_fix_yuan(text), left, top, right, bottom, page, confidence, run))
    return words


_YUAN_MISREAD = re.compile(r"[Y#]+(\d[\d,]*[.,]\d{2})")


def _fix_yuan(text: str) -> str:
    """'Y1,130.00', 'YY1,130.00', '#1,130.00' are how tesseract reads '¥1,130.00'."""
    m = _YUAN_MISREAD.fullmatch(text)
    return "¥" + m.group(1) if m else text


def looks_unread(words: list[Word]) -> bool:
    """True if an English pass is mostly doubtful fragments, as Chinese text comes out."""
    if len(words) < 8:
        return False
    doubtful = sum(1 for w in words if w.conf < CJK_SUSPECT_CONF)
    return doubtful >= CJK_SUSPECT_SHARE * len(words)


def cjk_count(words: list[Word]) -> int:
    return sum(1 for w in words for ch in w.text if is_cjk(ch))


def ocr_page(
    image: Image.Image,
    *,
    dpi: int | None,
    timeout: float = DEFAULT_TIMEOUT,
    page: int = 0,
    lang: str | None = None,
) -> tuple[list[Word], str]:
    """OCR one page image. With `lang` None, choose English or Chinese as described above.

    Returns the words and the language used. Raises OcrTimeout or OcrFailed.
    """
    prepared, dpi = prepare(image, dpi)
    if lang is not None:
        return run(prepared, lang=lang, dpi=dpi, timeout=timeout, page=page), lang
    words = run(prepared, lang=ENGLISH, dpi=dpi, timeout=timeout, page=page)
    if not looks_unread(words):
        return words, ENGLISH
    chinese = run(prepared, lang=CHINESE, dpi=dpi, timeout=timeout, page=page)
    if cjk_count(chinese) >= MIN_CJK_CHARS:
        return chinese, CHINESE
    return words, ENGLISH
