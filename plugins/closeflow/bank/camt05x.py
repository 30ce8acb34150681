"""ISO 20022 bank-to-customer cash management reader: camt.053, camt.052 and camt.054.

One reader for the three messages, which share their account and entry structure:
camt.053 end-of-day statements (`BkToCstmrStmt/Stmt`), camt.052 intraday account reports
(`BkToCstmrAcctRpt/Rpt`) and camt.054 debit/credit notifications
(`BkToCstmrDbtCdtNtfctn/Ntfctn`, which carry no balances). `source_format` names the
message the file is (`camt.052`, `camt.053`, `camt.054`).

The file is untrusted: it is parsed with defusedxml (no DTDs, no entities, no external
references; closeflow.bank.xmltree), through the pure-Python expat parser so every element
keeps the line it starts on and errors can point at it. Namespaces are dropped on the way
in, so versions .001.02 to .001.13 and files without a namespace read alike.

What is read, per statement, report or notification (a file may hold several, e.g. one
per currency account):
- account: `Acct/Id/IBAN` or `Acct/Id/Othr/Id`; currency: `Acct/Ccy`, else the balances'.
- balances: opening `OPBD` (else `PRCD`, the previous closing), closing `CLBD` (else
  `CLAV`); the lines must add up from one to the other. A statement without them is
  read, with a warning that completeness cannot be checked.
- entries (`Ntry`): booked ones only (`Sts` BOOK or absent; PDNG/INFO are skipped with a
  warning, they have not moved money). The amount is `Ntry/Amt` in the account's currency
  (any instructed or counter-value amount in `AmtDtls` is the payment's, not the
  booking's), signed by `CdtDbtInd`; a reversal (`RvslInd`) is already booked in the
  direction its indicator gives. Dates: `BookgDt`/`ValDt` as `Dt` or `DtTm` (the date as
  the bank wrote it, no timezone conversion).
- batch bookings: an entry whose transaction details (`NtryDtls/TxDtls`, two or more) each
  carry their own amount in the entry's currency (`TxDtls/Amt`, else `AmtDtls/TxAmt`,
  `AmtDtls/CntrValAmt`, `AmtDtls/InstdAmt`), signed by their own `CdtDbtInd` or the
  entry's, and adding up to the entry's amount, becomes one line per transaction, each
  with its own counterparty, references and text (a salary run, a direct-debit
  collection). When the details do not say their amounts, the entry stays one line; when
  they do not add up to it, it stays one line with a warning (the booked amount is the
  bank's record; the details are only its explanation). References: `AcctSvcrRef` (bank's),
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

from closeflow.bank.statement import (
    Balance,
    Entry,
    ParsedStatement,
    SourceFile,
    build_statement,
    money,
)
from closeflow.bank.xmltree import Tree, parse_xml

NAME = "camt"
NAMESPACE_PREFIX = "urn:iso:std:iso:20022:tech:xsd:camt.05"
# message -> (body element, statement element, what a statement is called)
MESSAGES = {
    "camt.052": ("BkToCstmrAcctRpt", "Rpt", "report"),
    "camt.053": ("BkToCstmrStmt", "Stmt", "statement"),
    "camt.054": ("BkToCstmrDbtCdtNtfctn", "Ntfctn", "notification"),
}
_MESSAGE_OF_BODY = {body: msg for msg, (body, _, _) in MESSAGES.items()}
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
    """An XML document that names camt.052/053/054 or their body element."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    return text.startswith(b"<") and (
        any(m.encode() in head for m in MESSAGES)
        or any(body.encode() in head for body, _, _ in MESSAGES.values())
    )


class _Reader:
    """Helpers bound to one file: text lookups and errors that carry the element's line."""

    def __init__(self, src: SourceFile, tree: Tree) -> None:
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

    def amount(
        self,
        parent: ET.Element,
        where: str,
        what: str,
        amt: ET.Element | None = None,
        indicator_of: ET.Element | None = None,
    ) -> tuple[Decimal, str]:
        """Signed amount and currency of `parent/Amt` (or `amt`) with `parent/CdtDbtInd`
        (or `indicator_of/CdtDbtInd`, when `parent` has none)."""
        amt = parent.find("Amt") if amt is None else amt
        if amt is None:
            raise self.fail(parent, f"{where}: {what} has no amount (Amt)")
        value = (amt.text or "").strip()
        if not _AMOUNT.fullmatch(value):
            raise self.fail(amt, f"{where}: {what} {value!r} is not a number")
        currency = (amt.get("Ccy") or "").strip().upper()
        if not re.fullmatch(r"[A-Z]{3}", currency):
            raise self.fail(amt, f"{where}: {what} {value} has no valid currency (Ccy)")
        indicator = self.text(parent, "CdtDbtInd")
        if indicator is None and indicator_of is not None:
            parent = indicator_of
            indicator = self.text(parent, "CdtDbtInd")
        if indicator not in ("CRDT", "DBIT"):
            ind = parent.find("CdtDbtInd")
            raise self.fail(
                ind if ind is not None else parent,
                f"{where}: {what} {value} {currency} does not say whether it is a credit or "
                f"a debit (CdtDbtInd is {indicator!r}, expected CRDT or DBIT)",
            )
        signed = money(self.src, self.line(amt), Decimal(value), what, currency)
        return (-signed if indicator == "DBIT" else signed), currency


