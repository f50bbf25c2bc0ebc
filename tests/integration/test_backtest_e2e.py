"""The README's backtest, as a user runs it: generate a world, convert it, backtest it.

`pengine sim generate` writes a tape of the simulated world, `pengine data convert` turns it into
the Parquet event store, and `pengine backtest` replays it through the engine with four
strategies and writes a run directory with its report. Each step is the real command in its own
process.

* Determinism: two backtests of the same data, strategies and parameters, in processes with
  different hash seeds, give byte-identical run directories (every file's SHA-256).
* The HTML report opens in headless Chromium and every chart is drawn with its traces.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from prediction_engine.report.html import CHARTS
from tests.report.test_report_browser import census

STRATEGIES = ("arbitrage", "mean_reversion", "updown_fade", "updown_sniper")


def _pengine(*args: str, hash_seed: str = "0") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed, "COLUMNS": "200"}
    result = subprocess.run(
        [sys.executable, "-m", "prediction_engine.cli", *args],
        capture_output=True, text=True, env=env, timeout=600, check=False,
    )
    assert result.returncode == 0, f"pengine {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
    return result


def _digests(run: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(run.iterdir()) if p.is_file()
    }


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("readme-backtest")
    tape, store = base / "world.jsonl.gz", base / "store"
    _pengine("sim", "generate", str(tape), "--duration", "600", "--seed", "3",
             "--updown-minutes", "5")
    _pengine("data", "convert", str(tape), "--out", str(store))
    strategies = [arg for name in STRATEGIES for arg in ("-s", name)]
    first, second = base / "run-a", base / "run-b"
    for out, seed in ((first, "1"), (second, "2")):
        _pengine("backtest", *strategies, "--data", str(store), "--out", str(out),
                 "--max-daily-loss", "1000", "--max-position", "1000", "--max-exposure", "5000",
                 hash_seed=seed)
    return first, second


def test_the_same_backtest_twice_gives_byte_identical_runs(runs: tuple[Path, Path]) -> None:
    first, second = runs
    digests = _digests(first)
    assert {"run.json", "fills.csv", "orders.csv", "signals.csv", "equity.csv",
            "resolutions.csv", "positions.csv", "summary.json", "report.html"} <= set(digests)
    assert digests == _digests(second)
    with (first / "fills.csv").open() as f:
        fills = list(csv.DictReader(f))
    assert len(fills) >= 5, "a run without trades would prove little"
    assert len({row["strategy"] for row in fills}) >= 2
    summary = json.loads((first / "summary.json").read_text())
    assert summary["fills"] == len(fills)
    meta = json.loads((first / "run.json").read_text())
    assert meta["markets"] > 10 and meta["events"] > 100_000


def test_the_report_of_a_generated_world_renders_in_chromium(
    runs: tuple[Path, Path], tmp_path: Path
) -> None:
    dom, charts = census(runs[0] / "report.html", tmp_path / "profile")
    assert "Traceback" not in dom
    for name in CHARTS:
        assert charts.svgs[name] >= 1, f"chart {name} was not drawn"
        assert charts.traces[name] >= 1, f"chart {name} has no traces"
    assert charts.points["fills"] >= 5, "every fill is a marker"
