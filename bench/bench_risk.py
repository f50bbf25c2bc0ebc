"""Pre-trade risk check: ``risk.limits.check`` of one passing BUY FOK, and of a 5-leg basket.

Target (issue 4 budget): about 2 us per check in the common case, so that a five-leg basket
fits in the 30 us tick-to-order p50. Informative only: always exits 0.

The state is shaped like the engine's: 5 open positions, 3 open orders (2 BUYs, 1 SELL) and
an instrument mapping that, like ``engine/state.py``'s ``_Instruments``, builds a new
:class:`InstrumentView` on every lookup from the book's top and the market's rules.
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
from prediction_engine.risk import limits as limits_module
from prediction_engine.risk.limits import InstrumentView, RiskLimits, RiskState, check

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
        Order(client_id="a", market=MARKETS[0], token=TOKENS[0], side=Side.BUY, price=190_000,
              size=10 * ONE, status=OrderStatus.ACCEPTED),
        Order(client_id="b", market=MARKETS[6], token=TOKENS[12], side=Side.BUY, price=250_000,
              size=8 * ONE, filled=2 * ONE, status=OrderStatus.PARTIALLY_FILLED),
        Order(client_id="c", market=MARKETS[1], token=TOKENS[2], side=Side.SELL, price=300_000,
              size=5 * ONE, status=OrderStatus.ACCEPTED),
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
    return OrderIntent(market=MARKETS[i], token=token, side=Side.BUY, price=210_000 + 20_000 * i,
                       size=10 * ONE, time_in_force=TimeInForce.FOK)


def bench_single(state: RiskState, limits: RiskLimits) -> float:
    """Microseconds per check of one passing intent."""
    intent = leg(0)
    assert type(check(intent, state, limits, NOW)).__name__ == "Approved"

    def loop() -> int:
        for _ in range(N):
            check(intent, state, limits, NOW)
        return N

    return 1e6 / best_rate(loop)


def bench_basket(state: RiskState, limits: RiskLimits, chain: bool) -> float:
    """Microseconds per leg of a 5-leg basket, each approved leg added as an open order."""
    legs = [leg(i) for i in range(5)]
    orders = [Order.from_intent(x, f"leg-{i}", NOW) for i, x in enumerate(legs)]
    summarize = getattr(limits_module, "summarize", None)
    with_order = getattr(limits_module, "with_order", None)

    def one_basket() -> None:
        risk = state
        if chain and summarize is not None and with_order is not None:
            risk = replace(risk, summary=summarize(risk))
        for x, order in zip(legs, orders, strict=True):
            decision = check(x, risk, limits, NOW)
            if type(decision).__name__ != "Approved":
                raise SystemExit(f"basket leg rejected: {decision}")
            if chain and with_order is not None:
                risk = with_order(risk, order)
            else:
                risk = replace(risk, open_orders=[*risk.open_orders, order])

    def loop() -> int:
        for _ in range(N // 5):
            one_basket()
        return N

    return 1e6 / best_rate(loop)


if __name__ == "__main__":
    state, limits = make_state(), RiskLimits()
    single = bench_single(state, limits)
    print(f"risk check, one BUY FOK (5 positions, 3 open orders): {single:.2f} us/check "
          f"(target ~2 us; {machine()})")
    basket = bench_basket(state, limits, chain=False)
    print(f"5-leg basket, open_orders extended with dataclasses.replace: {basket:.2f} us/leg")
    if hasattr(limits_module, "with_order"):
        chained = bench_basket(state, limits, chain=True)
        print(f"5-leg basket, summarize once + with_order per leg: {chained:.2f} us/leg")
    sys.exit(0)
