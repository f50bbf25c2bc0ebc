"""The market WebSocket channel: subscriptions, snapshots and fan-out (aiohttp I/O).

Every connection has one writer task draining an unbounded queue, so frames reach a client
in exactly the order they were enqueued: a subscription's snapshot array is enqueued in the
same synchronous step that adds the assets, before any later update for them. A client
whose queue grows past the limit is disconnected, as the venue drops slow consumers.

The writer is also where stream faults are injected (:class:`StreamFaults`): latency,
stalls with the socket open (nothing is sent, not even `PONG`; like a TCP stall, the backlog
is delivered when the stall ends), duplicated and reordered frames, and malformed frames.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Iterable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

import msgspec
from aiohttp import WSMsgType, web

from prediction_engine.sim.polymarket.units import encode
from prediction_engine.sim.polymarket.wire import Json, ws_book
from prediction_engine.sim.polymarket.world import Frame, World


@dataclass
class StreamFaults:
    """What the writers do to outgoing frames; change the fields at any time (the CLI and
    `SimPolymarket.apply_faults` set them from a validated `faults.FaultPlan`).

    Probabilities apply per frame; `delay_s` holds every frame that long after it was
    published. Random choices come from the venue's own fault RNG (seeded), never from the
    world's, so injecting faults does not change the world.
    """

    delay_s: float = 0.0
    duplicate: float = 0.0
    reorder: float = 0.0
    malformed: float = 0.0

    @property
    def active(self) -> bool:
        """Whether any per-frame fault is on."""
        return bool(self.delay_s or self.duplicate or self.reorder or self.malformed)


@dataclass(eq=False)
class Subscriber:
    """One market-channel connection."""

    ws: web.WebSocketResponse
    request: web.Request
    assets: dict[str, None] = field(default_factory=dict)  # insertion-ordered set
    custom: bool = False
    queue: asyncio.Queue[tuple[str, float] | None] = field(default_factory=asyncio.Queue)
    stalled_until: float = 0.0

    def abort(self) -> None:
        """Cut the TCP connection without a close handshake."""
        transport = self.request.transport
        if transport is not None:
            transport.abort()


class Hub:
    """All open market-channel connections of one simulated venue."""

    def __init__(
        self,
        world: World,
        counters: MutableMapping[str, int],
        cap: int,
        max_queued: int,
        fault_seed: int = 0,
    ) -> None:
        self.world = world
        self.counters = counters
        self.cap = cap
        self.max_queued = max_queued
        self.subscribers: set[Subscriber] = set()
        self.faults = StreamFaults()
        self._rng = random.Random(fault_seed)

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        """Serve one `/ws/market` connection until it closes."""
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        subscriber = Subscriber(ws, request)
        self.subscribers.add(subscriber)
        self.counters["connections"] += 1
        writer = asyncio.create_task(self._write(subscriber))
        try:
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    self._on_text(subscriber, message.data)
                else:
                    self.counters["bad_messages"] += 1
        finally:
            self.subscribers.discard(subscriber)
            subscriber.queue.put_nowait(None)
            await writer
        return ws

    def publish(self, frames: Iterable[Frame]) -> None:
        """Enqueue frames for every connection that should see them.

        A `price_change` reaches connections subscribed to any of its assets, carrying only
        the entries of the assets that connection subscribed to.
        """
        for frame in frames:
            text = encode(frame.payload).decode()
            for subscriber in list(self.subscribers):
                routed = _route(frame, text, subscriber)
                if routed is not None:
                    self._enqueue(subscriber, routed)

    def send_raw(self, text: str) -> None:
        """Enqueue a raw text frame for every connection."""
        for subscriber in list(self.subscribers):
            self._enqueue(subscriber, text)

    def stall(self, seconds: float) -> None:
        """Send nothing (not even `PONG`) on the open connections for `seconds`; the frames
        published meanwhile are delivered when the stall ends. Later connections are served."""
        until = asyncio.get_running_loop().time() + seconds
        for subscriber in self.subscribers:
            subscriber.stalled_until = until
        self.counters["fault_stalls"] += 1

    async def drop_all(self) -> None:
        """Abort every connection and wait until their handlers have finished."""
        for subscriber in list(self.subscribers):
            subscriber.abort()
        self.counters["dropped_connections"] += len(self.subscribers)
        for _ in range(200):
            if not self.subscribers:
                return
            await asyncio.sleep(0.005)

    async def close_all(self) -> None:
        """Close every connection cleanly (server shutdown)."""
        for subscriber in list(self.subscribers):
            await subscriber.ws.close(code=1001, message=b"server shutdown")

    def _on_text(self, subscriber: Subscriber, text: str) -> None:
        if text == "PING":
            self.counters["pings"] += 1
            self._enqueue(subscriber, "PONG")
            return
        try:
            request = msgspec.json.decode(text)
        except msgspec.DecodeError:
            request = None
        if not isinstance(request, dict) or not isinstance(request.get("assets_ids"), list):
            self.counters["bad_messages"] += 1
            return
        self._on_request(subscriber, request)

    def _on_request(self, subscriber: Subscriber, request: dict[str, Any]) -> None:
        assets = [str(asset) for asset in request["assets_ids"]]
        if request.get("custom_feature_enabled") is True:
            subscriber.custom = True
        operation = request.get("operation")
        if operation == "unsubscribe":
            self.counters["unsubscribes"] += 1
            for asset in assets:
                subscriber.assets.pop(asset, None)
        elif operation == "subscribe" or str(request.get("type", "")).lower() == "market":
            self.counters["subscribes"] += 1
            self._subscribe(subscriber, assets)
        else:
            self.counters["bad_messages"] += 1

    def _subscribe(self, subscriber: Subscriber, assets: list[str]) -> None:
        fresh = [a for a in dict.fromkeys(assets) if a not in subscriber.assets]
        accepted = fresh[: max(0, self.cap - len(subscriber.assets))]
        self.counters["capped_assets"] += len(fresh) - len(accepted)
        subscriber.assets.update(dict.fromkeys(accepted))
        snapshots = [self._snapshot(asset) for asset in accepted]
        books = [book for book in snapshots if book is not None]
        if books:
            self._enqueue(subscriber, encode(books).decode())

    def _snapshot(self, asset: str) -> Json | None:
        found = self.world.locate(asset)
        if found is None:
            return None
        return ws_book(self.world.summary(*found))

    def _enqueue(self, subscriber: Subscriber, text: str) -> None:
        if subscriber.queue.qsize() >= self.max_queued:
            self.counters["slow_disconnects"] += 1
            self.subscribers.discard(subscriber)
            subscriber.abort()
            return
        subscriber.queue.put_nowait((text, asyncio.get_running_loop().time()))

    async def _write(self, subscriber: Subscriber) -> None:
        loop = asyncio.get_running_loop()
        queue = subscriber.queue
        while (item := await queue.get()) is not None:
            closing = False
            if self.faults.active or subscriber.stalled_until:
                batch = await self._faulted(subscriber, item, loop)
            else:
                batch, closing = _take_ready(queue, item[0])
            try:
                await _send(subscriber, batch)
            except (ConnectionError, RuntimeError):
                subscriber.abort()
                return
            self.counters["frames_sent"] += len(batch)
            if closing:
                break
        with contextlib.suppress(ConnectionError, RuntimeError):
            await subscriber.ws.close()

    async def _faulted(
        self, subscriber: Subscriber, item: tuple[str, float], loop: asyncio.AbstractEventLoop
    ) -> list[str]:
        """The frames to send for `item`, after any stall and delay, with per-frame faults."""
        if (wait := subscriber.stalled_until - loop.time()) > 0:
            await asyncio.sleep(wait)
        subscriber.stalled_until = 0.0
        faults, rng, counters = self.faults, self._rng, self.counters
        if faults.delay_s and (wait := item[1] + faults.delay_s - loop.time()) > 0:
            counters["fault_delayed"] += 1
            await asyncio.sleep(wait)
        text = item[0]
        batch = [text]
        if faults.reorder and not subscriber.queue.empty() and rng.random() < faults.reorder:
            follower = subscriber.queue.get_nowait()
            if follower is None:
                subscriber.queue.put_nowait(None)  # closing: keep the sentinel for the loop
            else:
                counters["fault_reordered"] += 1
                batch = [follower[0], text]
        if faults.duplicate and rng.random() < faults.duplicate:
            counters["fault_duplicated"] += 1
            batch.append(batch[-1])
        if faults.malformed and rng.random() < faults.malformed:
            counters["fault_malformed"] += 1
            batch.insert(0, _malformed(rng, text))
        return batch


_BATCH = 256
_HIGH_WATER = 1 << 22


def _take_ready(
    queue: asyncio.Queue[tuple[str, float] | None], first: str
) -> tuple[list[str], bool]:
    """`first` and every frame already queued behind it (up to `_BATCH`), without waiting;
    and whether the queue's end marker came among them."""
    batch = [first]
    while len(batch) < _BATCH and not queue.empty():
        item = queue.get_nowait()
        if item is None:
            return batch, True
        batch.append(item[0])
    return batch, False


