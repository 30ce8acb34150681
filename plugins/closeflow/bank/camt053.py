"""ISO 20022 camt.053 (bank-to-customer end-of-day statement) reader.

The file is untrusted: it is parsed with defusedxml (no DTDs, no entities, no external
references), through the pure-Python expat parser so every element keeps the line it
starts on and errors can point at it. Namespaces are dropped on the way in, so
camt.053.001.02 to .001.13 and files without a namespace read alike.

What is read, per `Stmt` (a file may hold several, e.g. one per currency account):
- account: `Acct/Id/IBAN` or `Acct/Id/Othr/Id`; currency: `Acct/Ccy`, else the balances'.
- balances: opening `OPBD` (else `PRCD`, the previous closing), closing `CLBD` (else
  `CLAV`); the lines must add up from one to the other. A statement without them is
  read, with a warning that completeness cannot be checked.
- entries (`Ntry`): booked ones only (`Sts` BOOK or absent; PDNG/INFO are skipped with a
  warning, they have not moved money). The amount is `Ntry/Amt` in the account's currency
  (any instructed or counter-value amount in `AmtDtls` is the payment's, not the
  booking's), signed by `CdtDbtInd`; a reversal (`RvslInd`) is already booked in the
  direction its indicator gives. Dates: `BookgDt`/`ValDt` as `Dt` or `DtTm` (the date as
  the bank wrote it, no timezone conversion). References: `AcctSvcrRef` (bank's),
  `EndToEndId` (payer's, `NOTPROVIDED` is none), remittance from `RmtInf/Ustrd` plus
  any `Strd/CdtrRefInf/Ref` or `Strd/RfrdDocInf/Nb` it does not already quote, else
  `AddtlTxInf`/`AddtlNtryInf`. The
  counterparty is the creditor for money out and the debtor for money in.
"""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from decimal import Decimal

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser, ParseError

from closeflow.bank.statement import (
    Balance,
    Entry,
    ParsedStatement,
    SourceFile,
    build_statement,
    money,
)

NAME = "camt.053"
NAMESPACE_PREFIX = "urn:iso:std:iso:20022:tech:xsd:camt.053."
_AMOUNT = re.compile(r"\d+(\.\d+)?")
_OPENING = ("OPBD", "PRCD")
_CLOSING = ("CLBD", "CLAV")
_BALANCE_NAMES = {
    "OPBD": "opening balance (OPBD)",
    "PRCD": "previous closing balance (PRCD)",
    "CLBD": "closing balance (CLBD)",
    "CLAV": "closing available balance (CLAV)",
}


