"""Backtest reports: metrics of a run directory, ``summary.json`` and a self-contained HTML page.

Reads only the files of a run directory (``run.json``, ``fills.csv``, ``signals.csv``,
``equity.csv``, ``resolutions.csv``, ``positions.csv``); may import ``core`` (numbers) and
plotly; may not import the engine, the backtester, venues or the CLI. Deterministic: the same
run directory gives byte-identical ``summary.json`` and ``report.html``.
"""

from __future__ import annotations

from pathlib import Path

from prediction_engine.report.html import render_html
from prediction_engine.report.metrics import summarize
from prediction_engine.report.rundir import NotARunError, Run, RunFormatError, is_run, load_run
from prediction_engine.report.summary import Summary, encode_summary, headline, read_summary

__all__ = [
    "NotARunError",
    "Run",
    "RunFormatError",
    "Summary",
    "encode_summary",
    "headline",
    "is_run",
    "load_run",
    "read_summary",
    "render_html",
    "render_run",
    "summarize",
]


def _write(path: Path, data: bytes) -> None:
    """Write via a temporary file and rename, so a reader never sees half a report."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(data)
    temporary.replace(path)


def render_run(run_dir: Path, *, period_s: int | None = None) -> Summary:
    """Compute the metrics of ``run_dir`` and write its ``summary.json`` and ``report.html``.

    ``period_s``: the period the equity curve is resampled to for Sharpe and Sortino (by
    default one minute for a run shorter than two days, an hour otherwise).
    Raises :class:`NotARunError` / :class:`RunFormatError` for a directory that is not a run.
    """
    run = load_run(run_dir)
    summary = summarize(run, period_s=period_s)
    _write(run_dir / "summary.json", encode_summary(summary))
    _write(run_dir / "report.html", render_html(run, summary).encode("utf-8"))
    return summary
