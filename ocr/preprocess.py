"""Preparing a page image for tesseract (`prepare`): grey, the sheet found and squared up
on a photo, a sensible resolution, straightened, noise and uneven light removed.

The steps and their order were chosen by measurement (bench/ocr_preprocess.py; the
figures are in docs/ocr_decisions.md). A document's pages share a `PageCache`: the reduced
copy the orientation test and the page checks use, and the last prepared image, which
the second look at a page (ocr.reread) and a pass at another skew threshold ask for again.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field

from PIL import Image

from ocr.image_filters import (
    binarise,
    flatten_lighting,
    median3,
    paper_grey,
    photo_skew_angle,
    reduced_copy,
    rotate_inked,
    sauvola,
    skew_angle,
    uneven_light,
)
from ocr.sheet import SHEET_WIDTH_INCHES, find_page, sheet_corners, sheet_width_inches, unwarp
from ocr.tesseract import ENGLISH, OFFSET_KEY, SCALE_KEY, SKEW_KEY

PREPARE_STEPS = frozenset(
    {"page", "keystone", "paper", "normalise", "camera-dpi", "deskew", "upscale", "downscale",
     "median", "flatten"}
)  # fmt: skip
MAX_DPI = 400
CAMERA_DPI = (72, 96)  # what cameras and screenshots write: a default, not a measurement
PHOTO_DPI = 250  # "normalise": a photographed sheet is resampled to this resolution
# Deskew (docs/ocr_decisions.md): a skew under DESKEW_MIN_ANGLE is left to tesseract;
# the `eng` pass leaves it up to ENGLISH_DESKEW_MIN_ANGLE (`deskew_from`).
DESKEW_MIN_ANGLE = 0.5
ENGLISH_DESKEW_MIN_ANGLE = 1.0


def deskew_from(lang: str) -> float:
    """The least skew (degrees) a scan is straightened from before a pass in `lang`.

    Latin print reads level enough to tesseract up to about a degree: the `eng` pass, which
    every page gets first, straightens only from ENGLISH_DESKEW_MIN_ANGLE (bench/
    ocr_accuracy.py read the English, real and European scans as well, and the rotation it
    saves costs ~0.03-0.05 s of CPU a page, and tesseract ~0.01 s more on the rotated
    page). Chinese forms (ruled tables, dense characters) lost fields unless straightened
    from DESKEW_MIN_ANGLE, so every pass after the first does that."""
    return ENGLISH_DESKEW_MIN_ANGLE if lang == ENGLISH else DESKEW_MIN_ANGLE


@dataclass(frozen=True)
class _Prepared:
    """One `prepare` answer: for which image (by identity), dpi, steps and PHOTO_DPI, what
    it returned, and the scan's skew it measured (None: no skew search, a photo)."""

    image: weakref.ref
    dpi: int | None
    steps: frozenset[str]
    photo_dpi: int
    prepared: Image.Image
    used_dpi: int
    angle: float | None


@dataclass(eq=False)
class PageCache:
    """What the steps reading one page share, made once: the reduced copy the orientation
    test and `prepare`'s checks use, and `prepare`'s last answer per deskew threshold (the
    second look at a page, ocr.reread, prepares the same image again, and a pass at another
    threshold gets the same image where the page is straightened at both or neither).

    One per page (ocr.extract makes them); entries are keyed by the image's identity, so
    an image must not be changed in place once prepared. Without one, nothing is kept."""

    _small: tuple[weakref.ref, Image.Image] | None = None
    _prepared: dict[float, _Prepared] = field(default_factory=dict)

    def small(self, image: Image.Image) -> Image.Image:
        """`image`'s reduced copy (ocr.image_filters.reduced_copy), made once."""
        last = self._small
        if last is not None and last[0]() is image:
            return last[1]
        small = reduced_copy(image)
        self._small = (weakref.ref(image), small)
        return small

    def prepared(
        self, image: Image.Image, dpi: int | None, steps: frozenset[str], min_skew: float
    ) -> tuple[Image.Image, int] | None:
        for threshold, last in tuple(self._prepared.items()):  # a copy: threads add to it
            if (
                last.image() is image
                and (last.dpi, last.steps, last.photo_dpi) == (dpi, steps, PHOTO_DPI)
                and _same_answer(last.angle, threshold, min_skew)
            ):
                self._prepared[min_skew] = last
                return last.prepared, last.used_dpi
        return None

    def keep(self, answer: _Prepared, min_skew: float) -> None:
        self._prepared[min_skew] = answer


def _same_answer(angle: float | None, threshold: float, min_skew: float) -> bool:
    """Whether `prepare` at `min_skew` gives what it gave at `threshold` for a page whose
    skew search found `angle`: both straighten it, or neither does."""
    return angle is None or (abs(angle) >= threshold) == (abs(angle) >= min_skew)


def prepare(
    image: Image.Image,
    dpi: int | None,
    steps: frozenset[str] | None = None,
    min_skew: float = DESKEW_MIN_ANGLE,
    cache: PageCache | None = None,
) -> tuple[Image.Image, int]:
    """Grey, level image ready for tesseract, and its resolution.

    With the page's `cache`, an answer already made for this image is given again (the
    second look at a page pays no second deskew, ~0.04 s). A scan is straightened where
    its skew is `min_skew` degrees or more (`deskew_from`).

    The steps (PREPARE_STEPS unless `steps` names others; chosen by bench/ocr_preprocess.py,
    docs/ocr_decisions.md), in this order:
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
    cache = PageCache() if cache is None else cache
    known = cache.prepared(image, dpi, steps, min_skew)
    if known is not None:
        return known
    prepared, used, angle = _prepare(image, dpi, steps, min_skew, cache)
    answer = _Prepared(weakref.ref(image), dpi, steps, PHOTO_DPI, prepared, used, angle)
    cache.keep(answer, min_skew)
    return prepared, used


def _prepare(
    image: Image.Image, dpi: int | None, steps: frozenset[str], min_skew: float, cache: PageCache
) -> tuple[Image.Image, int, float | None]:
    """`prepare` itself; and the scan's skew it measured (None where it searched none)."""
    given = image
    image = image if image.mode == "L" else image.convert("L")
    small = cache.small(image)  # shared by the checks below while the image is as it came
    width, size = image.width, image.size
    offset, sheet, left, measured = (0, 0), None, 0.0, None
    if "page" in steps:
        sheet = find_page(image, small)
        if sheet is not None:
            corners = sheet_corners(image, small) if "keystone" in steps else None
            if corners is None:
                image = image.crop(sheet)
            else:
                image = unwarp(image, corners, paper_grey(image.crop(sheet)))
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
            image = image.rotate(angle, resample=Image.BICUBIC, fillcolor=paper_grey(image))
    elif "deskew" in steps:  # a scan
        angle = measured = skew_angle(image, small=small)
        if abs(angle) >= min_skew:
            image = rotate_inked(image, angle, paper_grey(image), small)
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


def pass_skew(lang: str, min_skew: float | None) -> float:
    """The least skew a pass in `lang` straightens: `min_skew`, else `deskew_from(lang)`."""
    return deskew_from(lang) if min_skew is None else min_skew


def skew_left(
    image: Image.Image, dpi: int | None, min_skew: float, cache: PageCache | None = None
) -> float:
    """The skew (degrees) `prepare(image, dpi, min_skew=min_skew)` found and did not
    straighten: under `min_skew`, 0.0 for a photo or a level page."""
    prepared, _ = prepare(image, dpi, min_skew=min_skew, cache=cache)
    return prepared.info.get(SKEW_KEY, 0.0)
