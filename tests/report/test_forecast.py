"""Brier score and calibration bins, worked out by hand."""

from __future__ import annotations

from pathlib import Path

import pytest

from prediction_engine.report import RunFormatError, load_run, summarize
from prediction_engine.report.forecast import forecast_summaries
from prediction_engine.report.rundir import Resolution, Signal
from tests.report.rundirs import HOUR, M1, T0, resolution, scenario, signal, write_run


def test_scenario_brier_counts_only_forecasts_made_before_the_resolution(tmp_path: Path) -> None:
    # Scored: 0.62 and 0.70 on Y1 (Y1 won), 0.35 on Y3 (N3 won). Not scored: the M2 forecast
    # (never resolved), the signal without fair_price, the 0.99 made after M1 resolved.
    # Brier = ((0.62-1)^2 + (0.70-1)^2 + (0.35-0)^2) / 3 = (0.1444 + 0.09 + 0.1225) / 3.
    summary = summarize(load_run(scenario(tmp_path / "run")))
    [fader] = summary.forecasts
    assert fader.strategy == "fader"
    assert fader.forecasts == 3
    assert fader.brier == pytest.approx(0.3569 / 3)
    filled = {index: (b.count, b.mean_forecast, b.observed_frequency)
              for index, b in enumerate(fader.bins) if b.count}
    assert filled == {3: (1, 0.35, 0.0), 6: (1, 0.62, 1.0), 7: (1, 0.7, 1.0)}
    assert len(fader.bins) == 10
    assert all(b.mean_forecast is None for b in fader.bins if not b.count)


def _signal(price: float, token: str = "Y") -> Signal:
    return Signal(ts_ns=T0, strategy="s", market="m", token=token, fair_price=price)


def test_bin_edges() -> None:
    resolutions = {"m": Resolution(ts_ns=T0 + HOUR, market="m", slug="", winning_token="Y",
                                   winning_outcome="Yes")}
    prices = [0.0, 0.1, 0.3, 0.7, 0.9999, 1.0]
    [summary] = forecast_summaries([_signal(p) for p in prices], resolutions)
    counts = [b.count for b in summary.bins]
    # 0 -> [0, 0.1); 0.1 -> [0.1, 0.2); 0.3 -> [0.3, 0.4) despite 0.3 * 10 in binary floats;
    # 0.7 -> [0.7, 0.8); 0.9999 and 1.0 -> the last bin [0.9, 1].
    assert counts == [1, 1, 0, 1, 0, 0, 0, 1, 0, 2]
    assert [(b.low, b.high) for b in summary.bins][3] == (0.3, 0.4)


def test_perfect_and_coin_flip_forecasters() -> None:
    resolutions = {"m": Resolution(ts_ns=T0 + HOUR, market="m", slug="", winning_token="Y",
                                   winning_outcome="Yes")}
    [perfect] = forecast_summaries([_signal(1.0), _signal(0.0, "N")], resolutions)
    assert perfect.brier == 0.0
    [coin] = forecast_summaries([_signal(0.5), _signal(0.5, "N")], resolutions)
    assert coin.brier == 0.25
    assert coin.bins[5].observed_frequency == 0.5


def test_no_forecasts_without_resolutions() -> None:
    assert forecast_summaries([_signal(0.6)], {}) == ()


def test_values_that_are_no_probability_are_not_scored(tmp_path: Path) -> None:
    # The backtester writes fair_price with repr(): nan or an out-of-range value is no forecast.
    run = write_run(tmp_path, signals=[signal(T0, "fader", M1, "Y1", text)
                                       for text in ("nan", "1.5", "-0.1", "0.62", "1e-05")],
                    resolutions=[resolution(T0 + HOUR, M1, "Y1")])
    [fader] = summarize(load_run(run)).forecasts
    assert fader.forecasts == 2
    assert fader.brier == pytest.approx(((0.62 - 1) ** 2 + (1e-05 - 1) ** 2) / 2)


def test_a_malformed_fair_price_is_a_format_error(tmp_path: Path) -> None:
    run = write_run(tmp_path, signals=[signal(T0, "fader", M1, "Y1", "sixty percent")])
    with pytest.raises(RunFormatError, match=r"signals\.csv line 2"):
        load_run(run)
