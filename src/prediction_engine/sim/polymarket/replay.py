"""Replay a recorded tape as a local Polymarket venue: the market WebSocket, CLOB `/book` and
Gamma discovery, with frames from the tape instead of the random world.

`ReplayVenue(tape)` reads the tape once up front (a missing or unreadable tape, or one without
Polymarket market frames, raises `TapeError` before anything listens), then publishes frame i
at start + (t_i - t_0) / speed (`speed=None`: as fast as the loop allows; a frame without a
receive time is due at once). Frames go out byte for byte, except that a `price_change` keeps
only the entries, and an array of books only the books, of the assets a connection subscribed
to (as the venue and `stream.Hub` do). A frame that is not JSON (or whose entries name no
asset) goes to every connection as recorded; `best_bid_ask`, `new_market` and
`market_resolved` only to `custom_feature_enabled` ones.

The venue keeps each asset's book from the frames played so far and answers subscriptions
(one array of `book`s), `GET /clob/book` and `POST /clob/books` from it, stamped with the
replay time (the tape time of the latest frame played). Where a tape says too little:

- the books of the tape's leading `book` frames are known before the first frame plays, so a
  client of a paused venue gets them; with `loop=True` every pass starts from that state;
- an asset gets a book only from a `book` frame. Until then its `price_change` entries are
  forwarded but not applied, a subscription gets no snapshot for it and REST answers 404 (the
  capture never saw its book: the complement token of a one-sided capture stays so);
- tick size: a book's `tick_size`, else the previous stated one if the prices fit it, else the
  coarsest tick they fit (refined by a later off-grid level); then `tick_size_change`;
- Gamma lists every condition id the tape shows with exactly two tokens, in order of first
  appearance and named "Outcome 1"/"Outcome 2"; with one token it is not listed (its books are
  served). A header key `markets`, a list of objects with `condition_id` and optionally
  `question`, `slug`, `description`, `outcomes`, `tokens`, `neg_risk`, `neg_risk_market_id`,
  `min_order_size` (a decimal string, or an int in micro-units as in our `Market` struct)
  supplies names and the token pair; other keys are ignored.

`ReplayBooks`, `TapeIndex` and the routing helpers are pure; `ReplayVenue` is the aiohttp
shell and reuses `stream.Hub` (subscriptions, asset cap, PING, stream faults) and
`routes.Routes` (Gamma queries, rendered from a `World` that lists only the replayed markets).
May import only the standard library, aiohttp, msgspec and `prediction_engine.tape`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Final

import msgspec
from aiohttp import web

from prediction_engine.sim.polymarket.book import BUY, SELL, Book
from prediction_engine.sim.polymarket.model import Catalog, Event, Market
from prediction_engine.sim.polymarket.routes import NO_BOOK, Handler, Routes
from prediction_engine.sim.polymarket.stream import Hub, StreamFaults, Subscriber, _route
from prediction_engine.sim.polymarket.units import MICRO, encode, fmt, parse
from prediction_engine.sim.polymarket.wire import Json, book_summary, ws_book
from prediction_engine.sim.polymarket.world import Frame, World, WorldSpec
from prediction_engine.tape import POLYMARKET_MARKET, TapeError, TapeReader

__all__ = ["CUSTOM_EVENTS", "ReplayBooks", "ReplayVenue", "TapeIndex"]

CUSTOM_EVENTS: Final = frozenset({"best_bid_ask", "new_market", "market_resolved"})
_TICKS: Final = (100_000, 10_000, 1_000, 100)  # 0.1 ... 0.0001 in micro-units, coarsest first
_DEFAULT_TICK: Final = 10_000
_MAX_QUEUED: Final = 100_000
_DAY_S: Final = 86_400
_NO_ID: Final = "0x" + "00" * 32


def _decode(raw: str) -> Any:
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
                index._note(record.t, _decode(record.raw))
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


def _metas(index: TapeIndex) -> dict[str, _MarketMeta]:
    try:
        metas = msgspec.convert(index.header.get("markets", []), list[_MarketMeta])
    except msgspec.ValidationError as e:
        raise TapeError(f"{index.path}: bad header key 'markets': {e}") from e
    return {meta.condition_id: meta for meta in metas}


def _min_order(meta: _MarketMeta) -> int:
    size = meta.min_order_size
    return size if isinstance(size, int) else Terms.min_order_size


def _listing(index: TapeIndex, metas: Mapping[str, _MarketMeta]) -> list[Market]:
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
        min_order_size=_min_order(meta),
    )


def _listing_world(markets: list[Market], now_ms: int) -> World:
    """A World listing only `markets`: gamma.py, clob.py and queries.py render from a World.
    Its books are copied from the replay by `_refresh` before every HTTP answer."""
    world = World(0, WorldSpec(clock_start_s=now_ms // 1000, updown_assets=(), updown_windows=0))
    world.catalog = Catalog()
    world.books, world.fair, world.last_trade, world.volume = {}, {}, {}, {}
    for market in markets:
        world.catalog.add(market.event, [market])
        world.fair[market.condition_id] = market.fair
        world.volume[market.condition_id] = 0
    return world


def _refresh(world: World, books: ReplayBooks) -> None:
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


def _router(raw: str, payload: Any) -> Router | None:
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


# -- the aiohttp shell ---------------------------------------------------------------------


class _ReplayHub(Hub):
    """A `Hub` whose snapshots come from the replayed books and that forwards tape frames."""

    def __init__(
        self, world: World, counters: defaultdict[str, int], cap: int, books: ReplayBooks
    ) -> None:
        super().__init__(world, counters, cap, _MAX_QUEUED)
        self.books = books

    def forward(self, raw: str, payload: Any) -> None:
        """Enqueue one tape frame for every connection that should see it."""
        route = _router(raw, payload)
        if route is None:
            self.counters["frames_opaque"] += 1
            self.send_raw(raw)
            return
        for subscriber in list(self.subscribers):
            text = route(subscriber)
            if text is not None:
                self._enqueue(subscriber, text)

    def _snapshot(self, asset: str) -> Json | None:
        summary = self.books.summary(asset)
        return None if summary is None else ws_book(summary)


@dataclass
class _ReplayRoutes(Routes):
    """`Routes` with CLOB books from the replay; no price history (the tape has none)."""

    books: ReplayBooks = field(default_factory=ReplayBooks)

    async def clob_book(self, request: web.Request) -> web.Response:
        """`GET /clob/book?token_id=`."""
        token = request.query.get("token_id", "")
        if not token:
            return _json({"error": "Invalid payload"}, 400)
        summary = self.books.summary(token)
        return _json({"error": NO_BOOK}, 404) if summary is None else _json(summary)

    async def clob_books(self, request: web.Request) -> web.Response:
        """`POST /clob/books` with `[{"token_id": ...}]`; tokens without a book are left out."""
        try:
            body = msgspec.json.decode(await request.read(), type=list[dict[str, str]])
        except msgspec.DecodeError:
            return _json({"error": "Invalid payload"}, 400)
        found = [self.books.summary(item.get("token_id", "")) for item in body]
        return _json([summary for summary in found if summary is not None])

    async def clob_prices_history(self, request: web.Request) -> web.Response:
        """`GET /clob/prices-history`: empty."""
        return _json({"history": []})


def _json(payload: object, status: int = 200) -> web.Response:
    return web.Response(body=encode(payload), status=status, content_type="application/json")


class ReplayVenue:
    """A local Polymarket venue that plays a tape (see the module docstring)."""

    def __init__(
        self,
        tape: Path,
        *,
        speed: float | None = 1.0,
        loop: bool = False,
        start_paused: bool = False,
        max_assets_per_connection: int = 500,
    ) -> None:
        if speed is not None and not speed > 0:
            raise ValueError("speed must be positive (or None: as fast as possible)")
        if max_assets_per_connection < 0:
            raise ValueError("max_assets_per_connection must be >= 0")
        self.tape, self.speed, self.loop = Path(tape), speed, loop
        self.index = TapeIndex.read(self.tape)
        metas = _metas(self.index)
        terms = {cid: Terms(_min_order(m), m.neg_risk) for cid, m in metas.items()}
        self.books = ReplayBooks(terms)
        self._world = _listing_world(_listing(self.index, metas), self.index.first_ns // 10**6)
        self._counters: defaultdict[str, int] = defaultdict(int)
        for name in ("frames_replayed", "frames_sent", "connections", "loops"):
            self._counters[name] = 0
        self._routes = _ReplayRoutes(self._world, self._counters, 100, books=self.books)
        self._hub = _ReplayHub(self._world, self._counters, max_assets_per_connection, self.books)
        self.finished = asyncio.Event()
        """Set after the last frame has been published (never when looping)."""
        self._paused = start_paused
        self._toggled = asyncio.Event()
        self._done = 0
        self._origin = 0.0
        self._runner: web.AppRunner | None = None
        self._pacer: asyncio.Task[None] | None = None
        self._host, self._port = "127.0.0.1", 0
        self._restart()

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Listen on host:port (0 = ephemeral) and start playing the tape."""
        app = web.Application(middlewares=[self._refresh_listing])
        self._routes.install(app)
        app.router.add_get("/ws/market", self._hub.handle)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        self._host, self._port = host, int(self._runner.addresses[0][1])
        self._pacer = asyncio.create_task(self._replay(), name="replay-polymarket")

    async def stop(self) -> None:
        """Stop playing, close all sockets and the server; re-raise a replay failure."""
        pacer, self._pacer = self._pacer, None
        try:
            if pacer is not None:
                pacer.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await pacer
        finally:
            await self._hub.close_all()
            if self._runner is not None:
                await self._runner.cleanup()
                self._runner = None

    async def __aenter__(self) -> ReplayVenue:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    # -- addresses -----------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """`http://127.0.0.1:PORT`."""
        return f"http://{self._host}:{self._port}"

    @property
    def gamma_url(self) -> str:
        """Gamma API root."""
        return f"{self.base_url}/gamma"

    @property
    def clob_url(self) -> str:
        """CLOB REST root."""
        return f"{self.base_url}/clob"

    @property
    def ws_market_url(self) -> str:
        """Market-channel WebSocket URL."""
        return f"ws://{self._host}:{self._port}/ws/market"

    # -- inspection and control ----------------------------------------------------------

    @property
    def counters(self) -> dict[str, int]:
        """Copy of the activity counters (frames_replayed, frames_sent, connections, loops,
        frames_opaque: sent to all as recorded; frames_unapplied: partly unreadable, ...)."""
        return dict(self._counters)

    @property
    def progress(self) -> float:
        """Share of this pass's frames published, 0.0 to 1.0."""
        return min(1.0, self._done / self.index.frames)

    @property
    def faults(self) -> StreamFaults:
        """The WebSocket writers' per-frame faults; change the fields at any time."""
        return self._hub.faults

    @property
    def paused(self) -> bool:
        """Whether the replay is paused."""
        return self._paused

    def token_ids(self) -> list[str]:
        """Every token the tape mentions or its header lists, market by market."""
        listed = [token for market in self._world.catalog.markets for token in market.token_ids]
        return list(dict.fromkeys([*listed, *self.index.tokens]))

    def truth(self, token_id: str) -> tuple[dict[str, str], dict[str, str]]:
        """Current (bids, asks) of a token as price string -> size string."""
        return self.books.truth(token_id)

    def pause(self) -> None:
        """Hold the replay; the paused time does not count towards the frames' due times."""
        self._paused = True
        self._toggled.set()

    def resume(self) -> None:
        """Continue the replay where it was paused."""
        self._paused = False
        self._toggled.set()

    async def drop_connections(self) -> None:
        """Abort every WebSocket without a close handshake."""
        await self._hub.drop_all()

    # -- internals -----------------------------------------------------------------------

    @web.middleware
    async def _refresh_listing(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        _refresh(self._world, self.books)
        return await handler(request)

    def _restart(self) -> None:
        """Back to the tape's start: the books of its leading `book` frames, nothing played."""
        self.books.reset()
        for t_ns, payload in self.index.leading:
            self.books.apply(payload, t_ns)
        self._done = 0

    async def _replay(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            self._origin = loop.time()
            for record in TapeReader(self.tape):
                if record.ch == POLYMARKET_MARKET:
                    await self._due(record.t, loop)
                    self._play(record.t, record.raw)
                    await asyncio.sleep(0)  # let the writers and clients run between frames
            if not self.loop:
                self.finished.set()
                return
            self._counters["loops"] += 1
            self._restart()

    async def _due(self, t_ns: int, loop: asyncio.AbstractEventLoop) -> None:
        """Return when the frame received at `t_ns` is due; paused time shifts every frame."""
        while True:
            if self._paused:
                paused_at = loop.time()
                while self._paused:
                    self._toggled.clear()
                    await self._toggled.wait()
                self._origin += loop.time() - paused_at
            if self.speed is None or t_ns <= 0:
                return
            wait = self._origin + (t_ns - self.index.first_ns) / 1e9 / self.speed - loop.time()
            if wait <= 0:
                return
            self._toggled.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._toggled.wait(), wait)

    def _play(self, t_ns: int, raw: str) -> None:
        payload = _decode(raw)
        if not self.books.apply(payload, t_ns):
            self._counters["frames_unapplied"] += 1
        self._hub.forward(raw, payload)
        self._done += 1
        self._counters["frames_replayed"] += 1
