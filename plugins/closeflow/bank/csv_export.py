"""Bank CSV exports: a header row (after any preamble), one row per booked line, any language.

A file is read through a mapping (closeflow.bank.mappings: a YAML file per bank layout,
shipped or the user's own, or the one named with `--mapping`) when one names it, else by
the generic reader, which recognises the usual column names. Banks export CSV in their
locale, so nothing is assumed and everything is decided per file, from the whole file:
- encoding: detected, never guessed (closeflow.bank.encoding): a byte order mark, else
  UTF-8, else whichever one of GBK/GB18030, Windows-1252 and ISO-8859-15 the detector
  proposes and the text reads as; a file whose encoding cannot be told is refused;
- header: the first of the first 60 lines that names a booking date and an amount (one
  signed amount, or debit/credit columns such as 收入/支出, or an amount with a
  debit/credit marker column such as D/C, S/H, 借贷标志), in English, German, French,
  Spanish, Italian, Dutch or Chinese; lines above it (account preambles, Alipay's 24
  lines) are kept only as evidence for the date order, unknown columns are ignored. Where
  several columns could hold one field (ICBC's 交易金额 and 记账金额), the more specific name
  wins; all the text columns (摘要 and 客户摘要, Buchungstext and Verwendungszweck) are kept,
  joined;
- delimiter: `;`, `,`, tab or `|`, whichever splits the header into the most known names;
- decimals: comma or point, whichever the file's amounts are unambiguously written in
  (`-4,50` can only be a comma decimal, `100.00` only a point decimal); when all are
  ambiguous (`1.234`), a `;`-delimited file is taken as comma decimals. In a currency
  without minor unit (JPY, KRW) both are digit grouping. A value that fits neither
  (`12..34`) is rejected, never guessed;
- dates: ISO, `20240131`, `2024年1月31日`, `31 Jan 2024`, day.month.year (no locale
  writes the month first with dots), and day/month/year or month/day/year with `/` or
  `-`. The order is decided from the whole file: an order
  that cannot read a date (a day above 12 anywhere, in any date column or in the
  preamble's statement period) is out; when day-first and month-first both read every
  date differently, the one whose dates all fall in the statement period given above the
  header wins, else the one in which the booking dates run in order (oldest or newest
  first); when nothing decides, the file is refused with the reason. A mapping may name
  the format instead;
- amounts: a signed amount; or debit and credit columns; or an amount with a marker
  column (D/C, S/H, 借/贷, 收入/支出, Af/Bij; a mapping adds its bank's words, and values of
  rows that moved no money, such as Alipay's 不计收支); a cell of `-` is empty;
- rows left out, each with a warning: total rows (人民币合计, Total, Summe) and rows a
  mapping's `skip_rows` names (Alipay's 交易关闭, a closed trade that moved no money).
The account comes from an account column if there is one, else from the caller, else
from the file name's stem; the currency from a currency column (ISO code or the Chinese
name, 人民币), else the mapping, else a header suffix (`Betrag (EUR)`), else the caller.
Rows of several accounts or currencies become one statement each. With a running-balance
column the balances are derived and every row is checked against the one before (in
either date order); a balance column that holds no number at all (masked, `xx,yyyy.zz`)
is ignored with a warning; without one, the statement has no balances and says so.

Memory: the file's bytes and text are held once, and the rows are read twice as a stream
(once to decide the date order and decimals, once to read them); only the lines read are
kept.
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from closeflow.bank import mappings as mapping_files
from closeflow.bank.encoding import BOMS, EncodingError, decode_text
from closeflow.bank.mappings import BankMapping, norm
from closeflow.bank.statement import (
    Balance,
    Entry,
    ParsedStatement,
    SourceFile,
    build_statement,
    minor_units,
    money,
)

log = logging.getLogger(__name__)

NAME = "csv"
_DELIMITERS = (";", ",", "\t", "|")
_HEADER_SEARCH = 60

# canonical field -> header names, normalised (see mappings.norm): lower case, no accents,
# punctuation as single spaces. Within a field, earlier names are preferred when a header
# has several columns for it.
# fmt: off
_ALIASES: dict[str, tuple[str, ...]] = {
    "booking_date": (
        "booking date", "bookingdate", "date", "transaction date", "posting date",
        "posted date", "buchungstag", "buchungsdatum", "datum", "date operation",
        "date d operation", "date de l operation", "date comptable", "fecha",
        "fecha operacion", "fecha de operacion", "fecha contable", "f operacion",
        "data contabile", "data operazione", "data", "boekdatum", "transactiedatum",
        "记账日期", "交易日期", "入账日期", "交易时间", "记账时间", "交易日", "日期", "发生日期",
    ),
    "value_date": (
        "value date", "valuta", "valutadatum", "wertstellung", "wertstellungsdatum",
        "date de valeur", "date valeur", "fecha valor", "fecha de valor", "f valor",
        "data valuta", "rentedatum", "起息日", "起息日期",
    ),
    "amount": (
        "amount", "betrag", "umsatz", "montant", "importe", "transaction amount", "importo",
        "bedrag", "bedrag eur", "交易金额", "发生额", "金额", "交易金额 元", "金额 元",
    ),
    "debit": (
        "debit", "debit amount", "soll", "belastung", "cargo", "cargos", "withdrawal",
        "withdrawals", "money out", "paid out", "montant debit", "dare", "uscite",
        "记账金额 支出", "支出金额", "支出", "借方发生额", "借方金额", "支取金额", "支出 元",
        "交易金额 支出",
    ),
    "credit": (
        "credit", "credit amount", "haben", "gutschrift", "abono", "abonos", "deposit",
        "deposits", "money in", "paid in", "montant credit", "avere", "entrate",
        "记账金额 收入", "收入金额", "收入", "贷方发生额", "贷方金额", "存入金额", "存入",
        "收入 元", "交易金额 收入",
    ),
    "sign": (
        "debit credit", "credit debit", "dr cr", "cr dr", "d c", "c d", "soll haben", "s h",
        "sens", "debe haber", "cdtdbtind", "af bij", "借贷标志", "借贷", "借贷状态", "借贷方向",
        "收 支", "收支", "交易方向", "收支类型",
    ),
    "currency": (
        "currency", "ccy", "waehrung", "wahrung", "devise", "moneda", "divisa", "valuta eur",
        "munt", "记账币种", "币种", "货币", "币别", "交易币种",
    ),
    "counterparty_name": (
        "counterparty name", "counterparty", "payee", "payer", "beneficiary", "name",
        "partner name", "partner", "payee name", "payer name", "beneficiary name",
        "other party", "merchant", "beguenstigter zahlungspflichtiger",
        "begunstigter zahlungspflichtiger", "auftraggeber begunstigter", "empfanger",
        "zahlungsempfanger", "name zahlungsbeteiligter", "auftraggeber empfanger",
        "beneficiaire", "tiers", "nom du tiers", "beneficiario", "ordenante",
        "naam omschrijving", "naam tegenpartij", "naam", "对方户名", "对方名称", "交易对方",
        "对方账户名", "对方户名称", "收 付款方", "对手信息", "对方",
    ),
    "counterparty_account": (
        "counterparty account", "counterparty iban", "kontonummer iban", "gegenkonto",
        "iban gegenkonto", "iban zahlungsempfanger", "iban zahlungsbeteiligter",
        "compte contrepartie", "cuenta contrapartida", "cuenta beneficiario", "tegenrekening",
        "tegenrekening iban", "对方账号", "对方账户", "对方卡号", "对方帐号",
    ),
    "remittance_info": (
        "remittance info", "remittance information", "description", "details", "memo",
        "narrative", "purpose", "payment text", "payment details", "payment reference",
        "transaction text", "booking text", "text", "verwendungszweck", "buchungstext",
        "vorgang", "libelle", "libelle operation", "motif", "concepto", "descripcion",
        "descrizione", "causale", "omschrijving", "mededelingen", "摘要", "交易摘要", "用途",
        "附言", "交易附言", "备注", "客户摘要", "交易详情", "商品说明", "交易说明", "摘要说明",
    ),
    "bank_reference": (
        "bank reference", "reference", "ref", "transaction id", "transaction reference",
        "referenz", "bankreferenz", "numero de reference", "referencia", "riferimento",
        "流水号", "交易流水号", "交易单号", "交易订单号", "凭证号", "业务编号",
    ),
    "end_to_end_id": (
        "end to end id", "endtoendid", "end to end reference", "end to end referenz",
    ),
    "account_id": (
        "account id", "account", "account number", "iban", "konto", "kontonummer",
        "auftragskonto", "compte", "numero de compte", "cuenta", "numero de cuenta",
        "rekening", "rekeningnummer", "本方账号", "账号", "卡号",
    ),
    "balance": (
        "balance", "running balance", "saldo", "kontostand", "solde", "saldo na mutatie",
        "余额", "账户余额", "交易后余额", "联机余额", "本次余额",
    ),
}
# fmt: on
_FIELD_OF = {
    alias: (name, rank) for name, aliases in _ALIASES.items() for rank, alias in enumerate(aliases)
}
_MONEY_FIELDS = ("amount", "debit", "credit", "balance")
_TEXT_FIELDS = ("remittance_info",)  # every column found is kept, joined

_POINT = re.compile(r"(?:\d{1,3}(?:([,' \u00a0\u202f])\d{3}(?:\1\d{3})*)|\d+)(?:\.\d+)?|\.\d+")
_COMMA = re.compile(r"(?:\d{1,3}(?:([.' \u00a0\u202f])\d{3}(?:\1\d{3})*)|\d+)(?:,\d+)?|,\d+")
_GROUPED = re.compile(r"\d{1,3}(?:([.,' \u00a0\u202f])\d{3}(?:\1\d{3})*)|\d+")
_DEBIT_MARKS = {
    "S", "D", "DR", "DB", "DBIT", "DEBIT", "SOLL", "DEBE", "-", "AF", "借", "借方", "支出",
    "支", "出", "付", "付款",
}  # fmt: skip
_CREDIT_MARKS = {
    "H", "C", "CR", "CRDT", "CREDIT", "HABEN", "HABER", "+", "BIJ", "贷", "贷方", "收入",
    "收", "入", "存", "收款",
}  # fmt: skip
_EMPTY = {"-", "--", "—", "/", "N/A", "n/a"}
_CURRENCY_NAMES = {
    "人民币": "CNY", "RMB": "CNY", "美元": "USD", "港币": "HKD", "港元": "HKD", "欧元": "EUR",
    "日元": "JPY", "英镑": "GBP", "澳元": "AUD", "澳大利亚元": "AUD", "加元": "CAD",
    "加拿大元": "CAD", "新加坡元": "SGD", "瑞士法郎": "CHF", "韩元": "KRW", "新台币": "TWD",
    "€": "EUR", "£": "GBP", "¥": "CNY",
}  # fmt: skip
_TOTAL = re.compile(r"合计|总计|小计|\btotals?\b|\bsumme\b|\bgesamt|\btotaal\b|sous total", re.I)
_MONTHS = {
    name: n
    for n, names in enumerate(
        (
            ("jan", "january", "januar", "janvier", "enero", "gennaio", "januari"),
            ("feb", "february", "februar", "fevrier", "febrero", "febbraio", "februari"),
            ("mar", "march", "marz", "maerz", "mars", "marzo", "maart", "mrt"),
            ("apr", "april", "avril", "abril", "aprile"),
            ("may", "mai", "mayo", "maggio", "mei"),
            ("jun", "june", "juni", "juin", "junio", "giugno"),
            ("jul", "july", "juli", "juillet", "julio", "luglio"),
            ("aug", "august", "aout", "agosto", "augustus"),
            ("sep", "sept", "september", "septembre", "septiembre", "settembre"),
            ("oct", "october", "oktober", "octobre", "octubre", "ottobre", "okt"),
            ("nov", "november", "novembre", "noviembre"),
            ("dec", "december", "dezember", "decembre", "diciembre", "dicembre", "dez"),
        ),
        start=1,
    )
    for name in names
}


@dataclass
class _Layout:
    index: int  # 0-based line index of the header in the file; -1: the file has none
    delimiter: str
    columns: dict[str, list[int]]  # canonical field -> column positions (0-based)
    width: int | None
    implied_currency: str | None = None
    mapping: BankMapping | None = None
    names: list[str] = field(default_factory=list)  # the header's cells

    @property
    def header_line(self) -> int:
        return self.index + 1 if self.index >= 0 else 1


def _map_header(fields: list[str]) -> tuple[dict[str, list[int]], str | None]:
    best: dict[str, tuple[int, int]] = {}  # field -> (rank, position)
    texts: dict[str, list[int]] = {}
    implied = None
    for i, raw in enumerate(fields):
        name = norm(raw)
        found = _FIELD_OF.get(name)
        if found is None:  # "Betrag (EUR)", "Amount EUR": an amount column naming its currency
            m = re.fullmatch(r"(.+) ([a-z]{3})", name)
            if m and _FIELD_OF.get(m.group(1), ("",))[0] in _MONEY_FIELDS:
                found, implied = _FIELD_OF[m.group(1)], m.group(2).upper()
        if found is None:
            continue
        fld, rank = found
        if fld in _TEXT_FIELDS:
            texts.setdefault(fld, []).append(i)
        elif fld not in best or rank < best[fld][0]:
            best[fld] = (rank, i)
    columns = {fld: [i] for fld, (_, i) in best.items()}
    columns.update(texts)
    return columns, implied


def _is_header(columns: dict[str, list[int]]) -> bool:
    has_amount = "amount" in columns or "debit" in columns or "credit" in columns
    return "booking_date" in columns and has_amount


def _split(line: str, delimiter: str) -> list[str]:
    try:
        return next(csv.reader([line], delimiter=delimiter))
    except (csv.Error, StopIteration):
        return []


def _find_header(lines: list[str]) -> _Layout | None:
    for index, line in enumerate(lines[:_HEADER_SEARCH]):
        best: _Layout | None = None
        for delimiter in _DELIMITERS:
            if delimiter not in line:
                continue
            fields = _split(line, delimiter)
            columns, implied = _map_header(fields)
            if _is_header(columns) and (best is None or len(columns) > len(best.columns)):
                best = _Layout(index, delimiter, columns, len(fields), implied, None, fields)
        if best is not None:
            return best
    return None


def _mapping_layout(
    src: SourceFile, m: BankMapping, lines: list[str], chosen: bool
) -> _Layout | None:
    """The layout `m` gives this file; None when `m` does not match it (unless `chosen`,
    when anything missing is an error naming the column)."""
    label = f"bank mapping {m.name!r} ({m.path})" if m.path else f"bank mapping {m.name!r}"
    refs = m.columns.refs()
    if not m.header:
        first = next((ln for ln in lines if ln.strip()), "")
        delimiter = m.delimiter or max(_DELIMITERS, key=first.count)
        columns = {f: [r - 1 for r in rs if isinstance(r, int)] for f, rs in refs.items()}
        return _Layout(-1, delimiter, columns, None, None, m, [])
    wanted = [norm(h) for h in m.match.header]
    if not chosen and not wanted:
        return None  # a mapping without match.header is used only when named
    named = [norm(r) for rs in refs.values() for r in rs if isinstance(r, str)]
    for index, line in enumerate(lines[:_HEADER_SEARCH]):
        for delimiter in [m.delimiter] if m.delimiter else _DELIMITERS:
            if delimiter not in line:
                continue
            cells = _split(line, delimiter)
            have = [norm(c) for c in cells]
            need = wanted or named[:1]
            if not need or not all(w in have for w in need):
                continue
            above = "\n".join(lines[:index])
            if not chosen and not all(word in above for word in m.match.text):
                return None
            if not chosen and not all(n in have for n in named):
                return None  # a column it names is missing: not this layout
            columns: dict[str, list[int]] = {}
            for fld, rs in refs.items():
                for r in rs:
                    if isinstance(r, int):
                        if r > len(cells):
                            raise src.error(
                                index + 1,
                                f"{label}: column {r} of {fld} is beyond the header's "
                                f"{len(cells)} columns",
                            )
                        columns.setdefault(fld, []).append(r - 1)
                    elif norm(r) in have:
                        columns.setdefault(fld, []).append(have.index(norm(r)))
                    else:
                        raise src.error(
                            index + 1,
                            f"{label}: column {r!r} ({fld}) is not in the header row; "
                            f"the header has: {', '.join(c.strip() for c in cells if c.strip())}",
                        )
            return _Layout(index, delimiter, columns, len(cells), None, m, cells)
    if chosen:
        need = m.match.header or [r for rs in refs.values() for r in rs if isinstance(r, str)]
        raise src.error(
            1,
            f"{label}: no header row with the columns {', '.join(map(str, need))} in the "
            f"first {_HEADER_SEARCH} lines",
        )
    return None


def _layout(src: SourceFile, lines: list[str]) -> _Layout | None:
    from closeflow.config import ConfigError

    try:
        if src.mapping is not None:
            chosen = mapping_files.load(src.mapping)
            return _mapping_layout(src, chosen, lines, chosen=True)
        for m in mapping_files.available(src.mapping_dirs):
            found = _mapping_layout(src, m, lines, chosen=False)
            if found is not None:
                return found
    except ConfigError as exc:
        raise src.error(None, f"a bank mapping cannot be used: {exc}") from exc
    return _find_header(lines)


def _decode(src: SourceFile) -> str:
    try:
        decoded = decode_text(src.data)
    except EncodingError as exc:
        raise src.error(None, str(exc)) from exc
    if decoded.encoding not in ("ascii", "utf-8", "utf-8-sig"):
        log.info("%s: text encoding detected as %s", src.path, decoded.encoding)
    text = decoded.text
    if "\n" not in text and "\r" in text:  # old Mac line ends
        text = text.replace("\r", "\n")
    return text


def _head_lines(text: str, n: int = _HEADER_SEARCH + 1) -> list[str]:
    lines = list(itertools.islice(_iter_lines(text, 0), n))
    return [ln.rstrip("\r\n") for ln in lines]


def _iter_lines(text: str, start_line: int) -> Iterator[str]:
    """The file's lines from the 0-based `start_line` on, with their line ends, as a stream."""
    pos, n, size = 0, 0, len(text)
    while pos < size:
        end = text.find("\n", pos)
        end = size if end < 0 else end + 1
        if n >= start_line:
            yield text[pos:end]
        pos, n = end, n + 1


