"""Open report.html in headless Chromium and check that every chart actually rendered.

Plotly draws each chart into ``div#chart-<name>`` as ``svg.main-svg`` with one ``g.trace`` per
trace and one ``.point`` per marker or bar; a page whose scripts failed has none of them.
Chromium must be installed (CI installs it): without it this test fails, it does not skip.
"""

from __future__ import annotations

import shutil
import subprocess
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

from prediction_engine.report import render_run
from tests.report.rundirs import scenario, write_run

_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
         "track", "wbr"}


class ChartCensus(HTMLParser):
    """Count, per ``div#chart-<name>``, its main SVGs, traces and data points."""

    def __init__(self) -> None:
        super().__init__()
        self._owners: list[str | None] = []  # the chart each open element belongs to
        self.svgs: Counter[str] = Counter()
        self.traces: Counter[str] = Counter()
        self.points: Counter[str] = Counter()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        owner = self._owners[-1] if self._owners else None
        element_id = attributes.get("id") or ""
        if element_id.startswith("chart-"):
            owner = element_id.removeprefix("chart-")
        classes = (attributes.get("class") or "").split()
        if owner is not None:
            self.svgs[owner] += tag == "svg" and "main-svg" in classes
            self.traces[owner] += tag == "g" and "trace" in classes
            self.points[owner] += "point" in classes
        if tag not in _VOID:
            self._owners.append(owner)

    def handle_endtag(self, tag: str) -> None:
        if tag not in _VOID and self._owners:
            self._owners.pop()


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None and Path("/usr/bin/chromium").exists():
        found = "/usr/bin/chromium"
    assert found is not None, (
        "chromium is not installed; this test needs it (Debian: apt-get install -y chromium)")
    return found


def rendered_dom(page: Path, profile: Path) -> str:
    """The DOM of ``page`` after its scripts ran, as headless Chromium serializes it."""
    command = [chromium(), "--headless=new", "--no-sandbox", "--disable-gpu",
               f"--user-data-dir={profile}", "--virtual-time-budget=15000", "--dump-dom",
               page.as_uri()]
    result = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def census(page: Path, profile: Path) -> tuple[str, ChartCensus]:
    dom = rendered_dom(page, profile)
    parser = ChartCensus()
    parser.feed(dom)
    return dom, parser


def test_every_chart_renders_with_its_traces(tmp_path: Path) -> None:
    run = scenario(tmp_path / "run")
    render_run(run)
    dom, charts = census(run / "report.html", tmp_path / "profile")
    expected_traces = {
        "equity": 2,        # equity, drawdown
        "pnl-strategy": 1,  # one bar trace
        "pnl-market": 1,
        "fills": 3,         # buys, sells, cumulative fees
        "exposure": 1,
        "calibration": 3,   # the diagonal, fader's reliability curve, fader's forecast counts
    }
    for name, traces in expected_traces.items():
        assert charts.svgs[name] >= 1, f"chart {name} has no svg.main-svg: it did not render"
        assert charts.traces[name] == traces, (name, charts.traces[name])
    # Data reached the page: 2 strategy bars, 3 market bars, 6 fill markers (4 buys, 2 sells).
    assert charts.points["pnl-strategy"] == 2
    assert charts.points["pnl-market"] == 3
    assert charts.points["fills"] == 6
    assert charts.points["calibration"] >= 3  # three filled bins (plus the count bars)
    assert "Brier score: fader 0.1190" in dom


def test_without_forecasts_there_is_no_calibration_chart(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run")  # no fills, no signals, no equity samples
    render_run(run)
    dom, charts = census(run / "report.html", tmp_path / "profile")
    for name in ("equity", "pnl-strategy", "pnl-market", "fills", "exposure"):
        assert charts.svgs[name] >= 1, f"chart {name} did not render"
    assert "calibration" not in charts.svgs
    assert 'id="chart-calibration"' not in dom
    assert "No forecasts to score" in dom
