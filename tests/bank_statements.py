"""A bank statement written straight into the warehouse, for tests of what the nightly
steps do with its lines (reconciliation, bank rules, person decisions)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from closeflow.runtime import Runtime


def insert_statement(
    rt: Runtime, sid: str, day: dt.date, account_id: str, lines: list[tuple[str, str, str]]
) -> None:
    """A EUR statement of `account_id` imported by the night of `day`, its lines booked
    that day: (amount, counterparty name, remittance text) each, no counterparty IBAN."""
    run = f"bank:{day.isoformat()}"
    with rt.warehouse.transaction() as t:
        t.insert(
            "bank_statements",
            [{"statement_id": sid, "account_id": account_id, "currency": "EUR", "run_id": run}],
        )
        t.insert(
            "bank_lines",
            [
                {
                    "line_id": f"{sid}:{n}",
                    "statement_id": sid,
                    "booking_date": day,
                    "value_date": day,
                    "amount": Decimal(amount),
                    "currency": "EUR",
                    "counterparty_name": name,
                    "remittance_info": text,
                    "run_id": run,
                }
                for n, (amount, name, text) in enumerate(lines, start=1)
            ],
        )
