"""BAI2 cash management balance reports (US banks: Citi, SVB, JPMorgan, Wells Fargo ...).

The records are read by the `bai2` library (ministryofjustice/bai2, MIT): it joins `88`
continuation records, knows the BAI2 type codes (which are credits, which debits, which
balances) and checks every control total and record count in the `49`/`98`/`99`
trailers, so a damaged or cut file is refused instead of read short. closeflow adds:
- one statement per account (`03`) of each group (`02`): a group is one as-of date, so a
  file of several days gives one statement per account and day; the lines' booking date
  is the group's as-of date (BAI2 detail records carry none) and a value-dated line
  (funds type `V`) gets its value date;
- amounts: BAI2 writes them without a decimal point, in the currency's minor unit (cents
  for USD, yen for JPY, fils for KWD); the currency is the account's (`03`), else the
  group's (`02`), else the caller's; a file that says none is refused;
- balances: opening ledger (`010`) and closing ledger (`015`) are the statement's opening
  and closing balance, and the lines must add up from one to the other; the account's
  total credits (`100`) and total debits (`400`), when given, must match the lines too;
- a detail type code says the direction (the library's table, else the BAI2 ranges:
  100-399 credits, 400-699 debits); a code that says neither is refused;
- the bank reference and customer reference of each `16` record, and its text.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from bai2 import bai2 as bai2_lib
from bai2.constants import TypeCodeTransaction
from bai2.exceptions import IntegrityException, NotSupportedYetException, ParsingException

from closeflow.bank.encoding import EncodingError, decode_text
from closeflow.bank.statement import (
    Balance,
    Draft,
    Entry,
    ParsedStatement,
    SourceFile,
    minor_units,
    money,
)

NAME = "bai2"
_CODES = ("01", "02", "03", "16", "49", "88", "98", "99")


def sniff(head: bytes) -> bool:
    """A BAI2 file header record (`01,`) followed by a group header (`02,`)."""
    lines = [ln.strip() for ln in head.lstrip(b"\xef\xbb\xbf").splitlines() if ln.strip()]
    return (
        len(lines) >= 2
        and lines[0].startswith(b"01,")
        and any(ln.startswith(b"02,") for ln in lines[1:5])
    )


def _numbered(src: SourceFile) -> list[tuple[int, str]]:
    try:
        text = decode_text(src.data).text
    except EncodingError as exc:
        raise src.error(None, str(exc)) from exc
    out = []
    for n, line in enumerate(text.removeprefix("\ufeff").splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        if line[:2] not in _CODES or line[2:3] != ",":
            raise src.error(n, f"{line[:20]!r} is not a BAI2 record (01, 02, 03, 16, 88, ...)")
        out.append((n, line))
    return out


def parse(src: SourceFile) -> list[ParsedStatement]:
    return [d.build(src) for d in read(src)]


def read(src: SourceFile) -> list[Draft]:
    numbered = _numbered(src)
    try:
        parsed = bai2_lib.parse_from_lines([line for _, line in numbered], check_integrity=True)
    except IntegrityException as exc:
        raise src.error(
            _trailer_line(numbered, str(exc)),
            f"the file's control totals do not match its records ({exc}): a record is "
            "missing or damaged",
        ) from exc
    except NotSupportedYetException as exc:
        code = re.search(r"'(\d+)'", str(exc))
        at = next(
            (n for n, ln in numbered if code and ln[:3] in ("03,", "16,") and code[1] in ln),
            None,
        )
        raise src.error(at, f"BAI2 {exc}") from exc
    except (ParsingException, ValueError, IndexError, StopIteration) as exc:
        raise src.error(
            None, f"the file cannot be read as BAI2 ({exc or type(exc).__name__})"
        ) from exc
    accounts = iter(n for n, ln in numbered if ln.startswith("03,"))
    details = iter(n for n, ln in numbered if ln.startswith("16,"))
    groups = iter(n for n, ln in numbered if ln.startswith("02,"))
    header = parsed.header
    drafts = []
    for group in parsed.children:
        group_line = next(groups)
        for account in group.children:
            drafts.append(
                _statement(src, header, group, account, group_line, next(accounts), details)
            )
    if not drafts:
        raise src.error(None, "the BAI2 file holds no account")
    return drafts


def _trailer_line(numbered: list[tuple[int, str]], message: str) -> int | None:
    expected = re.search(r"expected (-?\d+)", message)
    code = {"Account": "49,", "Group": "98,", "Bai2File": "99,"}.get(
        next((w for w in ("Account", "Group", "Bai2File") if f"for {w}" in message), ""), ""
    )
    for n, line in numbered:
        fields = line.rstrip("/").split(",")
        if code and line.startswith(code) and expected and expected[1] in fields:
            return n
    return None


def _statement(
    src: SourceFile,
    header: Any,
    group: Any,
    account: Any,
    group_line: int,
    account_line: int,
    details: Any,
) -> Draft:
    ident = account.header
    number = (ident.customer_account_number or "").strip() or src.account_id
    as_of: dt.date | None = group.header.as_of_date
    where = f"account {number} on {as_of.isoformat() if as_of else '?'}"
    if not number:
        raise src.error(account_line, "an account record (03) without an account number")
    if as_of is None:
        raise src.error(group_line, f"{where}: the group (02) has no as-of date")
    currency = (ident.currency or group.header.currency or src.currency or "").strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise src.error(
            account_line,
            f"{where}: the file does not say the account's currency (03 or 02 record); "
            "give it for the account",
        )
    scale = Decimal(10) ** -minor_units(currency)

    def amount(value: int | None, line: int, what: str) -> Decimal:
        return money(src, line, Decimal(value or 0) * scale, what, currency)

    summaries = {s.type_code.code: s for s in ident.summary_items if s.amount is not None}
    opening = closing = None
    if "010" in summaries:
        opening = Balance(
            amount(summaries["010"].amount, account_line, "opening ledger"),
            currency,
            as_of,
            account_line,
        )
    if "015" in summaries:
        closing = Balance(
            amount(summaries["015"].amount, account_line, "closing ledger"),
            currency,
            as_of,
            account_line,
        )
    entries = []
    for tx in account.children:
        line = next(details)
        code = tx.type_code
        direction = code.transaction
        if direction not in (TypeCodeTransaction.credit, TypeCodeTransaction.debit):
            n = int(code.code)
            direction = (
                TypeCodeTransaction.credit
                if 100 <= n < 400
                else TypeCodeTransaction.debit
                if 400 <= n < 700
                else None
            )
        if direction is None:
            raise src.error(
                line,
                f"{where}: type code {code.code} ({code.description}) does not say whether "
                "the line is a credit or a debit",
            )
        value = amount(tx.amount, line, "amount")
        if direction == TypeCodeTransaction.debit:
            value = -value
        avail = tx.availability if isinstance(tx.availability, dict) else {}
        text = " ".join((tx.text or "").split()) or None
        customer_ref = (tx.customer_reference or "").strip() or None
        entries.append(
            Entry(
                booking_date=as_of,
                value_date=avail.get("date"),
                amount=value,
                currency=currency,
                remittance_info=text or code.description,
                bank_reference=(tx.bank_reference or "").strip() or customer_ref,
                end_to_end_id=customer_ref if tx.bank_reference else None,
                source_line=line,
            )
        )
    for code, sign, what in (("100", 1, "credits"), ("400", -1, "debits")):
        total = summaries.get(code)
        if total is None or (total.amount == 0 and not total.item_count and not entries):
            continue
        mine = [e.amount for e in entries if (e.amount > 0) == (sign > 0) and e.amount]
        given = amount(total.amount, account_line, f"total {what}")
        counted = total.item_count
        if abs(sum(mine)) != given or (counted is not None and counted != len(mine)):
            raise src.error(
                account_line,
                f"{where}: the account's total {what} (type {code}) are "
                f"{total.item_count if total.item_count is not None else '?'} of "
                f"{given:,.2f} {currency}, but its lines hold {len(mine)} of "
                f"{abs(sum(mine)):,.2f}: a line is missing or extra",
            )
    modifier = getattr(group.header.as_of_date_modifier, "value", "") or ""
    own_id = ":".join([NAME, as_of.isoformat(), modifier, number, currency])
    return Draft(
        source_format=NAME,
        own_id=own_id,
        account_id=number,
        currency=currency,
        entries=entries,
        opening=opening,
        closing=closing,
        from_date=as_of,
        to_date=as_of,
        where=where,
        line=account_line,
    )
