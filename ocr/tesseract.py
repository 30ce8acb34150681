"""Tesseract OCR of one page image: words with boxes and confidences.

One tesseract process per call, single-threaded (OMP_THREAD_LIMIT=1): the pipeline
runs one process per core, and tesseract's own OpenMP threads only fight over them.

Language, chosen by measurement on the sample company's scans: every page is first read
with `eng` (~0.8 s CPU for an A4 page at 150-200 dpi). Chinese text comes out of that
pass as low-confidence fragments; only then is the page read again, with `chi_sim` alone.
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
photos (tests/ocr/documents.py `phone_photo`: 12 MP frame on a desk, keystone, off-white
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
      ... + flatten, sheet at 250 dpi  20/20     35/35     7/7        1.69      2.10  <- chosen
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
0.89 s, BMP 0.75 s, the JPEG itself 0.93 s CPU under load). Left over bare tesseract,
~0.1 s a page (target <= 1.10 not met): the image decode (~0.02 s) and the bicubic
deskew rotation (~0.07 s on a skewed 200 dpi page, most of `prepare`).

Chinese pages still pay the English pass first: OSD's script detection costs as much
(0.88 s CPU on an English page against 0.75 s for the eng pass) and said "Han" at a
script confidence of 0.24 on the Chinese scan, and a chi_sim pass on a strip would be
paid by every English page.
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

from ocr.fields import language
from ocr.layout import Word, is_cjk

ENGLISH = "eng"
CHINESE = "chi_sim"
EUROPEAN = {"de": "deu", "fr": "fra", "nl": "nld", "es": "spa"}  # ocr.fields.language -> data
DEFAULT_TIMEOUT = 120.0
# The English pass looks like unread Chinese when this share of its words is doubtful.
CJK_SUSPECT_SHARE = 0.3
CJK_SUSPECT_CONF = 0.5
MIN_CJK_CHARS = 4
PSM = 3  # automatic page segmentation
SCALE_KEY = "closeflow.scale"  # Image.info: how much `prepare` enlarged the image
OFFSET_KEY = "closeflow.offset"  # Image.info: where `prepare` cropped it (input pixels)
PREPARE_STEPS = frozenset(
    {"page", "normalise", "camera-dpi", "deskew", "upscale", "downscale", "median", "flatten"}
)
MAX_DPI = 400
DESK_SHARE = 0.7  # find_page: a desk's median is under this share of the paper's light
SHEET_EDGE = 0.35  # find_page: a sheet's edge steps log brightness by more than this
EVEN_LIGHT = 0.85  # uneven_light: the darkest paper under this share of the brightest
CAMERA_DPI = (72, 96)  # what cameras and screenshots write: a default, not a measurement
PHOTO_DPI = 250  # "normalise": a photographed sheet is resampled to this resolution
SHEET_WIDTH_INCHES = 8.27  # A4 (Letter: 8.5); a photographed sheet's width gives its dpi
# Orientation (see the module docstring): a pass with fewer than UPRIGHT_SHARE of its
# words at UPRIGHT_CONF or more reads badly, and only then is OSD asked.
UPRIGHT_CONF = 0.6
UPRIGHT_SHARE = 0.5
OSD_MIN_CONF = 2.0  # tesseract's orientation confidence; upright pages score 5 to 15
VERTICAL_RATIO = 1.5
# Deskew (see the module docstring): a skew under DESKEW_MIN_ANGLE is left to tesseract.
DESKEW_MIN_ANGLE = 0.5
DESKEW_RESAMPLE = Image.BICUBIC
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
    counts = np.cumsum(np.bincount(pixels.ravel(), minlength=256))
    last = counts[-1] - 1
    return [int(np.searchsorted(counts, q / 100 * last, side="right")) for q in quantiles]


def _small(image: Image.Image) -> Image.Image:
    """A grey copy ~800-1600 px on the long side (an integer box reduction: cheap), the one
    the page, skew and light checks of `prepare` share."""
    return image.reduce(max(1, max(image.size) // 800))


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


def lines_run_vertically(image: Image.Image) -> bool:
    """True if the text lines of `image` run up and down (a page turned by 90 or 270
    degrees): the ink profile is sharper across columns than across rows.

    A projection profile on a small copy, a few milliseconds; it cannot tell 0 from 180.
    """
    small = image if image.mode == "L" else image.convert("L")
    pixels = np.asarray(small.reduce(max(1, max(small.size) // 800)))
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


def _paper(image: Image.Image) -> Image.Image:
    """The paper's brightness around each point, on a copy 1/8 the size: the brightest
    thing nearby (a max filter wider than any stroke), blurred."""
    small = image.reduce(8) if min(image.size) >= 400 else image
    size = 7 if small is not image else 15
    return small.filter(ImageFilter.MaxFilter(size)).filter(ImageFilter.GaussianBlur(size))


def uneven_light(image: Image.Image, small: Image.Image | None = None) -> bool:
    """True if the paper is much darker in places than elsewhere (a photo's light fall-off
    or shadow); a scanner lights the page evenly. `small`: a reduced copy, if made already."""
    small = image if small is None else small
    small = small.reduce(max(1, min(small.size) // 100))  # ~100 px: light varies slowly
    paper = small.filter(ImageFilter.MaxFilter(5))
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
    small = _small(image) if small is None else small
    scale = 400 / max(image.size)
    small = small.resize((round(image.width * scale), round(image.height * scale)))
    pixels = np.asarray(small)
    border = np.concatenate([pixels[:3].ravel(), pixels[-3:].ravel(),
                             pixels[:, :3].ravel(), pixels[:, -3:].ravel()])  # fmt: skip
    (paper,) = _percentiles(pixels[::2, ::2], (95,))
    if _percentiles(border, (50,))[0] > DESK_SHARE * paper:
        return None  # a scan: paper to the edges (decided in a few milliseconds)
    pixels = np.asarray(small.filter(ImageFilter.MedianFilter(3)), dtype=np.float32)
    log = np.log(pixels + 1)
    across = np.abs(np.diff(log, axis=1)) > SHEET_EDGE  # steps along each row
    down = np.abs(np.diff(log, axis=0)) > SHEET_EDGE  # steps down each column

    def extent(steps: np.ndarray) -> tuple[float, float] | None:
        hit = steps.any(axis=1)
        if hit.sum() < 0.2 * steps.shape[0]:
            return None
        first = steps[hit].argmax(axis=1)
        last = steps.shape[1] - 1 - steps[hit][:, ::-1].argmax(axis=1)
        return float(np.percentile(first, 5)), float(np.percentile(last, 95)) + 2

    horizontal, vertical = extent(across), extent(down.T)
    if horizontal is None or vertical is None:
        return None
    (left, right), (top, bottom) = horizontal, vertical
    box = (
        max(round(left / scale), 0),
        max(round(top / scale), 0),
        min(round(right / scale), image.width),
        min(round(bottom / scale), image.height),
    )
    if (box[2] - box[0]) * (box[3] - box[1]) < 0.2 * image.width * image.height:
        return None
    return box


def prepare(
    image: Image.Image, dpi: int | None, steps: frozenset[str] | None = None
) -> tuple[Image.Image, int]:
    """Grey, level image ready for tesseract, and its resolution.

    The steps (PREPARE_STEPS unless `steps` names others; chosen by bench/ocr_preprocess.py,
    see the module docstring), in this order:
    "page": find a sheet photographed on a darker surface, crop to it, take the resolution
        from its width; with "normalise" also resample it to PHOTO_DPI, up or down (a
        camera's resolution is happenstance);
    "camera-dpi": ignore a stated 72 or 96 dpi (a camera's or screenshot's default; the
        size of the image tells more);
    "deskew": straighten a skew of DESKEW_MIN_ANGLE to 2 degrees (tesseract's layout
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
    given = image
    image = image if image.mode == "L" else image.convert("L")
    small = _small(image)  # shared by the checks below while the image is as it came
    width, size = image.width, image.size
    offset, sheet = (0, 0), None
    if "page" in steps:
        sheet = find_page(image, small)
        if sheet is not None:
            image = image.crop(sheet)
            offset = sheet[:2]
            dpi = max(round(image.width / SHEET_WIDTH_INCHES), 50)
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
        angle = skew_angle(image, small=small)
        if abs(angle) >= DESKEW_MIN_ANGLE:
            paper = _paper_grey(image)
            image = image.rotate(angle, resample=DESKEW_RESAMPLE, fillcolor=paper)
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
        image = image.filter(ImageFilter.MedianFilter(3))
    if image.size != size:
        small = None
    if "flatten" in steps and uneven_light(image, small):
        image = flatten_lighting(image)
    if "otsu" in steps:
        image = binarise(image)
    elif "sauvola" in steps:
        image = sauvola(image)
    if image is given:
        image = image.copy()  # the caller's image keeps its own info and format
    image.info[SCALE_KEY] = image.width / (width if sheet is None else sheet[2] - sheet[0])
    image.info[OFFSET_KEY] = offset
    return image, dpi


def run(image: Image.Image, *, lang: str, dpi: int, timeout: float, page: int = 0) -> list[Word]:
    """OCR an already prepared image with `lang`; words with confidences 0..1, in pixels
    of the image as it was before `prepare` resized it."""
    image.format = HANDOVER  # pytesseract writes this format for tesseract to read
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


def cjk_count(words: list[Word]) -> int:
    return sum(1 for w in words for ch in w.text if is_cjk(ch))


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
) -> tuple[list[Word], str]:
    """OCR one page image. With `lang` None, choose English, Chinese, German, French,
    Dutch or Spanish as described above.

    Returns the words and the language used. Raises OcrTimeout or OcrFailed.
    """
    prepared, dpi = prepare(image, dpi)
    if lang is not None:
        return run(prepared, lang=lang, dpi=dpi, timeout=timeout, page=page), lang
    words = run(prepared, lang=ENGLISH, dpi=dpi, timeout=timeout, page=page)
    if looks_unread(words):
        chinese = run(prepared, lang=CHINESE, dpi=dpi, timeout=timeout, page=page)
        if cjk_count(chinese) >= MIN_CJK_CHARS:
            return chinese, CHINESE
    european = european_language(words)
    if european is not None:
        return run(prepared, lang=european, dpi=dpi, timeout=timeout, page=page), european
    return words, ENGLISH
