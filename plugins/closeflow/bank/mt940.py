"""SWIFT MT940 (customer statement) and MT942 (interim transaction report) reader.

The tags are read by the `mt-940` library (WoLpH/mt940, BSD-3-Clause): its tag grammar,
its year guessing for the `:61:` entry date across a new year and its reading of the
structured German `:86:` (`?20`-`?29` purpose, `?32`/`?33` name, `?31` account, `EREF+`,
`SVWZ+`, ...) are what banks' files need. Around it closeflow adds what the library does
not check, so nothing is read silently wrong:
- the text is decoded by closeflow.bank.encoding (never a blind code page), SWIFT
  envelopes (`{1:...}{2:...}{4:` ... `-}`) and trailer lines are dropped, and the file is
  split into statements at each `:20:` (a file often holds several days);
- every `:61:` line must fit the standard's layout (value date, optional entry date,
  debit/credit mark, amount with a decimal comma, a transaction type `N...`/`F...`/`S...`)
  and its amount must be the one the library read: `9..5` is refused, never read as `9`;
- a `:86:` after the closing balance is information for the whole statement (ING's
  turnover summary), not more text of the last line;
- Dutch structured `:86:` (`/TRTP/.../IBAN/.../NAME/.../REMI/...`, and `/CNTP/` with the
  counterparty's IBAN, BIC and name) and the `>20`-style variant of the German layout
  (Triodos) give counterparty, account, text and end-to-end reference.

A statement is: account `:25:`, opening balance `:60F:`/`:60M:` (M: a page of a longer
statement), lines `:61:` + `:86:`, closing balance `:62F:`/`:62M:`; build_statement checks
opening + lines = closing. Booking date is the `:61:` entry date (value date when absent);
the value date is the first six digits. The bank's reference is the one after `//`, else
the account owner's reference unless it is `NONREF`.

MT942 has no balances: its lines are read, and the turnover totals `:90D:` (debits) and
`:90C:` (credits) must match them; the statement carries the warning that completeness
cannot be checked against balances.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from decimal import Decimal
from typing import Any

import mt940 as mt940_lib

from closeflow.bank.encoding import EncodingError, decode_text
from closeflow.bank.statement import (
    Balance,
    Draft,
    Entry,
    ParsedStatement,
    SourceFile,
    money,
)

NAME = "mt940"
NAME_942 = "mt942"

# the library logs its regex diagnostics as errors; closeflow reports the failure itself
logging.getLogger("mt940").setLevel(logging.CRITICAL)

_TAG = re.compile(r"^:(?P<tag>\d{2}[A-Z]?|NS):", re.MULTILINE)
_ENVELOPE = re.compile(r"^\{1:[^}]*\}(\{2:[^}]*\})?(\{3:(\{[^}]*\})*\})?\{4:\s*$|^-\}.*$")
_61 = re.compile(
    r"(?P<value>\d{6})(?P<entry>\d{4})?(?P<mark>R?[DCdc])(?P<funds>[A-Z])?\n?"
    r"(?P<amount>\d[\d,]{0,14})(?P<type>[NFS][A-Z0-9]{3})"
)
_DUTCH = re.compile(
    r"/(TRTP|IBAN|BIC|NAME|REMI|EREF|MARF|CSID|ORDP|BENM|CNTP|ADDR|ISDT|SVCL|RTRN|PREF|ID|"
    r"ULTC|ULTD|PURP|FX|EXCH|CHGS|SWOC)/"
)


def sniff(head: bytes) -> bool:
    """Tagged SWIFT text: a `:20:` reference, a `:25:` account and statement tags."""
    text = head.decode("latin-1")
    return all(
        re.search(pattern, text, re.MULTILINE)
        for pattern in (r"^:20:", r"^:25P?:", r"^:(28C?|60[FM]|61|62[FM]|34F|13D?):")
    )


def _lines(src: SourceFile) -> list[str]:
    try:
        text = decode_text(src.data).text
    except EncodingError as exc:
        raise src.error(None, str(exc)) from exc
    lines = text.replace("\r\n", "\n").replace("\r", "\n").removeprefix("\ufeff").split("\n")
    out = []
    for line in lines:
        if _ENVELOPE.match(line.strip()):
            out.append("")  # keep the numbering: messages name the file's own lines
        elif line.startswith("{1:") and ":20:" in line:  # an envelope on the tag's line
            out.append(line[line.index(":20:") :])
        else:
            out.append(line)
    return out


def _blocks(lines: list[str]) -> list[tuple[int, list[str]]]:
    """(first line number, lines) of each statement: from one `:20:` to the next."""
    starts = [i for i, line in enumerate(lines) if line.startswith(":20:")]
    return [
        (start + 1, lines[start : (starts[n + 1] if n + 1 < len(starts) else len(lines))])
        for n, start in enumerate(starts)
    ]


def _tags(first: int, lines: list[str]) -> list[tuple[str, int, str]]:
    """(tag, line number, content) of each tag of a block, continuation lines joined."""
    tags: list[list[Any]] = []
    ended = False  # after a message's closing "-", lines up to the next tag are headers
    for i, line in enumerate(lines):
        m = _TAG.match(line)
        if m:
            tags.append([m.group("tag"), first + i, line[m.end() :]])
            ended = False
        elif line.strip().startswith("-"):  # "-", "-}", "-XXX": the end of a message
            ended = True
        elif tags and line.strip() and not ended:
            tags[-1][2] += "\n" + line
    return [(t, n, c) for t, n, c in tags]


def parse(src: SourceFile) -> list[ParsedStatement]:
    return [d.build(src) for d in read(src)]


def read(src: SourceFile) -> list[Draft]:
    """Every statement (or MT942 report) in the file, as drafts, in file order."""
    lines = _lines(src)
    blocks = _blocks(lines)
    if not blocks:
        raise src.error(1, "an MT940 file without a :20: statement reference")
    return [_statement(src, first, block, n) for n, (first, block) in enumerate(blocks, 1)]


def _statement(src: SourceFile, first: int, block: list[str], n: int) -> Draft:
    tags = _tags(first, block)
    closing_at = next((i for i, (t, _, _) in enumerate(tags) if t in ("62F", "62M")), None)
    info: list[str] = []
    kept = []
    for i, (tag, line, content) in enumerate(tags):
        if tag == "86" and closing_at is not None and i > closing_at:
            info.append(" ".join(content.split()))  # the statement's own information
            continue
        if tag == "86":
            content = _angle_subfields(content)
        kept.append((tag, line, content))
    lines61 = [(ln, c) for t, ln, c in kept if t == "61"]
    for line, content in lines61:
        if not _61.match(content):
            raise src.error(
                line,
                f"statement {n}: the :61: line {content.splitlines()[0]!r} is not an MT940 "
                "booking (value date, debit/credit mark, amount with a decimal comma, "
                "transaction type)",
            )
    text = "\n".join(f":{tag}:{content}" for tag, _, content in kept)
    parsed = mt940_lib.models.Transactions(options=mt940_lib.Options.all())
    try:
        parsed.parse(text)
    except (RuntimeError, ValueError, KeyError, TypeError, AttributeError) as exc:
        tag = exc.args[1] if len(exc.args) > 1 else None
        slug = getattr(tag, "id", None)
        at = next((ln for t, ln, _ in kept if slug is not None and t.startswith(str(slug))), first)
        what = f":{slug}: " if slug is not None else ""
        raise src.error(at, f"the {what}field cannot be read as MT940") from exc
    data = parsed.data
    ref = (data.get("transaction_reference") or "").strip()
    number = "/".join(x for x in (data.get("statement_number"), data.get("sequence_number")) if x)
    where = f"statement {ref}" + (f" ({number})" if number else "") if ref else f"statement {n}"
    account = (data.get("account_identification") or "").strip() or src.account_id
    if not account:
        raise src.error(first, f"{where}: no account (:25:)")

    opening = _balance(
        src,
        kept,
        data,
        ("final_opening_balance", "intermediate_opening_balance", "opening_balance"),
        ("60F", "60M", "60"),
        where,
    )
    closing = _balance(
        src,
        kept,
        data,
        ("final_closing_balance", "intermediate_closing_balance", "closing_balance"),
        ("62F", "62M", "62"),
        where,
    )
    if len(lines61) != len(parsed.transactions):
        raise src.error(first, f"{where}: the :61: lines cannot be read as MT940")
    entries = [
        _entry(src, tx.data, line, content, where)
        for tx, (line, content) in zip(parsed.transactions, lines61, strict=True)
    ]
    currency = (
        next((b.currency for b in (opening, closing) if b is not None), None)
        or parsed.currency
        or (entries[0].currency if entries else None)
        or src.currency
    )
    if not currency:
        raise src.error(first, f"{where}: the statement does not say its currency")
    warnings = (
        [f"{where}: the bank's information for the statement: {' '.join(info)}"] if (info) else []
    )
    is_942 = (
        opening is None
        and closing is None
        and (
            "sum_debit_entries" in data
            or "sum_credit_entries" in data
            or any(t in ("34F", "13D", "13") for t, _, _ in kept)
        )
    )
    if is_942:
        _check_turnover(src, kept, data, entries, where)
    own_id = ":".join(
        str(x)
        for x in (
            NAME_942 if is_942 else NAME,
            ref,
            number,
            opening.date if opening else "",
            closing.date if closing else "",
            data.get("date") or "",
        )
    )
    return Draft(
        source_format=NAME_942 if is_942 else NAME,
        own_id=own_id,
        account_id=account,
        currency=currency,
        entries=entries,
        opening=opening,
        closing=closing,
        warnings=warnings,
        where=where,
        line=first,
    )


def _line_of(kept: list[tuple[str, int, str]], tags: tuple[str, ...]) -> int | None:
    return next((ln for t, ln, _ in kept if t in tags), None)


def _balance(
    src: SourceFile,
    kept: list[tuple[str, int, str]],
    data: dict[str, Any],
    keys: tuple[str, ...],
    tags: tuple[str, ...],
    where: str,
) -> Balance | None:
    bal = next((data[k] for k in keys if data.get(k) is not None), None)
    if bal is None:
        return None
    line = _line_of(kept, tags)
    raw = next((c for t, _, c in kept if t in tags), "")
    if not re.fullmatch(r"[DC]\d{6}[A-Z]{3}\d[\d,]*,\d*\s*", raw):
        raise src.error(line, f"{where}: balance {raw.strip()!r} is not an MT940 balance")
    currency = bal.amount.currency
    amount = money(src, line, Decimal(bal.amount.amount), "balance", currency)
    return Balance(amount, currency, _date(bal.date), line)


def _date(value: Any) -> dt.date | None:
    if value is None:
        return None
    return dt.date(value.year, value.month, value.day)


def _entry(src: SourceFile, tx: dict[str, Any], line: int, content: str, where: str) -> Entry:
    m = _61.match(content)
    amount = tx.get("amount")
    if m is None or amount is None:
        raise src.error(
            line,
            f"{where}: the :61: line {content.splitlines()[0]!r} is not an MT940 booking "
            "(value date, debit/credit mark, amount with a decimal comma, transaction type)",
        )
    if m.group("amount").count(",") != 1 or Decimal(m.group("amount").replace(",", ".")) != abs(
        amount.amount
    ):
        raise src.error(line, f"{where}: amount {m.group('amount')!r} is not a number")
    currency = amount.currency
    value = money(src, line, Decimal(amount.amount), "amount", currency)
    value_date = _date(tx.get("date"))
    booking = _date(tx.get("guessed_entry_date") or tx.get("entry_date")) or value_date
    details = _details(tx)
    bank_ref = (tx.get("bank_reference") or "").strip()
    customer_ref = (tx.get("customer_reference") or "").strip()
    if not bank_ref and customer_ref.upper() != "NONREF":
        bank_ref = customer_ref
    return Entry(
        booking_date=booking,
        value_date=value_date,
        amount=value,
        currency=currency,
        counterparty_name=details.get("name"),
        counterparty_account=details.get("account"),
        remittance_info=details.get("text"),
        bank_reference=bank_ref or None,
        end_to_end_id=details.get("e2e"),
        source_line=line,
    )


def _angle_subfields(content: str) -> str:
    """`000>100987654321\\n>20TEXT` (Triodos) is the German `?`-layout with `>`."""
    if re.match(r"^\d{3}>\d{2}", content):
        return re.sub(r">(?=\d{2})", "?", content)
    return content


def _clean(text: str | None) -> str | None:
    out = " ".join((text or "").split())
    return out or None


def _details(tx: dict[str, Any]) -> dict[str, str | None]:
    """Counterparty, account, text and end-to-end reference of one line's `:86:`."""
    extra = _clean(tx.get("extra_details"))
    if "transaction_details" not in tx and ("purpose" in tx or "posting_text" in tx):
        # the structured German layout, read by the library
        text = _clean(tx.get("purpose")) or _clean(tx.get("posting_text"))
        name = _clean(tx.get("applicant_name")) or _clean(tx.get("recipient_name"))
        account = _clean(tx.get("applicant_iban")) or _clean(tx.get("gvc_applicant_iban"))
        return {
            "name": name,
            "account": account,
            "text": text,
            "e2e": _e2e(tx.get("end_to_end_reference")),
        }
    raw = tx.get("transaction_details") or ""
    joined = "".join(raw.splitlines())
    if joined.startswith("/") and _DUTCH.match(joined):
        return _dutch(joined, extra)
    text = _clean(raw)
    if extra and (not text or extra not in text):
        text = f"{text} {extra}" if text else extra
    return {"name": None, "account": None, "text": text, "e2e": None}


