"""Build Polymarket CLOB frames exactly as the venue serializes them (pure, no I/O).

Books are listed the way every real capture lists them: bids ascending, asks descending,
best level last. All numerics on the CLOB wire are decimal strings.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

from prediction_engine.sim.polymarket.book import Side
from prediction_engine.sim.polymarket.units import MICRO, decimals_of, encode, fmt, fmt_fixed

Json = dict[str, Any]
Levels = Mapping[int, int]

# Key order of py-clob-client's `OrderBookSummary`, which the hash is computed over.
_HASH_KEYS = (
    "market",
    "asset_id",
    "timestamp",
    "hash",
    "bids",
    "asks",
    "min_order_size",
    "tick_size",
    "neg_risk",
    "last_trade_price",
)


def levels(side: Levels, descending: bool) -> list[dict[str, str]]:
    """List levels as `[{"price","size"}]`, best last."""
    if not isinstance(side, Side):
        return _render(side, descending)
    # A book snapshot never changes: render it once and hand out copies of the list (the
    # level dicts inside are shared; frames are not changed once built).
    if side.rendered is None or side.rendered[0] != descending:
        side.rendered = descending, _render(side, descending)
    return list(side.rendered[1])


def _render(side: Levels, descending: bool) -> list[dict[str, str]]:
    return [{"price": fmt(p), "size": fmt(side[p])} for p in sorted(side, reverse=descending)]


def book_hash(summary: Json) -> str:
    """SHA-1 hex of the compact summary with `hash` blanked (py-clob-client recipe)."""
    canonical: Json = {key: summary[key] for key in _HASH_KEYS}
    canonical["hash"] = ""
    return _sha1(canonical)


def _sha1(canonical: Json) -> str:
    return hashlib.sha1(encode(canonical), usedforsecurity=False).hexdigest()


def book_summary(
    market: str,
    asset_id: str,
    ts_ms: int,
    bids: Levels,
    asks: Levels,
    *,
    min_order_size: int,
    tick: int,
    neg_risk: bool,
    last_trade: int | None,
) -> Json:
    """Build the REST `GET /book` object, hash included."""
    summary: Json = {
        "market": market,
        "asset_id": asset_id,
        "timestamp": str(ts_ms),
        "hash": "",
        "bids": levels(bids, descending=False),
        "asks": levels(asks, descending=True),
        "min_order_size": fmt(min_order_size),
        "tick_size": fmt(tick),
        "neg_risk": neg_risk,
        "last_trade_price": _last_trade(last_trade, tick),
    }
    # Built in `_HASH_KEYS` order with `hash` still blank: already the canonical form.
    summary["hash"] = _sha1(summary)
    return summary


def _last_trade(price: int | None, tick: int) -> str:
    # Real books print it with at least 3 decimals even on 0.01-tick markets ("0.920").
    return "" if price is None else fmt_fixed(price, max(3, decimals_of(tick)))


def ws_book(summary: Json) -> Json:
    """Turn a REST summary into the market-channel `book` event (2026 capture key set)."""
    keys = ("market", "asset_id", "timestamp", "hash", "bids", "asks", "tick_size")
    frame: Json = {key: summary[key] for key in keys}
    frame["event_type"] = "book"
    frame["last_trade_price"] = summary["last_trade_price"]
    return frame


def top(bids: Levels, asks: Levels) -> tuple[str, str]:
    """Best bid and ask strings, "0"/"1" when a side is empty."""
    best_bid, best_ask = _best(bids, asks)
    return fmt(best_bid), fmt(best_ask)


def _best(bids: Levels, asks: Levels) -> tuple[int, int]:
    return (max(bids) if bids else 0), (min(asks) if asks else MICRO)


def price_change_entry(
    asset_id: str, price: int, size: int, side: str, *, book_hash_hex: str, best: tuple[str, str]
) -> Json:
    """One `price_changes[]` entry: new absolute size at the level ("0" deletes)."""
    return {
        "asset_id": asset_id,
        "price": fmt(price),
        "size": fmt(size),
        "side": side,
        "hash": book_hash_hex,
        "best_bid": best[0],
        "best_ask": best[1],
    }


def price_change(market: str, entries: Iterable[Json], ts_ms: int) -> Json:
    """The 2025+ `price_change` event."""
    return {
        "market": market,
        "price_changes": list(entries),
        "timestamp": str(ts_ms),
        "event_type": "price_change",
    }


def last_trade_price(
    market: str,
    asset_id: str,
    trade: tuple[int, int, str],
    *,
    fee_rate_bps: int,
    tx: str,
    ts_ms: int,
) -> Json:
    """The `last_trade_price` event; `trade` is (price, size, taker side)."""
    price, size, side = trade
    return {
        "asset_id": asset_id,
        "event_type": "last_trade_price",
        "fee_rate_bps": str(fee_rate_bps),
        "market": market,
        "price": fmt(price),
        "side": side,
        "size": fmt(size),
        "timestamp": str(ts_ms),
        "transaction_hash": tx,
    }


def tick_size_change(market: str, asset_id: str, old: int, new: int, ts_ms: int) -> Json:
    """The `tick_size_change` event."""
    return {
        "asset_id": asset_id,
        "event_type": "tick_size_change",
        "market": market,
        "new_tick_size": fmt(new),
        "old_tick_size": fmt(old),
        "timestamp": str(ts_ms),
    }


def best_bid_ask(market: str, asset_id: str, bids: Levels, asks: Levels, ts_ms: int) -> Json:
    """The custom `best_bid_ask` event."""
    best_bid, best_ask = _best(bids, asks)
    return {
        "event_type": "best_bid_ask",
        "market": market,
        "asset_id": asset_id,
        "best_bid": fmt(best_bid),
        "best_ask": fmt(best_ask),
        "spread": fmt(best_ask - best_bid),
        "timestamp": str(ts_ms),
    }
