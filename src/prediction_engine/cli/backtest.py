"""``pengine backtest`` and ``pengine sweep``: recorded data through the production engine."""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich import box
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from prediction_engine.backtest.config import RANK_KEYS, BacktestConfig
from prediction_engine.backtest.latency import LatencyError, LatencyModel
from prediction_engine.cli import app
from prediction_engine.cli.common import (
    CashOption,
    KellyOption,
    MaxExposureOption,
    MaxLossOption,
    MaxPositionOption,
    ParamOption,
    StrategyOption,
    engine_config,
    fail,
    parse_time,
)
from prediction_engine.core.numbers import ONE
from prediction_engine.execution.queue import QUEUE_KINDS, QueueModel
from prediction_engine.strategy.registry import StrategyError

if TYPE_CHECKING:  # the store and the replay (pyarrow, polars) load only when a command runs
    from prediction_engine.backtest.session import BacktestOptions, BacktestOutcome
    from prediction_engine.backtest.sweep import SweepRow

_MS = 1_000_000
_T = TypeVar("_T")

DataOption = Annotated[
    Path,
    typer.Option(
        "--data", "-d",
        help="Event store to replay: a `pengine record --out` directory, or a store written by "
        "`pengine data convert`.",
    ),
]
FromOption = Annotated[
    str | None, typer.Option("--from", help="Start (inclusive): ISO-8601 UTC or ns.")
]
ToOption = Annotated[str | None, typer.Option("--to", help="End (exclusive): ISO-8601 UTC or ns.")]
MarketsOption = Annotated[
    list[str] | None,
    typer.Option("--market", "-m", help="Replay only this market (slug or condition id; repeat)."),
]
FeedLatency = Annotated[
    float, typer.Option(help="Extra delay before the engine sees a venue event, ms.", min=0)
]
EntryLatency = Annotated[
    float, typer.Option(help="Delay before an order or cancel reaches the venue, ms.", min=0)
]
ResponseLatency = Annotated[
    float, typer.Option(help="Delay before the venue's report reaches the engine, ms.", min=0)
]
QueueOption = Annotated[
    str,
    typer.Option(
        help="Queue model of resting orders: power (cancels ahead of us with probability "
        "ahead^p/(ahead^p+behind^p)), risk_averse (cancels always behind us), front "
        "(nothing ahead: optimistic), back (only trades through our price fill us).",
    ),
]
QueuePower = Annotated[float, typer.Option(help="The exponent p of the power queue model.")]
LatencyTable = Annotated[
    Path | None,
    typer.Option(
        help="Latencies over time instead: CSV ts_ns,feed_ns,entry_ns,response_ns "
        "(interpolated between rows).",
    ),
]


def _config(  # noqa: PLR0917 - the CLI's options, passed straight on
    cash: str, max_position: str, max_exposure: str, max_daily_loss: str, kelly: float,
    feed_ms: float, entry_ms: float, response_ms: float, table: Path | None,
    queue: str = "power", queue_power: float = 2.0,
) -> BacktestConfig:
    try:
        latency = LatencyModel(
            feed_ns=round(feed_ms * _MS),
            entry_ns=round(entry_ms * _MS),
            response_ns=round(response_ms * _MS),
            table=None if table is None else str(table),
        )
    except LatencyError as e:
        fail(str(e))
    if queue not in QUEUE_KINDS:
        fail(f"--queue must be one of {', '.join(QUEUE_KINDS)}, got {queue!r}")
    try:
        model = QueueModel(kind=queue, power=queue_power)
    except ValueError as e:
        fail(str(e))
    return BacktestConfig(
        engine=engine_config(cash, max_position, max_exposure, max_daily_loss, kelly),
        latency=latency,
        queue=model,
    )


def _options(  # noqa: PLR0917 - the CLI's options, passed straight on
    data: Path, strategy: list[str] | None, param: list[str] | None, market: list[str] | None,
    start: str | None, end: str | None, config: BacktestConfig, out: Path | None,
) -> BacktestOptions:
    from prediction_engine.backtest.session import BacktestOptions

    if not strategy:
        fail("choose a strategy with --strategy (see `pengine strategies`)")
    if not data.exists():
        fail(f"no data at {data} (record some with `pengine record`, or convert a tape with "
             "`pengine data convert`)")
    from_ns = None if start is None else parse_time(start, "--from")
    to_ns = None if end is None else parse_time(end, "--to")
    if from_ns is not None and to_ns is not None and to_ns <= from_ns:
        fail("--to must be after --from")
    return BacktestOptions(
        data=data, strategies=tuple(strategy), params=tuple(param or ()),
        markets=None if not market else tuple(market), from_ns=from_ns, to_ns=to_ns,
        config=config, out=out,
    )


