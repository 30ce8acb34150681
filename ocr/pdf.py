"""PDF pages through pypdfium2: the words of a page's text layer, or the page as an image.

A digital PDF carries its text; reading it is exact and fast, so OCR is only for pages
whose text layer is missing or unusable (scans, fonts without a Unicode map). Those pages
are rendered to a grey image for tesseract.
"""

from __future__ import annotations

import threading

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import Image

from ocr.layout import Word, is_cjk

TEXT_LAYER_CONFIDENCE = 0.99
MIN_TEXT_CHARS = 40  # fewer printable characters than this: treat the page as a scan


def page_words(page: pdfium.PdfPage, page_no: int) -> list[Word]:
    """Words of the page's text layer, in points from the top-left corner."""
    _, height = page.get_size()
    textpage = page.get_textpage()
    words: list[Word] = []
    chars: list[str] = []
    box: list[float] = []

    def flush() -> None:
        if chars:
            text = "".join(chars)
            words.append(
                Word(
                    text,
                    box[0],
                    height - box[3],
                    box[2],
                    height - box[1],
                    page_no,
                    TEXT_LAYER_CONFIDENCE,
                )
            )
            chars.clear()

    try:
        for i in range(textpage.count_chars()):
            ch = chr(pdfium_c.FPDFText_GetUnicode(textpage.raw, i))
            if ch.isspace() or ch in "\x00\ufffe\uffff" or ch == "\x02":
                flush()
                continue
            left, bottom, right, top = textpage.get_charbox(i, loose=True)
            if right <= left and top <= bottom:
                continue
            if chars:
                size = max(top - bottom, box[3] - box[1], 1.0)
                jumped = abs(bottom - box[1]) > 0.5 * size or left < box[0] - 0.5
                gap = left - box[2]
                split = gap > 0.25 * size and not (is_cjk(ch) and gap < 0.6 * size)
                if jumped or split:
                    flush()
            if chars:
                box[:] = [
                    min(box[0], left),
                    min(box[1], bottom),
                    max(box[2], right),
                    max(box[3], top),
                ]
            else:
                box[:] = [left, bottom, right, top]
            chars.append(ch)
        flush()
    finally:
        textpage.close()
    return words


_PUNCT = set(".,:;-/%$€#()&'+*@")


def _printable(ch: str) -> bool:
    code = ord(ch)
    return ch.isprintable() and not (0xE000 <= code <= 0xF8FF) and ch != "\ufffd"


def has_usable_text(words: list[Word]) -> bool:
    """True if the text layer has enough real characters to read the page from it."""
    text = "".join(w.text for w in words)
    good = sum(
        1 for ch in text if _printable(ch) and (ch.isalnum() or not ch.isascii() or ch in _PUNCT)
    )
    return good >= MIN_TEXT_CHARS and good >= 0.85 * len(text)


def render_page(page: pdfium.PdfPage, dpi: int, max_pixels: int) -> tuple[Image.Image, int]:
    """The page as a greyscale image at `dpi`, lowered if it would exceed `max_pixels`.

    Returns the image and the dpi actually used.
    """
    width, height = page.get_size()
    scale = dpi / 72
    pixels = width * scale * height * scale
    if pixels > max_pixels:
        scale *= (max_pixels / pixels) ** 0.5
    bitmap = page.render(scale=scale, grayscale=True)
    try:
        image = bitmap.to_pil().convert("L")
    finally:
        bitmap.close()
    return image, round(scale * 72)


# PDFium must never be called from two threads at once, not even on different documents
# (pypdfium2's documentation): every pdfium call in this package happens under this lock.
PDFIUM_LOCK = threading.RLock()


def read_pages(data: bytes, dpi: int) -> list[tuple[int, list[Word], Image.Image | None, int]]:
    """Each page's text-layer words, or (when it has none) its rendered image for OCR.

    Returns (page number, words, image or None, dpi of the image). Everything pdfium
    touches is opened and closed inside the lock. Raises load.Unreadable.
    """
    from ocr import load

    pages: list[tuple[int, list[Word], Image.Image | None, int]] = []
    with PDFIUM_LOCK:
        document = load.open_pdf(data)
        try:
            for n, page in enumerate(document):
                try:
                    words = page_words(page, n)
                    if has_usable_text(words):
                        pages.append((n, words, None, 0))
                        continue
                    image, used_dpi = render_page(page, dpi, load.MAX_IMAGE_PIXELS)
                    pages.append((n, [], image, used_dpi))
                finally:
                    page.close()
        finally:
            document.close()
    return pages
