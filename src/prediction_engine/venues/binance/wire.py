"""Binance spot WebSocket wire structs, mirroring the venue JSON exactly.

Prices and quantities arrive as decimal strings and stay strings here; ``parse`` converts
them. Binance's one-letter keys get readable attribute names (``msgspec.field(name=…)``).
Unknown keys (``M``, the pre-2024 ``b``/``a`` order ids, ``st``) are ignored. These types
never leave ``venues.binance``.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

__all__ = [
    "BinanceAggTrade",
    "BinanceEnvelope",
    "BinanceErrorBody",
    "BinanceTrade",
]


Id = Annotated[int, msgspec.Meta(ge=0)]
EpochMs = Annotated[int, msgspec.Meta(ge=0, le=(2**63 - 1) // 1_000_000)]
"""Epoch milliseconds that still fit an int64 once converted to nanoseconds."""


class BinanceTrade(msgspec.Struct, frozen=True, gc=False):
    """One ``<symbol>@trade`` print. ``m`` is true when the buyer was the maker.

    ``{"e":"trade","E":1757522615939,"s":"BTCUSDT","t":5225367649,"p":"113747.89000000",
    "q":"0.00060000","T":1757522615939,"m":true,"M":true}``
    """

    event_type: str = msgspec.field(name="e")
    symbol: str = msgspec.field(name="s")
    trade_id: Id = msgspec.field(name="t")
    price: str = msgspec.field(name="p")
    quantity: str = msgspec.field(name="q")
    trade_time_ms: EpochMs = msgspec.field(name="T")
    buyer_is_maker: bool = msgspec.field(name="m")
    event_time_ms: int = msgspec.field(default=0, name="E")


class BinanceAggTrade(msgspec.Struct, frozen=True, gc=False):
    """One ``<symbol>@aggTrade`` print (trades of one taker order at one price).

    ``{"e":"aggTrade","E":1675759520848,"s":"ETHUSDT","a":226532,"p":"1632.46000000",
    "q":"0.34305000","f":228423,"l":228423,"T":1675759520847,"m":false,"M":true}``
    """

    event_type: str = msgspec.field(name="e")
    symbol: str = msgspec.field(name="s")
    aggregate_id: Id = msgspec.field(name="a")
    price: str = msgspec.field(name="p")
    quantity: str = msgspec.field(name="q")
    trade_time_ms: EpochMs = msgspec.field(name="T")
    buyer_is_maker: bool = msgspec.field(name="m")
    event_time_ms: int = msgspec.field(default=0, name="E")


class BinanceErrorBody(msgspec.Struct, frozen=True, gc=False):
    """The error of a rejected control request: ``{"code":2,"msg":"Invalid request"}``"""

    code: int = 0
    msg: str = ""


class BinanceEnvelope(msgspec.Struct, frozen=True, gc=False):
    """Any top-level frame, read shallowly to route it.

    Combined stream: ``{"stream":"btcusdt@trade","data":{"e":"trade",…}}``; control reply:
    ``{"result":null,"id":1}`` or ``{"error":{"code":2,"msg":"…"},"id":1}``; raw stream
    (``/ws/<name>``): the event itself, ``{"e":"trade",…}``. An absent ``data`` or
    ``result`` is an empty :class:`msgspec.Raw`; a present one holds its JSON text.
    """

    stream: str | None = None
    data: msgspec.Raw = msgspec.Raw()
    event_type: str | None = msgspec.field(default=None, name="e")
    result: msgspec.Raw = msgspec.Raw()
    error: BinanceErrorBody | None = None
