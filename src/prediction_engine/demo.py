"""The offline demo: the whole market-data system against the local simulator.

:func:`run_demo` starts a simulated Polymarket (Gamma, CLOB, market WebSocket) and the
Binance/RTDS reference feeds on 127.0.0.1, discovers the markets through the normal Gamma
client into a catalog, streams every order book over WebSockets with the normal session
(following listings and resolutions as they happen), streams the reference prices, records
every frame to a tape, and reports what happened. Nothing here is simulator-specific except
the URLs it is pointed at.

While it runs, the demo also checks what it sees: the strike of each crypto Up/Down window
is the first reference price at or after the window start, so at resolution it compares the
venue's winner with what the reference feed says; and it notices when a neg-risk event's best
YES asks sum below 1 (an arbitrage a strategy could take).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path

import aiohttp

from prediction_engine.config import BinanceConfig, Config, PolymarketConfig
from prediction_engine.core.events import (
    BookDelta,
    BookSnapshot,
    Event,
    MarketListed,
    MarketResolved,
    ReferencePrice,
)
from prediction_engine.core.ids import TokenId, Venue
from prediction_engine.core.markets import Market
from prediction_engine.core.numbers import ONE
from prediction_engine.core.updown import parse_updown_slug, reference_symbol
from prediction_engine.engine.clock import OffsetClock
from prediction_engine.engine.loop import EngineConfig
from prediction_engine.sim.polymarket import SimConfig, SimPolymarket
from prediction_engine.strategy.registry import build_strategies
from prediction_engine.tape import BINANCE_TRADE, POLYMARKET_MARKET, RTDS_CRYPTO, TapeWriter
from prediction_engine.trading.runtime import RawHooks, TradingRuntime
from prediction_engine.trading.status import TradingStatus, status_of
from prediction_engine.venues.feed import Frame
from prediction_engine.venues.polymarket.catalog import CatalogStore, refresh_catalog
from prediction_engine.venues.polymarket.rest import GammaClient, MarketQuery
from prediction_engine.venues.polymarket.session import MarketDataSession

__all__ = ["DemoOptions", "DemoResult", "DemoStats", "UpDownWindow", "plain", "run_demo"]

ASSETS = ("btc", "eth")
DEMO_STRATEGIES = ("arbitrage", "updown_fade", "updown_momentum", "updown_sniper")
"""Strategies the demo paper-trades."""
_LEAD_S = 3
"""The simulated clock starts this long before an Up/Down window opens."""


@dataclass(frozen=True)
class DemoOptions:
    """What to run and where to write."""

    out_dir: Path
    duration_s: float = 70.0
    seed: int = 0
    updates_per_second: float = 200.0
    updown_minutes: int = 1
    arb_every_s: float = 10.0
    listing_every_s: float = 20.0
    strategies: tuple[str, ...] = DEMO_STRATEGIES


@dataclass
class UpDownWindow:
    """A crypto Up/Down window as our own feeds see it."""

    slug: str
    symbol: str
    start_ns: int
    end_ns: int
    strike: Decimal | None = None
    last: Decimal | None = None
    venue_winner: str | None = None
    joined_late: bool = False
    """Our feed started after the window did, so its first price is not the strike.

    ``strike`` and ``joined_late`` come from the engine, which takes the strike as the first
    RTDS price at or after the start (see :meth:`EngineState.set_strike`)."""

    @property
    def ours(self) -> str | None:
        """The winner by our own feed: Up if the last price is at or above the strike."""
        if self.strike is None or self.last is None or self.joined_late:
            return None
        return "Up" if self.last >= self.strike else "Down"


@dataclass
class DemoStats:
    """Counts shown while the demo runs and in its summary."""

    elapsed_s: float = 0.0
    markets_discovered: int = 0
    neg_risk_events: int = 0
    updown_windows: int = 0
    tokens_streamed: int = 0
    frames: int = 0
    events: Counter[str] = field(default_factory=Counter)
    reference_prices: dict[str, str] = field(default_factory=dict)
    books_synced: int = 0
    resyncs: int = 0
    reconnects: int = 0
    decode_errors: int = 0
    listed: int = 0
    resolved: int = 0
    updown_resolved: int = 0
    updown_checked: int = 0
    updown_agreed: int = 0
    arbitrage_seen: int = 0
    """Times a neg-risk event's best YES asks went from summing >= 1 to < 1."""
    arbitrage_injected: int = 0
    tape_frames: int = 0
    trading: TradingStatus | None = None
    """The paper-trading engine: strategies, orders, fills, PnL."""