def _e2e(value: str | None) -> str | None:
    value = _clean(value)
    return None if value is None or value.upper() == "NOTPROVIDED" else value


def _dutch(text: str, extra: str | None) -> dict[str, str | None]:
    """The Dutch banks' `/CODE/value` layout of `:86:`."""
    parts = _DUTCH.split(text)
    fields: dict[str, str] = {}
    for code, value in zip(parts[1::2], parts[2::2], strict=False):
        fields.setdefault(code, value.strip("/ "))
    name = fields.get("NAME")
    account = fields.get("IBAN")
    if "CNTP" in fields:  # /CNTP/IBAN/BIC/NAME/CITY/
        cntp = fields["CNTP"].split("/")
        account = account or (cntp[0] if cntp and cntp[0] else None)
        name = name or (cntp[2] if len(cntp) > 2 and cntp[2] else None)
    for code in ("BENM", "ORDP"):
        if not name and code in fields:
            sub = re.split(r"/(?=NAME/|ID/|ADDR/)", "/" + fields[code])
            for piece in sub:
                if piece.startswith("NAME/"):
                    name = piece[5:].strip("/ ")
    remi = fields.get("REMI", "")
    remi = re.sub(r"^(USTD|STRD)/+(CUR/+)?", "", remi).strip("/ ")
    text = _clean(remi) or _clean(fields.get("TRTP")) or extra
    return {
        "name": _clean(name),
        "account": _clean(account),
        "text": text,
        "e2e": _e2e(fields.get("EREF")),
    }


def _check_turnover(
    src: SourceFile,
    kept: list[tuple[str, int, str]],
    data: dict[str, Any],
    entries: list[Entry],
    where: str,
) -> None:
    """MT942's `:90D:`/`:90C:` number and sum of debits/credits must match its lines."""
    for key, tag, sign, what in (
        ("sum_debit_entries", "90D", -1, "debit"),
        ("sum_credit_entries", "90C", 1, "credit"),
    ):
        total = data.get(key)
        if total is None:
            continue
        mine = [e.amount for e in entries if (e.amount < 0) == (sign < 0) and e.amount != 0]
        amount = abs(Decimal(total.amount))
        number = int(getattr(total, "number", len(mine)))
        if number != len(mine) or amount != abs(sum(mine)):
            raise src.error(
                _line_of(kept, (tag,)),
                f"{where}: the report's {what} total (:{tag}:) is {number} line"
                f"{'' if number == 1 else 's'} of {amount:,.2f}, but its lines hold "
                f"{len(mine)} of {abs(sum(mine)):,.2f}: a line is missing or extra",
            )
