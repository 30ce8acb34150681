"""Bank CSV exports: one header row, one row per booked line, in the bank's own language.

Banks export CSV in their locale, so nothing is assumed and everything is decided per
file, from the file:
- encoding: detected, never guessed (closeflow.bank.encoding): a byte order mark, else
  UTF-8, else whichever one of GBK/GB18030, Windows-1252 and ISO-8859-15 the detector
  proposes and the text reads as; a file whose encoding cannot be told is refused;
- header: the first of the first 20 lines that names a booking date and an amount
  (one signed amount, or debit/credit columns, or an amount with a debit/credit
  indicator), in English, German, French or Spanish; lines above it (account
  preambles) are ignored, unknown columns too;
- delimiter: `;`, `,`, tab or `|`, whichever splits the header into the most known names;
- decimals: comma or point, whichever the file's amounts are unambiguously written in
  (`-4,50` can only be a comma decimal, `100.00` only a point decimal); when all are
  ambiguous (`1.234`), a `;`-delimited file is taken as comma decimals. A value that fits
  neither (`12..34`) is rejected, never guessed;
- dates: the first of ISO, day.month.year, day/month/year, month/day/year, ... that reads
  every date of the column (so day/month wins where both fit, as in most of the world).
The account comes from an account column if there is one, else from the caller, else
from the file name's stem; the currency from a currency column, else a header suffix
(`Betrag (EUR)`), else the caller. Rows of several accounts or currencies become one
statement each. With a running-balance column the balances are derived and every row is
checked against the one before (in either date order); without one, the statement has no
balances and says so in a warning.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from closeflow.bank.encoding import BOMS, EncodingError, decode_text
from closeflow.bank.statement import (
    Balance,
    Entry,
    ParsedStatement,
    SourceFile,
    build_statement,
    money,
)

log = logging.getLogger(__name__)

NAME = "csv"
_DELIMITERS = (";", ",", "\t", "|")
_HEADER_SEARCH = 20

# canonical field -> header names, normalised (see _norm): lower case, no accents,
# punctuation as single spaces.
# fmt: off
_ALIASES: dict[str, tuple[str, ...]] = {
    "booking_date": (
        "booking date", "bookingdate", "date", "transaction date", "posting date",
        "posted date", "buchungstag", "buchungsdatum", "datum", "date operation",
        "date d operation", "date de l operation", "date comptable", "fecha",
        "fecha operacion", "fecha de operacion", "fecha contable", "f operacion",
    ),
    "value_date": (
        "value date", "valuta", "valutadatum", "wertstellung", "wertstellungsdatum",
        "date de valeur", "date valeur", "fecha valor", "fecha de valor", "f valor",
    ),
    "amount": ("amount", "betrag", "umsatz", "montant", "importe", "transaction amount"),
    "debit": (
        "debit", "debit amount", "soll", "belastung", "cargo", "cargos", "withdrawal",
        "withdrawals", "money out", "paid out", "montant debit",
    ),
    "credit": (
        "credit", "credit amount", "haben", "gutschrift", "abono", "abonos", "deposit",
        "deposits", "money in", "paid in", "montant credit",
    ),
    "sign": (
        "debit credit", "credit debit", "dr cr", "cr dr", "soll haben", "s h", "sens",
        "debe haber", "cdtdbtind",
    ),
    "currency": ("currency", "ccy", "waehrung", "wahrung", "devise", "moneda", "divisa"),
    "counterparty_name": (
        "counterparty name", "counterparty", "payee", "payer", "beneficiary", "name",
        "beguenstigter zahlungspflichtiger", "begunstigter zahlungspflichtiger",
        "auftraggeber begunstigter", "empfanger", "zahlungsempfanger", "beneficiaire",
        "tiers", "beneficiario", "ordenante",
    ),
    "counterparty_account": (
        "counterparty account", "counterparty iban", "kontonummer iban", "gegenkonto",
        "iban gegenkonto", "iban zahlungsempfanger", "compte contrepartie",
        "cuenta contrapartida", "cuenta beneficiario",
    ),
    "remittance_info": (
        "remittance info", "remittance information", "description", "details", "memo",
        "narrative", "purpose", "verwendungszweck", "libelle", "libelle operation", "motif",
        "concepto", "descripcion",
    ),
    "bank_reference": (
        "bank reference", "reference", "ref", "transaction id", "transaction reference",
        "referenz", "bankreferenz", "numero de reference", "referencia",
    ),
    "end_to_end_id": (
        "end to end id", "endtoendid", "end to end reference", "end to end referenz",
    ),
    "account_id": (
        "account id", "account", "account number", "iban", "konto", "kontonummer",
        "auftragskonto", "compte", "numero de compte", "cuenta", "numero de cuenta",
    ),
    "balance": ("balance", "running balance", "saldo", "kontostand", "solde"),
}
# fmt: on
_FIELD_OF = {alias: name for name, aliases in _ALIASES.items() for alias in aliases}
_MONEY_FIELDS = ("amount", "debit", "credit", "balance")

_POINT = re.compile(r"(?:\d{1,3}(?:([,' \u00a0\u202f])\d{3}(?:\1\d{3})*)|\d+)(?:\.\d+)?|\.\d+")
_COMMA = re.compile(r"(?:\d{1,3}(?:([.' \u00a0\u202f])\d{3}(?:\1\d{3})*)|\d+)(?:,\d+)?|,\d+")
_DEBIT_MARKS = {"S", "D", "DR", "DB", "DBIT", "DEBIT", "SOLL", "DEBE", "-"}
_CREDIT_MARKS = {"H", "C", "CR", "CRDT", "CREDIT", "HABEN", "HABER", "+"}
_DATE_FORMATS = (
    "%Y-%m-%d",
    "%d.%m.%Y",
    "%d/%m/%Y",
    "%m/%d/%Y",
    "%d-%m-%Y",
    "%Y/%m/%d",
    "%d.%m.%y",
    "%d/%m/%y",
    "%Y%m%d",
)


def _norm(header: str) -> str:
    text = unicodedata.normalize("NFKD", header.strip().strip('"').casefold())
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text).split())


@dataclass
class _Header:
    index: int  # 0-based line index of the header in the file
    delimiter: str
    columns: dict[str, int]  # canonical field -> column position
    width: int
    implied_currency: str | None


def _map_header(fields: list[str]) -> tuple[dict[str, int], str | None]:
    columns: dict[str, int] = {}
    implied = None
    for i, raw in enumerate(fields):
        name = _norm(raw)
        field = _FIELD_OF.get(name)
        if field is None:  # "Betrag (EUR)", "Amount EUR": an amount column naming its currency
            m = re.fullmatch(r"(.+) ([a-z]{3})", name)
            if m and _FIELD_OF.get(m.group(1)) in _MONEY_FIELDS:
                field, implied = _FIELD_OF[m.group(1)], m.group(2).upper()
        if field is not None and field not in columns:
            columns[field] = i
    return columns, implied


def _is_header(columns: dict[str, int]) -> bool:
    has_amount = "amount" in columns or "debit" in columns or "credit" in columns
    return "booking_date" in columns and has_amount


def _find_header(lines: list[str]) -> _Header | None:
    for index, line in enumerate(lines[:_HEADER_SEARCH]):
        best: _Header | None = None
        for delimiter in _DELIMITERS:
            if delimiter not in line:
                continue
            fields = next(csv.reader([line], delimiter=delimiter))
            columns, implied = _map_header(fields)
            if _is_header(columns) and (best is None or len(columns) > len(best.columns)):
                best = _Header(index, delimiter, columns, len(fields), implied)
        if best is not None:
            return best
    return None


def _lines(text: str) -> list[str]:
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _decode(src: SourceFile) -> list[str]:
    try:
        decoded = decode_text(src.data)
    except EncodingError as exc:
        raise src.error(None, str(exc)) from exc
    if decoded.encoding not in ("ascii", "utf-8", "utf-8-sig"):
        log.info("%s: text encoding detected as %s", src.path, decoded.encoding)
    return _lines(decoded.text)


def sniff(head: bytes) -> bool:
    """Text whose first lines hold a header naming a booking date and an amount."""
    if b"\x00" in head and not head.startswith(tuple(bom for bom, _ in BOMS)):
        return False
    try:
        text = decode_text(head, complete=False).text
    except EncodingError:
        # still a CSV export if its header shows through a byte-per-character reading; parse
        # then refuses it for its encoding instead of as a format closeflow does not read
        text = head.decode("latin-1")
    lines = _lines(text)
    return _find_header(lines[:-1] if len(lines) > 1 else lines) is not None


def _split_sign(raw: str) -> tuple[bool, str]:
    """(negative, unsigned body) of an amount as banks write it: -1, 1-, (1), −1, € 1."""
    text = raw.strip().replace("\u2212", "-")
    text = re.sub(r"^[€$£¥]\s*|\s*[€$£¥]$", "", text)
    negative = False
    if text.startswith("(") and text.endswith(")"):
        negative, text = True, text[1:-1].strip()
    if text and text[0] in "+-":
        negative, text = negative or text[0] == "-", text[1:].strip()
    elif text.endswith(("-", "+")):
        negative, text = negative or text[-1] == "-", text[:-1].strip()
    return negative, text


def _decimal_comma(samples: list[str], delimiter: str) -> bool:
    """Whether this file writes amounts with a decimal comma."""
    point_only = comma_only = 0
    for raw in samples:
        body = _split_sign(raw)[1]
        point, comma = bool(_POINT.fullmatch(body)), bool(_COMMA.fullmatch(body))
        point_only += point and not comma
        comma_only += comma and not point
    if point_only != comma_only:
        return comma_only > point_only
    return delimiter == ";"


def _to_decimal(raw: str, decimal_comma: bool) -> Decimal | None:
    negative, body = _split_sign(raw)
    pattern = _COMMA if decimal_comma else _POINT
    if not pattern.fullmatch(body):
        return None
    point = "," if decimal_comma else "."
    digits = "".join(c for c in body if c.isdigit() or c == point).replace(",", ".")
    value = Decimal(digits)
    return -value if negative else value


def _date_parser(samples: list[str]) -> Callable[[str], dt.date | None]:
    """A parser for the first date format that reads every sample (else the most)."""
    cleaned = [_date_text(s) for s in samples]

    def reads(fmt: str, s: str) -> bool:
        try:
            dt.datetime.strptime(s, fmt)
        except ValueError:
            return False
        return True

    best = max(
        _DATE_FORMATS, key=lambda f: (sum(reads(f, s) for s in cleaned), -_DATE_FORMATS.index(f))
    )

    def parse(raw: str) -> dt.date | None:
        try:
            return dt.datetime.strptime(_date_text(raw), best).date()
        except ValueError:
            return None

    return parse


def _date_text(raw: str) -> str:
    return raw.strip().split("T")[0].split(" ")[0]


@dataclass
class _Row:
    line: int
    cells: list[str]

    def get(self, columns: dict[str, int], field: str) -> str:
        i = columns.get(field)
        return self.cells[i].strip() if i is not None else ""


def _rows(src: SourceFile, lines: list[str], header: _Header) -> list[_Row]:
    reader = csv.reader(io.StringIO("\n".join(lines[header.index :])), delimiter=header.delimiter)
    next(reader)
    rows = []
    while True:
        start = header.index + reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise src.error(start, f"the row cannot be read as CSV ({exc})") from exc
        if not any(c.strip() for c in cells):
            continue
        if len(cells) == header.width + 1 and not cells[-1].strip():
            cells = cells[:-1]
        if len(cells) != header.width:
            raise src.error(
                start,
                f"the row has {len(cells)} fields but the header has {header.width}; "
                f"is a {header.delimiter!r} inside a value not quoted?",
            )
        rows.append(_Row(start, cells))
    return rows


def parse(src: SourceFile) -> list[ParsedStatement]:
    """One statement per account and currency in the file, in order of first appearance."""
    lines = _decode(src)
    header = _find_header(lines)
    if header is None:
        raise src.error(
            1, "no header row naming a booking date and an amount in the first 20 lines"
        )
    cols, header_line = header.columns, header.index + 1
    rows = _rows(src, lines, header)

    samples = [r.get(cols, f) for r in rows for f in _MONEY_FIELDS if r.get(cols, f)]
    decimal_comma = _decimal_comma(samples, header.delimiter)
    booking_date = _date_parser([r.get(cols, "booking_date") for r in rows])
    value_date = _date_parser([r.get(cols, "value_date") for r in rows])

    def amount_of(row: _Row, field: str) -> Decimal | None:
        raw = row.get(cols, field)
        if not raw:
            return None
        value = _to_decimal(raw, decimal_comma)
        if value is None:
            name = "amount" if field == "amount" else f"{field} amount"
            raise src.error(row.line, f"{name} {raw!r} is not a number")
        return money(src, row.line, value, field)

    groups: dict[tuple[str, str], list[tuple[Entry, Decimal | None]]] = {}
    warnings: list[str] = []
    for row in rows:
        raw_date = row.get(cols, "booking_date")
        amounts = {f: amount_of(row, f) for f in ("amount", "debit", "credit", "balance")}
        if not raw_date and all(amounts[f] is None for f in ("amount", "debit", "credit")):
            warnings.append(f"file line {row.line} has no date and no amount and was skipped")
            continue
        if not raw_date:
            raise src.error(row.line, "the row has no booking date")
        booked = booking_date(raw_date)
        if booked is None:
            raise src.error(row.line, f"booking date {raw_date!r} is not a date")
        valued = None
        if row.get(cols, "value_date"):
            valued = value_date(row.get(cols, "value_date"))
            if valued is None:
                raise src.error(
                    row.line, f"value date {row.get(cols, 'value_date')!r} is not a date"
                )
        amount = _signed_amount(src, row, cols, amounts)
        currency = row.get(cols, "currency").upper() or header.implied_currency or src.currency
        if not currency:
            raise src.error(
                header_line if "currency" not in cols else row.line,
                "no currency: the file has no currency column (Currency, Währung, Devise, "
                "Moneda) and none was given for the account",
            )
        if not re.fullmatch(r"[A-Z]{3}", currency):
            raise src.error(row.line, f"currency {currency!r} is not a currency code")
        account = row.get(cols, "account_id") or src.account_id or src.path.stem
        entry = Entry(
            booking_date=booked,
            value_date=valued,
            amount=amount,
            currency=currency,
            counterparty_name=row.get(cols, "counterparty_name") or None,
            counterparty_account=row.get(cols, "counterparty_account") or None,
            remittance_info=" ".join(row.get(cols, "remittance_info").split()) or None,
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


def _signed_amount(
    src: SourceFile, row: _Row, cols: dict[str, int], amounts: dict[str, Decimal | None]
) -> Decimal:
    amount, debit, credit = amounts["amount"], amounts["debit"], amounts["credit"]
    if amount is not None:
        mark = row.get(cols, "sign").upper()
        if not mark:
            return amount
        if mark in _DEBIT_MARKS:
            return -abs(amount)
        if mark in _CREDIT_MARKS:
            return abs(amount)
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
