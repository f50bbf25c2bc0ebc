"""Gamma API objects as the venue serializes them (pure).

Quirks copied from real captures: `outcomes`, `outcomePrices`, `clobTokenIds` are
JSON-encoded strings; market `volume`/`liquidity` are strings while `volumeNum`,
`liquidityNum`, `bestBid`, `bestAsk`, `orderPriceMinTickSize` are numbers; event-level
`liquidity`/`volume` are numbers; dates are ISO strings except a game's `gameStartTime`
("2026-04-05 15:10:00+00"); tags live on events.

Everything is derived from the world's state and simulated clock, never from the wall clock
or the world's RNG: serving a request must not change what the WebSocket sends next.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from prediction_engine.sim.polymarket.model import Event, Market, Series, Tag
from prediction_engine.sim.polymarket.units import MICRO, fmt, iso, number
from prediction_engine.sim.polymarket.wire import Json
from prediction_engine.sim.polymarket.world import World

_IMAGE = "https://polymarket-upload.s3.us-east-2.amazonaws.com/{}.png"
_WINDOWS_S = {"24hr": 86_400, "1wk": 7 * 86_400, "1mo": 30 * 86_400, "1yr": 365 * 86_400}


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
    windows = [_volume_windows(world, m) for m in event.markets]
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
    }
    for window in _WINDOWS_S:
        out[f"volume{window}"] = number(sum(traded[window] for traded in windows))
    out |= {
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
    windows = {key: number(traded) for key, traded in _volume_windows(world, market).items()}
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
    for window, traded in windows.items():
        out[f"volume{window}"] = traded
    out["clobTokenIds"] = json.dumps(list(market.token_ids))
    for window, traded in windows.items():
        out[f"volume{window}Clob"] = traded
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
    if market.game_start_s is not None:
        out["gameStartTime"] = _game_time(market.game_start_s)
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
    """`spread`, `lastTradePrice`, `bestBid`, `bestAsk` of the YES book. As in the captures, an
    empty ask side quotes 1 and an empty bid side is left out (0 in the spread); a market never
    traded reports a last trade of 0."""
    last: int | None
    if market.winner is not None:
        bid, ask, last = _settled_quote(world.tick(market), market.winner)
    elif market.closed:
        return {}
    else:
        bid, ask = world.top(market, 0)
        last = world.last_trade[market.condition_id]
    offered = MICRO if ask is None else ask
    out: Json = {"spread": number(offered - (bid or 0)), "lastTradePrice": number(last or 0)}
    if bid is not None:
        out["bestBid"] = number(bid)
    out["bestAsk"] = number(offered)
    return out


def _settled_quote(tick: int, winner: int) -> tuple[int | None, int | None, int]:
    """(bid, ask, last trade) a resolved market keeps: its last quote, taken once the book had
    converged on the winner, as in both real closed captures (YES won: bid 0.999, ask 1, last
    0.999; YES lost: no bid, ask 0.001). The simulator resolves without that run-up and clears
    the book, so the quote is rebuilt from the winner and the tick."""
    if winner == 0:
        return MICRO - tick, None, MICRO - tick
    return None, tick, tick


def _volume_windows(world: World, market: Market) -> dict[str, int]:
    """Volume (micro-units) of each Gamma window (`24hr`, `1wk`, `1mo`, `1yr`) up to now.

    What traded in this world counts in every window (a world runs for minutes or hours);
    the listing's base volume is spread evenly from the market's creation to the world's start.
    """
    total = world.volume[market.condition_id]
    start_s = world.spec.clock_start_s
    before_s = start_s - market.created_s
    if before_s <= 0:
        return dict.fromkeys(_WINDOWS_S, total)
    base = market.base_volume
    out = {}
    for window, length_s in _WINDOWS_S.items():
        inside_s = min(before_s, max(0, start_s - (_now_s(world) - length_s)))
        out[window] = total - base + base * inside_s // before_s
    return out


def _game_time(ts_s: int) -> str:
    """A game's kick-off as Gamma writes `gameStartTime`: "2026-04-05 15:10:00+00"."""
    return datetime.fromtimestamp(ts_s, UTC).strftime("%Y-%m-%d %H:%M:%S+00")


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
    # What the event is about happens at its end unless it has a start of its own (an Up/Down
    # window, a game): the real neg-risk event's startTime is on its end date.
    out["startTime"] = iso(event.end_s if event.start_time_s is None else event.start_time_s)
    series_slug = event.series.slug if event.series is not None else event.series_slug
    if series_slug is not None:
        out["seriesSlug"] = series_slug
    out |= {
        "negRiskAugmented": False,
        "pendingDeployment": False,
        "deploying": False,
        "requiresTranslation": False,
    }
    return out


def _now_s(world: World) -> int:
    return world.now_ms // 1000
