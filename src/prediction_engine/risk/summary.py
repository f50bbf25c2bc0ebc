"""What the risk rules need from open orders and positions, summed once per state.

The rules compare an intent with totals: cash reserved by open BUYs (fees included), USD at
risk (total and per market), open orders (total and per market) and shares offered by open
SELLs. :func:`summarize` computes them in one pass; :func:`with_order` adds one more open
order without a pass, which is how the legs of a basket are checked one after another.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import msgspec

from prediction_engine.core.events import Side
from prediction_engine.core.fees import taker_fee
from prediction_engine.core.ids import ConditionId, TokenId
from prediction_engine.core.markets import FeeSchedule
from prediction_engine.core.numbers import ONE
from prediction_engine.core.orders import Order
from prediction_engine.core.portfolio import Position

if TYPE_CHECKING:
    from prediction_engine.risk.limits import InstrumentView, RiskState

__all__ = ["RiskSummary", "buy_cost", "summarize", "summary_of", "taker_fee", "with_order"]


class RiskSummary(msgspec.Struct, frozen=True, kw_only=True):
    """Totals over a state's open orders and positions (money in micro-USD, sizes micro-shares).

    ``orders``, ``positions`` and ``instruments`` are the collections it was computed from:
    risk uses a summary only for a state holding those very objects, so a state copied with
    other orders or positions never reuses a stale summary.
    """

    reserved_cash: int
    """What open BUYs may still take: notional plus the taker fee (none if post-only)."""
    exposure: int
    """USD at risk in all markets: long positions' cost, short payouts, open BUYs' notional."""
    market_exposure: Mapping[ConditionId, int]
    """USD at risk per market (markets with a position or an open BUY)."""
    open_order_count: int
    market_order_counts: Mapping[ConditionId, int]
    shares_offered: Mapping[TokenId, int]
    """Shares that open SELLs may still sell, per token."""
    orders: Sequence[Order]
    positions: Mapping[TokenId, Position]
    instruments: Mapping[TokenId, InstrumentView]

    def describes(self, state: RiskState) -> bool:
        """Return whether this summary was computed from ``state``'s own collections."""
        return (
            self.orders is state.open_orders
            and self.positions is state.positions
            and self.instruments is state.instruments
        )


def buy_cost(size: int, price: int, post_only: bool, schedule: FeeSchedule | None) -> int:
    """Return the cash a BUY can take: notional plus the taker fee it would pay if it took."""
    fee = 0 if post_only else taker_fee(size, price, schedule)
    return price * size // ONE + fee


def _schedule(instruments: Mapping[TokenId, InstrumentView], token: TokenId) -> FeeSchedule | None:
    view = instruments.get(token)
    return view.fee_schedule if view else None


def summarize(state: RiskState) -> RiskSummary:
    """Return the totals of ``state``'s open orders and positions (closed orders ignored)."""
    market_exposure: dict[ConditionId, int] = {}
    for p in state.positions.values():
        # The most a position can lose: its cost if long, payouts minus proceeds if short.
        at_risk = p.basis if p.shares >= 0 else p.basis - p.shares
        market_exposure[p.market] = market_exposure.get(p.market, 0) + at_risk
    counts: dict[ConditionId, int] = {}
    offered: dict[TokenId, int] = {}
    schedules: dict[TokenId, FeeSchedule | None] = {}  # one view per token, not per order
    reserved = 0
    for o in state.open_orders:
        if not o.is_open:
            continue
        market, token, remaining = o.market, o.token, o.remaining
        counts[market] = counts.get(market, 0) + 1
        if o.side is Side.BUY:
            if not o.post_only and token not in schedules:
                schedules[token] = _schedule(state.instruments, token)
            reserved += buy_cost(remaining, o.price, o.post_only, schedules.get(token))
            market_exposure[market] = market_exposure.get(market, 0) + remaining * o.price // ONE
        elif o.side is Side.SELL:
            offered[token] = offered.get(token, 0) + remaining
    return RiskSummary(
        reserved_cash=reserved,
        exposure=sum(market_exposure.values()),
        market_exposure=market_exposure,
        open_order_count=sum(counts.values()),
        market_order_counts=counts,
        shares_offered=offered,
        orders=state.open_orders,
        positions=state.positions,
        instruments=state.instruments,
    )


def summary_of(state: RiskState) -> RiskSummary:
    """Return the state's own summary, or a fresh one if it has none or one of other collections."""
    summary = state.summary
    if summary is None or not summary.describes(state):
        return summarize(state)
    return summary


def with_order(state: RiskState, order: Order) -> RiskState:
    """Return ``state`` with ``order`` appended to its open orders and its summary updated.

    Equals ``replace(state, open_orders=[*state.open_orders, order])`` with the summary of the
    result, without summing again: check the legs of a basket one after another, each
    approved leg an open order when the next is checked. Computes the summary if missing.
    """
    summary = summary_of(state)
    schedule = None
    if order.side is Side.BUY and not order.post_only and order.is_open:
        view = state.instruments.get(order.token)
        schedule = view.fee_schedule if view else None
    orders = [*state.open_orders, order]
    # Every field by hand (type(state) is RiskState, which imports this module): twice as
    # fast as dataclasses.replace. A test keeps this list in step with RiskState's fields.
    return type(state)(
        cash=state.cash,
        positions=state.positions,
        open_orders=orders,
        instruments=state.instruments,
        last_order_ns=state.last_order_ns,
        daily_pnl=state.daily_pnl,
        kill_switch=state.kill_switch,
        summary=_add_order(summary, order, orders, schedule),
    )


def _add_order(
    summary: RiskSummary, order: Order, orders: Sequence[Order], schedule: FeeSchedule | None
) -> RiskSummary:
    """Return ``summary`` with one more order, now describing ``orders`` (which include it)."""
    if not order.is_open:
        return msgspec.structs.replace(summary, orders=orders)
    market, token, remaining = order.market, order.token, order.remaining
    reserved, exposure = summary.reserved_cash, summary.exposure
    market_exposure, offered = summary.market_exposure, summary.shares_offered
    counts = dict(summary.market_order_counts)  # copies of a few entries: no shared dicts
    counts[market] = counts.get(market, 0) + 1
    if order.side is Side.BUY:
        reserved += buy_cost(remaining, order.price, order.post_only, schedule)
        notional = remaining * order.price // ONE
        exposure += notional
        market_exposure = dict(market_exposure)
        market_exposure[market] = market_exposure.get(market, 0) + notional
    elif order.side is Side.SELL:
        offered = dict(offered)
        offered[token] = offered.get(token, 0) + remaining
    return RiskSummary(
        reserved_cash=reserved,
        exposure=exposure,
        market_exposure=market_exposure,
        open_order_count=summary.open_order_count + 1,
        market_order_counts=counts,
        shares_offered=offered,
        orders=orders,
        positions=summary.positions,
        instruments=summary.instruments,
    )
