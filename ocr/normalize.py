"""Normalise what invoices print: dates to `date`, amounts to `Decimal`, ids to one form.

Everything here works on plain strings and knows nothing of layout. Amounts are never
float: a printed "1.234,56", "1,234.56", "¥1,234.56" or "€ 1 234,56" becomes
`Decimal("1234.56")`, and so does Swiss "1'234.56". Dates accept ISO, European and US
numeric forms, English, German, French, Dutch and Spanish month names ("5. Januar 2026",
"1er janvier 2026", "5 januari 2026", "5 de enero de 2026"), and 2026年01月05日.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from stdnum import iban as stdnum_iban

from closeflow.money import CENT

_FULLWIDTH = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}
_FULLWIDTH.update({0x3000: 0x20, 0xFFE5: 0xA5, 0x2212: 0x2D, 0x2013: 0x2D, 0x00A0: 0x20})
_FULLWIDTH.update({0x202F: 0x20, 0x2009: 0x20, 0x3001: 0x2C, 0x3002: 0x2E})


def fold(text: str) -> str:
    """Map full-width forms and odd spaces/dashes to ASCII, one char for one char.

    Length-preserving, so a match found in `fold(text)` has the same span in `text`.
    """
    return text.translate(_FULLWIDTH)


# ---------------------------------------------------------------- currencies

ISO_CURRENCIES = frozenset(
    """AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD
    BTN BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR
    FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD
    JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT
    MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG
    QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS
    TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XOF XPF YER ZAR
    ZMW ZWL""".split()
)
# Codes that are also ordinary capitalised words; only trusted next to an amount.
WORDLIKE_CODES = frozenset({"ALL", "TOP", "CUP", "PEN", "TRY", "BOB", "MOP", "SOS", "LAK"})
CURRENCY_ALIASES = {"RMB": "CNY", "EURO": "EUR", "EUROS": "EUR"}
# symbol -> (currency, how sure); "$" and "¥" are shared by several currencies
CURRENCY_SYMBOLS = {
    "€": ("EUR", 0.95),
    "£": ("GBP", 0.9),
    "₹": ("INR", 0.95),
    "Rs": ("INR", 0.85),
    "Rs.": ("INR", 0.85),
    "RM": ("MYR", 0.9),  # ringgit, as Malaysian till receipts print it ("RM20.40")
    "US$": ("USD", 0.95),
    "$": ("USD", 0.7),
    "¥": ("CNY", 0.7),
}
_CODE_ALT = "|".join(sorted(ISO_CURRENCIES | set(CURRENCY_ALIASES), key=len, reverse=True))
CURRENCY_RE = re.compile(rf"(?<![A-Za-z])(?:{_CODE_ALT})(?![A-Za-z])")
_CUR = rf"(?:US\$|Rs\.?(?=\s?-?\d)|RM(?=\s?-?\d)|[€£₹$¥]|(?:{_CODE_ALT})(?![A-Za-z]))"


def currency_code(token: str) -> str | None:
    """ISO code for a printed currency code or alias ('RMB' -> 'CNY'), else None."""
    token = token.strip().upper()
    token = CURRENCY_ALIASES.get(token, token)
    return token if token in ISO_CURRENCIES else None


# Capital letters OCR takes for one another in a printed code ("BUR" for EUR, "GBR" for GBP).
_CODE_LOOKALIKES = {"B": "E8", "E": "BF", "F": "E", "R": "P", "P": "R", "O": "DQ", "D": "O"}
_CODE_LOOKALIKES |= {"Q": "O", "U": "V", "V": "U", "C": "G", "G": "C", "I": "L", "L": "I"}


def repair_currency_code(token: str) -> str | None:
    """The one ISO currency code a misread 3-letter code stands for, changing one letter
    for a look-alike ("BUR" -> EUR, "GBR" -> GBP); None if none or several fit."""
    token = token.strip().upper()
    fits = {
        token[:i] + c + token[i + 1 :]
        for i, ch in enumerate(token)
        for c in _CODE_LOOKALIKES.get(ch, "")
    } & ISO_CURRENCIES
    return fits.pop() if len(fits) == 1 else None


def currency_of(token: str | None) -> tuple[str, float] | None:
    """(ISO code, confidence) for a code or symbol printed next to an amount."""
    if not token:
        return None
    token = token.strip()
    if token in CURRENCY_SYMBOLS:
        return CURRENCY_SYMBOLS[token]
    code = currency_code(token)
    return (code, 0.95) if code else None


# ---------------------------------------------------------------- amounts


_GROUPED = r"\d{1,3}(?P<g>[.,'’])\d{3}(?:(?P=g)\d{3})*(?:[.,]\d{1,2})?"
_SPACED = r"\d{1,3}(?:[ \u00a0\u202f]\d{3})+"
_PLAIN = r"\d+(?:[.,]\d{1,2})?"
# A number not glued to letters, other digits, dates or percentages. Space-grouped
# thousands ("1 234,56") only with a decimal comma or right after a currency.
_AMOUNT_RE = re.compile(
    rf"""
    (?<![A-Za-z0-9_.,/\-])
    (?P<sign>-\s?)?
    (?:(?P<pre>{_CUR})\s?)?
    (?P<sign2>-\s?)?
    (?P<num>
        {_SPACED},\d{{2}}
      | (?(pre){_SPACED}(?:\.\d{{2}})?|(?!))
      | {_GROUPED}
      | {_PLAIN}
    )
    (?![\d%])(?![.,]\d)(?![\-/]\d)(?![A-Za-z])(?!\s?%)
    (?:\s?(?P<post>{_CUR})(?!\s?-?\d))?
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class AmountMatch:
    value: Decimal
    start: int
    end: int
    currency: str | None  # the code or symbol printed next to it, as printed
    has_decimals: bool


