"""The dashboard's plain data: one :class:`DashboardSnapshot` per publish, JSON-encodable.

Money, prices and sizes are exact decimal strings (``"0.45"``, ``"10000.123456"``), times are
integer nanoseconds plus an ISO-8601 UTC string. The builders here read a runtime's engine
state and copy it into these structs; nothing downstream (the server, a browser, a file) ever
sees an engine object.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import msgspec

from prediction_engine.core.ids import TokenId
from prediction_engine.core.markets import Market
from prediction_engine.core.numbers import format_micro
from prediction_engine.core.orders import Order
from prediction_engine.core.portfolio import Valuation
from prediction_engine.engine.state import EngineState
from prediction_engine.engine.telemetry import FillRecord, SignalRecord
from prediction_engine.trading.status import PositionRow

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

__all__ = [
    "BookRow",
    "DashboardSnapshot",
    "FeedRow",
    "FillRow",
    "MarketRow",
    "OrderRow",
    "PnlPoint",
    "SignalRow",
    "book_rows",
    "counters_of",
    "decode_snapshot",
    "encode_snapshot",
    "fill_row",
    "iso_time",
    "market_rows",
    "order_rows",
    "pnl_point",
    "signal_row",
]

BOOK_DEPTH = 5


class MarketRow(msgspec.Struct, frozen=True):
    """A market the engine knows."""

    condition_id: str
    slug: str
    question: str
    closed: bool


class BookRow(msgspec.Struct, frozen=True):
    """The top levels of one token's book: ``[price, size]`` pairs, best first."""

    token: str
    slug: str
    outcome: str
    bids: list[tuple[str, str]]
    asks: list[tuple[str, str]]
    synced: bool


class OrderRow(msgspec.Struct, frozen=True):
    """One open order."""

    client_id: str
    strategy: str
    slug: str
    outcome: str
    side: str
    price: str
    size: str
    filled: str
    status: str


class FillRow(msgspec.Struct, frozen=True):
    """One of our executions."""

    ts_ns: int
    time: str
    strategy: str
    slug: str
    outcome: str
    side: str
    price: str
    size: str
    fee: str
    liquidity: str


class SignalRow(msgspec.Struct, frozen=True):
    """One strategy signal and what became of it."""

    ts_ns: int
    time: str
    strategy: str
    slug: str
    outcome: str
    side: str
    edge: float
    confidence: float
    fair_price: float
    action: str


class PnlPoint(msgspec.Struct, frozen=True):
    """Equity and its parts at one publish."""

    ts_ns: int
    time: str
    equity: str
    realized: str
    unrealized: str
    pnl: str


class FeedRow(msgspec.Struct, frozen=True):
    """One connection: a shard of the Polymarket session or a reference feed."""

    name: str
    connected: bool
    frames: int
    last_frame_age_s: float | None
    connects: int
    disconnects: int
    failed_attempts: int
    stale: int


class DashboardSnapshot(msgspec.Struct, frozen=True, kw_only=True):
    """Everything the dashboard shows at one instant."""

    sequence: int
    ts_ns: int
    time: str
    elapsed_s: float
    strategies: list[str]
    kill_switch: str
    cash: str
    equity: str
    realized: str
    unrealized: str
    fees: str
    pnl: str
    markets: list[MarketRow]
    books: list[BookRow]
    positions: list[PositionRow]
    open_orders: list[OrderRow]
    fills: list[FillRow]
    signals: list[SignalRow]
    pnl_history: list[PnlPoint]
    feeds: list[FeedRow]
    session: dict[str, int]
    engine: dict[str, int]


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(DashboardSnapshot)


def encode_snapshot(snapshot: DashboardSnapshot) -> bytes:
    """The snapshot as JSON bytes."""
    return _encoder.encode(snapshot)


def decode_snapshot(data: bytes) -> DashboardSnapshot:
    """A snapshot from :func:`encode_snapshot`'s bytes (raises ``msgspec.DecodeError``)."""
    return _decoder.decode(data)


def iso_time(ns: int) -> str:
    """``ns`` since the epoch as ISO-8601 UTC with milliseconds."""
    stamp = datetime.fromtimestamp(ns / 1_000_000_000, UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"


def _names(state: EngineState, token: str) -> tuple[str, str]:
    """The slug and outcome of ``token`` (the raw id and "" when unknown)."""
    market = state.market_of.get(TokenId(token))
    if market is None:
        return token[:16], ""
    if token in market.tokens:
        return market.slug, market.outcomes[market.tokens.index(TokenId(token))]
    return market.slug, ""


def _levels(levels: list[tuple[int, int]]) -> list[tuple[str, str]]:
    return [(format_micro(price), format_micro(size)) for price, size in levels]


def market_rows(markets: Iterable[Market]) -> list[MarketRow]:
    """Every known market, open ones first."""
    rows = [MarketRow(m.condition_id, m.slug, m.question, m.closed) for m in markets]
    return sorted(rows, key=lambda row: (row.closed, row.slug))


def book_rows(state: EngineState, limit: int) -> list[BookRow]:
    """Top ``BOOK_DEPTH`` levels of the books of open markets' tokens, at most ``limit``."""
    rows: list[BookRow] = []
    for market in state.markets.values():
        if market.closed:
            continue
        for token in market.tokens:
            if len(rows) >= limit:
                return rows
            book = state.books.book(token)
            slug, outcome = _names(state, token)
            bids = _levels(book.bids(BOOK_DEPTH)) if book is not None else []
            asks = _levels(book.asks(BOOK_DEPTH)) if book is not None else []
            rows.append(BookRow(token, slug, outcome, bids, asks, book is not None))
    return rows


def _order_row(state: EngineState, order: Order) -> OrderRow:
    slug, outcome = _names(state, order.token)
    return OrderRow(
        order.client_id, state.order_strategy.get(order.client_id, ""), slug, outcome,
        str(order.side), format_micro(order.price), format_micro(order.size),
        format_micro(order.filled), str(order.status),
    )


def order_rows(state: EngineState) -> list[OrderRow]:
    """Every open order."""
    return [_order_row(state, order) for order in state.open_orders.values()]


def fill_row(state: EngineState, record: FillRecord) -> FillRow:
    """A fill record as a display row."""
    slug, outcome = _names(state, record.token)
    return FillRow(
        record.ts_ns, iso_time(record.ts_ns), record.strategy, slug, outcome, str(record.side),
        format_micro(record.price), format_micro(record.size), format_micro(record.fee),
        record.liquidity,
    )


def signal_row(state: EngineState, record: SignalRecord) -> SignalRow:
    """A signal record as a display row."""
    slug, outcome = _names(state, record.token)
    return SignalRow(
        record.ts_ns, iso_time(record.ts_ns), record.strategy, slug, outcome, str(record.side),
        record.edge, record.confidence, record.fair_price, record.action,
    )


def pnl_point(valuation: Valuation, starting_cash: int, now_ns: int) -> PnlPoint:
    """Equity, realized and unrealized PnL of ``valuation`` at ``now_ns``."""
    return PnlPoint(
        now_ns, iso_time(now_ns), format_micro(valuation.equity),
        format_micro(valuation.realized), format_micro(valuation.unrealized),
        format_micro(valuation.equity - starting_cash),
    )


def counters_of(counters: DataclassInstance) -> dict[str, int]:
    """A counters dataclass as a plain dict."""
    return {key: int(value) for key, value in asdict(counters).items()}
