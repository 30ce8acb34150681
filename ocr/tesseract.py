"""The tesseract backend: one page image in, words with boxes and confidences out.

One tesseract process per call, single-threaded (OMP_THREAD_LIMIT=1): the pipeline runs
one process per core, and tesseract's own OpenMP threads only fight over them. The image
goes over as BMP (HANDOVER), the format tesseract reads fastest. Words come back in the
pixels of the image as it was before ocr.preprocess cropped or resized it (the
Image.info keys below say how). Which language to read a page in is ocr.script's choice;
why the settings are what they are is in docs/ocr_decisions.md.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytesseract
from PIL import Image

from ocr.layout import Word

ENGLISH = "eng"
CHINESE = "chi_sim"
EUROPEAN = {"de": "deu", "fr": "fra", "nl": "nld", "es": "spa"}  # ocr.fields.language -> data
DEFAULT_TIMEOUT = 120.0
PSM = 3  # automatic page segmentation
SCALE_KEY = "closeflow.scale"  # Image.info: how much `prepare` enlarged the image
OFFSET_KEY = "closeflow.offset"  # Image.info: where `prepare` cropped it (input pixels)
SKEW_KEY = "closeflow.skew"  # Image.info: the skew `prepare` found and left (degrees)
OSD_MIN_CONF = 2.0  # tesseract's orientation confidence; upright pages score 5 to 15
# The file format pytesseract hands the image over in: raw 8-bit BMP is read fastest by
# tesseract (leptonica); its PPM/PGM reader is slow (same pixels, same TSV).
HANDOVER = "BMP"


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
def single_threaded() -> Iterator[None]:
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


def image_data(source: Image.Image | str, lang: str, config: str, timeout: float) -> dict:
    """tesseract's words (image_to_data as columns) for an image, or a file listing image
    files (read one after the other, as pages), on one thread; a run over `timeout`
    raises OcrTimeout, any other failure OcrFailed."""
    try:
        with single_threaded():
            return pytesseract.image_to_data(
                source,
                lang=lang,
                config=config,
                timeout=timeout,
                output_type=pytesseract.Output.DICT,
            )
    except RuntimeError as exc:  # how pytesseract reports its timeout
        if "timeout" in str(exc).lower():
            raise OcrTimeout(timeout) from exc
        raise OcrFailed(str(exc)) from exc
    except pytesseract.TesseractError as exc:
        raise OcrFailed(exc.message or str(exc)) from exc


def run(image: Image.Image, *, lang: str, dpi: int, timeout: float, page: int = 0) -> list[Word]:
    """OCR an already prepared image with `lang`; words with confidences 0..1, in pixels
    of the image as it was before `prepare` resized it."""
    image.format = HANDOVER  # pytesseract writes this format for tesseract to read
    data = image_data(image, lang, f"--psm {PSM} --dpi {dpi} -c tessedit_do_invert=0", timeout)
    back = 1 / image.info.get(SCALE_KEY, 1.0)
    dx, dy = image.info.get(OFFSET_KEY, (0, 0))
    words = []
    for k, text in enumerate(data["text"]):
        text = text.strip()
        confidence = float(data["conf"][k]) / 100  # tesseract: 0..100, -1 for non-words
        if not text or confidence < 0:
            continue
        left, top = data["left"][k], data["top"][k]
        right, bottom = left + data["width"][k], top + data["height"][k]
        run = (data["block_num"][k], data["par_num"][k], data["line_num"][k])
        if back != 1.0 or dx or dy:  # into the coordinates of the image before `prepare`
            left, right = dx + left * back, dx + right * back
            top, bottom = dy + top * back, dy + bottom * back
        words.append(Word(_fix_yuan(text), left, top, right, bottom, page, confidence, run))
    return words


_YUAN_MISREAD = re.compile(r"[Y#]+(\d[\d,]*[.,]\d{2})")


def _fix_yuan(text: str) -> str:
    """'Y1,130.00', 'YY1,130.00', '#1,130.00' are how tesseract reads '¥1,130.00'."""
    m = _YUAN_MISREAD.fullmatch(text)
    return "¥" + m.group(1) if m else text
