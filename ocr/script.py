"""Which script and language a page is read in, and reading it so (`ocr_page`).

Every page is read first with `eng`. A page that pass reads as unread fragments is read
again with `chi_sim`, and taken as Chinese only when that pass is sure of its characters
and surer of its words than `eng` (`reads_as_chinese`): a receipt or a poor scan of Latin
print never becomes Chinese. A German, French, Dutch or Spanish page (a vote of the
distinctive words the `eng` pass read, ocr.language) is read again with that language
alone. A caller that knows the language (a document's later pages) passes it. The
measurements behind these choices are in docs/ocr_decisions.md.
"""

from __future__ import annotations

from PIL import Image

from ocr import tesseract
from ocr.language import language
from ocr.layout import Word, is_cjk
from ocr.preprocess import PageCache, pass_skew, prepare
from ocr.tesseract import CHINESE, DEFAULT_TIMEOUT, ENGLISH, EUROPEAN

# The English pass looks like unread Chinese when this share of its words is doubtful.
CJK_SUSPECT_SHARE = 0.3
CJK_SUSPECT_CONF = 0.5
# The Chinese pass is taken when it read at least this many Chinese characters surely
# (word confidence SURE_CJK_CONF) and is surer of its words than the English pass was.
MIN_SURE_CJK = 10
SURE_CJK_CONF = 0.8


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
    without confidence (measured on Chinese VAT scans and SROIE receipts:
    docs/ocr_decisions.md)."""
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
    cache: PageCache | None = None,
) -> tuple[list[Word], str]:
    """OCR one page image. With `lang` None, choose English, Chinese, German, French,
    Dutch or Spanish as described above. Each pass straightens the scan from `min_skew`
    degrees of skew (None: `deskew_from` its language).

    Returns the words and the language used. Raises OcrTimeout or OcrFailed.
    """
    if lang is not None:
        return _run_in(image, dpi, lang, timeout, page, min_skew, cache), lang
    words = _run_in(image, dpi, ENGLISH, timeout, page, min_skew, cache)
    if looks_unread(words):
        chinese = _run_in(image, dpi, CHINESE, timeout, page, min_skew, cache)
        if reads_as_chinese(chinese, words):
            return chinese, CHINESE
    european = european_language(words)
    if european is not None:
        return _run_in(image, dpi, european, timeout, page, min_skew, cache), european
    return words, ENGLISH


def _run_in(
    image: Image.Image,
    dpi: int | None,
    lang: str,
    timeout: float,
    page: int,
    min_skew: float | None,
    cache: PageCache | None,
) -> list[Word]:
    """`run` on `image` prepared for a pass in `lang`."""
    prepared, used = prepare(image, dpi, min_skew=pass_skew(lang, min_skew), cache=cache)
    return tesseract.run(prepared, lang=lang, dpi=used, timeout=timeout, page=page)