def _guard(work: Callable[[], _T]) -> _T:
    """Run ``work``; bad data, strategies or parameters exit 2 with the reason."""
    from prediction_engine.backtest.source import SourceError
    from prediction_engine.backtest.sweep import SweepError

    try:
        return work()
    except (SourceError, StrategyError, LatencyError, SweepError) as e:
        fail(str(e))


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), TaskProgressColumn(),
        TimeElapsedColumn(), console=console, transient=True,
    )


def _summary_table(outcome: BacktestOutcome) -> Table:
    table = Table(title="Backtest", show_header=False, title_justify="left")
    table.add_column("what")
    table.add_column("value", justify="right")
    c = outcome.counters
    seconds = outcome.replay_s
    rate = outcome.events / seconds if seconds > 0 else 0.0
    rows = [
        ("Events / frames / markets",
         f"{outcome.events:,} / {outcome.frames:,} / {outcome.markets}"),
        ("Replay", f"{seconds:.1f} s, {rate:,.0f} events/s"),
        ("Signals / orders / fills / risk-rejected",
         f"{c['signals']:,} / {c['orders']:,} / {c['fills']:,} / {c['rejected']:,}"),
        ("Final equity (USD)", f"{outcome.final_equity / ONE:,.2f}"),
    ]
    if outcome.summary is not None:
        from prediction_engine.report.summary import headline  # plotly: only once it is needed

        rows += headline(outcome.summary)
    for what, value in rows:
        table.add_row(what, value)
    return table


@app.command()
def backtest(  # noqa: PLR0917 - typer maps each parameter to an option
    data: DataOption,
    strategy: StrategyOption = None,
    param: ParamOption = None,
    market: MarketsOption = None,
    start: FromOption = None,
    end: ToOption = None,
    out: Annotated[
        Path | None, typer.Option(help="Run directory (default: backtests/<time>-<strategies>).")
    ] = None,
    cash: CashOption = "1000",
    max_position: MaxPositionOption = "100",
    max_exposure: MaxExposureOption = "500",
    max_daily_loss: MaxLossOption = "50",
    kelly: KellyOption = 0.5,
    feed_latency_ms: FeedLatency = 0.0,
    entry_latency_ms: EntryLatency = 0.0,
    response_latency_ms: ResponseLatency = 0.0,
    latency_table: LatencyTable = None,
    queue: QueueOption = "power",
    queue_power: QueuePower = 2.0,
    report: Annotated[bool, typer.Option(help="Write summary.json and report.html.")] = True,
) -> None:
    """Replay recorded data through the same engine, strategies, risk and paper matching as
    live paper trading, on a replay clock; write a run directory and its HTML report.

    Realism: latency (--feed/--entry/--response-latency-ms or --latency-table), queue
    position of resting orders, liquidity consumption, each market's fees and settlement at
    1/0; market metadata that would reveal an outcome is hidden until it resolves. The same
    data, strategies and parameters give byte-identical runs.

    Example: pengine backtest -s arbitrage --data recordings/ --from 2026-11-20 --to 2026-11-21
    """
    config = _config(cash, max_position, max_exposure, max_daily_loss, kelly, feed_latency_ms,
                     entry_latency_ms, response_latency_ms, latency_table, queue, queue_power)
    if out is None:
        names = "-".join(Path(s).stem for s in strategy or ())
        out = Path("backtests") / f"{time.strftime('%Y%m%d-%H%M%S')}-{names}"
    from dataclasses import replace

    from prediction_engine.backtest.session import run_backtest

    options = replace(_options(data, strategy, param, market, start, end, config, out),
                      report=report)
    console = Console(stderr=True)
    with _progress(console) as progress:
        task = progress.add_task("replaying", total=1.0)
        outcome = _guard(
            lambda: run_backtest(options, lambda f: progress.update(task, completed=f))
        )
    console.print(_summary_table(outcome))
    console.print(f"run: {out}" + (f"\nreport: {out / 'report.html'}" if report else ""))


