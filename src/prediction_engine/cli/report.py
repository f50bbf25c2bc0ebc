"""``pengine report RUN``: re-render a stored backtest run and show its headline metrics.

Thin shell over :func:`prediction_engine.report.render_run`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from prediction_engine.cli import app
from prediction_engine.cli.common import fail
from prediction_engine.report import (
    RunFormatError,
    encode_summary,
    headline,
    render_run,
)

__all__ = ["report"]


@app.command()
def report(
    run: Annotated[
        Path, typer.Argument(help="A run directory written by `pengine backtest`.")
    ],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print summary.json instead of the table.")
    ] = False,
    period: Annotated[
        int | None,
        typer.Option(
            "--period", min=1, show_default=False,
            help="Seconds per return period for Sharpe and Sortino (the equity curve is "
            "resampled to it; a run shorter than two periods has none). Default: 60 for a "
            "run shorter than two days, 3600 otherwise, as the backtest itself chose.",
        ),
    ] = None,
) -> None:
    """Recompute a run's metrics; rewrite RUN/summary.json and RUN/report.html.

    Example: pengine report runs/arbitrage-001 (then open runs/arbitrage-001/report.html)
    """
    try:
        summary = render_run(run, period_s=period)
    except RunFormatError as e:
        fail(str(e))
    if as_json:
        typer.echo(encode_summary(summary).decode(), nl=False)
        return
    table = Table(title=f"Backtest {run}")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for label, value in headline(summary):
        table.add_row(label, value)
    console = Console()
    console.print(table)
    console.print(f"report: {run / 'report.html'}  summary: {run / 'summary.json'}",
                  highlight=False)
