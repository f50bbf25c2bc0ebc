"""Paper trading: chosen strategies on chosen markets, matched against live books.

:func:`run_paper` refreshes the market catalog from Gamma, picks the markets (a search query,
or every open market with an order book, up to ``limit``; a neg-risk market brings the rest of
its event, which cross-outcome arbitrage needs), builds the strategies from the registry with
their ``--param`` overrides, and runs a :class:`~.runtime.TradingRuntime` until the duration
is over or ``stop`` is set. Telemetry goes to ``out_dir``; a summary is returned (and written
as ``summary.json``). The observers ``observability`` asks for (metrics, dashboard, Telegram
alerts; see :mod:`.observe`) watch the runtime.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import msgspec

from prediction_engine.config import Config
from prediction_engine.core.markets import Market
from prediction_engine.engine.clock import Clock, LiveClock
from prediction_engine.engine.loop import EngineConfig
from prediction_engine.record.recorder import Recorder
from prediction_engine.storage.journal import Journal, JournalOptions
from prediction_engine.strategy.base import Strategy
from prediction_engine.strategy.registry import StrategyError, build_strategies
from prediction_engine.trading.observe import ObservabilityOptions, Observers, observers
from prediction_engine.trading.resume import open_run, resume
from prediction_engine.trading.runtime import TradingRuntime
from prediction_engine.trading.status import TradingStatus, status_of, summary_json
from prediction_engine.venues.polymarket.catalog import Catalog, CatalogStore, refresh_catalog
from prediction_engine.venues.polymarket.rest import GammaClient, MarketQuery

__all__ = ["PaperOptions", "build_strategies", "pick_markets", "run_paper"]


@dataclass(frozen=True)
class PaperOptions:
    """What to paper-trade, with what, for how long, and where telemetry goes."""

    strategies: tuple[str, ...]
    params: tuple[str, ...] = ()
    markets: str | None = None
    limit: int = 20
    duration_s: float | None = None
    out_dir: Path = Path("pengine-paper")
    engine: EngineConfig = field(default_factory=EngineConfig)
    record: Path | None = None
    """Also record the session (tapes and event store, as `pengine record` does) here, so
    `pengine backtest --data RECORD` can replay it."""
    journal: str | None = ""
    """The journal: a DuckDB file or ``postgresql://`` URL; ``""``: ``out_dir/journal.duckdb``;
    ``None``: no journal (nothing survives a restart)."""
    journal_options: JournalOptions = field(default_factory=JournalOptions)
    cancel_on_stop: bool = True
    """On a graceful stop, cancel open orders (else they stay open and rest again next time)."""
    restore_from_journal: bool = False
    """Rebuild the state from every journal record, not from the newest snapshot."""
    observability: ObservabilityOptions = field(default_factory=ObservabilityOptions)
    """Metrics, dashboard and Telegram alerts (all off by default)."""

    def journal_target(self) -> str | None:
        """Where the journal is (``None``: disabled)."""
        if self.journal is None:
            return None
        return self.journal or str(self.out_dir / "journal.duckdb")

    def run_config(self) -> dict[str, object]:
        """What names the run (its id is a hash of this): strategies, parameters, markets,
        money and limits; not the duration or the output directories."""
        return {
            "command": "paper",
            "strategies": list(self.strategies),
            "params": list(self.params),
            "markets": self.markets,
            "limit": self.limit,
            "engine": msgspec.to_builtins(self.engine),
        }


def pick_markets(catalog: Catalog, query: str | None, limit: int) -> list[Market]:
    """Open order-book markets matching ``query`` (all when ``None``), plus their neg-risk
    siblings, so an event's outcomes are traded together."""
    tradable = [m for m in catalog.markets if not m.closed and m.tokens and m.enable_order_book]
    if query:
        hits = [h.market for h in catalog.search(query, limit, open_only=True)]
        chosen = [m for m in hits if m in tradable]
    else:
        chosen = sorted(tradable, key=lambda m: -m.volume)[:limit]
    events = {m.event_slug for m in chosen if m.neg_risk and m.event_slug}
    siblings = [m for m in tradable if m.neg_risk and m.event_slug in events and m not in chosen]
    return chosen + siblings


