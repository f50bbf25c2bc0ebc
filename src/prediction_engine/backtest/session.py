"""One backtest from options to a run directory: source, strategies, replay, files, report."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from prediction_engine.backtest.results import Resolution, money, write_run
from prediction_engine.backtest.runner import Backtest, BacktestConfig, Frame
from prediction_engine.backtest.source import ReplaySource
from prediction_engine.strategy.registry import build_strategies

if TYPE_CHECKING:
    from prediction_engine.report.summary import Summary

__all__ = ["BacktestOptions", "BacktestOutcome", "run_backtest"]

RUN_VERSION = 1
_PROGRESS_EVERY = 1 << 15  # frames between progress callbacks


@dataclass(frozen=True)
class BacktestOptions:
    """What to replay, with which strategies and parameters, and where the run goes."""

    data: Path
    strategies: tuple[str, ...]
    params: tuple[str, ...] = ()
    markets: tuple[str, ...] | None = None
    from_ns: int | None = None
    to_ns: int | None = None
    config: BacktestConfig = field(default_factory=BacktestConfig)
    out: Path | None = None
    report: bool = True


@dataclass(frozen=True)
class BacktestOutcome:
    """What a finished backtest tells its caller (the run directory holds everything)."""

    out: Path | None
    frames: int
    events: int
    markets: int
    counters: dict[str, int]
    final_equity: int
    summary: Summary | None
    replay_s: float
    """Wall time of the replay alone (not written anywhere: runs stay byte-identical)."""


def _with_progress(
    frames: Iterator[Frame], first_ns: int, last_ns: int, report: Callable[[float], None]
) -> Iterator[Frame]:
    span = max(1, last_ns - first_ns)
    for count, frame in enumerate(frames, start=1):
        if not count % _PROGRESS_EVERY:
            report(min(1.0, (frame[0] - first_ns) / span))
        yield frame
    report(1.0)


def run_backtest(
    options: BacktestOptions, on_progress: Callable[[float], None] | None = None
) -> BacktestOutcome:
    """Replay ``options.data`` through the engine; write the run (and its report) to ``out``.

    Raises :class:`~prediction_engine.backtest.source.SourceError` for data that cannot be
    replayed and :class:`~prediction_engine.strategy.registry.StrategyError` for bad
    strategies or parameters, before anything is replayed.
    """
    strategies = build_strategies(options.strategies, options.params)
    source = ReplaySource(
        options.data, markets=options.markets, from_ns=options.from_ns, to_ns=options.to_ns
    )
    backtest = Backtest(strategies, options.config)
    frames = source.frames()
    if on_progress is not None:
        frames = _with_progress(frames, source.first_ns, source.last_ns, on_progress)
    started = time.perf_counter()
    backtest.run(frames)
    replay_s = time.perf_counter() - started
    engine = backtest.engine
    counters = dataclasses.asdict(engine.counters)
    recorder = backtest.recorder
    recorder.resolutions.extend(
        Resolution(r.ts_recv, r.market, r.winning_token, r.winning_outcome)
        for r in sorted(source.resolutions, key=lambda r: (r.ts_recv, r.market))
    )
    final_equity = recorder.equity[-1].equity if recorder.equity else engine.state.equity()
    summary: Summary | None = None
    if options.out is not None:
        meta = {
            "version": RUN_VERSION,
            "strategies": list(options.strategies),
            "strategy_ids": [s.id for s in strategies],
            "params": list(options.params),
            "data": str(options.data),
            "markets_filter": None if options.markets is None else list(options.markets),
            "from_ns": options.from_ns,
            "to_ns": options.to_ns,
            "first_ns": source.first_ns,
            "last_ns": backtest.now,
            "config": msgspec.to_builtins(options.config),
            "frames": backtest.frames,
            "events": backtest.events,
            "markets": len(source.markets),
            "starting_cash": money(options.config.engine.starting_cash),
            "counters": counters,
        }
        write_run(options.out, recorder, source.markets, backtest.positions(), meta)
        if options.report:
            from prediction_engine.report import render_run

            summary = render_run(options.out)
    return BacktestOutcome(
        out=options.out,
        frames=backtest.frames,
        events=backtest.events,
        markets=len(source.markets),
        counters=counters,
        final_equity=final_equity,
        summary=summary,
        replay_s=replay_s,
    )
