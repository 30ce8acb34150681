"""OFX statements: OFX 1.x (SGML), OFX 2.x (XML) and Quicken's QFX (OFX with Intuit tags).

Read by closeflow's own small reader rather than a library: ofxtools is GPL-3.0 (this
project is Apache-2.0), and ofxparse (last release 2021) converts posting times to UTC,
which moves a booking made late in the evening to the next day, and reports errors
without a line. An OFX file is a tree of tags; SGML files leave the value tags unclosed
(`<TRNAMT>-5.50`), XML files close them, and many "OFX 2" files mix the two, so one
tokenizer reads all: `<TAG>value` is a value, `<TAG>` followed by tags opens an
aggregate that `</TAG>` closes. Nothing is ever expanded: only the five XML character
entities and numeric character references are decoded, and a document type declaration
or entity definition (`<!DOCTYPE`, `<!ENTITY`: XXE, "billion laughs") is refused as unsafe.

What is read, per statement response (`STMTRS` for bank accounts, `CCSTMTRS` for credit
cards; a file may hold several accounts):
- account `BANKACCTFROM/ACCTID` (or `CCACCTFROM/ACCTID`), currency `CURDEF`;
- lines `BANKTRANLIST/STMTTRN`: `TRNAMT` (signed as the bank gives it: money in is
  positive), booking date `DTPOSTED` as the bank wrote it (its time and timezone are
  ignored, never converted), value date `DTAVAIL`, `FITID` (the bank's unique id of the
  transaction: the line's bank reference), `NAME` (or `PAYEE/NAME`) the counterparty,
  `MEMO` the text (with `CHECKNUM` when there is one), `BANKACCTTO/ACCTID` the
  counterparty's account; an `STMTTRN` whose `CURRENCY`/`ORIGCURRENCY` rate says it was in
  another currency is still booked in `CURDEF`, as `TRNAMT` is;
- period `DTSTART`/`DTEND`; closing balance `LEDGERBAL/BALAMT` (as of `DTASOF`; a warning
  when that date is after the period's end, since the balance may then include later
  bookings). OFX gives no opening balance, so the statement carries the warning that its
  completeness cannot be checked.
A value that is empty or unreadable (`$120`, `201120000000`) refuses the file with its
line; a response with an error status (`<CODE>` other than 0) is refused with its message.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from closeflow.bank.encoding import EncodingError, decode_text
from closeflow.bank.statement import Balance, Draft, Entry, ParsedStatement, SourceFile, money
from closeflow.bank.xmltree import UNSAFE

NAME = "ofx"

_TOKEN = re.compile(
    r"<!\[CDATA\[(?P<cdata>.*?)\]\]>"
    r"|<!--.*?-->"
    r"|<\?(?P<pi>.*?)\?>"
    r"|<!(?P<decl>[A-Za-z]+)"
    r"|</(?P<close>[A-Za-z0-9_.]+)\s*>"
    r"|<(?P<open>[A-Za-z0-9_.]+)\s*>"
    r"|(?P<text>[^<]+)"
    r"|(?P<bad><)",
    re.DOTALL,
)
_ENTITIES = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'", "nbsp": "\xa0"}
_ENTITY = re.compile(r"&(#x[0-9A-Fa-f]+|#\d+|[A-Za-z]+);")
_AMOUNT = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")
_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})(\d{6}(\.\d{1,3})?)?(\[[^\]]*\])?")


def sniff(head: bytes) -> bool:
    """An OFX header (`OFXHEADER:100`, `<?OFX OFXHEADER="200"`) or an `<OFX>` root."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:4096].upper()
    return b"OFXHEADER" in text or b"<OFX>" in text


@dataclass
class Node:
    tag: str
    line: int
    value: str | None = None  # a value tag's text
    children: list[Node] = field(default_factory=list)

    def find(self, path: str) -> Node | None:
        node: Node | None = self
        for tag in path.split("/"):
            node = next((c for c in node.children if c.tag == tag), None) if node else None
        return node

    def findall(self, tag: str) -> list[Node]:
        return [c for c in self.children if c.tag == tag]

    def iter(self, tag: str) -> list[Node]:
        out = []
        for c in self.children:
            if c.tag == tag:
                out.append(c)
            out.extend(c.iter(tag))
        return out

    def text(self, path: str) -> str | None:
        node = self.find(path)
        if node is None or node.value is None:
            return None
        return " ".join(node.value.split()) or None