async def run_paper(
    config: Config,
    options: PaperOptions,
    *,
    stop: asyncio.Event | None = None,
    on_tick: Callable[[TradingStatus], None] | None = None,
    clock: Clock | None = None,
    on_message: Callable[[str], None] | None = None,
) -> TradingStatus:
    """Paper-trade until the duration ends or ``stop`` is set (SIGINT and SIGTERM set it);
    return the final status. With a journal, continue the run where its journal left it."""
    strategies = build_strategies(options.strategies, options.params)
    clock = clock or LiveClock()
    stop = stop or asyncio.Event()
    out = options.out_dir
    out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    target = options.journal_target()
    journal = None
    if target is not None:
        journal = open_run(target, options.run_config(), options.journal_options)
    try:
        with _graceful(stop), observers(options.observability, journal=journal,
                                        on_message=on_message) as watching:
            return await _trade(config, options, strategies, clock, stop, started, journal,
                                watching, on_tick, on_message)
    finally:
        if journal is not None:
            journal.close()


async def _trade(  # noqa: PLR0917 - the pieces run_paper prepared
    config: Config,
    options: PaperOptions,
    strategies: list[Strategy],
    clock: Clock,
    stop: asyncio.Event,
    started: float,
    journal: Journal | None,
    watching: Observers,
    on_tick: Callable[[TradingStatus], None] | None,
    on_message: Callable[[str], None] | None,
) -> TradingStatus:
    out = options.out_dir
    async with aiohttp.ClientSession() as http:
        gamma = GammaClient.from_config(http, config.polymarket)
        catalog = await refresh_catalog(gamma, clock.now_ns(), MarketQuery(enable_order_book=True))
        CatalogStore(out / "catalog.json").save(catalog)
        markets = pick_markets(catalog, options.markets, options.limit)
        if not markets:
            raise StrategyError(f"no open market matches {options.markets!r}")
        recorder = None
        if options.record is not None:
            recorder = Recorder(options.record, clock=clock, source="pengine paper")
            recorder.add_markets(markets)
        runtime = TradingRuntime(
            config, strategies, http=http, clock=clock, engine_config=options.engine,
            telemetry_dir=out / "telemetry", hooks=None if recorder is None else recorder.hooks(),
            journal=journal, cancel_on_stop=options.cancel_on_stop,
            sinks=watching.sinks, services=watching.services,
        )
        if journal is not None:
            resumed = resume(runtime, journal, use_snapshots=not options.restore_from_journal)
            if on_message is not None:
                on_message(resumed.describe(journal.backend.location))
        runtime.add_markets(markets)
        if not runtime.engine.subscriptions:
            raise StrategyError("the chosen strategies want none of the chosen markets")
        ticker = asyncio.create_task(_tick(runtime, stop, started, options.duration_s, on_tick))
        try:
            await runtime.run(stop)
        finally:
            ticker.cancel()
            if recorder is not None:
                recorder.close()
    final = status_of(runtime, time.monotonic() - started)
    (out / "summary.json").write_text(json.dumps(summary_json(final), indent=2) + "\n")
    return final


@contextlib.contextmanager
def _graceful(stop: asyncio.Event) -> Iterator[None]:
    """SIGINT and SIGTERM set ``stop`` (a graceful shutdown) while inside."""
    loop = asyncio.get_running_loop()
    installed = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signum, stop.set)
            installed.append(signum)
    try:
        yield
    finally:
        for signum in installed:
            loop.remove_signal_handler(signum)


async def _tick(
    runtime: TradingRuntime,
    stop: asyncio.Event,
    started: float,
    duration_s: float | None,
    on_tick: Callable[[TradingStatus], None] | None,
) -> None:
    while not stop.is_set():
        await asyncio.sleep(0.25)
        elapsed = time.monotonic() - started
        if on_tick is not None:
            on_tick(status_of(runtime, elapsed))
        if duration_s is not None and elapsed >= duration_s:
            stop.set()

