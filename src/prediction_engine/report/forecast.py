"""How good were the strategies' forecasts: Brier score and calibration on resolved markets.

A forecast is a signal with a ``fair_price``: the strategy's probability that the signal's
token pays out. It is scored when its market resolved during the run and the signal came
before the resolution; its outcome is 1 if its token won, else 0. Every such signal counts
(a strategy that restates its view often weighs more). Brier score = mean of
``(forecast - outcome) ** 2`` (0 is perfect; always saying 0.5 scores 0.25).
Calibration: ten equal bins of the forecast, ``[0, 0.1), ..., [0.9, 1]``.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping

from prediction_engine.report.rundir import Resolution, Signal
from prediction_engine.report.summary import CalibrationBin, ForecastSummary, stable

__all__ = ["BINS", "forecast_summaries", "scored_forecasts"]

BINS = 10


def scored_forecasts(
    signals: Iterable[Signal], resolutions: Mapping[str, Resolution]
) -> dict[str, list[tuple[float, float]]]:
    """(forecast, outcome) pairs per strategy, for signals scored as the module says."""
    pairs: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for signal in signals:
        resolution = resolutions.get(signal.market)
        if signal.fair_price is None or resolution is None:
            continue
        if signal.ts_ns >= resolution.ts_ns:
            continue
        outcome = 1.0 if signal.token == resolution.winning_token else 0.0
        pairs[signal.strategy].append((signal.fair_price, outcome))
    return dict(pairs)


def _bin_index(forecast: float) -> int:
    # On the micro-unit grid so that 0.3 lands in [0.3, 0.4) despite binary floats.
    return min(round(forecast * 1_000_000) * BINS // 1_000_000, BINS - 1)


def _bins(pairs: list[tuple[float, float]]) -> tuple[CalibrationBin, ...]:
    grouped: list[list[tuple[float, float]]] = [[] for _ in range(BINS)]
    for pair in pairs:
        grouped[_bin_index(pair[0])].append(pair)
    return tuple(
        CalibrationBin(
            low=index / BINS,
            high=(index + 1) / BINS,
            count=len(group),
            mean_forecast=stable(statistics.fmean(f for f, _ in group)) if group else None,
            observed_frequency=stable(statistics.fmean(o for _, o in group)) if group else None,
        )
        for index, group in enumerate(grouped)
    )


def forecast_summaries(
    signals: Iterable[Signal], resolutions: Mapping[str, Resolution]
) -> tuple[ForecastSummary, ...]:
    """Brier score and calibration bins of every strategy that made a scored forecast."""
    result = []
    for strategy, pairs in sorted(scored_forecasts(signals, resolutions).items()):
        brier = math.fsum((f - o) ** 2 for f, o in pairs) / len(pairs)
        result.append(ForecastSummary(
            strategy=strategy, forecasts=len(pairs), brier=stable(brier) or 0.0,
            bins=_bins(pairs),
        ))
    return tuple(result)
