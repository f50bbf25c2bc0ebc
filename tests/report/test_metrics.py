"""PnL attribution, hit rate, profit factor and edge cases, worked out by hand."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from prediction_engine.report import Summary, headline, load_run, summarize
from tests.report.rundirs import (
    HOUR,
    M1,
    M2,
    M3,
    MINUTE,
    T0,
    Row,
    equity,
    fill,
    position,
    resolution,
    scenario,
    write_run,
)

D = Decimal


def summary_of(path: Path, **files: list[Row]) -> Summary:
    """The summary of a run directory written with these journals' rows."""
    return summarize(load_run(write_run(path, **files)))


def test_buy_at_040_fee_010_settled_at_one_earns_590(tmp_path: Path) -> None:
    # Pays 10 x 0.40 = 4.00 and a 0.10 fee; the 10 shares pay 1 each: 10 - 4 - 0.1 = 5.9.
    summary = summary_of(
        tmp_path,
        fills=[fill(T0, "fader", M1, "Y1", "BUY", "0.400000", "10.000000", "0.100000")],
        resolutions=[resolution(T0 + HOUR, M1, "Y1")],
    )
    assert summary.total_pnl == D("5.900000")
    assert str(summary.total_pnl) == "5.900000"
    assert summary.roi == pytest.approx(5.9 / 1000)
    assert [p.status for p in summary.positions] == ["settled"]
    assert (summary.hit_rate, summary.wins, summary.positions_done) == (1.0, 1, 1)


def test_losing_token_settles_at_zero(tmp_path: Path) -> None:
    # The No token wins: the 10 Yes shares are worth 0, the loss is cost plus fee.
    summary = summary_of(
        tmp_path,
        fills=[fill(T0, "fader", M1, "Y1", "BUY", "0.400000", "10.000000", "0.100000")],
        resolutions=[resolution(T0 + HOUR, M1, "N1", "No")],
    )
    assert summary.total_pnl == D("-4.1")
    assert summary.hit_rate == 0.0
    assert summary.gross_loss == D("4.1")
    assert summary.profit_factor == 0.0


def test_unresolved_position_is_valued_at_its_final_mark(tmp_path: Path) -> None:
    # 20 bought at 0.50, 5 sold at 0.60 (fee 0.05), 15 left marked at 0.55:
    # -10 + 3 - 0.05 + 15 x 0.55 = 1.20. The position is open: no hit rate.
    summary = summary_of(
        tmp_path,
        fills=[fill(T0, "maker", M2, "Y2", "BUY", "0.500000", "20.000000"),
               fill(T0 + HOUR, "maker", M2, "Y2", "SELL", "0.600000", "5.000000", "0.050000")],
        positions=[position(M2, "Y2", "15.000000", "0.550000")],
    )
    assert summary.total_pnl == D("1.2")
    assert [p.status for p in summary.positions] == ["open"]
    assert (summary.positions_done, summary.positions_open) == (0, 1)
    assert summary.hit_rate is None
    assert summary.profit_factor is None
    assert summary.forecasts == ()
    assert dict(headline(summary))["Hit rate"] == "n/a (no position settled or closed)"


def test_unmarked_open_position_falls_back_to_its_last_fill_price(tmp_path: Path) -> None:
    # No positions.csv mark: 10 bought at 0.40 then 4 at 0.45 -> 14 valued at 0.45 = 6.30;
    # cash -4.00 - 1.80 = -5.80, PnL 0.50.
    summary = summary_of(
        tmp_path,
        fills=[fill(T0, "maker", M2, "Y2", "BUY", "0.400000", "10.000000"),
               fill(T0 + 1, "maker", M2, "Y2", "BUY", "0.450000", "4.000000")],
    )
    assert summary.total_pnl == D("0.5")


def test_round_trip_is_closed_and_counts_for_the_hit_rate(tmp_path: Path) -> None:
    # Buy 5 at 0.58, sell 5 at 0.70 with a 0.07 fee: -2.90 + 3.50 - 0.07 = 0.53, flat.
    summary = summary_of(
        tmp_path,
        fills=[fill(T0, "maker", M1, "N1", "BUY", "0.580000", "5.000000"),
               fill(T0 + HOUR, "maker", M1, "N1", "SELL", "0.700000", "5.000000", "0.070000")],
    )
    assert summary.total_pnl == D("0.53")
    assert [p.status for p in summary.positions] == ["closed"]
    assert summary.hit_rate == 1.0
    assert summary.volume == D("6.4")
    assert summary.fees == D("0.07")


