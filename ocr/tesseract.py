"""Tesseract OCR of one page image: words with boxes and confidences.

One tesseract process per call, single-threaded (OMP_THREAD_LIMIT=1): the pipeline
runs one process per core, and tesseract's own OpenMP threads only fight over them.

Language, chosen by measurement on the sample company's scans: every page is first read
with `eng` (~0.8 s CPU for an A4 page at 150-200 dpi). Chinese text comes out of that
pass as low-confidence fragments; only then is the page read again, with `chi_sim` alone,
and that reading is kept when it is the surer one (`reads_as_chinese`).
On the Chinese VAT forms `chi_sim` found 发票号码 9/9 and net/tax 9/9 where `eng+chi_sim`
found 8/9 and 7/9, and at ~10 % less CPU (it reads the digits and Latin codes of the
form as well). A caller that knows the language (later pages of a document) passes it.

German, French, Dutch and Spanish pages are told by the words of the `eng` pass (a vote
of distinctive words, `ocr.fields.language`: "Rechnungsnummer", "Facture", "Factuurdatum",
"Fecha"...; accents the pass lost still count) and read again with `deu`, `fra`, `nld` or
`spa` alone. Measured with bench/ocr_languages.py on scans of the four invoices in
tests/ocr/documents.py (200 dpi, noise, 4 seeds each; 14 fields per scan: number, invoice
and due date, net, tax, total, currency, both tax ids, IBAN, reference, supplier name,
language, line items): `eng` 93.8 % of fields right (accents lost in names and
descriptions: "Lumiere", "Toner"), the language alone 98.2 %, `eng+<lang>` 96.9 %;
10/16, 12/16 and 12/16 scans straight through. With umlauts in the German supplier name
and items: `eng` 80.4 %, `deu` 92.9 %, `eng+deu` 80.4 %. CPU per page: `eng` 0.75 s,
the language alone 0.75 s, `eng+<lang>` 0.93 s; both passes of a European page
1.4-1.6 s. English pages (the sample company's scans, whose labels are English even from
German suppliers) are not read again: 15/15 stayed `eng`, fields and CPU unchanged.

Preprocessing (`prepare`), chosen by bench/ocr_preprocess.py: 4 office scans (English at
150, 200 and 300 dpi, a Chinese VAT form; grey paper, skew, blur, noise) and 7 phone
photos (closeflow.sample.photo `phone_photo`: 12 MP frame on a desk, keystone, off-white
paper, light fall-off, 4 of them with the phone's own hard-edged shadow across the totals,
JPEG q70-85 at 72 dpi with an EXIF turn, sent at 1600-4032 px; 6 English, 1 Chinese).
Fields: invoice number, date, net, tax, total; CPU s/page includes tesseract (2 shared
cores, +-15 %):

    pipeline                           scans    photos  photos all  CPU scan  CPU photo
    none (grey as it comes)            20/20     14/35     0/7        0.87      0.78
    current (deskew, upscale, median)  20/20     13/35     0/7        1.33      3.44
    + ignore a camera's 72 dpi         20/20     17/35     1/7        1.47      1.44
    + flatten uneven light             20/20     32/35     6/7        1.67      5.60
    + crop to the sheet, >400 dpi down 20/20     20/35     2/7        1.61      1.22
      ... + flatten                    20/20     31/35     5/7        1.62      1.69
      ... + flatten, sheet at 250 dpi  20/20     35/35     7/7        1.69      2.10
        the same, another run              20/20     35/35     7/7        0.94      1.45
        ... + paper by the sheet's shape   20/20     35/35     7/7        1.00      1.50
        ... + paper + keystone squared     20/20     35/35     7/7        1.02      1.54  <- chosen
      ... + flatten, sheet at 300 dpi  20/20     35/35     7/7        1.49      2.58
      ... + flatten, sheet at 400 dpi  20/20     35/35     7/7        2.03      4.65
      ... 300 dpi + flatten + Otsu     20/20     35/35     7/7        1.81      2.95
      ... 300 dpi + Sauvola            19/20     33/35     5/7        2.23      3.60

What reads a photo is dividing out the light and enough pixels on the sheet: `flatten`
alone read 6/7, but only because a 72 dpi tag made `upscale` enlarge photos 2.8x (5.6 s
a page); the sheet's own width gives its resolution, and resampling it to 250 dpi reads all
seven at 2.1 s (300 and 400 dpi: no better, slower). Binarising after flattening changes
nothing but costs time; Sauvola (numpy) lost a Chinese scan's number and two photos'
dates. Flattening is skipped where the light is even (scans): applied to every scan it
cost the sample company's Chinese scans a date. Upscaling scans under 150 dpi stays.

The sheet's paper and keystone ("paper", "keystone"; the last two rows, one run): all 7
photos are A4 with a mild keystone (the far edge 6 % narrower), so both read the same
there, for ~0.05 s a photo (finding the corners ~15 ms, the perspective warp replacing
the crop). They are kept for the sheets that corpus lacks, tests/ocr/test_photos.py with
real tesseract: a till receipt (80 mm wide) taken for A4 got 78 dpi for its ~200 (upscaled
2.6x), by its shape 205; a US Letter sheet 4.5 % off as A4, 1.3 % by its shape; a sheet
photographed at an angle (far edge 35 % narrower) went to review as a plain crop and reads
straight through squared up (the same at 15 and 25 %, 2 seeds each).

Orientation (`orientation`, `lines_run_vertically`; the policy is ocr.extract._ocr):
tesseract OSD costs about an OCR pass, so it runs only when the lines run vertically
(a projection test, ~10 ms: a page turned 90 or 270 degrees) or when the upright pass
reads badly (under half its words at confidence 0.6: a page upside down). Measured on
the 4 scans turned 0/90/180/270 (fields right of 20, CPU s/page):

    strategy                    0          90         180        270
    no orientation              20  1.81    0  2.49    0  2.52    6  1.60
    OSD always, full size       20  3.18   20  3.68   20  3.18   20  3.23
    OSD always, half size       20  3.19   10  3.23   10  4.06   10  2.93
    OSD when needed (chosen)    20  2.01   20  3.10   20  4.71   20  2.78

OSD on a half-size copy is no cheaper (OSD's cost is mostly fixed) and misjudges half
the turned pages. No OSD call was made on any upright scan or photo of the preprocessing
corpus (the 0 degree difference is noise; the projection test and `prepare`'s page and
light checks add ~15 ms to a scanned page); an upside-down page pays a wasted pass.
OSD errors ("Too few characters", a blank page) and confidences under OSD_MIN_CONF
leave the page as it is. A phone's EXIF orientation tag is applied when the image is
loaded (ocr.load).

Speed (bench/ocr_speed.py: the sample company's 6 English scans at 150/200 dpi and a
Chinese VAT scan; CPU s per page, best of 2, `extract_file` vs the bare `tesseract`
command on the original scan file with the same settings, in the same run; the shared
2-core machine at load 2.4-3.6, so compare the ratios):

                           bare   extract_file  ocr_page      prepare (skew search)
    before (English)       0.622  0.836 (1.34)  0.844 (1.36)  0.121 (0.042)
    after (English)        0.770  0.872 (1.13)  0.887 (1.15)  0.095 (0.014)
    a later run            0.495  0.574 (1.16)  0.569 (1.15)  0.055 (0.009)
    inked deskew (English) 0.540  0.641 (1.19)  0.588 (1.09)  0.034 (0.008)
    the same, load 5       0.549  0.663 (1.21)  0.603 (1.10)  0.031 (0.008)
    ... no second look     0.532  0.587 (1.10)  0.585 (1.10)  0.029 (0.008)
    (from "inked deskew" on, `extract_file` gives the one page of six that would go to
    review a second look, ocr.reread: ~0.05 s a page; the last row has it switched off)
    Chinese, bare = chi_sim alone: ratio 1.67 before, 1.44 and 1.78 in two runs after
    (one page, the same two passes: noise)

What went: (1) the skew search counts the ink pixels' rotated row numbers (np.bincount)
instead of rotating an image 18 times: 8-17 ms instead of 41-72 ms, the same angle within
0.1 degree on 42 generated scans (English and Chinese, 150/200/300 dpi, -1.5 to 1.4
degrees) and on the sample company's scans; percentiles come from the 8-bit histogram,
and the page, skew and light checks share one reduced copy. (2) A scan is rotated only
from DESKEW_MIN_ANGLE (0.5 degree; was 0.2), bicubically: bilinear rotation takes half
the time, but it cost the sample company's Chinese VAT scan its 发票代码 (read "31002";
tests/ocr/test_chinese.py). With (1) and (2), bench/ocr_accuracy.py
--days 20 read as many fields or more on every corpus (generated scans: tax 12 -> 14 of
17; Chinese VAT scans: total 0 -> 1 of 2; the rest unchanged, "wrong but trusted" too)
and bench/ocr_preprocess.py 4/4 scans, 7/7 photos as before. Levelling by a
shear instead (whole-pixel column shifts, 6 ms instead of ~40) lost a generated scan's
tax and a real scan's total: not used. Photos keep the search and bicubic rotation they
were measured with (`photo_skew_angle`): their 0.2-0.6 degree "skew" is noise, but one
photo reads its totals only once resampled by a rotation, and another's total hangs on
the grey the corners are filled with (`_paper_grey`). (3) The prepared page goes to
tesseract as BMP (HANDOVER): its PPM reader is slow (one 200 dpi page, same TSV: PPM
0.89 s, BMP 0.75 s, the JPEG itself 0.93 s CPU under load). (4) "Inked deskew"
(`rotate_inked`): the scan is rotated bicubically only in 64 px tiles with ink within
a few pixels, nearest-neighbour elsewhere: the same pixels wherever there is ink (the
rest differ by paper noise, no pixel under grey 184 on the sample scans), 0.049 s
instead of 0.085 on a skewed 200 dpi page, 0.029 instead of 0.050 at 150 dpi (a Chinese
form's ruled table is ink nearly everywhere: 0.045 for 0.048). bench/ocr_accuracy.py
--days 45 read every corpus the same with it as with the whole bicubic rotation, in the
same code (field for field, "wrong but trusted" 0). 32 px tiles (~10 % faster again,
the same on that benchmark) cost tests/ocr/test_chinese.py's ordinary scan the "*" of a
line item's tax category: the paper's noise, resampled or not, still moves tesseract. With it:
percentiles from PIL's histogram (~5x faster than np.bincount), `uneven_light`'s max
filter in numpy (the same pixels, ~4x faster than PIL's rank filter), a scan told by the
border of the copy at hand before `find_page` resizes it, no copies of an upright grey
image in ocr.load or `prepare`, one reduced copy for the orientation test and `prepare`,
and `prepare` keeps its last answer, which the second look at a page to review
(ocr.reread) asks for again. Left over bare tesseract on `ocr_page`, ~0.05 s a
page (target met): the image decode (~0.015 s), the skew search (~0.008 s) and the
inked deskew (~0.02 s). `extract_file` pays ~0.05 s a page more: the second look
(ocr.reread: two more tesseract calls on a strip of the doubtful parts, ~0.3 s) on the
one page of six that goes to review.

The English pass straightens a scan only from ENGLISH_DESKEW_MIN_ANGLE (1 degree;
`deskew_from`): a rotated page costs ~0.03-0.05 s of CPU for the rotation and tesseract
1-2 % more to read (measured on the same pages rotated nearest, bilinear, bicubic or
inked: all alike), and Latin print up to a degree reads as well unstraightened, except on
the pages that then go to review. Measured with bench/ocr_accuracy.py (seeds 7 and 11):
straightening from a degree everywhere cost the Chinese VAT scans a field (87.5 % pooled)
and, for English, sent 1 of 11 generated scans skewed 0.5-1 degree (a "0" read "O") and
1 of 5 real scans (the supplier name) to review. So only the English pass waits for a
degree, every other pass (chi_sim, deu, ...) straightens from 0.5, and ocr.extract reads
an English page left skewed again straightened when the invoice would go to review:
both seeds then read field for field as straightening everything from 0.5 did, at 1.06x
bare tesseract for `ocr_page` and 1.08x for `extract_file` (was 1.11 and 1.12; English
scans at 150/200 dpi, the sample company's supplier file). Without a supplier file more
pages go to review, and those skewed 0.5-1 degree pay a second page pass (1.36x).

Chinese pages still pay the English pass first: OSD's script detection costs as much
(0.88 s CPU on an English page against 0.75 s for the eng pass) and said "Han" at a
script confidence of 0.24 on the Chinese scan, and a chi_sim pass on a strip would be
paid by every English page.
"""