def parse(src: SourceFile) -> list[ParsedStatement]:
    """Every statement, report or notification in a camt.052/053/054 file, in file order."""
    root, tree = parse_xml(src)
    r = _Reader(src, tree)
    ns = tree.namespace or ""
    body = root[0] if len(root) else None
    message = _MESSAGE_OF_BODY.get(body.tag) if body is not None else None
    if ns and ns.startswith(NAMESPACE_PREFIX):
        named = ns.removeprefix("urn:iso:std:iso:20022:tech:xsd:")[:8]
        message = named if named in MESSAGES else None
    if root.tag != "Document" or message is None or (ns and not ns.startswith(NAMESPACE_PREFIX)):
        kind = ns.rsplit(":", 1)[-1] if ns else root.tag
        raise r.fail(
            root,
            f"this XML is a {kind} document, not a camt.052, camt.053 or camt.054 bank "
            "statement; closeflow reads those ISO 20022 cash management messages",
        )
    body_tag, stmt_tag, called = MESSAGES[message]
    body = root.find(body_tag)
    if body is None:
        first = root[0].tag if len(root) else "nothing"
        raise r.fail(root, f"no {message} message body ({body_tag}) in it, found {first}")
    stmts = body.findall(stmt_tag)
    if not stmts:
        raise r.fail(body, f"the file holds no {called} ({stmt_tag})")
    return [_statement(r, st, n, message, called) for n, st in enumerate(stmts, start=1)]


def _statement(r: _Reader, st: ET.Element, n: int, message: str, called: str) -> ParsedStatement:
    own_id = r.text(st, "Id")
    where = f"{called} {own_id}" if own_id else f"{called} {n}"
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
        entries.extend(_entries(r, ntry, where, len(entries) + 1, warnings))

    currency = (
        r.text(st, "Acct/Ccy")
        or next((b.currency for b in (opening, closing) if b is not None), None)
        or (entries[0].currency if entries else None)
        or r.src.currency
    )
    if currency is None:
        raise r.fail(st, f"{where}: the {called} does not say its currency (Acct/Ccy)")

    period = st.find("FrToDt")
    from_date = to_date = None
    if period is not None:
        from_date = _period_date(r, period, "Fr", where)
        to_date = _period_date(r, period, "To", where)
    return build_statement(
        r.src,
        source_format=message,
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


_TX_AMOUNTS = ("Amt", "AmtDtls/TxAmt/Amt", "AmtDtls/CntrValAmt/Amt", "AmtDtls/InstdAmt/Amt")


def _entries(r: _Reader, ntry: ET.Element, where: str, n: int, warnings: list[str]) -> list[Entry]:
    """The entry as one line, or its transaction details as one line each (a batch)."""
    here = f"{where}, entry {n}"
    amount, currency = r.amount(ntry, here, "amount")
    booking = r.date(ntry.find("BookgDt"), "booking date", here)
    if booking is None:
        raise r.fail(ntry, f"{here}: no booking date (BookgDt)")
    value_date = r.date(ntry.find("ValDt"), "value date", here)
    txs = ntry.findall("NtryDtls/TxDtls")
    batch = r.text(ntry, "NtryDtls/Btch/NbOfTxs")
    parts = _batch_parts(r, ntry, txs, currency, here) if len(txs) > 1 else None
    if parts is not None:
        total = sum(parts, Decimal("0.00"))
        if total == amount:
            return [
                _entry(r, ntry, [tx], part, currency, booking, value_date, split=True)
                for tx, part in zip(txs, parts, strict=True)
            ]
        warnings.append(
            f"{here} (file line {r.line(ntry)}) books {amount:,.2f} {currency} for "
            f"{len(txs)} transactions whose amounts add up to {total:,.2f}; it is kept as "
            "one line"
        )
    elif batch and batch.isdigit() and int(batch) > max(1, len(txs)):
        warnings.append(
            f"{here} (file line {r.line(ntry)}) books a batch of {batch} transactions as one "
            f"line of {amount:,.2f} {currency}; the file does not list them"
        )
    return [_entry(r, ntry, txs, amount, currency, booking, value_date)]


def _batch_parts(
    r: _Reader, ntry: ET.Element, txs: list[ET.Element], currency: str, here: str
) -> list[Decimal] | None:
    """Each transaction detail's signed amount in the entry's currency, or None when one
    of them does not give it."""
    parts = []
    for i, tx in enumerate(txs, start=1):
        amt = next(
            (
                a
                for path in _TX_AMOUNTS
                if (a := tx.find(path)) is not None
                and (a.get("Ccy") or "").strip().upper() == currency
            ),
            None,
        )
        if amt is None:
            return None
        parts.append(
            r.amount(tx, f"{here}, transaction {i}", "amount", amt=amt, indicator_of=ntry)[0]
        )
    return parts


def _entry(
    r: _Reader,
    ntry: ET.Element,
    txs: list[ET.Element],
    amount: Decimal,
    currency: str,
    booking: dt.date,
    value_date: dt.date | None,
    split: bool = False,
) -> Entry:
    """One line: the entry (with all its transaction details' texts), or with `split`
    one transaction of a batch (its own references; the entry's when it has none)."""
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
    own_refs = r.texts(txs, ("Refs/AcctSvcrRef",)) if split else []
    bank_ref = (
        next(iter(own_refs), None)
        or r.text(ntry, "AcctSvcrRef")
        or next(iter(r.texts(txs, ("Refs/AcctSvcrRef",))), None)
        or r.text(ntry, "NtryRef")
    )
    return Entry(
        booking_date=booking,
        value_date=value_date,
        amount=amount,
        currency=currency,
        counterparty_name=names[0] if names else None,
        counterparty_account=accounts[0] if accounts else None,
        remittance_info=" ".join(remittance) or None,
        bank_reference=bank_ref,
        end_to_end_id=" ".join(e2e) or None,
        source_line=r.line(txs[0] if split else ntry),
    )