def _ws_text_frame(text: str) -> bytes:
    """One unmasked, unfragmented server-to-client text frame (RFC 6455 section 5.2)."""
    payload = text.encode()
    size = len(payload)
    if size < 126:
        return bytes((0x81, size)) + payload
    if size < 65_536:
        return bytes((0x81, 126)) + size.to_bytes(2, "big") + payload
    return bytes((0x81, 127)) + size.to_bytes(8, "big") + payload


async def _send(subscriber: Subscriber, batch: list[str]) -> None:
    """Write a batch of text frames in one transport write (aiohttp's per-frame `send_str`
    costs more than building the frames), waiting while the socket's buffer is full."""
    transport = subscriber.request.transport
    # After aiohttp sent its Close frame no data frame may follow (RFC 6455 section 5.5.1).
    if transport is None or transport.is_closing() or subscriber.ws.closed:
        raise ConnectionError("connection closed")
    transport.write(b"".join(_ws_text_frame(text) for text in batch))
    while transport.get_write_buffer_size() > _HIGH_WATER:
        if transport.is_closing():
            raise ConnectionError("connection closed")
        await asyncio.sleep(0.001)


_BROKEN_FRAMES = (
    '{"event_type":"book","market":"0x00","asset_id":"1","bids":[{"price":"0.5"}]}',
    '{"event_type":"price_change","market":"0x00","price_changes":"oops","timestamp":"1"}',
    '[{"event_type":"book"}]',
)


def _malformed(rng: random.Random, text: str) -> str:
    """A frame no codec should accept: a truncated real frame or a known-bad shape."""
    if rng.random() < 0.5 and len(text) > 2:
        return text[: rng.randint(1, len(text) - 1)]
    return rng.choice(_BROKEN_FRAMES)


def _route(frame: Frame, text: str, subscriber: Subscriber) -> str | None:
    """The text this subscriber receives for `frame`, or None."""
    if frame.custom_only and not subscriber.custom:
        return None
    if frame.everyone:
        return text
    wanted = [asset for asset in frame.assets if asset in subscriber.assets]
    if not wanted:
        return None
    if frame.payload.get("event_type") != "price_change" or len(wanted) == len(frame.assets):
        return text
    entries = [e for e in frame.payload["price_changes"] if e["asset_id"] in subscriber.assets]
    return encode({**frame.payload, "price_changes": entries}).decode()
