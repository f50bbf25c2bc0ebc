"""The market WebSocket channel: subscriptions, snapshots and fan-out (aiohttp I/O).

Every connection has one writer task draining an unbounded queue, so frames reach a client
in exactly the order they were enqueued: a subscription's snapshot array is enqueued in the
same synchronous step that adds the assets, before any later update for them. A client
whose queue grows past the limit is disconnected, as the venue drops slow consumers.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

import msgspec
from aiohttp import WSMsgType, web

from prediction_engine.sim.polymarket.units import encode
from prediction_engine.sim.polymarket.wire import Json, ws_book
from prediction_engine.sim.polymarket.world import Frame, World


@dataclass(eq=False)
class Subscriber:
    """One market-channel connection."""

    ws: web.WebSocketResponse
    request: web.Request
    assets: dict[str, None] = field(default_factory=dict)  # insertion-ordered set
    custom: bool = False
    queue: asyncio.Queue[str | None] = field(default_factory=asyncio.Queue)

    def abort(self) -> None:
        """Cut the TCP connection without a close handshake."""
        transport = self.request.transport
        if transport is not None:
            transport.abort()


class Hub:
    """All open market-channel connections of one simulated venue."""

    def __init__(
        self, world: World, counters: MutableMapping[str, int], cap: int, max_queued: int
    ) -> None:
        self.world = world
        self.counters = counters
        self.cap = cap
        self.max_queued = max_queued
        self.subscribers: set[Subscriber] = set()

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
        subscriber.queue.put_nowait(text)

    async def _write(self, subscriber: Subscriber) -> None:
        while (text := await subscriber.queue.get()) is not None:
            try:
                await subscriber.ws.send_str(text)
            except (ConnectionError, RuntimeError):
                subscriber.abort()
                return
            self.counters["frames_sent"] += 1
        with contextlib.suppress(ConnectionError, RuntimeError):
            await subscriber.ws.close()


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
