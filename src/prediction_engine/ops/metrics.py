"""Prometheus metrics of one trading process, served from the runtime's own event loop.

Two feeds of numbers, one registry (never prometheus' global one, so several runtimes can
live in one process):

- :class:`Metrics` is a :class:`~prediction_engine.engine.telemetry.TelemetrySink`: the engine
  hands it signals, orders, fills and latencies, and it only bumps counters and histograms.
- At scrape time its :class:`RuntimeCollector` reads the bound runtime's live objects (session
  and feed counters, the inbox, the engine's counters, portfolio and kill switch). The scrape
  runs in the event loop thread that owns those objects, so reading them needs no lock:
  :func:`metrics_service` serves ``GET /metrics`` with aiohttp from that loop.

Money is exported in dollars, sizes in shares, durations in seconds (Prometheus base units).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from prediction_engine.core.events import Event
from prediction_engine.core.ids import TokenId, Venue
from prediction_engine.core.markets import Market
from prediction_engine.core.numbers import ONE
from prediction_engine.core.orders import OrderStatus
from prediction_engine.core.portfolio import Fill, Portfolio
from prediction_engine.engine.clock import Clock
from prediction_engine.engine.telemetry import FillRecord, LatencyRecord, OrderRecord, SignalRecord
from prediction_engine.ops.listen import listen_error
from prediction_engine.risk.summary import summarize
from prediction_engine.trading.runtime import reference_venue

if TYPE_CHECKING:
    from prediction_engine.engine.state import EngineState
    from prediction_engine.trading.runtime import TradingRuntime

__all__ = ["Metrics", "MetricsService", "RuntimeCollector", "event_type_label", "metrics_service"]

log = logging.getLogger(__name__)

_NS = 1_000_000_000
LATENCY_BUCKETS = (0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                   0.1, 0.25, 0.5, 1.0, 2.5)
ROUND_TRIP_BUCKETS = (0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                      1.0, 2.5, 5.0, 10.0)
_PENDING_LIMIT = 10_000
"""Orders awaiting their first report that are remembered (the oldest are forgotten)."""

_ENGINE_COUNTERS = {
    "batches": "Inbox batches the engine handled.",
    "messages": "Messages (events, reports, timer ticks) the engine handled.",
    "evaluations": "Strategy evaluations.",
    "signals": "Signals strategies produced.",
    "orders": "Orders the engine sent to execution.",
    "rejected": "Order intents risk rejected.",
    "cancels": "Cancels the engine sent.",
    "fills": "Fills the engine booked.",
    "reports": "Execution reports the engine handled.",
    "stale_skips": "Signals or intents skipped because a book or feed was stale.",
    "unknown_reports": "Execution reports for orders the engine does not know.",
    "illegal_reports": "Execution reports that broke the order lifecycle.",
    "settlements": "Resolved markets in which a position was settled.",
}


def _dollars(micro: int) -> float:
    return micro / ONE


class Metrics:
    """The metrics of one runtime: a telemetry sink plus a scrape-time collector.

    ``journal_lag`` (seconds the journal writer is behind) is read at each scrape when given.
    Order round trips (submitted to first report) are timed with ``clock`` when given, else
    with the clock of the runtime bound by :meth:`bind`, else with the records' own timestamps.
    At most ``max_position_series`` positions (the largest) are exported one by one.
    """

    def __init__(
        self,
        *,
        journal_lag: Callable[[], float] | None = None,
        clock: Clock | None = None,
        max_position_series: int = 50,
    ) -> None:
        self.registry = CollectorRegistry()
        self._clock = clock
        registry = self.registry
        self._signals = Counter(
            "pengine_signals", "Signals by strategy, side and what became of them.",
            ("strategy", "side", "action"), registry=registry)
        self._orders = Counter(
            "pengine_orders", "Order state changes by strategy and new status.",
            ("strategy", "status"), registry=registry)
        self._rejections = Counter(
            "pengine_risk_rejections", "Order intents risk refused, by strategy and reason.",
            ("strategy", "reason"), registry=registry)
        self._fills = Counter(
            "pengine_fills", "Fills by strategy and liquidity (taker or maker).",
            ("strategy", "liquidity"), registry=registry)
        self._fill_shares = Counter(
            "pengine_fill_shares", "Shares filled by strategy and side.",
            ("strategy", "side"), registry=registry)
        self._fill_notional = Counter(
            "pengine_fill_notional_dollars", "Notional filled (price times size) in USD.",
            ("strategy", "side"), registry=registry)
        self._fill_fees = Counter(
            "pengine_fill_fees_dollars", "Fees paid on fills in USD.", ("strategy",),
            registry=registry)
        self._latency = Histogram(
            "pengine_frame_latency_seconds",
            "Time from a frame's receipt, per stage: decode (to the engine), evaluate "
            "(strategies and risk) and end_to_end (to the order handed to execution).",
            ("stage",), buckets=LATENCY_BUCKETS, registry=registry)
        self._round_trip = Histogram(
            "pengine_order_round_trip_seconds",
            "Time from an order's submission to the engine handling its first report.",
            buckets=ROUND_TRIP_BUCKETS, registry=registry)
        self._markets = Gauge(
            "pengine_markets_traded", "Markets offered to the strategies.", registry=registry)
        self._known_markets: set[str] = set()
        self.portfolios: dict[str, Portfolio] = {}
        self._submitted: dict[str, int] = {}
        self.collector = RuntimeCollector(self, journal_lag, max_position_series)
        registry.register(self.collector)

    def bind(self, runtime: TradingRuntime) -> None:
        """Read ``runtime``'s live objects at every scrape (and adopt its clock if none)."""
        self.collector.runtime = runtime
        self.collector.bound_ns = runtime.clock.now_ns()
        if self._clock is None:
            self._clock = runtime.clock

    def exposition(self, accept: str = "") -> tuple[bytes, str]:
        """Render every metric for an HTTP ``Accept`` header; return the body and its type."""
        encoder, content_type = choose_encoder(accept)
        return encoder(self.registry), content_type

    # -- TelemetrySink ---------------------------------------------------------------------

    def signal(self, record: SignalRecord) -> None:
        """Count a signal by its action's kind (``sized``, ``no_size``, ``stale``, ...)."""
        action = record.action.split(":", 1)[0].strip()
        self._signals.labels(record.strategy, str(record.side), action).inc()

    def order(self, record: OrderRecord) -> None:
        """Count an order state or a risk rejection; time the submission's first report."""
        if record.status is OrderStatus.REJECTED and record.reason.startswith("risk "):
            reason = record.reason.removeprefix("risk ").split(":", 1)[0].strip()
            self._rejections.labels(record.strategy, reason).inc()
            return
        self._orders.labels(record.strategy, str(record.status)).inc()
        if not record.client_id:
            return
        now = self._clock.now_ns() if self._clock is not None else record.ts_ns
        if record.status is OrderStatus.SUBMITTED:
            if len(self._submitted) >= _PENDING_LIMIT:
                del self._submitted[next(iter(self._submitted))]
            self._submitted[record.client_id] = now
            return
        submitted = self._submitted.pop(record.client_id, None)
        if submitted is not None:
            self._round_trip.observe(max(now - submitted, 0) / _NS)

    def fill(self, record: FillRecord) -> None:
        """Count a fill, its shares, notional and fee; book it in the strategy's portfolio."""
        strategy, side = record.strategy, str(record.side)
        self._fills.labels(strategy, record.liquidity).inc()
        self._fill_shares.labels(strategy, side).inc(record.size / ONE)
        self._fill_notional.labels(strategy, side).inc(record.price * record.size / ONE / ONE)
        self._fill_fees.labels(strategy).inc(record.fee / ONE)
        portfolio = self.portfolios.setdefault(strategy, Portfolio(0))
        portfolio.apply_fill(Fill(market=record.market, token=record.token, side=record.side,
                                  price=record.price, size=record.size, fee=record.fee))

    def latency(self, record: LatencyRecord) -> None:
        """Observe the decode, evaluate and end-to-end times of one frame."""
        self._latency.labels("decode").observe(record.decode_ns / _NS)
        self._latency.labels("evaluate").observe(record.evaluate_ns / _NS)
        self._latency.labels("end_to_end").observe(record.end_to_end_ns / _NS)

    def market_info(self, market: Market, extra: Mapping[str, str] | None = None) -> None:
        """Count the market (each condition id once)."""
        self._known_markets.add(market.condition_id)
        self._markets.set(len(self._known_markets))


