"""The built-in strategies on a dict-backed view with real order books.

Expected numbers are worked out by hand in the comments (fees: shares x rate x p(1-p)).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import msgspec
import pytest

from prediction_engine.core.events import Side
from prediction_engine.core.ids import ConditionId, TokenId
from prediction_engine.core.markets import FeeSchedule, Market
from prediction_engine.core.numbers import ONE
from prediction_engine.core.orders import Order, OrderIntent, TimeInForce
from prediction_engine.core.updown import window_of
from prediction_engine.strategy.arbitrage import Arbitrage, ArbitrageParams, plan_basket
from prediction_engine.strategy.base import Basket, CancelOrders, Intent, Strategy
from prediction_engine.strategy.mean_reversion import MeanReversion, MeanReversionParams
from prediction_engine.strategy.sizing import Signal
from prediction_engine.strategy.updown import (
    DistanceFade,
    DistanceFadeParams,
    Momentum,
    MomentumParams,
    SettlementSniper,
    probability_up,
)
from tests.strategy_view import FakeView, binary_market, book_event, reference_event

S = 1_000_000_000
FEE_2PCT = FeeSchedule(rate=Decimal("0.02"))
CRYPTO = FeeSchedule(rate=Decimal("0.07"))


def shares(n: float) -> int:
    return round(n * ONE)


def price(p: float) -> int:
    return round(p * ONE)


def only_basket(intents: Sequence[Intent]) -> Basket:
    assert len(intents) == 1, intents
    basket = intents[0]
    assert isinstance(basket, Basket)
    return basket


def only_signal(intents: Sequence[Intent]) -> Signal:
    assert len(intents) == 1, intents
    signal = intents[0]
    assert isinstance(signal, Signal)
    return signal


# -- arbitrage: one binary market -----------------------------------------------------------


def pair_view(
    yes: list[tuple[float, float]], no: list[tuple[float, float]], fees: FeeSchedule | None
) -> tuple[FakeView, Market]:
    view = FakeView()
    market = binary_market("aa", fee_schedule=fees)
    view.add_market(market)
    view.set_book(market.tokens[0], asks=[(price(p), shares(s)) for p, s in yes])
    view.set_book(market.tokens[1], asks=[(price(p), shares(s)) for p, s in no])
    return view, market


def arbitrage(view: FakeView, params: ArbitrageParams | None = None) -> Arbitrage:
    strategy = Arbitrage(params)
    strategy.subscriptions(list(view.markets.values()))
    return strategy


def test_yes_plus_no_below_one_after_fees_buys_the_shallow_side_depth() -> None:
    view, market = pair_view([(0.40, 100)], [(0.55, 30)], FEE_2PCT)
    intents = arbitrage(view).on_event(book_event(view, market.tokens[0]), view)
    basket = only_basket(intents)
    yes, no = market.tokens
    assert basket.legs == (
        OrderIntent(
            market=market.condition_id,
            token=yes,
            side=Side.BUY,
            price=400_000,
            size=30 * ONE,
            time_in_force=TimeInForce.FOK,
        ),
        OrderIntent(
            market=market.condition_id,
            token=no,
            side=Side.BUY,
            price=550_000,
            size=30 * ONE,
            time_in_force=TimeInForce.FOK,
        ),
    )
    # fees: 30 x 0.02 x 0.4 x 0.6 = 0.144 and 30 x 0.02 x 0.55 x 0.45 = 0.1485
    # cost: 12 + 16.5 + 0.144 + 0.1485 = 28.7925, paying 30: locks 1.2075
    assert "28.7925" in basket.reason
    assert "1.2075" in basket.reason


def test_fees_that_eat_the_edge_stop_the_basket() -> None:
    # 0.49 + 0.49 = 0.98 < 0.995, but the crypto fee is 0.07 x 0.49 x 0.51 = 0.01749 a leg
    view, market = pair_view([(0.49, 100)], [(0.49, 100)], CRYPTO)
    assert arbitrage(view).on_event(book_event(view, market.tokens[0]), view) == ()
    free_view, free_market = pair_view([(0.49, 100)], [(0.49, 100)], None)
    event = book_event(free_view, free_market.tokens[0])
    basket = only_basket(
        arbitrage(free_view, ArbitrageParams(max_notional=1_000)).on_event(event, free_view)
    )
    assert basket.legs[0].size == 100 * ONE


def test_edge_bound_is_inclusive_but_a_set_must_make_money() -> None:
    view, market = pair_view([(0.50, 10)], [(0.49, 10)], None)
    assert arbitrage(view, ArbitrageParams(min_edge=0.01)).on_event(
        book_event(view, market.tokens[0]), view
    )
    view, market = pair_view([(0.50, 10)], [(0.50, 10)], None)
    assert (
        arbitrage(view, ArbitrageParams(min_edge=0.0)).on_event(
            book_event(view, market.tokens[0]), view
        )
        == ()
    )


def test_deeper_levels_are_taken_while_the_set_still_pays() -> None:
    # sets 1-10: 0.40 + 0.50; sets 11-20: 0.42 + 0.50; then 0.42 + 0.60 > 0.995: stop at 20
    view, market = pair_view([(0.40, 10), (0.42, 50)], [(0.50, 20), (0.60, 100)], None)
    top_only = only_basket(arbitrage(view).on_event(book_event(view, market.tokens[1]), view))
    # by default only the best asks: 10 sets at 0.40 + 0.50
    assert [(leg.price, leg.size) for leg in top_only.legs] == [
        (400_000, 10 * ONE),
        (500_000, 10 * ONE),
    ]
    deep = arbitrage(view, ArbitrageParams(max_levels=5))
    basket = only_basket(deep.on_event(book_event(view, market.tokens[1]), view))
    assert [(leg.price, leg.size) for leg in basket.legs] == [
        (420_000, 20 * ONE),
        (500_000, 20 * ONE),
    ]
    assert "$18.2 " in basket.reason  # 10 x 0.90 + 10 x 0.92


def test_max_notional_caps_the_total_cost_with_fees() -> None:
    # one set costs 0.40 + 0.55 + 0.0048 + 0.00495 = 0.95975; $50 buys 52.0969 -> 52.09 sets
    plan = plan_basket(
        [[(400_000, 1_000 * ONE)], [(550_000, 1_000 * ONE)]],
        [FEE_2PCT, FEE_2PCT],
        min_edge=5_000,
        max_notional=50 * ONE,
    )
    assert plan is not None
    assert plan.size == 52_090_000
    # 20.836 + 28.6495 + fees 0.25003 + 0.25784 (each floored to 0.00001)
    assert plan.cost == 49_993_370


def test_a_leg_below_the_one_dollar_minimum_spoils_the_basket() -> None:
    # 20 x 0.04 = $0.80 on the YES leg
    view, market = pair_view([(0.04, 20)], [(0.90, 20)], None)
    assert arbitrage(view).on_event(book_event(view, market.tokens[0]), view) == ()


def test_the_same_book_is_not_sent_twice_but_a_change_is() -> None:
    view, market = pair_view([(0.40, 100)], [(0.55, 30)], None)
    strategy = arbitrage(view)
    event = book_event(view, market.tokens[0])
    assert strategy.on_event(event, view)
    assert strategy.on_event(event, view) == ()
    view.set_book(market.tokens[1], asks=[(550_000, 25 * ONE)])
    basket = only_basket(strategy.on_event(book_event(view, market.tokens[1]), view))
    assert basket.legs[0].size == 25 * ONE


def test_no_basket_while_orders_are_open_in_the_market() -> None:
    view, market = pair_view([(0.40, 100)], [(0.55, 30)], None)
    view.orders.append(
        Order(
            client_id="c1",
            market=market.condition_id,
            token=market.tokens[0],
            side=Side.BUY,
            price=400_000,
            size=30 * ONE,
        )
    )
    assert arbitrage(view).on_event(book_event(view, market.tokens[0]), view) == ()


# -- arbitrage: neg-risk event ---------------------------------------------------------------


def event_view(asks: list[tuple[float, float]]) -> tuple[FakeView, list[Market]]:
    view = FakeView()
    markets = [
        binary_market(f"e{i}", neg_risk=True, event_slug="who-wins") for i in range(len(asks))
    ]
    view.add_market(*markets)
    for market, (p, s) in zip(markets, asks, strict=True):
        view.set_book(market.tokens[0], asks=[(price(p), shares(s))])
    return view, markets


def test_neg_risk_yes_asks_summing_below_one_buy_every_outcome() -> None:
    # 0.30 + 0.33 + 0.34 = 0.97; depth 20 on the second outcome
    view, markets = event_view([(0.30, 50), (0.33, 20), (0.34, 40)])
    basket = only_basket(arbitrage(view).on_event(book_event(view, markets[1].tokens[0]), view))
    assert [(leg.token, leg.price, leg.size) for leg in basket.legs] == [
        (markets[0].tokens[0], 300_000, 20 * ONE),
        (markets[1].tokens[0], 330_000, 20 * ONE),
        (markets[2].tokens[0], 340_000, 20 * ONE),
    ]
    assert all(leg.time_in_force is TimeInForce.FOK for leg in basket.legs)
    assert "event:who-wins" in basket.reason
    assert "$19.4 " in basket.reason


def test_neg_risk_needs_a_live_book_on_every_outcome() -> None:
    view, markets = event_view([(0.30, 50), (0.33, 20), (0.34, 40)])
    strategy = arbitrage(view)
    del view.books[markets[2].tokens[0]]
    assert strategy.on_event(book_event(view, markets[0].tokens[0]), view) == ()
    view.set_book(markets[2].tokens[0], asks=[(340_000, 40 * ONE)])
    view.stale.add(markets[2].tokens[0])
    assert strategy.on_event(book_event(view, markets[0].tokens[0]), view) == ()
    view.stale.clear()
    view.set_book(markets[2].tokens[0], bids=[(100_000, 10 * ONE)])  # no ask at all
    assert strategy.on_event(book_event(view, markets[0].tokens[0]), view) == ()


def test_neg_risk_sum_above_the_bar_is_left_alone() -> None:
    view, markets = event_view([(0.30, 50), (0.33, 20), (0.37, 40)])  # 1.00
    assert arbitrage(view).on_event(book_event(view, markets[0].tokens[0]), view) == ()


def test_arbitrage_subscribes_to_every_token_of_binary_markets() -> None:
    markets = [binary_market("aa"), binary_market("e0", neg_risk=True, event_slug="x")]
    subs = Arbitrage().subscriptions(markets)
    assert subs.tokens == {t for m in markets for t in m.tokens}
    assert subs.markets == {ConditionId("0xaa"), ConditionId("0xe0")}


# -- mean reversion --------------------------------------------------------------------------


def mid_view() -> tuple[FakeView, TokenId]:
    view = FakeView()
    market = binary_market("mr")
    view.add_market(market)
    return view, market.tokens[0]


def test_mean_reversion_buys_an_ask_below_the_average_after_warm_up() -> None:
    view, token = mid_view()
    strategy: Strategy = MeanReversion(MeanReversionParams(warmup=3, half_life_s=30))
    view.set_book(token, bids=[(490_000, ONE * 10)], asks=[(510_000, ONE * 10)])
    assert strategy.on_event(book_event(view, token, 0), view) == ()  # average 0.50
    view.set_book(token, bids=[(400_000, ONE * 10)], asks=[(460_000, ONE * 10)])  # mid 0.43
    assert strategy.on_event(book_event(view, token, 1 * S), view) == ()  # still warming up
    signal = only_signal(strategy.on_event(book_event(view, token, 2 * S), view))
    # each second moves the average by alpha = 1 - 2 ** (-1/30) of the gap to 0.43
    alpha = 1 - 2 ** (-1 / 30)
    average = 0.5 - 0.07 * alpha
    average += alpha * (0.43 - average)
    assert signal.side is Side.BUY
    assert signal.token == token
    assert signal.fair_price == pytest.approx(average)
    assert signal.edge == pytest.approx(average - 0.46)
    assert signal.confidence == 0.5
    assert signal.strategy == "mean_reversion"


def test_mean_reversion_sells_held_shares_into_a_bid_above_the_average() -> None:
    view, token = mid_view()
    strategy = MeanReversion(MeanReversionParams(warmup=1))
    view.set_book(token, bids=[(490_000, ONE * 10)], asks=[(510_000, ONE * 10)])
    assert strategy.on_event(book_event(view, token, 0), view) == ()
    view.set_book(token, bids=[(560_000, ONE * 10)], asks=[(600_000, ONE * 10)])
    # same instant: the new mid gets no weight, the average stays 0.50
    assert strategy.on_event(book_event(view, token, 0), view) == ()  # nothing held
    view.positions[token] = 10 * ONE
    signal = only_signal(strategy.on_event(book_event(view, token, 0), view))
    assert (signal.side, signal.fair_price) == (Side.SELL, 0.5)
    assert signal.edge == pytest.approx(0.06)


def test_mean_reversion_skips_stale_books_and_limits_markets() -> None:
    view, token = mid_view()
    strategy = MeanReversion(MeanReversionParams(warmup=1, max_markets=1))
    view.set_book(token, bids=[(100_000, ONE)], asks=[(110_000, ONE)])
    view.stale.add(token)
    assert strategy.on_event(book_event(view, token, 0), view) == ()
    assert len(strategy.subscriptions([binary_market("a"), binary_market("b")]).markets) == 1
    assert not strategy.subscriptions([binary_market("c")])


# -- Up/Down ---------------------------------------------------------------------------------

START_S = 1_773_307_200  # btc-updown-15m window: 900 s
SYMBOL = "btcusdt"


def updown_view(
    now_s: float, spot: str, up_ask: float, down_ask: float, strike: str | None = "100000"
) -> tuple[FakeView, Market]:
    market = binary_market(
        "ud", slug=f"btc-updown-15m-{START_S}", outcomes=("Up", "Down"), fee_schedule=CRYPTO
    )
    window = window_of(market)
    assert window is not None
    view = FakeView(now_ns=round((START_S + now_s) * S))
    view.add_market(market)
    view.windows[market.condition_id] = msgspec.structs.replace(
        window, strike=None if strike is None else Decimal(strike)
    )
    view.set_reference(SYMBOL, spot)
    view.set_book(market.tokens[0], asks=[(price(up_ask), 100 * ONE)])
    view.set_book(market.tokens[1], asks=[(price(down_ask), 100 * ONE)])
    return view, market


def offered(strategy: DistanceFade | Momentum | SettlementSniper, market: Market) -> None:
    subs = strategy.subscriptions([market, binary_market("not-updown")])
    assert subs.tokens == set(market.tokens)
    assert subs.symbols == {SYMBOL}


def test_fade_fair_value_is_the_normal_model() -> None:
    # 300 s left, S/K = 1.001: d = ln(1.001) / (0.6 x sqrt(300 / 31536000)) = 0.54010
    # Phi(0.54010) = 0.70544
    assert probability_up(100_100, 100_000, 300, 0.6) == pytest.approx(0.70544, abs=1e-5)
    view, market = updown_view(600, "100100", up_ask=0.60, down_ask=0.45)
    strategy = DistanceFade()
    offered(strategy, market)
    signal = only_signal(strategy.on_event(reference_event(SYMBOL, "100100", view.now_ns), view))
    assert (signal.token, signal.side) == (market.tokens[0], Side.BUY)
    assert signal.fair_price == pytest.approx(0.70544, abs=1e-5)
    assert signal.edge == pytest.approx(0.70544 - 0.60, abs=1e-5)
    assert signal.confidence == 0.6


def test_fade_buys_down_when_the_price_is_below_the_strike() -> None:
    view, market = updown_view(600, "99900", up_ask=0.40, down_ask=0.55)
    strategy = DistanceFade()
    offered(strategy, market)
    signal = only_signal(strategy.on_event(book_event(view, market.tokens[1]), view))
    assert signal.token == market.tokens[1]
    assert signal.fair_price == pytest.approx(1 - probability_up(99_900, 100_000, 300, 0.6))


@pytest.mark.parametrize(
    ("now_s", "strike", "params"),
    [
        (-5, "100000", DistanceFadeParams()),  # not started
        (600, None, DistanceFadeParams()),  # strike unknown
        (895, "100000", DistanceFadeParams()),  # 5 s left < 10
        (600, "100000", DistanceFadeParams(min_distance=0.002)),  # 0.1% from the strike
    ],
)
def test_fade_stays_out(now_s: float, strike: str | None, params: DistanceFadeParams) -> None:
    view, market = updown_view(now_s, "100100", up_ask=0.60, down_ask=0.45, strike=strike)
    strategy = DistanceFade(params)
    offered(strategy, market)
    assert strategy.on_event(book_event(view, market.tokens[0]), view) == []


def test_fade_ignores_a_stale_feed_or_book() -> None:
    view, market = updown_view(600, "100100", up_ask=0.60, down_ask=0.45)
    strategy = DistanceFade()
    offered(strategy, market)
    view.stale.add(market.tokens[0])
    assert strategy.on_event(book_event(view, market.tokens[0]), view) == []
    view.stale.clear()
    view.stale_symbols.add(SYMBOL)
    assert strategy.on_event(book_event(view, market.tokens[0]), view) == []


def test_ended_window_is_cancelled_once_then_forgotten() -> None:
    view, market = updown_view(900, "100100", up_ask=0.60, down_ask=0.45)
    strategy = DistanceFade()
    offered(strategy, market)
    event = reference_event(SYMBOL, "100100", view.now_ns)
    assert strategy.on_event(event, view) == [
        CancelOrders(market=market.condition_id, reason="updown_fade: window ended")
    ]
    assert strategy.on_event(event, view) == []
    assert strategy.on_event(book_event(view, market.tokens[0]), view) == []


def test_sniper_buys_the_all_but_settled_side_in_the_last_seconds() -> None:
    # 20 s left, S/K = 1.002: d = 4.18, P(Up) = 0.99999 > 0.97; ask 0.95 < P - 0.01
    view, market = updown_view(880, "100200", up_ask=0.95, down_ask=0.04)
    strategy = SettlementSniper()
    offered(strategy, market)
    signal = only_signal(strategy.on_event(book_event(view, market.tokens[0]), view))
    assert (signal.token, signal.side) == (market.tokens[0], Side.BUY)
    assert signal.fair_price == pytest.approx(0.9999855, abs=1e-6)
    assert signal.edge == pytest.approx(0.9999855 - 0.95, abs=1e-6)


def test_sniper_waits_for_the_last_seconds_and_the_distance() -> None:
    early, market = updown_view(840, "100200", up_ask=0.95, down_ask=0.04)  # 60 s left
    strategy = SettlementSniper()
    offered(strategy, market)
    assert strategy.on_event(book_event(early, market.tokens[0]), early) == []
    close, _ = updown_view(880, "100050", up_ask=0.60, down_ask=0.40)  # 0.05% < 0.1%
    assert strategy.on_event(book_event(close, market.tokens[0]), close) == []
    priced, _ = updown_view(880, "100200", up_ask=0.99, down_ask=0.01)  # ask >= P - 0.01
    assert strategy.on_event(book_event(priced, market.tokens[0]), priced) == []


def test_sniper_buys_down_below_the_strike() -> None:
    view, market = updown_view(880, "99800", up_ask=0.05, down_ask=0.90)
    strategy = SettlementSniper()
    offered(strategy, market)
    signal = only_signal(strategy.on_event(book_event(view, market.tokens[1]), view))
    assert signal.token == market.tokens[1]


def run_flow(
    strategy: Momentum, view: FakeView, aggressors: str, prices: list[str]
) -> Sequence[Intent]:
    """Feed one trade per 0.5 s (``B``/``S`` aggressors); return the last event's intents."""
    start = view.now_ns
    intents: Sequence[Intent] = ()
    for i, (side, spot) in enumerate(zip(aggressors, prices, strict=True)):
        view.now_ns = start + i * S // 2
        aggressor = Side.BUY if side == "B" else Side.SELL
        event = reference_event(SYMBOL, spot, view.now_ns, size="1", aggressor=aggressor)
        view.references[SYMBOL] = event
        intents = strategy.on_event(event, view)
    return intents


