"""A sheet photographed on a desk: where it is (`find_page`), its four corners
(`sheet_corners`), squaring it up (`unwarp`), and its paper size from its shape
(`sheet_width_inches`: A4, US Letter or a till receipt), which gives its resolution.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageFilter

from ocr.image_filters import percentiles, reduced_copy

DESK_SHARE = 0.7  # find_page: a desk's median is under this share of the paper's light
SCAN_SHARE = 0.8  # find_page: told a scan on the copy at hand, before resizing it
SHEET_EDGE = 0.35  # find_page: a sheet's edge steps log brightness by more than this
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


def _paper_to_edges(pixels: np.ndarray, share: float) -> bool:
    """True if the median of the border of `pixels` (3 px of a 400 px copy, as wide on a
    larger one) is over `share` of the paper's light: no darker surface around a sheet."""
    edge = max(3, round(3 * max(pixels.shape) / 400))
    border = np.concatenate([pixels[:edge].ravel(), pixels[-edge:].ravel(),
                             pixels[:, :edge].ravel(), pixels[:, -edge:].ravel()])  # fmt: skip
    step = max(2, round(2 * max(pixels.shape) / 400))
    (paper,) = percentiles(pixels[::step, ::step], (95,))
    return percentiles(border, (50,))[0] > share * paper


def _sheet_steps(
    image: Image.Image, small: Image.Image | None
) -> tuple[float, np.ndarray, np.ndarray] | None:
    """For a photographed sheet (not a scan): the scale of a 400 px copy, and where log
    brightness steps sharply along its rows and down its columns (see `find_page`)."""
    small = reduced_copy(image) if small is None else small
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
    `small`: the image's reduced copy, if made already.
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
