"""Pixel work on a grey page image: its skew (`skew_angle`), straightening it where there
is ink (`rotate_inked`), a 3x3 median against scanner noise (`median3`), telling and
dividing out uneven light (`uneven_light`, `flatten_lighting`), and binarising
(`binarise`, `sauvola`). Each is as fast as numpy and PIL allow, the same pixels as the
plain PIL operation where it replaces one (docs/ocr_decisions.md has the measurements).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from PIL import Image, ImageFilter

EVEN_LIGHT = 0.85  # uneven_light: the darkest paper under this share of the brightest


def percentiles(pixels: np.ndarray, quantiles: tuple[float, ...]) -> list[int]:
    """Percentiles (0..100) of 8-bit `pixels`, from their histogram (np.percentile sorts
    floats: ~10x dearer for the same answer to the grey level)."""
    if pixels.dtype == np.uint8:  # PIL's histogram: ~5x faster than np.bincount's
        grid = pixels if pixels.ndim == 2 else pixels.reshape(1, -1)
        counts = np.cumsum(Image.fromarray(np.ascontiguousarray(grid)).histogram())
    else:
        counts = np.cumsum(np.bincount(pixels.ravel(), minlength=256))
    last = counts[-1] - 1
    return [int(np.searchsorted(counts, q / 100 * last, side="right")) for q in quantiles]


def reduced_copy(image: Image.Image) -> Image.Image:
    """A copy ~800-1600 px on the long side (an integer box reduction: cheap), on which
    the page, skew, light and orientation checks look at a page."""
    return image.reduce(max(1, max(image.size) // 800))


def paper_grey(image: Image.Image) -> int:
    """The grey of the paper (the median of a 1/8 copy): what a rotation fills corners with
    (the fill moves tesseract's threshold: one photo's total hangs on it)."""
    return int(np.median(np.asarray(image.reduce(8))))


def skew_angle(
    image: Image.Image, max_angle: float = 2.0, small: Image.Image | None = None
) -> float:
    """The rotation in degrees (counter-clockwise) that levels the text lines of `image`
    (`small`: its `reduced_copy`, if made already).

    Projection profile on a small copy: the angle at which rows of ink change most
    sharply from row to row is the one where text lines run horizontally. Searched in
    half degrees, then in tenths around the best. Each angle's profile is the ink pixels'
    rotated row numbers counted (np.bincount), not a rotated image: ~1 ms an angle.
    """
    pixels = np.asarray(reduced_copy(image) if small is None else small)
    low, high = percentiles(pixels, (2, 98))
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
    rotation on an invoice page, most of which is paper. `small`: the `reduced_copy`."""
    small = reduced_copy(image) if small is None else small
    width, height = image.size
    coeffs = _rotation(image.size, angle)
    out = image.transform(image.size, Image.AFFINE, coeffs, Image.NEAREST, fillcolor=fill)
    factor = max(1, round(width / small.width))  # `reduced_copy` is an integer reduction
    pixels = np.asarray(small)
    low, high = percentiles(pixels, (2, 98))
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
    low, high = percentiles(np.asarray(paper), (5, 95))
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
