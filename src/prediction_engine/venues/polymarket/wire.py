"""Polymarket WebSocket and CLOB REST wire structs, mirroring the venue JSON exactly.

Numbers arrive as decimal strings and are kept as strings here; ``parse`` converts them.
These types never leave ``venues.polymarket``.
"""

from __future__ import annotations

import msgspec

__all__ = [
    "MARKET_MESSAGE",
    "USER_MESSAGE",
    "PolymarketBestBidAsk",
    "PolymarketBook",
    "PolymarketEventMessage",
    "PolymarketLastTradePrice",
    "PolymarketLegacyChange",
    "PolymarketLevel",
    "PolymarketMakerOrder",
    "PolymarketMarketResolved",
    "PolymarketNewMarket",
    "PolymarketPriceChange",
    "PolymarketPriceChangeEntry",
    "PolymarketRestBook",
    "PolymarketRestTrade",
    "PolymarketTickSizeChange",
    "PolymarketUserOrder",
    "PolymarketUserTrade",
]


class PolymarketLevel(msgspec.Struct, frozen=True, gc=False):
    """``{"price": "0.51", "size": "219.21"}``"""

    price: str
    size: str


class _Message(msgspec.Struct, frozen=True, gc=False, tag_field="event_type"):
    pass


class PolymarketBook(_Message, frozen=True, gc=False, tag="book"):
    """Full book of one asset. Real captures list bids ascending and asks descending.

    ``{"market":"0x5f65…","asset_id":"5211…","timestamp":"1729084877448","hash":"40a4…",
    "bids":[{"price":"0.48","size":"30"}],"asks":[{"price":"0.52","size":"25"}],
    "tick_size":"0.01","event_type":"book","last_trade_price":"0.520"}``
    """

    market: str
    asset_id: str
    timestamp: str | int
    bids: list[PolymarketLevel] | None = None
    asks: list[PolymarketLevel] | None = None
    hash: str = ""
    tick_size: str | None = None
    last_trade_price: str | None = None
    min_order_size: str | None = None
    neg_risk: bool | None = None


class PolymarketRestBook(msgspec.Struct, frozen=True, gc=False):
    """CLOB ``GET /book`` (same fields as the WS ``book``, no ``event_type``)."""

    market: str
    asset_id: str
    timestamp: str | int
    bids: list[PolymarketLevel] | None = None
    asks: list[PolymarketLevel] | None = None
    hash: str = ""
    tick_size: str | None = None
    last_trade_price: str | None = None
    min_order_size: str | None = None
    neg_risk: bool | None = None


class PolymarketPriceChangeEntry(msgspec.Struct, frozen=True, gc=False):
    """``{"asset_id":"5211…","price":"0.6","size":"3300","side":"BUY","hash":"bf32…",
    "best_bid":"0.6","best_ask":"0.7"}`` — ``size`` is the new total at the level."""

    asset_id: str
    price: str
    size: str
    side: str
    hash: str = ""
    best_bid: str | None = None
    best_ask: str | None = None


class PolymarketLegacyChange(msgspec.Struct, frozen=True, gc=False):
    """Pre-2025-09-15 change entry: ``{"price":"0.514","side":"SELL","size":"21574.08"}``"""

    price: str
    side: str
    size: str


class PolymarketPriceChange(_Message, frozen=True, gc=False, tag="price_change"):
    """Level updates. 2025+ schema: ``{"market":"0x…","price_changes":[…],
    "timestamp":"1729084877448","event_type":"price_change"}``. Legacy schemas carry a
    top-level ``asset_id`` with ``changes`` or a flat ``price``/``side``/``size``/``hash``."""

    market: str
    timestamp: str | int
    price_changes: list[PolymarketPriceChangeEntry] | None = None
    asset_id: str | None = None
    changes: list[PolymarketLegacyChange] | None = None
    price: str | None = None
    size: str | None = None
    side: str | None = None
    hash: str = ""


class PolymarketLastTradePrice(_Message, frozen=True, gc=False, tag="last_trade_price"):
    """``{"asset_id":"2174…","event_type":"last_trade_price","fee_rate_bps":"0",
    "market":"0xdd22…","price":"0.491","side":"SELL","size":"85.36",
    "timestamp":"1724564136087"}`` (2026 adds ``transaction_hash``)."""

    asset_id: str
    market: str
    price: str
    size: str
    timestamp: str | int
    side: str | None = None
    fee_rate_bps: str | None = None
    transaction_hash: str | None = None


class PolymarketTickSizeChange(_Message, frozen=True, gc=False, tag="tick_size_change"):
    """``{"asset_id":"1154…","event_type":"tick_size_change","market":"0xbacd…",
    "new_tick_size":"0.001","old_tick_size":"0.01","timestamp":"1739068041853"}``"""

    asset_id: str
    market: str
    old_tick_size: str
    new_tick_size: str
    timestamp: str | int


