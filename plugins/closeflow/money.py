"""Money: Decimal parsing and rounding at the boundary. Never float."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
RATE_Q = Decimal("0.000001")


class MoneyError(ValueError):
    """An amount that cannot be read as money."""


def to_money(value: object) -> Decimal:
    """Return `value` as a Decimal rounded to the cent (half up). Rejects floats."""
    if isinstance(value, float):
        raise MoneyError(f"refusing float {value!r} as money: pass a str or Decimal")
    try:
        d = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise MoneyError(f"not an amount: {value!r}") from exc
    if not d.is_finite():
        raise MoneyError(f"not a finite amount: {value!r}")
    return d.quantize(CENT, rounding=ROUND_HALF_UP)


def round_money(d: Decimal) -> Decimal:
    return d.quantize(CENT, rounding=ROUND_HALF_UP)


def round_rate(d: Decimal) -> Decimal:
    return d.quantize(RATE_Q, rounding=ROUND_HALF_UP)
