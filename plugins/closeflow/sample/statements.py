"""Daily bank statements of both accounts, as files for HOME/bank_inbox.

The EUR account gets a camt.053 statement every business day of the window (empty days
too), its opening balance the previous closing balance; the CNY account a CSV on each day
it has movements. Bank references number the lines through the window. Each file's
mtime is 22:00 Berlin time on its statement day, when the bank delivers it.
"""

from __future__ import annotations

import datetime as dt
import os
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from closeflow.sample.bank_csv import csv_statement
from closeflow.sample.business_days import DateRange, local_instant
from closeflow.sample.camt053 import StatementHeader, camt053_statement
from closeflow.sample.company import CompanyIdentity
from closeflow.sample.payments import OPENING_BALANCE, BankLine

DELIVERY_HOUR = 22


@dataclass(frozen=True)
class StatementFile:
    path: str  # relative to HOME: bank_inbox/...
    account_id: str
    currency: str
    day: dt.date
    opening: Decimal
    closing: Decimal
    entries: tuple[tuple[BankLine, str], ...]  # (line, bank reference) in booking order
    content: bytes
    format: str  # camt053 | csv

    @property
    def delivered_at(self) -> dt.datetime:
        return local_instant(self.day, DELIVERY_HOUR)


def build_statements(
    window: DateRange, company: CompanyIdentity, lines: list[BankLine]
) -> list[StatementFile]:
    """All statement files of the window, EUR then CNY per day, in date order."""
    by_day: dict[tuple[str, dt.date], list[BankLine]] = defaultdict(list)
    for line in lines:
        by_day[(line.currency, line.booking_date)].append(line)
    out: list[StatementFile] = []
    balance = dict(OPENING_BALANCE)
    seq = {"EUR": 0, "CNY": 0}
    for number, day in enumerate(window.business_days(), start=1):
        for currency in ("EUR", "CNY"):
            day_lines = sorted(by_day.get((currency, day), []), key=lambda ln: ln.sort_key)
            if currency == "CNY" and not day_lines:
                continue
            entries = []
            for line in day_lines:
                seq[currency] += 1
                prefix = "CBK" if currency == "EUR" else "ICBC"
                entries.append((line, f"{prefix}{day:%Y%m%d}{seq[currency]:06d}"))
            opening = balance[currency]
            closing = opening + sum((ln.amount for ln in day_lines), Decimal("0.00"))
            balance[currency] = closing
            if currency == "EUR":
                header = StatementHeader(
                    message_id=f"CBK-STMT-{day:%Y%m%d}-{number:04d}",
                    statement_id=f"{company.eur_iban[-10:]}-{day:%Y%m%d}",
                    sequence=number,
                    created_at=local_instant(day, DELIVERY_HOUR),
                    day=day,
                    iban=company.eur_iban,
                    currency="EUR",
                    owner=company.name,
                    bic=company.eur_bic,
                )
                content = camt053_statement(header, opening, entries)
                path = f"bank_inbox/camt053_{company.eur_iban}_{day.isoformat()}.xml"
                account, fmt = company.eur_iban, "camt053"
            else:
                content = csv_statement(entries, "CNY")
                path = f"bank_inbox/cny_{company.cny_account}_{day.isoformat()}.csv"
                account, fmt = company.cny_account, "csv"
            out.append(
                StatementFile(
                    path, account, currency, day, opening, closing, tuple(entries), content, fmt
                )
            )
    written = sum(len(s.entries) for s in out)
    if written != len(lines):
        raise ValueError(f"{len(lines) - written} bank lines fall outside the statement days")
    return out


def write_bank_inbox(home: Path, statements: list[StatementFile]) -> None:
    (home / "bank_inbox").mkdir(parents=True, exist_ok=True)
    for statement in statements:
        path = home / statement.path
        path.write_bytes(statement.content)
        stamp = statement.delivered_at.timestamp()
        os.utime(path, (stamp, stamp))
