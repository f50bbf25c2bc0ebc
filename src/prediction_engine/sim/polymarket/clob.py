"""CLOB REST objects: market listings with cursor pages, price history (pure).

Cursors are base64 of the offset as the venue's are: first page `MA==` ("0"), then e.g.
`MTAw` ("100"), and `LTE=` ("-1") marks the last page.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping
from decimal import Decimal

from prediction_engine.sim.polymarket.model import Market
from prediction_engine.sim.polymarket.queries import QueryError
from prediction_engine.sim.polymarket.units import MICRO, iso, number
from prediction_engine.sim.polymarket.wire import Json
from prediction_engine.sim.polymarket.world import World

FIRST_CURSOR = "MA=="
END_CURSOR = "LTE="
INTERVALS = {"1h": (3600, 1), "6h": (21600, 1), "1d": (86400, 5), "1w": (604800, 30)}
MAX_HISTORY_POINTS = 20_000
_SWING = 80_000  # price-history excursions of up to +-0.08 around the market's start price
_KNOT_S = 3600


def market_json(world: World, market: Market) -> Json:
    """A CLOB `GET /markets/{condition_id}` object (numbers where the venue has numbers)."""
    fee = 1000 if market.fee else 0
    return {
        "enable_order_book": not market.closed,
        "active": True,
        "closed": market.closed,
        "archived": False,
        "accepting_orders": not market.closed,
        "accepting_order_timestamp": iso(market.created_s + 4),
        "minimum_order_size": number(market.min_order_size),
        "minimum_tick_size": number(world.tick(market)),
        "condition_id": market.condition_id,
        "question_id": market.question_id,
        "question": market.question,
        "description": market.description,
        "market_slug": market.slug,
        "end_date_iso": iso(market.end_s),
        "game_start_time": None,
        "seconds_delay": 0,
        "fpmm": "",
        "maker_base_fee": fee,
        "taker_base_fee": fee,
        "notifications_enabled": True,
        "neg_risk": market.neg_risk,
        "neg_risk_market_id": market.event.neg_risk_market_id or "",
        "neg_risk_request_id": market.neg_risk_request_id or "",
        "icon": "",
        "image": "",
        "rewards": {"rates": None, "min_size": 0, "max_spread": 0},
        "is_50_50_outcome": False,
        "tokens": _tokens(world, market),
        "tags": [tag.label for tag in market.event.tags],
    }


def markets_page(world: World, cursor: str | None, page_size: int) -> Json:
    """A `GET /markets` page: `{limit, count, next_cursor, data}`."""
    start = _decode_cursor(cursor or FIRST_CURSOR)
    markets = world.catalog.markets
    chunk = [] if start < 0 else markets[start : start + page_size]
    end = start < 0 or start + page_size >= len(markets)
    next_cursor = END_CURSOR if end else base64.b64encode(f"{start + page_size}".encode()).decode()
    return {
        "limit": page_size,
        "count": len(chunk),
        "next_cursor": next_cursor,
        "data": [market_json(world, market) for market in chunk],
    }


def price_history(world: World, params: Mapping[str, str]) -> Json:
    """`GET /prices-history`: `{"history": [{"t": seconds, "p": number}]}`."""
    token = params.get("market")
    if not token:
        raise QueryError(400, "market (token id) is required")
    found = world.catalog.by_token(token)
    if found is None:
        return {"history": []}
    market, outcome = found
    start, end, fidelity = _window(world, market, params)
    step = fidelity * 60
    first = -(-start // step) * step
    times = range(first, end + 1, step)
    if len(times) > MAX_HISTORY_POINTS:
        raise QueryError(400, "too many points; raise fidelity or narrow the range")
    seed = f"{world.seed}:{market.condition_id}"
    return {"history": [{"t": t, "p": _price(seed, market, outcome, t)} for t in times]}


def _tokens(world: World, market: Market) -> list[Json]:
    best_bid, best_ask = world.top(market, 0)
    if market.winner is not None:
        yes = MICRO if market.winner == 0 else 0
    elif best_bid is not None and best_ask is not None:
        yes = (best_bid + best_ask) // 2
    else:
        yes = world.fair[market.condition_id]
    prices = (yes, MICRO - yes)
    return [
        {
            "token_id": token,
            "outcome": outcome,
            "price": number(price),
            "winner": market.winner == index,
        }
        for index, (token, outcome, price) in enumerate(
            zip(market.token_ids, market.outcomes, prices, strict=True)
        )
    ]


def _decode_cursor(cursor: str) -> int:
    try:
        return int(base64.b64decode(cursor, validate=True).decode())
    except (binascii.Error, UnicodeDecodeError, ValueError) as error:
        raise QueryError(400, f"invalid next_cursor {cursor!r}") from error


def _window(world: World, market: Market, params: Mapping[str, str]) -> tuple[int, int, int]:
    now = world.now_ms // 1000
    interval = params.get("interval")
    try:
        fidelity = int(params["fidelity"]) if "fidelity" in params else None
        if interval is None and "startTs" in params:
            start = int(params["startTs"])
            end = min(int(params.get("endTs", now)), now)
            return start, end, fidelity or 1
    except ValueError as error:
        raise QueryError(400, "startTs, endTs and fidelity must be integers") from error
    if interval == "max" or interval is None:
        return market.created_s, now, fidelity or 60
    if interval not in INTERVALS:
        raise QueryError(400, f"interval must be one of 1h, 6h, 1d, 1w, max; got {interval!r}")
    span, default = INTERVALS[interval]
    return now - span, now, fidelity or default


def _price(seed: str, market: Market, outcome: int, t: int) -> Decimal:
    # Interpolated hash noise: a point depends only on (seed, market, t), never on the
    # requested window, so overlapping queries agree.
    knot, offset = divmod(t, _KNOT_S)
    left, right = _knot(seed, knot), _knot(seed, knot + 1)
    swing = left + (right - left) * offset // _KNOT_S
    tick = market.tick
    yes = min(max((market.fair + swing) // tick * tick, tick), MICRO - tick)
    return number(yes if outcome == 0 else MICRO - yes)


def _knot(seed: str, knot: int) -> int:
    digest = hashlib.blake2b(f"{seed}:{knot}".encode(), digest_size=8).digest()
    return int.from_bytes(digest) % (2 * _SWING + 1) - _SWING
