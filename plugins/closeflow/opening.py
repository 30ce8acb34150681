"""The opening balance sheet: where the books start, posted as one `opening` entry.

A company's `opening_balances.csv` (company.yml's `opening_balances`) lists what each
account holds on the day closeflow's books begin, one row per account:

    account,amount,currency,date
    1200,25000.00,EUR,2026-01-01
    3000,-25000.00,EUR,2026-01-01

Amounts are signed as journal amounts are (debit positive: assets positive, equity and
liabilities negative), in the row's currency; a foreign-currency row is converted at the
date's rate of fx_rates.csv. The rows share one date and sum to zero in the functional
currency: the file is checked on load and a bad one raises ConfigError naming the line.

The nightly posting (closeflow.invoice_posting) posts the sheet as one balanced entry of
source type `opening`, owned by the run `opening:<date>`: every night from the opening
date on replaces it with what the file says, so a corrected file corrects the entry,
until its period is closed; from then on it is left as it is. An opening date in a
period closed before closeflow (company.yml's closed_through) posts to the first open
day, saying so.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from closeflow.config import ConfigError, FxRates
from closeflow.money import round_money, round_rate
from closeflow.periods import PeriodLocks
from closeflow.posting.engine import entry_id_for
from closeflow.runtime import Runtime, Window, period_of

HEADER = ["account", "amount", "currency", "date"]
SOURCE_TYPE = "opening"
RUN_PREFIX = "opening:"


@dataclass(frozen=True)
class OpeningBalance:
    """One account's opening balance: signed, in `currency`, and in the functional
    currency at the opening date's rate."""

    account: str
    amount: Decimal
    currency: str
    rate: Decimal
    functional: Decimal
    line: int  # in the file, for messages


@dataclass(frozen=True)
class OpeningBalanceSheet:
    """The checked opening balance sheet: the balances of one date, summing to zero."""

    day: dt.date
    balances: tuple[OpeningBalance, ...]
    file_name: str
    content_hash: str

    @property
    def run_id(self) -> str:
        return f"{RUN_PREFIX}{self.day.isoformat()}"

    def journal(self, locks: PeriodLocks, functional_currency: str) -> list[dict]:
        """The `opening` entry as journal_lines rows (zero balances left out), dated the
        opening date or, if its period is closed, the first open day."""
        day, moved = locks.place(self.day)
        desc = f"Opening balance sheet {self.day.isoformat()}"
        desc = f"{desc} ({moved})" if moved else desc
        source_id = f"{self.file_name}:{self.day.isoformat()}"
        eid = entry_id_for(SOURCE_TYPE, source_id)
        legs = [b for b in self.balances if b.amount or b.functional]
        rows = [
            {
                "entry_id": eid,
                "line_no": n,
                "entry_date": day,
                "period": period_of(day),
                "account": b.account,
                "amount": b.functional,
                "currency": b.currency,
                "amount_txn": b.amount,
                "fx_rate": round_rate(b.rate),
                "cost_center": None,
                "supplier_id": None,
                "source_type": SOURCE_TYPE,
                "source_id": source_id,
                "rule_id": None,
                "rule_version": self.content_hash,
                "description": desc,
                "run_id": self.run_id,
            }
            for n, b in enumerate(legs, start=1)
        ]
        if sum(r["amount"] for r in rows) != 0:  # load_opening_balances refuses such files
            raise ValueError(f"opening entry {eid} does not balance")
        return rows


def _money(path: Path, n: int, text: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation as exc:
        raise ConfigError(path, n, f"amount {text!r} is not a number", "write 25000.00") from exc
    if not value.is_finite() or value != round_money(value):
        raise ConfigError(path, n, f"amount {text!r} is not money", "give at most 2 decimals")
    return round_money(value)


def load_opening_balances(
    path: Path | str, accounts: set[str], functional_currency: str, fx: FxRates
) -> OpeningBalanceSheet:
    """Read and check an opening balance sheet file (see the module docstring)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ConfigError(path, None, f"cannot read file: {exc.strerror}") from exc
    rows = [
        (n, row)
        for n, row in enumerate(csv.reader(text.splitlines()), start=1)
        if row and not row[0].lstrip().startswith("#") and any(c.strip() for c in row)
    ]
    if not rows or [c.strip().lower() for c in rows[0][1]] != HEADER:
        first = rows[0][0] if rows else 1
        raise ConfigError(path, first, "the header is missing", "start with: " + ",".join(HEADER))
    balances, days = [], set()
    for n, row in rows[1:]:
        if len(row) != len(HEADER):
            raise ConfigError(path, n, f"{len(row)} columns, not {len(HEADER)}", ",".join(HEADER))
        account, amount, currency, day = (c.strip() for c in row)
        if account not in accounts:
            raise ConfigError(
                path,
                n,
                f"account {account!r} is not in the chart of accounts",
                "use an account code from chart_of_accounts.yml",
            )
        value = _money(path, n, amount)
        currency = currency.upper()
        if len(currency) != 3 or not currency.isalpha():
            raise ConfigError(path, n, f"currency {currency!r} is not a currency code", "EUR")
        try:
            date = dt.date.fromisoformat(day)
        except ValueError as exc:
            raise ConfigError(path, n, f"date {day!r} is not a date", "YYYY-MM-DD") from exc
        days.add(date)
        rate = fx.rate(currency, date, functional_currency)
        if rate is None:
            if value:
                raise ConfigError(
                    path,
                    n,
                    f"no {currency} exchange rate on {date} in fx_rates.csv",
                    "add the rate or give the balance in " + functional_currency,
                )
            rate = Decimal(0)
        functional = round_money(value * rate)
        balances.append(OpeningBalance(account, value, currency, rate, functional, n))
    if not balances:
        raise ConfigError(path, rows[0][0], "no balances below the header", "add one per account")
    if len(days) > 1:
        raise ConfigError(
            path,
            None,
            "the balances have different dates: " + ", ".join(sorted(map(str, days))),
            "an opening balance sheet has one date",
        )
    total = sum((b.functional for b in balances), Decimal("0.00"))
    if total:
        raise ConfigError(
            path,
            None,
            f"the balances sum to {total} {functional_currency}, not 0.00",
            "book the difference to an equity account (share capital, retained earnings)",
        )
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    return OpeningBalanceSheet(days.pop(), tuple(balances), path.name, digest)


def opening_journal(
    rt: Runtime, window: Window, locks: PeriodLocks
) -> tuple[list[dict] | None, str]:
    """What the night of `window` writes for the opening entry (replacing every row of an
    `opening:` run), or None to leave it as it is; and why, in words."""
    raw = rt.warehouse.schema
    posted = [
        r["period"]
        for r in rt.warehouse.query(
            f"SELECT DISTINCT period FROM {raw}.journal_lines WHERE run_id LIKE :o ORDER BY period",
            {"o": RUN_PREFIX + "%"},
        ).to_pylist()
    ]
    closed = [p for p in posted if locks.is_closed(p)]
    if closed:
        return None, f"left as it is: {locks.why_closed(closed[0])}"
    sheet = rt.company.opening_balances()
    if sheet is None:
        return [], "no opening balance sheet"
    if sheet.day >= window.end:
        return None, f"not yet: the books open on {sheet.day}"
    return sheet.journal(locks, rt.company.company.functional_currency), "posted"
