"""Equity-curve metrics on hand-built curves whose answers are worked out here."""

from __future__ import annotations

import math
from decimal import Decimal
from pathlib import Path

import pytest

from prediction_engine.report import load_run, summarize
from prediction_engine.report.curve import (
    DEFAULT_PERIOD_S,
    curve_metrics,
    default_period_s,
    resample,
)
from prediction_engine.report.rundir import EquityPoint
from tests.report.rundirs import HOUR, MINUTE, T0, equity, write_run

YEAR_HOURS = 365 * 24


def curve(*values: float, step: int = HOUR, exposures: tuple[int, ...] = ()) -> list[EquityPoint]:
    """Points ``step`` apart with these equities (in units; stored as micro-units)."""
    exposures = exposures or (0,) * len(values)
    return [EquityPoint(ts_ns=T0 + i * step, cash=0, equity=round(v * 1_000_000),
                        exposure=e * 1_000_000)
            for i, (v, e) in enumerate(zip(values, exposures, strict=True))]


def test_three_point_curve_drawdown(tmp_path: Path) -> None:
    # 100 -> 120 -> 90: the peak 120 falls to 90, a drawdown of 30 = 25% of the peak.
    run = write_run(tmp_path, starting_cash="100.000000", equity_rows=[
        equity(T0, "100.000000"), equity(T0 + HOUR, "120.000000"),
        equity(T0 + 2 * HOUR, "90.000000")])
    summary = summarize(load_run(run))
    assert summary.max_drawdown == Decimal(30)
    assert summary.max_drawdown_fraction == 0.25


def test_largest_drawdown_in_money_and_in_percent_can_differ() -> None:
    # 100 -> 50 loses 50 (50% of the peak); 1000 -> 900 loses 100 (10%).
    metrics = curve_metrics(curve(100, 50, 1000, 900))
    assert metrics.max_drawdown == 100_000_000
    assert metrics.max_drawdown_fraction == 0.5


def test_resample_takes_the_last_sample_at_or_before_each_period() -> None:
    points = [EquityPoint(ts_ns=T0 + t, cash=0, equity=e, exposure=0)
              for t, e in ((0, 1), (30 * MINUTE, 2), (90 * MINUTE, 3), (3 * HOUR, 4),
                           (3 * HOUR + 59 * MINUTE, 5))]
    # Grid T0, +1h, +2h, +3h; the sample at 3h59 ends a partial period and is dropped.
    assert resample(points, HOUR) == [1, 2, 3, 4]


def test_sharpe_sortino_calmar_by_hand() -> None:
    # Hourly 100, 110, 99, 108.9: returns +10%, -10%, +10%.
    # mean = 1/30; sample variance = ((2/30)^2 + (4/30)^2 + (2/30)^2) / 2 = 1/75.
    # downside deviation = sqrt(0.1^2 / 3); periods per year = 8760.
    metrics = curve_metrics(curve(100, 110, 99, 108.9))
    assert metrics.return_periods == 3
    assert metrics.sharpe == pytest.approx((1 / 30) / math.sqrt(1 / 75) * math.sqrt(YEAR_HOURS))
    assert metrics.sortino == pytest.approx((1 / 30) / (0.1 / math.sqrt(3))
                                            * math.sqrt(YEAR_HOURS))
    # Simple annualization: +8.9% in 3 hours -> 0.089 x 8760 / 3; max drawdown 11 / 110 = 10%.
    assert metrics.annualized_return == pytest.approx(0.089 * YEAR_HOURS / 3)
    assert metrics.max_drawdown_fraction == pytest.approx(0.1)
    assert metrics.calmar == pytest.approx(0.089 * YEAR_HOURS / 3 / 0.1)


def test_return_period_is_configurable() -> None:
    # The same 4 samples 15 minutes apart: no full hour-pair, but three 15-minute returns.
    points = curve(100, 110, 99, 108.9, step=15 * MINUTE)
    assert curve_metrics(points).sharpe is None
    quarter = curve_metrics(points, period_s=900)
    assert quarter.return_periods == 3
    assert quarter.sharpe == pytest.approx((1 / 30) / math.sqrt(1 / 75) * math.sqrt(4 * YEAR_HOURS))


def test_one_equity_point() -> None:
    metrics = curve_metrics(curve(100, exposures=(7,)))
    assert metrics.max_drawdown == 0
    assert metrics.max_drawdown_fraction == 0.0
    assert (metrics.sharpe, metrics.sortino, metrics.annualized_return, metrics.calmar) == (
        None, None, None, None)
    assert metrics.return_periods == 0
    assert metrics.exposure_mean == metrics.exposure_max == 7_000_000


def test_no_equity_points() -> None:
    metrics = curve_metrics([])
    assert metrics.max_drawdown is None
    assert metrics.max_drawdown_fraction is None
    assert metrics.exposure_mean is None
    assert metrics.return_periods == 0


def test_flat_curve_has_no_ratio_instead_of_dividing_by_zero() -> None:
    metrics = curve_metrics(curve(100, 100, 100))
    assert (metrics.sharpe, metrics.sortino, metrics.calmar) == (None, None, None)
    assert metrics.annualized_return == 0.0


def test_rising_curve_has_sharpe_but_no_sortino() -> None:
    metrics = curve_metrics(curve(100, 101, 103))
    assert metrics.sharpe is not None
    assert metrics.sharpe > 0
    assert metrics.sortino is None
    assert metrics.calmar is None  # no drawdown


def test_equity_at_or_below_zero_leaves_returns_undefined() -> None:
    metrics = curve_metrics(curve(100, 0, 50))
    assert metrics.sharpe is None
    assert metrics.max_drawdown_fraction == 1.0


def test_exposure_is_averaged_over_time() -> None:
    # 10 held for 1 hour, then 30 for 2 hours: (10 + 60) / 3 = 23.333333 (micro-units, rounded).
    points = [EquityPoint(ts_ns=T0 + t, cash=0, equity=1, exposure=e * 1_000_000)
              for t, e in ((0, 10), (HOUR, 30), (3 * HOUR, 0))]
    metrics = curve_metrics(points)
    assert metrics.exposure_mean == 23_333_333
    assert metrics.exposure_max == 30_000_000


def test_period_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        curve_metrics(curve(1, 2), period_s=0)


def test_the_default_return_period_is_a_minute_below_two_days_and_an_hour_from_them() -> None:
    day = 86_400 * 10**9
    assert default_period_s(0, 2 * day - 1) == 60
    assert default_period_s(0, 2 * day) == 3600
    assert default_period_s(5, 5) == 60
    assert default_period_s(None, None) == DEFAULT_PERIOD_S == 3600