def _to_decimal(num: str) -> tuple[Decimal, bool] | None:
    num = num.replace(" ", "").replace("\u00a0", "").replace("\u202f", "")
    num = num.replace("'", "").replace("’", "")
    last = max(num.rfind("."), num.rfind(","))
    decimals = last >= 0 and len(num) - last - 1 in (1, 2)
    if decimals:
        whole, frac = num[:last], num[last + 1 :]
    else:
        whole, frac = num, ""
    whole = whole.replace(".", "").replace(",", "")
    if not whole.isdigit() or (frac and not frac.isdigit()):
        return None
    try:
        return Decimal(f"{whole}.{frac}" if frac else whole), decimals
    except InvalidOperation:
        return None


def find_amounts(text: str) -> list[AmountMatch]:
    """All money-like numbers in `text`, left to right, dates and percentages excluded."""
    text = mask_dates(fold(text))
    found = []
    for m in _AMOUNT_RE.finditer(text):
        parsed = _to_decimal(m.group("num"))
        if parsed is None:
            continue
        value, decimals = parsed
        value = value.quantize(CENT)
        if m.group("sign") or m.group("sign2"):
            value = -value
        cur = m.group("pre") or m.group("post")
        found.append(AmountMatch(value, m.start(), m.end(), cur, decimals))
    return found


def parse_amount(text: str) -> Decimal | None:
    """The one amount in `text` ("1.234,56", "¥1,234.56", "-12.00"), or None."""
    found = find_amounts(text)
    if len(found) != 1:
        return None
    return found[0].value


_RATE_RE = re.compile(r"(?<![\d.,])(\d{1,2}(?:[.,]\d{1,2})?)\s*%")


def parse_rate(text: str) -> Decimal | None:
    """The first percentage in `text` as a fraction: "19%" -> Decimal("0.19")."""
    m = _RATE_RE.search(fold(text))
    if not m:
        return None
    return Decimal(m.group(1).replace(",", ".")).scaleb(-2).normalize()


# ---------------------------------------------------------------- dates

