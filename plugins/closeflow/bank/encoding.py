"""Which text encoding a statement file's bytes are in: detected from the bytes, never guessed.

Banks export text in whatever their platform writes, and a wrong guess does not fail: it
turns `Müller` into `M黮ler` or `支付宝` into `Ö§¸¶±¦`, and the statement imports with
silently wrong counterparties. So `decode_text` decides, in this order:

1. a byte order mark (UTF-8, UTF-16 LE/BE, UTF-32 LE/BE) names the encoding, and the
   bytes after it must decode strictly in it;
2. bytes that are all ASCII are ASCII, and bytes that decode as strict UTF-8 are UTF-8:
   legacy text with real non-ASCII characters in it practically never forms valid UTF-8;
3. anything else is in one of the legacy encodings banks actually write: GBK or its
   superset GB18030 (Chinese banks, Alipay, WeChat Pay), Windows-1252 (Western Europe),
   or ISO-8859-15 (1252's Unix cousin, which has `€ Š š Ž ž Œ œ Ÿ` where 1252 has
   `¤ ¦ ¨ ´ ¸ ¼ ½ ¾`). The detector, charset-normalizer restricted to these code pages,
   proposes the decodings that are not a mess. On a few lines it cannot be trusted alone
   (it ranks Windows-1252 first for a one-row GBK file with `支付宝`), so each proposal
   must also decode the whole file strictly, hold no control, private-use or unassigned
   code point nor U+FFFD, and read the way its script reads:
   - Chinese: every non-ASCII character is a Han ideograph or something else GB2312 has
     (CJK and fullwidth punctuation, symbols, pinyin, kana, Greek, Cyrillic), there is an
     ideograph, and at least half of the ideographs are among GB2312's 3,755 common ones.
     Western text read as GBK gives rare ideographs (`Müller` -> `M黮ler`): an accented
     letter followed by an ASCII letter lands in GBK's extension rows;
   - Latin: every non-ASCII character is a Latin letter or a symbol Western text uses
     (`€ £ ° § « » „ “ ” – …`), and accented letters sit in words as in the Western
     European languages: at most two in a row, a word of accented letters only is one
     letter long (`à`), and a word's accented letters are all of one language's alphabet
     (`Gebühr`, `crème`, `Peña`, `Ørsted`; not `Dvoøák`, which is Windows-1250's
     `Dvořák` read as 1252). Chinese read as Windows-1252 gives runs like `ÉÏº£` (`上海`).
   Exactly one script must pass (within a script the first encoding that passes is taken:
   GBK before GB18030, Windows-1252 before ISO-8859-15). When none does, or both do (a
   file whose only non-ASCII text is a character or two), `EncodingError` asks for the
   file to be saved as UTF-8: an import that stops is fixed in a minute, a counterparty
   imported as mojibake is not found at all.

Windows-1250 (Central Europe) is not a candidate: it decodes German exactly as 1252 does
but turns French and Spanish letters into Central European ones (`crème` -> `crčme`), and
a few lines of a bank file carry too little language to tell them apart (charset-normalizer
ranks 1250 first for most French, Spanish and Portuguese 1252 files of ten rows, and 1252
first for Polish 1250 ones). A 1250 file is refused when its 1252 reading breaks the Latin
rules above, as Czech and Polish files of a few rows almost always do (`Dvoøák`,
`Wp³ata`); Croatian, Slovak and Hungarian words often read as plausible 1252 (`raèuna`,
`úèet`, `Gyõr`), so files from those banks must come as UTF-8.
"""

from __future__ import annotations

import codecs
import functools
import re
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import charset_normalizer

__all__ = ["BOMS", "DecodedText", "EncodingError", "decode_text"]

# longest first: the UTF-32 LE mark starts with the UTF-16 LE one
BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

# per script, in order of preference: Python codec -> charset-normalizer's name for it
_CHINESE = {"gbk": "gbk", "gb18030": "gb18030"}
_LATIN = {"cp1252": "cp1252", "iso8859-15": "iso8859_15"}
_CANDIDATES = [*_CHINESE.values(), *_LATIN.values()]
_NAMES = {"gbk": "GBK", "gb18030": "GB18030", "cp1252": "Windows-1252", "iso8859-15": "ISO-8859-15"}

