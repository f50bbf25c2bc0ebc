"""Helpers of the event store tests: stores' bytes, and the events the parsers make of a tape."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec

from prediction_engine.core.events import Event
from prediction_engine.core.markets import Market
from prediction_engine.store.schema import TABLE_OF, MarketRecord
from prediction_engine.tape import (
    BINANCE_TRADE,
    PENGINE_MARKET,
    POLYMARKET_MARKET,
    RTDS_CRYPTO,
    TapeReader,
)
from prediction_engine.venues.binance.parse import parse as parse_binance
from prediction_engine.venues.polymarket.parse import PolymarketParser
from prediction_engine.venues.polymarket.rtds_parse import parse_rtds_frame


def store_bytes(root: Path) -> dict[str, bytes]:
    """Every file of a store (manifest included) by relative path."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def parquet_bytes(root: Path) -> dict[str, bytes]:
    """Every Parquet part of a store by relative path."""
    return {k: v for k, v in store_bytes(root).items() if k.endswith(".parquet")}


def parsed(tape: Path) -> tuple[list[Event], list[Market]]:
    """What the production parsers make of a tape, in order: stored events, and markets."""
    parser = PolymarketParser()
    events: list[Event] = []
    markets: list[Market] = []
    for record in TapeReader(tape):
        items: list[Any]
        if record.ch == POLYMARKET_MARKET:
            items = parser.market_frame(record.raw, record.t)
        elif record.ch == BINANCE_TRADE:
            items = parse_binance(record.raw, record.t)
        elif record.ch == RTDS_CRYPTO:
            items = parse_rtds_frame(record.raw, record.t)
        elif record.ch == PENGINE_MARKET:
            markets.append(msgspec.json.decode(record.raw, type=Market))
            continue
        else:
            continue
        events.extend(e for e in items if type(e) in TABLE_OF and type(e) is not MarketRecord)
    return events, markets