RISING = [str(100_000 + 5 * i) for i in range(11)]  # +0.05% over the window


def test_momentum_follows_buying_pressure_up() -> None:
    view, market = updown_view(300, "100000", up_ask=0.55, down_ask=0.47)
    strategy = Momentum()
    offered(strategy, market)
    assert run_flow(strategy, view, "BBBBBBBSB", RISING[:9]) == []  # 9 trades < 10
    # 8 buys, 2 sells of 1: imbalance (8 - 2) / 10 = 0.6; edge min(0.1 x 0.6, 0.05) = 0.05
    signal = only_signal(run_flow(strategy, view, "S", RISING[9:10]))
    assert (signal.token, signal.side) == (market.tokens[0], Side.BUY)
    assert signal.edge == pytest.approx(0.05)
    assert signal.fair_price == pytest.approx(0.60)


def test_momentum_sign_follows_the_flow() -> None:
    view, market = updown_view(300, "100000", up_ask=0.55, down_ask=0.47)
    strategy = Momentum(MomentumParams(edge_per_imbalance=0.05))
    offered(strategy, market)
    signal = only_signal(run_flow(strategy, view, "SSSSSSSSSB", RISING[::-1][:10]))
    # imbalance (1 - 9) / 10 = -0.8 with a falling price: Down, edge 0.05 x 0.8 = 0.04
    assert signal.token == market.tokens[1]
    assert signal.edge == pytest.approx(0.04)
    assert signal.fair_price == pytest.approx(0.51)


def test_momentum_needs_the_price_to_agree() -> None:
    view, market = updown_view(300, "100000", up_ask=0.55, down_ask=0.47)
    strategy = Momentum()
    offered(strategy, market)
    assert run_flow(strategy, view, "BBBBBBBBBB", RISING[::-1][:10]) == []  # buying, falling


def test_momentum_forgets_trades_older_than_the_window() -> None:
    view, market = updown_view(300, "100000", up_ask=0.55, down_ask=0.47)
    strategy = Momentum(MomentumParams(min_trades=2))
    offered(strategy, market)
    assert run_flow(strategy, view, "BBBBBB", RISING[:6])  # buying pushes Up
    view.now_ns += 30 * S
    # 30 s later only the new prints count: 2 sells, falling
    signal = only_signal(run_flow(strategy, view, "SS", ["100050", "99990"]))
    assert signal.token == market.tokens[1]