def test_cash_leg_is_floored_to_the_micro_unit_like_the_portfolio(tmp_path: Path) -> None:
    # 3.333333 x 0.45 = 1.49999985 -> 1.499999 paid; the winning shares pay 3.333333.
    summary = summary_of(
        tmp_path,
        fills=[fill(T0, "fader", M1, "Y1", "BUY", "0.450000", "3.333333")],
        resolutions=[resolution(T0 + HOUR, M1, "Y1")],
    )
    assert summary.volume == D("1.499999")
    assert summary.total_pnl == D("1.833334")


def test_scenario_totals_by_strategy_and_market(tmp_path: Path) -> None:
    # Positions (strategy, market): worked out in the fills of rundirs.scenario.
    #   fader M1: buy 10 Y1 @ 0.40 fee 0.10, Y1 wins            -> 10 - 4.10          =  5.90
    #   fader M3: buy 8 Y3 @ 0.25 fee 0.04, N3 wins             -> -2.00 - 0.04       = -2.04
    #   maker M1: buy 5 N1 @ 0.58, sell 5 @ 0.70 fee 0.07       -> -2.90 + 3.43       =  0.53
    #   maker M2: buy 20 Y2 @ 0.50, sell 5 @ 0.60 fee 0.05, 15 marked at 0.55  ->       1.20
    summary = summarize(load_run(scenario(tmp_path / "run")))
    pnl = {(p.strategy, p.market): p.pnl for p in summary.positions}
    assert pnl == {("fader", M1): D("5.9"), ("fader", M3): D("-2.04"),
                   ("maker", M1): D("0.53"), ("maker", M2): D("1.2")}
    assert summary.total_pnl == D("5.59")
    assert summary.roi == pytest.approx(0.00559)
    assert summary.fills == 6
    assert summary.volume == D("4") + D("10") + D("2") + D("2.9") + D("3") + D("3.5")
    assert summary.fees == D("0.26")
    assert {s.strategy: s.pnl for s in summary.by_strategy} == {"fader": D("3.86"),
                                                               "maker": D("1.73")}
    assert {m.slug: m.pnl for m in summary.by_market} == {
        "btc-up": D("6.43"), "eth-up": D("1.2"), "sol-up": D("-2.04")}
    assert {m.slug: m.winning_outcome for m in summary.by_market} == {
        "btc-up": "Yes", "eth-up": None, "sol-up": "No"}
    # Done: the three settled positions, two of them winners; maker M2 is still open.
    assert (summary.positions_done, summary.wins, summary.positions_open) == (3, 2, 1)
    assert summary.hit_rate == pytest.approx(2 / 3)
    assert {s.strategy: s.hit_rate for s in summary.by_strategy} == {"fader": 0.5, "maker": 1.0}
    assert (summary.gross_profit, summary.gross_loss) == (D("6.43"), D("2.04"))
    assert summary.profit_factor == pytest.approx(6.43 / 2.04)
    assert (summary.markets_traded, summary.markets_resolved) == (3, 2)


def test_no_fills_gives_zeros_and_undefined_ratios(tmp_path: Path) -> None:
    summary = summary_of(tmp_path, equity_rows=[equity(T0, "1000.000000")])
    assert (summary.total_pnl, summary.volume, summary.fees) == (D(0), D(0), D(0))
    assert str(summary.total_pnl) == "0.000000"
    assert summary.fills == 0
    assert summary.roi == 0.0
    assert summary.hit_rate is None
    assert summary.profit_factor is None
    assert summary.positions == ()
    assert [s.strategy for s in summary.by_strategy] == ["fader"]
    assert summary.by_strategy[0].pnl == D(0)


def test_only_winners_make_the_profit_factor_null_not_a_crash(tmp_path: Path) -> None:
    summary = summary_of(
        tmp_path,
        fills=[fill(T0, "fader", M1, "Y1", "BUY", "0.400000", "10.000000")],
        resolutions=[resolution(T0 + HOUR, M1, "Y1")],
    )
    assert summary.profit_factor is None
    assert summary.gross_profit == D(6)
    assert summary.gross_loss == D(0)


def test_no_resolutions_leaves_every_position_open_and_no_forecasts(tmp_path: Path) -> None:
    summary = summary_of(
        tmp_path,
        fills=[fill(T0, "fader", M1, "Y1", "BUY", "0.400000", "10.000000"),
               fill(T0 + MINUTE, "fader", M3, "Y3", "BUY", "0.300000", "10.000000")],
        positions=[position(M1, "Y1", "10.000000", "0.500000"),
                   position(M3, "Y3", "10.000000", "0.200000")],
    )
    assert summary.total_pnl == D(0)  # +1.00 on M1, -1.00 on M3
    assert summary.markets_resolved == 0
    assert summary.positions_open == 2
    assert summary.forecasts == ()


def test_zero_starting_cash_has_no_roi(tmp_path: Path) -> None:
    run = write_run(tmp_path, starting_cash="0.000000")
    assert summarize(load_run(run)).roi is None