def sniff(head: bytes) -> bool:
    """Text whose first lines hold a header naming a booking date and an amount, or that
    a mapping file names."""
    if b"\x00" in head and not head.startswith(tuple(bom for bom, _ in BOMS)):
        return False
    try:
        text = decode_text(head, complete=False).text
    except EncodingError:
        # still a CSV export if its header shows through a byte-per-character reading; parse
        # then refuses it for its encoding instead of as a format closeflow does not read
        text = head.decode("latin-1")
    lines = _head_lines(text)
    lines = lines[:-1] if len(lines) > 1 else lines
    if _find_header(lines) is not None:
        return True
    try:
        probe = SourceFile(Path("<sniff>"), b"", "")
        return any(
            _mapping_layout(probe, m, lines, chosen=False) is not None
            for m in mapping_files.available()
        )
    except Exception:  # noqa: BLE001 - a broken mapping file is reported when parsing
        return False


def _split_sign(raw: str) -> tuple[bool, str]:
    """(negative, unsigned body) of an amount as banks write it: -1, 1-, (1), −1, € 1."""
    text = raw.strip().replace("\u2212", "-")
    text = re.sub(r"^[€$£¥￥]\s*|\s*[€$£¥￥元]$", "", text)
    negative = False
    if text.startswith("(") and text.endswith(")"):
        negative, text = True, text[1:-1].strip()
    if text and text[0] in "+-":
        negative, text = negative or text[0] == "-", text[1:].strip()
    elif text.endswith(("-", "+")):
        negative, text = negative or text[-1] == "-", text[:-1].strip()
    return negative, text


