"""render_run: summary.json and report.html, byte-for-byte deterministic and self-contained."""

from __future__ import annotations

import json
import re
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from plotly.offline import get_plotlyjs

from prediction_engine.report import (
    NotARunError,
    RunFormatError,
    load_run,
    read_summary,
    render_run,
)
from prediction_engine.report.html import CHARTS
from tests.report.rundirs import (
    HOUR,
    M1,
    T0,
    assert_golden,
    equity,
    fill,
    resolution,
    scenario,
    write_run,
)


def test_render_is_deterministic_and_matches_the_golden_summary(tmp_path: Path) -> None:
    first, second = scenario(tmp_path / "a"), tmp_path / "b"
    shutil.copytree(first, second)
    render_run(first)
    render_run(second)
    render_run(second)  # re-rendering overwrites with the same bytes
    for name in ("summary.json", "report.html"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    assert_golden("scenario-summary.json", (first / "summary.json").read_bytes())


def test_summary_json_round_trips_and_sorts_keys(tmp_path: Path) -> None:
    run = scenario(tmp_path / "run")
    summary = render_run(run)
    text = (run / "summary.json").read_text()
    data = json.loads(text)
    assert list(data) == sorted(data)
    assert data["total_pnl"] == "5.590000"  # exact money: a decimal string
    assert data["fills"] == 6
    assert read_summary(run) == summary
    assert summary.as_dict()["total_pnl"] == Decimal("5.590000")
    assert list(summary.as_dict()["by_strategy"]) == [  # type: ignore[call-overload]
        {"fees": Decimal("0.140000"), "fills": 2, "hit_rate": 0.5, "pnl": Decimal("3.860000"),
         "positions_done": 2, "strategy": "fader", "volume": Decimal("6.000000")},
        {"fees": Decimal("0.120000"), "fills": 4, "hit_rate": 1.0, "pnl": Decimal("1.730000"),
         "positions_done": 1, "strategy": "maker", "volume": Decimal("19.400000")},
    ]


def test_profit_without_losses_writes_null_profit_factor(tmp_path: Path) -> None:
    run = write_run(tmp_path, fills=[fill(T0, "fader", M1, "Y1", "BUY", "0.4", "10")],
                    resolutions=[resolution(T0 + HOUR, M1, "Y1")])
    render_run(run)
    data = json.loads((run / "summary.json").read_text())
    assert data["profit_factor"] is None
    assert (data["gross_profit"], data["gross_loss"]) == ("6.000000", "0.000000")
    assert data["sharpe"] is None  # no equity curve at all


def test_report_is_self_contained_with_every_chart(tmp_path: Path) -> None:
    run = scenario(tmp_path / "run")
    render_run(run)
    page = (run / "report.html").read_text()
    # plotly.js inlined once; apart from it (whose map layers name tile servers), no link out.
    assert page.count(get_plotlyjs()) == 1
    rest = page.replace(get_plotlyjs(), "")
    assert re.search(r"(src|href)\s*=|https?://|<link", rest) is None
    assert page.count("Plotly.newPlot(") == len(CHARTS)
    for name in CHARTS:
        assert f'id="chart-{name}"' in page
    assert "Brier score: fader 0.1190" in page


def test_report_without_fills_or_forecasts_has_no_calibration_chart(tmp_path: Path) -> None:
    run = write_run(tmp_path / "empty")
    summary = render_run(run)
    page = (run / "report.html").read_text()
    assert summary.fills == 0
    assert 'id="chart-calibration"' not in page
    assert "No forecasts to score" in page
    assert page.count("Plotly.newPlot(") == len(CHARTS) - 1


def test_names_are_escaped_in_the_page(tmp_path: Path) -> None:
    run = write_run(tmp_path, strategies=("<b>evil</b>",),
                    fills=[fill(T0, "<b>evil</b>", M1, "Y1", "BUY", "0.4", "10")])
    render_run(run)
    page = (run / "report.html").read_text()
    assert "<b>evil" not in page
    assert "&lt;b&gt;evil&lt;/b&gt;" in page


def test_a_directory_without_run_json_is_not_a_run(tmp_path: Path) -> None:
    with pytest.raises(NotARunError, match="not a backtest run directory"):
        render_run(tmp_path)
    with pytest.raises(NotARunError, match="not a directory"):
        render_run(tmp_path / "missing")
    assert not (tmp_path / "summary.json").exists()


def test_a_malformed_row_names_its_file_and_line(tmp_path: Path) -> None:
    run = scenario(tmp_path / "run")
    lines = (run / "fills.csv").read_text().splitlines()
    lines[3] = lines[3].replace("0.250000", "a quarter")
    (run / "fills.csv").write_text("\n".join(lines) + "\n")
    with pytest.raises(RunFormatError, match=r"fills\.csv line 4: .*a quarter"):
        load_run(run)


def test_a_missing_column_is_named(tmp_path: Path) -> None:
    run = write_run(tmp_path)
    (run / "equity.csv").write_text("ts_ns,cash\n1,2\n")
    with pytest.raises(RunFormatError, match="missing column"):
        load_run(run)


def test_a_newer_run_format_is_refused(tmp_path: Path) -> None:
    run = write_run(tmp_path)
    info = json.loads((run / "run.json").read_text())
    (run / "run.json").write_text(json.dumps({**info, "version": 2}))
    with pytest.raises(RunFormatError, match="version 2"):
        load_run(run)


def test_long_series_are_thinned_in_the_charts_but_not_in_the_metrics(tmp_path: Path) -> None:
    rows = [equity(T0 + i * 1_000_000_000, f"{1000 + i % 7}.000000") for i in range(12_000)]
    run = write_run(tmp_path, equity_rows=rows)
    summary = render_run(run)
    assert summary.max_drawdown == Decimal(6)
    page = (run / "report.html").read_text()
    assert "Equity and drawdown (4,001 of 12,000 shown)" in page
