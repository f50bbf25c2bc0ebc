"""``pengine report RUN``: re-renders a stored run; a directory that is not a run exits 2."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

# Importing the sub-commands registers them (with `fee`, so `report` stays a sub-command).
from prediction_engine.cli import app, fee, report  # noqa: F401
from tests.report.rundirs import scenario


def test_report_prints_the_headline_and_writes_both_files(tmp_path: Path) -> None:
    run = scenario(tmp_path / "run")
    result = CliRunner().invoke(app, ["report", str(run)], terminal_width=120)
    assert result.exit_code == 0, result.output
    assert "Total PnL" in result.stdout
    assert "5.59" in result.stdout
    assert "66.67% of 3 positions" in result.stdout
    assert (run / "summary.json").is_file()
    assert (run / "report.html").is_file()


def test_report_json_prints_summary_json(tmp_path: Path) -> None:
    run = scenario(tmp_path / "run")
    result = CliRunner().invoke(app, ["report", str(run), "--json"])
    assert result.exit_code == 0, result.output
    assert result.stdout == (run / "summary.json").read_text()
    assert json.loads(result.stdout)["total_pnl"] == "5.590000"


def test_report_period_option_changes_the_return_period(tmp_path: Path) -> None:
    run = scenario(tmp_path / "run")
    result = CliRunner().invoke(app, ["report", str(run), "--json", "--period", "1800"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["return_period_s"], data["return_periods"]) == (1800, 8)


def test_a_directory_that_is_not_a_run_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["report", str(tmp_path)])
    assert result.exit_code == 2
    assert "not a backtest run directory (no run.json)" in result.stderr
    assert not (tmp_path / "report.html").exists()


def test_a_malformed_run_exits_2_naming_the_file(tmp_path: Path) -> None:
    run = scenario(tmp_path / "run")
    (run / "run.json").write_text("{not json")
    result = CliRunner().invoke(app, ["report", str(run)])
    assert result.exit_code == 2
    assert "run.json" in result.stderr
