"""The crypto Up/Down bot: trade every window of one asset and interval, indefinitely.

For ``asset`` (btc, eth, sol, xrp) and ``interval`` (5m, 15m, 1h, 4h) the bot:

1. finds the current window's market (computed slug, then the next window, then the series);
2. keeps the reference feeds (Binance trades, RTDS prices) running all along, so they are warm
   before a window starts; the engine takes the first reference price at or after the start as
   the strike;
3. subscribes to the window's books and lets the Up/Down strategies trade it;
4. ``warmup_s`` before the window ends, finds and subscribes to the next window;
5. at the end cancels what is still open in the finished window (its positions settle when the
   venue resolves it, and the engine then drops its books) and rolls on.

The bot never mutates the engine: it posts messages to the engine's inbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path

import aiohttp

from prediction_engine.config import Config
from prediction_engine.core.ids import ConditionId, Venue
from prediction_engine.core.updown import (
    UPDOWN_INTERVALS,
    UpDownError,
    check_updown,
    reference_symbol,
)
from prediction_engine.engine.clock import Clock, LiveClock
from prediction_engine.engine.loop import EngineConfig
from prediction_engine.engine.messages import AddMarkets, CancelMarketOrders
from prediction_engine.strategy.registry import build_strategies
from prediction_engine.trading.observe import ObservabilityOptions, observers
from prediction_engine.trading.runtime import TradingRuntime
from prediction_engine.trading.status import TradingStatus, status_of, summary_json
from prediction_engine.venues.polymarket.catalog import UpDownMatch, find_updown
from prediction_engine.venues.polymarket.rest import GammaClient

__all__ = [
    "DEFAULT_STRATEGIES",
    "UpDownBot",
    "UpDownError",
    "UpDownOptions",
    "WindowReport",
    "check_updown",
    "run_updown",
]

log = logging.getLogger(__name__)
_S = 1_000_000_000


@dataclass
class WindowReport:
    """One window as the bot traded it."""

    slug: str
    market: ConditionId
    start_ns: int
    end_ns: int
    found_by: str
    strike: Decimal | None = None
    orders: int = 0
    fills: int = 0
    resolved: bool = False
    pnl: int = 0
    """Realized PnL of the window's tokens, fees included (micro-units), once resolved."""


@dataclass
class UpDownBot:
    """Roll through the windows of one asset and interval on a :class:`TradingRuntime`."""

    runtime: TradingRuntime
    gamma: GammaClient
    clock: Clock
    asset: str
    interval: str
    warmup_s: float = 30.0
    max_windows: int | None = None
    retry_s: float = 5.0
    on_window: Callable[[WindowReport], None] | None = None
    windows: list[WindowReport] = field(default_factory=list)

    def __post_init__(self) -> None:
        check_updown(self.asset, self.interval)

    async def run(self, stop: asyncio.Event) -> None:
        """Trade window after window until ``stop`` is set (or ``max_windows`` are done)."""
        match = await self._find(self.clock.now_ns(), stop)
        while match is not None and not stop.is_set():
            await self._start(match)
            lead = min(self.warmup_s, UPDOWN_INTERVALS[self.interval] / 2)
            await self._sleep_until(match.end_s * _S - int(lead * _S), stop)
            last = self.max_windows is not None and len(self.windows) >= self.max_windows
            following = None if last or stop.is_set() else await self._find(match.end_s * _S, stop)
            if following is not None and following.market.condition_id != match.market.condition_id:
                await self._start(following)  # warm: books streaming before it starts
            await self._sleep_until(match.end_s * _S, stop)
            await self._finish(match)
            if last:
                break
            match = following if following is not None else await self._find(
                self.clock.now_ns(), stop
            )
        stop.set()

    def refresh(self) -> None:
        """Update each window's strike, order and fill counts and PnL from the engine."""
        state = self.runtime.engine.state
        for report in self.windows:
            window = state.windows.get(report.market)
            report.strike = window.strike if window else report.strike
            orders = [o for o in state.orders.values() if o.market == report.market]
            report.orders = len(orders)
            report.fills = sum(1 for o in orders if o.filled)
            market = state.markets.get(report.market)
            report.resolved = bool(market and market.closed)
            positions = state.portfolio.positions.values()
            report.pnl = sum(p.realized - p.fees for p in positions if p.market == report.market)

    async def _find(self, at_ns: int, stop: asyncio.Event) -> UpDownMatch | None:
        """Find the window holding ``at_ns`` (or the next one), retrying until it is listed."""
        while not stop.is_set():
            try:
                match = await find_updown(self.gamma, self.asset, self.interval, at_ns)
            except Exception as e:  # transport trouble: retry, the bot must not die of it
                log.warning("Up/Down discovery failed (%s); retrying in %.0f s", e, self.retry_s)
                match = None
            if match is not None and match.end_s * _S > self.clock.now_ns():
                return match
            await self._wait(stop, self.retry_s)
        return None

    async def _start(self, match: UpDownMatch) -> None:
        if any(w.market == match.market.condition_id for w in self.windows):
            return
        report = WindowReport(
            slug=match.market.slug,
            market=match.market.condition_id,
            start_ns=match.start_s * _S,
            end_ns=match.end_s * _S,
            found_by=match.found_by,
        )
        self.windows.append(report)
        log.info("Up/Down window %s (found by %s)", report.slug, report.found_by)
        await self.runtime.inbox.put(AddMarkets((match.market,)))

    async def _finish(self, match: UpDownMatch) -> None:
        await self.runtime.inbox.put(
            CancelMarketOrders(match.market.condition_id, "Up/Down window ended")
        )
        self.refresh()
        report = next(w for w in self.windows if w.market == match.market.condition_id)
        if self.on_window is not None:
            self.on_window(report)

    async def _sleep_until(self, ts_ns: int, stop: asyncio.Event) -> None:
        await self._wait(stop, max(0.0, (ts_ns - self.clock.now_ns()) / _S))

    @staticmethod
    async def _wait(stop: asyncio.Event, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):  # not wait_for: it can lose a cancel on 3.11
            async with asyncio.timeout(seconds):
                await stop.wait()


