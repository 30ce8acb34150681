"""PDF pages through pypdfium2: the words of a page's text layer, or the page as an image.

A digital PDF carries its text; reading it is exact and fast, so OCR is only for pages
whose text layer is missing or unusable (scans, fonts without a Unicode map). Those pages
are rendered to a grey image for tesseract. A page with a text layer and images big
enough to hold text (a pasted scan of the totals, a stamp, the scan under a partial text
layer; not logos) has just those regions rendered, with the text layer blanked out, for
OCR (`read_pages`). Words and regions are placed on the page as it is shown: a page with
/Rotate is turned as a viewer turns it (`upright`).
"""

from __future__ import annotations

import ctypes
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import Image, ImageDraw

from ocr.layout import Word, is_cjk

TEXT_LAYER_CONFIDENCE = 0.99
MIN_TEXT_CHARS = 40  # fewer printable characters than this: treat the page as a scan


def _word(
    chars: list[str], left: float, bottom: float, right: float, top: float, height: float, page: int
) -> Word:
    """A text-layer word from its characters and its box in PDF units (y up)."""
    return Word(
        "".join(chars), left, height - top, right, height - bottom, page, TEXT_LAYER_CONFIDENCE
    )


Box = tuple[float, float, float, float]


def upright(page: pdfium.PdfPage) -> Callable[[float, float, float, float], Box] | None:
    """For a page with /Rotate 90, 180 or 270: the map of a box (left, top, right, bottom,
    PDF units, y up) from the page's own space, where pdfium gives characters and
    objects, into the space of the page as shown (turned clockwise by /Rotate, origin at
    its bottom-left, y up), where it is rendered; None for an unturned page."""
    rotation = page.get_rotation() % 360
    if rotation not in (90, 180, 270):
        return None
    left, bottom, right, top = page.get_bbox()
    if rotation == 90:
        return lambda x0, y1, x1, y0: (y0 - bottom, right - x0, y1 - bottom, right - x1)
    if rotation == 180:
        return lambda x0, y1, x1, y0: (right - x1, top - y0, right - x0, top - y1)
    return lambda x0, y1, x1, y0: (top - y1, x1 - left, top - y0, x0 - left)


def page_words(page: pdfium.PdfPage, page_no: int) -> list[Word]:
    """Words of the page's text layer, in points from the top-left corner of the page as
    shown (a page with /Rotate turned as a viewer turns it).

    A word is a run of characters on one baseline without a gap wider than a quarter of
    the font size (more between Han characters); whitespace and pdfium's markers end it.
    Each character's loose box (the font's full height) is read straight from pdfium into
    one reused rectangle, and the running word box is kept in locals: this loop runs for
    every character of every digital page, so it avoids per-character objects and calls.
    """
    _, height = page.get_size()
    turn = upright(page)
    textpage = page.get_textpage()
    words: list[Word] = []
    add_word = words.append
    get_unicode = pdfium_c.FPDFText_GetUnicode
    get_box = pdfium_c.FPDFText_GetLooseCharBox
    rect = pdfium_c.FS_RECTF()
    rect_ref = ctypes.byref(rect)
    read_rect = _RECTF.unpack_from  # one call for the four floats (left, top, right, bottom)
    chars: list[str] = []
    add_char = chars.append
    # the current word's box: left, bottom, right, top (PDF units, y up)
    w_left = w_bottom = w_right = w_top = 0.0
    try:
        raw = textpage.raw
        for i in range(textpage.count_chars()):
            code = get_unicode(raw, i)
            if code in _WORD_BREAKS:
                if chars:
                    add_word(_word(chars, w_left, w_bottom, w_right, w_top, height, page_no))
                    chars.clear()
                continue
            ch = chr(code)
            if not get_box(raw, i, rect_ref):
                raise pdfium.PdfiumError("Failed to get charbox.")
            left, top, right, bottom = read_rect(rect)
            if right <= left and top <= bottom:
                continue
            if turn is not None:
                left, top, right, bottom = turn(left, top, right, bottom)
            if chars:
                size = top - bottom
                if w_top - w_bottom > size:
                    size = w_top - w_bottom
                if 1.0 > size:
                    size = 1.0
                gap = left - w_right
                if (
                    abs(bottom - w_bottom) > 0.5 * size
                    or left < w_left - 0.5
                    or (gap > 0.25 * size and not (gap < 0.6 * size and is_cjk(ch)))
                ):
                    add_word(_word(chars, w_left, w_bottom, w_right, w_top, height, page_no))
                    chars.clear()
                    w_left, w_bottom, w_right, w_top = left, bottom, right, top
                else:
                    if left < w_left:
                        w_left = left
                    if bottom < w_bottom:
                        w_bottom = bottom
                    if right > w_right:
                        w_right = right
                    if top > w_top:
                        w_top = top
            else:
                w_left, w_bottom, w_right, w_top = left, bottom, right, top
            add_char(ch)
        if chars:
            add_word(_word(chars, w_left, w_bottom, w_right, w_top, height, page_no))
    finally:
        textpage.close()
    return words


