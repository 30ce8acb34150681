"""Daily EUR per CNY rates for the sample: a seeded random walk around 0.128.

Computed in Decimal (six decimals) so the rate a test reads back from fx_rates.csv is
exactly the rate the ground truth used to convert Chinese invoices.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from closeflow.money import round_rate
from closeflow.sample.seeds import stream

CENTER = Decimal("0.128000")
MARGIN_DAYS = 10


def cny_rates(seed: int, start: dt.date, end: dt.date) -> dict[dt.date, Decimal]:
    """EUR per 1 CNY for every day from 10 days before `start` to 10 days after `end - 1`.

    Each day moves by at most 0.00004 plus a pull of 5 % back towards 0.128.
    """
    rng = stream(seed, "fx", "CNY")
    first = start - dt.timedelta(days=MARGIN_DAYS)
    days = (end - first).days + MARGIN_DAYS
    rate, out = CENTER, {}
    for n in range(days):
        out[first + dt.timedelta(days=n)] = rate
        step = Decimal(rng.randint(-40, 40)) / 1_000_000
        rate = round_rate(rate + step + (CENTER - rate) * Decimal("0.05"))
    return out


def fx_rates_csv(rates: dict[dt.date, Decimal], currency: str = "CNY") -> str:
    """The fx_rates.csv text: `date,currency,rate`, one row per day, ascending."""
    rows = [f"{day.isoformat()},{currency},{rate:.6f}" for day, rate in sorted(rates.items())]
    return "date,currency,rate\n" + "\n".join(rows) + "\n"
