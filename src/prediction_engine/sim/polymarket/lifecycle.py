"""Listing and resolving markets at runtime, with their custom WS events (pure)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from prediction_engine.sim.polymarket import texts
from prediction_engine.sim.polymarket.model import Event, Frame, Market
from prediction_engine.sim.polymarket.units import fmt
from prediction_engine.sim.polymarket.wire import Json

if TYPE_CHECKING:
    from prediction_engine.sim.polymarket.world import World


def list_market(world: World, question: str, slug: str | None = None) -> tuple[Market, Frame]:
    """List a new binary market (own event, tick 0.01, fair 0.5) and its `new_market` frame."""
    row = texts.BinaryRow(
        slug or texts.slugify(question),
        question,
        f'This market will resolve to "Yes" if {question.rstrip("?")}. '
        'Otherwise, this market will resolve to "No".',
        ("other",),
        "0.5",
        days_to_end=30,
        traded=False,
    )
    world.builder.now_s = world.now_ms // 1000
    event, market = world.builder.binary(row)
    return market, announce(world, event, [market])[0]


def announce(world: World, event: Event, markets: list[Market]) -> list[Frame]:
    """Add an event's markets to the world, open their books, return their `new_market`s."""
    world.catalog.add(event, markets)
    frames = []
    for market in markets:
        world.open_book(market)
        payload = new_market(world, market)
        frames.append(Frame(market.token_ids, payload, custom_only=True, everyone=True))
    return frames


def resolve_market(world: World, condition_id: str, winner: int) -> Frame:
    """Close a market with outcome `winner` (0 or 1) winning; return `market_resolved`."""
    market = world.catalog.by_condition(condition_id)
    if market is None or market.closed or winner not in (0, 1):
        raise ValueError(f"cannot resolve {condition_id!r} with winner {winner!r}")
    market.closed = True
    market.winner = winner
    world.books[condition_id].clear()
    payload: Json = {
        "event_type": "market_resolved",
        "id": market.id,
        "market": condition_id,
        "assets_ids": list(market.token_ids),
        "winning_asset_id": market.token_ids[winner],
        "winning_outcome": market.outcomes[winner],
        "timestamp": str(world.now_ms),
        "tags": [tag.slug for tag in market.event.tags],
    }
    return Frame(market.token_ids, payload, custom_only=True)


def new_market(world: World, market: Market) -> Json:
    """The custom `new_market` event (docs fields plus the live extras)."""
    event = market.event
    return {
        "event_type": "new_market",
        "id": market.id,
        "question": market.question,
        "market": market.condition_id,
        "slug": market.slug,
        "description": market.description,
        "assets_ids": list(market.token_ids),
        "outcomes": list(market.outcomes),
        "event_message": {
            "id": event.id,
            "ticker": event.slug,
            "slug": event.slug,
            "title": event.title,
            "description": event.description,
        },
        "timestamp": str(world.now_ms),
        "tags": [tag.slug for tag in event.tags],
        "condition_id": market.condition_id,
        "active": True,
        "clob_token_ids": list(market.token_ids),
        "sports_market_type": "",
        "line": "",
        "game_start_time": "",
        "order_price_min_tick_size": fmt(world.tick(market)),
        "group_item_title": market.group_item_title or "",
    }