def _unescape(src: SourceFile, line: int, text: str) -> str:
    def one(m: re.Match[str]) -> str:
        name = m.group(1)
        if name.startswith("#"):
            try:
                return chr(int(name[2:], 16) if name[1] in "xX" else int(name[1:]))
            except (ValueError, OverflowError):
                raise src.error(line, f"{m.group()!r} is not a character") from None
        return _ENTITIES.get(name.lower(), m.group())  # SGML files write AT&T as is

    return _ENTITY.sub(one, text)


def _tree(src: SourceFile) -> Node:
    try:
        text = decode_text(src.data).text
    except EncodingError as exc:
        raise src.error(None, str(exc)) from exc
    start = text.upper().find("<OFX>")
    if start < 0:
        raise src.error(1, "an OFX header without an <OFX> document")
    for m in re.finditer(r"<!(DOCTYPE|ENTITY)", text, re.IGNORECASE):
        raise src.error(text.count("\n", 0, m.start()) + 1, UNSAFE)
    line = text.count("\n", 0, start) + 1
    root = Node("ROOT", line)
    stack = [root]
    pending: Node | None = None  # the last opened tag, until we know if it holds a value
    for m in _TOKEN.finditer(text, start):
        kind = m.lastgroup
        if kind == "text" or kind == "cdata":
            value = m.group(kind)
            if kind == "text":
                value = _unescape(src, line, value)
            if value.strip() and pending is not None:
                pending.value = (pending.value or "") + value
            elif value.strip() and kind == "text":
                raise src.error(line, f"text {value.strip()[:30]!r} outside any tag")
        elif kind == "open":
            pending = _close_value(stack, pending)
            node = Node(m.group("open").upper(), line)
            stack[-1].children.append(node)
            stack.append(node)
            pending = node
        elif kind == "close":
            tag = m.group("close").upper()
            pending = _close_value(stack, pending, closing=tag)
            if stack[-1].tag == tag:
                stack.pop()
            elif any(n.tag == tag for n in stack):
                while stack[-1].tag != tag:  # value tags left open inside, SGML style
                    stack.pop()
                stack.pop()
            else:
                raise src.error(line, f"</{tag}> closes a tag that is not open")
        elif kind == "bad":
            raise src.error(line, "a '<' that starts no tag: the file is damaged")
        line += m.group().count("\n")
    _close_value(stack, pending)
    if len(stack) > 1 and stack[1].tag == "OFX" and len(stack) > 2:
        open_tags = "/".join(n.tag for n in stack[1:])
        raise src.error(line, f"the file ends inside {open_tags}: it is incomplete")
    ofx = root.find("OFX")
    if ofx is None:
        raise src.error(1, "no <OFX> document")
    return ofx


def _close_value(stack: list[Node], pending: Node | None, closing: str | None = None) -> None:
    """A pending tag that got a value (and no child) is a value tag: it closes itself."""
    if pending is not None and stack[-1] is pending and not pending.children:
        if pending.value is not None and closing != pending.tag:
            stack.pop()
    return None


def parse(src: SourceFile) -> list[ParsedStatement]:
    return [d.build(src) for d in read(src)]


def read(src: SourceFile) -> list[Draft]:
    ofx = _tree(src)
    for status in ofx.iter("STATUS"):
        code = status.text("CODE")
        if code not in (None, "0") and (status.text("SEVERITY") or "").upper() == "ERROR":
            message = status.text("MESSAGE") or "no message"
            raise src.error(status.line, f"the bank answered with error {code}: {message}")
    responses = [n for n in ofx.iter("STMTRS") + ofx.iter("CCSTMTRS")]
    responses.sort(key=lambda n: n.line)
    if not responses:
        raise src.error(
            ofx.line, "the OFX file holds no bank or credit card statement (STMTRS, CCSTMTRS)"
        )
    return [_statement(src, st, n) for n, st in enumerate(responses, start=1)]


def _date(src: SourceFile, node: Node, path: str, where: str, what: str) -> dt.date | None:
    found = node.find(path)
    if found is None:
        return None
    value = (found.value or "").strip()
    m = _DATE.fullmatch(value)
    if not value:
        raise src.error(found.line, f"{where}: {what} ({path}) is empty")
    try:
        if m is None:
            raise ValueError
        return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        raise src.error(found.line, f"{where}: {what} {value!r} is not a date") from None


