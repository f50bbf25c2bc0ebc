"""Gamma query semantics: filters, ordering, offset and keyset pagination (pure).

Parameters arrive as `{name: [values...]}` so repeated keys (`slug=a&slug=b`) survive;
comma-joined lists are accepted too. Invalid input raises `QueryError` with the HTTP status
the venue answers (422 for an offset beyond 10000 or an `offset` on a keyset endpoint).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from prediction_engine.sim.polymarket import gamma
from prediction_engine.sim.polymarket.model import Event, Market
from prediction_engine.sim.polymarket.units import MICRO
from prediction_engine.sim.polymarket.wire import Json
from prediction_engine.sim.polymarket.world import World

Params = Mapping[str, Sequence[str]]

DEFAULT_LIMIT = 20
MAX_MARKETS_LIMIT = 100
MAX_EVENTS_LIMIT = 500
MAX_OFFSET = 10_000
MAX_CONDITION_IDS = 100


class QueryError(Exception):
    """A request the venue refuses; `status` is the HTTP status to answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def list_markets(world: World, params: Params) -> list[Json]:
    """`GET /markets`: filtered, ordered, offset-paginated market objects."""
    limit, offset = _page(params, MAX_MARKETS_LIMIT)
    rendered = _ordered(params, [gamma.market_json(world, m) for m in _markets(world, params)])
    return rendered[offset : offset + limit]


def keyset_markets(world: World, params: Params) -> Json:
    """`GET /markets/keyset`: `{"markets": [...], "next_cursor": ...}`, no cursor at the end."""
    if "offset" in params:
        raise QueryError(422, "offset is not supported on keyset endpoints; use cursor")
    limit = min(_int(params, "limit", DEFAULT_LIMIT), MAX_MARKETS_LIMIT)
    start = _cursor(params)
    rendered = _ordered(params, [gamma.market_json(world, m) for m in _markets(world, params)])
    out: Json = {"markets": rendered[start : start + limit]}
    if start + limit < len(rendered):
        out["next_cursor"] = base64.b64encode(f"keyset:{start + limit}".encode()).decode()
    return out


def list_events(world: World, params: Params) -> list[Json]:
    """`GET /events`: filtered, offset-paginated events with nested markets."""
    limit, offset = _page(params, MAX_EVENTS_LIMIT)
    events = [e for e in world.catalog.events if _event_matches(e, params)]
    rendered = _ordered(params, [gamma.event_json(world, e) for e in events])
    return rendered[offset : offset + limit]


def list_series(world: World, params: Params) -> list[Json]:
    """`GET /series`: series objects with their events nested."""
    limit, offset = _page(params, MAX_EVENTS_LIMIT)
    slugs = _strings(params, "slug")
    chosen = [s for s in world.catalog.series if not slugs or s.slug in slugs]
    return [
        gamma.series_json(world, s, events=[e for e in world.catalog.events if e.series == s])
        for s in chosen[offset : offset + limit]
    ]


def market_by_slug(world: World, slug: str) -> Json | None:
    """`GET /markets/slug/{slug}`."""
    found = next((m for m in world.catalog.markets if m.slug == slug), None)
    return None if found is None else gamma.market_json(world, found)


def event_by_slug(world: World, slug: str) -> Json | None:
    """`GET /events/slug/{slug}`."""
    found = next((e for e in world.catalog.events if e.slug == slug), None)
    return None if found is None else gamma.event_json(world, found)


def _markets(world: World, params: Params) -> list[Market]:
    checks = _market_checks(world, params)
    return [m for m in world.catalog.markets if all(check(m) for check in checks)]


def _market_checks(world: World, params: Params) -> list[Callable[[Market], bool]]:
    checks: list[Callable[[Market], bool]] = []
    closed, active = _bool(params, "closed"), _bool(params, "active")
    if closed is not None:
        checks.append(lambda m: m.closed == closed)
    if active is not None:
        checks.append(lambda m: active)  # every listed market is active, closed or not
    for name, values in _set_filters(params).items():
        checks.append(_membership(name, values))
    tag_id = _first(params, "tag_id")
    if tag_id is not None:
        checks.append(lambda m: any(tag.id == tag_id for tag in m.event.tags))
    liquidity = _decimal(params, "liquidity_num_min")
    if liquidity is not None:
        checks.append(lambda m: gamma.liquidity(world, m) >= liquidity * MICRO)
    volume = _decimal(params, "volume_num_min")
    if volume is not None:
        checks.append(lambda m: world.volume[m.condition_id] >= volume * MICRO)
    return checks