DEFAULT_STRATEGIES = ("updown_fade", "updown_momentum", "updown_sniper")


@dataclass(frozen=True)
class UpDownOptions:
    """What the Up/Down bot trades and how."""

    asset: str
    interval: str
    strategies: tuple[str, ...] = DEFAULT_STRATEGIES
    params: tuple[str, ...] = ()
    windows: int | None = None
    duration_s: float | None = None
    warmup_s: float = 30.0
    out_dir: Path = Path("pengine-updown")
    engine: EngineConfig = field(
        default_factory=lambda: EngineConfig(strike_venue=Venue.POLYMARKET_RTDS)
    )
    observability: ObservabilityOptions = field(default_factory=ObservabilityOptions)
    """Metrics, dashboard and Telegram alerts (all off by default)."""


async def run_updown(
    config: Config,
    options: UpDownOptions,
    *,
    stop: asyncio.Event | None = None,
    on_tick: Callable[[TradingStatus, list[WindowReport]], None] | None = None,
    on_window: Callable[[WindowReport], None] | None = None,
    clock: Clock | None = None,
    on_message: Callable[[str], None] | None = None,
) -> tuple[TradingStatus, list[WindowReport]]:
    """Run the bot in paper mode until ``windows`` are done, the duration ends or ``stop``;
    ``on_message`` hears where the dashboard is."""
    check_updown(options.asset, options.interval)
    strategies = build_strategies(options.strategies, options.params)
    clock = clock or LiveClock()
    stop = stop or asyncio.Event()
    options.out_dir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with observers(options.observability, on_message=on_message) as watching:
        async with aiohttp.ClientSession() as http:
            runtime = TradingRuntime(
                config, strategies, http=http, clock=clock, engine_config=options.engine,
                telemetry_dir=options.out_dir / "telemetry",
                sinks=watching.sinks, services=watching.services,
            )
            bot = UpDownBot(
                runtime, GammaClient.from_config(http, config.polymarket), clock, options.asset,
                options.interval, warmup_s=options.warmup_s, max_windows=options.windows,
                on_window=on_window,
            )
            # Warm the reference feed before any window: the strike is its first price at start.
            runtime.warm_symbols([reference_symbol(options.asset)])

            async def watch() -> None:
                while not stop.is_set():
                    await asyncio.sleep(0.25)
                    elapsed = time.monotonic() - started
                    bot.refresh()
                    if on_tick is not None:
                        on_tick(status_of(runtime, elapsed), bot.windows)
                    if options.duration_s is not None and elapsed >= options.duration_s:
                        stop.set()

            async with asyncio.TaskGroup() as group:
                group.create_task(runtime.run(stop), name="runtime")
                group.create_task(bot.run(stop), name="updown-bot")
                watcher = group.create_task(watch(), name="updown-status")
                await stop.wait()
                watcher.cancel()
    bot.refresh()
    final = status_of(runtime, time.monotonic() - started)
    summary = summary_json(final) | {"windows": [asdict(w) for w in bot.windows]}
    (options.out_dir / "summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
    return final, bot.windows