@dataclass(frozen=True)
class DemoResult:
    """The final stats and the files written."""

    stats: DemoStats
    windows: list[UpDownWindow]
    paths: dict[str, Path]
    cheap_asks: set[tuple[TokenId, int]] = field(default_factory=set)
    """(token, ask) pairs present while a neg-risk event's asks summed below 1."""
    injected: list[tuple[TokenId, int]] = field(default_factory=list)
    """(token, ask) of every arbitrage the simulator made."""


OnTick = Callable[[DemoStats, list[UpDownWindow]], None]


class _Demo:
    """State of one demo run (the single consumer of the event queue owns it)."""

    def __init__(self, options: DemoOptions, sim: SimPolymarket, tape: TapeWriter) -> None:
        self.options = options
        self.sim = sim
        self.tape = tape
        self.stats = DemoStats()
        self.queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=100_000)
        self.slugs: dict[str, str] = {}  # condition id -> slug
        self.windows: dict[str, UpDownWindow] = {}
        self.neg_risk: dict[str, list[TokenId]] = {}  # event -> YES tokens
        self.event_of: dict[TokenId, str] = {}  # YES token of a neg-risk market -> event
        self.below_one: set[str] = set()
        self.cheap_asks: set[tuple[TokenId, int]] = set()  # asks seen while a sum was < 1
        self.session: MarketDataSession | None = None
        self.runtime: TradingRuntime | None = None
        self.injected: list[tuple[TokenId, int]] = []
        self.started = time.monotonic()

    def record(self, channel: str) -> Callable[[str, Frame, int], None]:
        def hook(source: str, frame: Frame, recv_ns: int) -> None:
            self.tape.write(recv_ns, channel, frame)

        return hook

    def add_markets(self, markets: list[Market]) -> list[TokenId]:
        tokens: list[TokenId] = []
        for market in markets:
            if market.closed or not market.tokens:
                continue
            self.slugs[market.condition_id] = market.slug
            tokens.extend(market.tokens)
            self._track_updown(market.slug)
            if market.neg_risk and market.event_slug:
                self.neg_risk.setdefault(market.event_slug, []).append(market.tokens[0])
                self.event_of[market.tokens[0]] = market.event_slug
        self.stats.markets_discovered = len(self.slugs)
        self.stats.neg_risk_events = len(self.neg_risk)
        return tokens

    def _track_updown(self, slug: str) -> None:
        parsed = parse_updown_slug(slug)
        if parsed is None or slug in self.windows:
            return
        start_ns = parsed.start_s * 1_000_000_000
        end_ns = parsed.end_s * 1_000_000_000
        self.windows[slug] = UpDownWindow(slug, reference_symbol(parsed.asset), start_ns, end_ns)
        self.stats.updown_windows = len(self.windows)

    async def consume(self) -> None:
        while True:
            event = await self.queue.get()
            self.stats.events[type(event).__name__] += 1
            if isinstance(event, BookDelta | BookSnapshot):
                self._check_arbitrage(event.token)
            elif isinstance(event, ReferencePrice):
                self._reference(event)
            elif isinstance(event, MarketListed):
                await self._listed(event)
            elif isinstance(event, MarketResolved):
                await self._resolved(event)

    def _reference(self, event: ReferencePrice) -> None:
        symbol = event.symbol.lower()
        self.stats.reference_prices[symbol] = plain(event.price)
        for window in self.windows.values():
            if window.symbol == symbol and window.start_ns <= event.ts_event <= window.end_ns:
                window.last = event.price

    def _strikes(self) -> None:
        """Copy each window's strike (or that it was joined late) from the engine's state."""
        if self.runtime is None:
            return
        for known in self.runtime.engine.state.windows.values():
            window = self.windows.get(known.market.slug)
            if window is not None:
                window.strike, window.joined_late = known.strike, known.joined_late

    async def _listed(self, event: MarketListed) -> None:
        self.stats.listed += 1
        self.slugs[event.market] = event.slug
        self._track_updown(event.slug)
        fresh = [t for t in event.tokens if self.session and t not in self.session.tokens]
        if fresh and self.session is not None:
            await self.session.subscribe(fresh)
            self.stats.tokens_streamed = len(self.session.tokens)

    async def _resolved(self, event: MarketResolved) -> None:
        self.stats.resolved += 1
        slug = self.slugs.get(event.market)
        window = self.windows.get(slug) if slug else None
        if window is not None:
            window.venue_winner = event.winning_outcome
        if self.session is not None:
            await self.session.unsubscribe(event.tokens)
            self.stats.tokens_streamed = len(self.session.tokens)

    def _check_arbitrage(self, token: TokenId) -> None:
        event_slug = self.event_of.get(token)
        if event_slug is None or self.session is None:
            return
        books, tokens = self.session.books, self.neg_risk[event_slug]
        asks = [book.best_ask if (book := books.book(t)) else None for t in tokens]
        below = all(a is not None for a in asks) and sum(a or 0 for a in asks) < ONE
        if below and event_slug not in self.below_one:
            self.stats.arbitrage_seen += 1
        if below:
            self.below_one.add(event_slug)
            self.cheap_asks.update((t, a) for t, a in zip(tokens, asks, strict=True) if a)
        else:
            self.below_one.discard(event_slug)

    def refresh_stats(self) -> None:
        self._strikes()
        if self.runtime is not None:
            self.stats.trading = status_of(self.runtime, time.monotonic() - self.started)
        stats, session = self.stats, self.session
        stats.elapsed_s = time.monotonic() - self.started
        stats.tape_frames = self.tape.frames
        stats.arbitrage_injected = len(self.sim.arbitrage)
        self.injected = [(TokenId(e.token_id), e.price) for e in self.sim.arbitrage]
        # Judged once the run is over or later prices arrived: the resolution can overtake
        # the window's last tick on the way here.
        resolved = [w for w in self.windows.values() if w.venue_winner is not None]
        stats.updown_resolved = len(resolved)
        stats.updown_checked = sum(w.ours is not None for w in resolved)
        stats.updown_agreed = sum(w.ours == w.venue_winner for w in resolved)
        if session is not None:
            stats.frames = session.counters.frames
            stats.resyncs = session.counters.resyncs
            stats.decode_errors = session.counters.decode_errors
            stats.books_synced = sum(1 for t in session.tokens if session.books.book(t))
            stats.reconnects = sum(max(0, f.counters.connects - 1) for f in session.feeds)