_MONTH_NAMES = {  # en, de, fr, nl, es; accentless forms are how OCR reads some
    1: "january jan januar jän jänner janvier janv januari enero ene",
    2: "february feb febr februar février fév févr fevrier fev fevr februari febrero",
    3: "march mar märz mär maerz marz mrz mars maart mrt marzo",
    4: "april apr avril avr abril abr",
    5: "may mai mei mayo",
    6: "june jun juni juin junio",
    7: "july jul juli juillet juil julio",
    8: "august aug août aout augustus agosto ago",
    9: "september sep sept septembre septiembre setiembre set",
    10: "october oct oktober okt octobre octubre",
    11: "november nov novembre noviembre",
    12: "december dec dezember dez décembre déc decembre diciembre dic",
}
MONTHS = {name: n for n, names in _MONTH_NAMES.items() for name in names.split()}
_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
_DATE_PATTERNS = [
    # 2026年12月31日; OCR loses the 日 or misreads it ("14 晶"), and reads 年 as 午 or 牛
    # and 月 as 用 or 目: the digits and their order are the date.
    (
        "cjk",
        r"(?<!\d)(?P<y>(?:19|20)\d{2})\s*[年午牛]\s*(?P<m>\d{1,2})\s*[月用目]\s*"
        r"(?P<d>\d{1,2})(?!\s*[\d.,])(?:\s*[日曰])?",
    ),
    ("ymd", r"(?<![\d.,])(?P<y>\d{4})(?P<s>[-/.])(?P<m>\d{1,2})(?P=s)(?P<d>\d{1,2})(?![\d])"),
    (
        "num",
        r"(?<![\d.,/])(?P<a>\d{1,2})(?P<s>[-/.])(?P<b>\d{1,2})(?P=s)(?P<y>\d{4}|\d{2})"
        r"(?![\d]|[.,]\d)",
    ),
    (
        "dmy",
        rf"(?<![\d.])(?P<d>\d{{1,2}})(?:st|nd|rd|th|er)?\.?[\s\-]*(?:de\s+)?"
        rf"(?P<mon>{_MONTH})\.?[\s,\-]*(?:del?\s+)?(?P<y>\d{{4}})(?!\d)",
    ),
    (
        "mdy",
        rf"(?<![A-Za-z])(?P<mon>{_MONTH})\.?\s*(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\s*,?\s*"
        rf"(?P<y>\d{{4}})(?!\d)",
    ),
]
_DATE_RES = [(kind, re.compile(p, re.IGNORECASE)) for kind, p in _DATE_PATTERNS]


@dataclass(frozen=True)
class DateMatch:
    value: dt.date
    start: int
    end: int
    # a numeric date whose day and month could be swapped (05/01/17: both 12 or less and
    # not equal, not dotted): read by the `dayfirst` asked for, nothing in it decides
    order_ambiguous: bool = False


WEEKDAYS = {  # English day names as receipts print them, Monday = 0
    name: n
    for n, names in enumerate(
        (
            "monday mon",
            "tuesday tue tues",
            "wednesday wed",
            "thursday thu thur thurs",
            "friday fri",
            "saturday sat",
            "sunday sun",
        )
    )
    for name in names.split()
}
WEEKDAY_RX = re.compile(r"\b(" + "|".join(sorted(WEEKDAYS, key=len, reverse=True)) + r")\b", re.I)


def _year(y: str) -> int:
    n = int(y)
    if len(y) == 2:
        n += 2000 if n < 70 else 1900
    return n


def _make(y: int, m: int, d: int) -> dt.date | None:
    try:
        return dt.date(y, m, d)
    except ValueError:
        return None


def _date_from(kind: str, m: re.Match, dayfirst: bool) -> dt.date | None:
    g = m.groupdict()
    if kind in ("cjk", "ymd"):
        return _make(int(g["y"]), int(g["m"]), int(g["d"]))
    if kind in ("dmy", "mdy"):
        month = MONTHS.get(g["mon"].lower())
        return _make(int(g["y"]), month, int(g["d"])) if month else None
    a, b, y = int(g["a"]), int(g["b"]), _year(g["y"])
    if g["s"] == ".":  # dotted dates are day-first everywhere
        dayfirst = True
    first = _make(y, b, a) if dayfirst else _make(y, a, b)
    return first or (_make(y, a, b) if dayfirst else _make(y, b, a))


