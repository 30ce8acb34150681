"""A second look at the parts of an OCR'd page the first pass read badly or not at all.

The first tesseract pass (page segmentation mode 3, the whole page) loses some text
outright: a line printed close beside a large title (a fapiao's 开票日期 next to its
heading), a label and value inside a dashed box, light-grey print on white. And it
misreads some values it does see, with a low confidence: amounts beside a "€" on a noisy
scan ("210,91. €" for "216,97 €"). Read again on their own, cropped from the same
prepared page, those parts read well.

`reread_page` finds two kinds of region:
- doubtful cells: the words of one cell (one OCR line, no wide gap) that hold a value (a
  digit or a currency sign) and a word under DOUBTFUL_CONF ("Minvoice No : # BLR_1",
  where the border of a dashed box ran into the label);
- unread ink: text-line shaped patches of ink (darker than the paper by INK_CONTRAST,
  so light grey counts) that no word of the first pass covers (a long word under
  JUNK_CONF, such as a "，" read over a whole line, covers nothing and is replaced).
It pastes them, each contrast-stretched on its own, one under the other into one strip
image, and reads that with page segmentation mode 4 (one column of text of varying sizes),
enlarged twice, and as it is where the first is not SURE: one tesseract call per page
(both strips, one after the other), however many regions; each region takes its more
confident reading. A doubtful cell takes the new words where they read with more
confidence; unread ink adds the words read in it with at least NEW_WORD_CONF, at most
UNSEEN_CONF sure.

The caller (ocr.extract) asks for this only when the first reading left a field missing
or doubtful (not for a master-data difference alone), and keeps it only when the invoice
reads better for it.
"""

from __future__ import annotations

import dataclasses
import os
import re
import statistics
import tempfile

import numpy as np
from PIL import Image, ImageFilter, ImageOps

from ocr import preprocess, tesseract
from ocr.layout import Word

DOUBTFUL_CONF = 0.6  # a cell with a word under this is read again
BETTER_BY = 0.1  # a cell read again replaces the first reading if this much surer (mean)
NEW_WORD_CONF = 0.5  # a word read in unread ink is kept from this confidence
# ... and is never surer than this (under the default ocr_min_confidence 0.6): a value the
# page pass did not see at all goes to review, unless net + tax = total confirm it. (With
# mode 6 the strip read a dashed box's "BLR_WFLD20151000982590" as "...982500" at 0.69.)
UNSEEN_CONF = 0.55
INK_CONTRAST = 16  # grey levels under the paper (a 2x2 mean: scanner noise is ~3)
# A first-pass word under JUNK_CONF and over JUNK_WIDTH times as wide as high covers
# nothing: a "，" read over a whole line (0.0 sure, 288 x 24 px). A small one is a glyph.
JUNK_CONF = 0.1
JUNK_WIDTH = 4
MAX_LINES = 3.5  # unread ink up to this many lines high (a boxed line with its border)
MAX_REGIONS = 24  # per page: the time of one call stays bounded
PSM = 4  # one column of text of varying sizes: the strip of regions
REREAD_RUN = 1000  # run ids of re-read words: (REREAD_RUN + region, block, par, line)
_VALUE_RX = re.compile(r"[\d€$£¥₹]")


@dataclasses.dataclass(frozen=True)
class Region:
    """A box in prepared-image pixels, and the words of the first pass it replaces."""

    x0: int
    y0: int
    x1: int
    y1: int
    replaces: tuple[int, ...] = ()  # indexes into the page's words
    unseen: bool = False  # unread ink (`replaces`: the junk read in it, if any)


def _cells(words: list[Word]) -> list[list[int]]:
    """Word indexes grouped by OCR line, split where the gap is wider than a word's
    height (the cells ocr.layout would make)."""
    runs: dict[tuple, list[int]] = {}
    for i, w in enumerate(words):
        runs.setdefault(w.run or (i,), []).append(i)
    cells = []
    for idx in runs.values():
        idx.sort(key=lambda i: words[i].x0)
        cell = [idx[0]]
        for i in idx[1:]:
            prev = words[cell[-1]]
            if words[i].x0 - prev.x1 > max(prev.height, words[i].height):
                cells.append(cell)
                cell = []
            cell.append(i)
        cells.append(cell)
    return cells