async def run_demo(options: DemoOptions, on_tick: OnTick | None = None) -> DemoResult:
    """Run the demo for ``options.duration_s`` seconds and return what it saw and wrote."""
    out = options.out_dir
    out.mkdir(parents=True, exist_ok=True)
    window_s = options.updown_minutes * 60
    now_s = int(time.time())
    sim_config = SimConfig(
        seed=options.seed,
        updates_per_second=options.updates_per_second,
        # Near the wall clock, placed just before a window opens, so that a whole window
        # (strike to resolution) fits in about a minute with 1-minute windows.
        clock_start_s=now_s - now_s % window_s + window_s - _LEAD_S,
        updown_assets=ASSETS,
        updown_minutes=(options.updown_minutes,),
        arb_every_s=options.arb_every_s,
        listing_every_s=options.listing_every_s,
    )
    paths = {
        "telemetry": out / "telemetry",
        "tape": out / "tape.jsonl.gz",
        "catalog": out / "catalog.json",
        "summary": out / "summary.json",
    }
    async with SimPolymarket(sim_config) as sim:
        config = Config(
            data_dir=str(out),
            polymarket=PolymarketConfig(
                gamma_url=sim.gamma_url,
                clob_url=sim.clob_url,
                ws_market_url=sim.ws_market_url,
                rtds_url=sim.rtds_url,
            ),
            binance=BinanceConfig(ws_url=sim.binance_url),
        )
        with TapeWriter(paths["tape"], source="pengine demo", seed=options.seed) as tape:
            demo = _Demo(options, sim, tape)
            await _stream(demo, config, paths["catalog"], on_tick)
            demo.refresh_stats()
    windows = list(demo.windows.values())
    result = DemoResult(demo.stats, windows, paths, demo.cheap_asks, demo.injected)
    paths["summary"].write_text(json.dumps(summary_json(result), indent=2) + "\n")
    return result