# ASCII controls other than tab, line feed, form feed, carriage return and \x1a (the DOS
# end-of-file mark that old exports keep)
_BAD_ASCII = re.compile(r"[\x00-\x08\x0b\x0e-\x19\x1b-\x1f\x7f]")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_BAD_CATEGORIES = frozenset({"Cc", "Co", "Cn", "Cs"})  # control, private use, unassigned
_LATIN_SYMBOLS = frozenset("€£¥¢°§²³µ·«»„“”‚‘’‹›–—…•‰™©®\xa0¡¿ªº×÷´")
# besides ideographs, what GB2312/GBK text holds: symbols, pinyin, kana (の in shop names),
# Greek and Cyrillic letters (its rows 0xA1-0xA9), CJK and fullwidth punctuation
_CJK_SYMBOLS = frozenset("·×÷°±§¨¤€¥āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüêɑńňǹɡ")
_CJK_SYMBOL_BLOCKS = (
    (0x0370, 0x04FF),  # Greek and Cyrillic letters
    (0x2000, 0x206F),  # general punctuation: “ ” ‘ ’ — … ‰
    (0x2100, 0x218F),  # letterlike symbols and number forms: ℃ № Ⅰ
    (0x2190, 0x22FF),  # arrows, mathematical operators
    (0x2460, 0x24FF),  # enclosed alphanumerics: ①
    (0x2500, 0x26FF),  # box drawing, geometric shapes, miscellaneous symbols: ─ ■ ○ ★
    (0x3000, 0x303F),  # CJK symbols and punctuation: 、 。 《 》 【 】
    (0x3040, 0x312F),  # kana, bopomofo
    (0xFE30, 0xFE4F),  # CJK compatibility forms
    (0xFF00, 0xFFEF),  # fullwidth forms: ， （ ） ： ￥
)
_WORD = re.compile(r"[^\W\d_]+")  # letters, and the superscripts and ordinals isalnum() takes
_THREE_NON_ASCII = re.compile(r"[^\x00-\x7f]{3}")
# the accented letters of the Western European languages Windows-1252 is written in
_ALPHABETS = tuple(
    frozenset(letters)
    for letters in (
        "äöüß",  # German
        "àâæçéèêëîïôœùûüÿ",  # French
        "áéíñóúü",  # Spanish, Galician
        "àèéìíîòóùú",  # Italian
        "áâãàçéêíóôõú",  # Portuguese
        "áéèëïóöúü",  # Dutch
        "æøåéèóòô",  # Danish, Norwegian
        "åäöéšž",  # Swedish, Finnish
        "äöõüšž",  # Estonian
        "àçèéíïòóúü",  # Catalan
        "áðéíóúýþæö",  # Icelandic
        "áéíóú",  # Irish
    )
)
_WORD_END_SIGNS = "ªºµ²³¹"  # Nº, 1ª, m², 5µ


@dataclass(frozen=True)
class DecodedText:
    """A file's text and the Python codec that decodes its bytes to it."""

    text: str
    encoding: str  # ascii, utf-8, utf-8-sig, utf-16, utf-32, gbk, gb18030, cp1252, iso8859-15


class EncodingError(ValueError):
    """The text encoding of some bytes cannot be determined; the message says what to do."""


def decode_text(data: bytes, *, complete: bool = True) -> DecodedText:
    """The text of `data` and its encoding, decided from the bytes (see the module doc).

    `complete=False` is for the first bytes of a longer file: a character cut off at the
    end is dropped instead of making the bytes undecodable (legacy bytes are read up to
    their last line feed). Raises `EncodingError` when the encoding cannot be determined.
    """
    decoded = _decode(data, complete)
    if "\x00" in decoded.text:
        raise EncodingError(
            "the file holds NUL characters, which text never does (is it UTF-16 without a "
            "byte order mark, or not text at all?): save it as UTF-8"
        )
    return decoded


def _decode(data: bytes, complete: bool) -> DecodedText:
    for bom, encoding in BOMS:
        if data.startswith(bom):
            text = _strict(data, encoding, complete)
            if text is None:
                name = encoding.upper().removesuffix("-SIG")
                raise EncodingError(
                    f"the file starts with the {name} byte order mark but is not valid {name}: "
                    "save it as UTF-8"
                )
            return DecodedText(text, encoding)
    if data.isascii():
        return DecodedText(data.decode("ascii"), "ascii")
    text = _strict(data, "utf-8", complete)
    if text is not None:
        return DecodedText(text, "utf-8")
    if not complete and b"\n" in data:  # 0x0A is never part of a GBK, GB18030 or 1252 character
        return _decode(data[: data.rindex(b"\n") + 1], complete=True)
    return _decode_legacy(data)


