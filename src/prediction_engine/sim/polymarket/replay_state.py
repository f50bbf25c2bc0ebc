"""The pure half of tape replay: per-asset books rebuilt from the frames played so far, the
tape's index and market listing, and per-connection routing of recorded frames.

See `replay` (the aiohttp shell) for the behaviour; nothing here does I/O.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import msgspec

from prediction_engine.sim.polymarket.book import BUY, SELL, Book
from prediction_engine.sim.polymarket.model import Catalog, Event, Market
from prediction_engine.sim.polymarket.stream import Subscriber, _route
from prediction_engine.sim.polymarket.units import MICRO, fmt, parse
from prediction_engine.sim.polymarket.wire import Json, book_summary
from prediction_engine.sim.polymarket.world import Frame, World, WorldSpec
from prediction_engine.tape import POLYMARKET_MARKET, TapeError, TapeReader

__all__ = ["CUSTOM_EVENTS", "AssetBook", "ReplayBooks", "TapeIndex", "Terms"]

CUSTOM_EVENTS: Final = frozenset({"best_bid_ask", "new_market", "market_resolved"})
_TICKS: Final = (100_000, 10_000, 1_000, 100)  # 0.1 ... 0.0001 in micro-units, coarsest first
_DEFAULT_TICK: Final = 10_000
MAX_QUEUED: Final = 100_000
_DAY_S: Final = 86_400
_NO_ID: Final = "0x" + "00" * 32


def decode_frame(raw: str) -> Any:
    """The frame's JSON value; None when it is not JSON (then it is forwarded as recorded)."""
    try:
        return msgspec.json.decode(raw)
    except msgspec.DecodeError:
        return None


def _micro(value: object) -> int:
    if not isinstance(value, str):
        raise TypeError(f"not a decimal string: {value!r}")
    try:
        return parse(value)
    except ArithmeticError as e:  # decimal.InvalidOperation for "abc", overflow for "Infinity"
        raise ValueError(f"not a decimal string: {value!r}") from e


def _tick(value: object) -> int:
    tick = _micro(value)
    if not 0 < tick < MICRO:
        raise ValueError(f"tick size {value!r}")
    return tick


def _text(item: Mapping[str, Any], key: str) -> str:
    value = item[key]
    if not isinstance(value, str):
        raise TypeError(f"{key} is not a string")
    return value


def _coarsest_tick(prices: list[int]) -> int:
    return next((tick for tick in _TICKS if all(p % tick == 0 for p in prices)), _TICKS[-1])


# -- state (pure) --------------------------------------------------------------------------


@dataclass
class AssetBook:
    """One asset's book as the tape has shown it, in micro-units."""

    market: str
    tick: int = _DEFAULT_TICK
    tick_stated: bool = False
    bids: dict[int, int] = field(default_factory=dict)
    asks: dict[int, int] = field(default_factory=dict)
    last_trade: int | None = None

    def set_level(self, side: str, price: int, size: int) -> None:
        """Set a level's absolute size (0 deletes)."""
        levels = self.bids if side == BUY else self.asks
        if size == 0:
            levels.pop(price, None)
            return
        levels[price] = size
        if not self.tick_stated and price % self.tick:
            self.tick = _coarsest_tick([self.tick, price])


@dataclass(frozen=True)
class Terms:
    """What a book summary says about its market besides the levels."""

    min_order_size: int = 5 * MICRO
    neg_risk: bool = False


