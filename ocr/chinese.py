"""Chinese invoice checks: amounts in capitals (大写) and unified social credit codes.

A 增值税发票 prints its total twice, in figures (小写) and in financial capitals (大写),
e.g. 壹仟壹佰叁拾元整 = 1130.00; reading both lets validation catch a misread digit.
The buyer's and seller's 纳税人识别号 is an 18-character unified social credit code
whose last character is a check character (GB 32100-2015).
"""

from __future__ import annotations

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
_LOOKALIKES = {"什": "仟", "参": "叁", "伯": "佰", "任": "仟", "拴": "拾", "抬": "拾", "恰": "拾"}
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