def find_dates(text: str, *, dayfirst: bool = True) -> list[DateMatch]:
    """All dates in `text`, left to right, without overlaps."""
    text = fold(text)
    found: list[DateMatch] = []
    for kind, rx in _DATE_RES:
        for m in rx.finditer(text):
            if any(m.start() < f.end and f.start < m.end() for f in found):
                continue
            value = _date_from(kind, m, dayfirst)
            if value is not None:
                found.append(DateMatch(value, m.start(), m.end(), _order_ambiguous(kind, m)))
    return sorted(found, key=lambda f: f.start)


def _order_ambiguous(kind: str, m: re.Match) -> bool:
    if kind != "num" or m.group("s") == ".":
        return False
    a, b = int(m.group("a")), int(m.group("b"))
    return a != b and a <= 12 and b <= 12


def parse_date(text: str, *, dayfirst: bool = True) -> dt.date | None:
    """The first date in `text`, or None. Ambiguous 05/01/2026 reads day-first by default."""
    found = find_dates(text, dayfirst=dayfirst)
    return found[0].value if found else None


def mask_dates(text: str) -> str:
    """`text` with every date replaced by spaces (same length), so no digit of it is an amount."""
    for f in find_dates(text):
        text = text[: f.start] + " " * (f.end - f.start) + text[f.end :]
    return text


def infer_dayfirst(text: str) -> bool:
    """Whether a document writes numeric dates day-first: False only on clear US evidence."""
    rx = dict(_DATE_RES)["num"]
    day_first = month_first = False
    for m in rx.finditer(fold(text)):
        if m.group("s") == ".":
            continue
        a, b = int(m.group("a")), int(m.group("b"))
        day_first |= a > 12 >= b
        month_first |= b > 12 >= a
    return not (month_first and not day_first)


# ---------------------------------------------------------------- payment terms

_DAY_WORDS = r"(?:days?|tagen?|kalendertagen?|dagen|jours|d[íi]as)"
_NOT_AN_AMOUNT = r"(?!\d)(?!\s*[.,]\d)(?!\s*%)(?!\s*(?:€|\$|£|EUR|USD|GBP|CHF)(?![A-Za-z]))"
_TERMS_RE = re.compile(
    rf"""
    (?P<net>\bnet(?:to)?\s*(?P<n1>\d{{1,3}}){_NOT_AN_AMOUNT}(?P<d1>\s*{_DAY_WORDS}\b)?)
  | (?P<after>
        \b(?P<n2>\d{{1,3}})\s*{_DAY_WORDS}\s+(?:net(?:to|os?)?|ohne\s+abzug|fin\s+de\s+mois)\b
    )
  | (?P<idiom>
        (?:\b[àa]|\bsous|\bd[ée]lai\s+de)\s+(?P<n3>\d{{1,3}})\s*(?:jours|d[íi]as)\b
      | (?:\bbinnen|\bbetalingstermijn:?(?:\s+van)?)\s+(?P<n4>\d{{1,3}})\s*dagen\b
      | (?:\bzahlungsziel:?|\bzahlbar\s+(?:in|binnen)|\bplazo\s+de(?:\s+pago)?:?
        |\bterms:?|\bpayable\s+in|\bdue\s+in|\bconditions?\s+de\s+paiement\s*:?
        |\bd[ée]lai\s+de\s+paiement\s*:?|\bcondiciones\s+de\s+pago\s*:?)\s+(?P<n5>\d{{1,3}})\s*{_DAY_WORDS}\b
    )
  | (?P<within>
        \b(?:within|innerhalb(?:\s+von)?|dentro\s+de|en\s+un\s+plazo\s+de)
        \s+(?P<n6>\d{{1,3}})\s*{_DAY_WORDS}\b
    )
    """,
    re.IGNORECASE | re.VERBOSE,
)
_END_OF_MONTH_RE = re.compile(r"[\s,]*(?:fin\s+de\s+mois|fdm\b)", re.IGNORECASE)
_PAYMENT_WORDS_RE = re.compile(
    r"pay|paid|terms|zahl|überweis|netto|abzug|paiement|r[èe]gl|betal|pago|pagar|plazo|vencim",
    re.IGNORECASE,
)
_DISCOUNT_RE = re.compile(
    r"skonto|discount|escompte|descuento|korting|pronto\s*pago|\d\s*%", re.IGNORECASE
)
# "Net 30" without a day word only as the usual terms, so "Net 100" stays an amount
_BARE_NET_DAYS = frozenset({7, 10, 14, 15, 20, 21, 28, 30, 45, 60, 90, 120})


