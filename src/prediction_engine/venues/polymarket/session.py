"""Polymarket market-channel session: the only network code for live books.

Tokens are spread over shards of at most ``max_assets_per_connection`` per WebSocket. Each
frame is recorded (optional hook), parsed, reduced into the session's :class:`BookSet` (to
detect desyncs) and every event is handed to the sink. A book needs a resync after a
reconnect, a tick-size change or a desync; the session waits ``snapshot_timeout_s`` for a
``book`` frame and otherwise fetches REST ``/book``. A REST snapshot older than a delta we had
to drop meanwhile is fetched again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

import aiohttp
import msgspec

from prediction_engine.config import PolymarketConfig
from prediction_engine.core.book_sync import BookSet
from prediction_engine.core.events import BookSnapshot, Event, TickSizeChanged
from prediction_engine.core.ids import TokenId
from prediction_engine.engine.clock import Clock
from prediction_engine.venues.errors import DecodeError, UnknownEventError
from prediction_engine.venues.feed import EventSink, Frame, RawFrameHook, log_dropped
from prediction_engine.venues.polymarket.parse import PolymarketParser, is_json_frame
from prediction_engine.venues.websocket import ReconnectPolicy, WebSocketFeed

__all__ = ["MarketDataSession", "SessionCounters"]

log = logging.getLogger(__name__)

FetchBook = Callable[[TokenId], Awaitable[BookSnapshot]]


@dataclass
class SessionCounters:
    """Session health, for metrics, the CLI and tests."""

    frames: int = 0
    text_frames: int = 0
    events: int = 0
    decode_errors: int = 0
    unknown_events: int = 0
    resyncs: int = 0
    rest_snapshots: int = 0
    rest_failures: int = 0
    stale_snapshots: int = 0
    duplicate_frames: int = 0


class _Shard:
    def __init__(self, index: int) -> None:
        self.index = index
        self.name = f"polymarket-market-{index}"
        self.tokens: set[TokenId] = set()
        self.feed: WebSocketFeed | None = None
        self.last_frame: Frame = b""


class MarketDataSession:
    """Stream books of many tokens over sharded WebSockets; keep them exact."""

    def __init__(
        self,
        config: PolymarketConfig,
        *,
        http: aiohttp.ClientSession,
        clock: Clock,
        sink: EventSink,
        fetch_book: FetchBook,
        on_raw: RawFrameHook | None = None,
        policy: ReconnectPolicy | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config
        self.books = BookSet()
        self._parser = PolymarketParser()
        self.counters = SessionCounters()
        self.events_by_type: Counter[type[Event]] = Counter()
        """Events handed on per event class (``BookDelta``, ``Trade``, ...); they add up to
        ``counters.events``. Kept apart from the flat integer counters."""
        self._http, self._clock, self._sink = http, clock, sink
        self._fetch_book, self._on_raw = fetch_book, on_raw
        self._policy = policy or ReconnectPolicy(max_attempts=config.reconnect_attempts)
        self._rng = rng or random.Random()
        self._shards: list[_Shard] = []
        self._due: dict[TokenId, int] = {}  # token -> time (ns) after which REST is used
        self._group: asyncio.TaskGroup | None = None
        self._wake = asyncio.Event()
        self._closing = False

    # -- public ----------------------------------------------------------------------------

    @property
    def tokens(self) -> set[TokenId]:
        """Every subscribed token."""
        return {t for s in self._shards for t in s.tokens}

    @property
    def feeds(self) -> list[WebSocketFeed]:
        """The shard connections (for counters and fault tests)."""
        return [s.feed for s in self._shards if s.feed is not None]

    async def run(self, tokens: Iterable[TokenId]) -> None:
        """Subscribe to ``tokens`` and stream until :meth:`close` (or a feed gives up)."""
        async with asyncio.TaskGroup() as group:
            self._group = group
            group.create_task(self._resync_loop(), name="polymarket-resync")
            await self.subscribe(tokens)
        self._group = None

    async def subscribe(self, tokens: Iterable[TokenId]) -> None:
        """Add tokens: fill shards with room first (dynamic subscribe), then open new ones."""
        new = [t for t in dict.fromkeys(tokens) if t not in self.tokens]
        cap = self.config.max_assets_per_connection
        for shard in self._shards:
            room, new = new[: cap - len(shard.tokens)], new[cap - len(shard.tokens) :]
            if room:
                shard.tokens.update(room)
                self._expect_snapshots(room)
                await self._send_operation(shard, "subscribe", room)
        for start in range(0, len(new), cap):
            self._open_shard(new[start : start + cap])

    async def unsubscribe(self, tokens: Iterable[TokenId]) -> None:
        """Remove tokens from their shards and forget their books."""
        gone = set(tokens)
        for shard in self._shards:
            leaving = sorted(shard.tokens & gone)
            if leaving:
                shard.tokens.difference_update(leaving)
                await self._send_operation(shard, "unsubscribe", leaving)
        for token in gone:
            self.books.books.pop(token, None)
            self._due.pop(token, None)

    async def close(self) -> None:
        """Close every connection; :meth:`run` returns."""
        self._closing = True
        self._wake.set()
        for feed in self.feeds:
            await feed.close()

    # -- shards ----------------------------------------------------------------------------

    def _open_shard(self, tokens: list[TokenId]) -> None:
        if self._group is None:
            raise RuntimeError("subscribe() before run() started")
        shard = _Shard(len(self._shards))
        shard.tokens.update(tokens)
        self._expect_snapshots(tokens)
        shard.feed = WebSocketFeed(
            self.config.ws_market_url,
            name=shard.name,
            http=self._http,
            clock=self._clock,
            on_frame=lambda frame, recv_ns: self._on_frame(shard, frame, recv_ns),
            on_connect=lambda feed: self._on_connect(shard, feed),
            on_disconnect=lambda: self._on_disconnect(shard),
            ping_interval_s=self.config.ping_interval_s,
            stale_after_s=self.config.stale_after_s,
            policy=self._policy,
            rng=self._rng,
        )
        self._shards.append(shard)
        self._group.create_task(shard.feed.run(), name=shard.name)

    async def _on_connect(self, shard: _Shard, feed: WebSocketFeed) -> None:
        self._expect_snapshots(shard.tokens)
        message = {
            "assets_ids": sorted(shard.tokens),
            "type": "market",
            "custom_feature_enabled": True,
        }
        await feed.send(msgspec.json.encode(message).decode())

    def _on_disconnect(self, shard: _Shard) -> None:
        shard.last_frame = b""
        if self._closing:
            return
        for token in shard.tokens:
            self.books.invalidate(token)
        self._expect_snapshots(shard.tokens)

    async def _send_operation(self, shard: _Shard, operation: str, tokens: list[TokenId]) -> None:
        if shard.feed is None or not shard.feed.connected:
            return  # the next connect subscribes to every token of the shard
        message = {"assets_ids": tokens, "operation": operation, "custom_feature_enabled": True}
        try:
            await shard.feed.send(msgspec.json.encode(message).decode())
        except ConnectionError:
            log.info("%s: %s deferred to reconnect", shard.feed.name, operation)

    # -- frames ----------------------------------------------------------------------------

    async def _on_frame(self, shard: _Shard, frame: Frame, recv_ns: int) -> None:
        self.counters.frames += 1
        source = shard.name
        if self._on_raw is not None:
            self._on_raw(source, frame, recv_ns)
        if not is_json_frame(frame):
            self.counters.text_frames += 1
            return
        # The same frame twice in a row is a duplicate (2026 trades carry a transaction
        # hash, so two real trades never render alike): applying it again would count a
        # trade twice.
        if frame == shard.last_frame:
            self.counters.duplicate_frames += 1
            return
        shard.last_frame = frame
        try:
            events = self._parser.market_frame(frame, recv_ns)
        except UnknownEventError as e:
            self.counters.unknown_events += 1
            log_dropped(log, source, self.counters.unknown_events, self.counters.frames, e)
            return
        except DecodeError as e:
            self.counters.decode_errors += 1
            log_dropped(log, source, self.counters.decode_errors, self.counters.frames, e)
            return
        for event in events:
            await self._reduce(event)

    async def _reduce(self, event: Event) -> None:
        needs = self.books.apply(event)
        if isinstance(event, BookSnapshot):
            self._due.pop(event.token, None)
        if needs is not None:
            self.counters.resyncs += 1
            # After a tick change the venue sends a fresh `book`: give it time before REST.
            wait = self.config.snapshot_timeout_s if isinstance(event, TickSizeChanged) else 0
            self._schedule(needs, wait)
        self.counters.events += 1
        self.events_by_type[type(event)] += 1
        await self._sink.put(event)

    # -- resync ----------------------------------------------------------------------------

    def _expect_snapshots(self, tokens: Iterable[TokenId]) -> None:
        for token in tokens:
            self._schedule(token, self.config.snapshot_timeout_s)

    def _schedule(self, token: TokenId, wait_s: float) -> None:
        due = self._clock.now_ns() + int(wait_s * 1e9)
        self._due[token] = min(self._due.get(token, due), due)
        self._wake.set()

    async def _resync_loop(self) -> None:
        limit = asyncio.Semaphore(self.config.snapshot_concurrency)
        while not self._closing:
            now = self._clock.now_ns()
            ready = [t for t, due in self._due.items() if due <= now and self._ready(t)]
            if ready:
                await asyncio.gather(*(self._rest_resync(t, limit) for t in ready))
            self._wake.clear()
            # Sleep until the earliest resync is due (at least 50 ms, as tokens waiting for a
            # reconnect stay due), or until new work wakes us; idle sessions do not poll.
            # Not asyncio.wait_for: on Python 3.11 it returns normally when the wake-up and a
            # cancellation arrive together, and this loop then outlived the task group that
            # cancelled it (a run whose metrics port was taken hung instead of exiting).
            nearest = min(self._due.values(), default=None)
            timeout = None if nearest is None else max(0.05, (nearest - now) / 1e9)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self._wake.wait()

    def _ready(self, token: TokenId) -> bool:
        # Only fetch for tokens on a connected shard: a reconnect resubscribes the rest.
        return any(
            token in s.tokens and s.feed is not None and s.feed.connected for s in self._shards
        )

    async def _rest_resync(self, token: TokenId, limit: asyncio.Semaphore) -> None:
        async with limit:
            try:
                snap = await self._fetch_book(token)
            except Exception as e:  # a failed fetch is retried, never fatal
                self.counters.rest_failures += 1
                log.warning("REST /book for %s failed: %s", token[:12], e)
                self._schedule(token, 1.0)
                return
        if token not in self._due or token not in self.tokens:
            return  # a WS snapshot arrived meanwhile, or the token was unsubscribed
        if snap.ts_event < self.books.newest_dropped_ns(token):
            self.counters.stale_snapshots += 1
            self._schedule(token, 0.1)
            return
        self.counters.rest_snapshots += 1
        await self._reduce(snap)
