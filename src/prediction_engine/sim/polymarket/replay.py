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
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
from aiohttp import web

from prediction_engine.sim.polymarket.replay_state import (
    CUSTOM_EVENTS,
    MAX_QUEUED,
    ReplayBooks,
    TapeIndex,
    Terms,
    decode_frame,
    listing_world,
    market_listing,
    market_metas,
    min_order_size,
    refresh_world,
    route_for,
)
from prediction_engine.sim.polymarket.routes import NO_BOOK, Handler, Routes
from prediction_engine.sim.polymarket.stream import Hub, StreamFaults
from prediction_engine.sim.polymarket.units import encode
from prediction_engine.sim.polymarket.venue import LocalVenue
from prediction_engine.sim.polymarket.wire import Json, ws_book
from prediction_engine.sim.polymarket.world import World
from prediction_engine.tape import POLYMARKET_MARKET, TapeReader

__all__ = ["CUSTOM_EVENTS", "ReplayBooks", "ReplayVenue", "TapeIndex"]


# -- the aiohttp shell ---------------------------------------------------------------------


class _ReplayHub(Hub):
    """A `Hub` whose snapshots come from the replayed books and that forwards tape frames."""

    def __init__(
        self, world: World, counters: defaultdict[str, int], cap: int, books: ReplayBooks
    ) -> None:
        super().__init__(world, counters, cap, MAX_QUEUED)
        self.books = books

    def forward(self, raw: str, payload: Any) -> None:
        """Enqueue one tape frame for every connection that should see it."""
        route = route_for(raw, payload)
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


class ReplayVenue(LocalVenue):
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
        metas = market_metas(self.index)
        terms = {cid: Terms(min_order_size(m), m.neg_risk) for cid, m in metas.items()}
        self.books = ReplayBooks(terms)
        self._world = listing_world(market_listing(self.index, metas), self.index.first_ns // 10**6)
        self._counters: defaultdict[str, int] = defaultdict(int)
        for name in ("frames_replayed", "frames_sent", "connections", "loops"):
            self._counters[name] = 0
        self._forwarder = _ReplayHub(
            self._world, self._counters, max_assets_per_connection, self.books
        )
        super().__init__(
            _ReplayRoutes(self._world, self._counters, 100, books=self.books), self._forwarder
        )
        self.finished = asyncio.Event()
        """Set after the last frame has been published (never when looping)."""
        self._paused = start_paused
        self._toggled = asyncio.Event()
        self._done = 0
        self._origin = 0.0
        self._restart()

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Listen on host:port (0 = ephemeral) and start playing the tape."""
        await self._listen(host, port, [self._refresh_listing])
        self._tasks.append(asyncio.create_task(self._replay(), name="replay-polymarket"))

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
        refresh_world(self._world, self.books)
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
            with contextlib.suppress(TimeoutError):  # not wait_for: it can eat a cancel
                async with asyncio.timeout(wait):
                    await self._toggled.wait()

    def _play(self, t_ns: int, raw: str) -> None:
        payload = decode_frame(raw)
        if not self.books.apply(payload, t_ns):
            self._counters["frames_unapplied"] += 1
        self._forwarder.forward(raw, payload)
        self._done += 1
        self._counters["frames_replayed"] += 1