class PolymarketBestBidAsk(_Message, frozen=True, gc=False, tag="best_bid_ask"):
    """``{"event_type":"best_bid_ask","market":"0x0005…","asset_id":"8535…",
    "best_bid":"0.73","best_ask":"0.77","spread":"0.04","timestamp":"1766789469958"}``"""

    market: str
    asset_id: str
    best_bid: str
    best_ask: str
    timestamp: str | int
    spread: str | None = None


class PolymarketEventMessage(msgspec.Struct, frozen=True, gc=False):
    """Parent event inside ``new_market``: ``{"id":"125819","ticker":"…","slug":"…",
    "title":"…","description":"…"}``"""

    id: str = ""
    ticker: str = ""
    slug: str = ""
    title: str = ""
    description: str = ""


class PolymarketNewMarket(_Message, frozen=True, gc=False, tag="new_market"):
    """``{"event_type":"new_market","id":"1031769","question":"Will NVIDIA…","market":"0x311d…",
    "slug":"nvda-above-240-on-january-30-2026","assets_ids":["7604…","3169…"],
    "outcomes":["Yes","No"],"timestamp":"1766790415550","order_price_min_tick_size":"0.01",…}``"""

    id: str
    market: str
    assets_ids: list[str]
    timestamp: str | int
    question: str = ""
    slug: str = ""
    description: str = ""
    outcomes: list[str] | None = None
    event_message: PolymarketEventMessage | None = None
    tags: list[str] | None = None
    order_price_min_tick_size: str | None = None


class PolymarketMarketResolved(_Message, frozen=True, gc=False, tag="market_resolved"):
    """``{"event_type":"market_resolved","id":"1031769","market":"0x311d…",
    "assets_ids":["7604…","3169…"],"winning_asset_id":"7604…","winning_outcome":"Yes",
    "timestamp":"1766790415550"}``"""

    id: str
    market: str
    assets_ids: list[str]
    winning_asset_id: str
    winning_outcome: str
    timestamp: str | int


class PolymarketUserOrder(_Message, frozen=True, gc=False, tag="order"):
    """User channel order update: ``{"event_type":"order","type":"PLACEMENT","id":"0x0f76…",
    "asset_id":"2174…","market":"0xdd22…","side":"BUY","price":"0.513","original_size":"5",
    "size_matched":"0","status":"LIVE","order_type":"GTC","timestamp":"1725842520990",…}``"""

    id: str
    asset_id: str
    market: str
    side: str
    price: str
    original_size: str
    timestamp: str | int
    type: str
    size_matched: str = ""
    status: str = ""
    outcome: str = ""
    order_type: str = ""
    expiration: str = ""
    associate_trades: list[str] | None = None


class PolymarketMakerOrder(msgspec.Struct, frozen=True, gc=False):
    """``{"order_id":"0x3ad0…","asset_id":"2174…","matched_amount":"5","price":"0.513",
    "outcome":"Yes","side":"BUY","fee_rate_bps":"0",…}``"""

    order_id: str
    asset_id: str
    matched_amount: str
    price: str
    outcome: str = ""
    side: str | None = None
    fee_rate_bps: str | None = None


class PolymarketUserTrade(_Message, frozen=True, gc=False, tag="trade"):
    """User channel trade: ``{"event_type":"trade","type":"TRADE","id":"f50e…",
    "status":"MATCHED","trader_side":"TAKER","side":"BUY","price":"0.52","size":"5",
    "maker_orders":[…],"timestamp":"1725958682125",…}``"""

    id: str
    asset_id: str
    market: str
    side: str
    price: str
    size: str
    status: str
    timestamp: str | int
    taker_order_id: str = ""
    trader_side: str = ""
    outcome: str = ""
    fee_rate_bps: str | None = None
    maker_orders: list[PolymarketMakerOrder] | None = None
    transaction_hash: str | None = None


class PolymarketRestTrade(msgspec.Struct, frozen=True, gc=False):
    """CLOB ``GET /data/trades`` item (L2): a user trade without ``event_type``, timed by
    ``match_time``/``last_update`` in seconds: ``{"id":"0c35…","taker_order_id":"0x4505…",
    "market":"0xdd22…","asset_id":"2174…","side":"BUY","size":"5","price":"0.489",
    "status":"CONFIRMED","match_time":"1726043102","last_update":"1726043282",
    "trader_side":"TAKER","maker_orders":[…],…}``"""

    id: str
    asset_id: str
    market: str
    side: str
    price: str
    size: str
    status: str
    match_time: str
    last_update: str = ""
    taker_order_id: str = ""
    trader_side: str = ""
    outcome: str = ""
    fee_rate_bps: str | None = None
    maker_orders: list[PolymarketMakerOrder] | None = None
    transaction_hash: str | None = None


MARKET_MESSAGE = (
    PolymarketBook
    | PolymarketPriceChange
    | PolymarketLastTradePrice
    | PolymarketTickSizeChange
    | PolymarketBestBidAsk
    | PolymarketNewMarket
    | PolymarketMarketResolved
)
USER_MESSAGE = PolymarketUserOrder | PolymarketUserTrade