def _to_decimal(raw: str, decimal_comma: bool, whole: bool = False) -> Decimal | None:
    """The amount `raw` says; `whole`: a currency without minor unit (all separators group)."""
    negative, body = _split_sign(raw)
    if whole and _GROUPED.fullmatch(body):
        value = Decimal("".join(c for c in body if c.isdigit()))
        return -value if negative else value
    pattern = _COMMA if decimal_comma else _POINT
    if not pattern.fullmatch(body):
        return None
    point = "," if decimal_comma else "."
    digits = "".join(c for c in body if c.isdigit() or c == point).replace(",", ".")
    value = Decimal(digits)
    return -value if negative else value


# --- dates --------------------------------------------------------------------------

_ORDERS = ("YMD", "DMY", "MDY")
_NUMERIC_DATE = re.compile(r"(\d{1,4})([./-])(\d{1,2})\2(\d{1,4})(?:[ T,].*)?")
_CJK_DATE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?(?:\s.*)?")
_COMPACT_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})(?:[ T]?\d{2}:?\d{2}(?::?\d{2})?.*)?")
_NAMED_DMY = re.compile(r"(\d{1,2})[ ./-]+([^\W\d_]{3,9})\.?[ ./,-]+(\d{2,4})(?:\s.*)?")
_NAMED_MDY = re.compile(r"([^\W\d_]{3,9})\.?[ ./-]+(\d{1,2}),?[ ./-]+(\d{2,4})(?:\s.*)?")
_DATE_TOKEN = re.compile(r"\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}|\d{1,4}[./-]\d{1,2}[./-]\d{1,4}")