class ReplayBooks:
    """Every asset's book after the frames applied so far, and the replay time."""

    def __init__(self, terms: Mapping[str, Terms] | None = None) -> None:
        self.terms = dict(terms or {})
        self.books: dict[str, AssetBook] = {}
        self.now_ms = 0

    def reset(self) -> None:
        """Forget every book (a new replay pass)."""
        self.books.clear()
        self.now_ms = 0

    def apply(self, payload: Any, t_ns: int) -> bool:
        """Apply one decoded frame played at tape time `t_ns` (None, a frame that is not JSON,
        only moves the clock); return False if part of it was unreadable and left out."""
        self.now_ms = max(self.now_ms, t_ns // 1_000_000)
        if payload is None:
            return True
        ok = True
        for item in payload if isinstance(payload, list) else [payload]:
            try:
                self._apply(item)
            except (KeyError, TypeError, ValueError, ArithmeticError):
                ok = False
        return ok

    def summary(self, asset: str) -> Json | None:
        """The REST `/book` object of an asset, or None before its first `book` frame."""
        book = self.books.get(asset)
        if book is None:
            return None
        terms = self.terms.get(book.market, Terms())
        return book_summary(
            book.market,
            asset,
            self.now_ms,
            book.bids,
            book.asks,
            min_order_size=terms.min_order_size,
            tick=book.tick,
            neg_risk=terms.neg_risk,
            last_trade=book.last_trade,
        )

    def truth(self, asset: str) -> tuple[dict[str, str], dict[str, str]]:
        """(bids, asks) as price string -> size string; empty for an asset without a book."""
        book = self.books.get(asset)
        if book is None:
            return {}, {}
        return _strings(book.bids), _strings(book.asks)

    def _apply(self, item: Any) -> None:
        if not isinstance(item, dict):
            raise TypeError("not a JSON object")
        kind = item.get("event_type")
        if kind == "book":
            self._book(item)
        elif kind == "price_change":
            for asset, side, price, size in _changes(item):
                if (book := self.books.get(asset)) is not None:
                    book.set_level(side, price, size)
        elif kind == "tick_size_change":
            tick = _tick(item["new_tick_size"])
            if (book := self.books.get(_text(item, "asset_id"))) is not None:
                book.tick, book.tick_stated = tick, True
        elif kind == "last_trade_price":
            price = _micro(item["price"])
            if (book := self.books.get(_text(item, "asset_id"))) is not None:
                book.last_trade = price

    def _book(self, item: dict[str, Any]) -> None:
        asset = _text(item, "asset_id")
        bids = _levels(item.get("bids", item.get("buys", [])))
        asks = _levels(item.get("asks", item.get("sells", [])))
        old = self.books.get(asset)
        prices = [*bids, *asks]
        tick_text, last_text = item.get("tick_size"), item.get("last_trade_price")
        if tick_text:
            tick, stated = _tick(tick_text), True
        elif old is not None and old.tick_stated and all(p % old.tick == 0 for p in prices):
            tick, stated = old.tick, True
        else:
            tick, stated = (_coarsest_tick(prices) if prices else _DEFAULT_TICK), False
        last = _micro(last_text) if last_text else (old.last_trade if old else None)
        market = item.get("market")
        self.books[asset] = AssetBook(
            market if isinstance(market, str) else "", tick, stated, bids, asks, last
        )


def _levels(value: Any) -> dict[int, int]:
    if not isinstance(value, list):
        raise TypeError("levels are not a list")
    sizes = ((_micro(level["price"]), _micro(level["size"])) for level in value)
    return {price: size for price, size in sizes if size}


def _changes(item: dict[str, Any]) -> list[tuple[str, str, int, int]]:
    """(asset, side, price, size) of a `price_change`: 2025+ `price_changes[]`, or legacy
    `changes[]` (or one flat change) under a top-level `asset_id`. Raises before any is used."""
    entries = item.get("price_changes")
    if entries is None:
        asset = item["asset_id"]
        entries = [{**change, "asset_id": asset} for change in item.get("changes", [item])]
    return [
        (_text(e, "asset_id"), _side(e["side"]), _micro(e["price"]), _micro(e["size"]))
        for e in entries
    ]


def _side(value: object) -> str:
    side = str(value).upper()
    if side not in (BUY, SELL):
        raise ValueError(f"side {value!r}")
    return side


def _strings(levels: dict[int, int]) -> dict[str, str]:
    return {fmt(price): fmt(size) for price, size in sorted(levels.items())}


# -- the tape and its markets (pure) -------------------------------------------------------


def _assets(item: Mapping[str, Any]) -> list[str]:
    """The asset ids one frame object concerns."""
    entries, listed = item.get("price_changes"), item.get("assets_ids")
    if isinstance(entries, list):
        ids = [entry.get("asset_id") for entry in entries if isinstance(entry, dict)]
    elif item.get("event_type") == "price_change" or not isinstance(listed, list):
        ids = [item.get("asset_id")]  # a price_change is only filtered by `price_changes`
    else:
        ids = [item.get("asset_id"), *listed]  # new_market, market_resolved
    return [asset for asset in ids if isinstance(asset, str) and asset]


def _is_books(payload: Any) -> bool:
    items = payload if isinstance(payload, list) else [payload]
    return bool(items) and all(
        isinstance(item, dict) and item.get("event_type") == "book" for item in items
    )


@dataclass
class TapeIndex:
    """One pass over a tape: its market frames' count and receive-time span, each asset's
    condition id (in order of first appearance) and the leading `book` frames, decoded."""

    path: Path
    header: dict[str, Any] = field(default_factory=dict)
    frames: int = 0
    first_ns: int = 0
    last_ns: int = 0
    tokens: dict[str, str] = field(default_factory=dict)
    leading: list[tuple[int, Any]] = field(default_factory=list)

    @classmethod
    def read(cls, path: Path) -> TapeIndex:
        """Index a tape; raise `TapeError` if it cannot be read or has no market frames."""
        reader = TapeReader(path)
        index = cls(path)
        for record in reader:
            if record.ch == POLYMARKET_MARKET:
                index._note(record.t, decode_frame(record.raw))
        index.header = reader.header
        if not index.frames:
            raise TapeError(f"{path}: no Polymarket market frames ({POLYMARKET_MARKET!r})")
        return index

    def markets(self) -> dict[str, list[str]]:
        """Condition id -> its tokens, in order of first appearance ("" if frames say none)."""
        out: dict[str, list[str]] = {}
        for token, market in self.tokens.items():
            out.setdefault(market, []).append(token)
        return out

    def _note(self, t_ns: int, payload: Any) -> None:
        if len(self.leading) == self.frames and _is_books(payload):
            self.leading.append((t_ns, payload))
        self.frames += 1
        if t_ns > 0:
            self.first_ns = self.first_ns or t_ns
            self.last_ns = max(self.last_ns, t_ns)
        for item in payload if isinstance(payload, list) else [payload]:
            if isinstance(item, dict):
                market = item.get("market")
                for asset in _assets(item):
                    self.tokens.setdefault(asset, market if isinstance(market, str) else "")


class _MarketMeta(msgspec.Struct, kw_only=True):
    condition_id: str
    question: str | None = None
    slug: str | None = None
    description: str | None = None
    outcomes: list[str] | None = None
    tokens: list[str] | None = None
    neg_risk: bool = False
    neg_risk_market_id: str | None = None
    min_order_size: int | str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.min_order_size, str):  # msgspec reports a ValueError as invalid
            self.min_order_size = _micro(self.min_order_size)


