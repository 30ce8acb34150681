"""ISO 20022 camt.053.001.02 (bank-to-customer statement) XML for the EUR account.

One message per business day: GrpHdr, one Stmt with the account IBAN, the booked opening
(OPBD) and closing (CLBD) balances and one Ntry per movement with its remittance
information (Ustrd, plus Strd/CdtrRefInf for ISO 11649 RF references). Amounts are
written unsigned with CdtDbtInd, as the standard wants; element order follows the
camt.053.001.02 schema.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from decimal import Decimal

from closeflow.sample.payments import BankLine

NAMESPACE = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"


@dataclass(frozen=True)
class StatementHeader:
    message_id: str
    statement_id: str
    sequence: int  # electronic sequence number
    created_at: dt.datetime
    day: dt.date
    iban: str
    currency: str
    owner: str
    bic: str


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{NAMESPACE}}}{tag}", attrs)
    if text is not None:
        element.text = text
    return element


def _path(parent: ET.Element, tags: str, text: str) -> ET.Element:
    """Nested elements `A/B/C` with `text` in the innermost."""
    for tag in tags.split("/"):
        parent = _sub(parent, tag)
    parent.text = text
    return parent


def _amount(value: Decimal) -> str:
    return f"{abs(value):.2f}"


def _balance(stmt: ET.Element, code: str, amount: Decimal, currency: str, day: dt.date) -> None:
    bal = _sub(stmt, "Bal")
    _path(bal, "Tp/CdOrPrtry/Cd", code)
    _sub(bal, "Amt", _amount(amount), Ccy=currency)
    _sub(bal, "CdtDbtInd", "DBIT" if amount < 0 else "CRDT")
    _path(bal, "Dt/Dt", day.isoformat())


def _entry(stmt: ET.Element, line: BankLine, bank_reference: str, currency: str) -> None:
    ntry = _sub(stmt, "Ntry")
    credit = line.amount > 0
    _sub(ntry, "Amt", _amount(line.amount), Ccy=currency)
    _sub(ntry, "CdtDbtInd", "CRDT" if credit else "DBIT")
    _sub(ntry, "Sts", "BOOK")
    _path(ntry, "BookgDt/Dt", line.booking_date.isoformat())
    _path(ntry, "ValDt/Dt", line.value_date.isoformat())
    _sub(ntry, "AcctSvcrRef", bank_reference)
    domain = _sub(_sub(ntry, "BkTxCd"), "Domn")
    _sub(domain, "Cd", line.bank_domain[0])
    family = _sub(domain, "Fmly")
    _sub(family, "Cd", line.bank_domain[1])
    _sub(family, "SubFmlyCd", line.bank_domain[2])
    tx = _sub(_sub(ntry, "NtryDtls"), "TxDtls")
    refs = _sub(tx, "Refs")
    _sub(refs, "AcctSvcrRef", bank_reference)
    _sub(refs, "EndToEndId", line.end_to_end_id)
    _sub(_sub(_sub(tx, "AmtDtls"), "TxAmt"), "Amt", _amount(line.amount), Ccy=currency)
    parties = _sub(tx, "RltdPties")
    role = "Dbtr" if credit else "Cdtr"
    _path(parties, f"{role}/Nm", line.counterparty_name)
    if line.counterparty_account:
        _path(parties, f"{role}Acct/Id/IBAN", line.counterparty_account)
    remittance = _sub(tx, "RmtInf")
    _sub(remittance, "Ustrd", line.remittance_info)
    if line.rf_reference:
        creditor_ref = _sub(_sub(remittance, "Strd"), "CdtrRefInf")
        tp = _sub(creditor_ref, "Tp")
        _path(tp, "CdOrPrtry/Cd", "SCOR")
        _sub(tp, "Issr", "ISO")
        _sub(creditor_ref, "Ref", line.rf_reference)


def camt053_statement(
    header: StatementHeader,
    opening: Decimal,
    entries: list[tuple[BankLine, str]],
) -> bytes:
    """The statement XML (UTF-8): `entries` are (line, bank reference) in booking order."""
    ET.register_namespace("", NAMESPACE)
    closing = opening + sum((line.amount for line, _ in entries), Decimal("0.00"))
    created = header.created_at.isoformat()
    document = ET.Element(f"{{{NAMESPACE}}}Document")
    message = _sub(document, "BkToCstmrStmt")
    group = _sub(message, "GrpHdr")
    _sub(group, "MsgId", header.message_id)
    _sub(group, "CreDtTm", created)
    pagination = _sub(group, "MsgPgntn")
    _sub(pagination, "PgNb", "1")
    _sub(pagination, "LastPgInd", "true")

    stmt = _sub(message, "Stmt")
    _sub(stmt, "Id", header.statement_id)
    _sub(stmt, "ElctrncSeqNb", str(header.sequence))
    _sub(stmt, "CreDtTm", created)
    period = _sub(stmt, "FrToDt")
    start = dt.datetime.combine(header.day, dt.time(0), tzinfo=header.created_at.tzinfo)
    _sub(period, "FrDtTm", start.isoformat())
    _sub(period, "ToDtTm", header.created_at.isoformat())
    account = _sub(stmt, "Acct")
    _path(account, "Id/IBAN", header.iban)
    _sub(account, "Ccy", header.currency)
    _path(account, "Ownr/Nm", header.owner)
    _path(account, "Svcr/FinInstnId/BIC", header.bic)
    _balance(stmt, "OPBD", opening, header.currency, header.day)
    _balance(stmt, "CLBD", closing, header.currency, header.day)
    summary = _sub(_sub(stmt, "TxsSummry"), "TtlNtries")
    _sub(summary, "NbOfNtries", str(len(entries)))
    for line, reference in entries:
        _entry(stmt, line, reference, header.currency)

    ET.indent(document, space="  ")
    body = ET.tostring(document, encoding="unicode")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n").encode("utf-8")
