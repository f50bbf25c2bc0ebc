"""The engine: routing, conflation, signal sizing, baskets, staleness, kill switch, settlement."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from decimal import Decimal

import msgspec
import pytest

from prediction_engine.core.commands import ExecutionReport
from prediction_engine.core.events import (
    BookSnapshot,
    Event,
    MarketResolved,
    ReferencePrice,
    Side,
)
from prediction_engine.core.ids import TokenId, Venue
from prediction_engine.core.numbers import ONE
from prediction_engine.core.orders import OrderEvent, OrderEventKind, OrderIntent, TimeInForce
from prediction_engine.core.portfolio import Fill
from prediction_engine.engine.clock import ManualClock
from prediction_engine.engine.loop import Engine, EngineConfig
from prediction_engine.engine.messages import (
    AddMarkets,
    EngageKillSwitch,
    Inbox,
    Stop,
    TimerTick,
)
from prediction_engine.execution.paper import PaperExecution
from prediction_engine.risk.limits import RiskLimits
from prediction_engine.strategy.base import Basket, Intent, StateView, Subscriptions
from prediction_engine.strategy.sizing import Signal
from tests.engine_helpers import CENT, Recorder, S, delta, market, snapshot, token_of

A = market("a")
B = market("b")
WIDE = RiskLimits(max_position_per_market=1_000 * ONE, max_total_exposure=1_000 * ONE)


def build(
    strategies: Sequence[Recorder], config: EngineConfig | None = None
) -> tuple[Engine, PaperExecution]:
    engine = Engine(strategies, ManualClock(S), config)
    paper = PaperExecution(engine.state.books.book, engine.state.fee_schedule, engine.post)
    engine.attach(paper)
    engine.add_markets([A, B])
    return engine, paper


def books(m: object = A, ask: float = 0.40, ask_size: float = 100, ts: int = S) -> list[Event]:
    assert m is A or m is B
    return [
        snapshot(m, 0, [(0.38, 100)], [(ask, ask_size)], ts),
        snapshot(m, 1, [(round(1 - ask, 2), ask_size)], [(0.62, 100)], ts),
    ]


def buy_yes(fair: float) -> Recorder:
    def decide(event: Event, view: StateView) -> Sequence[Intent]:
        # Only at the first book's ask (0.40): one trade per test.
        first = isinstance(event, BookSnapshot) and event.asks[0][0] == 40 * CENT
        if first and token_of(event) == A.tokens[0]:
            return [Signal(market=A.condition_id, token=A.tokens[0], side=Side.BUY,
                           edge=0.1, confidence=1.0, fair_price=fair)]
        return []

    return Recorder(decide=decide)


def test_events_reach_only_the_strategies_that_asked() -> None:
    only_a = Recorder(lambda ms: Subscriptions.for_markets([m for m in ms if m is A]), id="a")
    only_b = Recorder(lambda ms: Subscriptions.for_markets([m for m in ms if m is B]), id="b")
    engine, _ = build([only_a, only_b])
    engine.handle(books(A))
    assert {getattr(e, 'market', None) for e in only_a.seen} == {A.condition_id}
    assert only_b.seen == []
    assert engine.subscriptions.tokens == frozenset(A.tokens + B.tokens)


def test_book_events_are_conflated_per_token_and_the_view_is_after_the_batch() -> None:
    seen_asks: list[int | None] = []

    def decide(event: Event, view: StateView) -> Sequence[Intent]:
        book = view.book(A.tokens[0])
        seen_asks.append(book.best_ask if book else None)
        return []

    strategy = Recorder(decide=decide)
    engine, _ = build([strategy])
    engine.handle(books(A))
    strategy.seen.clear()
    seen_asks.clear()
    engine.handle([
        delta(A, 0, Side.SELL, 0.39, 10, 2 * S),
        delta(A, 0, Side.SELL, 0.37, 10, 2 * S),
    ])
    assert len(strategy.seen) == 1  # two deltas of one token: one evaluation
    assert seen_asks == [37 * CENT]


def test_a_signal_is_taken_at_the_ask_with_half_kelly_size() -> None:
    engine, _ = build([buy_yes(0.60)], EngineConfig(limits=WIDE))
    engine.handle(books(A, ask_size=1_000))
    # Full Kelly (0.6 - 0.4) / (1 - 0.4) = 1/3; half of it of $1000 = $166.67 -> 416.66 shares.
    position = engine.state.portfolio.position(A.tokens[0])
    assert position is not None
    assert position.shares == 416_660_000
    assert engine.state.portfolio.cash == 1_000 * ONE - 166_664_000
    assert engine.counters.fills == 1 and not engine.state.open_orders


def test_signal_size_is_bounded_by_depth_and_by_the_risk_room() -> None:
    engine, _ = build([buy_yes(0.60)])  # default limits: $100 per market
    engine.handle(books(A, ask_size=1_000))
    assert engine.state.portfolio.shares(A.tokens[0]) == 250 * ONE  # $100 / 0.40
    engine, _ = build([buy_yes(0.60)], EngineConfig(limits=WIDE))
    engine.handle(books(A, ask_size=30))
    assert engine.state.portfolio.shares(A.tokens[0]) == 30 * ONE


def test_no_edge_after_price_means_no_order() -> None:
    engine, _ = build([buy_yes(0.39)])
    engine.handle(books(A))
    assert engine.counters.orders == 0 and engine.counters.signals == 1


def test_a_sell_signal_without_shares_buys_the_complement() -> None:
    def decide(event: Event, view: StateView) -> Sequence[Intent]:
        if isinstance(event, BookSnapshot) and event.token == A.tokens[1]:
            return [Signal(market=A.condition_id, token=A.tokens[0], side=Side.SELL,
                           edge=0.1, confidence=1.0, fair_price=0.2)]
        return []

    engine, _ = build([Recorder(decide=decide)])
    engine.handle(books(A))  # NO ask is 0.62, P(NO) = 0.8
    assert engine.state.portfolio.shares(A.tokens[1]) > 0
    assert engine.state.portfolio.shares(A.tokens[0]) == 0


def _legs(*prices: tuple[object, float]) -> Basket:
    legs = []
    for m, price in prices:
        assert m is A or m is B
        legs.append(OrderIntent(market=m.condition_id, token=m.tokens[0], side=Side.BUY,
                                price=round(price * ONE), size=10 * ONE,
                                time_in_force=TimeInForce.FOK))
    return Basket(legs=tuple(legs))


def test_a_basket_is_sent_whole_or_not_at_all() -> None:
    basket = _legs((A, 0.40), (B, 0.40))
    strategy = Recorder(decide=lambda e, v: [basket] if token_of(e) == B.tokens[1] else [])
    engine, _ = build([strategy])
    engine.handle(books(A) + books(B))
    assert engine.counters.orders == 2 and engine.counters.fills == 2
    # Leg B off the tick grid: risk rejects it, so leg A is not sent either.
    bad = Basket(legs=(basket.legs[0], OrderIntent(
        market=B.condition_id, token=B.tokens[0], side=Side.BUY, price=405_000,
        size=10 * ONE, time_in_force=TimeInForce.FOK)))
    strategy = Recorder(decide=lambda e, v: [bad] if token_of(e) == B.tokens[1] else [])
    engine, _ = build([strategy])
    engine.handle(books(A) + books(B))
    assert engine.counters.orders == 0 and engine.counters.rejected == 1


def test_stale_feed_cancels_resting_orders_and_pauses_signals() -> None:
    rest = OrderIntent(market=A.condition_id, token=A.tokens[0], side=Side.BUY,
                       price=30 * CENT, size=10 * ONE)
    strategy = Recorder(decide=lambda e, v: [rest] if token_of(e) == A.tokens[0] else [])
    engine, paper = build([strategy])
    engine.handle(books(A))
    assert len(paper.resting) == 1
    engine.handle([TimerTick(S + 16 * S)])  # polymarket silent for 16 s > 15 s
    assert not paper.resting and not engine.state.open_orders
    assert engine.view.is_stale(A.tokens[0])
    strategy2 = buy_yes(0.9)
    engine2, _ = build([strategy2])
    engine2.handle([TimerTick(100 * S)])
    engine2.handle(books(A, ts=S))  # old data: the feed's last word is from long ago
    assert engine2.counters.stale_skips == 1 and engine2.counters.orders == 0


def test_every_venue_and_token_of_a_batch_is_seen_when_events_share_one_time_object() -> None:
    # The engine stores a frame's receive time once per (venue, time object); events of
    # another venue or token with the very same int object (small ints are shared) still count.
    engine, _ = build([Recorder()])
    ts = 7
    kalshi = msgspec.structs.replace(delta(B, 0, Side.BUY, 0.30, 5, ts), venue=Venue.KALSHI)
    engine.handle([delta(A, 0, Side.BUY, 0.30, 5, ts), delta(A, 1, Side.BUY, 0.30, 5, ts), kalshi])
    state = engine.state
    assert state.feed_seen_ns == {Venue.POLYMARKET: 7, Venue.KALSHI: 7}
    assert state.book_seen_ns == {A.tokens[0]: 7, A.tokens[1]: 7, B.tokens[0]: 7}
    engine.handle([TimerTick(9)])
    engine.handle([delta(B, 1, Side.BUY, 0.30, 5, ts)])  # a new batch stores again
    assert state.feed_seen_ns[Venue.POLYMARKET] == 7 and state.book_seen_ns[B.tokens[1]] == 7
    assert state.now_ns == 9
    # Frames of one venue, then another, each read only at the end: each venue's last time.
    for venue, when in ((Venue.POLYMARKET, 11), (Venue.POLYMARKET, 12), (Venue.KALSHI, 13),
                        (Venue.POLYMARKET, 14), (Venue.KALSHI, 15)):
        event = msgspec.structs.replace(delta(A, 0, Side.BUY, 0.31, 5, when), venue=venue)
        engine.handle([event])
        if when == 12:
            assert state.feed_seen_ns == {Venue.POLYMARKET: 12, Venue.KALSHI: 7}
    assert state.feed_seen_ns == {Venue.POLYMARKET: 14, Venue.KALSHI: 15}


def test_equity_is_the_portfolio_marked_at_mid_and_at_cost_without_a_book() -> None:
    engine, _ = build([Recorder()])
    state = engine.state
    engine.handle(books(A))  # A's books: YES mid (0.38 + 0.40) / 2, NO mid (0.60 + 0.62) / 2
    fills = ((A.tokens[0], Side.BUY, 40, 7), (A.tokens[1], Side.SELL, 60, 3),
             (B.tokens[0], Side.BUY, 33, 5), (B.tokens[1], Side.BUY, 50, 2),
             (B.tokens[1], Side.SELL, 55, 2))  # the last two leave a flat position
    for token, side, price, size in fills:
        market_id = A.condition_id if token in A.tokens else B.condition_id
        state.portfolio.apply_fill(Fill(market=market_id, token=token, side=side,
                                        price=price * CENT, size=size * ONE, fee=1234))
    valuation = state.portfolio.mark(state.marks())
    assert valuation.unmarked == (B.tokens[0],)  # no book: at cost
    assert state.equity() == valuation.equity
    # 7 x 0.39 - 3 x 0.61 + the cost of B's 5 at 0.33, on cash after fees and proceeds.
    expected = state.portfolio.cash + (7 * 39 - 3 * 61) * CENT + 5 * 33 * CENT
    assert state.equity() == expected


def test_kill_switch_cancels_everything_and_refuses_new_orders() -> None:
    rest = OrderIntent(market=A.condition_id, token=A.tokens[0], side=Side.BUY,
                       price=30 * CENT, size=10 * ONE)
    strategy = Recorder(decide=lambda e, v: [rest] if token_of(e) == A.tokens[0] else [])
    engine, paper = build([strategy])
    engine.handle(books(A))
    engine.handle([EngageKillSwitch("operator")])
    assert not paper.resting and engine.state.kill_switch.engaged
    engine.handle(books(A, ts=3 * S))
    assert engine.counters.orders == 1 and engine.counters.rejected == 1


def test_daily_loss_limit_halts_the_engine() -> None:
    limits = RiskLimits(max_daily_loss=5 * ONE)
    engine, _ = build([buy_yes(0.60)], EngineConfig(limits=limits))
    engine.handle([TimerTick(S)])  # the day starts with $1000 equity
    engine.handle(books(A))  # buys 100 YES at 0.40 (depth)
    assert engine.state.portfolio.shares(A.tokens[0]) == 100 * ONE
    engine.handle([snapshot(A, 0, [(0.20, 100)], [(0.22, 100)], 2 * S)])  # mid 0.21
    engine.handle([TimerTick(2 * S)])
    assert engine.state.daily_pnl == -19 * ONE
    assert engine.state.kill_switch.engaged
    assert "DAILY_LOSS_LIMIT" in engine.state.kill_switch.reason


def test_resolution_settles_positions_and_drops_the_market() -> None:
    removed: list[Subscriptions] = []
    engine = Engine(
        [buy_yes(0.60)], ManualClock(S), on_subscriptions=lambda a, r: removed.append(r)
    )
    paper = PaperExecution(engine.state.books.book, engine.state.fee_schedule, engine.post)
    engine.attach(paper)
    engine.add_markets([A])
    engine.handle(books(A))
    shares = engine.state.portfolio.shares(A.tokens[0])
    engine.handle([MarketResolved(venue=Venue.POLYMARKET, ts_event=5 * S, ts_recv=5 * S,
                                  market=A.condition_id, market_id="a", tokens=A.tokens,
                                  winning_token=A.tokens[0], winning_outcome="Yes")])
    portfolio = engine.state.portfolio
    assert portfolio.shares(A.tokens[0]) == 0
    assert portfolio.cash == 1_000 * ONE - shares * 40 // 100 + shares
    assert removed[-1].tokens == frozenset(A.tokens)
    assert engine.counters.settlements == 1


def test_reports_for_unknown_or_impossible_transitions_are_counted_not_fatal() -> None:
    engine, _ = build([buy_yes(0.60)])
    engine.post(ExecutionReport(client_id="nope", event=OrderEvent(
        kind=OrderEventKind.ACCEPTED, ts_ns=S)))
    engine.handle(books(A))  # fills a FAK order: terminal
    client_id = next(iter(engine.state.orders))
    engine.post(ExecutionReport(client_id=client_id, event=OrderEvent(
        kind=OrderEventKind.ACCEPTED, ts_ns=2 * S)))
    engine.handle([])
    assert engine.counters.unknown_reports == 1 and engine.counters.illegal_reports == 1


def _price(venue: Venue, value: str, ts: int) -> ReferencePrice:
    return ReferencePrice(venue=venue, ts_event=ts, ts_recv=ts, symbol="BTCUSDT",
                          price=Decimal(value))


def test_strike_is_the_first_reference_price_at_or_after_the_window_start() -> None:
    window = market("w", slug="btc-updown-5m-1700000000")
    engine = Engine([], ManualClock(S), EngineConfig(strike_venue=Venue.POLYMARKET_RTDS))
    engine.handle([AddMarkets((window,))])
    start = 1_700_000_000 * S
    engine.handle([
        _price(Venue.POLYMARKET_RTDS, "99", start - 1),
        _price(Venue.BINANCE, "100", start),
        _price(Venue.POLYMARKET_RTDS, "101", start + 5),
        _price(Venue.POLYMARKET_RTDS, "102", start + 9),
    ])
    found = engine.view.updown(window.condition_id)
    assert found is not None and found.strike == Decimal("101")
    assert engine.view.reference_price("btcusdt") == Decimal("102")


def test_a_window_joined_after_its_start_gets_no_strike() -> None:
    window = market("w", slug="btc-updown-5m-1700000000")
    engine = Engine([], ManualClock(S))
    engine.handle([AddMarkets((window,))])
    start = 1_700_000_000 * S
    engine.handle([_price(Venue.BINANCE, "100", start + 3 * S)])  # our first price: too late
    found = engine.view.updown(window.condition_id)
    assert found is not None and found.strike is None and found.joined_late


async def test_run_consumes_the_inbox_until_stop() -> None:
    strategy = buy_yes(0.60)
    engine, _ = build([strategy])
    inbox = Inbox(maxsize=8)
    task = asyncio.create_task(engine.run(inbox, timer_interval_s=0.01))
    for event in books(A):
        await inbox.put(event)
    await inbox.put(Stop())
    await asyncio.wait_for(task, 2)
    assert engine.counters.fills == 1
    assert engine.state.portfolio.shares(TokenId(A.tokens[0])) == 100 * ONE


def test_engine_refuses_to_trade_without_an_execution_client() -> None:
    engine = Engine([buy_yes(0.60)], ManualClock(S))
    engine.add_markets([A])
    with pytest.raises(RuntimeError, match="execution client"):
        engine.handle(books(A))
