"""The metrics sink and the scrape-time collector, fed hand-built records and live objects."""

from __future__ import annotations

import asyncio
import typing
from collections.abc import AsyncIterator

import aiohttp
import pytest

from prediction_engine.config import Config
from prediction_engine.core.events import (
    BookDelta,
    BookSnapshot,
    Event,
    ReferencePrice,
    Side,
    TickSizeChanged,
    Trade,
)
from prediction_engine.core.ids import ConditionId, TokenId, Venue
from prediction_engine.core.markets import Market
from prediction_engine.core.numbers import ONE
from prediction_engine.core.orders import OrderStatus, TimeInForce
from prediction_engine.core.portfolio import Fill
from prediction_engine.engine.clock import ManualClock
from prediction_engine.engine.messages import Stop
from prediction_engine.engine.telemetry import (
    FillRecord,
    LatencyRecord,
    OrderRecord,
    SignalRecord,
)
from prediction_engine.ops.metrics import Metrics, event_type_label, metrics_service
from prediction_engine.trading.runtime import TradingRuntime
from prediction_engine.venues.binance.session import BinanceTradeSession
from prediction_engine.venues.polymarket.rtds_session import RtdsSession
from tests.ops.scrape import PROMTOOL, promtool_check_metrics, samples, value

MARKET = ConditionId("0xmarket")
YES, NO = TokenId("111"), TokenId("222")
START = 1_700_000_000 * 1_000_000_000


def signal(action: str, side: Side = Side.BUY) -> SignalRecord:
    return SignalRecord(START, "edge", MARKET, YES, side, 0.05, 0.9, 0.55, action)


def order(status: OrderStatus, client_id: str = "edge-1", reason: str = "",
          ts_ns: int = START) -> OrderRecord:
    return OrderRecord(ts_ns, "edge", client_id, MARKET, YES, Side.BUY, 400_000, 10 * ONE,
                       TimeInForce.GTC, status, 0, reason)


def fill(side: Side, price: int, size: int, fee: int, liquidity: str = "taker") -> FillRecord:
    return FillRecord(START, "edge", "edge-1", MARKET, YES, side, price, size, fee, "t1",
                      "taker" if liquidity == "taker" else "maker")


def text(metrics: Metrics) -> str:
    body, _ = metrics.exposition()
    return body.decode()


def test_signals_are_counted_by_strategy_side_and_the_kind_of_action() -> None:
    metrics = Metrics()
    metrics.signal(signal("sized"))
    metrics.signal(signal("no_size: below the minimum order size"))
    metrics.signal(signal("no_size: no cash"))
    metrics.signal(signal("stale", Side.SELL))
    exposition = text(metrics)
    assert value(exposition, "pengine_signals_total", strategy="edge", side="BUY",
                 action="no_size") == 2
    assert value(exposition, "pengine_signals_total", strategy="edge", side="BUY",
                 action="sized") == 1
    assert value(exposition, "pengine_signals_total", strategy="edge", side="SELL",
                 action="stale") == 1


def test_risk_rejections_are_counted_by_reason_and_not_as_orders() -> None:
    metrics = Metrics()
    metrics.order(order(OrderStatus.REJECTED, "", "risk MAX_OPEN_ORDERS: 20 open, limit 20"))
    metrics.order(order(OrderStatus.REJECTED, "", "risk MAX_OPEN_ORDERS: 21 open, limit 20"))
    metrics.order(order(OrderStatus.REJECTED, "edge-2", "venue said no"))
    exposition = text(metrics)
    assert value(exposition, "pengine_risk_rejections_total", strategy="edge",
                 reason="MAX_OPEN_ORDERS") == 2
    assert value(exposition, "pengine_orders_total", strategy="edge", status="REJECTED") == 1