def sniff(head: bytes) -> bool:
    """An XML document that names camt.053 or its statement element."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    return text.startswith(b"<") and (b"camt.053" in head or b"BkToCstmrStmt" in head)


class _Tree:
    """ElementTree target: drops namespaces, remembers the line each element starts on."""

    def __init__(self) -> None:
        self._builder = ET.TreeBuilder()
        self.lines: dict[ET.Element, int] = {}
        self.namespace: str | None = None
        self.expat = None

    @staticmethod
    def _local(tag: str) -> tuple[str, str]:
        if tag.startswith("{"):
            ns, _, local = tag[1:].partition("}")
            return ns, local
        return "", tag

    def start(self, tag: str, attrib: dict[str, str]) -> ET.Element:
        ns, local = self._local(tag)
        if self.namespace is None:
            self.namespace = ns
        elem = self._builder.start(local, {self._local(k)[1]: v for k, v in attrib.items()})
        self.lines[elem] = self.expat.CurrentLineNumber
        return elem

    def end(self, tag: str) -> ET.Element:
        return self._builder.end(self._local(tag)[1])

    def data(self, text: str) -> None:
        self._builder.data(text)

    def close(self) -> ET.Element:
        return self._builder.close()


def _parse_xml(src: SourceFile) -> tuple[ET.Element, _Tree]:
    tree = _Tree()
    parser = DefusedXMLParser(target=tree, forbid_dtd=True)
    tree.expat = parser.parser
    try:
        parser.feed(src.data)
        root = parser.close()
    except ParseError as exc:
        raise src.error(
            exc.position[0],
            f"the file is damaged or incomplete: it is not well-formed XML ({exc.msg})",
        ) from exc
    except DefusedXmlException as exc:
        raise src.error(
            parser.parser.CurrentLineNumber,
            "the file declares a DTD or entities, which bank statements never do; "
            "refused as unsafe",
        ) from exc
    return root, tree


class _Reader:
    """Helpers bound to one file: text lookups and errors that carry the element's line."""

    def __init__(self, src: SourceFile, tree: _Tree) -> None:
        self.src, self.tree = src, tree

    def line(self, elem: ET.Element | None) -> int | None:
        return self.tree.lines.get(elem) if elem is not None else None

    def fail(self, elem: ET.Element | None, message: str) -> Exception:
        return self.src.error(self.line(elem), message)

    @staticmethod
    def text(elem: ET.Element, path: str) -> str | None:
        found = elem.find(path)
        if found is None or found.text is None:
            return None
        return " ".join(found.text.split()) or None

    def texts(self, elems: list[ET.Element], paths: tuple[str, ...]) -> list[str]:
        out: list[str] = []
        for elem in elems:
            for path in paths:
                for found in elem.findall(path):
                    value = " ".join((found.text or "").split())
                    if value and value not in out:
                        out.append(value)
        return out

    def date(self, container: ET.Element | None, what: str, where: str) -> dt.date | None:
        """The date in `container/Dt` or `container/DtTm`; None without `container`."""
        if container is None:
            return None
        for tag in ("Dt", "DtTm"):
            elem = container.find(tag)
            if elem is not None:
                return self.date_of(elem, what, where)
        raise self.fail(container, f"{where}: {what} has no date (Dt or DtTm)")

    def date_of(self, elem: ET.Element, what: str, where: str) -> dt.date:
        """`elem`'s ISO date or date-time, as the date the bank wrote (no tz conversion)."""
        value = (elem.text or "").strip()
        try:
            if "T" in value:
                return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).date()
            return dt.date.fromisoformat(value)
        except ValueError:
            raise self.fail(elem, f"{where}: {what} {value!r} is not a date") from None

    def amount(self, parent: ET.Element, where: str, what: str) -> tuple[Decimal, str]:
        """Signed amount and currency of `parent/Amt` with `parent/CdtDbtInd`."""
        amt = parent.find("Amt")
        if amt is None:
            raise self.fail(parent, f"{where}: {what} has no amount (Amt)")
        value = (amt.text or "").strip()
        if not _AMOUNT.fullmatch(value):
            raise self.fail(amt, f"{where}: {what} {value!r} is not a number")
        currency = (amt.get("Ccy") or "").strip().upper()
        if not re.fullmatch(r"[A-Z]{3}", currency):
            raise self.fail(amt, f"{where}: {what} {value} has no valid currency (Ccy)")
        indicator = self.text(parent, "CdtDbtInd")
        if indicator not in ("CRDT", "DBIT"):
            ind = parent.find("CdtDbtInd")
            raise self.fail(
                ind if ind is not None else parent,
                f"{where}: {what} {value} {currency} does not say whether it is a credit or "
                f"a debit (CdtDbtInd is {indicator!r}, expected CRDT or DBIT)",
            )
        signed = money(self.src, self.line(amt), Decimal(value), what)
        return (-signed if indicator == "DBIT" else signed), currency


def parse(src: SourceFile) -> list[ParsedStatement]:
    """Every statement (`Stmt`) in a camt.053 file, in file order."""
    root, tree = _parse_xml(src)
    r = _Reader(src, tree)
    ns = tree.namespace or ""
    if root.tag != "Document" or (ns and not ns.startswith(NAMESPACE_PREFIX)):
        kind = ns.rsplit(":", 1)[-1] if ns else root.tag
        raise r.fail(
            root,
            f"this XML is a {kind} document, not a camt.053 bank statement; "
            "closeflow reads camt.053 end-of-day statements",
        )
    body = root.find("BkToCstmrStmt")
    if body is None:
        first = root[0].tag if len(root) else "nothing"
        raise r.fail(root, f"no bank-to-customer statement (BkToCstmrStmt) in it, found {first}")
    stmts = body.findall("Stmt")
    if not stmts:
        raise r.fail(body, "the file holds no statement (Stmt)")
    return [_statement(r, st, n) for n, st in enumerate(stmts, start=1)]