@dataclass(frozen=True)
class TermsMatch:
    days: int
    end_of_month: bool  # "30 jours fin de mois": then to the end of that month
    start: int
    end: int


def _clause(text: str, start: int, end: int) -> str:
    """The part of `text` around [start, end) up to the nearest , ; or sentence end."""
    before = re.split(r"[,;]|\.\s", text[:start])[-1]
    after = re.split(r"[,;]|\.\s|\.$", text[end:])[0]
    return before + text[start:end] + after


def find_payment_terms(text: str) -> list[TermsMatch]:
    """Net payment terms in `text` ("Net 30", "Zahlbar innerhalb von 14 Tagen (netto)",
    "à 30 jours fin de mois", "binnen 30 dagen", "a 30 días"), left to right.

    Early-payment discount terms ("10 Tage 2 % Skonto") are not the due date: left out.
    """
    text = fold(text)
    found = []
    for m in _TERMS_RE.finditer(text):
        n = next(m.group(g) for g in ("n1", "n2", "n3", "n4", "n5", "n6") if m.group(g))
        days = int(n)
        if not 0 < days <= 180:
            continue
        if m.group("net") and not m.group("d1") and days not in _BARE_NET_DAYS:
            continue
        clause = _clause(text, m.start(), m.end())
        if _DISCOUNT_RE.search(clause):
            continue
        if m.group("within") and not _PAYMENT_WORDS_RE.search(clause):
            continue  # "returns within 30 days" is no payment term
        end = m.end()
        eom = _END_OF_MONTH_RE.match(text, end)
        if eom:
            end = eom.end()
        eom = eom or _END_OF_MONTH_RE.search(m.group(0))
        found.append(TermsMatch(days, bool(eom), m.start(), end))
    return found


def due_from_terms(invoice_date: dt.date, terms: TermsMatch) -> dt.date:
    """The due date `terms` give an invoice of `invoice_date`."""
    due = invoice_date + dt.timedelta(days=terms.days)
    if terms.end_of_month:
        following = (due.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        due = following - dt.timedelta(days=1)
    return due


# ---------------------------------------------------------------- identifiers


def compact(text: str) -> str:
    """Upper-case `text` without spaces, dots and hyphens: the comparable form of an id."""
    return re.sub(r"[\s.\-]", "", fold(text)).upper()


def iban_is_valid(iban: str) -> bool:
    """ISO 13616 mod-97 check of an IBAN (spaces allowed)."""
    s = compact(iban)
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}", s):
        return False
    digits = "".join(str(int(c, 36)) for c in s[4:] + s[:4])
    return int(digits) % 97 == 1


def iban_is_proven(iban: str) -> bool:
    """An IBAN its own structure proves: the length and account format registered for
    its country (python-stdnum's copy of the SWIFT IBAN registry) and the mod-97 check
    digits. Mod 97 catches every single misread character and every swap of two
    neighbours, so an OCR'd IBAN that passes was read right unless two or more characters
    were misread in a way that cancels out (about 1 in 97 of those)."""
    return stdnum_iban.is_valid(compact(iban))


def iban_fits_registry(iban: str) -> bool:
    """Whether the IBAN has the length and account format registered for its country
    (python-stdnum's copy of the SWIFT IBAN registry), whatever its check digits."""
    s = compact(iban)
    try:
        info = stdnum_iban._ibandb.info(s)
        structure = info[0][1].get("bban", "") if info and info[0][1] else ""
    except Exception:  # stdnum's registry is private API: never let it break a reading
        return False
    return bool(structure) and bool(stdnum_iban._struct_to_re(structure).fullmatch(s[4:]))


# ---------------------------------------------------------------- OCR repairs of ids
#
# OCR confuses 0/O, 1/I/l, 5/S and 8/B. Where an id has a known shape (a digit here, a
# letter there) the misread character has only one reading; where a check character
# exists it says whether the repaired id is the printed one. A repair without such proof
# leaves the id doubtful (`IdRepair.proven` False): extraction lowers its confidence.