def test_round_trip_runs_from_submission_to_the_first_report_on_the_injected_clock() -> None:
    clock = ManualClock(START)
    metrics = Metrics(clock=clock)
    metrics.order(order(OrderStatus.SUBMITTED))
    clock.advance(3_000_000)
    metrics.order(order(OrderStatus.ACCEPTED))
    clock.advance(50_000_000)
    metrics.order(order(OrderStatus.FILLED))  # a later state: not a second round trip
    exposition = text(metrics)
    assert value(exposition, "pengine_order_round_trip_seconds_count") == 1
    assert value(exposition, "pengine_order_round_trip_seconds_sum") == pytest.approx(0.003)
    assert value(exposition, "pengine_order_round_trip_seconds_bucket", le="0.0025") == 0
    assert value(exposition, "pengine_order_round_trip_seconds_bucket", le="0.005") == 1
    assert value(exposition, "pengine_orders_total", strategy="edge", status="SUBMITTED") == 1
    assert value(exposition, "pengine_orders_total", strategy="edge", status="FILLED") == 1


def test_round_trip_uses_record_times_without_a_clock() -> None:
    metrics = Metrics()
    metrics.order(order(OrderStatus.SUBMITTED, ts_ns=START))
    metrics.order(order(OrderStatus.ACCEPTED, ts_ns=START + 250_000_000))
    assert value(text(metrics), "pengine_order_round_trip_seconds_sum") == pytest.approx(0.25)


def test_fills_count_shares_notional_fees_and_the_strategy_realized_pnl() -> None:
    metrics = Metrics()
    metrics.fill(fill(Side.BUY, 400_000, 10 * ONE, 20_000))
    metrics.fill(fill(Side.SELL, 500_000, 10 * ONE, 20_000, "maker"))
    exposition = text(metrics)
    assert value(exposition, "pengine_fills_total", strategy="edge", liquidity="taker") == 1
    assert value(exposition, "pengine_fills_total", strategy="edge", liquidity="maker") == 1
    assert value(exposition, "pengine_fill_shares_total", strategy="edge", side="BUY") == 10
    assert value(exposition, "pengine_fill_notional_dollars_total", strategy="edge",
                 side="BUY") == pytest.approx(4.0)
    assert value(exposition, "pengine_fill_notional_dollars_total", strategy="edge",
                 side="SELL") == pytest.approx(5.0)
    assert value(exposition, "pengine_fill_fees_dollars_total",
                 strategy="edge") == pytest.approx(0.04)
    # Bought 10 at 0.40, sold 10 at 0.50: 1 USD realized (fees counted apart).
    assert value(exposition, "pengine_strategy_realized_pnl_dollars",
                 strategy="edge") == pytest.approx(1.0)


def test_latency_stages_land_in_their_buckets() -> None:
    metrics = Metrics()
    metrics.latency(LatencyRecord(START, MARKET, YES, decode_ns=80_000, evaluate_ns=20_000,
                                  end_to_end_ns=2_000_000))
    exposition = text(metrics)
    assert value(exposition, "pengine_frame_latency_seconds_count", stage="decode") == 1
    assert value(exposition, "pengine_frame_latency_seconds_bucket", stage="decode",
                 le="0.0001") == 1
    assert value(exposition, "pengine_frame_latency_seconds_bucket", stage="decode",
                 le="5e-05") == 0
    assert value(exposition, "pengine_frame_latency_seconds_sum",
                 stage="end_to_end") == pytest.approx(0.002)


def test_two_metrics_objects_do_not_share_a_registry() -> None:
    first, second = Metrics(), Metrics()
    first.fill(fill(Side.BUY, 400_000, ONE, 0))
    assert value(text(first), "pengine_fills_total", strategy="edge", liquidity="taker") == 1
    assert ("pengine_fills_total", frozenset({("strategy", "edge"), ("liquidity", "taker")})) \
        not in samples(text(second))


@pytest.fixture
async def runtime() -> AsyncIterator[TradingRuntime]:
    async with aiohttp.ClientSession() as http:
        yield TradingRuntime(Config(), [], http=http, clock=ManualClock(START),
                             reference_feeds=())


def market() -> Market:
    return Market(venue=Venue.POLYMARKET, condition_id=MARKET, market_id="1",
                  slug="will-it-rain", question="Will it rain?", outcomes=("Yes", "No"),
                  tokens=(YES, NO))