from __future__ import annotations

import math
import os
import re
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pytesseract
from numpy.lib.stride_tricks import sliding_window_view
from PIL import Image, ImageFilter

from ocr.language import language
from ocr.layout import Word, is_cjk

ENGLISH = "eng"
CHINESE = "chi_sim"
EUROPEAN = {"de": "deu", "fr": "fra", "nl": "nld", "es": "spa"}  # ocr.fields.language -> data
DEFAULT_TIMEOUT = 120.0
# The English pass looks like unread Chinese when this share of its words is doubtful.
CJK_SUSPECT_SHARE = 0.3
CJK_SUSPECT_CONF = 0.5
# The Chinese pass is taken when it read at least this many Chinese characters surely
# (word confidence SURE_CJK_CONF) and is surer of its words than the English pass was.
MIN_SURE_CJK = 10
SURE_CJK_CONF = 0.8
PSM = 3  # automatic page segmentation
SCALE_KEY = "closeflow.scale"  # Image.info: how much `prepare` enlarged the image
OFFSET_KEY = "closeflow.offset"  # Image.info: where `prepare` cropped it (input pixels)
SKEW_KEY = "closeflow.skew"  # Image.info: the skew `prepare` found and left (degrees)
PREPARE_STEPS = frozenset(
    {"page", "keystone", "paper", "normalise", "camera-dpi", "deskew", "upscale", "downscale",
     "median", "flatten"}
)  # fmt: skip
MAX_DPI = 400
DESK_SHARE = 0.7  # find_page: a desk's median is under this share of the paper's light
SCAN_SHARE = 0.8  # find_page: told a scan on the copy at hand, before resizing it
SHEET_EDGE = 0.35  # find_page: a sheet's edge steps log brightness by more than this
EVEN_LIGHT = 0.85  # uneven_light: the darkest paper under this share of the brightest
CAMERA_DPI = (72, 96)  # what cameras and screenshots write: a default, not a measurement
PHOTO_DPI = 250  # "normalise": a photographed sheet is resampled to this resolution
SHEET_WIDTH_INCHES = 8.27  # A4 (Letter: 8.5); a photographed sheet's width gives its dpi
# A photographed sheet's shape (height / width) tells its paper: A4 1.41, US Letter 1.29
# (the boundary between them A4_OR_LETTER); RECEIPT_ASPECT and longer, a till receipt
# (80 mm paper). `sheet_width_inches`.
A4_WIDTH_INCHES = 8.27
LETTER_WIDTH_INCHES = 8.5
A4_OR_LETTER = 1.35
RECEIPT_ASPECT = 1.9
RECEIPT_WIDTH_INCHES = 3.15
CORNER_FIT = 0.6  # sheet_corners: this share of each edge's points on its straight line
# Orientation (see the module docstring): a pass with fewer than UPRIGHT_SHARE of its
# words at UPRIGHT_CONF or more reads badly, and only then is OSD asked.
UPRIGHT_CONF = 0.6
UPRIGHT_SHARE = 0.5
OSD_MIN_CONF = 2.0  # tesseract's orientation confidence; upright pages score 5 to 15
VERTICAL_RATIO = 1.5
# Deskew (see the module docstring): a skew under DESKEW_MIN_ANGLE is left to tesseract;
# the `eng` pass leaves it up to ENGLISH_DESKEW_MIN_ANGLE (`deskew_from`).
DESKEW_MIN_ANGLE = 0.5
ENGLISH_DESKEW_MIN_ANGLE = 1.0
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


