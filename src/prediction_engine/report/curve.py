"""Metrics of the equity curve: drawdown, risk-adjusted returns and exposure.

Conventions (stated here once, shown in the report):

* **Drawdown** at a sample is ``running peak - equity``; the maximum drawdown is the largest
  in money, and separately the largest as a fraction of its running peak (the two may occur at
  different samples).
* **Returns** come from the equity curve resampled to a fixed period (default one hour): the
  equity at ``first, first + period, ...`` up to the last sample, each the last sample at or
  before that time. A final partial period is dropped, so a run shorter than two periods has
  no Sharpe or Sortino.
* **Sharpe** = mean / sample standard deviation of the period returns x sqrt(periods per
  year); **Sortino** = mean / downside deviation (root mean square of ``min(r, 0)`` over all
  periods) x sqrt(periods per year). Risk-free rate 0; a year is 365 days (markets never close).
* **Annualized return** is simple, not compounded: total return x (year / run duration),
  because compounding a few hours' return over a year gives meaningless numbers.
  **Calmar** = annualized return / maximum drawdown as a fraction of peak.
* **Exposure** (gross marked value of positions) is averaged over time: each sample holds until
  the next one.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections.abc import Sequence
from fractions import Fraction

import msgspec

from prediction_engine.report.rundir import EquityPoint

__all__ = [
    "DEFAULT_PERIOD_S",
    "SHORT_PERIOD_S",
    "SHORT_RUN_S",
    "YEAR_S",
    "CurveMetrics",
    "curve_metrics",
    "default_period_s",
    "drawdowns",
    "period_returns",
    "resample",
    "sharpe",
    "sortino",
]

DEFAULT_PERIOD_S = 3600
SHORT_PERIOD_S = 60
SHORT_RUN_S = 2 * 86_400
"""Runs shorter than this get :data:`SHORT_PERIOD_S` returns by default, longer ones hourly."""
YEAR_S = 365 * 24 * 3600
_NS = 1_000_000_000


class CurveMetrics(msgspec.Struct, frozen=True, kw_only=True):
    """Equity-curve metrics; money in micro-units, ``None`` where undefined."""

    max_drawdown: int | None
    max_drawdown_fraction: float | None
    annualized_return: float | None
    sharpe: float | None
    sortino: float | None
    calmar: float | None
    return_periods: int
    exposure_mean: int | None
    exposure_max: int | None


def drawdowns(points: Sequence[EquityPoint]) -> list[int]:
    """Running peak minus equity at every sample (>= 0, micro-units)."""
    peak = None
    result = []
    for point in points:
        peak = point.equity if peak is None else max(peak, point.equity)
        result.append(peak - point.equity)
    return result


def _max_drawdown_fraction(points: Sequence[EquityPoint]) -> float | None:
    peak, worst = None, None
    for point in points:
        peak = point.equity if peak is None else max(peak, point.equity)
        if peak > 0:
            fraction = (peak - point.equity) / peak
            worst = fraction if worst is None else max(worst, fraction)
    return worst


def resample(points: Sequence[EquityPoint], period_ns: int) -> list[int]:
    """Equity at ``first, first + period, ...`` (last sample at or before each time)."""
    if not points:
        return []
    result, index, at = [], 0, points[0].ts_ns
    while at <= points[-1].ts_ns:
        while index + 1 < len(points) and points[index + 1].ts_ns <= at:
            index += 1
        result.append(points[index].equity)
        at += period_ns
    return result


def period_returns(equities: Sequence[int]) -> list[float] | None:
    """Simple returns between consecutive values; ``None`` if equity ever reaches <= 0."""
    if any(value <= 0 for value in equities[:-1]):
        return None
    return [b / a - 1.0 for a, b in itertools.pairwise(equities)]


def sharpe(returns: Sequence[float], periods_per_year: float) -> float | None:
    """Annualized Sharpe ratio (risk-free 0); ``None`` with < 2 returns or no variation."""
    if len(returns) < 2:
        return None
    deviation = statistics.stdev(returns)
    if deviation == 0:
        return None
    return statistics.fmean(returns) / deviation * math.sqrt(periods_per_year)


def sortino(returns: Sequence[float], periods_per_year: float) -> float | None:
    """Annualized Sortino ratio (target 0); ``None`` with < 2 returns or no losing period."""
    if len(returns) < 2:
        return None
    downside = math.sqrt(math.fsum(min(r, 0.0) ** 2 for r in returns) / len(returns))
    if downside == 0:
        return None
    return statistics.fmean(returns) / downside * math.sqrt(periods_per_year)


def _annualized_return(points: Sequence[EquityPoint]) -> float | None:
    if len(points) < 2 or points[0].equity <= 0:
        return None
    duration = points[-1].ts_ns - points[0].ts_ns
    if duration <= 0:
        return None
    total = Fraction(points[-1].equity - points[0].equity, points[0].equity)
    return float(total * Fraction(YEAR_S * _NS, duration))


def _exposure_mean(points: Sequence[EquityPoint]) -> int | None:
    if not points:
        return None
    duration = points[-1].ts_ns - points[0].ts_ns
    if duration <= 0:
        return round(Fraction(sum(p.exposure for p in points), len(points)))
    weighted = sum(a.exposure * (b.ts_ns - a.ts_ns)
                   for a, b in itertools.pairwise(points))
    return round(Fraction(weighted, duration))


def default_period_s(first_ns: int | None, last_ns: int | None) -> int:
    """The return period for Sharpe and Sortino when none is asked for: one minute for a run
    shorter than two days (an hour would leave a few-hour backtest without a single return),
    an hour otherwise."""
    if first_ns is None or last_ns is None:
        return DEFAULT_PERIOD_S
    return SHORT_PERIOD_S if (last_ns - first_ns) < SHORT_RUN_S * _NS else DEFAULT_PERIOD_S


def curve_metrics(points: Sequence[EquityPoint], period_s: int = DEFAULT_PERIOD_S) -> CurveMetrics:
    """All equity-curve metrics of ``points`` (in time order); see the module docstring."""
    if period_s <= 0:
        raise ValueError(f"the return period must be positive, got {period_s} s")
    returns = period_returns(resample(points, period_s * _NS)) or []
    per_year = YEAR_S / period_s
    fraction = _max_drawdown_fraction(points)
    annualized = _annualized_return(points)
    calmar = annualized / fraction if annualized is not None and fraction else None
    return CurveMetrics(
        max_drawdown=max(drawdowns(points), default=None),
        max_drawdown_fraction=fraction,
        annualized_return=annualized,
        sharpe=sharpe(returns, per_year),
        sortino=sortino(returns, per_year),
        calmar=calmar,
        return_periods=len(returns),
        exposure_mean=_exposure_mean(points),
        exposure_max=max((p.exposure for p in points), default=None),
    )