def _statement(r: _Reader, st: ET.Element, n: int) -> ParsedStatement:
    own_id = r.text(st, "Id")
    where = f"statement {own_id}" if own_id else f"statement {n}"
    account = r.text(st, "Acct/Id/IBAN") or r.text(st, "Acct/Id/Othr/Id") or r.src.account_id
    if not account:
        acct = st.find("Acct")
        raise r.fail(acct if acct is not None else st, f"{where}: no account number (Acct/Id)")

    balances: dict[str, Balance] = {}
    for bal in st.findall("Bal"):
        code = r.text(bal, "Tp/CdOrPrtry/Cd")
        if code not in _OPENING + _CLOSING:
            continue
        what = _BALANCE_NAMES[code]
        amount, ccy = r.amount(bal, where, what)
        if code in balances:
            raise r.fail(
                bal,
                f"{where}: two {code} balances ({balances[code].currency} and {ccy}); "
                "closeflow reads one currency per statement",
            )
        balances[code] = Balance(amount, ccy, r.date(bal.find("Dt"), what, where), r.line(bal))
    opening = next((balances[c] for c in _OPENING if c in balances), None)
    closing = next((balances[c] for c in _CLOSING if c in balances), None)

    warnings: list[str] = []
    entries: list[Entry] = []
    for ntry in st.findall("Ntry"):
        status = r.text(ntry, "Sts") or r.text(ntry, "Sts/Cd") or "BOOK"
        if status != "BOOK":
            warnings.append(
                f"{where}: entry at file line {r.line(ntry)} has status {status} (not booked) "
                "and was skipped"
            )
            continue
        entries.append(_entry(r, ntry, where, len(entries) + 1))

    currency = (
        r.text(st, "Acct/Ccy")
        or next((b.currency for b in (opening, closing) if b is not None), None)
        or (entries[0].currency if entries else None)
        or r.src.currency
    )
    if currency is None:
        raise r.fail(st, f"{where}: the statement does not say its currency (Acct/Ccy)")

    period = st.find("FrToDt")
    from_date = to_date = None
    if period is not None:
        from_date = _period_date(r, period, "Fr", where)
        to_date = _period_date(r, period, "To", where)
    return build_statement(
        r.src,
        source_format=NAME,
        own_id=own_id,
        account_id=account,
        currency=currency.upper(),
        entries=entries,
        opening=opening,
        closing=closing,
        from_date=from_date,
        to_date=to_date,
        warnings=warnings,
        where=where,
        line=r.line(st),
    )


def _period_date(r: _Reader, period: ET.Element, side: str, where: str) -> dt.date | None:
    for tag in (f"{side}DtTm", f"{side}Dt"):
        elem = period.find(tag)
        if elem is not None:
            return r.date_of(elem, "statement period date", where)
    return None


def _squeeze(text: str) -> str:
    return "".join(text.split()).upper()


def _entry(r: _Reader, ntry: ET.Element, where: str, n: int) -> Entry:
    here = f"{where}, entry {n}"
    amount, currency = r.amount(ntry, here, "amount")
    booking = r.date(ntry.find("BookgDt"), "booking date", here)
    if booking is None:
        raise r.fail(ntry, f"{here}: no booking date (BookgDt)")
    txs = ntry.findall("NtryDtls/TxDtls")
    party, party_acct = ("Dbtr", "DbtrAcct") if amount >= 0 else ("Cdtr", "CdtrAcct")
    names = r.texts(
        txs, (f"RltdPties/{party}/Nm", f"RltdPties/{party}/Pty/Nm", f"RltdPties/Ultmt{party}/Nm")
    )
    accounts = r.texts(
        txs, (f"RltdPties/{party_acct}/Id/IBAN", f"RltdPties/{party_acct}/Id/Othr/Id")
    )
    remittance = r.texts(txs, ("RmtInf/Ustrd",))
    said = _squeeze(" ".join(remittance))
    for ref in r.texts(txs, ("RmtInf/Strd/CdtrRefInf/Ref", "RmtInf/Strd/RfrdDocInf/Nb")):
        if _squeeze(ref) not in said:  # a reference the free text does not already quote
            remittance.append(ref)
    if not remittance:
        remittance = r.texts(txs, ("AddtlTxInf",)) or r.texts([ntry], ("AddtlNtryInf",))
    e2e = [x for x in r.texts(txs, ("Refs/EndToEndId",)) if x.upper() != "NOTPROVIDED"]
    bank_ref = (
        r.text(ntry, "AcctSvcrRef")
        or next(iter(r.texts(txs, ("Refs/AcctSvcrRef",))), None)
        or r.text(ntry, "NtryRef")
    )
    return Entry(
        booking_date=booking,
        value_date=r.date(ntry.find("ValDt"), "value date", here),
        amount=amount,
        currency=currency,
        counterparty_name=names[0] if names else None,
        counterparty_account=accounts[0] if accounts else None,
        remittance_info=" ".join(remittance) or None,
        bank_reference=bank_ref,
        end_to_end_id=" ".join(e2e) or None,
        source_line=r.line(ntry),
    )
