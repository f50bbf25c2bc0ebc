"""Pure Binance spot codec: WebSocket frames in, :class:`ReferencePrice` events out.

``parse(frame, recv_ns)`` reads combined-stream frames (``{"stream":…,"data":…}``) and raw
stream frames alike. ``trade`` and ``aggTrade`` prints become reference prices; control
replies (``{"result":null,"id":1}``), ``bookTicker`` and ``serverShutdown`` give no events.
Anything malformed raises :class:`BinanceDecodeError`, which the session counts and drops.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Final

import msgspec

from prediction_engine.core.events import Event, ReferencePrice, Side
from prediction_engine.core.ids import Venue
from prediction_engine.venues.binance import wire
from prediction_engine.venues.errors import DecodeError, decode_json

__all__ = ["BinanceDecodeError", "parse"]

Frame = bytes | str

_ENVELOPE: Final = msgspec.json.Decoder(wire.BinanceEnvelope)
_TRADE: Final = msgspec.json.Decoder(wire.BinanceTrade)
_AGG_TRADE: Final = msgspec.json.Decoder(wire.BinanceAggTrade)
_NUMBER: Final = re.compile(r"[0-9]{1,30}(?:\.[0-9]{1,30})?")
_SYMBOL: Final = re.compile(r"[A-Za-z0-9]{1,30}")


class BinanceDecodeError(DecodeError):
    """A Binance frame that does not match the protocol (drop it and count it)."""


# -- scalars ---------------------------------------------------------------------------------


def _positive(text: str, name: str) -> Decimal:
    # Decimal() alone would accept "1_000", " 1", "NaN" and "1e5"; the venue sends none.
    if not _NUMBER.fullmatch(text):
        raise BinanceDecodeError(f"{name} must be a plain decimal string, got {text[:40]!r}")
    value = Decimal(text)
    if value <= 0:
        raise BinanceDecodeError(f"{name} must be positive, got {text!r}")
    return value


def _symbol(text: str) -> str:
    if not _SYMBOL.fullmatch(text):
        raise BinanceDecodeError(f"symbol must be 1-30 letters or digits, got {text[:40]!r}")
    return text.lower()


def _aggressor(buyer_is_maker: bool) -> Side:
    # The maker rested; the taker crossed. A maker buyer means a selling taker.
    return Side.SELL if buyer_is_maker else Side.BUY


# -- events ----------------------------------------------------------------------------------


def _reference(
    msg: wire.BinanceTrade | wire.BinanceAggTrade, trade_id: str, recv_ns: int
) -> ReferencePrice:
    return ReferencePrice(
        venue=Venue.BINANCE,
        ts_event=msg.trade_time_ms * 1_000_000,
        ts_recv=recv_ns,
        symbol=_symbol(msg.symbol),
        price=_positive(msg.price, "price"),
        size=_positive(msg.quantity, "quantity"),
        aggressor=_aggressor(msg.buyer_is_maker),
        trade_id=trade_id,
    )


def _trade(data: Frame, frame: Frame, recv_ns: int) -> list[Event]:
    msg = decode_json(_TRADE, data, frame, BinanceDecodeError)
    if msg.event_type != "trade":
        raise BinanceDecodeError(f"trade stream carried event {msg.event_type[:30]!r}", frame)
    return [_reference(msg, str(msg.trade_id), recv_ns)]


def _agg_trade(data: Frame, frame: Frame, recv_ns: int) -> list[Event]:
    msg = decode_json(_AGG_TRADE, data, frame, BinanceDecodeError)
    if msg.event_type != "aggTrade":
        raise BinanceDecodeError(f"aggTrade stream carried event {msg.event_type[:30]!r}", frame)
    # Aggregate ids are their own sequence: the prefix keeps them apart from trade ids.
    return [_reference(msg, f"agg:{msg.aggregate_id}", recv_ns)]


def _nothing(data: Frame, frame: Frame, recv_ns: int) -> list[Event]:
    return []


_Converter = Callable[[Frame, Frame, int], list[Event]]
_BY_KIND: Final[dict[str, _Converter]] = {
    "trade": _trade,
    "aggTrade": _agg_trade,
    "bookTicker": _nothing,  # quotes, not prints: not a reference price
    "serverShutdown": _nothing,  # the socket closes soon after; the session reconnects
}


def _stream_kind(stream: str) -> str:
    """``btcusdt@trade`` -> ``trade``; ``!serverShutdown`` -> ``serverShutdown``."""
    _, at, kind = stream.partition("@")
    return kind if at else stream.lstrip("!")


def _convert(kind: str, data: Frame, frame: Frame, recv_ns: int) -> list[Event]:
    converter = _BY_KIND.get(kind)
    if converter is None:
        raise BinanceDecodeError(f"unexpected stream or event kind {kind[:40]!r}", frame)
    try:
        return converter(data, frame, recv_ns)
    except BinanceDecodeError as e:
        if e.excerpt:
            raise
        raise BinanceDecodeError(e.reason, frame) from e


def parse(frame: Frame, recv_ns: int) -> list[Event]:
    """Parse one Binance spot WebSocket frame into events (``[]`` for control replies)."""
    env = decode_json(_ENVELOPE, frame, frame, BinanceDecodeError)
    if env.stream is not None:
        data = bytes(env.data)
        if not data or data == b"null":
            raise BinanceDecodeError("stream frame without data", frame)
        return _convert(_stream_kind(env.stream), data, frame, recv_ns)
    if env.event_type is not None:
        return _convert(env.event_type, frame, frame, recv_ns)
    if env.error is not None:
        raise BinanceDecodeError(
            f"venue rejected a request: code {env.error.code}: {env.error.msg[:100]}", frame
        )
    if bytes(env.result):
        return []
    raise BinanceDecodeError("neither a stream event nor a control reply", frame)
