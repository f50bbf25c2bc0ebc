"""Position sizing (fractional Kelly) and signal selection.

A binary token bought at cost ``c`` per share pays 1 if it wins. With believed probability
``q`` that it wins, the full Kelly fraction of the bankroll to spend is::

    f* = (q - c) / (1 - c)           (0 when q <= c: no edge, no bet)

``c`` is the price plus the taker fee per share (unrounded, so slightly conservative). A SELL of
a token at ``p`` is the mirror: it carries the exposure of buying the complement at ``1 - p``
with probability ``1 - q``, so ``f* = (p - q) / p`` without fees, and its size counts the same
shares. Probabilities are floats (model math); the arithmetic is exact (``Fraction``) and the
size is floored to the venue's step, so spend never exceeds the bankroll or the cap.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from fractions import Fraction

import msgspec

from prediction_engine.core.events import Side
from prediction_engine.core.ids import ConditionId, TokenId
from prediction_engine.core.markets import FeeSchedule
from prediction_engine.core.numbers import ONE

__all__ = ["DEFAULT_KELLY_MULTIPLIER", "Signal", "kelly_fraction", "kelly_size", "select"]

DEFAULT_KELLY_MULTIPLIER = 0.5
"""Half Kelly: most of the growth of full Kelly for much less variance and model risk."""


def _fee_per_share(price: Fraction, schedule: FeeSchedule | None) -> Fraction:
    if schedule is None:
        return Fraction(0)
    return Fraction(schedule.rate) * (price * (1 - price)) ** schedule.exponent


def _cost_and_odds(
    side: Side, price: int, probability: float, schedule: FeeSchedule | None
) -> tuple[Fraction, Fraction]:
    """Return (cost per share in USD, probability it pays) of the equivalent BUY."""
    if not 0 < price < ONE:
        raise ValueError(f"price must be inside (0, {ONE}) micro-units, got {price}")
    if not (math.isfinite(probability) and 0 <= probability <= 1):
        raise ValueError(f"probability must be in [0, 1], got {probability}")
    # The float's shortest decimal form (0.6 -> 3/5), which is what the model meant.
    p, q = Fraction(price, ONE), Fraction(repr(float(probability)))
    fee = _fee_per_share(p, schedule)
    if side is Side.BUY:
        return p + fee, q
    return 1 - p + fee, 1 - q


def kelly_fraction(
    side: Side, price: int, probability: float, fee_schedule: FeeSchedule | None = None
) -> Fraction:
    """Return the full Kelly fraction of the bankroll for a trade at ``price`` (0 without edge).

    ``probability`` is the believed chance that the traded token pays out.
    """
    cost, q = _cost_and_odds(side, price, probability, fee_schedule)
    if cost >= 1 or q <= cost:
        return Fraction(0)
    return (q - cost) / (1 - cost)


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
    kelly = kelly_fraction(side, price, probability, fee_schedule)
    fraction = min(kelly * Fraction(multiplier), Fraction(1))
    budget = fraction * max(bankroll, 0)
    if max_notional is not None:
        budget = min(budget, Fraction(max(max_notional, 0)))
    cost, _ = _cost_and_odds(side, price, probability, fee_schedule)
    shares = math.floor(budget / cost) // size_step * size_step
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
