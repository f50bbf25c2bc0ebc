"""Venue trading fees in exact integer micro-units.

Polymarket (CLOB V2) charges takers only::

    fee = shares x rate x (p x (1 - p)) ** exponent      (exponent is 1 on every V2 schedule)

with ``rate`` and ``exponent`` read from the market's ``feeSchedule`` (never hard-coded: the
published category rates have changed). The venue floors the result to 5 decimals of the
collateral (a multiple of 10 micro-units): on-chain ``OrderFilled`` taker fees equal
``floor(shares x rate x p x (1 - p), 5 dp)`` for BUY and SELL alike. The math below is exact
rational arithmetic on integers, floored once at the end; no floats anywhere.

Makers pay nothing (their rebate is a daily share of the pool, not a per-fill credit), and a
market without a schedule (geopolitics, most long-dated markets) charges nothing.
"""

from __future__ import annotations

import functools
from decimal import Decimal

from prediction_engine.core.markets import FeeSchedule
from prediction_engine.core.numbers import ONE

__all__ = ["FEE_QUANTUM", "fill_fee", "taker_fee", "taker_fee_at_rate"]

FEE_QUANTUM = 10
"""The venue's fee resolution in micro-units: 0.00001 (5 decimals)."""


def taker_fee_at_rate(shares: int, price: int, rate: Decimal, exponent: int = 1) -> int:
    """Return the taker fee in micro-units for ``shares`` (micro) traded at ``price`` (micro).

    Computes ``shares x rate x (p(1-p)) ** exponent`` exactly and floors it to
    :data:`FEE_QUANTUM`. Raises ``ValueError`` for a negative size or rate, a price outside
    [0, 1], a negative exponent or a non-finite rate.
    """
    if shares < 0:
        raise ValueError(f"fee of a negative size {shares}")
    if not 0 <= price <= ONE:
        raise ValueError(f"fee at price {price} outside [0, {ONE}] micro-units")
    if exponent < 0:
        raise ValueError(f"fee exponent must be >= 0, got {exponent}")
    if not rate.is_finite() or rate < 0:
        raise ValueError(f"fee rate must be a finite number >= 0, got {rate}")
    numerator, denominator = _ratio(rate)
    # shares/ONE * num/den * (p(ONE-p)/ONE**2)**e, expressed in micro-units (x ONE).
    variance: int = (price * (ONE - price)) ** exponent
    scale: int = ONE ** (2 * exponent)
    exact_num = shares * numerator * variance
    return exact_num // (denominator * scale * FEE_QUANTUM) * FEE_QUANTUM


@functools.lru_cache(maxsize=256)
def _ratio(rate: Decimal) -> tuple[int, int]:
    # Memo of a pure function: Decimal.as_integer_ratio costs more than the rest of the fee,
    # and markets share a handful of rates. Finite rates only (a NaN is refused before).
    return rate.as_integer_ratio()


def taker_fee(shares: int, price: int, schedule: FeeSchedule | None) -> int:
    """Return the taker fee of a fill under a market's schedule (0 when it has none)."""
    if schedule is None:
        return 0
    return taker_fee_at_rate(shares, price, schedule.rate, schedule.exponent)


def fill_fee(shares: int, price: int, schedule: FeeSchedule | None, *, taker: bool) -> int:
    """Return what one of our fills pays: the taker fee, or 0 for a maker fill.

    A schedule with ``taker_only=False`` (none seen so far) charges the maker the same formula.
    """
    if not taker and (schedule is None or schedule.taker_only):
        return 0
    return taker_fee(shares, price, schedule)
