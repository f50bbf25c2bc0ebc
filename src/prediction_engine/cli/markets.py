"""``pengine markets``: refresh the Polymarket catalog, search it, show one market.

Thin shell: parsing and rendering only; the work is in :mod:`prediction_engine.venues.polymarket`.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Annotated

import aiohttp
import msgspec
import typer
from rich.console import Console, JustifyMethod
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from prediction_engine.cli import app
from prediction_engine.cli.common import fail, load_settings, nonnegative_decimal
from prediction_engine.config import Config
from prediction_engine.core.markets import Market
from prediction_engine.core.numbers import format_micro
from prediction_engine.engine.clock import LiveClock
from prediction_engine.venues.errors import DecodeError
from prediction_engine.venues.http import TransportError, VenueRejectedError
from prediction_engine.venues.polymarket.catalog import (
    UPDOWN_ASSETS,
    UPDOWN_INTERVALS,
    Catalog,
    CatalogError,
    CatalogStore,
    LoadedCatalog,
    UpDownMatch,
    catalog_path,
    find_updown,
    load_catalog,
    refresh_catalog,
)
from prediction_engine.venues.polymarket.rest import GammaClient, MarketQuery

__all__ = ["markets_app"]

markets_app = typer.Typer(
    help="Discover Polymarket markets: refresh the local catalog, search it, show one market.",
    no_args_is_help=True,
)
app.add_typer(markets_app, name="markets")

_VENUE_ERRORS = (TransportError, VenueRejectedError, DecodeError)


def _decimal(text: str | None, option: str) -> Decimal | None:
    return None if text is None else nonnegative_decimal(text, option)


def _age(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{max(seconds, 0)}s"


def _when(ns: int | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return datetime.fromtimestamp(ns / 1e9, UTC).strftime(fmt) if ns is not None else "-"


def _describe(loaded: LoadedCatalog, now_ns: int) -> str:
    catalog = loaded.catalog
    fetched = f"fetched {_when(catalog.fetched_at_ns)} UTC, {_age(catalog.age(now_ns))} ago"
    if loaded.is_sample:
        return (f"catalog: bundled sample, {len(catalog)} markets ({fetched}); "
                "run `pengine markets refresh` for live markets")
    return f"catalog: {loaded.path}, {len(catalog)} markets ({fetched})"


def _load(config: Config, quiet: bool = False) -> Catalog:
    try:
        loaded = load_catalog(CatalogStore(catalog_path(config)))
    except CatalogError as e:
        fail(str(e), 1)
    if not quiet:
        typer.echo(_describe(loaded, LiveClock().now_ns()), err=True)
    return loaded.catalog


async def _refresh(
    config: Config, query: MarketQuery, keyset: bool, on_page: Callable[[int, int], None]
) -> Catalog:
    async with aiohttp.ClientSession() as session:
        gamma = GammaClient.from_config(session, config.polymarket)
        now_ns = LiveClock().now_ns()
        return await refresh_catalog(gamma, now_ns, query, keyset=keyset, on_page=on_page)


def _progress() -> Progress:
    return Progress(
        SpinnerColumn(), TextColumn("{task.description}"), BarColumn(bar_width=None),
        TextColumn("{task.completed} pages"), TimeElapsedColumn(),
        console=Console(stderr=True), transient=True,
    )


@markets_app.command()
def refresh(
    *,
    keyset: Annotated[bool, typer.Option(help="Use keyset pagination (/markets/keyset).")] = False,
    min_volume: Annotated[str | None, typer.Option(help="Minimum volume, USD.")] = None,
    min_liquidity: Annotated[str | None, typer.Option(help="Minimum liquidity, USD.")] = None,
    tag_id: Annotated[int | None, typer.Option(help="Only markets with this Gamma tag id.")] = None,
    include_closed: Annotated[bool, typer.Option(help="Also list closed markets.")] = False,
    order_book_only: Annotated[bool, typer.Option(help="Only markets with an order book.")] = True,
) -> None:
    """Fetch markets from Gamma and save them as the local catalog."""
    query = MarketQuery(
        active=None if include_closed else True,
        closed=None if include_closed else False,
        min_volume=_decimal(min_volume, "--min-volume"),
        min_liquidity=_decimal(min_liquidity, "--min-liquidity"),
        tag_id=tag_id,
        enable_order_book=True if order_book_only else None,
    )
    config = load_settings()
    with _progress() as progress:
        task = progress.add_task("fetching markets", total=None)

        def on_page(pages: int, markets: int) -> None:
            progress.update(task, completed=pages, description=f"{markets} markets")

        try:
            catalog = asyncio.run(_refresh(config, query, keyset, on_page))
        except _VENUE_ERRORS as e:
            fail(f"refresh failed: {e}", 1)
    store = CatalogStore(catalog_path(config))
    store.save(catalog)
    typer.echo(f"saved {len(catalog)} markets to {store.path}")


def _price(value: Decimal | None) -> str:
    return "-" if value is None else str(value)


def _table(markets: Sequence[Market]) -> Table:
    table = Table(show_lines=False)
    columns: tuple[tuple[str, JustifyMethod], ...] = (
        ("slug", "left"), ("question", "left"), ("bid", "right"),
        ("ask", "right"), ("volume", "right"), ("ends", "left"),
    )
    for name, justify in columns:
        table.add_column(name, justify=justify, overflow="fold")
    for m in markets:
        table.add_row(m.slug, m.question, _price(m.best_bid), _price(m.best_ask),
                      f"{m.volume:,.0f}", _when(m.end_ns, "%Y-%m-%d"))
    return table


@markets_app.command()
def search(
    query: Annotated[str, typer.Argument(help="Words to look for (slug, question, tags, text).")],
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="Most results.")] = 20,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print JSON, one market per line.")
    ] = False,
    open_only: Annotated[bool, typer.Option("--open", help="Skip closed markets.")] = False,
) -> None:
    """Search the local catalog (or the bundled sample when none was fetched)."""
    if not query.strip():
        raise typer.BadParameter("give at least one word", param_hint="QUERY")
    hits = _load(load_settings()).search(query, limit, open_only=open_only)
    if json_output:
        for hit in hits:
            sys.stdout.write(msgspec.json.encode(hit.market).decode() + "\n")
        return
    if not hits:
        typer.echo(f"no market matches {query!r}")
        return
    Console(width=160).print(_table([h.market for h in hits]))


def _details(m: Market) -> Table:
    table = Table(show_header=False, box=None)
    fee = m.fee_schedule
    rows = [
        ("slug", m.slug), ("question", m.question), ("condition id", m.condition_id),
        ("market id", m.market_id), ("event", f"{m.event_slug or '-'}  {m.event_title or ''}"),
        ("series", m.series_slug or "-"), ("tags", ", ".join(m.tags) or "-"),
        ("status", ", ".join(n for n, v in (("active", m.active), ("closed", m.closed),
                  ("accepting orders", m.accepting_orders), ("order book", m.enable_order_book),
                  ("resolved", m.resolved)) if v) or "-"),
        ("winner", m.winning_outcome or "-"),
        ("tick", format_micro(m.tick_size) if m.tick_size is not None else "-"),
        ("min size", format_micro(m.min_order_size) if m.min_order_size is not None else "-"),
        ("neg risk", f"yes ({m.neg_risk_market_id})" if m.neg_risk else "no"),
        ("fees", f"rate {fee.rate}, exponent {fee.exponent}, rebate {fee.rebate_rate}"
                 if fee else ("enabled" if m.fees_enabled else "none")),
        ("best bid/ask", f"{_price(m.best_bid)} / {_price(m.best_ask)}"),
        ("volume", f"{m.volume:,}"), ("liquidity", f"{m.liquidity:,}"),
        ("starts", _when(m.event_start_ns)), ("ends", _when(m.end_ns)),
    ]
    for name, value in rows:
        table.add_row(name, value)
    for i, (outcome, token) in enumerate(zip(m.outcomes, m.tokens, strict=False)):
        price = m.outcome_prices[i] if i < len(m.outcome_prices) else "-"
        table.add_row(f"outcome {i}", f"{outcome} @ {price}  token {token}")
    return table


@markets_app.command()
def show(
    key: Annotated[str, typer.Argument(metavar="SLUG", help="Slug, token id or condition id.")],
    json_output: Annotated[bool, typer.Option("--json", help="Print the market as JSON.")] = False,
) -> None:
    """Show one market in full: outcomes, tokens, tick, fees, neg-risk, dates."""
    catalog = _load(load_settings(), quiet=json_output)
    market = catalog.by_slug(key) or catalog.by_token(key) or catalog.by_condition(key)
    if market is None:
        hint = catalog.search(key, 3)
        suggestion = f"; did you mean {', '.join(h.market.slug for h in hint)}?" if hint else ""
        fail(f"no market {key!r} in the catalog{suggestion}")
    if json_output:
        sys.stdout.write(msgspec.json.encode(market).decode() + "\n")
        return
    Console(width=160).print(_details(market))


async def _updown(config: Config, asset: str, interval: str) -> UpDownMatch | None:
    async with aiohttp.ClientSession() as session:
        gamma = GammaClient.from_config(session, config.polymarket)
        return await find_updown(gamma, asset, interval, LiveClock().now_ns())


@markets_app.command()
def updown(
    asset: Annotated[str, typer.Argument(help=f"One of {', '.join(UPDOWN_ASSETS)}.")],
    interval: Annotated[str, typer.Argument(help=f"One of {', '.join(UPDOWN_INTERVALS)}.")],
) -> None:
    """Find the live crypto Up/Down market of an asset and interval on Gamma."""
    asset, interval = asset.lower(), interval.lower()
    if asset not in UPDOWN_ASSETS:
        raise typer.BadParameter(f"must be one of {', '.join(UPDOWN_ASSETS)}", param_hint="ASSET")
    if interval not in UPDOWN_INTERVALS:
        raise typer.BadParameter(f"must be one of {', '.join(UPDOWN_INTERVALS)}",
                                 param_hint="INTERVAL")
    try:
        match = asyncio.run(_updown(load_settings(), asset, interval))
    except _VENUE_ERRORS as e:
        fail(f"lookup failed: {e}", 1)
    if match is None:
        fail(f"no {asset} {interval} Up/Down market found", 1)
    typer.echo(f"{match.market.slug}  window {_when(match.start_s * 10**9)}-"
               f"{_when(match.end_s * 10**9, '%H:%M')} UTC  (found by {match.found_by})")
    Console(width=160).print(_details(match.market))