_Family = CounterMetricFamily | GaugeMetricFamily


class _Families:
    """One scrape's metric families, created empty so each is exported even without data."""

    def __init__(self) -> None:
        self.all: dict[str, _Family] = {}

    def counter(self, name: str, documentation: str, labels: Iterable[str] = ()) -> None:
        self.all[name] = CounterMetricFamily(name, documentation, labels=list(labels))

    def gauge(self, name: str, documentation: str, labels: Iterable[str] = ()) -> None:
        self.all[name] = GaugeMetricFamily(name, documentation, labels=list(labels))


class RuntimeCollector(Collector):
    """Reads a :class:`TradingRuntime`'s counters and state at scrape time.

    Call :meth:`collect` only from the runtime's event loop thread (the HTTP handler of
    :func:`metrics_service` does): it reads objects the engine and sessions mutate.
    """

    def __init__(
        self, metrics: Metrics, journal_lag: Callable[[], float] | None, max_positions: int
    ) -> None:
        self.runtime: TradingRuntime | None = None
        self._metrics = metrics
        self._journal_lag = journal_lag
        self._max_positions = max_positions
        self.bound_ns = 0
        """When a runtime was bound: a feed that never sent a frame is silent since then."""

    def describe(self) -> Iterable[Metric]:
        """Return every family this collector exports, without samples."""
        return list(_empty_families(self._journal_lag is not None).all.values())

    def collect(self) -> Iterable[Metric]:
        """Return every family, with samples read from the bound runtime (none if unbound)."""
        families = _empty_families(self._journal_lag is not None)
        runtime, marks = self.runtime, {}
        if runtime is not None:
            now = runtime.clock.now_ns()
            marks = runtime.engine.state.marks()
            self._feeds(families.all, runtime, now)
            self._engine(families.all, runtime, marks)
            self._positions(families.all, runtime.engine.state, marks)
        for strategy, portfolio in sorted(self._metrics.portfolios.items()):
            valuation = portfolio.mark(marks)
            families.all["pengine_strategy_realized_pnl_dollars"].add_metric(
                [strategy], _dollars(valuation.realized))
            families.all["pengine_strategy_unrealized_pnl_dollars"].add_metric(
                [strategy], _dollars(valuation.unrealized))
        if self._journal_lag is not None:
            families.all["pengine_journal_lag_seconds"].add_metric([], self._journal_lag())
        return list(families.all.values())

    def _feeds(self, f: Mapping[str, _Family], runtime: TradingRuntime, now: int) -> None:
        for named in runtime.named_feeds():
            labels, feed = [str(named.venue), named.name], named.feed
            counters = feed.counters
            f["pengine_frames"].add_metric(labels, counters.frames)
            f["pengine_reconnects"].add_metric(labels, max(counters.connects - 1, 0))
            f["pengine_feed_connect_failures"].add_metric(labels, counters.failed_attempts)
            f["pengine_feed_stale_drops"].add_metric(labels, counters.stale)
            f["pengine_feed_connected"].add_metric(labels, 1 if feed.connected else 0)
            silent_since = counters.last_frame_ns or self.bound_ns
            f["pengine_feed_staleness_seconds"].add_metric(labels,
                                                           max(now - silent_since, 0) / _NS)
        session = runtime.session.counters
        for venue, kind, count in _events_by_type(runtime):
            f["pengine_events"].add_metric([venue, kind], count)
        f["pengine_decode_errors"].add_metric(["polymarket", "decode"], session.decode_errors)
        f["pengine_decode_errors"].add_metric(["polymarket", "unknown_event"],
                                              session.unknown_events)
        f["pengine_frames_skipped"].add_metric(["polymarket", "text"], session.text_frames)
        f["pengine_frames_skipped"].add_metric(["polymarket", "duplicate"],
                                               session.duplicate_frames)
        f["pengine_resyncs"].add_metric(["polymarket"], session.resyncs)
        f["pengine_rest_snapshots"].add_metric(["ok"], session.rest_snapshots)
        f["pengine_rest_snapshots"].add_metric(["failed"], session.rest_failures)
        f["pengine_rest_snapshots"].add_metric(["stale"], session.stale_snapshots)
        f["pengine_subscribed_tokens"].add_metric([], len(runtime.session.tokens))
        errors: dict[str, int] = {}
        for reference in runtime.reference_sessions:  # one session per batch of symbols
            venue = str(reference_venue(reference))
            errors[venue] = errors.get(venue, 0) + reference.counters.decode_errors
        for venue in sorted(errors):
            f["pengine_decode_errors"].add_metric([venue, "decode"], errors[venue])
        f["pengine_inbox_depth"].add_metric([], runtime.inbox.qsize())
        for venue, seen in sorted(runtime.engine.state.feed_seen_ns.items()):
            f["pengine_feed_last_event_age_seconds"].add_metric([str(venue)],
                                                                max(now - seen, 0) / _NS)

    def _engine(
        self, f: Mapping[str, _Family], runtime: TradingRuntime, marks: Mapping[TokenId, int]
    ) -> None:
        engine = runtime.engine
        for name in _ENGINE_COUNTERS:
            f[f"pengine_engine_{name}"].add_metric([], getattr(engine.counters, name))
        state, limits = engine.state, engine.config.limits
        valuation = state.portfolio.mark(marks)
        exposure = summarize(state.risk_state()).exposure
        for name, micro in (
            ("cash", valuation.cash),
            ("equity", valuation.equity),
            ("realized_pnl", valuation.realized),
            ("unrealized_pnl", valuation.unrealized),
            ("daily_pnl", state.daily_pnl),
            ("exposure", exposure),
            ("exposure_limit", limits.max_total_exposure),
            ("daily_loss_limit", limits.max_daily_loss),
        ):
            f[f"pengine_{name}_dollars"].add_metric([], _dollars(micro))
        f["pengine_fees_dollars"].add_metric([], _dollars(valuation.fees))
        f["pengine_open_orders"].add_metric([], len(state.open_orders))
        f["pengine_kill_switch_engaged"].add_metric([], 1 if state.kill_switch.engaged else 0)

    def _positions(
        self, f: Mapping[str, _Family], state: EngineState, marks: Mapping[TokenId, int]
    ) -> None:
        held = sorted(state.portfolio.open_positions(), key=lambda p: -abs(p.shares))
        f["pengine_positions_open"].add_metric([], len(held))
        for position in held[: self._max_positions]:
            market = state.market_of.get(position.token)
            labels = _position_labels(market, position.token)
            mark = marks.get(position.token)
            value = position.basis if mark is None else position.value(mark)
            f["pengine_position_shares"].add_metric(labels, position.shares / ONE)
            f["pengine_position_value_dollars"].add_metric(labels, _dollars(value))