@app.command()
def sweep(  # noqa: PLR0917 - typer maps each parameter to an option
    data: DataOption,
    grid: Annotated[Path, typer.Option(help="TOML grid of parameter values (see below).")],
    strategy: StrategyOption = None,
    param: ParamOption = None,
    market: MarketsOption = None,
    start: FromOption = None,
    end: ToOption = None,
    jobs: Annotated[int, typer.Option(help="Runs in parallel (processes).", min=1)] = 2,
    rank_by: Annotated[
        str, typer.Option(help=f"Metric to rank by: {', '.join(RANK_KEYS)}.")
    ] = "total_pnl",
    out: Annotated[
        Path | None, typer.Option(help="Sweep directory (default: sweeps/<time>-<strategies>).")
    ] = None,
    cash: CashOption = "1000",
    max_position: MaxPositionOption = "100",
    max_exposure: MaxExposureOption = "500",
    max_daily_loss: MaxLossOption = "50",
    kelly: KellyOption = 0.5,
    feed_latency_ms: FeedLatency = 0.0,
    entry_latency_ms: EntryLatency = 0.0,
    response_latency_ms: ResponseLatency = 0.0,
    latency_table: LatencyTable = None,
    queue: QueueOption = "power",
    queue_power: QueuePower = 2.0,
    top: Annotated[int, typer.Option(help="Rows of the ranked table to show.", min=1)] = 20,
) -> None:
    """Backtest every combination of a parameter grid in parallel; rank the runs.

    The grid is TOML: top-level keys apply to every chosen strategy with that parameter,
    a [strategy] table to one; a list is the values to try, a scalar is fixed:

        min_edge = [0.005, 0.01, 0.02]

        [updown_fade]
        sigma_window_s = [60, 300]

    Each run is a full run directory (OUT/run-0001, ...); OUT/sweep.csv and sweep.json rank them.
    """
    from prediction_engine.backtest.sweep import load_grid, run_sweep

    if rank_by not in RANK_KEYS:
        fail(f"--rank-by must be one of {', '.join(RANK_KEYS)}")
    combos = _guard(lambda: load_grid(grid))
    config = _config(cash, max_position, max_exposure, max_daily_loss, kelly, feed_latency_ms,
                     entry_latency_ms, response_latency_ms, latency_table, queue, queue_power)
    if out is None:
        names = "-".join(Path(s).stem for s in strategy or ())
        out = Path("sweeps") / f"{time.strftime('%Y%m%d-%H%M%S')}-{names}"
    base = _options(data, strategy, param, market, start, end, config, None)
    _guard(lambda: _check(base, combos))
    console = Console(stderr=True)
    with _progress(console) as progress:
        task = progress.add_task(f"{len(combos)} runs, {jobs} at a time", total=len(combos))

        def done(_row: SweepRow) -> None:
            progress.advance(task)

        rows = _guard(lambda: run_sweep(base, combos, out, jobs=jobs, rank_by=rank_by,
                                        on_done=done))
    console.print(_sweep_table(rows[:top], rank_by))
    console.print(f"sweep: {out} (sweep.csv, sweep.json, one run directory per combination)")


def _sweep_table(rows: list[SweepRow], rank_by: str) -> Table:
    """The ranked runs: one parameter per line, so the table fits a terminal; metrics shown as
    the report's headline shows them (ratios to two places here, for width)."""
    from prediction_engine.report.summary import money_text, percent_text, ratio_text

    def usd(value: str | None) -> str:  # summary.json writes money as exact decimal strings
        return money_text(None if value is None else Decimal(value))

    columns: tuple[tuple[str, str, Callable[[Any], str]], ...] = (
        ("PnL", "total_pnl", usd),
        ("ROI", "roi", percent_text),
        ("Sharpe", "sharpe", lambda v: ratio_text(v, 2)),
        ("max DD", "max_drawdown", usd),
        ("fills", "fills", lambda v: "n/a" if v is None else f"{v:,}"),
    )
    table = Table(title=f"Sweep ranked by {rank_by}", title_justify="left", box=box.SIMPLE_HEAD,
                  pad_edge=False, collapse_padding=True)
    table.add_column("rank", justify="right", no_wrap=True)
    table.add_column("run", no_wrap=True)
    table.add_column("params", no_wrap=True)
    for name, _key, _text in columns:
        table.add_column(name, justify="right", no_wrap=True)
    errors = any(row.error for row in rows)
    if errors:
        table.add_column("error", overflow="fold")
    for rank, row in enumerate(rows, start=1):
        cells = [str(rank), row.run, "\n".join(row.params) or "(defaults)"]
        cells += [text(row.metrics.get(key)) for _name, key, text in columns]
        table.add_row(*cells, *((row.error or "",) if errors else ()))
    return table


def _check(base: BacktestOptions, combos: list[tuple[str, ...]]) -> int:
    """Fail on bad names or parameters now, not once per process; return the combinations."""
    from prediction_engine.strategy.registry import build_strategies

    for combo in combos:
        build_strategies(base.strategies, (*base.params, *combo))
    return len(combos)
