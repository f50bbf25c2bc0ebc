"""Position sizing (fractional Kelly) and signal selection.

A binary token bought at cost ``c`` per share pays 1 if it wins. With believed probability
``q`` that it wins, the full Kelly fraction of the bankroll to spend is::

    f* = (q - c) / (1 - c)           (0 when q <= c: no edge, no bet)

``c`` is the price plus the taker fee per share (unrounded, so slightly conservative). A SELL of
a token at ``p`` is the mirror: it carries the exposure of buying the complement at ``1 - p``
with probability ``1 - q``, so ``f* = (p - q) / p`` without fees, and its size counts the same
shares. Probabilities are floats (model math); the arithmetic is exact (integer ratios) and the
size is floored to the venue's step, so spend never exceeds the bankroll or the cap.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from decimal import Decimal
from fractions import Fraction

import msgspec

from prediction_engine.core.events import Side
from prediction_engine.core.ids import ConditionId, TokenId
from prediction_engine.core.markets import FeeSchedule
from prediction_engine.core.numbers import ONE

__all__ = ["DEFAULT_KELLY_MULTIPLIER", "Signal", "kelly_fraction", "kelly_size", "select"]

DEFAULT_KELLY_MULTIPLIER = 0.5
"""Half Kelly: most of the growth of full Kelly for much less variance and model risk."""


def _cost_and_odds(
    side: Side, price: int, probability: float, schedule: FeeSchedule | None
) -> tuple[int, int, int, int]:
    """Return the equivalent BUY's cost per share in USD and the probability it pays, exactly,
    as integer ratios ``(cost_num, cost_den, q_num, q_den)``.

    Integers, not ``Fraction``s: the same exact values at a tenth of the cost (sizing runs for
    every signal the engine takes).
    """
    if not 0 < price < ONE:
        raise ValueError(f"price must be inside (0, {ONE}) micro-units, got {price}")
    if not (math.isfinite(probability) and 0 <= probability <= 1):
        raise ValueError(f"probability must be in [0, 1], got {probability}")
    # The float's shortest decimal form (0.6 -> 3/5), which is what the model meant.
    q_num, q_den = Decimal(repr(float(probability))).as_integer_ratio()
    paid = price
    if side is not Side.BUY:  # the complement: bought at 1 - p, paying with 1 - q
        paid, q_num = ONE - price, q_den - q_num
    if schedule is None:
        return paid, ONE, q_num, q_den
    # fee per share = rate x (p (1 - p)) ** e with p = price / ONE: over rate's denominator x
    # ONE ** 2e, and the paid price (over ONE) joins it over that denominator x ONE.
    e = schedule.exponent
    if e < 0:
        raise ValueError(f"fee exponent must be >= 0, got {e}")
    rate_num, rate_den = schedule.rate.as_integer_ratio()
    fee_den = rate_den * ONE ** (2 * e)
    return (paid * fee_den + rate_num * (price * (ONE - price)) ** e * ONE, fee_den * ONE,
            q_num, q_den)


def _kelly(cost_num: int, cost_den: int, q_num: int, q_den: int) -> tuple[int, int]:
    """The full Kelly fraction ``(q - c) / (1 - c)`` as ``(num, den)``; ``(0, 1)`` without edge."""
    if cost_num >= cost_den or q_num * cost_den <= cost_num * q_den:
        return 0, 1
    return q_num * cost_den - cost_num * q_den, q_den * (cost_den - cost_num)


def kelly_fraction(
    side: Side, price: int, probability: float, fee_schedule: FeeSchedule | None = None
) -> Fraction:
    """Return the full Kelly fraction of the bankroll for a trade at ``price`` (0 without edge).

    ``probability`` is the believed chance that the traded token pays out.
    """
    return Fraction(*_kelly(*_cost_and_odds(side, price, probability, fee_schedule)))


def kelly_size(
    side: Side,
    price: int,
    probability: float,
    bankroll: int,
    *,
    multiplier: float = DEFAULT_KELLY_MULTIPLIER,
    fee_schedule: FeeSchedule | None = None,
    max_notional: int | None = None,
    size_step: int = ONE // 100,
    min_size: int = 0,
) -> int:
    """Return the size in micro-shares to trade: ``multiplier`` x Kelly, bounded and floored.

    Spend (cost per share x size, fees included) is at most ``min(f x bankroll, max_notional)``
    with ``f`` capped at 1. The size is floored to ``size_step`` and is 0 when it falls below
    ``min_size`` or there is no edge. Pass the risk room (see ``risk.buy_room``) as
    ``max_notional`` so the intent fits the limits.
    """
    if not (math.isfinite(multiplier) and multiplier >= 0):
        raise ValueError(f"Kelly multiplier must be >= 0, got {multiplier}")
    if size_step <= 0:
        raise ValueError(f"size step must be > 0, got {size_step}")
    cost_num, cost_den, q_num, q_den = _cost_and_odds(side, price, probability, fee_schedule)
    kelly_num, kelly_den = _kelly(cost_num, cost_den, q_num, q_den)
    if kelly_num == 0:
        return 0
    m_num, m_den = multiplier.as_integer_ratio()
    # fraction = min(kelly x multiplier, 1); budget = fraction x bankroll, at most max_notional.
    f_num, f_den = kelly_num * m_num, kelly_den * m_den
    if f_num >= f_den:
        f_num = f_den = 1
    budget_num, budget_den = f_num * max(bankroll, 0), f_den
    if max_notional is not None:
        room = max(max_notional, 0)
        if room * budget_den < budget_num:
            budget_num, budget_den = room, 1
    shares = (budget_num * cost_den) // (budget_den * cost_num) // size_step * size_step
    return shares if shares >= min_size else 0


class Signal(msgspec.Struct, frozen=True, kw_only=True):
    """A strategy's view on one token.

    ``edge`` is the expected gain per share (model units, e.g. fair price minus cost),
    ``confidence`` in [0, 1] how much the model trusts it, ``fair_price`` the model's
    probability that the token pays out.
    """

    market: ConditionId
    token: TokenId
    side: Side
    edge: float
    confidence: float
    fair_price: float
    strategy: str = ""

    def __post_init__(self) -> None:
        if not math.isfinite(self.edge):
            raise ValueError(f"signal edge must be finite, got {self.edge}")
        if not 0 <= self.confidence <= 1:
            raise ValueError(f"signal confidence must be in [0, 1], got {self.confidence}")
        if not 0 <= self.fair_price <= 1:
            raise ValueError(f"signal fair price must be in [0, 1], got {self.fair_price}")

    @property
    def score(self) -> float:
        """Edge weighted by confidence: what :func:`select` ranks by."""
        return self.edge * self.confidence


def select(signals: Iterable[Signal]) -> dict[ConditionId, Signal]:
    """Return the best signal per market: highest ``edge x confidence``, positive only.

    Ties go to the signal seen first; markets appear in the order first seen.
    """
    best: dict[ConditionId, Signal] = {}
    for signal in signals:
        if signal.score <= 0:
            continue
        current = best.get(signal.market)
        if current is None or signal.score > current.score:
            best[signal.market] = signal
    return best