async def test_collector_reads_the_engine_portfolio_and_kill_switch(
    runtime: TradingRuntime,
) -> None:
    metrics = Metrics(journal_lag=lambda: 1.5)
    metrics.bind(runtime)
    engine = runtime.engine
    engine.state.add_market(market())
    engine.state.portfolio.apply_fill(
        Fill(market=MARKET, token=YES, side=Side.BUY, price=400_000, size=25 * ONE, fee=ONE))
    engine.counters.fills = 1
    engine.counters.orders = 3
    engine.state.daily_pnl = -12 * ONE
    engine.state.kill_switch = engine.state.kill_switch.engage("daily loss", START)
    await runtime.inbox.put(Stop())
    exposition = text(metrics)
    assert value(exposition, "pengine_engine_fills_total") == 1
    assert value(exposition, "pengine_engine_orders_total") == 3
    assert value(exposition, "pengine_kill_switch_engaged") == 1
    assert value(exposition, "pengine_daily_pnl_dollars") == -12
    assert value(exposition, "pengine_inbox_depth") == 1
    assert value(exposition, "pengine_journal_lag_seconds") == 1.5
    starting = engine.config.starting_cash / ONE
    assert value(exposition, "pengine_cash_dollars") == pytest.approx(starting - 10 - 1)
    assert value(exposition, "pengine_fees_dollars_total") == 1
    assert value(exposition, "pengine_exposure_dollars") == 10  # the position's cost
    assert value(exposition, "pengine_positions_open") == 1
    assert value(exposition, "pengine_position_shares", market="will-it-rain",
                 outcome="Yes") == 25
    assert value(exposition, "pengine_position_value_dollars", market="will-it-rain",
                 outcome="Yes") == 10  # no book: valued at cost


async def test_collector_reads_feed_counters_and_times_a_silent_feed(
    runtime: TradingRuntime,
) -> None:
    clock = runtime.clock
    assert isinstance(clock, ManualClock)
    binance = BinanceTradeSession(runtime.config, ["btcusdt"], runtime.http, clock,
                                  runtime.inbox)
    runtime.reference_sessions.append(binance)
    binance.feed.counters.frames = 5
    binance.feed.counters.last_frame_ns = clock.now_ns()
    binance.feed.counters.connects = 3
    binance.counters.events = 4
    binance.events_by_type[ReferencePrice] = 4
    binance.counters.decode_errors = 1
    runtime.session.counters.resyncs = 2
    metrics = Metrics()
    metrics.bind(runtime)
    first = text(metrics)
    feed = {"venue": "binance", "feed": "binance"}
    assert value(first, "pengine_frames_total", **feed) == 5
    assert value(first, "pengine_reconnects_total", **feed) == 2
    assert value(first, "pengine_feed_connected", **feed) == 0
    assert value(first, "pengine_events_total", venue="binance", type="reference_price") == 4
    assert value(first, "pengine_decode_errors_total", venue="binance", kind="decode") == 1
    assert value(first, "pengine_resyncs_total", venue="polymarket") == 2
    assert value(first, "pengine_feed_staleness_seconds", **feed) == 0
    clock.advance(7 * 1_000_000_000)
    assert value(text(metrics), "pengine_feed_staleness_seconds", **feed) == 7
    clock.advance(1_000_000_000)
    binance.feed.counters.frames = 6
    binance.feed.counters.last_frame_ns = clock.now_ns()
    assert value(text(metrics), "pengine_feed_staleness_seconds", **feed) == 0


async def test_service_serves_the_exposition_on_a_free_port(runtime: TradingRuntime) -> None:
    metrics = Metrics()
    metrics.fill(fill(Side.BUY, 400_000, ONE, 0))
    service = metrics_service(metrics, port=0)
    task = asyncio.create_task(service(runtime))
    try:
        await asyncio.wait_for(service.listening.wait(), 5)
        assert service.bound_port
        url = f"http://127.0.0.1:{service.bound_port}/metrics"
        async with aiohttp.ClientSession() as http, http.get(url) as response:
            assert response.status == 200
            assert response.headers["Content-Type"].startswith("text/plain; version=")
            body = await response.text()
        assert value(body, "pengine_fills_total", strategy="edge", liquidity="taker") == 1
        assert value(body, "pengine_subscribed_tokens") == 0
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert not service.listening.is_set()


