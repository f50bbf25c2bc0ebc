"""The backtest's configuration: the engine's money and limits, latency, the timer, sampling.

Kept apart from :mod:`.runner` (compiled with mypyc) so that it stays a plain frozen msgspec
struct that the CLI decodes and ``run.json`` records.
"""

from __future__ import annotations

import msgspec

from prediction_engine.backtest.latency import LatencyModel
from prediction_engine.engine.config import EngineConfig
from prediction_engine.execution.queue import QueueModel

__all__ = ["RANK_KEYS", "BacktestConfig"]

RANK_KEYS = ("total_pnl", "roi", "sharpe", "sortino", "calmar", "profit_factor", "hit_rate")
"""Summary metrics a sweep can rank by (higher is better)."""

_S = 1_000_000_000


class BacktestConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How the replay runs: the engine's money and limits, latency, the timer and sampling."""

    engine: EngineConfig = EngineConfig()
    latency: LatencyModel = LatencyModel()
    queue: QueueModel = QueueModel()
    """Queue position of resting orders at the paper venue (the same default as paper trading)."""
    timer_interval_ns: int = _S // 4
    """The engine's timer, as in live trading (stale checks, GTD expiry, daily-loss halt)."""
    equity_interval_ns: int = 60 * _S
    """How often the equity curve is sampled (and once at the end)."""
