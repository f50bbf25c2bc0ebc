"""The replay loop on hand-built frames: latency, no look-ahead, resolutions, the timer.

One binary market; a strategy that buys 10 YES with a FAK at 0.55 on the first book it sees
and writes down what it saw at every event. The YES ask is 0.50 at t0; 50 ms later the 0.50
level is gone and the best ask is 0.53; later frames only move time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import msgspec

from prediction_engine.backtest.latency import LatencyModel
from prediction_engine.backtest.runner import Backtest, BacktestConfig, Frame
from prediction_engine.backtest.source import hide_outcome
from prediction_engine.core.events import Event, MarketResolved, Side
from prediction_engine.core.ids import Venue
from prediction_engine.core.markets import Market
from prediction_engine.core.numbers import ONE
from prediction_engine.core.orders import OrderIntent, TimeInForce
from prediction_engine.engine.messages import AddMarkets
from prediction_engine.strategy.base import Intent, StateView, Subscriptions
from tests.engine_helpers import CENT, S, delta, market, snapshot

MS = 1_000_000
T0 = 1_000 * S
M = market("m")
YES = M.tokens[0]


class Buyer:
    """Buys once; records (now, shares, what the market looked like) at every event."""

    name: ClassVar[str] = "buyer"
    id = "buyer"

    def __init__(self) -> None:
        self.sent = False
        self.seen: list[tuple[int, int, Market | None]] = []

    def subscriptions(self, markets: Sequence[Market]) -> Subscriptions:
        return Subscriptions.for_markets(markets)

    def on_event(self, event: Event, view: StateView) -> Sequence[Intent]:
        self.seen.append((view.now_ns, view.shares(YES), view.market(M.condition_id)))
        if self.sent or event.__class__.__name__ != "BookSnapshot":
            return ()
        self.sent = True
        return (OrderIntent(market=M.condition_id, token=YES, side=Side.BUY, price=55 * CENT,
                            size=10 * ONE, time_in_force=TimeInForce.FAK),)


def _frames(listed: Market = M) -> list[Frame]:
    later = [delta(M, 0, Side.SELL, 0.40, 5, T0 + k * 100 * MS) for k in range(3, 30)]
    return [
        (T0, (AddMarkets((listed,)),)),
        (T0 + 1 * MS, (snapshot(M, 0, [(0.48, 100)], [(0.50, 100)], ts=T0 + 1 * MS),)),
        (T0 + 50 * MS, (delta(M, 0, Side.SELL, 0.50, 0, T0 + 50 * MS),
                        delta(M, 0, Side.SELL, 0.53, 100, T0 + 50 * MS))),
        *((e.ts_recv, (e,)) for e in later),
    ]


def _run(latency: LatencyModel, frames: list[Frame] | None = None) -> tuple[Backtest, Buyer]:
    buyer = Buyer()
    backtest = Backtest([buyer], BacktestConfig(latency=latency))
    backtest.run(frames or _frames())
    return backtest, buyer


def test_with_no_latency_the_order_takes_the_ask_it_saw() -> None:
    backtest, _ = _run(LatencyModel())
    (fill,) = backtest.recorder.fills
    assert (fill.price, fill.size) == (50 * CENT, 10 * ONE)
    assert fill.ts_ns == T0 + 1 * MS


def test_entry_latency_matches_the_order_against_the_book_when_it_arrives() -> None:
    # Sent at t0+1 ms, arrives at t0+101 ms: the 0.50 ask left at t0+50 ms, 0.53 is there.
    backtest, _ = _run(LatencyModel(entry_ns=100 * MS))
    (fill,) = backtest.recorder.fills
    assert (fill.price, fill.size) == (53 * CENT, 10 * ONE)
    assert fill.ts_ns == T0 + 101 * MS


def test_response_latency_delays_what_the_engine_knows() -> None:
    # Filled at the venue at t0+1 ms; the report lands at t0+301 ms.
    backtest, buyer = _run(LatencyModel(response_ns=300 * MS))
    assert backtest.recorder.fills[0].price == 50 * CENT
    before = [shares for now, shares, _ in buyer.seen if now < T0 + 301 * MS]
    after = [shares for now, shares, _ in buyer.seen if now >= T0 + 301 * MS]
    assert before and set(before) == {0}
    assert after and set(after) == {10 * ONE}


def test_feed_latency_shows_the_engine_an_older_book_than_the_venue_has() -> None:
    # The engine sees the t0+1 ms snapshot at t0+31 ms and orders at once; the venue's 0.50
    # ask leaves at t0+50 ms, so it is still there.
    backtest, _ = _run(LatencyModel(feed_ns=30 * MS))
    assert backtest.recorder.fills[0].price == 50 * CENT
    # With 60 ms of feed latency the engine orders at t0+61 ms, after the venue's 0.50 left.
    backtest, _ = _run(LatencyModel(feed_ns=60 * MS))
    assert backtest.recorder.fills[0].price == 53 * CENT


def test_outcome_revealing_metadata_is_hidden_until_the_resolution_event() -> None:
    spoiled = msgspec.structs.replace(
        M, closed=True, resolved=True, winning_outcome="Yes",
        outcome_prices=(ONE, 0), archived=True,
    )
    resolution = MarketResolved(venue=Venue.POLYMARKET, ts_event=T0 + 2 * S, ts_recv=T0 + 2 * S,
                                market=M.condition_id, market_id="m", tokens=M.tokens,
                                winning_token=YES, winning_outcome="Yes")
    frames = [_frames(hide_outcome(spoiled))[0], *_frames()[1:25], (T0 + 2 * S, (resolution,))]
    backtest, buyer = _run(LatencyModel(), frames)
    before = [seen for now, _, seen in buyer.seen if now < T0 + 2 * S]
    assert len(before) > 10
    for seen in before:
        assert seen is not None
        assert not seen.resolved and not seen.closed and seen.winning_outcome is None
        assert seen.outcome_prices == ()
    # The resolution itself arrives as an event and settles the position at 1.
    portfolio = backtest.engine.state.portfolio
    assert portfolio.shares(YES) == 0
    assert portfolio.cash == 1_000 * ONE - 5 * ONE + 10 * ONE  # paid 0.50 x 10, got 1 x 10


def test_the_timer_fires_on_replay_time_and_equity_is_sampled() -> None:
    backtest, _ = _run(LatencyModel())
    counters = backtest.engine.counters
    # 2.9 s of replay at a 250 ms timer: 11 ticks, each a batch of its own.
    frames = len(_frames())
    assert counters.batches - frames == 11
    equity = backtest.recorder.equity
    assert equity[0].ts_ns == T0 and equity[-1].ts_ns == T0 + 29 * 100 * MS
