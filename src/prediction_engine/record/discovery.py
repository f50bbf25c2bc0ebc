"""Which markets a recording follows, and the reference symbols it may stream (pure).

``select_markets`` picks from a catalog: the top matches of a weighted search (plus the other
markets of a matched neg-risk event, whose outcomes only make sense together), or every open
market with an order book. ``changes`` compares what is recorded with a fresh catalog.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Final

from prediction_engine.core.markets import Market
from prediction_engine.venues.polymarket.catalog import Catalog

__all__ = [
    "RecordInputError",
    "binance_symbols",
    "changes",
    "has_open_book",
    "rtds_symbols",
    "select_markets",
]

_BINANCE: Final = re.compile(r"[a-z0-9]{1,30}")
_RTDS: Final = re.compile(r"[a-z0-9][a-z0-9/._-]{0,31}")  # btcusdt (Binance-sourced), btc/usd


class RecordInputError(ValueError):
    """What the user asked to record cannot be recorded (bad symbols, no matching market)."""


def has_open_book(market: Market) -> bool:
    """An open market whose order book can be streamed."""
    return not market.closed and bool(market.tokens) and market.enable_order_book


def select_markets(catalog: Catalog, query: str | None, limit: int) -> list[Market]:
    """The best ``limit`` open order-book matches of ``query`` and their neg-risk siblings,
    or every open order-book market when ``query`` is ``None``."""
    tradable = [m for m in catalog.markets if has_open_book(m)]
    if query is None:
        return tradable
    hits = {h.market.condition_id for h in catalog.search(query, limit, open_only=True)}
    chosen = [m for m in tradable if m.condition_id in hits]
    events = {m.event_slug for m in chosen if m.neg_risk and m.event_slug}
    siblings = [m for m in tradable if m.neg_risk and m.event_slug in events and m not in chosen]
    return chosen + siblings


def changes(
    recorded: Iterable[Market], wanted: Sequence[Market], catalog: Catalog
) -> tuple[list[Market], list[Market]]:
    """(markets to add, recorded markets the catalog no longer shows as open).

    A market that falls out of a search's top matches keeps being recorded: only a market
    that closed (or vanished from the open listing) is returned for removal.
    """
    known = {m.condition_id for m in recorded}
    added = [m for m in wanted if m.condition_id not in known]
    gone = []
    for market in recorded:
        now = catalog.by_condition(market.condition_id)
        if now is None or not has_open_book(now):
            gone.append(market)
    return added, gone


def _symbols(text: str, pattern: re.Pattern[str], example: str, option: str) -> tuple[str, ...]:
    symbols = tuple(dict.fromkeys(s.strip().lower() for s in text.split(",") if s.strip()))
    bad = [s for s in symbols if not pattern.fullmatch(s)]
    if not symbols or bad:
        shown = ", ".join(repr(s) for s in bad) or repr(text)
        raise RecordInputError(f"{option}: a comma-separated list like {example}, got {shown}")
    return symbols


def binance_symbols(text: str) -> tuple[str, ...]:
    """``"BTCUSDT, ethusdt"`` -> ``("btcusdt", "ethusdt")``; raises :class:`RecordInputError`."""
    return _symbols(text, _BINANCE, "btcusdt,ethusdt", "--reference")


def rtds_symbols(text: str) -> tuple[str, ...]:
    """RTDS symbols: ``btcusdt`` (Binance-sourced topic) or ``btc/usd`` (Chainlink topic)."""
    return _symbols(text, _RTDS, "btc/usd,ethusdt", "--rtds")
