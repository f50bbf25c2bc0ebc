"""Wire structs of Polymarket discovery: Gamma markets, events, series, and CLOB ``/markets``.

They mirror the venue JSON and never leave ``venues/polymarket``; :mod:`.gamma_parse` turns
them into :class:`prediction_engine.core.markets.Market`. Gamma mixes strings and numbers for
the same concept, so every numeric field is a ``Decimal`` (msgspec decodes both ``"0.07"`` and
``0.07`` into it exactly). ``outcomes``, ``outcomePrices`` and ``clobTokenIds`` are
JSON-encoded strings inside the JSON and stay ``str`` here.
"""

from __future__ import annotations

from decimal import Decimal

import msgspec

__all__ = [
    "ClobMarket",
    "ClobMarketsPage",
    "ClobPriceHistory",
    "ClobPricePoint",
    "ClobToken",
    "GammaEvent",
    "GammaEventsKeyset",
    "GammaFeeSchedule",
    "GammaMarket",
    "GammaMarketsKeyset",
    "GammaSeries",
    "GammaTag",
]

Num = Decimal | None


class GammaTag(msgspec.Struct, frozen=True, rename="camel"):
    """A Gamma tag object.

    ``{"id": "2", "label": "Politics", "slug": "politics", "forceShow": false}``
    """

    id: str | None = None
    label: str | None = None
    slug: str | None = None


class GammaFeeSchedule(msgspec.Struct, frozen=True, rename="camel"):
    """A market's fee parameters (fee-enabled markets, 2026).

    ``{"exponent": 1, "rate": 0.03, "rebateRate": 0.25, "takerOnly": true}``
    """

    rate: Decimal
    exponent: int = 1
    taker_only: bool = True
    rebate_rate: Num = None


class GammaSeries(msgspec.Struct, frozen=True, rename="camel"):
    """A recurring series; ``/series`` items also list their ``events`` (without markets).

    ``{"id": "10684", "slug": "btc-up-or-down-5m", "title": "BTC Up or Down 5m",
    "seriesType": "single", "recurrence": "5m", "active": true, "closed": false}``
    """

    id: str | None = None
    slug: str | None = None
    ticker: str | None = None
    title: str | None = None
    series_type: str | None = None
    recurrence: str | None = None
    active: bool | None = None
    closed: bool | None = None
    events: list[GammaEvent] | None = None


class GammaEvent(msgspec.Struct, frozen=True, rename="camel"):
    """A Gamma event: ``/events`` item, or the parent in a market's ``events[]``.

    ``{"id": "260654", "slug": "btc-updown-5m-1773307200", "title": "Bitcoin Up or Down - ...",
    "startTime": "2026-03-12T09:20:00Z", "endDate": "2026-03-12T09:25:00Z", "active": true,
    "closed": false, "negRisk": false, "liquidity": 20328.3747, "volume": 9.999997,
    "series": [{"slug": "btc-up-or-down-5m", ...}], "seriesSlug": "btc-up-or-down-5m",
    "tags": [{"label": "Crypto", "slug": "crypto"}], "markets": [{...}]}``
    """

    id: str | None = None
    slug: str | None = None
    ticker: str | None = None
    title: str | None = None
    description: str | None = None
    start_date: str | None = None
    end_date: str | None = None
    start_time: str | None = None
    active: bool | None = None
    closed: bool | None = None
    archived: bool | None = None
    neg_risk: bool | None = None
    neg_risk_market_id: str | None = msgspec.field(default=None, name="negRiskMarketID")
    liquidity: Num = None
    volume: Num = None
    series_slug: str | None = None
    series: list[GammaSeries] | None = None
    tags: list[GammaTag | str] | None = None
    markets: list[GammaMarket] | None = None