# Code points that end a word: whitespace (str.isspace's code points, spelled out because
# computing them costs 0.1 s at import), NUL, pdfium's non-characters and the STX it puts
# where a hyphen was removed at a line end.
_WHITESPACE = (*range(0x09, 0x0E), *range(0x1C, 0x21), 0x85, 0xA0, 0x1680)
_WHITESPACE += (*range(0x2000, 0x200B), 0x2028, 0x2029, 0x202F, 0x205F, 0x3000)
_WORD_BREAKS = frozenset((*_WHITESPACE, 0x00, 0x02, 0xFFFE, 0xFFFF))
_RECTF = struct.Struct("=4f")  # FS_RECTF, as pdfium fills it


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


def render_page(
    page: pdfium.PdfPage,
    dpi: int,
    max_pixels: int,
    box: tuple[float, float, float, float] | None = None,
) -> tuple[Image.Image, float]:
    """The page (or only `box` of it: left, top, right, bottom in points from the top-left
    corner) as a greyscale image at `dpi`, lowered if it would exceed `max_pixels`.

    Returns the image and the scale actually used, in pixels per point (dpi / 72).
    """
    width, height = page.get_size()
    crop = (0.0, 0.0, 0.0, 0.0)
    if box is not None:
        left, top, right, bottom = box
        crop = (left, height - bottom, width - right, top)
        width, height = right - left, bottom - top
    scale = dpi / 72
    pixels = width * scale * height * scale
    if pixels > max_pixels:
        scale *= (max_pixels / pixels) ** 0.5
    bitmap = page.render(scale=scale, crop=crop, grayscale=True)
    try:
        image = bitmap.to_pil().convert("L")
    finally:
        bitmap.close()
    return image, scale


@dataclass
class Region:
    """Part of a page to OCR: its image, and where the image sits on the page.

    A word at pixel (x, y) of the image is at (left + x * unit, top + y * unit) in the
    page's coordinates; a whole scanned page keeps its pixels (unit 1, left = top = 0).
    """

    image: Image.Image
    dpi: int
    left: float = 0.0
    top: float = 0.0
    unit: float = 1.0


@dataclass
class PageRead:
    """One page: the words of its text layer and the regions that need OCR."""

    number: int
    words: list[Word]
    regions: list[Region] = field(default_factory=list)


# Which images are OCR'd: not icons, signatures and bullets (under MIN_IMAGE_SHARE of the
# page or MIN_IMAGE_SIDE points high or wide), nor letterhead logos (under LOGO_SHARE in
# the top LETTERHEAD of the page). The real invoices' logos measure up to 3.1 % of the
# page (201 x 77 pt, top right of an A4 page), their other images under 0.6 %; a pasted
# totals block (~200 x 64 pt, 2.6 %) or a stamp lower down is read. A rendered region
# with less ink than MIN_INK_SHARE once the text layer is blanked holds nothing new.
MIN_IMAGE_SHARE = 0.01
MIN_IMAGE_SIDE = 20.0
LOGO_SHARE = 0.04
LETTERHEAD = 0.2
MIN_REGION_DPI = 150
MIN_INK_SHARE = 0.002
MASK_PAD = 1.0  # points around a text-layer word that are blanked before OCR


def _bounds(obj: pdfium.PdfObject) -> tuple[float, float, float, float]:
    """An object's bounds in page space (PDF units, y up), through any enclosing forms."""
    left, bottom, right, top = obj.get_bounds()
    container = obj.container
    while container is not None:
        matrix = container.get_matrix()
        corners = [matrix.on_point(x, y) for x in (left, right) for y in (bottom, top)]
        xs, ys = [c[0] for c in corners], [c[1] for c in corners]
        left, bottom, right, top = min(xs), min(ys), max(xs), max(ys)
        container = container.container
    return left, bottom, right, top


