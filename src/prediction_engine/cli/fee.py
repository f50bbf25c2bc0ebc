"""``pengine fee``: the taker fee of one Polymarket fill, exact to the venue's 5 decimals.

Thin shell: parsing and rendering only; the fee is :func:`prediction_engine.core.fees.taker_fee`.
"""

from __future__ import annotations

import json
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Annotated

import typer

from prediction_engine.cli import app
from prediction_engine.cli.common import fail, load_settings
from prediction_engine.core.fees import taker_fee
from prediction_engine.core.markets import FeeSchedule, Market
from prediction_engine.core.numbers import ONE, FixedPointError, format_micro, parse_micro
from prediction_engine.venues.polymarket.catalog import (
    CatalogError,
    CatalogStore,
    catalog_path,
    load_catalog,
)

__all__ = ["fee", "fee_quote"]

CURRENCY = "pUSD"
Quote = dict[str, str | int | bool | None]


def _amount(text: str, option: str) -> int:
    try:
        return parse_micro(text.strip())
    except FixedPointError:
        raise typer.BadParameter(
            f"must be a plain decimal with at most 6 decimals, got {text!r}", param_hint=option
        ) from None


def _price(text: str) -> int:
    price = _amount(text, "--price")
    if not 0 < price < ONE:
        raise typer.BadParameter(f"must be between 0 and 1 (exclusive), got {text!r}",
                                 param_hint="--price")
    return price


def _shares(text: str) -> int:
    shares = _amount(text, "--shares")
    if shares <= 0:
        raise typer.BadParameter(f"must be positive, got {text!r}", param_hint="--shares")
    return shares


def _rate(text: str) -> Decimal:
    try:
        rate = Decimal(text.strip())
    except InvalidOperation:
        raise typer.BadParameter(f"not a number: {text!r}", param_hint="--rate") from None
    if not rate.is_finite() or not 0 <= rate < 1:
        # A rate of 1 or more is almost surely a percentage typed as such (7.2 for 0.072).
        raise typer.BadParameter(f"must be a fraction in [0, 1) such as 0.072, got {text!r}",
                                 param_hint="--rate")
    return rate


def _exact(value: int, places: int) -> str:
    """Format a non-negative integer in units of 10**-places as the shortest exact decimal."""
    whole, frac = divmod(value, 10**places)
    return f"{whole}.{frac:0{places}d}".rstrip("0").rstrip(".")


def _ratio(numerator: int, denominator: int, places: int) -> str:
    """Return numerator / denominator rounded (half-even) to ``places`` decimals, trimmed."""
    quotient = (Decimal(numerator) / Decimal(denominator)).quantize(
        Decimal(1).scaleb(-places), ROUND_HALF_EVEN
    )
    return format(quotient.normalize(), "f")


def fee_quote(price: int, shares: int, schedule: FeeSchedule | None) -> Quote:
    """Return the fee of a taker fill of ``shares`` at ``price`` (micro-units) as decimal strings.

    ``fee`` is exact (floored to 5 decimals, as the venue does); ``fee_per_share`` (8 decimals)
    and ``effective_pct`` (fee as a percentage of the notional, 4 decimals) are rounded.
    """
    fee_micro = taker_fee(shares, price, schedule)
    notional = price * shares  # units of 1e-12: exact
    return {
        "price": format_micro(price),
        "shares": format_micro(shares),
        "rate": None if schedule is None else format(schedule.rate, "f"),
        "exponent": None if schedule is None else schedule.exponent,
        "notional": _exact(notional, 12),
        "fee": format_micro(fee_micro),
        "fee_per_share": _ratio(fee_micro, shares, 8),
        "effective_pct": _ratio(fee_micro * 100 * ONE, notional, 4),
        "currency": CURRENCY,
    }


def _market(slug: str) -> Market:
    try:
        loaded = load_catalog(CatalogStore(catalog_path(load_settings())))
    except CatalogError as e:
        fail(str(e), 1)
    market = loaded.catalog.by_slug(slug)
    if market is None:
        where = "the bundled sample catalog" if loaded.is_sample else f"the catalog {loaded.path}"
        hits = loaded.catalog.search(slug.replace("-", " "), 3)
        maybe = f" (did you mean {', '.join(h.market.slug for h in hits)}?)" if hits else ""
        fail(f"no market {slug!r} in {where}{maybe}; find its slug with "
              "`pengine markets search WORDS`, or fetch live markets with "
              "`pengine markets refresh`")
    return market


def _render(quote: Quote) -> list[str]:
    rate = (f"{quote['rate']} (exponent {quote['exponent']})" if quote["rate"] is not None
            else "none")
    lines = [] if quote["market"] is None else [f"market:        {quote['market']}"]
    lines += [
        f"price:         {quote['price']}",
        f"shares:        {quote['shares']}",
        f"rate:          {rate}",
        f"notional:      {quote['notional']} {CURRENCY}",
        f"fee:           {quote['fee']} {CURRENCY}",
        f"fee per share: {quote['fee_per_share']} {CURRENCY}",
        f"effective fee: {quote['effective_pct']}% of notional",
    ]
    if quote["market"] is not None and quote["rate"] is None and quote["fees_enabled"]:
        lines.append(f"note: the catalog marks fees enabled on {quote['market']} but holds no "
                     "fee schedule, so the fee counts as 0; run `pengine markets refresh` "
                     "or pass --rate")
    elif quote["market"] is not None and quote["rate"] is None:
        lines.append(f"market {quote['market']} has no fee schedule: it charges no fee")
    return lines


@app.command()
def fee(
    *,
    price: Annotated[str, typer.Option("--price", help="Fill price per share, in (0, 1).")],
    shares: Annotated[str, typer.Option("--shares", help="Number of shares filled (> 0).")],
    rate: Annotated[
        str | None, typer.Option("--rate", help="Fee rate of the market, e.g. 0.072.")
    ] = None,
    exponent: Annotated[
        int | None, typer.Option("--exponent", min=0, help="Exponent of p x (1 - p) (default 1).")
    ] = None,
    market: Annotated[
        str | None,
        typer.Option("--market", metavar="SLUG", help="Use this catalog market's fee schedule."),
    ] = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print a JSON object (decimal strings).")
    ] = False,
) -> None:
    """Print the taker fee a fill of SHARES at price P would pay, in pUSD.

    fee = shares x rate x p x (1 - p), rounded down to 5 decimals.

    Takers pay it, on BUY and SELL alike; makers pay nothing.
    With --exponent e the formula uses (p x (1 - p)) ** e (every market so far has e = 1).
    Give the rate (--rate) or a market slug whose fee schedule to use (--market, looked up in
    the local catalog; a market without a schedule charges no fee).

    Example: pengine fee --price 0.5 --shares 100 --rate 0.072  ->  fee: 1.8 pUSD
    """
    p, n = _price(price), _shares(shares)
    if rate is not None and market is None:
        schedule = FeeSchedule(rate=_rate(rate), exponent=1 if exponent is None else exponent)
        quote: Quote = {"market": None, **fee_quote(p, n, schedule), "fees_enabled": None}
    elif market is not None and rate is None:
        if exponent is not None:
            raise typer.BadParameter("goes with --rate; --market uses the market's schedule",
                                     param_hint="--exponent")
        found = _market(market)
        quote = {"market": found.slug, **fee_quote(p, n, found.fee_schedule),
                 "fees_enabled": found.fees_enabled}
    else:
        raise typer.BadParameter("give exactly one of --rate or --market",
                                 param_hint="'--rate' / '--market'")
    if json_output:
        typer.echo(json.dumps(quote))
        return
    typer.echo("\n".join(_render(quote)))