def _year(text: str) -> int:
    return int(text) + (2000 if len(text) == 2 else 0)


def _read_date(raw: str, order: str) -> dt.date | None:
    """`raw` as a date when the day, month and year are in `order` (order does not matter
    for ISO-like, compact, Chinese and month-name dates)."""
    text = raw.strip()
    try:
        if m := _COMPACT_DATE.fullmatch(text):
            return dt.date(int(m[1]), int(m[2]), int(m[3]))
        if m := _CJK_DATE.fullmatch(text):
            return dt.date(int(m[1]), int(m[2]), int(m[3]))
        if m := _NUMERIC_DATE.fullmatch(text):
            a, sep, b, c = m[1], m[2], m[3], m[4]
            if len(a) == 4:
                return dt.date(int(a), int(b), int(c)) if len(c) <= 2 else None
            if len(c) not in (2, 4) or len(a) > 2:
                return None
            if order == "DMY":
                return dt.date(_year(c), int(b), int(a))
            if order == "MDY" and sep != ".":  # no locale writes month.day.year
                return dt.date(_year(c), int(a), int(b))
            return None
        if m := _NAMED_DMY.fullmatch(text):
            month = _MONTHS.get(norm(m[2]))
            return dt.date(_year(m[3]), month, int(m[1])) if month else None
        if m := _NAMED_MDY.fullmatch(text):
            month = _MONTHS.get(norm(m[1]))
            return dt.date(_year(m[3]), month, int(m[2])) if month else None
    except ValueError:
        return None
    return None