def _percentiles(pixels: np.ndarray, quantiles: tuple[float, ...]) -> list[int]:
    """Percentiles (0..100) of 8-bit `pixels`, from their histogram (np.percentile sorts
    floats: ~10x dearer for the same answer to the grey level)."""
    if pixels.dtype == np.uint8:  # PIL's histogram: ~5x faster than np.bincount's
        grid = pixels if pixels.ndim == 2 else pixels.reshape(1, -1)
        counts = np.cumsum(Image.fromarray(np.ascontiguousarray(grid)).histogram())
    else:
        counts = np.cumsum(np.bincount(pixels.ravel(), minlength=256))
    last = counts[-1] - 1
    return [int(np.searchsorted(counts, q / 100 * last, side="right")) for q in quantiles]


_last_small: tuple[weakref.ref, Image.Image] | None = None  # the last `_small` made


def _small(image: Image.Image) -> Image.Image:
    """A grey copy ~800-1600 px on the long side (an integer box reduction: cheap), the one
    the orientation test and the page, skew and light checks of `prepare` share (the last
    one made is kept: the orientation test makes it first)."""
    global _last_small
    last = _last_small
    if last is not None and last[0]() is image:
        return last[1]
    small = image.reduce(max(1, max(image.size) // 800))
    _last_small = (weakref.ref(image), small)
    return small


def _paper_grey(image: Image.Image) -> int:
    """The grey of the paper (the median of a 1/8 copy): what a rotation fills corners with
    (the fill moves tesseract's threshold: one photo's total hangs on it)."""
    return int(np.median(np.asarray(image.reduce(8))))


def skew_angle(
    image: Image.Image, max_angle: float = 2.0, small: Image.Image | None = None
) -> float:
    """The rotation in degrees (counter-clockwise) that levels the text lines of `image`
    (`small`: its `_small` copy, if made already).

    Projection profile on a small copy: the angle at which rows of ink change most
    sharply from row to row is the one where text lines run horizontally. Searched in
    half degrees, then in tenths around the best. Each angle's profile is the ink pixels'
    rotated row numbers counted (np.bincount), not a rotated image: ~1 ms an angle.
    """
    pixels = np.asarray(image.reduce(max(1, max(image.size) // 800)) if small is None else small)
    low, high = _percentiles(pixels, (2, 98))
    ys, xs = np.nonzero(pixels < (low + high) / 2)
    if len(ys) == 0:
        return 0.0
    height, width = pixels.shape
    ys = (ys - height // 2).astype(np.float32)  # whole pixels: angle 0 maps rows to rows
    xs = (xs - width // 2).astype(np.float32)
    pad = width // 2 + 1

    def sharpness(angle: float) -> float:
        a = np.radians(angle)
        rows = np.floor(ys * np.cos(a) - xs * np.sin(a) + 0.5).astype(np.int64)
        rows += height // 2 + pad
        profile = np.bincount(rows, minlength=height + 2 * pad).astype(np.float64)
        return np.square(np.diff(profile)).sum().item()  # a sharpness score, not money

    coarse = max(np.arange(-max_angle, max_angle + 0.25, 0.5), key=sharpness)
    fine = max(np.arange(coarse - 0.4, coarse + 0.45, 0.1), key=sharpness)
    return round(fine.item(), 1)


def photo_skew_angle(image: Image.Image, max_angle: float = 2.0) -> float:
    """`skew_angle` as first written, for a photographed sheet: the projections of 18 PIL
    rotations of an 800 px copy (~50 ms). On photos its answers of 0.2-0.6 degrees are
    noise (the text is level within 0.1), but the rotation they cause resamples the
    camera's pixels, and one of the 7 photos (JPEG, a shadow across the totals) reads its
    totals only after such a resampling (any angle from 0.1 degree on): kept as it was."""
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


# Deskew of a scan (`rotate_inked`): bicubic where there is ink, nearest elsewhere, in
# tiles of ROTATE_TILE px (32 was ~10 % faster but cost a Chinese scan a line item's "*");
# "ink" is anything darker than INK_SHARE of the way from the paper down to the ink, on
# the reduced copy (faint grey print counts).
ROTATE_TILE = 64
INK_SHARE = 0.2


def _rotation(size: tuple[int, int], angle: float) -> tuple[float, ...]:
    """The affine coefficients (output -> input pixels) of PIL's `Image.rotate(angle)`
    about the centre without expanding, as Pillow computes them."""
    width, height = size
    cx, cy = width / 2, height / 2
    a = -math.radians(angle % 360.0)
    cos, sin = round(math.cos(a), 15), round(math.sin(a), 15)
    return (cos, sin, cos * -cx + sin * -cy + cx, -sin, cos, -sin * -cx + cos * -cy + cy)


def _any_near(ink: np.ndarray, step: int, margin: int) -> np.ndarray:
    """Per block of `step` columns of boolean `ink` (its width a multiple of `step`): any
    ink in the block or within `margin` columns of it."""
    rows, width = ink.shape
    blocks = ink.reshape(rows, width // step, step)
    near = blocks.any(axis=2)
    near[:, 1:] |= blocks[:, :-1, step - margin :].any(axis=2)  # the left neighbour's edge
    near[:, :-1] |= blocks[:, 1:, :margin].any(axis=2)  # the right neighbour's edge
    return near


def rotate_inked(
    image: Image.Image, angle: float, fill: int, small: Image.Image | None = None
) -> Image.Image:
    """`image.rotate(angle, resample=BICUBIC, fillcolor=fill)`, pixel for pixel, wherever
    ink is within a few pixels; blank paper is rotated nearest-neighbour (its pixels are
    the same paper, resampled more cheaply). About half the time of the whole bicubic
    rotation on an invoice page, most of which is paper. `small`: the `_small` copy."""
    small = _small(image) if small is None else small
    width, height = image.size
    coeffs = _rotation(image.size, angle)
    out = image.transform(image.size, Image.AFFINE, coeffs, Image.NEAREST, fillcolor=fill)
    factor = max(1, round(width / small.width))  # `_small` is an integer reduction
    pixels = np.asarray(small)
    low, high = _percentiles(pixels, (2, 98))
    ink = Image.fromarray((pixels < high - INK_SHARE * (high - low)).astype(np.uint8))
    ink = np.asarray(ink.rotate(angle, resample=Image.NEAREST)) > 0  # where output has ink
    step = max(2, ROTATE_TILE // factor)  # a tile in small pixels
    tile = step * factor
    cols, rows = -(-width // tile), -(-height // tile)
    grid = np.zeros((rows * step, cols * step), dtype=bool)
    grid[: min(ink.shape[0], rows * step), : min(ink.shape[1], cols * step)] = ink[
        : rows * step, : cols * step
    ]
    margin = min(step, 1 + -(-4 // factor))  # bicubic's reach, and the copy's rounding
    near = _any_near(grid, step, margin)  # (rows * step, cols)
    near = _any_near(np.ascontiguousarray(near.T), step, margin).T  # (rows, cols)
    a, b, c, d, e, f = coeffs
    for r in range(rows):
        top = r * tile
        tall = min(tile, height - top)
        inked = near[r]
        k = 0
        while k < cols:
            if not inked[k]:
                k += 1
                continue
            end = k
            while end < cols and inked[end]:
                end += 1
            left = k * tile
            wide = min(end * tile, width) - left
            part = image.transform(
                (wide, tall),
                Image.AFFINE,
                (a, b, c + a * left + b * top, d, e, f + d * left + e * top),
                Image.BICUBIC,
                fillcolor=fill,
            )
            out.paste(part, (left, top))
            k = end
    return out


def lines_run_vertically(image: Image.Image) -> bool:
    """True if the text lines of `image` run up and down (a page turned by 90 or 270
    degrees): the ink profile is sharper across columns than across rows.

    A projection profile on a small copy, a few milliseconds; it cannot tell 0 from 180.
    """
    pixels = np.asarray(_small(image if image.mode == "L" else image.convert("L")))
    low, high = _percentiles(pixels[::4, ::4], (2, 98))
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
        with _single_threaded():
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


def _otsu(pixels: np.ndarray) -> float:
    """Otsu's threshold of grey `pixels` (0..255): the level that best splits two classes."""
    hist = np.bincount(pixels.astype(np.uint8).ravel(), minlength=256).astype(np.float64)
    levels = np.arange(256, dtype=np.float64)
    weight = np.cumsum(hist)
    mass = np.cumsum(hist * levels)
    total, total_mass = weight[-1], mass[-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (total_mass * weight - total * mass) ** 2 / (weight * (total - weight))
    return float(np.nanargmax(between[:-1]))


def _max_filter(image: Image.Image, size: int) -> Image.Image:
    """`image.filter(ImageFilter.MaxFilter(size))`, the same pixels (edges repeated), in
    numpy: PIL's rank filter sorts every window, ~4x slower on these small copies."""
    reach = size // 2
    padded = np.pad(np.asarray(image), reach, mode="edge")
    rows = sliding_window_view(padded, size, axis=1).max(axis=2)
    return Image.fromarray(
        np.ascontiguousarray(sliding_window_view(rows, size, axis=0).max(axis=2))
    )


MEDIAN_ROWS = 64  # `median3` works through the page in bands this high (cache-sized)


def median3(image: Image.Image) -> Image.Image:
    """`image.filter(ImageFilter.MedianFilter(3))`, pixel for pixel (edges repeated, as
    PIL expands the image), ~60x faster: PIL's rank filter sorts all nine pixels of every
    window (0.8 s CPU on a 300 dpi A4 page, more than tesseract's pass), this sorts each
    column of three once and takes the median of nine from the sorted columns: the median
    of (the largest of the three smallest, the median of the three middles, the smallest
    of the three largest). Min and max on uint8 bands of MEDIAN_ROWS rows, ~12 ms."""
    padded = np.pad(np.asarray(image), 1, mode="edge")
    height, width = image.height, image.width
    out = np.empty((height, width), dtype=np.uint8)
    for y in range(0, height, MEDIAN_ROWS):
        band = padded[y : min(height, y + MEDIAN_ROWS) + 2]
        top, centre, bottom = band[:-2], band[1:-1], band[2:]
        low, high = np.minimum(top, centre), np.maximum(top, centre)
        middle = np.minimum(high, bottom)
        np.maximum(high, bottom, out=high)
        middle, low = np.maximum(low, middle), np.minimum(low, middle)
        # each column's three sorted (low <= middle <= high); now across each window
        lows = np.maximum(low[:, :-2], low[:, 1:-1])
        np.maximum(lows, low[:, 2:], out=lows)
        highs = np.minimum(high[:, :-2], high[:, 1:-1])
        np.minimum(highs, high[:, 2:], out=highs)
        mids = _median_of_three(middle[:, :-2], middle[:, 1:-1], middle[:, 2:])
        out[y : y + band.shape[0] - 2] = _median_of_three(lows, mids, highs)
    return Image.fromarray(out)


def _median_of_three(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    return np.maximum(np.minimum(a, b), np.minimum(np.maximum(a, b), c))


def _paper(image: Image.Image) -> Image.Image:
    """The paper's brightness around each point, on a copy 1/8 the size: the brightest
    thing nearby (a max filter wider than any stroke), blurred."""
    small = image.reduce(8) if min(image.size) >= 400 else image
    size = 7 if small is not image else 15
    return _max_filter(small, size).filter(ImageFilter.GaussianBlur(size))


def uneven_light(image: Image.Image, small: Image.Image | None = None) -> bool:
    """True if the paper is much darker in places than elsewhere (a photo's light fall-off
    or shadow); a scanner lights the page evenly. `small`: a reduced copy, if made already."""
    small = image if small is None else small
    small = small.reduce(max(1, min(small.size) // 100))  # ~100 px: light varies slowly
    paper = _max_filter(small, 5)
    low, high = _percentiles(np.asarray(paper), (5, 95))
    return bool(low < EVEN_LIGHT * high)


def flatten_lighting(image: Image.Image) -> Image.Image:
    """`image` divided by its paper brightness, so shadows and light fall-off vanish and
    ink is left on white."""
    paper = np.asarray(_paper(image).resize(image.size, Image.BILINEAR), dtype=np.float32)
    pixels = np.asarray(image, dtype=np.float32)
    flat = pixels / np.maximum(paper, 1.0) * 255
    return Image.fromarray(np.clip(flat, 0, 255).astype(np.uint8))


def binarise(image: Image.Image) -> Image.Image:
    """Black ink on white by Otsu's threshold (after `flatten_lighting` a global one
    suffices), as an 8-bit grey image."""
    pixels = np.asarray(image)
    return Image.fromarray(np.where(pixels > _otsu(pixels), 255, 0).astype(np.uint8))


def sauvola(image: Image.Image, window: int = 0, k: float = 0.2) -> Image.Image:
    """Black ink on white by Sauvola's local threshold mean * (1 + k (std / 128 - 1)) in a
    `window` (default: 1/40 of the image width, odd) around each pixel."""
    pixels = np.asarray(image, dtype=np.float64)
    window = window or max(15, (image.width // 40) | 1)
    pad = window // 2
    padded = np.pad(pixels, pad + 1, mode="reflect")
    s1 = padded.cumsum(0).cumsum(1)
    s2 = (padded * padded).cumsum(0).cumsum(1)
    h, w = pixels.shape

    def box(s: np.ndarray) -> np.ndarray:
        a = s[window : window + h, window : window + w]
        b = s[0:h, window : window + w]
        c = s[window : window + h, 0:w]
        d = s[0:h, 0:w]
        return (a - b - c + d) / (window * window)

    mean = box(s1)
    std = np.sqrt(np.maximum(box(s2) - mean * mean, 0))
    threshold = mean * (1 + k * (std / 128 - 1))
    return Image.fromarray(np.where(pixels > threshold, 255, 0).astype(np.uint8))


def _paper_to_edges(pixels: np.ndarray, share: float) -> bool:
    """True if the median of the border of `pixels` (3 px of a 400 px copy, as wide on a
    larger one) is over `share` of the paper's light: no darker surface around a sheet."""
    edge = max(3, round(3 * max(pixels.shape) / 400))
    border = np.concatenate([pixels[:edge].ravel(), pixels[-edge:].ravel(),
                             pixels[:, :edge].ravel(), pixels[:, -edge:].ravel()])  # fmt: skip
    step = max(2, round(2 * max(pixels.shape) / 400))
    (paper,) = _percentiles(pixels[::step, ::step], (95,))
    return _percentiles(border, (50,))[0] > share * paper


def _sheet_steps(
    image: Image.Image, small: Image.Image | None
) -> tuple[float, np.ndarray, np.ndarray] | None:
    """For a photographed sheet (not a scan): the scale of a 400 px copy, and where log
    brightness steps sharply along its rows and down its columns (see `find_page`)."""
    small = _small(image) if small is None else small
    if _paper_to_edges(np.asarray(small), SCAN_SHARE):
        return None  # clearly a scan, told on the copy at hand (the resize below costs more)
    scale = 400 / max(image.size)
    small = small.resize((round(image.width * scale), round(image.height * scale)))
    pixels = np.asarray(small)
    if _paper_to_edges(pixels, DESK_SHARE):
        return None  # a scan: paper to the edges (decided in a few milliseconds)
    pixels = np.asarray(small.filter(ImageFilter.MedianFilter(3)), dtype=np.float32)
    log = np.log(pixels + 1)
    across = np.abs(np.diff(log, axis=1)) > SHEET_EDGE  # steps along each row
    down = np.abs(np.diff(log, axis=0)) > SHEET_EDGE  # steps down each column
    return scale, across, down


def _edges(steps: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The rows of `steps` with a step, and each one's first and last step."""
    hit = steps.any(axis=1)
    if hit.sum() < 0.2 * steps.shape[0]:
        return None
    first = steps[hit].argmax(axis=1)
    last = steps.shape[1] - 1 - steps[hit][:, ::-1].argmax(axis=1)
    return np.flatnonzero(hit), first, last


def find_page(
    image: Image.Image, small: Image.Image | None = None
) -> tuple[int, int, int, int] | None:
    """The box (left, top, right, bottom) of a sheet of paper photographed on a darker
    surface, or None if the paper fills the image (a scan).

    On a 400 px copy: the image's border must be much darker than the paper (a scan's
    border is paper). The sheet's edges are then the outermost sharp steps in brightness
    along each row and column, in log brightness so that light and shadow, which
    multiply sheet and desk alike, do not move them (a shadow's own edge is soft); the
    box takes the outermost 5 % of them, erring large rather than cutting text off.
    `small`: the image's `_small` copy, if made already.
    """
    found = _sheet_steps(image, small)
    if found is None:
        return None
    scale, across, down = found
    horizontal, vertical = _edges(across), _edges(down.T)
    if horizontal is None or vertical is None:
        return None
    left, right = float(np.percentile(horizontal[1], 5)), float(np.percentile(horizontal[2], 95))
    top, bottom = float(np.percentile(vertical[1], 5)), float(np.percentile(vertical[2], 95))
    right, bottom = right + 2, bottom + 2
    box = (
        max(round(left / scale), 0),
        max(round(top / scale), 0),
        min(round(right / scale), image.width),
        min(round(bottom / scale), image.height),
    )
    if (box[2] - box[0]) * (box[3] - box[1]) < 0.2 * image.width * image.height:
        return None
    return box


def _fit_line(t: np.ndarray, v: np.ndarray) -> tuple[float, float, float]:
    """v = a t + b through most of the points (outliers dropped twice), and the share of
    the points within 2 px of it."""
    t, v = t.astype(np.float64), v.astype(np.float64)
    keep = np.ones(len(t), dtype=bool)
    for _ in range(3):
        a, b = np.polyfit(t[keep], v[keep], 1)
        residual = np.abs(v - (a * t + b))
        keep = residual < max(2.0, 2.5 * float(np.median(residual)))
        if keep.sum() < 10:
            return 0.0, 0.0, 0.0
    return float(a), float(b), float((residual < 2.0).mean())


def sheet_corners(
    image: Image.Image, small: Image.Image | None = None
) -> list[tuple[float, float]] | None:
    """The four corners (top-left, top-right, bottom-right, bottom-left, in `image`'s
    pixels) of a sheet photographed on a darker surface, or None for a scan or where its
    edges are not straight lines (a curled or folded sheet, a cluttered desk).

    Each edge of the sheet is a straight line fitted through the outermost steps in
    brightness of its side (as `find_page` finds them), the middle 80 % of each side (the
    corners themselves are often shaded or off the frame); the corners are where the lines
    meet. A photo taken at an angle makes the sheet a trapezium (keystone)."""
    found = _sheet_steps(image, small)
    if found is None:
        return None
    scale, across, down = found
    rows, columns = _edges(across), _edges(down.T)
    if rows is None or columns is None:
        return None
    top, bottom = np.percentile(columns[1], 5), np.percentile(columns[2], 95)
    left, right = np.percentile(rows[1], 5), np.percentile(rows[2], 95)

    def side(found: tuple[np.ndarray, np.ndarray, np.ndarray], low: float, high: float, k: int):  # noqa: ANN202
        at, edge = found[0], found[k] + (k == 2)
        inner = (at > low + 0.1 * (high - low)) & (at < high - 0.1 * (high - low))
        return _fit_line(at[inner], edge[inner]) if inner.sum() >= 20 else (0.0, 0.0, 0.0)

    lines = [side(rows, top, bottom, 1), side(rows, top, bottom, 2)]  # x = a y + b
    lines += [side(columns, left, right, 1), side(columns, left, right, 2)]  # y = a x + b
    if min(share for _, _, share in lines) < CORNER_FIT:
        return None
    (al, bl, _), (ar, br, _), (at, bt, _), (ab, bb, _) = lines

    def meet(a: float, b: float, c: float, d: float) -> tuple[float, float]:
        x = (a * d + b) / (1 - a * c)  # x = a y + b and y = c x + d
        return x / scale, (c * x + d) / scale

    corners = [meet(al, bl, at, bt), meet(ar, br, at, bt), meet(ar, br, ab, bb)]
    corners.append(meet(al, bl, ab, bb))
    xs, ys = [x for x, _ in corners], [y for _, y in corners]
    w, h = image.size
    if min(xs) < -0.05 * w or max(xs) > 1.05 * w or min(ys) < -0.05 * h or max(ys) > 1.05 * h:
        return None
    area = 0.5 * abs(sum(xs[i] * ys[i - 1] - xs[i - 1] * ys[i] for i in range(4)))
    return corners if area >= 0.2 * w * h else None


def _perspective(src: list[tuple[float, float]], dst: list[tuple[float, float]]) -> list[float]:
    """PIL PERSPECTIVE data mapping points of the output (`dst`) back to the input (`src`)."""
    rows, values = [], []
    for (x, y), (u, v) in zip(dst, src, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        values += [u, v]
    return np.linalg.solve(np.array(rows), np.array(values)).tolist()


def unwarp(image: Image.Image, corners: list[tuple[float, float]], fill: int) -> Image.Image:
    """The sheet with `corners` (`sheet_corners`) as a rectangle: its sides as long as the
    longer of each pair of opposite sides (keystone corrected), bicubic."""
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = corners
    width = round(max(math.hypot(x1 - x0, y1 - y0), math.hypot(x2 - x3, y2 - y3)))
    height = round(max(math.hypot(x3 - x0, y3 - y0), math.hypot(x2 - x1, y2 - y1)))
    target = [(0, 0), (width, 0), (width, height), (0, height)]
    coeffs = _perspective(corners, target)
    return image.transform(
        (width, height), Image.PERSPECTIVE, coeffs, Image.BICUBIC, fillcolor=fill
    )


def sheet_width_inches(width: float, height: float) -> float:
    """The width of a photographed sheet, told by its shape: a receipt (narrow and long)
    RECEIPT_WIDTH_INCHES, US Letter (8.5 x 11 in, 1.29) 8.5, else A4 (8.27 x 11.69 in,
    1.41); a sheet lying sideways the long side of those."""
    aspect = height / max(width, 1.0)
    if aspect >= RECEIPT_ASPECT:
        return RECEIPT_WIDTH_INCHES
    if aspect >= 1.0:
        return A4_WIDTH_INCHES if aspect >= A4_OR_LETTER else LETTER_WIDTH_INCHES
    return 11.69 if 1 / aspect >= A4_OR_LETTER else 11.0


def deskew_from(lang: str) -> float:
    """The least skew (degrees) a scan is straightened from before a pass in `lang`.

    Latin print reads level enough to tesseract up to about a degree: the `eng` pass, which
    every page gets first, straightens only from ENGLISH_DESKEW_MIN_ANGLE (bench/
    ocr_accuracy.py read the English, real and European scans as well, and the rotation it
    saves costs ~0.03-0.05 s of CPU a page, and tesseract ~0.01 s more on the rotated
    page). Chinese forms (ruled tables, dense characters) lost fields unless straightened
    from DESKEW_MIN_ANGLE, so every pass after the first does that."""
    return ENGLISH_DESKEW_MIN_ANGLE if lang == ENGLISH else DESKEW_MIN_ANGLE


# The last `prepare` calls (one per deskew threshold): (its image, dpi, steps, PHOTO_DPI),
# what it returned, and the scan's skew it measured (None: no skew search, a photo).
_last_prepared: dict[
    float, tuple[weakref.ref, int | None, frozenset[str], int, Image.Image, int, float | None]
] = {}


def _same_answer(angle: float | None, threshold: float, min_skew: float) -> bool:
    """Whether `prepare` at `min_skew` gives what it gave at `threshold` for a page whose
    skew search found `angle`: both straighten it, or neither does."""
    return angle is None or (abs(angle) >= threshold) == (abs(angle) >= min_skew)


def prepare(
    image: Image.Image,
    dpi: int | None,
    steps: frozenset[str] | None = None,
    min_skew: float = DESKEW_MIN_ANGLE,
) -> tuple[Image.Image, int]:
    """Grey, level image ready for tesseract, and its resolution.

    The last page's answer is kept (per `min_skew`): the second look at a page
    (ocr.reread) prepares the same image again and gets the same prepared image without
    paying the deskew twice (~0.04 s), and so does a pass at another `min_skew` where
    the page's skew is straightened at both or at neither (a Chinese page skewed over a
    degree, read with `eng` and then `chi_sim`). So `image` must not be changed in place after it
    was prepared. A scan is straightened where its skew is `min_skew` degrees or more
    (`deskew_from`).

    The steps (PREPARE_STEPS unless `steps` names others; chosen by bench/ocr_preprocess.py,
    see the module docstring), in this order:
    "page": find a sheet photographed on a darker surface, crop to it, take the resolution
        from its width; with "keystone" square it up from its four corners where they are
        found (`sheet_corners`, `unwarp`: a photo taken at an angle), with "paper" tell
        its width from its shape (A4, US Letter or a receipt: `sheet_width_inches`; else
        A4), with "normalise" also resample it to PHOTO_DPI, up or down (a camera's
        resolution is happenstance);
    "camera-dpi": ignore a stated 72 or 96 dpi (a camera's or screenshot's default; the
        size of the image tells more);
    "deskew": straighten a skew of `min_skew` to 2 degrees (tesseract's layout
        analysis splits and merges the lines of a skewed page); a photo as first measured;
    "upscale": bring pages under 150 dpi to 200 (tesseract wants text ~20 px high);
    "downscale": bring pages over MAX_DPI down to it (no more accurate, only slower);
    "median": at 250 dpi and more, a 3x3 median filter removes scanner noise without
        eating strokes;
    "flatten": divide out the light where it is uneven (a photo; a scan's even light is
        left alone: flattening it cost Chinese scans their dates);
    "otsu" / "sauvola": binarise.
    """
    steps = PREPARE_STEPS if steps is None else steps
    for threshold, last in tuple(_last_prepared.items()):  # a copy: threads add to it
        if (
            last[0]() is image
            and last[1:4] == (dpi, steps, PHOTO_DPI)
            and _same_answer(last[6], threshold, min_skew)
        ):
            _last_prepared[min_skew] = last
            return last[4], last[5]
    prepared, used, angle = _prepare(image, dpi, steps, min_skew)
    _last_prepared[min_skew] = (weakref.ref(image), dpi, steps, PHOTO_DPI, prepared, used, angle)
    return prepared, used


def _prepare(
    image: Image.Image, dpi: int | None, steps: frozenset[str], min_skew: float
) -> tuple[Image.Image, int, float | None]:
    """`prepare` itself; and the scan's skew it measured (None where it searched none)."""
    given = image
    image = image if image.mode == "L" else image.convert("L")
    small = _small(image)  # shared by the checks below while the image is as it came
    width, size = image.width, image.size
    offset, sheet, left, measured = (0, 0), None, 0.0, None
    if "page" in steps:
        sheet = find_page(image, small)
        if sheet is not None:
            corners = sheet_corners(image, small) if "keystone" in steps else None
            if corners is None:
                image = image.crop(sheet)
            else:
                image = unwarp(image, corners, _paper_grey(image.crop(sheet)))
            offset = sheet[:2]
            inches = SHEET_WIDTH_INCHES
            if "paper" in steps:
                inches = sheet_width_inches(image.width, image.height)
            dpi = max(round(image.width / inches), 50)
            if "normalise" in steps and abs(dpi - PHOTO_DPI) > 0.1 * PHOTO_DPI:
                factor = PHOTO_DPI / dpi
                image = image.resize(
                    (round(image.width * factor), round(image.height * factor)), Image.LANCZOS
                )
                dpi = PHOTO_DPI
    if "camera-dpi" in steps and dpi in CAMERA_DPI:
        dpi = None
    if dpi is None:  # assume the image is a whole A4/Letter page
        dpi = max(round(min(image.size) / 8.3), 50)
    if image.size != size:
        small = None  # cropped or resampled: the checks below make their own copy
    if "deskew" in steps and sheet is not None:  # a photo: as first measured
        angle = photo_skew_angle(image)
        if abs(angle) >= 0.2:
            image = image.rotate(angle, resample=Image.BICUBIC, fillcolor=_paper_grey(image))
    elif "deskew" in steps:  # a scan
        angle = measured = skew_angle(image, small=small)
        if abs(angle) >= min_skew:
            image = rotate_inked(image, angle, _paper_grey(image), small)
        else:
            left = angle
    if "upscale" in steps and dpi < 150:
        factor = 200 / dpi
        image = image.resize(
            (round(image.width * factor), round(image.height * factor)), Image.LANCZOS
        )
        dpi = 200
    if "downscale" in steps and dpi > MAX_DPI:
        factor = MAX_DPI / dpi
        image = image.resize(
            (round(image.width * factor), round(image.height * factor)), Image.LANCZOS
        )
        dpi = MAX_DPI
    if "median" in steps and dpi >= 250:
        image = median3(image)
    if image.size != size:
        small = None
    if "flatten" in steps and uneven_light(image, small):
        image = flatten_lighting(image)
    if "otsu" in steps:
        image = binarise(image)
    elif "sauvola" in steps:
        image = sauvola(image)
    if image is given:  # the caller's image keeps its own info and format: a new Image
        given.load()  # object on the same pixels (nothing writes to them; a copy costs ~1 ms)
        image = given._new(given.im)
    image.info[SCALE_KEY] = image.width / (width if sheet is None else sheet[2] - sheet[0])
    image.info[OFFSET_KEY] = offset
    image.info[SKEW_KEY] = left
    return image, dpi, measured


def image_data(source: Image.Image | str, lang: str, config: str, timeout: float) -> dict:
    """tesseract's words (image_to_data as columns) for an image, or a file listing image
    files (read one after the other, as pages), on one thread; a run over `timeout`
    raises OcrTimeout, any other failure OcrFailed."""
    try:
        with _single_threaded():
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


def looks_unread(words: list[Word]) -> bool:
    """True if an English pass is mostly doubtful fragments, as Chinese text comes out."""
    if len(words) < 8:
        return False
    doubtful = sum(1 for w in words if w.conf < CJK_SUSPECT_CONF)
    return doubtful >= CJK_SUSPECT_SHARE * len(words)


def cjk_count(words: list[Word], min_conf: float = 0.0) -> int:
    """The Chinese characters in `words` read with at least `min_conf` confidence."""
    return sum(1 for w in words if w.conf >= min_conf for ch in w.text if is_cjk(ch))


def _mean_conf(words: list[Word]) -> float:
    return sum(w.conf for w in words) / len(words) if words else 0.0


def reads_as_chinese(chinese: list[Word], english: list[Word]) -> bool:
    """Whether a page read both ways is Chinese: the `chi_sim` pass read Chinese
    characters it is sure of, and is surer of its words than the `eng` pass.

    A page of Latin print that reads badly (a thermal receipt, a poor scan) makes the
    English pass doubtful, and `chi_sim` then "finds" characters in its glyphs, but
    without confidence. Measured on the 4 generated Chinese VAT scans and 67 real scanned
    till receipts (SROIE; 14 of them had an English pass doubtful enough to be read
    again as Chinese): the Chinese forms had 213-235 Chinese characters read at 0.8 or
    more and a mean word confidence of 0.83-0.85 against 0.33-0.40 for `eng`; the
    receipts 0-22 such characters and `chi_sim` 0.21-0.66 against `eng` 0.36-0.67, the
    `chi_sim` pass never the surer. (Four characters of any confidence, the rule before,
    took 4 of 10 sampled receipts for Chinese.)"""
    return cjk_count(chinese, SURE_CJK_CONF) >= MIN_SURE_CJK and _mean_conf(chinese) > _mean_conf(
        english
    )


def european_language(words: list[Word]) -> str | None:
    """The tesseract language (deu, fra, nld, spa) of a page an English pass read as a
    German, French, Dutch or Spanish document (its distinctive words), else None."""
    return EUROPEAN.get(language(" ".join(w.text for w in words)))


def ocr_page(
    image: Image.Image,
    *,
    dpi: int | None,
    timeout: float = DEFAULT_TIMEOUT,
    page: int = 0,
    lang: str | None = None,
    min_skew: float | None = None,
) -> tuple[list[Word], str]:
    """OCR one page image. With `lang` None, choose English, Chinese, German, French,
    Dutch or Spanish as described above. Each pass straightens the scan from `min_skew`
    degrees of skew (None: `deskew_from` its language).

    Returns the words and the language used. Raises OcrTimeout or OcrFailed.
    """
    if lang is not None:
        return _run_in(image, dpi, lang, timeout, page, min_skew), lang
    words = _run_in(image, dpi, ENGLISH, timeout, page, min_skew)
    if looks_unread(words):
        chinese = _run_in(image, dpi, CHINESE, timeout, page, min_skew)
        if reads_as_chinese(chinese, words):
            return chinese, CHINESE
    european = european_language(words)
    if european is not None:
        return _run_in(image, dpi, european, timeout, page, min_skew), european
    return words, ENGLISH


def _run_in(
    image: Image.Image,
    dpi: int | None,
    lang: str,
    timeout: float,
    page: int,
    min_skew: float | None,
) -> list[Word]:
    """`run` on `image` prepared for a pass in `lang`."""
    prepared, used = prepare(image, dpi, min_skew=pass_skew(lang, min_skew))
    return run(prepared, lang=lang, dpi=used, timeout=timeout, page=page)


def pass_skew(lang: str, min_skew: float | None) -> float:
    """The least skew a pass in `lang` straightens: `min_skew`, else `deskew_from(lang)`."""
    return deskew_from(lang) if min_skew is None else min_skew


def skew_left(image: Image.Image, dpi: int | None, min_skew: float) -> float:
    """The skew (degrees) `prepare(image, dpi, min_skew=min_skew)` found and did not
    straighten: under `min_skew`, 0.0 for a photo or a level page."""
    prepared, _ = prepare(image, dpi, min_skew=min_skew)
    return prepared.info.get(SKEW_KEY, 0.0)
