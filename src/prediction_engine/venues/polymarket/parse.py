"""Pure Polymarket codec: wire frames in, domain events out.

``parse_market_frame(frame, recv_ns)`` handles every market-channel message (the initial JSON
array of ``book`` snapshots and single objects after it), ``parse_user_frame`` the user
channel, ``parse_rest_book`` the CLOB ``/book`` body. Non-JSON text frames (``PONG``,
``NO NEW ASSETS``) give no events. Anything malformed raises :class:`DecodeError` (or its
subclass :class:`UnknownEventError`), which the session counts and drops.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Any, Final, TypeVar

import msgspec

from prediction_engine.core.events import (
    BookDelta,
    BookSnapshot,
    Event,
    MakerFill,
    MarketListed,
    MarketResolved,
    OrderUpdated,
    OrderUpdateKind,
    Side,
    TickSizeChanged,
    TopOfBook,
    Trade,
    UserTradeUpdated,
)
from prediction_engine.core.ids import (
    ConditionId,
    InvalidIdError,
    TokenId,
    Venue,
    parse_condition_id,
    parse_token_id,
)
from prediction_engine.core.numbers import ONE, FixedPointError, parse_micro
from prediction_engine.venues.errors import DecodeError, UnknownEventError
from prediction_engine.venues.polymarket import wire

__all__ = [
    "DecodeError",
    "PolymarketParser",
    "UnknownEventError",
    "is_json_frame",
    "parse_frame",
    "parse_market_frame",
    "parse_rest_book",
    "parse_rest_books",
    "parse_rest_trade",
    "parse_user_frame",
]

PM: Final = Venue.POLYMARKET
_SIDES: Final = {"BUY": Side.BUY, "SELL": Side.SELL}
_STATUS_WORDS: Final = ("LIVE", "MATCHED", "CANCELED", "INVALID", "DELAYED", "UNMATCHED")
_ORDER_KINDS: Final = {k.value: k for k in OrderUpdateKind}
_MARKET_DECODER: Final = msgspec.json.Decoder(list[wire.MARKET_MESSAGE] | wire.MARKET_MESSAGE)
_USER_DECODER: Final = msgspec.json.Decoder(list[wire.USER_MESSAGE] | wire.USER_MESSAGE)
_ANY_DECODER: Final = msgspec.json.Decoder(
    list[wire.MARKET_MESSAGE | wire.USER_MESSAGE] | wire.MARKET_MESSAGE | wire.USER_MESSAGE
)
_REST_BOOK_DECODER: Final = msgspec.json.Decoder(wire.PolymarketRestBook)
_REST_BOOKS_DECODER: Final = msgspec.json.Decoder(list[wire.PolymarketRestBook])
_REST_TRADE_DECODER: Final = msgspec.json.Decoder(wire.PolymarketRestTrade)
_KNOWN_TYPES: Final = frozenset(
    (
        "book",
        "price_change",
        "last_trade_price",
        "tick_size_change",
        "best_bid_ask",
        "new_market",
        "market_resolved",
        "order",
        "trade",
    )
)

Frame = bytes | str
_T = TypeVar("_T")


def is_json_frame(frame: Frame) -> bool:
    """True if the frame looks like JSON (object or array) rather than a text control word."""
    head = frame[:1]
    if head in (b"{", b"[", "{", "["):
        return True
    stripped = frame.lstrip()[:1]
    return stripped in (b"{", b"[", "{", "[")


# -- scalars ---------------------------------------------------------------------------------


def _ms(value: str | int) -> int:
    # Real captures carry ms as a decimal string and, in some 2025 frames, as a JSON number.
    if isinstance(value, str):
        if not value.isdigit() or not value.isascii():
            raise DecodeError(f"timestamp must be integer milliseconds, got {value[:30]!r}")
        value = int(value)
    elif value < 0:
        raise DecodeError(f"timestamp must be non-negative, got {value}")
    return value * 1_000_000


def _side(text: str) -> Side:
    try:
        return _SIDES[text]
    except KeyError:
        raise DecodeError(f"side must be BUY or SELL, got {text[:20]!r}") from None


def _micro_or_none(text: str | None) -> int | None:
    return parse_micro(text) if text else None


def _tokens(ids: list[str]) -> tuple[TokenId, ...]:
    return tuple(parse_token_id(t) for t in ids)


def _levels(
    levels: list[wire.PolymarketLevel] | None, best_high: bool
) -> tuple[tuple[int, int], ...]:
    pairs = [(parse_micro(lv.price), parse_micro(lv.size)) for lv in levels or ()]
    pairs = [p for p in pairs if p[1]]
    pairs.sort(reverse=best_high)
    return tuple(pairs)


class _Memo:
    """Validated ids and parsed prices seen before. Speeds up the hot path; never changes a
    result (a miss runs the same validation). Bounded: cleared when it grows too large."""

    __slots__ = ("markets", "prices", "tokens")
    LIMIT: Final = 100_000

    def __init__(self) -> None:
        self.markets: dict[str, ConditionId] = {}
        self.tokens: dict[str, TokenId] = {}
        self.prices: dict[str, int] = {}

    def market(self, text: str) -> ConditionId:
        hit = self.markets.get(text)
        if hit is None:
            hit = parse_condition_id(text)
            self._bound(self.markets)[text] = hit
        return hit

    def token(self, text: str) -> TokenId:
        hit = self.tokens.get(text)
        if hit is None:
            hit = parse_token_id(text)
            self._bound(self.tokens)[text] = hit
        return hit

    def micro(self, text: str) -> int:
        """Micro-units of a decimal string (prices and, as they repeat too, sizes)."""
        hit = self.prices.get(text)
        if hit is None:
            hit = parse_micro(text)
            self._bound(self.prices)[text] = hit
        return hit

    def _bound(self, table: dict[str, _T]) -> dict[str, _T]:
        if len(table) >= self.LIMIT:
            table.clear()
        return table


# -- market channel --------------------------------------------------------------------------


def _book(msg: wire.PolymarketBook | wire.PolymarketRestBook, recv_ns: int) -> BookSnapshot:
    return BookSnapshot(
        venue=PM,
        market=parse_condition_id(msg.market),
        token=parse_token_id(msg.asset_id),
        ts_event=_ms(msg.timestamp),
        ts_recv=recv_ns,
        bids=_levels(msg.bids, best_high=True),
        asks=_levels(msg.asks, best_high=False),
        tick_size=_micro_or_none(msg.tick_size),
        min_order_size=_micro_or_none(msg.min_order_size),
        last_trade_price=_micro_or_none(msg.last_trade_price),
        neg_risk=msg.neg_risk,
        hash=msg.hash,
    )


_BOTH: Final = (True, True)


def _checkpoints(entries: list[wire.PolymarketPriceChangeEntry]) -> Sequence[bool]:
    """Mark the last entry of each asset. Most frames are one level and its mirror."""
    if len(entries) == 2 and entries[0].asset_id != entries[1].asset_id:
        return _BOTH
    last = {e.asset_id: i for i, e in enumerate(entries)}
    return [last[e.asset_id] == i for i, e in enumerate(entries)]


def _price_change(msg: wire.PolymarketPriceChange, recv_ns: int, memo: _Memo) -> list[Event]:
    market = memo.market(msg.market)
    ts = _ms(msg.timestamp)
    if msg.price_changes is None:
        return _legacy_price_change(msg, market, ts, recv_ns)
    entries = msg.price_changes
    checkpoints = _checkpoints(entries)
    micro, token, sides = memo.micro, memo.token, _SIDES
    try:
        return [
            BookDelta(
                venue=PM,
                market=market,
                token=token(e.asset_id),
                ts_event=ts,
                ts_recv=recv_ns,
                side=sides[e.side],
                price=micro(e.price),
                size=micro(e.size),
                venue_best_bid=micro(e.best_bid) if e.best_bid else None,
                venue_best_ask=micro(e.best_ask) if e.best_ask else None,
                checkpoint=checkpoints[i],
                hash=e.hash,
            )
            for i, e in enumerate(entries)
        ]
    except KeyError as e:
        raise DecodeError(f"side must be BUY or SELL, got {str(e.args[0])[:20]!r}") from None


def _legacy_price_change(
    msg: wire.PolymarketPriceChange, market: ConditionId, ts: int, recv_ns: int
) -> list[Event]:
    if msg.asset_id is None:
        raise DecodeError("price_change has neither price_changes nor asset_id")
    token = parse_token_id(msg.asset_id)
    if msg.changes is not None:
        changes = [(c.side, c.price, c.size) for c in msg.changes]
    elif msg.price is not None and msg.size is not None and msg.side is not None:
        changes = [(msg.side, msg.price, msg.size)]
    else:
        raise DecodeError("legacy price_change has no changes")
    return [
        BookDelta(
            venue=PM,
            market=market,
            token=token,
            ts_event=ts,
            ts_recv=recv_ns,
            side=_side(side),
            price=parse_micro(price),
            size=parse_micro(size),
            checkpoint=i == len(changes) - 1,
            hash=msg.hash,
        )
        for i, (side, price, size) in enumerate(changes)
    ]


def _trade_id(msg: wire.PolymarketLastTradePrice) -> str:
    # The venue sends no trade id; derive a stable one from what identifies the print.
    key = f"{msg.asset_id}|{msg.side}|{msg.price}|{msg.size}|{msg.timestamp}"
    return hashlib.blake2b(key.encode(), digest_size=8).hexdigest()


def _last_trade(msg: wire.PolymarketLastTradePrice, recv_ns: int) -> Trade:
    fee = msg.fee_rate_bps
    if fee and not fee.isdigit():
        raise DecodeError(f"fee_rate_bps must be an integer, got {fee[:20]!r}")
    return Trade(
        venue=PM,
        market=parse_condition_id(msg.market),
        token=parse_token_id(msg.asset_id),
        ts_event=_ms(msg.timestamp),
        ts_recv=recv_ns,
        price=parse_micro(msg.price),
        size=parse_micro(msg.size),
        aggressor=_side(msg.side) if msg.side else None,
        trade_id=msg.transaction_hash or _trade_id(msg),
        fee_rate_bps=int(fee) if fee else None,
        transaction_hash=msg.transaction_hash,
    )


def _tick_change(msg: wire.PolymarketTickSizeChange, recv_ns: int) -> TickSizeChanged:
    return TickSizeChanged(
        venue=PM,
        market=parse_condition_id(msg.market),
        token=parse_token_id(msg.asset_id),
        ts_event=_ms(msg.timestamp),
        ts_recv=recv_ns,
        old_tick_size=parse_micro(msg.old_tick_size),
        new_tick_size=parse_micro(msg.new_tick_size),
    )


def _best_bid_ask(msg: wire.PolymarketBestBidAsk, recv_ns: int) -> TopOfBook:
    bid, ask = parse_micro(msg.best_bid), parse_micro(msg.best_ask)
    return TopOfBook(
        venue=PM,
        market=parse_condition_id(msg.market),
        token=parse_token_id(msg.asset_id),
        ts_event=_ms(msg.timestamp),
        ts_recv=recv_ns,
        best_bid=bid or None,
        best_ask=None if ask >= ONE else ask,
    )


def _new_market(msg: wire.PolymarketNewMarket, recv_ns: int) -> MarketListed:
    event = msg.event_message
    return MarketListed(
        venue=PM,
        ts_event=_ms(msg.timestamp),
        ts_recv=recv_ns,
        market=parse_condition_id(msg.market),
        market_id=msg.id,
        question=msg.question,
        slug=msg.slug,
        tokens=_tokens(msg.assets_ids),
        outcomes=tuple(msg.outcomes or ()),
        tick_size=_micro_or_none(msg.order_price_min_tick_size),
        tags=tuple(msg.tags or ()),
        event_slug=event.slug or None if event else None,
        description=msg.description,
    )


def _resolved(msg: wire.PolymarketMarketResolved, recv_ns: int) -> MarketResolved:
    return MarketResolved(
        venue=PM,
        ts_event=_ms(msg.timestamp),
        ts_recv=recv_ns,
        market=parse_condition_id(msg.market),
        market_id=msg.id,
        tokens=_tokens(msg.assets_ids),
        winning_token=parse_token_id(msg.winning_asset_id),
        winning_outcome=msg.winning_outcome,
    )


# -- user channel ----------------------------------------------------------------------------


def _split_status(status: str) -> tuple[str, str]:
    for word in _STATUS_WORDS:
        if status.startswith(word + "_"):
            return word, status[len(word) + 1 :]
    return status, ""


def _user_order(msg: wire.PolymarketUserOrder, recv_ns: int) -> OrderUpdated:
    kind = _ORDER_KINDS.get(msg.type)
    if kind is None:
        raise DecodeError(f"order type must be PLACEMENT, UPDATE or CANCELLATION, got {msg.type!r}")
    status, reason = _split_status(msg.status)
    return OrderUpdated(
        venue=PM,
        market=parse_condition_id(msg.market),
        token=parse_token_id(msg.asset_id),
        ts_event=_ms(msg.timestamp),
        ts_recv=recv_ns,
        kind=kind,
        order_id=msg.id,
        side=_side(msg.side),
        price=parse_micro(msg.price),
        original_size=parse_micro(msg.original_size),
        size_matched=parse_micro(msg.size_matched) if msg.size_matched else 0,
        status=status,
        reason=reason,
        order_type=msg.order_type,
        outcome=msg.outcome,
        expiration_s=int(msg.expiration) if msg.expiration.isdigit() else 0,
        associate_trades=tuple(msg.associate_trades or ()),
    )


def _maker_fill(m: wire.PolymarketMakerOrder) -> MakerFill:
    return MakerFill(
        order_id=m.order_id,
        token=parse_token_id(m.asset_id),
        price=parse_micro(m.price),
        matched_size=parse_micro(m.matched_amount),
        outcome=m.outcome,
        side=_side(m.side) if m.side else None,
        fee_rate_bps=int(m.fee_rate_bps) if m.fee_rate_bps else None,
    )


def _timestamp_any(value: str | int) -> int:
    # The user channel mixes ms strings with seconds strings (``"1762776436"``).
    ns = _ms(value)
    return ns * 1000 if ns < 10**18 else ns


def _user_trade(
    msg: wire.PolymarketUserTrade | wire.PolymarketRestTrade, recv_ns: int
) -> UserTradeUpdated:
    if isinstance(msg, wire.PolymarketRestTrade):
        ts_event = _timestamp_any(msg.last_update or msg.match_time)
    else:
        ts_event = _timestamp_any(msg.timestamp)
    return UserTradeUpdated(
        venue=PM,
        market=parse_condition_id(msg.market),
        token=parse_token_id(msg.asset_id),
        ts_event=ts_event,
        ts_recv=recv_ns,
        trade_id=msg.id,
        taker_order_id=msg.taker_order_id,
        status=msg.status,
        trader_side=msg.trader_side,
        side=_side(msg.side),
        price=parse_micro(msg.price),
        size=parse_micro(msg.size),
        outcome=msg.outcome,
        fee_rate_bps=int(msg.fee_rate_bps) if msg.fee_rate_bps else None,
        maker_fills=tuple(_maker_fill(m) for m in msg.maker_orders or ()),
        transaction_hash=msg.transaction_hash,
    )


_CONVERTERS: Final[dict[type, Callable[[object, int], Event | list[Event]]]] = {
    wire.PolymarketBook: _book,  # type: ignore[dict-item]
    wire.PolymarketLastTradePrice: _last_trade,  # type: ignore[dict-item]
    wire.PolymarketTickSizeChange: _tick_change,  # type: ignore[dict-item]
    wire.PolymarketBestBidAsk: _best_bid_ask,  # type: ignore[dict-item]
    wire.PolymarketNewMarket: _new_market,  # type: ignore[dict-item]
    wire.PolymarketMarketResolved: _resolved,  # type: ignore[dict-item]
    wire.PolymarketUserOrder: _user_order,  # type: ignore[dict-item]
    wire.PolymarketUserTrade: _user_trade,  # type: ignore[dict-item]
}


# -- entry points ----------------------------------------------------------------------------


def _classify(frame: Frame, error: msgspec.ValidationError) -> DecodeError:
    try:
        raw = msgspec.json.decode(frame)
    except (msgspec.DecodeError, UnicodeDecodeError):
        return DecodeError(f"invalid message: {error}", frame)
    items = raw if isinstance(raw, list) else [raw]
    for item in items:
        kind = item.get("event_type") if isinstance(item, dict) else None
        if isinstance(kind, str) and kind not in _KNOWN_TYPES:
            return UnknownEventError(kind, frame)
    return DecodeError(f"invalid message: {error}", frame)


def _decode(decoder: msgspec.json.Decoder[_T], frame: Frame) -> _T:
    try:
        return decoder.decode(frame)
    except msgspec.ValidationError as e:
        raise _classify(frame, e) from e
    except (msgspec.DecodeError, UnicodeDecodeError) as e:
        raise DecodeError(f"malformed JSON: {e}", frame) from e


def _convert(decoded: object, frame: Frame, recv_ns: int, memo: _Memo) -> list[Event]:
    try:
        if isinstance(decoded, wire.PolymarketPriceChange):  # the hot path: one message
            return _price_change(decoded, recv_ns, memo)
        out: list[Event] = []
        for msg in decoded if isinstance(decoded, list) else [decoded]:
            if isinstance(msg, wire.PolymarketPriceChange):
                out.extend(_price_change(msg, recv_ns, memo))
            else:
                result = _CONVERTERS[type(msg)](msg, recv_ns)
                out.extend(result) if isinstance(result, list) else out.append(result)
    except DecodeError as e:
        raise DecodeError(e.reason, frame) from e
    except (FixedPointError, InvalidIdError, ValueError) as e:
        raise DecodeError(str(e), frame) from e
    return out


class PolymarketParser:
    """The codec as an object: same results as the module functions, faster on a stream
    because ids and prices already validated are remembered. One per session."""

    __slots__ = ("_memo",)

    def __init__(self) -> None:
        self._memo = _Memo()

    def market_frame(self, frame: Frame, recv_ns: int) -> list[Event]:
        """Parse one market-channel frame into events (``[]`` for text control frames)."""
        return self._parse(_MARKET_DECODER, frame, recv_ns)

    def user_frame(self, frame: Frame, recv_ns: int) -> list[Event]:
        """Parse one user-channel frame into events (``[]`` for text control frames)."""
        return self._parse(_USER_DECODER, frame, recv_ns)

    def any_frame(self, frame: Frame, recv_ns: int) -> list[Event]:
        """Parse a frame of either channel (for tools that read mixed captures)."""
        return self._parse(_ANY_DECODER, frame, recv_ns)

    def _parse(self, decoder: msgspec.json.Decoder[Any], frame: Frame, recv_ns: int) -> list[Event]:
        if not is_json_frame(frame):
            return []
        return _convert(_decode(decoder, frame), frame, recv_ns, self._memo)


def parse_market_frame(frame: Frame, recv_ns: int) -> list[Event]:
    """Parse one market-channel frame into events (``[]`` for text control frames)."""
    return PolymarketParser().market_frame(frame, recv_ns)


def parse_user_frame(frame: Frame, recv_ns: int) -> list[Event]:
    """Parse one user-channel frame into events (``[]`` for text control frames)."""
    return PolymarketParser().user_frame(frame, recv_ns)


def parse_frame(frame: Frame, recv_ns: int) -> list[Event]:
    """Parse a frame of either channel (for tools that read mixed captures)."""
    return PolymarketParser().any_frame(frame, recv_ns)


def parse_rest_book(body: Frame, recv_ns: int) -> BookSnapshot:
    """Parse a CLOB ``GET /book`` response body."""
    msg = _decode(_REST_BOOK_DECODER, body)
    try:
        return _book(msg, recv_ns)
    except (FixedPointError, InvalidIdError, ValueError) as e:
        raise DecodeError(str(e), body) from e


def parse_rest_books(body: Frame, recv_ns: int) -> list[BookSnapshot]:
    """Parse a CLOB ``POST /books`` response body."""
    msgs = _decode(_REST_BOOKS_DECODER, body)
    try:
        return [_book(m, recv_ns) for m in msgs]
    except (FixedPointError, InvalidIdError, ValueError) as e:
        raise DecodeError(str(e), body) from e


def parse_rest_trade(body: Frame, recv_ns: int) -> UserTradeUpdated:
    """Parse one CLOB ``GET /data/trades`` item (our own trade, as the user channel reports it)."""
    msg = _decode(_REST_TRADE_DECODER, body)
    try:
        return _user_trade(msg, recv_ns)
    except (FixedPointError, InvalidIdError, ValueError) as e:
        raise DecodeError(str(e), body) from e