def market_metas(index: TapeIndex) -> dict[str, _MarketMeta]:
    try:
        metas = msgspec.convert(index.header.get("markets", []), list[_MarketMeta])
    except msgspec.ValidationError as e:
        raise TapeError(f"{index.path}: bad header key 'markets': {e}") from e
    return {meta.condition_id: meta for meta in metas}


def min_order_size(meta: _MarketMeta) -> int:
    size = meta.min_order_size
    return size if isinstance(size, int) else Terms.min_order_size


def market_listing(index: TapeIndex, metas: Mapping[str, _MarketMeta]) -> list[Market]:
    """Model markets for every condition id with a token pair (tape or header)."""
    span = (index.first_ns // 10**9 - _DAY_S, index.last_ns // 10**9 + _DAY_S)
    seen = index.markets()
    listed: list[Market] = []
    for cid in dict.fromkeys([*seen, *metas]):
        meta = metas.get(cid) or _MarketMeta(condition_id=cid)
        tokens = meta.tokens or seen.get(cid, [])
        if cid and len(tokens) == 2:
            listed.append(_market(len(listed) + 1, meta, (tokens[0], tokens[1]), span))
    return listed


def _market(
    number: int, meta: _MarketMeta, tokens: tuple[str, str], span: tuple[int, int]
) -> Market:
    cid = meta.condition_id
    names = meta.outcomes or []
    question = meta.question or f"Replayed market {cid[:6]}…{cid[-4:]}"
    slug = meta.slug or f"replayed-{cid.removeprefix('0x')[:12]}"
    description = meta.description or f"Replayed from a tape; condition id {cid}."
    event = Event(
        id=str(number),
        slug=slug,
        title=question,
        description=description,
        tags=(),
        created_s=span[0],
        end_s=span[1],
        neg_risk_market_id=meta.neg_risk_market_id or (_NO_ID if meta.neg_risk else None),
    )
    return Market(
        id=str(number),
        condition_id=cid,
        question_id="0x" + hashlib.sha256(cid.encode()).hexdigest(),
        slug=slug,
        question=question,
        description=description,
        outcomes=(names[0], names[1]) if len(names) == 2 else ("Outcome 1", "Outcome 2"),
        token_ids=tokens,
        event=event,
        tick=_DEFAULT_TICK,
        fair=MICRO // 2,
        created_s=span[0],
        end_s=span[1],
        traded=False,
        min_order_size=min_order_size(meta),
    )


def listing_world(markets: list[Market], now_ms: int) -> World:
    """A World listing only `markets`: gamma.py, clob.py and queries.py render from a World.
    Its books are copied from the replay by `refresh` before every HTTP answer."""
    world = World(0, WorldSpec(clock_start_s=now_ms // 1000, updown_assets=(), updown_windows=0))
    world.catalog = Catalog()
    world.books, world.fair, world.last_trade, world.volume = {}, {}, {}, {}
    for market in markets:
        world.catalog.add(market.event, [market])
        world.fair[market.condition_id] = market.fair
        world.volume[market.condition_id] = 0
    return world


def refresh_world(world: World, books: ReplayBooks) -> None:
    """Give the listing world the replay's time and each market's first-token book."""
    world.now_ms = books.now_ms
    for market in world.catalog.markets:
        first = books.books.get(market.token_ids[0])
        key = market.condition_id
        world.books[key] = (
            Book(market.tick)
            if first is None
            else Book(first.tick, dict(first.bids), dict(first.asks))
        )
        world.last_trade[key] = None if first is None else first.last_trade


# -- routing (pure) ------------------------------------------------------------------------


Router = Callable[[Subscriber], str | None]


def route_for(raw: str, payload: Any) -> Router | None:
    """What each connection receives of a tape frame; None: the recorded text, to everyone."""
    if isinstance(payload, list):
        return _array_route(raw, payload)
    if isinstance(payload, dict) and (frame := _frame(payload)) is not None:
        return functools.partial(_route, frame, raw)
    return None


def _frame(payload: dict[str, Any]) -> Frame | None:
    """How a tape object is routed; None if its `price_changes` cannot be filtered."""
    entries = payload.get("price_changes")
    if isinstance(entries, list) and not all(
        isinstance(e, dict) and isinstance(e.get("asset_id"), str) for e in entries
    ):
        return None
    assets = tuple(dict.fromkeys(_assets(payload)))
    kind = payload.get("event_type")
    custom = isinstance(kind, str) and kind in CUSTOM_EVENTS
    everyone = not assets or kind == "new_market"
    return Frame(assets, payload, custom_only=custom, everyone=everyone)


def _array_route(raw: str, payload: list[Any]) -> Router:
    """Route an array (the initial dump of books) item by item, each kept verbatim."""
    items = [bytes(item).decode() for item in msgspec.json.decode(raw, type=list[msgspec.Raw])]
    assets = [item.get("asset_id") if isinstance(item, dict) else None for item in payload]

    def route(subscriber: Subscriber) -> str | None:
        kept = [
            text
            for text, asset in zip(items, assets, strict=True)
            if not isinstance(asset, str) or asset in subscriber.assets
        ]
        if len(kept) == len(items):
            return raw
        return "[" + ",".join(kept) + "]" if kept else None

    return route