class GammaMarket(msgspec.Struct, frozen=True, rename="camel"):
    """A Gamma ``/markets`` item (also nested in ``/events`` items).

    ``{"id": "1557558", "conditionId": "0x7844...", "slug": "btc-updown-5m-1773307200",
    "question": "Bitcoin Up or Down - ...", "outcomes": "[\\"Up\\", \\"Down\\"]",
    "outcomePrices": "[\\"0.505\\", \\"0.495\\"]", "clobTokenIds": "[\\"1042...\\", \\"7118...\\"]",
    "volume": "9.999997", "volumeNum": 9.999997, "liquidity": "20328.3747",
    "orderPriceMinTickSize": 0.01, "orderMinSize": 5, "negRisk": false, "feesEnabled": true,
    "feeSchedule": {"rate": 0.07, ...}, "endDate": "2026-03-12T09:25:00Z",
    "eventStartTime": "2026-03-12T09:20:00Z", "bestBid": 0.5, "bestAsk": 0.51,
    "umaResolutionStatus": "resolved", "events": [{...}]}``
    """

    id: str | None = None
    condition_id: str | None = None
    slug: str | None = None
    question: str | None = None
    description: str | None = None
    outcomes: str | None = None
    outcome_prices: str | None = None
    clob_token_ids: str | None = None
    volume: Num = None
    volume_num: Num = None
    liquidity: Num = None
    liquidity_num: Num = None
    active: bool | None = None
    closed: bool | None = None
    archived: bool | None = None
    accepting_orders: bool | None = None
    enable_order_book: bool | None = None
    neg_risk: bool | None = None
    neg_risk_market_id: str | None = msgspec.field(default=None, name="negRiskMarketID")
    fees_enabled: bool | None = None
    fee_schedule: GammaFeeSchedule | None = None
    order_price_min_tick_size: Num = None
    order_min_size: Num = None
    start_date: str | None = None
    end_date: str | None = None
    event_start_time: str | None = None
    game_start_time: str | None = None
    best_bid: Num = None
    best_ask: Num = None
    uma_resolution_status: str | None = None
    tags: list[GammaTag | str] | None = None
    events: list[GammaEvent] | None = None


class GammaMarketsKeyset(msgspec.Struct, frozen=True):
    """A ``/markets/keyset`` page; ``next_cursor`` is absent on the last page.

    ``{"markets": [{...}], "next_cursor": "eyJpZCI6..."}``
    """

    markets: list[msgspec.Raw] = []
    next_cursor: str | None = None


class GammaEventsKeyset(msgspec.Struct, frozen=True):
    """A ``/events/keyset`` page. ``{"events": [{...}], "next_cursor": "..."}``"""

    events: list[msgspec.Raw] = []
    next_cursor: str | None = None


class ClobToken(msgspec.Struct, frozen=True):
    """One outcome of a CLOB market; ``winner`` is set once resolved.

    ``{"token_id": "2174...", "outcome": "Yes", "price": 0.4865, "winner": false}``
    """

    token_id: str = ""
    outcome: str = ""
    price: Num = None
    winner: bool = False


class ClobMarket(msgspec.Struct, frozen=True):
    """A CLOB ``GET /markets/{condition_id}`` object (and ``/markets`` page item).

    ``{"condition_id": "0xdd22...", "question_id": "0xe3b1...", "market_slug": "will-...",
    "question": "Will ...?", "minimum_tick_size": 0.001, "minimum_order_size": 5,
    "neg_risk": true, "neg_risk_market_id": "0xe3b1...", "active": true, "closed": false,
    "accepting_orders": true, "end_date_iso": "2024-11-05T00:00:00Z", "game_start_time": null,
    "tokens": [{"token_id": "2174...", "outcome": "Yes", "price": 0.4865, "winner": false}],
    "tags": ["Politics", ...]}``
    """

    condition_id: str = ""
    question_id: str | None = None
    market_slug: str | None = None
    question: str | None = None
    description: str | None = None
    minimum_tick_size: Num = None
    minimum_order_size: Num = None
    neg_risk: bool | None = None
    neg_risk_market_id: str | None = None
    active: bool | None = None
    closed: bool | None = None
    archived: bool | None = None
    accepting_orders: bool | None = None
    enable_order_book: bool | None = None
    end_date_iso: str | None = None
    game_start_time: str | None = None
    tokens: list[ClobToken] | None = None
    tags: list[str] | None = None


class ClobMarketsPage(msgspec.Struct, frozen=True):
    """A CLOB ``GET /markets`` page; the last page has ``next_cursor == "LTE="``.

    ``{"limit": 100, "count": 100, "next_cursor": "MTAw", "data": [{...}]}``
    """

    data: list[msgspec.Raw] | None = None
    next_cursor: str | None = None
    limit: int | None = None
    count: int | None = None


class ClobPricePoint(msgspec.Struct, frozen=True):
    """One ``/prices-history`` point: unix seconds and a number. ``{"t": 1729000000, "p": 0.51}``"""

    t: int
    p: Decimal


class ClobPriceHistory(msgspec.Struct, frozen=True):
    """``GET /prices-history`` answer. ``{"history": [{"t": 1729000000, "p": 0.51}]}``"""

    history: list[ClobPricePoint] | None = None
