"""Binance spot trade session: the only network code for Binance reference prices.

One combined-stream connection (``/stream?streams=btcusdt@trade/ethusdt@trade``) on the shared
:class:`WebSocketFeed`, which reconnects with backoff and drops a silent socket. Binance
keeps the socket alive with WebSocket-level pings that aiohttp answers, so no text keepalive
is sent. Each frame goes to the raw hook (the recorder), then through the pure parser; the
events are handed to the sink. A bad frame is counted and dropped, never fatal.
"""

from __future__ import annotations

import logging
import random
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import aiohttp

from prediction_engine.config import Config
from prediction_engine.core.events import Event
from prediction_engine.engine.clock import Clock
from prediction_engine.venues.binance.parse import BinanceDecodeError, parse
from prediction_engine.venues.feed import EventSink, Frame, RawFrameHook, log_dropped
from prediction_engine.venues.websocket import ReconnectPolicy, WebSocketFeed

__all__ = [
    "BinanceTradeSession",
    "SessionCounters",
    "trade_stream_url",
]

log = logging.getLogger(__name__)


_SYMBOL: Final = re.compile(r"[a-z0-9]{1,30}")


@dataclass
class SessionCounters:
    """What the session parsed: events handed on and frames dropped as undecodable."""

    events: int = 0
    decode_errors: int = 0


def trade_stream_url(base_url: str, symbols: Sequence[str]) -> str:
    """The combined-stream URL for ``<symbol>@trade`` of every symbol (lower-case)."""
    if not symbols:
        raise ValueError("give at least one symbol, e.g. 'btcusdt'")
    for symbol in symbols:
        if not _SYMBOL.fullmatch(symbol):
            raise ValueError(f"symbol must be lower-case letters and digits, got {symbol!r}")
    streams = "/".join(f"{s}@trade" for s in symbols)
    return f"{base_url.rstrip('/')}/stream?streams={streams}"


class BinanceTradeSession:
    """Stream Binance spot trades of ``symbols`` as :class:`ReferencePrice` events into ``sink``.

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
        policy: ReconnectPolicy | None = None,
        stale_after_s: float | None = 60.0,
        rng: random.Random | None = None,
    ) -> None:
        self.symbols = tuple(s.lower() for s in symbols)
        self.counters = SessionCounters()
        self.events_by_type: Counter[type[Event]] = Counter()
        """Events handed on per event class; they add up to ``counters.events``."""
        self._sink = sink
        self._on_raw = on_raw
        self.feed = WebSocketFeed(
            trade_stream_url(config.binance.ws_url, self.symbols),
            name="binance",
            http=http,
            clock=clock,
            on_frame=self._on_frame,
            ping_text=None,
            stale_after_s=stale_after_s,
            policy=policy,
            rng=rng,
        )

    async def run(self) -> None:
        """Connect, stream and reconnect until :meth:`close`."""
        await self.feed.run()

    async def close(self) -> None:
        """Stop streaming; :meth:`run` returns."""
        await self.feed.close()

    async def _on_frame(self, frame: Frame, recv_ns: int) -> None:
        if self._on_raw is not None:
            self._on_raw(self.feed.name, frame, recv_ns)
        try:
            events = parse(frame, recv_ns)
        except BinanceDecodeError as e:
            self.counters.decode_errors += 1
            log_dropped(log, self.feed.name, self.counters.decode_errors,
                        self.feed.counters.frames, e)
            return
        for event in events:
            await self._sink.put(event)
            self.events_by_type[type(event)] += 1
        self.counters.events += len(events)
