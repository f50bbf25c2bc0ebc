"""`pengine backtest` and `pengine sweep` as a user meets them: good runs and clear refusals."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from prediction_engine.cli import _register, app

_register()
runner = CliRunner()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "choose a strategy"),
        (["-s", "no_such_strategy"], "no_such_strategy"),
        (["-s", "arbitrage", "--from", "yesterday"], "got 'yesterday'"),
        (["-s", "arbitrage", "--from", "2026-03-13", "--to", "2026-03-12"], "--to must be after"),
        (["-s", "arbitrage", "--market", "not-a-market"], "no market 'not-a-market'"),
        (["-s", "arbitrage", "-p", "arbitrage.nope=1"], "nope"),
        (["-s", "arbitrage", "--latency-table", "missing.csv"], "cannot read the latency table"),
        (["-s", "arbitrage", "--queue", "middle"], "--queue must be one of"),
        (["-s", "arbitrage", "--queue-power", "99"], "between 0 and 16"),
    ],
)
def test_bad_input_exits_2_and_says_why(
    world_store: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    result = runner.invoke(app, ["backtest", "--data", str(world_store),
                                 "--out", str(tmp_path / "run"), *args])
    assert result.exit_code == 2, result.output
    assert message in result.output.replace("\n", " ")
    assert not (tmp_path / "run" / "run.json").exists()


def test_missing_data_says_how_to_get_some(tmp_path: Path) -> None:
    result = runner.invoke(app, ["backtest", "-s", "arbitrage", "--data", str(tmp_path / "x")])
    assert result.exit_code == 2
    assert "pengine record" in result.output


def test_a_backtest_writes_its_run_and_report(world_store: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = runner.invoke(app, ["backtest", "-s", "mean_reversion", "--data", str(world_store),
                                 "--out", str(out), "--entry-latency-ms", "20",
                                 "--queue", "risk_averse"])
    assert result.exit_code == 0, result.output
    for name in ("run.json", "fills.csv", "equity.csv", "summary.json", "report.html"):
        assert (out / name).exists(), name
    assert "events/s" in result.output and str(out) in result.output.replace("\n", "")
    assert '"kind":"risk_averse"' in (out / "run.json").read_text().replace(" ", "")
    summary = json.loads((out / "summary.json").read_text())
    # The headline as `pengine report` shows it: ROI in percent, money to the cent.
    assert f"{summary['roi'] * 100:.2f}%" in result.output
    assert f"{Decimal(summary['total_pnl']):,.2f}" in result.output
    # A run of minutes measures Sharpe on 1-minute returns, and `pengine report` re-renders it
    # to the same bytes without being told the period.
    assert summary["return_period_s"] == 60 and summary["return_periods"] >= 2
    assert summary["sharpe"] is not None
    written = (out / "summary.json").read_bytes()
    again = runner.invoke(app, ["report", str(out)])
    assert again.exit_code == 0, again.output
    assert (out / "summary.json").read_bytes() == written


def test_a_sweep_ranks_its_runs(world_store: Path, tmp_path: Path) -> None:
    grid = tmp_path / "grid.toml"
    grid.write_text("entry_edge = [0.01, 0.04]\n")
    out = tmp_path / "sweep"
    result = runner.invoke(app, ["sweep", "-s", "mean_reversion", "--data", str(world_store),
                                 "--grid", str(grid), "--jobs", "2", "--out", str(out),
                                 "--rank-by", "roi"])
    assert result.exit_code == 0, result.output
    assert "ranked by roi" in result.output
    assert (out / "sweep.csv").read_text().count("\n") == 3
    ranked = json.loads((out / "sweep.json").read_text())["runs"]
    lines = result.output.splitlines()
    for rank, run in enumerate(ranked, start=1):  # each rank, run and parameter on one line
        row = next(line for line in lines if run["run"] in line)
        assert row.split()[:3] == [str(rank), run["run"], run["params"][0]]
        assert f"{run['roi'] * 100:.2f}%" in row and f"{run['sharpe']:.2f}" in row
    bad = runner.invoke(app, ["sweep", "-s", "mean_reversion", "--data", str(world_store),
                              "--grid", str(grid), "--rank-by", "luck"])
    assert bad.exit_code == 2 and "--rank-by must be one of" in bad.output