def _position_labels(market: Market | None, token: TokenId) -> list[str]:
    if market is None:
        return [token[:16], ""]
    outcomes = dict(zip(market.tokens, market.outcomes, strict=False))
    return [market.slug or market.condition_id[:16], outcomes.get(token, token[:16])]


@functools.cache
def event_type_label(kind: type) -> str:
    """The ``type`` label of an event class: its name in snake_case (``BookDelta`` ->
    ``book_delta``), as stable as the domain's event names."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", kind.__name__).lower()


def _events_by_type(runtime: TradingRuntime) -> list[tuple[str, str, int]]:
    """Events each venue handed to the engine, per event type, summed over its sessions."""
    counts: dict[tuple[str, str], int] = {}

    def add(venue: Venue, by_type: Mapping[type[Event], int]) -> None:
        for kind, count in by_type.items():
            key = (str(venue), event_type_label(kind))
            counts[key] = counts.get(key, 0) + count

    add(Venue.POLYMARKET, runtime.session.events_by_type)
    for reference in runtime.reference_sessions:
        add(reference_venue(reference), reference.events_by_type)
    return [(venue, kind, count) for (venue, kind), count in sorted(counts.items())]


_FEED = ("venue", "feed")


def _empty_families(journal: bool) -> _Families:
    """Every family the collector exports, in exposition order, without samples."""
    f = _Families()
    f.counter("pengine_frames", "WebSocket frames received, per feed (shard).", _FEED)
    f.counter("pengine_frames_skipped", "Frames not parsed: text (PONG) or duplicates.",
              ("venue", "reason"))
    f.counter("pengine_events", "Events parsed and handed to the engine, by venue and event "
              "type (book_snapshot, book_delta, trade, reference_price, ...).", ("venue", "type"))
    f.counter("pengine_decode_errors", "Frames dropped as undecodable or of unknown type.",
              ("venue", "kind"))
    f.counter("pengine_reconnects", "Reconnections after the first connect.", _FEED)
    f.counter("pengine_feed_connect_failures", "Connection attempts that got no frame.", _FEED)
    f.counter("pengine_feed_stale_drops", "Connections dropped for silence.", _FEED)
    f.gauge("pengine_feed_connected", "1 while the feed's socket is open.", _FEED)
    f.gauge("pengine_feed_staleness_seconds",
            "Seconds since the feed's last frame (or since metrics started, before any).", _FEED)
    f.gauge("pengine_feed_last_event_age_seconds",
            "Seconds since the engine last received an event of this venue.", ("venue",))
    f.counter("pengine_resyncs", "Books that needed a resync (desync, reconnect, tick change).",
              ("venue",))
    f.counter("pengine_rest_snapshots", "REST /book snapshots fetched for resyncs, by outcome.",
              ("outcome",))
    f.gauge("pengine_subscribed_tokens", "Tokens whose books are streamed.")
    f.gauge("pengine_inbox_depth", "Messages waiting in the engine's inbox.")
    for name, documentation in _ENGINE_COUNTERS.items():
        f.counter(f"pengine_engine_{name}", documentation)
    f.gauge("pengine_cash_dollars", "Cash in USD.")
    f.gauge("pengine_equity_dollars", "Cash plus positions marked at mid, in USD.")
    f.gauge("pengine_realized_pnl_dollars", "Realized PnL in USD (settlements included).")
    f.gauge("pengine_unrealized_pnl_dollars", "Unrealized PnL of open positions at mid, USD.")
    f.gauge("pengine_daily_pnl_dollars", "Equity change since the start of the UTC day, USD.")
    f.gauge("pengine_exposure_dollars", "USD at risk (positions and open BUYs), as risk sees it.")
    f.gauge("pengine_exposure_limit_dollars", "Risk limit on total exposure, USD.")
    f.gauge("pengine_daily_loss_limit_dollars", "Risk limit on the daily loss, USD.")
    f.counter("pengine_fees_dollars", "Fees paid in USD.")
    f.gauge("pengine_open_orders", "Open orders.")
    f.gauge("pengine_kill_switch_engaged", "1 while the kill switch refuses new orders.")
    f.gauge("pengine_strategy_realized_pnl_dollars",
            "Realized PnL from a strategy's own fills, USD (settlements not included).",
            ("strategy",))
    f.gauge("pengine_strategy_unrealized_pnl_dollars",
            "Unrealized PnL of a strategy's positions at mid, USD.", ("strategy",))
    f.gauge("pengine_positions_open", "Tokens held.")
    f.gauge("pengine_position_shares", "Shares held (the largest positions only).",
            ("market", "outcome"))
    f.gauge("pengine_position_value_dollars", "Position value at mid (cost if no book), USD.",
            ("market", "outcome"))
    if journal:
        f.gauge("pengine_journal_lag_seconds", "Seconds the journal writer is behind.")
    return f


class MetricsService:
    """A runtime service serving ``GET /metrics``; ``port`` 0 picks a free port.

    ``listening`` is set once the socket is bound; ``bound_port`` then holds the port.
    """

    def __init__(self, metrics: Metrics, host: str, port: int) -> None:
        self.metrics, self.host, self.port = metrics, host, port
        self.bound_port: int | None = None
        self.listening = asyncio.Event()

    async def __call__(self, runtime: TradingRuntime) -> None:
        """Bind the metrics to ``runtime`` and serve until cancelled."""
        self.metrics.bind(runtime)
        app = web.Application()
        app.router.add_get("/metrics", self._handle)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self.host, self.port)
            try:
                await site.start()
            except OSError as e:  # a start-up problem the user fixes with another port or host
                raise listen_error("metrics", self.host, self.port, e, "--metrics") from e
            self.bound_port = int(runner.addresses[0][1])
            self.listening.set()
            log.info("metrics at http://%s:%d/metrics", self.host, self.bound_port)
            await asyncio.Event().wait()  # until the runtime cancels its services
        finally:
            self.listening.clear()
            await runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        body, content_type = self.metrics.exposition(request.headers.get("Accept", ""))
        return web.Response(body=body, headers={"Content-Type": content_type})


def metrics_service(metrics: Metrics, host: str = "127.0.0.1", port: int = 9000) -> MetricsService:
    """Return a runtime service exposing ``metrics`` at ``http://host:port/metrics``."""
    return MetricsService(metrics, host, port)