def _amount(
    src: SourceFile, node: Node, path: str, where: str, what: str, currency: str
) -> Decimal | None:
    found = node.find(path)
    if found is None:
        return None
    value = (found.value or "").strip()
    if not value:
        raise src.error(found.line, f"{where}: {what} ({path}) is empty")
    text = value.replace(",", ".") if re.fullmatch(r"[+-]?\d+,\d{1,3}", value) else value
    if not _AMOUNT.fullmatch(text):
        raise src.error(found.line, f"{where}: {what} {value!r} is not a number")
    try:
        return money(src, found.line, Decimal(text), what, currency)
    except InvalidOperation:
        raise src.error(found.line, f"{where}: {what} {value!r} is not a number") from None


def _statement(src: SourceFile, st: Node, n: int) -> Draft:
    card = st.tag == "CCSTMTRS"
    acct = st.find("CCACCTFROM" if card else "BANKACCTFROM")
    account = (acct.text("ACCTID") if acct else None) or src.account_id
    where = f"statement for account {account}" if account else f"statement {n}"
    if not account:
        raise src.error(st.line, f"{where}: no account (ACCTID)")
    currency = (st.text("CURDEF") or src.currency or "").upper()
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise src.error(st.line, f"{where}: no valid currency (CURDEF {currency!r})")
    tranlist = st.find("BANKTRANLIST")
    start = end = None
    entries: list[Entry] = []
    if tranlist is not None:
        start = _date(src, tranlist, "DTSTART", where, "period start")
        end = _date(src, tranlist, "DTEND", where, "period end")
        for trn in tranlist.findall("STMTTRN"):
            entries.append(_entry(src, trn, where, currency))
    warnings: list[str] = []
    closing = None
    ledger = st.find("LEDGERBAL")
    if ledger is not None:
        amount = _amount(src, ledger, "BALAMT", where, "ledger balance", currency)
        if amount is None:
            raise src.error(ledger.line, f"{where}: the ledger balance has no amount (BALAMT)")
        as_of = _date(src, ledger, "DTASOF", where, "ledger balance date")
        closing = Balance(amount, currency, as_of, ledger.line)
        if as_of and end and as_of > end:
            warnings.append(
                f"{where}: the ledger balance is as of {as_of.isoformat()}, after the "
                f"statement's end {end.isoformat()}; it may include bookings not in the file"
            )
    if start and end and start > end:
        raise src.error(tranlist.line, f"{where}: the period starts after it ends")
    bank = (acct.text("BANKID") if acct else None) or ""
    own_id = ":".join(
        [NAME, bank, account, start.isoformat() if start else "", end.isoformat() if end else ""]
    )
    return Draft(
        source_format=NAME,
        own_id=own_id,
        account_id=account,
        currency=currency,
        entries=entries,
        opening=None,
        closing=closing,
        from_date=start,
        to_date=end,
        warnings=warnings,
        where=where,
        line=st.line,
    )


def _entry(src: SourceFile, trn: Node, where: str, currency: str) -> Entry:
    fitid = trn.text("FITID")
    here = f"{where}, transaction {fitid}" if fitid else where
    amount = _amount(src, trn, "TRNAMT", here, "amount", currency)
    if amount is None:
        raise src.error(trn.line, f"{here}: no amount (TRNAMT)")
    posted = _date(src, trn, "DTPOSTED", here, "booking date")
    if posted is None:
        raise src.error(trn.line, f"{here}: no booking date (DTPOSTED)")
    name = trn.text("NAME") or trn.text("PAYEE/NAME")
    memo = trn.text("MEMO")
    check = trn.text("CHECKNUM")
    text = memo
    if check and check.strip("0"):
        text = f"{memo} (check {check})" if memo else f"check {check}"
    return Entry(
        booking_date=posted,
        value_date=_date(src, trn, "DTAVAIL", here, "value date"),
        amount=amount,
        currency=currency,
        counterparty_name=name,
        counterparty_account=trn.text("BANKACCTTO/ACCTID") or trn.text("CCACCTTO/ACCTID"),
        remittance_info=text,
        bank_reference=fitid,
        end_to_end_id=None,
        source_line=trn.line,
    )
