"""Pre-trade risk: ``risk.check`` of one passing BUY FOK, and the legs of a 5-leg basket.

Budget (issue 4): the whole tick-to-order path is 30 us p50 and an arbitrage basket checks
every leg, so one check should take about 2 us in the common case. Informative: exits 0.

The state is shaped like the engine's: 5 open positions, 3 open orders (2 BUYs, 1 SELL) and
an instrument mapping that, like ``engine/state.py``'s ``_Instruments``, builds a new
:class:`InstrumentView` on every lookup from the book's top and the market's rules.

Measured before the risk summary (original ``limits.py``, same machine and script): 13.1-13.6
us per check and 19.6-20.1 us per basket leg (``dataclasses.replace`` between legs).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from dataclasses import replace
from decimal import Decimal

from common import best_rate, machine
from prediction_engine.core.events import Side
from prediction_engine.core.ids import ConditionId, TokenId
from prediction_engine.core.markets import FeeSchedule
from prediction_engine.core.numbers import ONE
from prediction_engine.core.orders import Order, OrderIntent, OrderStatus, TimeInForce
from prediction_engine.core.portfolio import Position
from prediction_engine.risk import (
    Approved,
    InstrumentView,
    RiskLimits,
    RiskState,
    check,
    summarize,
    with_order,
)

N = 20_000
NOW = 10**18
SPORTS = FeeSchedule(rate=Decimal("0.03"))
CRYPTO = FeeSchedule(rate=Decimal("0.07"))
MARKETS = [ConditionId("0x" + f"{i:02x}" * 32) for i in range(10)]
TOKENS = [TokenId(str(10**70 + i)) for i in range(20)]  # token 2i, 2i+1 belong to market i


class Instruments(Mapping[TokenId, InstrumentView]):
    """Views built on demand, as the engine's mapping does (one new view per lookup)."""

    def __init__(self, tops: dict[TokenId, tuple[int, int, int, FeeSchedule]]) -> None:
        self._tops = tops

    def __getitem__(self, token: TokenId) -> InstrumentView:
        tick, bid, ask, schedule = self._tops[token]
        return InstrumentView(
            tick_size=tick,
            min_order_size=5 * ONE,
            best_bid=bid,
            best_ask=ask,
            accepting_orders=True,
            fee_schedule=schedule,
        )

    def __iter__(self) -> Iterator[TokenId]:
        return iter(self._tops)

    def __len__(self) -> int:
        return len(self._tops)


def make_state() -> RiskState:
    """5 positions, 3 open orders (one SELL), fees on every market, no cooldown in force."""
    tops = {
        token: (1_000, 200_000 + 10_000 * i, 210_000 + 10_000 * i, SPORTS if i < 10 else CRYPTO)
        for i, token in enumerate(TOKENS)
    }
    positions = {
        TOKENS[2 * i]: Position(
            market=MARKETS[i], token=TOKENS[2 * i], shares=20 * ONE, basis=5 * ONE
        )
        for i in range(5)
    }
    orders = [
        Order(
            client_id="a",
            market=MARKETS[0],
            token=TOKENS[0],
            side=Side.BUY,
            price=190_000,
            size=10 * ONE,
            status=OrderStatus.ACCEPTED,
        ),
        Order(
            client_id="b",
            market=MARKETS[6],
            token=TOKENS[12],
            side=Side.BUY,
            price=250_000,
            size=8 * ONE,
            filled=2 * ONE,
            status=OrderStatus.PARTIALLY_FILLED,
        ),
        Order(
            client_id="c",
            market=MARKETS[1],
            token=TOKENS[2],
            side=Side.SELL,
            price=300_000,
            size=5 * ONE,
            status=OrderStatus.ACCEPTED,
        ),
    ]
    return RiskState(
        cash=400 * ONE,
        positions=positions,
        open_orders=orders,
        instruments=Instruments(tops),
        last_order_ns={m: NOW - 5 * 10**9 for m in MARKETS},
    )


def leg(i: int) -> OrderIntent:
    """A passing BUY FOK at the ask of market ``i``'s first token."""
    token = TOKENS[2 * i]
    return OrderIntent(
        market=MARKETS[i],
        token=token,
        side=Side.BUY,
        price=210_000 + 20_000 * i,
        size=10 * ONE,
        time_in_force=TimeInForce.FOK,
    )


def per_check_us(state: RiskState, limits: RiskLimits) -> float:
    """Microseconds per check of one passing intent."""
    intent = leg(0)
    assert isinstance(check(intent, state, limits, NOW), Approved)

    def loop() -> int:
        for _ in range(N):
            check(intent, state, limits, NOW)
        return N

    return 1e6 / best_rate(loop)


def per_leg_us(state: RiskState, limits: RiskLimits, *, chained: bool) -> float:
    """Microseconds per leg of a 5-leg basket, each approved leg an open order for the next.

    ``chained``: summarize once, ``with_order`` between legs. Otherwise what the engine did
    before: a state without summary, ``dataclasses.replace`` after every leg.
    """
    legs = [leg(i) for i in range(5)]
    orders = [Order.from_intent(x, f"leg-{i}", NOW) for i, x in enumerate(legs)]
    last = len(legs) - 1

    def basket() -> None:
        risk = replace(state, summary=summarize(state)) if chained else state
        for n, (x, order) in enumerate(zip(legs, orders, strict=True)):
            decision = check(x, risk, limits, NOW)
            if not isinstance(decision, Approved):
                raise SystemExit(f"basket leg rejected: {decision}")
            if not chained:
                risk = replace(risk, open_orders=[*risk.open_orders, order])
            elif n < last:
                risk = with_order(risk, order)

    def loop() -> int:
        for _ in range(N // len(legs)):
            basket()
        return N

    return 1e6 / best_rate(loop)


if __name__ == "__main__":
    state, limits = make_state(), RiskLimits()
    summarized = replace(state, summary=summarize(state))
    print(f"risk check of one BUY FOK (5 positions, 3 open orders; {machine()}):")
    print(f"  state carrying its summary:    {per_check_us(summarized, limits):5.2f} us/check")
    print(f"  state without summary:         {per_check_us(state, limits):5.2f} us/check")
    print("5-leg basket, per leg (summary and state updates included):")
    print(f"  summarize once + with_order:   {per_leg_us(state, limits, chained=True):5.2f} us/leg")
    print(
        f"  plain state + replace per leg: {per_leg_us(state, limits, chained=False):5.2f} us/leg"
    )
    sys.exit(0)
