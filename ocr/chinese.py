"""Chinese VAT invoices (增值税专用发票 / 增值税普通发票): what only they print, and its checks.

A 增值税发票 prints its total twice, in figures (小写) and in financial capitals (大写),
e.g. 壹仟壹佰叁拾元整 = 1130.00; reading both lets validation catch a misread digit.
The buyer's and seller's 纳税人识别号 is an 18-character unified social credit code
whose last character is a check character (GB 32100-2015). The kind of invoice (专用:
input VAT deductible; 普通: not) comes from the title; the 发票代码 (10 digits, or 12 on
a 普通发票 since 2018) starts with the region code and the year the form was printed;
the 校验码 of a 普通发票 (and of an electronic one) has 20 digits.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from closeflow.money import CENT

_DIGITS = {
    **dict.fromkeys("零〇", 0),
    **dict.fromkeys("壹一", 1),
    **dict.fromkeys("贰貳贰二两兩", 2),
    **dict.fromkeys("叁參叄三", 3),
    **dict.fromkeys("肆四", 4),
    **dict.fromkeys("伍五", 5),
    **dict.fromkeys("陆陸六", 6),
    **dict.fromkeys("柒七", 7),
    **dict.fromkeys("捌八", 8),
    **dict.fromkeys("玖九", 9),
}
_UNITS = {**dict.fromkeys("拾十", 10), **dict.fromkeys("佰百", 100), **dict.fromkeys("仟千", 1000)}
_SECTIONS = {**dict.fromkeys("万萬", 10**4), **dict.fromkeys("亿億", 10**8)}
_YUAN = "元圆圓"
# What tesseract reads for some capitals; harmless here as only the 大写 cell is parsed.
_LOOKALIKES = {
    **{"什": "仟", "参": "叁", "伯": "佰", "任": "仟", "拴": "拾", "抬": "拾", "恰": "拾"},
    **{"沫": "柒", "染": "柒"},
}
OCR_LOOKALIKES = str.maketrans(_LOOKALIKES)


def _integer(text: str) -> int:
    total = section = digit = 0
    for ch in text:
        if ch in _DIGITS:
            digit = _DIGITS[ch]
        elif ch in _UNITS:
            if digit == 0 and _UNITS[ch] == 10 and section == 0:
                digit = 1  # 拾元 = 10
            section += digit * _UNITS[ch]
            digit = 0
        elif ch in _SECTIONS:
            section += digit
            if _SECTIONS[ch] == 10**8:
                total = (total + section) * 10**8
            else:
                total += section * 10**4
            section = digit = 0
        else:
            raise ValueError(ch)
    return total + section + digit


def parse_capitals(text: str) -> Decimal | None:
    """Value of an amount in Chinese capitals, e.g. 叁拾肆元伍角陆分 -> Decimal('34.56').

    Returns None when `text` is not a well-formed capitals amount.
    """
    s = re.sub(r"[\s⊗ⓧ×Xx:：()（）]|人民币|大写", "", text).translate(OCR_LOOKALIKES)
    negative = s.startswith("负")
    s = s.lstrip("负").rstrip("整正")
    if not s:
        return None
    mark = next((m for m in _YUAN if m in s), None)
    yuan, rest = s.split(mark, 1) if mark else ("", s)
    if not mark and not re.search("[角分]", s):
        return None  # no unit at all: not an amount
    if not any(c in _DIGITS or c in _UNITS for c in s):
        return None  # units without a single digit
    try:
        whole = _integer(yuan)
    except ValueError:
        return None
    jiao = fen = 0
    for part, unit in re.findall(r"([^角分]*)([角分])", rest):
        part = part.lstrip("零〇")
        if len(part) != 1 or part not in _DIGITS:
            return None
        if unit == "角":
            jiao = _DIGITS[part]
        else:
            fen = _DIGITS[part]
    if re.sub(r"[^角分]*[角分]", "", rest).strip("零〇"):
        return None
    value = Decimal(whole) + Decimal(jiao) / 10 + Decimal(fen) / 100
    value = value.quantize(CENT)
    return -value if negative else value


USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
USCC_RE = re.compile(rf"[{USCC_CHARS}]{{18}}")


def uscc_check_char(first17: str) -> str:
    """The GB 32100-2015 check character for the first 17 characters of a code."""
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return USCC_CHARS[(31 - total % 31) % 31]


def uscc_is_valid(code: str) -> bool:
    """True if `code` is an 18-character unified social credit code with a correct check."""
    code = code.strip().upper()
    return bool(USCC_RE.fullmatch(code)) and uscc_check_char(code[:17]) == code[17]


def looks_like_uscc(code: str) -> bool:
    """An 18-character id of the USCC alphabet: the ones `uscc_is_valid` should judge."""
    return len(code) == 18 and code[:2].isdigit() and all(c in USCC_CHARS for c in code)


# ---------------------------------------------------------------- the VAT invoice form

VAT_SPECIAL = "vat_special"  # 增值税专用发票
VAT_ORDINARY = "vat_ordinary"  # 增值税普通发票
KIND_LABELS = {VAT_SPECIAL: "增值税专用发票", VAT_ORDINARY: "增值税普通发票"}
_KIND_RX = re.compile(r"(专\s*用|普\s*通)\s*发\s*票(?!\s*专\s*用\s*章)")
TITLE_LINES = 8  # the title is among the first lines of the first page, with the numbers


def invoice_kind(head: list[str]) -> str | None:
    """VAT_SPECIAL or VAT_ORDINARY from the title among the first lines `head` (e.g.
    上海增值税专用发票, 增值税电子普通发票, 电子发票（普通发票）), else None."""
    for text in head[:TITLE_LINES]:
        m = _KIND_RX.search(text)
        if m:
            return VAT_SPECIAL if m.group(1).startswith("专") else VAT_ORDINARY
    return None


# the first two digits of the region code (GB/T 2260): the provinces of the mainland
PROVINCES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 "
    "61 62 63 64 65".split()
)


def invoice_code_problem(code: str, issued: dt.date | None) -> str | None:
    """Why a 发票代码 cannot be right (wrong length, no region, printed after it was
    used), in words; None if it is plausible. 10 digits: region (4) and year (2) first;
    12 digits: a leading 0 or 1, then region (4) and year (2)."""
    if not code.isdigit():
        return "has characters that are not digits"
    if len(code) not in (10, 12):
        return f"has {len(code)} digits, not 10 or 12"
    region, year = (code[0:4], code[4:6]) if len(code) == 10 else (code[1:5], code[5:7])
    if len(code) == 12 and code[0] not in "01":
        return "does not start with 0 or 1 as a 12-digit code does"
    if region[:2] not in PROVINCES:
        return f"starts with region {region}, which is no Chinese province"
    if issued is not None and 2000 + int(year) > issued.year:
        return f"says the form was printed in 20{year}, after the invoice date"
    return None


CHECK_CODE_DIGITS = 20


def check_code_problem(code: str) -> str | None:
    """Why a 校验码 cannot be right, in words; None if it has its 20 digits."""
    if not code.isdigit():
        return "has characters that are not digits"
    if len(code) != CHECK_CODE_DIGITS:
        return f"has {len(code)} digits, not {CHECK_CODE_DIGITS}"
    return None


_CJK = r"\u3000-\u303f\u3400-\u9fff\uff00-\uffef"
_CJK_GAP_RX = re.compile(rf"(?<=[{_CJK}*])\s+(?=[{_CJK}*])")
# the star before the tax category, as OCR reads it: "*", "#", "+", "*#", "*+", "# "
_CATEGORY_RX = re.compile(r"^[*#+※]{1,2}\s*(?=[\u3400-\u9fff][^*]*\*)")


def tidy_item_name(text: str) -> str:
    """A 货物或应税劳务名称 as printed: no spaces OCR put between its characters, and the
    tax category in stars (*信息技术服务*云服务器租赁) without the specks read beside it."""
    text = _CJK_GAP_RX.sub("", text.strip())
    return _CATEGORY_RX.sub("*", text)
