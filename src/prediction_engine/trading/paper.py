"""Paper trading: chosen strategies on chosen markets, matched against live books.

:func:`run_paper` refreshes the market catalog from Gamma, picks the markets (a search query,
or every open market with an order book, up to ``limit``; a neg-risk market brings the rest of
its event, which cross-outcome arbitrage needs), builds the strategies from the registry with
their ``--param`` overrides, and runs a :class:`~.runtime.TradingRuntime` until the duration
is over or ``stop`` is set. Telemetry goes to ``out_dir``; a summary is returned (and written
as ``summary.json``).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from prediction_engine.config import Config
from prediction_engine.core.markets import Market
from prediction_engine.engine.clock import Clock, LiveClock
from prediction_engine.engine.loop import EngineConfig
from prediction_engine.strategy.base import Strategy
from prediction_engine.strategy.registry import (
    StrategyError,
    create,
    describe,
    parse_param,
    resolve,
)
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


def build_strategies(names: Sequence[str], params: Sequence[str]) -> list[Strategy]:
    """Create ``names`` with ``params`` (``[strategy.]key=value``) applied.

    ``strategy`` is a chosen name, a strategy file's stem (``dip_buyer`` for
    ``./dip_buyer.py``) or its class's registry name. A key without a strategy applies to every
    chosen strategy that has such a parameter (and must fit at least one). Raises
    :class:`StrategyError` with what to fix.
    """
    if not names:
        raise StrategyError("choose at least one strategy (see `pengine strategies`)")
    ids = _ids(names)
    aliases: dict[str, int] = {}
    for i, name in enumerate(names):
        for alias in (name, ids[i], resolve(name).name):
            aliases.setdefault(alias, i)
    overrides: list[dict[str, str]] = [{} for _ in names]
    for text in params:
        target, key, value = parse_param(text)
        if target:
            if target not in aliases:
                chosen = ", ".join(ids)
                raise StrategyError(f"--param {text!r} names {target!r}; chosen: {chosen}")
            overrides[aliases[target]][key] = value
            continue
        fits = [i for i, n in enumerate(names) if any(p.name == key for p in describe(n))]
        if not fits:
            raise StrategyError(f"--param {text!r}: no chosen strategy has a parameter {key!r}")
        for i in fits:
            overrides[i][key] = value
    return [create(name, overrides[i], id=ids[i]) for i, name in enumerate(names)]


def _ids(names: Sequence[str]) -> list[str]:
    base = [Path(n.split(":")[0]).stem if n.endswith(".py") or ".py:" in n else n for n in names]
    return [b if base.count(b) == 1 else f"{b}-{i + 1}" for i, b in enumerate(base)]


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
) -> TradingStatus:
    """Paper-trade until the duration ends or ``stop`` is set; return the final status."""
    strategies = build_strategies(options.strategies, options.params)
    clock = clock or LiveClock()
    stop = stop or asyncio.Event()
    out = options.out_dir
    out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    async with aiohttp.ClientSession() as http:
        gamma = GammaClient.from_config(http, config.polymarket)
        catalog = await refresh_catalog(gamma, clock.now_ns(), MarketQuery(enable_order_book=True))
        CatalogStore(out / "catalog.json").save(catalog)
        markets = pick_markets(catalog, options.markets, options.limit)
        if not markets:
            raise StrategyError(f"no open market matches {options.markets!r}")
        runtime = TradingRuntime(
            config, strategies, http=http, clock=clock, engine_config=options.engine,
            telemetry_dir=out / "telemetry",
        )
        runtime.add_markets(markets)
        if not runtime.engine.subscriptions:
            raise StrategyError("the chosen strategies want none of the chosen markets")
        ticker = asyncio.create_task(_tick(runtime, stop, started, options.duration_s, on_tick))
        try:
            await runtime.run(stop)
        finally:
            ticker.cancel()
    final = status_of(runtime, time.monotonic() - started)
    (out / "summary.json").write_text(json.dumps(summary_json(final), indent=2) + "\n")
    return final


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

