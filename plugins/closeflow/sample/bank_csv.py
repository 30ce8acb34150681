"""The CNY account's statement export: one CSV per day with movements.

Header `booking_date,value_date,amount,currency,counterparty_name,counterparty_account,
remittance_info,bank_reference`; comma-separated, `.` decimals, signed amounts (money in
positive), UTF-8 without BOM, `\\n` line ends. The account is named in the file name.
"""

from __future__ import annotations

import csv
import io

from closeflow.sample.payments import BankLine

HEADER = (
    "booking_date",
    "value_date",
    "amount",
    "currency",
    "counterparty_name",
    "counterparty_account",
    "remittance_info",
    "bank_reference",
)


def csv_statement(entries: list[tuple[BankLine, str]], currency: str) -> bytes:
    """The CSV text of `entries` (line, bank reference) in booking order."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADER)
    for line, reference in entries:
        writer.writerow(
            (
                line.booking_date.isoformat(),
                line.value_date.isoformat(),
                f"{line.amount:.2f}",
                currency,
                line.counterparty_name,
                line.counterparty_account,
                line.remittance_info,
                reference,
            )
        )
    return buffer.getvalue().encode("utf-8")