def doubtful_cells(words: list[Word], to_prepared) -> list[Region]:  # noqa: ANN001
    """The cells holding a value and a word read with less than DOUBTFUL_CONF."""
    out = []
    for cell in _cells(words):
        doubtful = any(words[i].conf < DOUBTFUL_CONF for i in cell)
        if not doubtful or not any(_VALUE_RX.search(words[i].text) for i in cell):
            continue
        x0, y0 = to_prepared(min(words[i].x0 for i in cell), min(words[i].y0 for i in cell))
        x1, y1 = to_prepared(max(words[i].x1 for i in cell), max(words[i].y1 for i in cell))
        out.append(Region(int(x0), int(y0), int(x1 + 0.5), int(y1 + 0.5), tuple(cell)))
    return out


def unread_ink(
    prepared: Image.Image, boxes: list[tuple[float, ...]], height: float
) -> list[Region]:
    """Text-line shaped patches of ink that none of `boxes` (prepared pixels) covers.

    Works on a 2x2 mean of the page (noise averaged out) in cells of about a third of a
    line's height; ink is INK_CONTRAST darker than the paper (the median grey). A patch
    counts if it is 0.5 to MAX_LINES lines high, at least two lines' heights wide, and not
    solid (a grey fill or a bar).
    """
    small = np.asarray(prepared.reduce(2), dtype=np.int16)
    paper = int(np.median(small))
    ink = small < paper - INK_CONTRAST
    h = max(height / 2, 4.0)  # line height in reduced pixels
    pad = max(1, round(h * 0.15))
    for x0, y0, x1, y1 in boxes:
        ink[
            max(0, int(y0 / 2) - pad) : int(y1 / 2) + pad + 1,
            max(0, int(x0 / 2) - pad) : int(x1 / 2) + pad + 1,
        ] = False
    _erase_runs(ink, round(8 * h))  # rules and table borders, not text
    _erase_runs(ink.T, round(3 * h))
    cell = max(2, round(h / 3))
    rows, cols = ink.shape[0] // cell, ink.shape[1] // cell
    grid = ink[: rows * cell, : cols * cell].reshape(rows, cell, cols, cell).sum(axis=(1, 3))
    on = grid >= max(2, cell // 2)
    # close gaps between letters and words: a cell's width of ~a third of a line, 3 apart
    spread = on.copy()
    for k in (1, 2, 3):
        spread[:, k:] |= on[:, :-k]
    labels = _label(spread)
    out = []
    for ys, xs in labels:
        y0, y1 = ys[0] * cell, (ys[1] + 1) * cell
        x0, x1 = xs[0] * cell, (xs[1] + 1) * cell
        tall, wide = (y1 - y0) / h, (x1 - x0) / h
        if not 0.5 <= tall <= MAX_LINES or wide < 2:
            continue
        patch = ink[y0:y1, x0:x1]
        if not 0.03 <= patch.mean() <= 0.6 or patch.any(axis=1).sum() < 0.4 * h:
            continue  # too faint, solid, or one thin stroke (a dashed rule)
        out.append(Region(2 * x0, 2 * y0, 2 * x1, 2 * y1))
    return out


def _erase_runs(mask: np.ndarray, length: int) -> None:
    """Clear runs of at least `length` True along each row of `mask` (in place)."""
    for row in np.nonzero(mask.sum(axis=1) >= length)[0]:
        edges = np.diff(np.concatenate(([0], mask[row].view(np.int8), [0])))
        starts, ends = np.nonzero(edges == 1)[0], np.nonzero(edges == -1)[0]
        for a, b in zip(starts, ends, strict=True):
            if b - a >= length:
                mask[row, a:b] = False


def _label(on: np.ndarray) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Bounding boxes ((row0, row1), (col0, col1)) of the 8-connected groups of `on`."""
    parent: dict[tuple[int, int], tuple[int, int]] = {}

    def find(a: tuple[int, int]) -> tuple[int, int]:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    cells = list(zip(*np.nonzero(on), strict=True))
    for c in cells:
        parent[c] = c
    for r, c in cells:
        for nb in ((r - 1, c - 1), (r - 1, c), (r - 1, c + 1), (r, c - 1)):
            if nb in parent:
                a, b = find((r, c)), find(nb)
                if a != b:
                    parent[a] = b
    boxes: dict[tuple[int, int], list[int]] = {}
    for r, c in cells:
        b = boxes.setdefault(find((r, c)), [r, r, c, c])
        b[0], b[1], b[2], b[3] = min(b[0], r), max(b[1], r), min(b[2], c), max(b[3], c)
    return [((b[0], b[1]), (b[2], b[3])) for b in boxes.values()]


# The strip enlarged twice with a median (noise), then as prepared for the regions not
# read SURE yet. Measured on bench/ocr_accuracy.py's scans (seeds 7 and 11): each alone
# lost a field the other read (a dashed box's number at 1x, a noisy net amount at 2x).
# Both are read in the one call (the 1x strip holds every region: a second call only for
# those not yet sure cost a tesseract start-up, ~0.1 s CPU, more than reading them all).
VARIANTS = (2, 1)
SURE = 0.85


def _strip(
    prepared: Image.Image, regions: list[Region], height: float, factor: int
) -> tuple[Image.Image, list[tuple[tuple[int, int, int, int], int, int]]]:
    """The regions cropped (padded), contrast-stretched each on its own, enlarged by
    `factor` and pasted one under the other; with each one's box and top and height in
    the strip."""
    pad = max(4, round(0.35 * height))
    gap = max(8, round(height)) * factor
    crops, places = [], []
    y = gap
    for r in regions:
        box = (
            max(0, r.x0 - pad),
            max(0, r.y0 - pad),
            min(prepared.width, r.x1 + pad),
            min(prepared.height, r.y1 + pad),
        )
        crop = prepared.crop(box)
        if factor != 1:
            crop = crop.resize((crop.width * factor, crop.height * factor), Image.LANCZOS)
            crop = crop.filter(ImageFilter.MedianFilter(3))
        crop = ImageOps.autocontrast(crop, cutoff=1)
        crops.append(crop)
        places.append((box, y, crop.height))
        y += crop.height + gap
    strip = Image.new("L", (max(c.width for c in crops) + 2 * gap, y), 255)
    for crop, (_, top, _) in zip(crops, places, strict=True):
        strip.paste(crop, (gap, top))
    return strip, places


Found = tuple[str, float, float, float, float, float, tuple[int, int, int]]


def _read_strips(
    prepared: Image.Image,
    regions: list[Region],
    height: float,
    lang: str,
    dpi: int,
    timeout: float,
) -> list[list[list[Found]]]:
    """Each region's words (text, conf, box in prepared pixels, OCR line) in each of
    VARIANTS' strips, from one tesseract call: a list of the strip files, each carrying
    its resolution (dpi x factor), read one after the other by the one process (its
    start-up, ~0.1 s CPU, was most of the cost of a call on a strip of a few regions)."""
    strips = [_strip(prepared, regions, height, factor) for factor in VARIANTS]
    with tempfile.TemporaryDirectory(prefix="closeflow_reread_") as tmp:
        names = []
        for k, ((strip, _), factor) in enumerate(zip(strips, VARIANTS, strict=True)):
            name = os.path.join(tmp, f"strip{k}.bmp")
            strip.save(name, format=tesseract.HANDOVER, dpi=(dpi * factor, dpi * factor))
            names.append(name)
        listing = os.path.join(tmp, "strips.txt")
        with open(listing, "w", encoding="utf-8") as f:
            f.write("\n".join(names) + "\n")
        data = tesseract.image_data(listing, lang, f"--psm {PSM} -c tessedit_do_invert=0", timeout)
    out: list[list[list[Found]]] = [[[] for _ in regions] for _ in VARIANTS]
    for k, text in enumerate(data["text"]):
        text = text.strip()
        conf = float(data["conf"][k]) / 100
        v = int(data["page_num"][k]) - 1
        if not text or conf < 0 or not 0 <= v < len(VARIANTS):
            continue
        factor, places = VARIANTS[v], strips[v][1]
        margin = places[0][1]  # the strip's left margin is its top one
        left, top = data["left"][k], data["top"][k]
        right, bottom = left + data["width"][k], top + data["height"][k]
        yc = (top + bottom) / 2
        for n, ((bx0, by0, _, _), ty, th) in enumerate(places):
            if ty <= yc < ty + th:

                def px(value: float, origin: float, start: float, f: int = factor) -> float:
                    return origin + (value - start) / f

                line = (data["block_num"][k], data["par_num"][k], data["line_num"][k])
                out[v][n].append(
                    (
                        tesseract._fix_yuan(text),
                        conf,
                        px(left, bx0, margin),
                        px(top, by0, ty),
                        px(right, bx0, margin),
                        px(bottom, by0, ty),
                        line,
                    )
                )
                break
    return out


def _inside(x0: float, y0: float, x1: float, y1: float, r: Region, slack: float) -> bool:
    xc, yc = (x0 + x1) / 2, (y0 + y1) / 2
    return r.x0 - slack <= xc <= r.x1 + slack and r.y0 - slack <= yc <= r.y1 + slack


def reread_page(
    image: Image.Image,
    dpi: int | None,
    words: list[Word],
    lang: str,
    *,
    timeout: float = tesseract.DEFAULT_TIMEOUT,
    min_skew: float | None = None,
    cache: preprocess.PageCache | None = None,
) -> list[Word] | None:
    """The page's words with its doubtful cells and unread ink read again; None where
    there was nothing to read again or the second look found nothing better.

    `image`, `dpi`, `lang` and `min_skew` are those the words were read with
    (ocr.script.ocr_page), `words` in that image's pixels; `cache`: the page's
    (ocr.preprocess.PageCache), so the page is not prepared twice. Raises OcrTimeout or
    OcrFailed as tesseract does.
    """
    if not words:
        return None
    skew = preprocess.pass_skew(lang, min_skew)
    prepared, pdpi = preprocess.prepare(image, dpi, min_skew=skew, cache=cache)
    scale = prepared.info.get(tesseract.SCALE_KEY, 1.0)
    ox, oy = prepared.info.get(tesseract.OFFSET_KEY, (0, 0))

    def to_prepared(x: float, y: float) -> tuple[float, float]:
        return (x - ox) * scale, (y - oy) * scale

    def back(x: float, y: float) -> tuple[float, float]:
        return ox + x / scale, oy + y / scale

    height = statistics.median(w.height for w in words) * scale
    boxes = [(*to_prepared(w.x0, w.y0), *to_prepared(w.x1, w.y1)) for w in words]
    regions = doubtful_cells(words, to_prepared)
    in_cells = {i for r in regions for i in r.replaces}
    junk = [
        i
        for i, w in enumerate(words)
        if w.conf < JUNK_CONF and w.x1 - w.x0 > JUNK_WIDTH * w.height and i not in in_cells
    ]
    for ink in unread_ink(prepared, [b for i, b in enumerate(boxes) if i not in junk], height):
        inside = tuple(i for i in junk if _inside(*boxes[i], ink, 0))
        regions.append(dataclasses.replace(ink, replaces=inside, unseen=True))
    if not regions:
        return None
    regions = regions[:MAX_REGIONS]
    page = words[0].page
    slack = 0.25 * height
    best: list[list[Word]] = [[] for _ in regions]
    pending = list(range(len(regions)))
    # the next variant's reading counts only for regions not read sure yet
    for read in _read_strips(prepared, regions, height, lang, pdpi, timeout):
        for n in pending:
            found = read[n]
            new = []
            for text, conf, x0, y0, x1, y1, line in found:
                if _inside(x0, y0, x1, y1, regions[n], slack):
                    (a, b), (c, d) = back(x0, y0), back(x1, y1)
                    new.append(Word(text, a, b, c, d, page, conf, (REREAD_RUN + n, *line)))
            if new and (not best[n] or _mean(new) > _mean(best[n])):
                best[n] = new
        pending = [n for n in pending if not best[n] or _mean(best[n]) < SURE]
        if not pending:
            break
    drop: set[int] = set()
    added: list[Word] = []
    for region, words_read in zip(regions, best, strict=True):
        if region.unseen:
            new = [
                dataclasses.replace(w, conf=min(w.conf, UNSEEN_CONF))
                for w in words_read
                if w.conf >= NEW_WORD_CONF
            ]
            if new:
                drop.update(region.replaces)
                added += new
        else:
            old = _mean([words[i] for i in region.replaces])
            if words_read and _mean(words_read) >= old + BETTER_BY:
                drop.update(region.replaces)
                added += words_read
    if not added:
        return None
    return [w for i, w in enumerate(words) if i not in drop] + added


def _mean(words: list[Word]) -> float:
    """Mean confidence of the words with a letter or digit: a box's border read as "|" or
    "!" says nothing of the text."""
    confs = [w.conf for w in words if any(c.isalnum() for c in w.text)]
    return statistics.mean(confs) if confs else 0.0