@dataclass
class _OrderState:
    read: int = 0
    failed: int = 0
    previous: dt.date | None = None
    ascending: bool = True
    descending: bool = True
    dates_min: dt.date | None = None
    dates_max: dt.date | None = None


class _DateOrder:
    """Decides, from every date of the file, whether it writes day or month first."""

    def __init__(self) -> None:
        self.states = {o: _OrderState() for o in _ORDERS}
        self.differ: tuple[int, str] | None = None  # first date the orders read apart
        self.period: list[str] = []

    def feed(self, raw: str, line: int, booking: bool) -> None:
        readings = {}
        for order, st in self.states.items():
            d = _read_date(raw, order)
            if d is None:
                st.failed += 1
                continue
            st.read += 1
            readings[order] = d
            if booking:
                if st.previous is not None:
                    st.ascending &= d >= st.previous
                    st.descending &= d <= st.previous
                st.previous = d
                st.dates_min = min(st.dates_min or d, d)
                st.dates_max = max(st.dates_max or d, d)
        if self.differ is None and len(set(readings.values())) > 1:
            self.differ = (line, raw.strip())

    def _in_period(self, order: str) -> bool:
        """Whether, read in `order`, every booking date is within the period above the
        header (False when there is no period, or it does not read in `order`)."""
        ends = [_read_date(p, order) for p in self.period]
        st = self.states[order]
        if len(ends) < 2 or None in ends or st.dates_min is None:
            return False
        return min(ends) <= st.dates_min and st.dates_max <= max(ends)

    def decide(self, src: SourceFile, column: str) -> str:
        full = [o for o, st in self.states.items() if st.failed == 0 and st.read]
        if not full:  # the best reader; rows it cannot read are refused one by one
            return max(_ORDERS, key=lambda o: self.states[o].read)
        if len(full) == 1 or self.differ is None or not ({"DMY", "MDY"} <= set(full)):
            return full[0]
        inside = [o for o in ("DMY", "MDY") if self._in_period(o)]
        if len(inside) == 1:  # the statement period above the header
            return inside[0]
        ordered = [
            o for o in ("DMY", "MDY") if self.states[o].ascending or self.states[o].descending
        ]
        if len(ordered) == 1:  # booking dates that run in order one way only
            return ordered[0]
        line, raw = self.differ
        raise src.error(
            line,
            f"the dates ({column}) can be read day first or month first ({raw!r}: "
            f"{_read_date(raw, 'DMY'):%d %B %Y} or {_read_date(raw, 'MDY'):%d %B %Y}), and "
            "nothing in the file decides: no day above 12, no statement period, and the "
            "dates are in order either way"
            + ("" if ordered else " or in neither")
            + "; give the format in a bank mapping (date_order: DMY or MDY)",
        )


