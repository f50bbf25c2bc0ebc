"""Pure RTDS codec: crypto price messages in, :class:`ReferencePrice` events out.

``parse_rtds_frame(frame, recv_ns)`` turns a ``crypto_prices`` (Binance-sourced) or
``crypto_prices_chainlink`` message into events: an ``update`` gives one, the ``subscribe``
snapshot gives one per history point. ``ts_event`` is the price's own timestamp. Non-JSON
text frames (keepalive replies) give no events; anything malformed raises
:class:`DecodeError` (:class:`UnknownEventError` for an unknown message type).
``encode_subscribe`` builds the request the session sends on connect.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Final

import msgspec

from prediction_engine.core.events import Event, ReferencePrice
from prediction_engine.core.ids import Venue
from prediction_engine.venues.errors import DecodeError, UnknownEventError, decode_json
from prediction_engine.venues.polymarket import rtds_wire as wire

__all__ = ["PRICE_TOPICS", "encode_subscribe", "parse_rtds_frame"]

Frame = bytes | str

PRICE_TOPICS: Final = frozenset(("crypto_prices", "crypto_prices_chainlink"))
"""Topics whose messages carry reference prices."""

_SUBSCRIBE_TYPE: Final = {"crypto_prices": "update", "crypto_prices_chainlink": "*"}
_ENVELOPE: Final = msgspec.json.Decoder(wire.RtdsEnvelope)
_UPDATE: Final = msgspec.json.Decoder(wire.RtdsPriceUpdate)
_SNAPSHOT: Final = msgspec.json.Decoder(wire.RtdsPriceSnapshot)
_ENCODER: Final = msgspec.json.Encoder()
_SYMBOL: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9/._-]{0,31}")  # btcusdt, btc/usd
_NUMBER: Final = re.compile(r"[0-9]{1,30}(?:\.[0-9]{1,30})?")


def _is_json(frame: Frame) -> bool:
    head = frame.lstrip()[:1]
    return head in (b"{", b"[", "{", "[")


def _symbol(text: str) -> str:
    if not _SYMBOL.fullmatch(text):
        raise DecodeError(f"symbol must look like btcusdt or btc/usd, got {text[:40]!r}")
    return text.lower()


def _positive(value: Decimal) -> Decimal:
    if not value.is_finite() or value <= 0:
        raise DecodeError(f"price must be a positive number, got {value}")
    return value


def _price(update: wire.RtdsPriceUpdate) -> Decimal:
    """The exact ``full_accuracy_value`` when sent, else the JSON number's own text."""
    text = update.full_accuracy_value
    if not text:
        return _positive(update.value)
    if not _NUMBER.fullmatch(text):
        raise DecodeError(f"full_accuracy_value must be a plain decimal, got {text[:40]!r}")
    try:
        return _positive(Decimal(text))
    except InvalidOperation as e:  # unreachable after the pattern; kept as a guard
        raise DecodeError(f"full_accuracy_value is not a number: {text[:40]!r}") from e


def _reference(symbol: str, ts_ms: int, price: Decimal, recv_ns: int) -> ReferencePrice:
    return ReferencePrice(
        venue=Venue.POLYMARKET_RTDS,
        ts_event=ts_ms * 1_000_000,
        ts_recv=recv_ns,
        symbol=symbol,
        price=price,
    )


def _update(payload: bytes, frame: Frame, recv_ns: int) -> list[Event]:
    msg = decode_json(_UPDATE, payload, frame)
    return [_reference(_symbol(msg.symbol), msg.timestamp, _price(msg), recv_ns)]


def _snapshot(payload: bytes, frame: Frame, recv_ns: int) -> list[Event]:
    msg = decode_json(_SNAPSHOT, payload, frame)
    symbol = _symbol(msg.symbol)
    return [_reference(symbol, p.timestamp, _positive(p.value), recv_ns) for p in msg.data]


def parse_rtds_frame(frame: Frame, recv_ns: int) -> list[Event]:
    """Parse one RTDS frame into reference prices (``[]`` for non-JSON control text)."""
    if not _is_json(frame):
        return []
    env = decode_json(_ENVELOPE, frame, frame)
    if env.topic not in PRICE_TOPICS:
        raise DecodeError(f"unexpected topic {env.topic[:40]!r}", frame)
    convert = {"update": _update, "subscribe": _snapshot}.get(env.type)
    if convert is None:
        raise UnknownEventError(env.type[:40], frame)
    try:
        return convert(bytes(env.payload), frame, recv_ns)
    except DecodeError as e:
        if e.excerpt:
            raise
        raise DecodeError(e.reason, frame) from e


def _filters(topic: str, symbols: Sequence[str]) -> str | None:
    # Binance-sourced prices filter by a comma list; Chainlink by one JSON-encoded symbol.
    if topic == "crypto_prices":
        return ",".join(s.lower() for s in symbols) or None
    if len(symbols) == 1:
        return _ENCODER.encode({"symbol": symbols[0].lower()}).decode()
    return None


def encode_subscribe(topic: str = "crypto_prices", symbols: Sequence[str] = ()) -> bytes:
    """The subscribe request for one price topic, filtered server-side to ``symbols`` if any.

    Chainlink accepts a single symbol filter; with several, subscribe to all and filter here.
    """
    if topic not in PRICE_TOPICS:
        raise ValueError(f"topic must be one of {sorted(PRICE_TOPICS)}, got {topic!r}")
    filters = _filters(topic, symbols)
    subscription = wire.RtdsSubscription(topic, _SUBSCRIBE_TYPE[topic], filters)
    return _ENCODER.encode(wire.RtdsSubscribeRequest("subscribe", [subscription]))
