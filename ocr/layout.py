"""Page layout shared by the text layer and OCR: words with boxes, grouped into lines.

Both sources give words with a box and a confidence; this module turns them into visual
lines (top to bottom, left to right) whose text keeps a map back to the words, so field
extraction can look for a label and then for its value to the right or below, whatever
the template.
"""

from __future__ import annotations

import statistics
import unicodedata
from dataclasses import dataclass, field
from functools import cached_property, lru_cache


@dataclass(frozen=True)
class Word:
    """One word on a page. Coordinates grow right and down; units are the source's."""

    text: str
    x0: float
    y0: float
    x1: float
    y1: float
    page: int = 0
    conf: float = 1.0  # 0..1; 1.0 for a PDF text layer
    run: tuple[int, ...] | None = None  # OCR line id: words of one run keep their order

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    @property
    def yc(self) -> float:
        return (self.y0 + self.y1) / 2


@lru_cache(maxsize=65536)  # asked for every character of every word: a page has few distinct
def is_cjk(ch: str) -> bool:
    """True for Han characters and CJK punctuation (written without spaces)."""
    if not ch:
        return False
    code = ord(ch)
    return (
        0x4E00 <= code <= 0x9FFF
        or 0x3400 <= code <= 0x4DBF
        or 0x3000 <= code <= 0x303F
        or 0xFF00 <= code <= 0xFF0F
        or 0xFF1A <= code <= 0xFF20
        or unicodedata.name(ch, "").startswith("CJK")
    )


@dataclass
class Line:
    """A visual line: words left to right, its text, and where each word sits in it.

    Its geometry (y0, y1, height) is worked out once, on first use: field extraction asks
    for it over and over. `words` must not change once a line is built.
    """

    page: int
    words: list[Word]
    text: str = ""
    spans: list[tuple[int, int]] = field(default_factory=list)  # word i -> text[a:b]
    segment_of: list[int] = field(default_factory=list)  # word i -> segment number

    @cached_property
    def y0(self) -> float:
        return min(w.y0 for w in self.words)

    @cached_property
    def y1(self) -> float:
        return max(w.y1 for w in self.words)

    @cached_property
    def height(self) -> float:
        return _median([w.height for w in self.words])

    def words_in(self, start: int, end: int) -> list[Word]:
        """Words whose text overlaps text[start:end]."""
        return [
            w for w, (a, b) in zip(self.words, self.spans, strict=True) if a < end and start < b
        ]

    def segments(self) -> list[list[int]]:
        """Word indexes grouped into cells: runs of words without a wide gap."""
        out: list[list[int]] = []
        for i, seg in enumerate(self.segment_of):
            if seg == len(out):
                out.append([])
            out[seg].append(i)
        return out

    def segment_text(self, indexes: list[int]) -> str:
        return self.text[self.spans[indexes[0]][0] : self.spans[indexes[-1]][1]]


def _median(values: list[float]) -> float:
    """statistics.median, without its cost for a single value (a one-word line)."""
    return values[0] if len(values) == 1 else statistics.median(values)


def _finish(page: int, words: list[Word], gap_factor: float) -> Line:
    line = Line(page, words)
    height = line.height or 1.0
    parts: list[str] = []
    pos = 0
    seg = 0
    for i, w in enumerate(words):
        if i:
            prev = words[i - 1]
            if w.x0 - prev.x1 > gap_factor * height:
                seg, sep = seg + 1, "   "
            elif is_cjk(prev.text[-1]) and is_cjk(w.text[0]):
                sep = ""
            else:
                sep = " "
            parts.append(sep)
            pos += len(sep)
        line.spans.append((pos, pos + len(w.text)))
        line.segment_of.append(seg)
        parts.append(w.text)
        pos += len(w.text)
    line.text = "".join(parts)
    return line


class _Run:
    """Words known to be one line in reading order (an OCR line, or one PDF word), with
    its geometry worked out once: build_lines compares every run with every open line."""

    __slots__ = ("words", "page", "x0", "x1", "yc", "height")

    def __init__(self, words: list[Word]) -> None:
        self.words = words
        self.page = words[0].page
        if len(words) == 1:  # a text-layer word: most runs
            (w,) = words
            self.x0, self.x1, self.yc, self.height = w.x0, w.x1, w.yc, w.height
        else:
            self.x0 = min(w.x0 for w in words)
            self.x1 = max(w.x1 for w in words)
            self.yc = statistics.median(w.yc for w in words)
            self.height = statistics.median(w.height for w in words)


def _runs(words: list[Word]) -> list[_Run]:
    runs: dict[tuple, list[Word]] = {}
    singles = []
    for w in words:
        if w.run is None:
            singles.append(_Run([w]))
        else:
            runs.setdefault((w.page, w.run), []).append(w)
    return singles + [_Run(group) for group in runs.values()]


def build_lines(words: list[Word], gap_factor: float = 1.0) -> list[Line]:
    """Group words into visual lines, sorted by page, top, then left.

    Words of one OCR line stay together in tesseract's order. A run of words joins the
    line whose last run ends left of it at about the same height, so columns read as
    separate blocks come back together and a slightly skewed scan still gives whole
    lines. Cells within a line are separated by a gap wider than `gap_factor` times the
    line's height (three spaces or so).
    """
    lines_by_page: dict[int, list[list[_Run]]] = {}
    ends_by_page: dict[int, list[_Run]] = {}  # the last run of each of those lines
    for run in sorted(_runs(words), key=lambda r: (r.page, r.x0)):
        open_lines = lines_by_page.setdefault(run.page, [])
        ends = ends_by_page.setdefault(run.page, [])
        x0, yc, height = run.x0, run.yc, run.height
        best, best_dy = -1, None
        for i, last in enumerate(ends):  # the hot loop: every run against every open line
            h = last.height
            # min(h, height) and max(h, height), without the calls
            if last.x1 > x0 + 0.3 * (height if height < h else h):
                continue
            dy = abs(last.yc - yc)
            if dy <= 0.5 * (height if height > h else h) and (best_dy is None or dy < best_dy):
                best, best_dy = i, dy
        if best < 0:
            open_lines.append([run])
            ends.append(run)
        else:
            open_lines[best].append(run)
            ends[best] = run
    out = [
        _finish(page, [w for run in group for w in run.words], gap_factor)
        for page, groups in lines_by_page.items()
        for group in groups
    ]
    out.sort(key=lambda ln: (ln.page, _median([w.yc for w in ln.words]), ln.words[0].x0))
    return out