def _date_reader(mapping: BankMapping | None, order: str):
    formats = mapping.date_formats if mapping else []

    def read(raw: str) -> dt.date | None:
        text = raw.strip()
        for fmt in formats:
            try:
                return dt.datetime.strptime(text, fmt).date()
            except ValueError:
                continue
        return None if formats else _read_date(text, order)

    return read


# --- rows ---------------------------------------------------------------------------


@dataclass
class _Row:
    line: int
    cells: list[str]

    def get(self, columns: dict[str, list[int]], field: str) -> str:
        """The field's value: the first filled column of it (texts: all, joined)."""
        values = []
        for i in columns.get(field, ()):
            v = " ".join(self.cells[i].split()) if i < len(self.cells) else ""
            if v in _EMPTY and field != "sign":
                v = ""
            if v and v not in values:
                if field not in _TEXT_FIELDS:
                    return v
                values.append(v)
        return " ".join(values)


def _rows(src: SourceFile, text: str, layout: _Layout) -> Iterator[_Row]:
    start = layout.index + 1
    reader = csv.reader(_iter_lines(text, start), delimiter=layout.delimiter)
    width = layout.width
    while True:
        line = start + reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise src.error(line, f"the row cannot be read as CSV ({exc})") from exc
        if not any(c.strip() for c in cells):
            continue
        if cells[0].strip()[:3] in ("---", "===", "***") and not any(c.strip() for c in cells[1:]):
            continue  # a separator line after the table
        if width is None:
            width = len(cells)
        while len(cells) > width and not cells[-1].strip():
            cells = cells[:-1]
        if len(cells) < width and layout.mapping is not None and len(cells) > 1:
            cells = cells + [""] * (width - len(cells))
        if len(cells) != width and any(_TOTAL.search(c) for c in cells):
            cells = (cells + [""] * width)[:width]  # a total row: recognised and left out later
        if len(cells) != width:
            raise src.error(
                line,
                f"the row has {len(cells)} fields but the header has {width}; "
                f"is a {layout.delimiter!r} inside a value not quoted?",
            )
        yield _Row(line, cells)


@dataclass
class _Marks:
    debit: set[str]
    credit: set[str]
    ignore: set[str]

    @classmethod
    def of(cls, mapping: BankMapping | None) -> _Marks:
        extra = mapping.signs if mapping else None

        def up(values: list[str]) -> set[str]:
            return {" ".join(v.split()).upper() for v in values}

        return cls(
            _DEBIT_MARKS | (up(extra.debit) if extra else set()),
            _CREDIT_MARKS | (up(extra.credit) if extra else set()),
            up(extra.ignore) if extra else set(),
        )


def _skip_rules(src: SourceFile, layout: _Layout) -> list[tuple[int, set[str], str]]:
    m = layout.mapping
    if m is None or not m.skip_rows:
        return []
    have = [norm(c) for c in layout.names]
    rules = []
    for column, values in m.skip_rows.items():
        if norm(column) not in have:
            raise src.error(
                layout.header_line,
                f"bank mapping {m.name!r}: skip_rows column {column!r} is not in the header row",
            )
        rules.append((have.index(norm(column)), {" ".join(v.split()) for v in values}, column))
    return rules


