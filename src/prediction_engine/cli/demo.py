"""``pengine demo``: the whole system against the local simulator, with a live display."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from prediction_engine.cli import app
from prediction_engine.cli.trade import positions_table, status_table
from prediction_engine.demo import (
    DemoOptions,
    DemoResult,
    DemoStats,
    UpDownWindow,
    plain,
    run_demo,
)


def stats_table(stats: DemoStats, title: str) -> Table:
    """Key figures of a demo run (plain data in, rich table out)."""
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column("what")
    table.add_column("value", justify="right")
    rows = [
        ("markets discovered (Gamma)", f"{stats.markets_discovered}"),
        ("neg-risk events / Up-Down windows", f"{stats.neg_risk_events} / {stats.updown_windows}"),
        ("tokens streamed / books in sync", f"{stats.tokens_streamed} / {stats.books_synced}"),
        ("market frames received", f"{stats.frames:,}"),
        ("events decoded", f"{sum(stats.events.values()):,}"),
        ("resyncs / reconnects / decode errors",
         f"{stats.resyncs} / {stats.reconnects} / {stats.decode_errors}"),
        ("markets listed / resolved", f"{stats.listed} / {stats.resolved}"),
        ("Up/Down resolved / checked by our feed / agreed",
         f"{stats.updown_resolved} / {stats.updown_checked} / {stats.updown_agreed}"),
        ("neg-risk asks summing < 1: times seen / made",
         f"{stats.arbitrage_seen} / {stats.arbitrage_injected}"),
        ("frames recorded to the tape", f"{stats.tape_frames:,}"),
    ]
    prices = sorted(stats.reference_prices.items())
    rows += [(f"{symbol} (reference)", price) for symbol, price in prices]
    for what, value in rows:
        table.add_row(what, value)
    return table


def windows_table(windows: list[UpDownWindow]) -> Table:
    """Recent crypto Up/Down windows: strike from our feed, last price, venue's winner."""
    table = Table(title="Crypto Up/Down windows", title_justify="left")
    table.add_column("window", no_wrap=True)
    for name in ("strike (our feed)", "last", "ours", "venue says"):
        table.add_column(name, justify="right")
    for window in sorted(windows, key=lambda w: (w.start_ns, w.slug))[-6:]:
        would = window.ours or ("joined late" if window.joined_late else "")
        state = window.venue_winner or ("running" if window.strike is not None else "upcoming")
        table.add_row(
            window.slug,
            "" if window.strike is None or window.joined_late else plain(window.strike),
            "" if window.last is None else plain(window.last),
            would,
            state,
        )
    return table


def _summary(result: DemoResult, console: Console) -> None:
    stats = result.stats
    console.print(stats_table(stats, f"Demo summary ({stats.elapsed_s:.0f} s)"))
    console.print(windows_table(result.windows))
    by_kind = ", ".join(f"{kind} {count:,}" for kind, count in stats.events.most_common())
    console.print(f"[bold]events by kind:[/] {by_kind}")
    if stats.trading is not None:
        console.print(status_table(stats.trading, "Paper trading (engine)"))
        console.print(positions_table(stats.trading))
    console.print("[bold]written:[/]")
    for name, path in result.paths.items():
        console.print(f"  {name:8} {path}")
    console.print(
        f"[dim]replay the tape: pengine sim --replay {result.paths['tape']}; "
        f"decode it: pengine decode {result.paths['tape']}[/]"
    )


@app.command()
def demo(
    duration: Annotated[float, typer.Option(help="Seconds to stream.", min=1)] = 70.0,
    seed: Annotated[int, typer.Option(help="Seed of the simulated world.")] = 0,
    out: Annotated[
        Path | None,
        typer.Option(help="Directory for the tape, catalog and summary "
                     "(default: demo-output/<date-time>)."),
    ] = None,
    rate: Annotated[
        float, typer.Option(help="Book updates per second the simulator makes.", min=1)
    ] = 200.0,
    window: Annotated[int, typer.Option(help="Up/Down window length in minutes.", min=1)] = 1,
) -> None:
    """Run everything offline against the local simulator: no network, no configuration.

    Starts a simulated Polymarket (Gamma, CLOB, market WebSocket) and Binance/RTDS price
    feeds on 127.0.0.1, discovers the markets through the normal Gamma client, streams every
    order book over WebSockets (following listings and resolutions), streams the reference
    prices, records every frame to a tape, and ends with a summary and the files it wrote.
    The simulated world has binary markets, a neg-risk event whose asks now and then sum
    below 1, and crypto Up/Down windows priced off the same underlying the feeds publish.
    """
    out_dir = out or Path("demo-output") / time.strftime("%Y%m%d-%H%M%S")
    options = DemoOptions(out_dir, duration, seed, rate, window)
    console = Console()
    progress = Progress(
        TextColumn("[bold]demo"),
        BarColumn(),
        TextColumn("{task.completed:.0f}/{task.total:.0f} s"),
        TimeRemainingColumn(),
        console=console,
    )
    task = progress.add_task("demo", total=duration)
    console.print(f"[bold]pengine demo[/]: simulated venues on 127.0.0.1, seed {seed}, "
                  f"{duration:g} s; writing to {out_dir}")
    with Live(console=console, refresh_per_second=4, transient=True) as live:

        def on_tick(stats: DemoStats, windows: list[UpDownWindow]) -> None:
            progress.update(task, completed=min(stats.elapsed_s, duration))
            parts: list[RenderableType] = [
                progress, stats_table(stats, "Live"), windows_table(windows)
            ]
            if stats.trading is not None:
                parts.append(status_table(stats.trading, "Paper trading (engine)"))
            live.update(Group(*parts))

        try:
            result = asyncio.run(run_demo(options, on_tick))
        except KeyboardInterrupt:
            raise typer.Exit(130) from None
    _summary(result, console)