async def _stream(demo: _Demo, config: Config, catalog_file: Path, on_tick: OnTick | None) -> None:
    # The simulator runs on its own timeline (it starts just before a window opens): every
    # receive time and the engine's clock follow it, so window times compare correctly.
    clock = OffsetClock(demo.sim.config.clock_start_s * 1_000_000_000 - time.time_ns())
    async with aiohttp.ClientSession() as http:
        gamma = GammaClient.from_config(http, config.polymarket)
        catalog = await refresh_catalog(gamma, clock.now_ns(), MarketQuery(enable_order_book=True))
        CatalogStore(catalog_file).save(catalog)
        markets = [m for m in catalog.markets if not m.closed and m.tokens]
        tokens = demo.add_markets(markets)
        strategies = build_strategies(demo.options.strategies, ())
        runtime = TradingRuntime(
            config,
            strategies,
            http=http,
            clock=clock,
            engine_config=EngineConfig(strike_venue=Venue.POLYMARKET_RTDS),
            telemetry_dir=demo.options.out_dir / "telemetry",
            hooks=RawHooks(
                market=demo.record(POLYMARKET_MARKET),
                binance=demo.record(BINANCE_TRADE),
                rtds=demo.record(RTDS_CRYPTO),
            ),
            tap=demo.queue,
        )
        runtime.add_markets(markets)
        runtime.watch_tokens(tokens)
        runtime.warm_symbols([reference_symbol(asset) for asset in ASSETS])
        demo.session, demo.runtime = runtime.session, runtime
        stop = asyncio.Event()
        async with asyncio.TaskGroup() as group:
            group.create_task(runtime.run(stop), name="demo-runtime")
            consumer = group.create_task(demo.consume(), name="demo-consumer")
            demo.stats.tokens_streamed = len(tokens)
            deadline = time.monotonic() + demo.options.duration_s
            while time.monotonic() < deadline:
                await asyncio.sleep(min(0.25, max(0.0, deadline - time.monotonic())))
                demo.refresh_stats()
                if on_tick is not None:
                    on_tick(demo.stats, list(demo.windows.values()))
            stop.set()
            consumer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await consumer


def summary_json(result: DemoResult) -> dict[str, object]:
    """The summary file's content."""
    stats = asdict(result.stats)
    stats["events"] = dict(result.stats.events)
    return {
        "stats": stats,
        "updown_windows": [
            {
                "slug": w.slug,
                "strike": None if w.strike is None else plain(w.strike),
                "last": None if w.last is None else plain(w.last),
                "venue_winner": w.venue_winner,
                "ours": w.ours,
                "joined_late": w.joined_late,
            }
            for w in result.windows
        ],
        "paths": {name: str(path) for name, path in result.paths.items()},
    }


def plain(value: Decimal) -> str:
    """`61015.82000000` -> `61015.82` (no exponent, no trailing zeros)."""
    return f"{value.normalize():f}"
