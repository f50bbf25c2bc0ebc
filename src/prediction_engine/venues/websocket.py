"""A reconnecting WebSocket feed: the one piece of WebSocket I/O every venue session shares.

It connects, lets the owner subscribe, pumps frames to a handler with our receive time,
sends a text keepalive (``PING``) on an interval, treats a silent socket as stale, and
reconnects with exponential backoff and full jitter. After ``max_attempts`` consecutive
failures it raises :class:`FeedFailedError` instead of retrying forever.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import aiohttp

from prediction_engine.engine.clock import Clock
from prediction_engine.venues.backoff import Backoff
from prediction_engine.venues.feed import Frame

__all__ = ["FeedCounters", "FeedFailedError", "ReconnectPolicy", "WebSocketFeed"]

log = logging.getLogger(__name__)

FrameHandler = Callable[[Frame, int], Awaitable[None]]


class FeedFailedError(ConnectionError):
    """A feed could not (re)connect within its attempts: a transport failure to report."""


ReconnectPolicy = Backoff
"""Reconnect schedule of a feed (defaults: 10 attempts, 0.25 s doubling up to 30 s)."""


@dataclass
class FeedCounters:
    """What the feed went through, for metrics and tests."""

    connects: int = 0
    disconnects: int = 0
    failed_attempts: int = 0
    frames: int = 0
    last_frame_ns: int = 0
    """Receive time of the latest frame (0: none yet), for staleness displays."""
    pings: int = 0
    stale: int = 0


class _StaleFeedError(Exception):
    pass


class WebSocketFeed:
    """One WebSocket connection kept alive; call :meth:`run` in the owner's task group."""

    def __init__(
        self,
        url: str,
        *,
        name: str,
        http: aiohttp.ClientSession,
        clock: Clock,
        on_frame: FrameHandler,
        on_connect: Callable[[WebSocketFeed], Awaitable[None]] | None = None,
        on_disconnect: Callable[[], None] | None = None,
        ping_text: str | None = "PING",
        ping_interval_s: float = 10.0,
        stale_after_s: float | None = 30.0,
        policy: ReconnectPolicy | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.url = url
        self.name = name
        self.counters = FeedCounters()
        self._http = http
        self._clock = clock
        self._on_frame = on_frame
        self._on_connect = on_connect
        self._on_disconnect = on_disconnect
        self._ping_text = ping_text
        self._ping_interval = ping_interval_s
        self._stale_after = stale_after_s
        self._policy = policy or ReconnectPolicy()
        self._rng = rng or random.Random()
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._stopped = False

    @property
    def connected(self) -> bool:
        """True while a socket is open."""
        return self._ws is not None and not self._ws.closed

    async def send(self, text: str) -> None:
        """Send a text frame on the open socket (raises ``ConnectionError`` when closed)."""
        if self._ws is None or self._ws.closed:
            raise ConnectionError(f"{self.name}: not connected")
        await self._ws.send_str(text)

    async def close(self) -> None:
        """Stop reconnecting and close the socket; :meth:`run` returns."""
        self._stopped = True
        if self._ws is not None:
            await self._ws.close()

    async def drop(self) -> None:
        """Close the current socket but keep running: the feed reconnects (forces a resync)."""
        if self._ws is not None:
            await self._ws.close()

    async def run(self) -> None:
        """Connect and pump frames until :meth:`close`; reconnect on any transport failure."""
        failures = 0
        while not self._stopped:
            got_frames = await self._connect_once()
            if self._stopped:
                return
            failures = 0 if got_frames else failures + 1
            self.counters.failed_attempts += not got_frames
            if failures >= self._policy.max_attempts:
                raise FeedFailedError(
                    f"{self.name}: {failures} consecutive connection attempts to {self.url} "
                    "failed; check the URL and the network, then restart"
                )
            await asyncio.sleep(self._policy.delay(max(failures, 1), self._rng))

    async def _connect_once(self) -> bool:
        frames_before = self.counters.frames
        try:
            async with self._http.ws_connect(self.url, autoping=True, max_msg_size=0) as ws:
                self._ws = ws
                self.counters.connects += 1
                if self._on_connect is not None:
                    await self._on_connect(self)
                await self._pump(ws)
        except (aiohttp.ClientError, OSError, TimeoutError, _StaleFeedError) as e:
            log.warning("%s: connection lost: %s", self.name, e or type(e).__name__)
        finally:
            if self._ws is not None:
                self._ws = None
                self.counters.disconnects += 1
                if self._on_disconnect is not None:
                    self._on_disconnect()
        return self.counters.frames > frames_before

    async def _pump(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        pinger = asyncio.create_task(self._ping_loop(ws), name=f"{self.name}-ping")
        try:
            await self._receive_loop(ws)
        finally:
            pinger.cancel()
            await asyncio.gather(pinger, return_exceptions=True)

    async def _receive_loop(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        while True:
            try:
                msg = await ws.receive(timeout=self._stale_after)
            except TimeoutError:
                self.counters.stale += 1
                raise _StaleFeedError(f"no frame for {self._stale_after}s") from None
            if msg.type in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                recv_ns = self._clock.now_ns()
                self.counters.frames += 1
                self.counters.last_frame_ns = recv_ns
                await self._on_frame(msg.data, recv_ns)
            elif msg.type in (
                aiohttp.WSMsgType.CLOSE,
                aiohttp.WSMsgType.CLOSING,
                aiohttp.WSMsgType.CLOSED,
                aiohttp.WSMsgType.ERROR,
            ):
                return

    async def _ping_loop(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        if self._ping_text is None:
            return
        while not ws.closed:
            await asyncio.sleep(self._ping_interval)
            try:
                await ws.send_str(self._ping_text)
            except (ConnectionError, RuntimeError):
                return
            self.counters.pings += 1
