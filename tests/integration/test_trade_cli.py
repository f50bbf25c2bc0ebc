"""`pengine paper` and `pengine updown` as a user runs them, against a simulator in a thread."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from prediction_engine.cli import _register, app
from prediction_engine.sim.polymarket import SimConfig
from tests.integration.harness import sim_in_thread

_register()


@pytest.fixture(scope="module")
def sim_env() -> Iterator[dict[str, str]]:
    """A simulated venue (with frequent arbitrage) served from its own thread and loop."""
    with sim_in_thread(SimConfig(seed=2, updates_per_second=200, arb_every_s=1.0)) as env:
        yield env


def test_paper_trades_arbitrage_on_the_simulator(sim_env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "paper"
    result = CliRunner().invoke(
        app,
        ["paper", "-s", "arbitrage", "-s", "mean_reversion", "-p", "arbitrage.min_edge=0.001",
         "--markets", "nba champion", "--duration", "6", "--out", str(out)],
        env=sim_env,
    )
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["strategies"] == ["arbitrage", "mean_reversion"]
    assert summary["engine"]["evaluations"] > 0
    assert summary["books_synced"] == summary["tokens"] > 0
    assert summary["engine"]["orders"] > 0, "arbitrage episodes every second are taken"
    market_dirs = [p for p in (out / "telemetry").iterdir() if p.is_dir()]
    assert any((d / "orders.csv").exists() for d in market_dirs)
    assert all((d / "market_info.txt").exists() for d in market_dirs)
    assert any((d / "latency.csv").exists() for d in market_dirs)
    assert "Paper summary" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["paper", "-s", "nope"], "nope"),
        (["paper"], "at least one strategy"),
        (["paper", "-s", "arbitrage", "-p", "arbitrage.nothing=1"], "nothing"),
        (["paper", "-s", "arbitrage", "--cash", "lots"], "--cash"),
        (["updown", "--live"], "live trading is not available"),
        (["updown", "--asset", "doge"], "asset must be one of"),
    ],
)
def test_bad_input_exits_2_with_a_clear_message(
    sim_env: dict[str, str], args: list[str], message: str
) -> None:
    result = CliRunner().invoke(app, args, env=sim_env)
    assert result.exit_code == 2, result.output
    assert message in result.output.replace("\n", " ")


def test_an_unreachable_venue_exits_1_and_says_how_to_go_offline(tmp_path: Path) -> None:
    env = {"PENGINE_POLYMARKET_GAMMA_URL": "http://127.0.0.1:1"}
    result = CliRunner().invoke(app, ["paper", "-s", "arbitrage", "--out", str(tmp_path)], env=env)
    assert result.exit_code == 1, result.output
    assert "cannot be reached" in result.output and "pengine sim" in result.output