def _is_total(row: _Row, cols: dict[str, list[int]], read_date) -> bool:
    raw = row.get(cols, "booking_date")
    return (not raw or read_date(raw) is None) and any(_TOTAL.search(c) for c in row.cells)


def _currency_code(raw: str) -> str:
    text = " ".join(raw.split())
    return _CURRENCY_NAMES.get(text, text.upper())


def parse(src: SourceFile) -> list[ParsedStatement]:
    """One statement per account and currency in the file, in order of first appearance."""
    text = _decode(src)
    head = _head_lines(text)
    layout = _layout(src, head)
    if layout is None:
        raise src.error(
            1,
            f"no header row naming a booking date and an amount in the first {_HEADER_SEARCH} "
            "lines, and no bank mapping names the file; add one (closeflow.bank.mappings)",
        )
    cols, header_line, mapping = layout.columns, layout.header_line, layout.mapping
    skip = _skip_rules(src, layout)
    marks = _Marks.of(mapping)

    def skipped(row: _Row) -> str | None:
        for i, values, column in skip:
            if " ".join(row.cells[i].split()) in values:
                return f"{column} is {' '.join(row.cells[i].split())}"
        mark = row.get(cols, "sign").upper()
        if "sign" in cols and mark in marks.ignore:
            return f"it is marked {mark or 'with no direction'}, which moves no money"
        return None

    # pass 1: what the whole file says about its dates, decimals and balance column
    order = _DateOrder()
    order.period = _DATE_TOKEN.findall("\n".join(head[: max(layout.index, 0)]))
    for token in order.period:
        order.feed(token, header_line, booking=False)
    point_only = comma_only = 0
    balance_numbers = balance_cells = 0
    currencies = {c for c in (mapping and mapping.currency, layout.implied_currency) if c}
    probe = _date_reader(mapping, "YMD")
    for row in _rows(src, text, layout):
        if skipped(row) or _is_total(row, cols, lambda r: _read_date(r, "DMY") or probe(r)):
            continue
        for fld, booking in (("booking_date", True), ("value_date", False)):
            raw = row.get(cols, fld)
            if raw:
                order.feed(raw, row.line, booking)
        for fld in _MONEY_FIELDS:
            raw = row.get(cols, fld)
            if not raw:
                continue
            body = _split_sign(raw)[1]
            point, comma = bool(_POINT.fullmatch(body)), bool(_COMMA.fullmatch(body))
            point_only += point and not comma
            comma_only += comma and not point
            if fld == "balance":
                balance_cells += 1
                balance_numbers += point or comma
        if ccy := row.get(cols, "currency"):
            currencies.add(_currency_code(ccy))
    if not currencies and src.currency:
        currencies.add(src.currency)
    whole = bool(currencies) and all(minor_units(c) == 0 for c in currencies)
    if mapping and mapping.decimal:
        decimal_comma = mapping.decimal == ","
    elif point_only != comma_only:
        decimal_comma = comma_only > point_only
    else:
        decimal_comma = layout.delimiter == ";"
    if mapping and mapping.date_order:
        date_order = mapping.date_order
    elif mapping and mapping.date_formats:
        date_order = "YMD"
    else:
        date_order = order.decide(src, _column_name(layout, "booking_date"))
    read_date = _date_reader(mapping, date_order)
    warnings: list[str] = []
    if balance_cells and not balance_numbers:
        warnings.append(
            f"the balance column ({_column_name(layout, 'balance')}) holds no numbers "
            "(masked?) and was not used"
        )
        cols = {k: v for k, v in cols.items() if k != "balance"}

    def amount_of(row: _Row, fld: str, currency: str) -> Decimal | None:
        raw = row.get(cols, fld)
        if not raw:
            return None
        value = _to_decimal(raw, decimal_comma, whole=minor_units(currency) == 0 or whole)
        if value is None:
            name = "amount" if fld == "amount" else f"{fld} amount"
            raise src.error(row.line, f"{name} {raw!r} is not a number")
        if mapping and mapping.invert_amounts and fld != "balance":
            value = -value
        return money(src, row.line, value, fld, currency)

    # pass 2: the lines
    groups: dict[tuple[str, str], list[tuple[Entry, Decimal | None]]] = {}
    for row in _rows(src, text, layout):
        why = skipped(row)
        if why:
            warnings.append(f"file line {row.line} was left out: {why}")
            continue
        if _is_total(row, cols, read_date):
            warnings.append(f"file line {row.line} is a total row and was left out")
            continue
        raw_date = row.get(cols, "booking_date")
        raw_ccy = row.get(cols, "currency")
        currency = (
            _currency_code(raw_ccy)
            if raw_ccy
            else (mapping and mapping.currency) or layout.implied_currency or src.currency
        )
        if not currency:
            raise src.error(
                header_line if "currency" not in cols else row.line,
                "no currency: the file has no currency column (Currency, Währung, Devise, "
                "Moneda, 币种) and none was given for the account",
            )
        if not re.fullmatch(r"[A-Z]{3}", currency):
            raise src.error(row.line, f"currency {raw_ccy or currency!r} is not a currency code")
        amounts = {f: amount_of(row, f, currency) for f in _MONEY_FIELDS}
        if not raw_date and all(amounts[f] is None for f in ("amount", "debit", "credit")):
            warnings.append(f"file line {row.line} has no date and no amount and was skipped")
            continue
        if not raw_date:
            raise src.error(row.line, "the row has no booking date")
        booked = read_date(raw_date)
        if booked is None:
            raise src.error(row.line, f"booking date {raw_date!r} is not a date")
        valued = None
        if row.get(cols, "value_date"):
            valued = read_date(row.get(cols, "value_date"))
            if valued is None:
                raise src.error(
                    row.line, f"value date {row.get(cols, 'value_date')!r} is not a date"
                )
        amount = _signed_amount(src, row, cols, amounts, marks)
        account = row.get(cols, "account_id") or src.account_id or src.path.stem
        entry = Entry(
            booking_date=booked,
            value_date=valued,
            amount=amount,
            currency=currency,
            counterparty_name=row.get(cols, "counterparty_name") or None,
            counterparty_account=row.get(cols, "counterparty_account") or None,
            remittance_info=row.get(cols, "remittance_info") or None,
            bank_reference=row.get(cols, "bank_reference") or None,
            end_to_end_id=row.get(cols, "end_to_end_id") or None,
            source_line=row.line,
        )
        groups.setdefault((account, currency), []).append((entry, amounts["balance"]))

    if not groups:
        raise src.error(header_line, "the file has a header but no bank lines")
    out = []
    for n, ((account, currency), items) in enumerate(groups.items()):
        entries = [e for e, _ in items]
        where = f"statement for account {account} ({currency})"
        opening, closing = _running_balances(src, items, where)
        out.append(
            build_statement(
                src,
                source_format=NAME,
                own_id=None,
                account_id=account,
                currency=currency,
                entries=entries,
                opening=opening,
                closing=closing,
                warnings=warnings if n == 0 else [],  # file-level notes go on the first
                where=where,
                line=header_line,
            )
        )
    return out


