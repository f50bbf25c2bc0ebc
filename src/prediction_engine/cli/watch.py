"""``pengine watch``: a live top-of-book table that updates in place."""

from __future__ import annotations

import asyncio
from typing import Annotated

import aiohttp
import typer
from rich.console import Console
from rich.live import Live
from rich.table import Table

from prediction_engine.cli import app
from prediction_engine.config import Config, ConfigError, load_config
from prediction_engine.core.numbers import format_micro
from prediction_engine.engine.clock import LiveClock
from prediction_engine.venues.errors import DecodeError
from prediction_engine.venues.http import TransportError, VenueRejectedError
from prediction_engine.venues.polymarket.catalog import (
    Catalog,
    CatalogError,
    CatalogStore,
    catalog_path,
    open_catalog,
    refresh_catalog,
)
from prediction_engine.venues.polymarket.rest import GammaClient
from prediction_engine.venues.polymarket.session import SessionCounters
from prediction_engine.venues.polymarket.watch import (
    TopRow,
    WatchTargetError,
    resolve_markets,
    watch_books,
)
from prediction_engine.venues.websocket import FeedFailedError


def _price(value: int | None) -> str:
    return "-" if value is None else format_micro(value)


def render(rows: list[TopRow], counters: SessionCounters) -> Table:
    """The table shown by ``pengine watch`` (plain data in, rich table out)."""
    table = Table(
        title="Polymarket top of book",
        caption=(
            f"frames {counters.frames}  events {counters.events}  resyncs {counters.resyncs}  "
            f"decode errors {counters.decode_errors}  (Ctrl-C to stop)"
        ),
    )
    for name, justify in (
        ("market", "left"),
        ("outcome", "left"),
        ("bid size", "right"),
        ("bid", "right"),
        ("ask", "right"),
        ("ask size", "right"),
        ("spread", "right"),
        ("last", "right"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for row in rows:
        spread = None if row.bid is None or row.ask is None else row.ask - row.bid
        table.add_row(
            row.slug[:48],
            row.outcome,
            format_micro(row.bid_size) if row.bid else "",
            _price(row.bid),
            _price(row.ask),
            format_micro(row.ask_size) if row.ask else "",
            _price(spread),
            _price(row.last_trade),
            style=None if row.synced else "dim",
        )
    return table


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


async def _watch(config: Config, target: str, limit: int, duration: float | None,
                 console: Console) -> None:
    store, clock = CatalogStore(catalog_path(config)), LiveClock()
    async with aiohttp.ClientSession() as http, asyncio.TaskGroup() as group:
        gamma = GammaClient.from_config(http, config.polymarket)

        async def refresh() -> Catalog | None:
            try:
                return await refresh_catalog(gamma, clock.now_ns())
            except (TransportError, VenueRejectedError, DecodeError) as e:
                console.print(f"[yellow]catalog refresh failed, keeping the old one: {e}")
                return None

        loaded, refreshing = await open_catalog(store, clock.now_ns(), refresh, group)
        if refreshing is not None:
            why = "no catalog fetched yet (using the bundled sample)" if loaded.is_sample \
                else "catalog older than a day"
            console.print(f"[dim]{why}: refreshing it in the background")
        markets = await resolve_markets(target, loaded.catalog, gamma, limit)
        with Live(console=console, refresh_per_second=8, transient=False) as live:
            await watch_books(
                config.polymarket, markets, http=http, clock=clock, duration_s=duration,
                on_update=lambda rows, counters: live.update(render(rows, counters)),
            )
        if refreshing is not None and not refreshing.done():
            refreshing.cancel()


@app.command()
def watch(
    target: Annotated[
        str,
        typer.Argument(
            help="A market slug, token id, condition id, or search words (top matches)."
        ),
    ],
    limit: Annotated[int, typer.Option(help="Markets to watch when TARGET is a search.")] = 5,
    duration: Annotated[
        float | None, typer.Option(help="Stop after this many seconds (default: until Ctrl-C).")
    ] = None,
) -> None:
    """Stream live order books and show best bid/ask per outcome, updating in place.

    Markets are looked up in the local catalog (`pengine markets refresh`), then on Gamma by
    slug. Venue URLs come from the config file or PENGINE_POLYMARKET_* variables, so this works
    against the real venue or a local simulator. Example: ``pengine watch "bitcoin up or down"``
    """
    if limit < 1:
        raise _fail("--limit must be at least 1")
    try:
        config = load_config()
    except ConfigError as e:
        raise _fail(str(e)) from e
    try:
        asyncio.run(_watch(config, target, limit, duration, Console()))
    except KeyboardInterrupt:
        pass
    except Exception as e:  # map to a message: ours (exit 2) or the venue's (exit 1)
        error = _unwrap(e)
        if isinstance(error, WatchTargetError | CatalogError):
            raise _fail(str(error)) from e
        if isinstance(error, FeedFailedError | TransportError | VenueRejectedError):
            raise _fail(f"venue unreachable: {error}", 1) from e
        raise


def _unwrap(error: BaseException) -> BaseException:
    """The first real error inside task-group exception groups."""
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    return error