def _overlap(a: list[float], b: list[float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _too_large(width: int, height: int) -> Exception:
    from ocr import load

    return load.Unreadable(
        f"the PDF holds an image too large to read safely ({width} x {height} pixels, limit "
        f"{load.MAX_IMAGE_PIXELS // 1_000_000} million; it may be a decompression bomb)"
    )


def image_boxes(
    page: pdfium.PdfPage, whole_page: bool = False
) -> list[tuple[tuple[float, float, float, float], float]]:
    """The page's images large enough to hold text, overlapping ones merged: each box
    (left, top, right, bottom in points from the top-left) with the resolution its
    pixels have on the page (dpi; the highest, for merged images).

    Raises load.Unreadable for an image of more pixels than any page scan (a bomb:
    rendering it would decode all of them) among those returned, or among all of them
    when the `whole_page` is to be rendered."""
    from ocr import load

    width, height = page.get_size()
    turn = upright(page)
    found: list[tuple[list[float], float]] = []
    for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE]):
        try:
            px_width, px_height = obj.get_px_size()
        except (pdfium.PdfiumError, AttributeError):
            px_width = px_height = 0
        bomb = px_width * px_height > load.MAX_IMAGE_PIXELS
        if bomb and whole_page:
            raise _too_large(px_width, px_height)
        left, bottom, right, top = _bounds(obj)
        if turn is not None:
            left, top, right, bottom = turn(left, top, right, bottom)
        left, right = max(left, 0.0), min(right, width)
        top, bottom = max(height - top, 0.0), min(height - bottom, height)
        w, h = right - left, bottom - top
        if min(w, h) < MIN_IMAGE_SIDE:
            continue
        share = w * h / (width * height)
        if share < MIN_IMAGE_SHARE or (share < LOGO_SHARE and bottom < LETTERHEAD * height):
            continue
        if bomb:
            raise _too_large(px_width, px_height)
        native = max(px_width, px_height) / max(w, h) * 72
        box = [left, top, right, bottom]
        while True:
            other = next((f for f in found if _overlap(box, f[0])), None)
            if other is None:
                break
            found.remove(other)
            o = other[0]
            box = [min(box[0], o[0]), min(box[1], o[1]), max(box[2], o[2]), max(box[3], o[3])]
            native = max(native, other[1])
        found.append((box, native))
    return [((b[0], b[1], b[2], b[3]), native) for b, native in found]


def _masked_region(
    page: pdfium.PdfPage, box: tuple[float, float, float, float], words: list[Word], dpi: int
) -> Region | None:
    """The image region rendered with the text layer's words blanked out (they are read
    exactly already), or None if nothing but those words is in it."""
    from ocr import load

    image, scale = render_page(page, dpi, load.MAX_IMAGE_PIXELS, box)
    left, top = box[0], box[1]
    draw = ImageDraw.Draw(image)
    for w in words:
        if w.x1 < box[0] or w.x0 > box[2] or w.y1 < box[1] or w.y0 > box[3]:
            continue
        draw.rectangle(
            (
                (w.x0 - MASK_PAD - left) * scale,
                (w.y0 - MASK_PAD - top) * scale,
                (w.x1 + MASK_PAD - left) * scale,
                (w.y1 + MASK_PAD - top) * scale,
            ),
            fill=255,
        )
    pixels = np.asarray(image)
    if (pixels < 0.6 * np.median(pixels)).mean() < MIN_INK_SHARE:
        return None
    return Region(image, round(scale * 72), left, top, 1 / scale)


# PDFium must never be called from two threads at once, not even on different documents
# (pypdfium2's documentation): every pdfium call in this package happens under this lock.
PDFIUM_LOCK = threading.RLock()


def read_pages(data: bytes, dpi: int) -> list[PageRead]:
    """Each page's text-layer words and the regions of it that need OCR.

    A page without a usable text layer is one region, the whole page rendered (its words
    stay in pixels). A page with one keeps its words, and each image on it large enough
    to hold text (a pasted scan of the totals, a stamp, the scan under a partial text
    layer; see `image_boxes`) becomes a region, rendered with the text layer's words
    blanked so nothing is read twice; OCR words of a region are placed in points like
    the text layer's. Rendering is at `dpi`, but no higher than the images' own
    resolution (and at least MIN_REGION_DPI): a 200 dpi scan rendered at 300 is no
    sharper, only slower to OCR. Everything pdfium touches is opened and closed inside
    the lock; tesseract runs after. Raises load.Unreadable.
    """
    from ocr import load

    pages: list[PageRead] = []
    with PDFIUM_LOCK:
        document = load.open_pdf(data)
        try:
            for n, page in enumerate(document):
                try:
                    words = page_words(page, n)
                    if not has_usable_text(words):
                        boxes = image_boxes(page, whole_page=True)
                        native = max((res for _, res in boxes), default=0.0)
                        use = min(dpi, max(round(native), MIN_REGION_DPI)) if native else dpi
                        image, scale = render_page(page, use, load.MAX_IMAGE_PIXELS)
                        pages.append(PageRead(n, [], [Region(image, round(scale * 72))]))
                        continue
                    regions = []
                    for box, native in image_boxes(page):
                        use = min(dpi, max(round(native), MIN_REGION_DPI)) if native else dpi
                        region = _masked_region(page, box, words, use)
                        if region is not None:
                            regions.append(region)
                    pages.append(PageRead(n, words, regions))
                finally:
                    page.close()
        finally:
            document.close()
    return pages
