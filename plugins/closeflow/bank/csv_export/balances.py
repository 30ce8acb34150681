"""A running-balance column checked row by row: each balance must follow from the one
before and the line's amount, with the lines oldest first or newest first. It gives the
statement's opening and closing balances. The check is done on whole columns, read forwards
or backwards in place (views of the columns, not copies)."""

from __future__ import annotations

from decimal import Decimal

import numpy as np

from closeflow.bank.statement import Balance, SourceFile


def _money(cents: int) -> Decimal:
    return Decimal(int(cents)).scaleb(-2)


def running_balances(
    src: SourceFile,
    amounts: np.ndarray,
    balances: np.ndarray | None,
    lines: np.ndarray,
    currency: str,
    where: str,
) -> tuple[Balance | None, Balance | None]:
    """Opening and closing balance from the running balance of each line (cents; None when
    a line has none), checked row by row; `lines` are the lines' places in the file."""
    if len(amounts) == 0 or balances is None:
        return None, None
    first_error: tuple[int, str] | None = None
    last = len(amounts) - 1
    # oldest first, or newest first: the columns as they are, or reversed (views, no copies)
    for ascending in (True, False):
        step = slice(None) if ascending else slice(None, None, -1)
        bal, amt = balances[step], amounts[step]
        breaks = np.flatnonzero(bal[:-1] + amt[1:] != bal[1:])
        if len(breaks) == 0:
            first, final = (0, last) if ascending else (last, 0)
            return (
                Balance(
                    _money(balances[first] - amounts[first]), currency, None, int(lines[first])
                ),
                Balance(_money(balances[final]), currency, None, int(lines[final])),
            )
        k = int(breaks[0]) + 1
        prev, amount, balance = _money(bal[k - 1]), _money(amt[k]), _money(bal[k])
        first_error = first_error or (
            int(lines[k if ascending else last - k]),
            f"the running balance {balance:,.2f} does not follow from the one before: "
            f"{prev:,.2f} + {amount:,.2f} = {prev + amount:,.2f}",
        )
    line, message = first_error
    raise src.error(line, f"{where}: {message}")