def _decode_legacy(data: bytes) -> DecodedText:
    proposed: set[str] = set()
    for match in charset_normalizer.from_bytes(
        data,
        cp_isolation=_CANDIDATES,
        preemptive_behaviour=False,  # decide from the bytes, not from a charset= in the text
        enable_fallback=False,  # propose nothing when every decoding is a mess
    ):
        proposed.update(match.could_be_from_charset)
    scripts: tuple[tuple[dict[str, str], Callable[[str], bool]], ...] = (
        (_CHINESE, _reads_as_chinese),
        (_LATIN, _reads_as_latin),
    )
    readings: list[DecodedText] = []
    for encodings, reads in scripts:
        for encoding, detector_name in encodings.items():
            if detector_name not in proposed:
                continue
            text = _strict(data, encoding)
            if text is not None and _clean(text) and reads(text):
                readings.append(DecodedText(text, encoding))
                break
    if len(readings) == 1:
        return readings[0]
    if readings:
        doubt = " or ".join(_NAMES[r.encoding] for r in readings)
        doubt = f"it could be {doubt}"
    else:
        doubt = "nor does it read as text in GBK, GB18030, Windows-1252 or ISO-8859-15"
    raise EncodingError(
        f"the file's text encoding could not be determined (it is not UTF-8; {doubt}): "
        "save it as UTF-8"
    )


def _strict(data: bytes, encoding: str, complete: bool = True) -> str | None:
    try:
        return codecs.getincrementaldecoder(encoding)("strict").decode(data, final=complete)
    except UnicodeDecodeError:
        return None


def _clean(text: str) -> bool:
    """No control, private-use, unassigned or surrogate code point, and no U+FFFD."""
    if _BAD_ASCII.search(text):
        return False
    return not any(
        ch == "\ufffd" or unicodedata.category(ch) in _BAD_CATEGORIES
        for ch in _non_ascii_counts(text)
    )


@functools.cache
def _gb2312_common() -> frozenset[str]:
    """GB2312's level-1 hanzi, the 3,755 most used characters (rows 0xB0-0xD7)."""
    chars = set()
    for lead in range(0xB0, 0xD8):
        for trail in range(0xA1, 0xFF):
            try:
                chars.add(bytes((lead, trail)).decode("gb2312"))
            except UnicodeDecodeError:  # the five unused places at the end of row 0xD7
                pass
    return frozenset(chars)


def _is_ideograph(ch: str) -> bool:
    return unicodedata.category(ch) == "Lo" and unicodedata.name(ch, "").startswith("CJK ")


def _non_ascii_counts(text: str) -> Counter[str]:
    """How often each non-ASCII character occurs in `text`: counted in C over the text, so
    memory grows with the distinct characters, not the file (a list of every character of a
    large Chinese statement would take many times the file's size)."""
    counts = Counter(text)
    for ch in [ch for ch in counts if ch.isascii()]:
        del counts[ch]
    return counts


def _reads_as_chinese(text: str) -> bool:
    ideographs = common = 0
    for ch, n in _non_ascii_counts(text).items():
        if _is_ideograph(ch):
            ideographs += n
            common += n if ch in _gb2312_common() else 0
        elif ch not in _CJK_SYMBOLS and not any(a <= ord(ch) <= b for a, b in _CJK_SYMBOL_BLOCKS):
            return False
    return ideographs > 0 and 2 * common >= ideographs


def _reads_as_latin(text: str) -> bool:
    for ch in set(_non_ascii_counts(text)) - _LATIN_SYMBOLS:
        if not (ch.isalpha() and unicodedata.name(ch, "").startswith("LATIN ")):
            return False
    for match in _WORD.finditer(text):
        word = match.group().rstrip(_WORD_END_SIGNS)
        if word.isascii():
            continue
        if _THREE_NON_ASCII.search(word) or (len(word) > 1 and not _NON_ASCII.sub("", word)):
            return False
        accented = set(_NON_ASCII.findall(word.lower()))
        if not any(accented <= alphabet for alphabet in _ALPHABETS):
            return False
    return True
