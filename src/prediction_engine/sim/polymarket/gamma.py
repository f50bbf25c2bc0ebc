"""Gamma API objects as the venue serializes them (pure).

Quirks copied from real captures: `outcomes`, `outcomePrices`, `clobTokenIds` are
JSON-encoded strings; market `volume`/`liquidity` are strings while `volumeNum`,
`liquidityNum`, `bestBid`, `bestAsk`, `orderPriceMinTickSize` are numbers; event-level
`liquidity`/`volume` are numbers; dates are ISO strings; tags live on events.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from prediction_engine.sim.polymarket.model import Event, Market, Series, Tag
from prediction_engine.sim.polymarket.units import MICRO, fmt, iso, number
from prediction_engine.sim.polymarket.wire import Json
from prediction_engine.sim.polymarket.world import World

_IMAGE = "https://polymarket-upload.s3.us-east-2.amazonaws.com/{}.png"


def market_json(world: World, market: Market, *, nested: bool = False) -> Json:
    """A `/markets` item; `nested` drops `events[]` (as inside an event's `markets[]`)."""
    head = _market_head(world, market)
    head |= _market_numbers(world, market)
    head |= _market_flags(world, market)
    if not nested:
        head["events"] = [event_json(world, market.event, with_markets=False)]
    head |= _market_tail(world, market)
    return head


def event_json(world: World, event: Event, *, with_markets: bool = True) -> Json:
    """An `/events` item, with nested `markets[]` unless asked otherwise."""
    volume = sum(world.volume[m.condition_id] for m in event.markets)
    resting = sum(liquidity(world, m) for m in event.markets)
    out: Json = {
        "id": event.id,
        "ticker": event.slug,
        "slug": event.slug,
        "title": event.title,
        "description": event.description,
        "resolutionSource": event.resolution_source,
        "startDate": iso(event.created_s, 152914),
        "creationDate": iso(event.created_s, 152908),
        "endDate": iso(event.end_s),
        "image": _IMAGE.format(event.slug),
        "icon": _IMAGE.format(event.slug),
        "active": True,
        "closed": event.closed,
        "archived": False,
        "new": False,
        "featured": False,
        "restricted": True,
        "liquidity": number(resting),
        "volume": number(volume),
        "openInterest": 0,
        "createdAt": iso(event.created_s - 100, 37225),
        "updatedAt": iso(_now_s(world), 660179),
        "enableOrderBook": True,
        "liquidityClob": number(resting),
        "negRisk": event.neg_risk_market_id is not None,
    }
    if event.neg_risk_market_id is not None:
        out["negRiskMarketID"] = event.neg_risk_market_id
    out["commentCount"] = 0
    if with_markets:
        out["markets"] = [market_json(world, m, nested=True) for m in event.markets]
    if event.series is not None:
        out["series"] = [series_json(world, event.series)]
    out["tags"] = [_tag_json(tag) for tag in event.tags]
    out |= _event_tail(event)
    return out


def series_json(world: World, series: Series, *, events: list[Event] | None = None) -> Json:
    """A `/series` item; `events` nests lightweight event objects (as `/series` does)."""
    out: Json = {
        "id": series.id,
        "ticker": series.slug,
        "slug": series.slug,
        "title": series.title,
        "seriesType": "single",
        "recurrence": series.recurrence,
        "image": "",
        "icon": "",
        "active": True,
        "closed": False,
        "archived": False,
        "featured": False,
        "restricted": True,
        "createdAt": "2025-11-21T21:46:22.201627Z",
        "updatedAt": iso(_now_s(world), 415743),
        "volume24hr": Decimal("42805542.367599964"),
        "volume": Decimal("64234.19264499972"),
        "liquidity": Decimal("6011579.0442"),
        "commentCount": 27205,
        "requiresTranslation": False,
    }
    if events is not None:
        out["events"] = [event_json(world, e, with_markets=False) for e in events]
    return out


def _market_head(world: World, market: Market) -> Json:
    out: Json = {
        "id": market.id,
        "question": market.question,
        "conditionId": market.condition_id,
        "slug": market.slug,
        "resolutionSource": market.event.resolution_source,
        "endDate": iso(market.end_s),
    }
    if not market.closed:
        out["liquidity"] = fmt(liquidity(world, market))
    out |= {
        "startDate": iso(market.created_s, 328428),
        "image": _IMAGE.format(market.slug),
        "icon": _IMAGE.format(market.slug),
        "description": market.description,
        "outcomes": json.dumps(list(market.outcomes)),
        "outcomePrices": json.dumps(_outcome_prices(world, market)),
        "volume": fmt(world.volume[market.condition_id]),
        "active": True,
        "closed": market.closed,
        "marketMakerAddress": "",
        "createdAt": iso(market.created_s - 70, 140253),
        "updatedAt": iso(_now_s(world), 97817),
        "new": False,
        "featured": False,
        "archived": False,
        "restricted": True,
    }
    if market.group_item_title is not None:
        out["groupItemTitle"] = market.group_item_title
    out["groupItemThreshold"] = "0"
    out["questionID"] = market.question_id
    return out


def _market_numbers(world: World, market: Market) -> Json:
    volume = number(world.volume[market.condition_id])
    resting = number(liquidity(world, market))
    out: Json = {
        "enableOrderBook": True,
        "orderPriceMinTickSize": number(world.tick(market)),
        "orderMinSize": number(market.min_order_size),
        "volumeNum": volume,
        "liquidityNum": resting,
        "endDateIso": iso(market.end_s)[:10],
        "startDateIso": iso(market.created_s)[:10],
        "hasReviewedDates": True,
    }
    for window in ("24hr", "1wk", "1mo", "1yr"):
        out[f"volume{window}"] = volume
    out["clobTokenIds"] = json.dumps(list(market.token_ids))
    for window in ("24hr", "1wk", "1mo", "1yr"):
        out[f"volume{window}Clob"] = volume
    out |= {"volumeClob": volume, "liquidityClob": resting}
    return out


def _market_flags(world: World, market: Market) -> Json:
    fee = 1000 if market.fee else 0
    out: Json = {
        "makerBaseFee": fee,
        "takerBaseFee": fee,
        "acceptingOrders": not market.closed,
        "negRisk": market.neg_risk,
    }
    if market.event.neg_risk_market_id is not None:
        out["negRiskMarketID"] = market.event.neg_risk_market_id
    if market.neg_risk_request_id is not None:
        out["negRiskRequestID"] = market.neg_risk_request_id
    return out


def _market_tail(world: World, market: Market) -> Json:
    out: Json = {
        "ready": False,
        "funded": False,
        "acceptingOrdersTimestamp": iso(market.created_s + 4),
        "cyom": False,
        "approved": True,
        "rewardsMinSize": 50,
        "rewardsMaxSpread": Decimal("4.5"),
    }
    out |= _quote(world, market)
    out |= {
        "automaticallyActive": True,
        "clearBookOnStart": False,
        "manualActivation": False,
        "negRiskOther": False,
        "umaResolutionStatuses": '["resolved"]' if market.closed else "[]",
    }
    if market.closed:
        out["umaResolutionStatus"] = "resolved"
    out |= {"pendingDeployment": False, "deploying": False, "rfqEnabled": False}
    if market.event_start_s is not None:
        out["eventStartTime"] = iso(market.event_start_s)
    out |= {
        "holdingRewardsEnabled": False,
        "feesEnabled": market.fee is not None,
        "requiresTranslation": False,
    }
    out |= _fees(market)
    return out


def _fees(market: Market) -> Json:
    if market.fee is None:
        return {"feeType": None}
    schedule = market.fee
    return {
        "makerRebatesFeeShareBps": 10000,
        "feeType": schedule.fee_type,
        "feeSchedule": {
            "exponent": schedule.exponent,
            "rate": Decimal(schedule.rate),
            "takerOnly": schedule.taker_only,
            "rebateRate": Decimal(schedule.rebate_rate),
        },
    }


def _quote(world: World, market: Market) -> Json:
    out: Json = {}
    if market.closed:
        return out
    best_bid, best_ask = world.top(market, 0)
    if best_bid is not None and best_ask is not None:
        out["spread"] = number(best_ask - best_bid)
    last = world.last_trade[market.condition_id]
    if last is not None:
        out["lastTradePrice"] = number(last)
    if best_bid is not None:
        out["bestBid"] = number(best_bid)
    if best_ask is not None:
        out["bestAsk"] = number(best_ask)
    return out


def _outcome_prices(world: World, market: Market) -> list[str]:
    if market.winner is not None:
        return ["1" if index == market.winner else "0" for index in (0, 1)]
    best_bid, best_ask = world.top(market, 0)
    if best_bid is None or best_ask is None:
        yes = world.fair[market.condition_id]
    else:
        yes = (best_bid + best_ask) // 2
    return [fmt(yes), fmt(MICRO - yes)]


def liquidity(world: World, market: Market) -> int:
    """Resting notional of the YES book in micro-units (what `liquidityNum` reports)."""
    book = world.books[market.condition_id]
    sides: list[dict[int, int]] = [book.bids, book.asks]
    return sum(price * size // MICRO for side in sides for price, size in side.items())


def _tag_json(tag: Tag) -> Json:
    return {
        "id": tag.id,
        "label": tag.label,
        "slug": tag.slug,
        "forceShow": False,
        "createdAt": "2023-11-02T21:24:31.198Z",
        "updatedAt": "2026-03-09T22:32:04.396035Z",
        "requiresTranslation": False,
    }


def _event_tail(event: Event) -> dict[str, Any]:
    out: Json = {
        "cyom": False,
        "showAllOutcomes": True,
        "showMarketImages": True,
        "enableNegRisk": event.neg_risk_market_id is not None,
        "automaticallyActive": True,
    }
    if event.start_time_s is not None:
        out["startTime"] = iso(event.start_time_s)
    if event.series is not None:
        out["seriesSlug"] = event.series.slug
    out |= {
        "negRiskAugmented": False,
        "pendingDeployment": False,
        "deploying": False,
        "requiresTranslation": False,
    }
    return out


def _now_s(world: World) -> int:
    return world.now_ms // 1000