@pytest.mark.skipif(PROMTOOL is None, reason="promtool (Debian package prometheus) not installed")
async def test_every_family_passes_promtool(runtime: TradingRuntime) -> None:
    metrics = Metrics(journal_lag=lambda: 0.0)
    metrics.bind(runtime)
    metrics.signal(signal("sized"))
    metrics.order(order(OrderStatus.SUBMITTED))
    metrics.order(order(OrderStatus.ACCEPTED))
    metrics.order(order(OrderStatus.REJECTED, "", "risk COOLDOWN: 0.2 s left"))
    metrics.fill(fill(Side.BUY, 400_000, ONE, 0))
    metrics.latency(LatencyRecord(START, MARKET, YES, 1, 2, 3))
    metrics.market_info(market())
    result = promtool_check_metrics(text(metrics))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout + result.stderr == ""


async def test_reference_sessions_sharing_a_feed_name_get_distinct_series(
    runtime: TradingRuntime,
) -> None:
    # The runtime opens one Binance session per batch of symbols; all name their feed
    # "binance". Duplicate series would make Prometheus reject the whole scrape.
    for symbols, frames, events in ((["btcusdt"], 3, 2), (["ethusdt"], 4, 5)):
        session = BinanceTradeSession(runtime.config, symbols, runtime.http, runtime.clock,
                                      runtime.inbox)
        session.feed.counters.frames = frames
        session.counters.events = events
        session.events_by_type[ReferencePrice] = events
        runtime.reference_sessions.append(session)
    metrics = Metrics()
    metrics.bind(runtime)
    exposition = text(metrics)
    assert value(exposition, "pengine_frames_total", venue="binance", feed="binance") == 3
    assert value(exposition, "pengine_frames_total", venue="binance", feed="binance-2") == 4
    assert value(exposition, "pengine_events_total", venue="binance",
                 type="reference_price") == 7
    if PROMTOOL is not None:
        result = promtool_check_metrics(exposition)
        assert result.returncode == 0, result.stdout + result.stderr


def test_event_type_labels_are_the_event_names_in_snake_case() -> None:
    # Dashboards and alerts select on these values: a renamed event class must show up here.
    labels = {kind.__name__: event_type_label(kind) for kind in typing.get_args(Event)}
    assert labels == {
        "BookSnapshot": "book_snapshot",
        "BookDelta": "book_delta",
        "Trade": "trade",
        "TopOfBook": "top_of_book",
        "TickSizeChanged": "tick_size_changed",
        "MarketListed": "market_listed",
        "MarketResolved": "market_resolved",
        "ReferencePrice": "reference_price",
        "OrderUpdated": "order_updated",
        "UserTradeUpdated": "user_trade_updated",
    }


async def test_events_are_counted_by_venue_and_type_and_add_up_per_venue(
    runtime: TradingRuntime,
) -> None:
    session = runtime.session
    session.events_by_type.update({BookSnapshot: 2, BookDelta: 40, Trade: 3, TickSizeChanged: 1})
    session.counters.events = 46
    for symbols, prices in ((["btcusdt"], 5), (["ethusdt"], 6)):  # two batches of symbols
        binance = BinanceTradeSession(runtime.config, symbols, runtime.http, runtime.clock,
                                      runtime.inbox)
        binance.events_by_type[ReferencePrice] = prices
        runtime.reference_sessions.append(binance)
    rtds = RtdsSession(runtime.config, ["btcusdt"], runtime.http, runtime.clock, runtime.inbox)
    rtds.counters.events = 9
    rtds.events_by_type[ReferencePrice] = 9
    runtime.reference_sessions.append(rtds)
    metrics = Metrics()
    metrics.bind(runtime)
    exposition = text(metrics)
    events = {
        (dict(labels)["venue"], dict(labels)["type"]): count
        for (name, labels), count in samples(exposition).items()
        if name == "pengine_events_total"
    }
    assert events == {
        ("polymarket", "book_snapshot"): 2,
        ("polymarket", "book_delta"): 40,
        ("polymarket", "trade"): 3,
        ("polymarket", "tick_size_changed"): 1,
        ("binance", "reference_price"): 11,
        ("polymarket-rtds", "reference_price"): 9,
    }
    per_venue = {venue: sum(n for (v, _), n in events.items() if v == venue)
                 for venue, _ in events}
    assert per_venue["polymarket"] == session.counters.events  # sum by (venue) is the total
    if PROMTOOL is not None:
        result = promtool_check_metrics(exposition)
        assert result.returncode == 0, result.stdout + result.stderr
