"""The metrics of one run as plain, frozen data: what ``summary.json`` holds and sweeps rank.

Conventions, the same in Python and in JSON:

* money is an exact ``Decimal`` quantized to 6 decimals (a JSON string such as ``"5.900000"``);
* ratios are floats rounded to 12 significant digits, so the JSON text is stable;
* a metric that is undefined (no data, a zero denominator) is ``None`` (JSON ``null``); this
  includes a profit factor without losses, which is infinite: read ``gross_profit`` and
  ``gross_loss`` to tell an infinite factor (profit, no loss) from an undefined one.
"""

from __future__ import annotations

import math
from decimal import Decimal
from pathlib import Path

import msgspec

__all__ = [
    "SUMMARY_VERSION",
    "CalibrationBin",
    "ForecastSummary",
    "MarketSummary",
    "PositionPnl",
    "StrategySummary",
    "Summary",
    "encode_summary",
    "headline",
    "money_text",
    "percent_text",
    "ratio_text",
    "read_summary",
    "stable",
]

SUMMARY_VERSION = 1


def stable(value: float | None) -> float | None:
    """Round to 12 significant digits (stable JSON text); non-finite values become ``None``."""
    if value is None or not math.isfinite(value):
        return None
    return float(f"{value:.12g}") + 0.0  # + 0.0 turns -0.0 into 0.0


class PositionPnl(msgspec.Struct, frozen=True, kw_only=True):
    """PnL of one strategy in one market. ``status``: ``settled``, ``closed`` or ``open``."""

    strategy: str
    market: str
    slug: str
    pnl: Decimal
    fills: int
    status: str


class StrategySummary(msgspec.Struct, frozen=True, kw_only=True):
    """Totals of one strategy; ``hit_rate`` over its settled or closed positions."""

    strategy: str
    pnl: Decimal
    fills: int
    volume: Decimal
    fees: Decimal
    positions_done: int
    hit_rate: float | None


class MarketSummary(msgspec.Struct, frozen=True, kw_only=True):
    """Totals of one market over all strategies; ``winning_outcome`` once resolved."""

    market: str
    slug: str
    pnl: Decimal
    fills: int
    volume: Decimal
    fees: Decimal
    winning_outcome: str | None


class CalibrationBin(msgspec.Struct, frozen=True, kw_only=True):
    """Forecasts in ``[low, high)`` (the last bin includes 1): mean forecast, observed rate."""

    low: float
    high: float
    count: int
    mean_forecast: float | None
    observed_frequency: float | None


class ForecastSummary(msgspec.Struct, frozen=True, kw_only=True):
    """Brier score and calibration of one strategy's forecasts on resolved markets."""

    strategy: str
    forecasts: int
    brier: float
    bins: tuple[CalibrationBin, ...]


class Summary(msgspec.Struct, frozen=True, kw_only=True):
    """Every metric of a run; see :func:`prediction_engine.report.metrics.summarize`."""

    version: int
    strategies: tuple[str, ...]
    starting_cash: Decimal
    total_pnl: Decimal
    roi: float | None
    fills: int
    volume: Decimal
    fees: Decimal
    markets_traded: int
    markets_resolved: int
    positions_done: int
    positions_open: int
    wins: int
    hit_rate: float | None
    gross_profit: Decimal
    gross_loss: Decimal
    profit_factor: float | None
    max_drawdown: Decimal | None
    max_drawdown_fraction: float | None
    annualized_return: float | None
    sharpe: float | None
    sortino: float | None
    calmar: float | None
    return_period_s: int
    return_periods: int
    exposure_mean: Decimal | None
    exposure_max: Decimal | None
    first_ns: int | None
    last_ns: int | None
    by_strategy: tuple[StrategySummary, ...]
    by_market: tuple[MarketSummary, ...]
    positions: tuple[PositionPnl, ...]
    forecasts: tuple[ForecastSummary, ...]

    def as_dict(self) -> dict[str, object]:
        """The summary as nested builtins with sorted keys (``Decimal`` kept exact)."""
        result: dict[str, object] = msgspec.to_builtins(
            self, builtin_types=(Decimal,), order="sorted"
        )
        return result


def encode_summary(summary: Summary) -> bytes:
    """``summary.json`` bytes: sorted keys, two-space indent, trailing newline."""
    compact = msgspec.json.encode(summary, order="sorted")
    return msgspec.json.format(compact, indent=2) + b"\n"


def read_summary(path: Path) -> Summary:
    """Read a ``summary.json`` written by :func:`encode_summary` (a file or its run directory)."""
    file = path / "summary.json" if path.is_dir() else path
    return msgspec.json.decode(file.read_bytes(), type=Summary)


def money_text(value: Decimal | None) -> str:
    """USD to the cent with thousands separators; ``n/a`` when undefined."""
    return "n/a" if value is None else f"{value:,.2f}"


def percent_text(value: float | None) -> str:
    """A fraction as a percentage to two places; ``n/a`` when undefined."""
    return "n/a" if value is None else f"{value * 100:.2f}%"


def ratio_text(value: float | None, places: int = 3) -> str:
    """A ratio (Sharpe, Sortino, Calmar) to ``places`` places; ``n/a`` when undefined."""
    return "n/a" if value is None else f"{value:.{places}f}"


def _profit_factor(summary: Summary) -> str:
    if summary.profit_factor is not None:
        return f"{summary.profit_factor:.3f}"
    return "inf (no losses)" if summary.gross_profit > 0 else "n/a"


def _drawdown(summary: Summary) -> str:
    if summary.max_drawdown is None:
        return "n/a"
    peak = percent_text(summary.max_drawdown_fraction)
    return f"{money_text(summary.max_drawdown)} ({peak} of peak)"


def headline(summary: Summary) -> list[tuple[str, str]]:
    """The headline metrics as (label, display text) rows, for the CLI table and the HTML."""
    rows = [
        ("Total PnL", money_text(summary.total_pnl)),
        ("ROI", percent_text(summary.roi)),
        ("Starting cash", money_text(summary.starting_cash)),
        ("Fills", f"{summary.fills:,}"),
        ("Volume", money_text(summary.volume)),
        ("Fees", money_text(summary.fees)),
        ("Hit rate", f"{percent_text(summary.hit_rate)} of {summary.positions_done:,} positions"
                     if summary.positions_done else "n/a (no position settled or closed)"),
        ("Profit factor", _profit_factor(summary)),
        ("Max drawdown", _drawdown(summary)),
        ("Annualized return", percent_text(summary.annualized_return)),
        ("Sharpe", ratio_text(summary.sharpe)),
        ("Sortino", ratio_text(summary.sortino)),
        ("Calmar", ratio_text(summary.calmar)),
        ("Exposure (mean / max)", f"{money_text(summary.exposure_mean)} / "
                                  f"{money_text(summary.exposure_max)}"),
    ]
    rows += [(f"Brier ({f.strategy})", f"{f.brier:.4f} over {f.forecasts:,} forecasts")
             for f in summary.forecasts]
    return rows