TO_DIGIT = str.maketrans("OoIlSB", "001158")
TO_LETTER = str.maketrans("0158", "OISB")
_ALNUM_LOOKALIKES = {"0": "O", "O": "0", "1": "I", "I": "1", "5": "S", "S": "5", "8": "B", "B": "8"}


@dataclass(frozen=True)
class IdRepair:
    value: str
    repaired: bool  # a character was changed
    proven: bool  # a check character (or check digits) confirms the value


def _by_shape(value: str, shape: str) -> str | None:
    """`value` with each character made what `shape` asks at its place: D a digit, L a
    letter, A either; any other character of `shape` is that literal ("Z", "U"). None if
    a character cannot be one (a letter that looks like no digit where a digit must be)."""
    if len(value) != len(shape):
        return None
    out = []
    for ch, want in zip(value, shape, strict=True):
        if want == "D":
            ch = ch.translate(TO_DIGIT)
            if not ch.isdigit():
                return None
        elif want == "L":
            ch = ch.translate(TO_LETTER)
            if not ch.isalpha():
                return None
        elif want == "A":
            if not ch.isalnum():
                return None
        elif ch == want or ch.translate(TO_LETTER) == want or (want == "Z" and ch == "2"):
            ch = want
        else:
            return None
        out.append(ch)
    return "".join(out)


def _check_alternatives(value: str, shape: str, valid, limit: int = 3) -> str | None:  # noqa: ANN001
    """The one reading of `value` that `valid` accepts, trying the look-alike of each
    character at a free (A) place of `shape`; None if none or more than one does."""
    places = [i for i, want in enumerate(shape) if want == "A" and value[i] in _ALNUM_LOOKALIKES]
    if len(places) > limit:
        return None
    readings = [value]
    for i in places:
        readings += [r[:i] + _ALNUM_LOOKALIKES[r[i]] + r[i + 1 :] for r in readings]
    good = {r for r in readings if valid(r)}
    return good.pop() if len(good) == 1 else None


_ID36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
GSTIN_SHAPE = "DDLLLLLDDDDLAZA"  # state, PAN (5 letters, 4 digits, a letter), entity, Z, check
GSTIN_RE = re.compile(r"\d{2}[A-Z]{5}\d{4}[A-Z][A-Z\d]Z[A-Z\d]")


def gstin_check_char(first14: str) -> str:
    """The check character of an Indian GSTIN: Luhn mod 36 over its first 14 characters."""
    total = 0
    for i, ch in enumerate(first14):
        product = _ID36.index(ch) * (2 if i % 2 else 1)
        total += product // 36 + product % 36
    return _ID36[(36 - total % 36) % 36]


def gstin_is_valid(code: str) -> bool:
    return bool(GSTIN_RE.fullmatch(code)) and gstin_check_char(code[:14]) == code[14]


def _de_vat_valid(digits: str) -> bool:  # ISO 7064 MOD 11,10 (USt-IdNr.)
    product = 10
    for ch in digits[:8]:
        total = (int(ch) + product) % 10 or 10
        product = 2 * total % 11
    return (11 - product) % 10 == int(digits[8])


