"""``pengine paper`` and ``pengine updown``: the engine trading on paper against live books."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Annotated, NoReturn, TypeVar

import typer
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table

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
    load_settings,
)
from prediction_engine.cli.observe import (
    DashboardHostOption,
    DashboardOption,
    DashboardPortOption,
    DashboardRemoteOption,
    DashboardTokenOption,
    LogJsonOption,
    LogLevelOption,
    MetricsHostOption,
    MetricsPortOption,
    TelegramFillsOption,
    TelegramOption,
    TelegramOrdersOption,
    TelegramSummaryOption,
    announce_metrics,
    configure_logs,
    observability_options,
)
from prediction_engine.config import ConfigError
from prediction_engine.core.ids import Venue
from prediction_engine.core.numbers import ONE
from prediction_engine.core.updown import UPDOWN_ASSETS, UPDOWN_INTERVALS
from prediction_engine.storage.errors import JournalError
from prediction_engine.storage.journal import JournalOptions, run_id_of
from prediction_engine.strategy.registry import StrategyError
from prediction_engine.trading.paper import PaperOptions, run_paper
from prediction_engine.trading.status import TradingStatus
from prediction_engine.trading.updown import (
    DEFAULT_STRATEGIES,
    UpDownError,
    UpDownOptions,
    WindowReport,
    run_updown,
)
from prediction_engine.venues.http import TransportError, VenueRejectedError
from prediction_engine.venues.websocket import FeedFailedError

DurationOption = Annotated[
    float | None, typer.Option(help="Stop after this many seconds (default: until Ctrl-C).", min=1)
]


def status_table(status: TradingStatus, title: str) -> Table:
    """Money, activity and health of a trading session."""
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column("what")
    table.add_column("value", justify="right")
    e = status.engine
    rows = [
        ("strategies", ", ".join(status.strategies)),
        ("markets / tokens / books in sync",
         f"{status.markets} / {status.tokens} / {status.books_synced}"),
        ("frames / resyncs", f"{status.frames:,} / {status.resyncs}"),
        ("signals / orders / fills / risk-rejected",
         f"{e['signals']} / {e['orders']} / {e['fills']} / {e['rejected']}"),
        ("open orders / cancels / stale skips",
         f"{status.open_orders} / {e['cancels']} / {e['stale_skips']}"),
        ("cash / equity (USD)", f"{status.cash} / {status.equity}"),
        ("PnL: total / realized / unrealized / fees",
         f"{status.pnl} / {status.realized} / {status.unrealized} / {status.fees}"),
    ]
    if status.kill_switch:
        rows.append(("[red]kill switch[/]", status.kill_switch))
    for what, value in rows:
        table.add_row(what, value)
    return table


def positions_table(status: TradingStatus) -> Table:
    """Held and closed positions."""
    table = Table(title="Positions", title_justify="left")
    for name in ("market", "outcome", "shares", "avg price", "mark", "realized", "fees"):
        table.add_column(name, justify="left" if name in ("market", "outcome") else "right")
    for p in status.positions[-12:]:
        table.add_row(p.slug[:48], p.outcome, p.shares, p.average_price, p.mark, p.realized,
                      p.fees)
    return table


def windows_table(windows: list[WindowReport]) -> Table:
    """The Up/Down windows the bot has traded."""
    table = Table(title="Windows", title_justify="left")
    for name in ("window", "found by", "strike", "orders", "fills", "resolved", "PnL"):
        table.add_column(name, justify="left" if name == "window" else "right")
    for w in windows[-8:]:
        table.add_row(w.slug, w.found_by, "" if w.strike is None else str(w.strike),
                      str(w.orders), str(w.fills), "yes" if w.resolved else "",
                      f"{w.pnl / ONE:.4f}" if w.resolved else "")
    return table


_VENUE_ERRORS = (TransportError, VenueRejectedError, FeedFailedError)
_T = TypeVar("_T")


def _run(coro: Coroutine[object, object, _T]) -> _T:
    """Run a trading session; map its failures to exit codes: bad input 2, venue down 1."""
    try:
        return _first_error(coro)
    except (StrategyError, UpDownError) as e:
        raise typer.BadParameter(str(e)) from e
    except _VENUE_ERRORS as e:
        _venue_down(e)
    except JournalError as e:
        fail(str(e), 3)
    except ConfigError as e:  # e.g. a metrics or dashboard port already in use
        fail(str(e), 2)
    except KeyboardInterrupt:
        raise typer.Exit(130) from None


def _first_error(coro: Coroutine[object, object, _T]) -> _T:
    """Run ``coro``; a failure inside a task group surfaces as its first real error."""
    try:
        return asyncio.run(coro)
    except BaseExceptionGroup as group:
        leaf: BaseException = group
        while isinstance(leaf, BaseExceptionGroup):
            leaf = leaf.exceptions[0]
        raise leaf from group


def _venue_down(error: Exception) -> NoReturn:
    fail(
        f"the venue cannot be reached: {error}\n"
        "(to trade offline, start `pengine sim` and export the PENGINE_* variables it prints)",
        1,
    )


@app.command()
def paper(  # noqa: PLR0917 - a command line is a long parameter list
    strategy: StrategyOption = None,
    param: ParamOption = None,
    markets: Annotated[
        str | None,
        typer.Option(help="Search query choosing the markets (default: the most traded open "
                     "markets); a neg-risk market brings its whole event."),
    ] = None,
    limit: Annotated[int, typer.Option(help="Most markets to trade.", min=1)] = 20,
    duration: DurationOption = None,
    out: Annotated[Path, typer.Option(help="Directory for telemetry and the summary.")] = Path(
        "pengine-paper"
    ),
    record: Annotated[
        Path | None,
        typer.Option(help="Also record the session here (tapes and event store), for "
                     "`pengine backtest --data RECORD`."),
    ] = None,
    cash: CashOption = "1000",
    max_position: MaxPositionOption = "100",
    max_exposure: MaxExposureOption = "500",
    max_daily_loss: MaxLossOption = "50",
    kelly: KellyOption = 0.5,
    journal: Annotated[
        str | None,
        typer.Option(help="The journal: a DuckDB file or postgresql://user@host/db[?schema=S] "
                     "(default OUT/journal.duckdb; 'none': no journal). A run with the same "
                     "strategies, parameters, markets and limits continues where it stopped."),
    ] = None,
    journal_flush_ms: Annotated[
        float, typer.Option(help="Commit the journal this often (0: every order and report "
                            "before going on).", min=0)
    ] = 100.0,
    snapshot_every: Annotated[
        float, typer.Option(help="Snapshot the engine's state into the journal this often "
                            "(seconds).", min=0.1)
    ] = 30.0,
    on_stop: Annotated[
        str, typer.Option(help="On Ctrl-C or SIGTERM: 'cancel' open orders, or 'keep' them "
                          "(they rest again when the run restarts).")
    ] = "cancel",
    restore_from_journal: Annotated[
        bool, typer.Option(help="Rebuild the state from every journal record instead of the "
                           "newest snapshot (when a snapshot is damaged).")
    ] = False,
    metrics_port: MetricsPortOption = None,
    metrics_host: MetricsHostOption = "127.0.0.1",
    dashboard: DashboardOption = False,
    dashboard_host: DashboardHostOption = "127.0.0.1",
    dashboard_port: DashboardPortOption = 8050,
    dashboard_token: DashboardTokenOption = None,
    dashboard_allow_remote: DashboardRemoteOption = False,
    telegram: TelegramOption = False,
    telegram_orders: TelegramOrdersOption = True,
    telegram_fills: TelegramFillsOption = True,
    telegram_summary_utc: TelegramSummaryOption = "00:00",
    log_json: LogJsonOption = False,
    log_level: LogLevelOption = None,
) -> None:
    """Paper-trade strategies against live order books: no orders reach the venue.

    Markets come from Gamma (or the simulator: run `pengine sim` and export the variables it
    prints). Orders are matched against the live books with the venue's rules (FOK, FAK, GTC,
    GTD, post-only), taker fees from each market's fee schedule, and settlement at 1/0 when
    markets resolve. Telemetry (signals, orders, fills, latency per market) goes to OUT.

    Every signal, order, report, fill, position and cash movement is journaled (with periodic
    snapshots of the state) before it takes effect; after a crash, the same command restores
    cash, positions, open orders and strategy state and carries on. Query it with
    `pengine journal`.

    Observability (all off by default): --metrics-port 9000 serves Prometheus metrics for
    ops/ (Prometheus and Grafana), --dashboard a live web page, --telegram alerts, --log-json
    JSON logs on stderr. See docs/observability.md.

    Example: pengine paper -s arbitrage -p arbitrage.min_edge=0.01 --markets election
    """
    if on_stop not in ("cancel", "keep"):
        raise typer.BadParameter("must be 'cancel' or 'keep'", param_hint="--on-stop")
    settings = load_settings()
    options = PaperOptions(
        strategies=tuple(strategy or ()),
        params=tuple(param or ()),
        markets=markets,
        limit=limit,
        duration_s=duration,
        out_dir=out,
        engine=engine_config(cash, max_position, max_exposure, max_daily_loss, kelly),
        record=record,
        journal=None if journal == "none" else journal or "",
        journal_options=JournalOptions(flush_interval_s=journal_flush_ms / 1000,
                                       snapshot_interval_s=snapshot_every),
        cancel_on_stop=on_stop == "cancel",
        restore_from_journal=restore_from_journal,
        observability=observability_options(
            metrics_port, metrics_host, dashboard, dashboard_host, dashboard_port,
            dashboard_token, dashboard_allow_remote, telegram, telegram_orders, telegram_fills,
            telegram_summary_utc, out,
        ),
    )
    target = options.journal_target()
    configure_logs(log_json, log_level, out.name if target is None
                   else run_id_of(options.run_config()))
    console = Console()
    console.print(f"[bold]pengine paper[/]: {', '.join(options.strategies) or '?'}; "
                  f"telemetry in {out}")
    announce_metrics(console, options.observability)
    with Live(console=console, refresh_per_second=4, transient=True) as live:

        def on_tick(status: TradingStatus) -> None:
            live.update(Group(status_table(status, "Paper trading"), positions_table(status)))

        final = _run(run_paper(settings, options, on_tick=on_tick, on_message=live.console.print))
    console.print(status_table(final, f"Paper summary ({final.elapsed_s:.0f} s)"))
    console.print(positions_table(final))
    console.print(f"written: {out / 'summary.json'}, telemetry under {out / 'telemetry'}")


@app.command()
def updown(  # noqa: PLR0917 - a command line is a long parameter list
    asset: Annotated[str, typer.Option(help=f"One of {', '.join(UPDOWN_ASSETS)}.")] = "btc",
    interval: Annotated[
        str, typer.Option(help=f"Window length: one of {', '.join(UPDOWN_INTERVALS)}.")
    ] = "15m",
    paper_mode: Annotated[
        bool,
        typer.Option("--paper/--live", help="Paper trading (default). Live trading needs the "
                     "live execution client, which is not available yet."),
    ] = True,
    strategy: StrategyOption = None,
    param: ParamOption = None,
    windows: Annotated[
        int | None, typer.Option(help="Stop after this many windows (default: run forever).",
                                 min=1)
    ] = None,
    duration: DurationOption = None,
    warmup: Annotated[
        float, typer.Option(help="Seconds before a window starts to subscribe to its books.")
    ] = 30.0,
    out: Annotated[Path, typer.Option(help="Directory for telemetry and the summary.")] = Path(
        "pengine-updown"
    ),
    cash: CashOption = "1000",
    max_position: MaxPositionOption = "100",
    max_exposure: MaxExposureOption = "500",
    max_daily_loss: MaxLossOption = "50",
    kelly: KellyOption = 0.5,
    metrics_port: MetricsPortOption = None,
    metrics_host: MetricsHostOption = "127.0.0.1",
    dashboard: DashboardOption = False,
    dashboard_host: DashboardHostOption = "127.0.0.1",
    dashboard_port: DashboardPortOption = 8050,
    dashboard_token: DashboardTokenOption = None,
    dashboard_allow_remote: DashboardRemoteOption = False,
    telegram: TelegramOption = False,
    telegram_orders: TelegramOrdersOption = True,
    telegram_fills: TelegramFillsOption = True,
    telegram_summary_utc: TelegramSummaryOption = "00:00",
    log_json: LogJsonOption = False,
    log_level: LogLevelOption = None,
) -> None:
    """Trade the crypto Up/Down windows of one asset, window after window.

    Finds the current window's market (slug, next window, or the series), keeps the Binance
    and RTDS reference feeds warm, takes the first RTDS price at the window start as the
    strike, runs the Up/Down strategies (distance fade, momentum, settlement sniper by
    default), cancels what is open when the window ends and rolls to the next.

    Example: pengine updown --asset eth --interval 5m --windows 3
    """
    if not paper_mode:
        raise typer.BadParameter(
            "live trading is not available yet (it needs the live execution client and "
            "signing); run with --paper", param_hint="--live",
        )
    settings = load_settings()
    options = UpDownOptions(
        asset=asset, interval=interval, strategies=tuple(strategy or DEFAULT_STRATEGIES),
        params=tuple(param or ()), windows=windows, duration_s=duration, warmup_s=warmup,
        out_dir=out, engine=engine_config(cash, max_position, max_exposure, max_daily_loss,
                                           kelly, Venue.POLYMARKET_RTDS),
        observability=observability_options(
            metrics_port, metrics_host, dashboard, dashboard_host, dashboard_port,
            dashboard_token, dashboard_allow_remote, telegram, telegram_orders, telegram_fills,
            telegram_summary_utc, out,
        ),
    )
    configure_logs(log_json, log_level, out.name)
    console = Console()
    console.print(f"[bold]pengine updown[/]: {asset} {interval}, paper; telemetry in {out}")
    announce_metrics(console, options.observability)
    started = time.monotonic()
    with Live(console=console, refresh_per_second=4, transient=True) as live:

        def on_tick(status: TradingStatus, reports: list[WindowReport]) -> None:
            live.update(Group(status_table(status, "Up/Down bot"), windows_table(reports)))

        final, reports = _run(run_updown(settings, options, on_tick=on_tick,
                                         on_message=live.console.print))
    elapsed = time.monotonic() - started
    console.print(status_table(final, f"Up/Down summary ({elapsed:.0f} s)"))
    console.print(windows_table(reports))
    console.print(positions_table(final))
