"""Polymarket RTDS crypto price session: the only network code for RTDS reference prices.

One connection on the shared :class:`WebSocketFeed`. On every (re)connect it sends the
subscribe request; the venue answers with a history snapshot per symbol, then updates.

Keepalive: the official RTDS docs say to send text ``PING`` every 5 seconds, so the feed
does (a third-party note mentions WebSocket ping frames instead; the docs win, and any
non-JSON reply is ignored by the parser). RTDS is known to stall while the socket stays open;
if it still answered keepalives the feed's silence detection would never fire, so a data
watchdog also drops the connection when no price arrives for ``stale_after_s``.

Symbols are filtered here, not by the server: third-party reports say the live server rejects
the documented comma-separated ``filters`` (pass ``server_filter=True`` to send it anyway).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import aiohttp

from prediction_engine.config import Config
from prediction_engine.core.events import Event, ReferencePrice
from prediction_engine.engine.clock import Clock
from prediction_engine.venues.errors import DecodeError
from prediction_engine.venues.feed import EventSink, Frame, RawFrameHook, log_dropped
from prediction_engine.venues.polymarket.rtds_parse import encode_subscribe, parse_rtds_frame
from prediction_engine.venues.websocket import ReconnectPolicy, WebSocketFeed

__all__ = ["RtdsCounters", "RtdsSession"]

log = logging.getLogger(__name__)


RTDS_PING_INTERVAL_S = 5.0


@dataclass
class RtdsCounters:
    """Events handed on, frames dropped as undecodable, connections dropped for no data."""

    events: int = 0
    decode_errors: int = 0
    data_stale: int = 0


class RtdsSession:
    """Stream RTDS ``topic`` prices of ``symbols`` (all if empty) into ``sink``.

    Call :meth:`run` in the owner's task group; it returns after :meth:`close` and raises
    :class:`~prediction_engine.venues.websocket.FeedFailedError` when reconnects run out.
    """

    def __init__(
        self,
        config: Config,
        symbols: Sequence[str],
        http: aiohttp.ClientSession,
        clock: Clock,
        sink: EventSink,
        *,
        on_raw: RawFrameHook | None = None,
        topic: str = "crypto_prices",
        server_filter: bool = False,
        policy: ReconnectPolicy | None = None,
        ping_interval_s: float = RTDS_PING_INTERVAL_S,
        stale_after_s: float | None = None,
        rng: random.Random | None = None,
    ) -> None:
        pm = config.polymarket
        self.symbols = frozenset(s.lower() for s in symbols)
        self.counters = RtdsCounters()
        self.events_by_type: Counter[type[Event]] = Counter()
        """Events handed on per event class (reference prices); they add up to
        ``counters.events``."""
        self._subscribe = encode_subscribe(topic, sorted(self.symbols) if server_filter else ())
        self._sink = sink
        self._on_raw = on_raw
        self._stale_after = pm.stale_after_s if stale_after_s is None else stale_after_s
        self._last_data = 0.0
        self.feed = WebSocketFeed(
            pm.rtds_url,
            name="polymarket-rtds",
            http=http,
            clock=clock,
            on_frame=self._on_frame,
            on_connect=self._on_connect,
            ping_interval_s=ping_interval_s,
            stale_after_s=self._stale_after,
            policy=policy or ReconnectPolicy(max_attempts=pm.reconnect_attempts),
            rng=rng,
        )

    async def run(self) -> None:
        """Connect, subscribe, stream and reconnect until :meth:`close`."""
        feed = asyncio.create_task(self.feed.run(), name="rtds-feed")
        watchdog = asyncio.create_task(self._watch_data(), name="rtds-watchdog")
        try:
            done, _ = await asyncio.wait((feed, watchdog), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (feed, watchdog):
                task.cancel()
            await asyncio.gather(feed, watchdog, return_exceptions=True)
        for task in done:
            task.result()  # the feed's FeedFailedError, or a watchdog bug, surfaces here

    async def close(self) -> None:
        """Stop streaming; :meth:`run` returns."""
        await self.feed.close()

    async def _on_connect(self, feed: WebSocketFeed) -> None:
        self._last_data = _now()
        await feed.send(self._subscribe.decode())

    async def _on_frame(self, frame: Frame, recv_ns: int) -> None:
        if self._on_raw is not None:
            self._on_raw(self.feed.name, frame, recv_ns)
        try:
            events = parse_rtds_frame(frame, recv_ns)
        except DecodeError as e:
            self.counters.decode_errors += 1
            log_dropped(log, self.feed.name, self.counters.decode_errors,
                        self.feed.counters.frames, e)
            return
        for event in events:
            if self._wanted(event):
                self._last_data = _now()
                await self._sink.put(event)
                self.counters.events += 1
                self.events_by_type[type(event)] += 1

    def _wanted(self, event: Event) -> bool:
        return isinstance(event, ReferencePrice) and (
            not self.symbols or event.symbol in self.symbols
        )

    async def _watch_data(self) -> None:
        if self._stale_after is None:
            await asyncio.Event().wait()  # nothing to watch; wait to be cancelled
            return
        while True:
            await asyncio.sleep(self._stale_after / 4)
            if self.feed.connected and _now() - self._last_data > self._stale_after:
                self.counters.data_stale += 1
                log.warning("polymarket-rtds: no price for %ss; reconnecting", self._stale_after)
                self._last_data = _now()
                await self.feed.drop()


def _now() -> float:
    # Monotonic loop time for a timeout, like the feed's own; event times come from the clock.
    return asyncio.get_running_loop().time()
