"""``pengine record``: record live order books (and reference prices) to tapes and Parquet."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.live import Live
from rich.table import Table

from prediction_engine.cli import app
from prediction_engine.cli.common import fail, load_settings
from prediction_engine.config import Config
from prediction_engine.record import RecordInputError, RecordOptions, RecordStatus, run_record
from prediction_engine.record.discovery import binance_symbols, rtds_symbols
from prediction_engine.tape import TapeError
from prediction_engine.venues.errors import DecodeError
from prediction_engine.venues.http import TransportError, VenueRejectedError
from prediction_engine.venues.websocket import FeedFailedError

_VENUE_ERRORS = (TransportError, VenueRejectedError, FeedFailedError, DecodeError)
_MB = 1024 * 1024


class _Rate:
    """Frames per second over the last second or so of status updates."""

    def __init__(self) -> None:
        self._marks: list[tuple[float, int]] = []

    def update(self, elapsed_s: float, frames: int) -> float:
        self._marks = [m for m in self._marks if elapsed_s - m[0] <= 2.0] + [(elapsed_s, frames)]
        (t0, f0), (t1, f1) = self._marks[0], self._marks[-1]
        return (f1 - f0) / (t1 - t0) if t1 > t0 else 0.0


def status_table(status: RecordStatus, title: str, rate: float | None = None) -> Table:
    """What the recorder is doing: markets, frames, tapes, Parquet, connection health."""
    r = status.recorder
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column("what")
    table.add_column("value", justify="right")
    frames = f"{r.frames:,}" + ("" if rate is None else f"  ({rate:,.0f}/s)")
    rows = [
        ("markets / tokens / books in sync",
         f"{status.markets} / {status.tokens} / {status.books_synced}"),
        ("frames recorded (book / reference / market info)",
         f"{frames}  [{status.book_frames:,} / {status.reference_frames:,} / "
         f"{r.market_frames:,}]"),
        ("tape segment", Path(r.tape).name if r.tape else "-"),
        ("segments / compressed MB", f"{r.segments} / {r.tape_bytes / _MB:,.1f}"),
        ("parquet parts in the store", f"{r.store_parts:,}"),
        ("parts / rows of this run's finished segments",
         f"{r.parquet_files:,} / {r.parquet_rows:,}"),
        ("listed / resolved / closed", f"{status.listed} / {status.resolved} / {status.closed}"),
        ("rediscoveries (failed)", f"{status.discoveries} ({status.discovery_failures})"),
        ("reconnects / decode errors", f"{status.reconnects} / {status.decode_errors}"),
        ("elapsed", f"{status.elapsed_s:,.0f} s"),
    ]
    if r.recovered:
        rows.append(("recovered at start", ", ".join(Path(p).name for p in r.recovered)))
    for what, value in rows:
        table.add_row(what, value)
    return table


async def _record(config: Config, options: RecordOptions, console: Console) -> RecordStatus:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    signals = (signal.SIGINT, signal.SIGTERM)

    def on_signal() -> None:  # stop cleanly; a second Ctrl-C interrupts the clean stop
        stop.set()
        for number in signals:
            loop.remove_signal_handler(number)

    for number in signals:
        loop.add_signal_handler(number, on_signal)
    rate = _Rate()
    try:
        with Live(console=console, refresh_per_second=4, transient=True) as live:

            def on_status(status: RecordStatus) -> None:
                speed = rate.update(status.elapsed_s, status.recorder.frames)
                live.update(status_table(status, "Recording (Ctrl-C to stop)", speed))

            def on_recover(tape: Path) -> None:
                console.print(f"converting {tape} (the last run did not finish it)")

            return await run_record(
                config, options, stop=stop, on_status=on_status, on_recover=on_recover
            )
    finally:
        for number in signals:
            loop.remove_signal_handler(number)


def _run(config: Config, options: RecordOptions, console: Console) -> RecordStatus:
    """Run the recording; bad input exits 2, an unreachable venue 1."""
    try:
        try:
            return asyncio.run(_record(config, options, console))
        except BaseExceptionGroup as group:  # the first real error inside the task group
            leaf: BaseException = group
            while isinstance(leaf, BaseExceptionGroup):
                leaf = leaf.exceptions[0]
            raise leaf from group
    except RecordInputError as e:
        fail(str(e))
    except _VENUE_ERRORS as e:
        fail(f"the venue cannot be reached: {e}\n(to record offline, start `pengine sim` and "
             "export the PENGINE_* variables it prints)", 1)
    except TapeError as e:
        fail(f"cannot recover a damaged tape: {e}\n(move it out of the tapes folder to skip it)",
             1)
    except KeyboardInterrupt:
        fail("interrupted while stopping; the next start converts what was left unfinished", 130)


@app.command()
def record(  # noqa: PLR0917 - a command line is a long parameter list
    markets: Annotated[str | None, typer.Option(
        metavar="QUERY", help="Search words choosing the markets (the catalog's weighted "
        "search, best --limit matches; a neg-risk market brings its whole event).")] = None,
    all_active: Annotated[bool, typer.Option(
        "--all-active", help="Record every active market with an order book, and every new "
        "listing as it is announced.")] = False,
    limit: Annotated[int, typer.Option(help="Most markets --markets picks per discovery.")] = 20,
    out: Annotated[Path, typer.Option(
        metavar="DIR", help="Recording directory: tapes/, store/, summary.json.")
    ] = Path("pengine-record"),
    refresh_s: Annotated[float, typer.Option(
        help="Seconds between rediscoveries (new listings in, closed markets out).")] = 300.0,
    rotate_mb: Annotated[float, typer.Option(
        help="Start a new tape segment after this many compressed MB (also at each UTC day "
        "change and at every start).")] = 256.0,
    parquet: Annotated[bool, typer.Option(
        "--parquet/--no-parquet", help="Also write the Parquet event store live (DIR/store).")
    ] = True,
    reference: Annotated[str | None, typer.Option(
        help="Also record Binance spot trades of these symbols, e.g. btcusdt,ethusdt.")] = None,
    rtds: Annotated[str | None, typer.Option(
        help="Also record Polymarket RTDS crypto prices: btc/usd (Chainlink, what Up/Down "
        "markets resolve on) or btcusdt (Binance-sourced), comma-separated. Each topic "
        "chosen is recorded whole, its other symbols too (the server does not filter).")] = None,
    duration: Annotated[float | None, typer.Option(
        help="Stop after this many seconds (default: until Ctrl-C or SIGTERM).")] = None,
) -> None:
    """Record live order books to compressed tapes and the Parquet event store.

    Every raw frame is kept with its receive time in DIR/tapes/<date>/tape-NNNNNN.jsonl.gz and
    parsed into DIR/store (one Parquet file per table, venue, date, market and hour; see
    docs/). Restarting with the same --out resumes: a tape the last run did not finish (a
    crash) is converted first, nothing is lost or counted twice. Reconnects are handled by the
    sessions. Point it at the simulator with the variables `pengine sim` prints.

    Examples: pengine record --markets "bitcoin up or down" --reference btcusdt --rtds btc/usd

    pengine record --all-active --out /data/polymarket --rotate-mb 512
    """
    if (markets is None) == (not all_active):
        fail("choose the markets: --markets QUERY or --all-active (one of them)")
    if markets is not None and not markets.strip():
        fail("--markets needs search words, e.g. --markets \"bitcoin up or down\"")
    for name, value in (("--limit", limit), ("--refresh-s", refresh_s),
                        ("--rotate-mb", rotate_mb), ("--duration", duration)):
        if value is not None and not value > 0:
            fail(f"{name} must be positive, got {value}")
    try:
        options = RecordOptions(
            out_dir=out, query=markets, limit=limit, refresh_s=refresh_s,
            duration_s=duration, rotate_bytes=max(1, int(rotate_mb * _MB)), parquet=parquet,
            binance=binance_symbols(reference) if reference is not None else (),
            rtds=rtds_symbols(rtds) if rtds is not None else (),
        )
    except RecordInputError as e:
        fail(str(e))
    settings = load_settings()
    console = Console()
    what = f"markets matching {markets!r}" if markets else "every active market"
    console.print(f"[bold]pengine record[/]: {what} into {out}")
    final = _run(settings, options, console)
    console.print(status_table(final, f"Recording summary ({final.elapsed_s:.0f} s)"))
    console.print(f"written: {out / 'tapes'}, {out / 'store' if parquet else '(no Parquet)'}, "
                  f"{out / 'summary.json'}")