def _column_name_of(cols: dict[str, list[int]], row: _Row) -> str:
    return f"column {cols['sign'][0] + 1}"


def _column_name(layout: _Layout, fld: str) -> str:
    names = [
        layout.names[i].strip() if i < len(layout.names) else f"column {i + 1}"
        for i in layout.columns.get(fld, ())
    ]
    return ", ".join(names) or fld


def _signed_amount(
    src: SourceFile,
    row: _Row,
    cols: dict[str, list[int]],
    amounts: dict[str, Decimal | None],
    marks: _Marks,
) -> Decimal:
    amount, debit, credit = amounts["amount"], amounts["debit"], amounts["credit"]
    if amount is not None:
        if "sign" not in cols:
            return amount
        mark = row.get(cols, "sign").upper()
        if mark in marks.debit:
            return -abs(amount)
        if mark in marks.credit:
            return abs(amount)
        if not mark and amount < 0:
            return amount
        if not mark:
            raise src.error(
                row.line,
                f"the row has no debit/credit marker ({_column_name_of(cols, row)}), so its "
                "amount has no direction",
            )
        raise src.error(row.line, f"debit/credit indicator {mark!r} is neither debit nor credit")
    if debit and credit:
        raise src.error(
            row.line, f"the row has both a debit ({debit}) and a credit ({credit}) amount"
        )
    if credit is not None:
        return abs(credit)
    if debit is not None:
        return -abs(debit)
    raise src.error(row.line, "the row has no amount")


def _running_balances(
    src: SourceFile, items: list[tuple[Entry, Decimal | None]], where: str
) -> tuple[Balance | None, Balance | None]:
    """Opening and closing balance from a running-balance column, checked row by row."""
    if not items or any(b is None for _, b in items):
        return None, None
    first_error: tuple[int | None, str] | None = None
    for order in (items, items[::-1]):  # oldest first, or newest first
        bad = _chain_break(order)
        if bad is None:
            first, last = order[0], order[-1]
            ccy = first[0].currency
            opening = first[1] - first[0].amount
            return (
                Balance(opening, ccy, None, first[0].source_line),
                Balance(last[1], ccy, None, last[0].source_line),
            )
        first_error = first_error or bad
    line, message = first_error
    raise src.error(line, f"{where}: {message}")


def _chain_break(items: list[tuple[Entry, Decimal | None]]) -> tuple[int | None, str] | None:
    for (_, prev), (entry, balance) in zip(items, items[1:], strict=False):
        if prev + entry.amount != balance:
            return entry.source_line, (
                f"the running balance {balance:,.2f} does not follow from the one before: "
                f"{prev:,.2f} + {entry.amount:,.2f} = {prev + entry.amount:,.2f}"
            )
    return None