def _luhn_valid(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch) * (2 if i % 2 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


def _fr_vat_valid(rest: str) -> bool:  # key = (12 + 3 x (SIREN mod 97)) mod 97
    return rest[:2].isdigit() and int(rest[:2]) == (12 + 3 * (int(rest[2:]) % 97)) % 97


def _be_vat_valid(digits: str) -> bool:
    return 97 - int(digits[:8]) % 97 == int(digits[8:])


# EU VAT numbers by country prefix: the shapes of what follows it, and their check where
# one is public and simple.
VAT_SHAPES: dict[str, tuple[tuple[str, ...], object]] = {
    "DE": (("DDDDDDDDD",), _de_vat_valid),
    "AT": (("UDDDDDDDD",), None),
    "FR": (("DDDDDDDDDDD", "AADDDDDDDDD"), _fr_vat_valid),  # the key: digits, rarely letters
    "NL": (("DDDDDDDDDBDD",), None),
    "BE": (("DDDDDDDDDD",), _be_vat_valid),
    "IT": (("DDDDDDDDDDD",), _luhn_valid),
    "ES": (("ADDDDDDDA",), None),
    "PT": (("DDDDDDDDD",), None),
    "PL": (("DDDDDDDDDD",), None),
    "SE": (("DDDDDDDDDDDD",), None),
    "DK": (("DDDDDDDD",), None),
    "FI": (("DDDDDDDD",), None),
    "LU": (("DDDDDDDD",), None),
    "GB": (("DDDDDDDDD", "DDDDDDDDDDDD"), None),
}


def _repair(value: str, shape: str, valid) -> IdRepair | None:  # noqa: ANN001
    fixed = _by_shape(value, shape)
    if fixed is None:
        return None
    if valid is not None and not valid(fixed):
        # a look-alike at a place the shape leaves free: the check picks the reading, but
        # with a few readings tried one may pass by chance: a repair, never a proof
        other = _check_alternatives(fixed, shape, valid)
        return IdRepair(other or fixed, (other or fixed) != value, False)
    return IdRepair(fixed, fixed != value, valid is not None)


def repair_tax_id(value: str) -> IdRepair:
    """An OCR'd tax id with the look-alikes its shape rules out put right: an Indian
    GSTIN, a Chinese unified social credit code, an EU VAT number after its country
    prefix (`value` in its compact form, see `compact`). `proven` where its check
    character or digits hold after the repair."""
    from ocr.chinese import USCC_CHARS, uscc_is_valid  # ocr.chinese imports nothing of ours

    if len(value) == 15 and sum(c.isdigit() for c in value[:2] + value[7:11]) >= 4:
        repaired = _repair(value, GSTIN_SHAPE, gstin_is_valid)
        if repaired is not None:
            return repaired
    if len(value) == 16:  # a speck read as a character before or after a GSTIN
        for window in (value[1:], value[:-1]):
            repaired = _repair(window, GSTIN_SHAPE, gstin_is_valid)
            if repaired is not None and repaired.proven:
                return IdRepair(repaired.value, True, False)
    if len(value) == 18 and value[:2].translate(TO_DIGIT).isdigit():
        fixed = value.translate(str.maketrans("OISZ", "0152"))  # letters a USCC never has
        if all(c in USCC_CHARS for c in fixed):
            repaired = _repair(fixed, "AADDDDDDAAAAAAAAAA", uscc_is_valid)
            if repaired is not None:
                return IdRepair(repaired.value, repaired.value != value, repaired.proven)
    country, rest = value[:2], value[2:]
    if country in VAT_SHAPES:
        shapes, valid = VAT_SHAPES[country]
        for shape in shapes:
            repaired = _repair(rest, shape, valid)
            if repaired is not None:
                return IdRepair(country + repaired.value, repaired.repaired, repaired.proven)
    return IdRepair(value, False, False)


_LOOKALIKE_LETTER = "OoIl"
_ID_SEGMENT_RX = re.compile(r"([A-Za-z]*[A-HJ-NP-Za-hj-km-np-z])([0-9OoIl]*[0-9][0-9OoIl]*)")


def repair_invoice_number(value: str) -> IdRepair:
    """An OCR'd invoice number with O/o and I/l put right where they stand for digits:
    in a part (between - / _ .) of digits, and in the digits after a letter prefix
    ("AROO00051" -> "AR0000051", "INV-2O26-0O555" -> "INV-2026-00555"). A prefix ending in
    O or I cannot be told from digits: the repair is never proven."""
    parts = re.split(r"([-/_.])", value)
    out = []
    for part in parts:
        digits = sum(c.isdigit() for c in part)
        if (
            digits
            and any(c in _LOOKALIKE_LETTER for c in part)
            and re.fullmatch(r"[0-9OoIl]+", part)
            and 2 * digits >= len(part)
        ):
            part = part.translate(TO_DIGIT)
        else:
            m = _ID_SEGMENT_RX.fullmatch(part)
            if m and any(c in _LOOKALIKE_LETTER for c in m.group(2)):
                part = m.group(1) + m.group(2).translate(TO_DIGIT)
        out.append(part)
    fixed = "".join(out)
    return IdRepair(fixed, fixed != value, False)
