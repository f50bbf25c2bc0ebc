"""From a strategy's signal to an order: side, price at the touch, fractional Kelly size.

A :class:`~prediction_engine.strategy.sizing.Signal` says "this token is worth ``fair_price``".
The engine takes it at the touch with a fill-and-kill order:

- BUY: at the best ask, sized by ``multiplier x`` Kelly against the bankroll, within the risk
  room (:func:`~prediction_engine.risk.limits.buy_room`) and the displayed size at the ask.
- SELL of a held token: at the best bid, at most the shares held (minus open sells) and the
  displayed size at the bid.
- SELL of a token not held: we do not short; on a binary market it is the same bet as buying
  the other token (a bid at ``p`` on YES is an ask at ``1 - p`` on NO), so it becomes a BUY of
  the complement with probability ``1 - fair_price``.

Sizes are floored to the venue's step; an order below the venue's $1 marketable minimum is not
worth sending and yields the reason instead of an order.
"""

from __future__ import annotations

from prediction_engine.core.events import Side
from prediction_engine.core.numbers import ONE
from prediction_engine.core.orders import OrderIntent, TimeInForce
from prediction_engine.engine.state import EngineState
from prediction_engine.risk.limits import RiskLimits, RiskState, buy_room
from prediction_engine.strategy.sizing import Signal, kelly_size

__all__ = ["size_signal"]


def _complement(state: EngineState, signal: Signal) -> Signal | None:
    market = state.market_of.get(signal.token)
    if market is None or len(market.tokens) != 2:
        return None
    other = market.tokens[1] if market.tokens[0] == signal.token else market.tokens[0]
    return Signal(
        market=signal.market,
        token=other,
        side=Side.BUY,
        edge=signal.edge,
        confidence=signal.confidence,
        fair_price=1.0 - signal.fair_price,
        strategy=signal.strategy,
    )


def _sell(state: EngineState, signal: Signal, limits: RiskLimits) -> OrderIntent | str:
    book = state.books.book(signal.token)
    bid = book.best_bid if book else None
    if book is None or bid is None:
        return "no bid"
    selling = sum(
        o.remaining
        for o in state.open_orders.values()
        if o.token == signal.token and o.side is Side.SELL
    )
    held = state.portfolio.shares(signal.token) - selling
    size = min(held, book.best_bid_size()) // limits.size_step * limits.size_step
    if size <= 0:
        return "nothing to sell"
    return _take(signal, Side.SELL, bid, size, limits)


def _take(
    signal: Signal, side: Side, price: int, size: int, limits: RiskLimits
) -> OrderIntent | str:
    """The fill-and-kill order at the touch, unless it is below the venue's marketable minimum."""
    if price * size // ONE < limits.min_marketable_notional:
        return "below the marketable minimum"
    return OrderIntent(
        market=signal.market,
        token=signal.token,
        side=side,
        price=price,
        size=size,
        time_in_force=TimeInForce.FAK,
    )


def size_signal(
    signal: Signal, state: EngineState, risk: RiskState, limits: RiskLimits, multiplier: float
) -> OrderIntent | str:
    """Return the order that takes ``signal`` at the touch, or why there is none.

    ``risk`` is ``state``'s risk view (with its summary, so sizing does not sum it again).
    """
    if signal.side is Side.SELL:
        if state.portfolio.shares(signal.token) > 0:
            return _sell(state, signal, limits)
        complement = _complement(state, signal)
        if complement is None:
            return "SELL of a token not held, and no complement to buy"
        signal = complement
    book = state.books.book(signal.token)
    ask = book.best_ask if book else None
    if book is None or ask is None:
        return "no ask"
    schedule = state.fee_schedule(signal.token)
    room = buy_room(risk, limits, signal.market)
    size = kelly_size(
        Side.BUY,
        ask,
        signal.fair_price,
        state.bankroll(),
        multiplier=multiplier,
        fee_schedule=schedule,
        max_notional=room,
        size_step=limits.size_step,
    )
    size = min(size, book.best_ask_size() // limits.size_step * limits.size_step)
    if size <= 0:
        return "no Kelly size (no edge after fees, or no room)"
    return _take(signal, Side.BUY, ask, size, limits)
