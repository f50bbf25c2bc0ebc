"""Sweeps: TOML grids to parameter combinations; parallel runs ranked the same at any --jobs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from prediction_engine.backtest.session import BacktestOptions
from prediction_engine.backtest.sweep import SweepError, load_grid, run_sweep


def test_a_grid_is_every_combination_last_key_fastest(tmp_path: Path) -> None:
    grid = tmp_path / "grid.toml"
    grid.write_text('entry_edge = [0.01, 0.02]\nfixed = true\n[arbitrage]\nmin_edge = [1, 2]\n')
    assert load_grid(grid) == [
        ("entry_edge=0.01", "fixed=true", "arbitrage.min_edge=1"),
        ("entry_edge=0.01", "fixed=true", "arbitrage.min_edge=2"),
        ("entry_edge=0.02", "fixed=true", "arbitrage.min_edge=1"),
        ("entry_edge=0.02", "fixed=true", "arbitrage.min_edge=2"),
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "the grid is empty"),
        ("x = [", "not valid TOML"),
        ("x = []", "has no values"),
        ("[a.b]\nc = 1", "nests too deep"),
        ("x = [{y = 1}]", "numbers, strings or booleans"),
    ],
)
def test_a_bad_grid_is_a_clear_error(tmp_path: Path, content: str, message: str) -> None:
    grid = tmp_path / "grid.toml"
    grid.write_text(content)
    with pytest.raises(SweepError, match=message):
        load_grid(grid)


def test_runs_are_ranked_and_do_not_depend_on_jobs(world_store: Path, tmp_path: Path) -> None:
    grid = tmp_path / "grid.toml"
    grid.write_text("entry_edge = [0.005, 0.02, 0.08]\n")
    base = BacktestOptions(data=world_store, strategies=("mean_reversion",))
    combos = load_grid(grid)
    done: list[str] = []
    parallel = run_sweep(base, combos, tmp_path / "two", jobs=2,
                         on_done=lambda row: done.append(row.run))
    serial = run_sweep(base, combos, tmp_path / "one", jobs=1)
    assert sorted(done) == ["run-0001", "run-0002", "run-0003"]
    assert [r.run for r in parallel] == [r.run for r in serial]
    assert [r.metrics for r in parallel] == [r.metrics for r in serial]
    assert all(r.error is None for r in parallel)
    pnl = [float(r.metrics["total_pnl"]) for r in parallel]
    assert pnl == sorted(pnl, reverse=True)
    ranked = json.loads((tmp_path / "two" / "sweep.json").read_text())
    assert [r["run"] for r in ranked["runs"]] == [r.run for r in parallel]
    summary = json.loads((tmp_path / "two" / "run-0002" / "summary.json").read_text())
    # Each run is measured as `pengine backtest` measures it: a run of minutes gets 1-minute
    # returns, so Sharpe is defined.
    assert summary["return_period_s"] == 60 and summary["sharpe"] is not None
    assert all(r.metrics["sharpe"] is not None for r in parallel)
    orders = {r.params: r.metrics["orders"] for r in parallel}
    # A lower entry edge never trades less.
    assert orders[("entry_edge=0.005",)] >= orders[("entry_edge=0.08",)]
    assert orders[("entry_edge=0.005",)] > 0