def _set_filters(params: Params) -> dict[str, set[str]]:
    names = ("slug", "id", "clob_token_ids", "condition_ids")
    found = {name: _strings(params, name) for name in names if name in params}
    if len(found.get("condition_ids", ())) > MAX_CONDITION_IDS:
        raise QueryError(422, f"condition_ids accepts at most {MAX_CONDITION_IDS} ids")
    return found


def _membership(name: str, values: set[str]) -> Callable[[Market], bool]:
    keys: dict[str, Callable[[Market], set[str]]] = {
        "slug": lambda m: {m.slug},
        "id": lambda m: {m.id},
        "clob_token_ids": lambda m: set(m.token_ids),
        "condition_ids": lambda m: {m.condition_id},
    }
    key = keys[name]
    return lambda m: bool(key(m) & values)


def _event_matches(event: Event, params: Params) -> bool:
    slugs, ids = _strings(params, "slug"), _strings(params, "id")
    closed, active = _bool(params, "closed"), _bool(params, "active")
    series_id, tag_id = _first(params, "series_id"), _first(params, "tag_id")
    return (
        (not slugs or event.slug in slugs)
        and (not ids or event.id in ids)
        and (closed is None or event.closed == closed)
        and (active is None or active)
        and (series_id is None or (event.series is not None and event.series.id == series_id))
        and (tag_id is None or any(tag.id == tag_id for tag in event.tags))
    )


def _ordered(params: Params, items: list[Json]) -> list[Json]:
    field = _first(params, "order")
    if not field:
        return items
    descending = not _bool(params, "ascending")
    present = [item for item in items if item.get(field) is not None]
    missing = [item for item in items if item.get(field) is None]
    present.sort(key=lambda item: _sort_key(item[field]), reverse=descending)
    return present + missing


def _sort_key(value: Any) -> tuple[int, Decimal, str]:
    try:
        return 0, Decimal(str(value)), ""
    except InvalidOperation:
        return 1, Decimal(0), str(value)


def _page(params: Params, cap: int) -> tuple[int, int]:
    limit = min(_int(params, "limit", DEFAULT_LIMIT), cap)
    offset = _int(params, "offset", 0)
    if offset > MAX_OFFSET:
        raise QueryError(422, f"offset must be <= {MAX_OFFSET}")
    return limit, offset


def _cursor(params: Params) -> int:
    cursor = _first(params, "cursor")
    if not cursor:
        return 0
    try:
        prefix, _, start = base64.b64decode(cursor, validate=True).decode().partition(":")
        if prefix == "keyset" and start.isdigit():
            return int(start)
    except (binascii.Error, UnicodeDecodeError):
        pass
    raise QueryError(422, f"invalid cursor {cursor!r}")


def _first(params: Params, name: str) -> str | None:
    values = params.get(name)
    return values[0] if values else None


def _strings(params: Params, name: str) -> set[str]:
    return {part for value in params.get(name, ()) for part in value.split(",") if part}


def _int(params: Params, name: str, default: int) -> int:
    text = _first(params, name)
    if text is None or text == "":
        return default
    if not text.isdigit():
        raise QueryError(422, f"{name} must be a non-negative integer, got {text!r}")
    return int(text)


def _bool(params: Params, name: str) -> bool | None:
    text = _first(params, name)
    if text is None:
        return None
    if text.lower() not in {"true", "false"}:
        raise QueryError(422, f"{name} must be true or false, got {text!r}")
    return text.lower() == "true"


def _decimal(params: Params, name: str) -> Decimal | None:
    text = _first(params, name)
    if text is None:
        return None
    try:
        return Decimal(text)
    except InvalidOperation as error:
        raise QueryError(422, f"{name} must be a number, got {text!r}") from error
