"""``pengine record`` as a library: discover markets, stream their books, record every frame.

:func:`run_record` discovers markets through Gamma into a catalog, writes their metadata and
subscribes their books on one :class:`MarketDataSession` (plus optional Binance and RTDS
reference sessions), all feeding one :class:`~.recorder.Recorder` through raw-frame hooks. It
follows the venue while it runs: a ``new_market`` announcement (when recording every active
market) and a rediscovery every ``refresh_s`` add markets; a resolution, or a market that
closed, unsubscribes it. Sessions reconnect on their own (with fresh snapshots) and never
give up once connected; the recorder just keeps writing. Returns the final status, also
written to ``summary.json``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import aiohttp

from prediction_engine.config import Config
from prediction_engine.core.events import Event, MarketListed, MarketResolved
from prediction_engine.core.markets import Market
from prediction_engine.engine.clock import Clock, LiveClock
from prediction_engine.record.discovery import (
    RecordInputError,
    changes,
    has_open_book,
    select_markets,
)
from prediction_engine.record.recorder import DEFAULT_ROTATE_BYTES, Recorder, RecorderStats
from prediction_engine.tape import TapeError
from prediction_engine.venues.binance.session import BinanceTradeSession
from prediction_engine.venues.errors import DecodeError
from prediction_engine.venues.http import TransportError, VenueRejectedError
from prediction_engine.venues.polymarket.catalog import Catalog, CatalogStore, refresh_catalog
from prediction_engine.venues.polymarket.rest import ClobClient, GammaClient, MarketQuery
from prediction_engine.venues.polymarket.rtds_session import RtdsSession
from prediction_engine.venues.polymarket.session import MarketDataSession
from prediction_engine.venues.websocket import FeedFailedError, ReconnectPolicy, WebSocketFeed

__all__ = ["RecordOptions", "RecordStatus", "run_record"]

log = logging.getLogger(__name__)

_GAMMA_ERRORS = (TransportError, VenueRejectedError, DecodeError)
_FOREVER = ReconnectPolicy(max_attempts=sys.maxsize)


@dataclass(frozen=True)
class RecordOptions:
    """What to record, where, and how the tapes are cut."""

    out_dir: Path
    query: str | None = None
    """Search words choosing the markets; ``None`` records every active order-book market."""
    limit: int = 20
    refresh_s: float = 300.0
    duration_s: float | None = None
    rotate_bytes: int = DEFAULT_ROTATE_BYTES
    parquet: bool = True
    bucket_s: int = 3600
    binance: tuple[str, ...] = ()
    rtds: tuple[str, ...] = ()


@dataclass
class RecordStatus:
    """How a recording is going (plain data for the display and ``summary.json``)."""

    elapsed_s: float = 0.0
    markets: int = 0
    tokens: int = 0
    books_synced: int = 0
    book_frames: int = 0
    reference_frames: int = 0
    listed: int = 0
    resolved: int = 0
    closed: int = 0
    discoveries: int = 0
    discovery_failures: int = 0
    reconnects: int = 0
    decode_errors: int = 0
    recorder: RecorderStats = field(default_factory=RecorderStats)


OnStatus = Callable[[RecordStatus], None]


class _Lifecycle:
    """The session's sink: keeps listings and resolutions, lets every other event go."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[MarketListed | MarketResolved] = asyncio.Queue(maxsize=10_000)

    async def put(self, item: Event, /) -> None:
        if isinstance(item, MarketListed | MarketResolved):
            await self.queue.put(item)


class _Discard:
    async def put(self, item: Event, /) -> None:
        pass


async def run_record(
    config: Config,
    options: RecordOptions,
    *,
    clock: Clock | None = None,
    stop: asyncio.Event | None = None,
    on_status: OnStatus | None = None,
    on_recover: Callable[[Path], None] | None = None,
) -> RecordStatus:
    """Record until ``stop`` is set or the duration is over; return the final status.

    Raises :class:`RecordInputError` when nothing matches or ``out`` holds a store this
    version cannot use, :class:`TapeError` for a tape it cannot recover, venue errors when
    Gamma cannot be reached at start or the market feed never connects.
    """
    clock = clock or LiveClock()
    stop = stop or asyncio.Event()
    out = options.out_dir
    out.mkdir(parents=True, exist_ok=True)
    async with aiohttp.ClientSession() as http:
        gamma = GammaClient.from_config(http, config.polymarket)
        catalog = await _discover(gamma, clock, out)
        markets = select_markets(catalog, options.query, options.limit)
        if not markets:
            what = f"matches {options.query!r}" if options.query else "is active"
            raise RecordInputError(f"no open market with an order book {what}")
        try:
            recorder = Recorder(
                out, clock=clock, rotate_bytes=options.rotate_bytes, parquet=options.parquet,
                bucket_s=options.bucket_s, on_recover=on_recover,
            )
        except TapeError:
            raise  # a damaged tape to recover: not the user's input
        except ValueError as e:  # a store this pengine cannot use, a bad bucket size
            raise RecordInputError(f"{out / 'store'}: {e}") from e
        recording = _Recording(config, options, recorder, gamma, http, clock)
        try:
            await recording.run(markets, stop, on_status)
        finally:
            recorder.close()
    final = recording.status()
    (out / "summary.json").write_text(json.dumps(asdict(final), indent=2) + "\n")
    return final


async def _discover(gamma: GammaClient, clock: Clock, out: Path) -> Catalog:
    catalog = await refresh_catalog(gamma, clock.now_ns(), MarketQuery(enable_order_book=True))
    CatalogStore(out / "catalog.json").save(catalog)
    return catalog


class _Recording:
    """One recording's sessions and counters (owned by the task running :meth:`run`)."""

    def __init__(  # noqa: PLR0917 - the pieces run_record built
        self, config: Config, options: RecordOptions, recorder: Recorder,
        gamma: GammaClient, http: aiohttp.ClientSession, clock: Clock,
    ) -> None:
        self.config, self.options, self.recorder = config, options, recorder
        self.gamma, self.clock = gamma, clock
        self.counts = RecordStatus()
        self.lifecycle = _Lifecycle()
        hooks = recorder.hooks()
        clob = ClobClient.from_config(http, config.polymarket, clock)
        self.session = MarketDataSession(
            config.polymarket, http=http, clock=clock, sink=self.lifecycle,
            fetch_book=clob.book, on_raw=hooks.market, policy=_FOREVER,
        )
        self.reference: list[BinanceTradeSession | RtdsSession] = []
        if options.binance:
            self.reference.append(BinanceTradeSession(
                config, options.binance, http, clock, _Discard(), on_raw=hooks.binance,
                policy=_FOREVER,
            ))
        for topic, symbols in _rtds_topics(options.rtds).items():
            self.reference.append(RtdsSession(
                config, symbols, http, clock, _Discard(), on_raw=hooks.rtds, topic=topic,
                policy=_FOREVER,
            ))
        self._done: set[str] = set()  # markets that resolved or closed
        self._looked_up: set[str] = set()  # announced listings already fetched from Gamma
        self._connected = False
        self._started = 0.0
        self._stopped: float | None = None

    async def run(self, markets: list[Market], stop: asyncio.Event,
                  on_status: OnStatus | None) -> None:
        self._started = asyncio.get_running_loop().time()
        self.recorder.add_markets(markets)
        tokens = [t for m in markets for t in m.tokens]
        async with asyncio.TaskGroup() as group:
            group.create_task(self.session.run(tokens), name="record-books")
            for session in self.reference:
                group.create_task(session.run(), name=f"record-{session.feed.name}")
            helpers = [
                group.create_task(self._follow_lifecycle(), name="record-lifecycle"),
                group.create_task(self._rediscover_every(), name="record-rediscover"),
            ]
            await self._until_stopped(stop, on_status)
            self._stopped = asyncio.get_running_loop().time()
            await self.session.close()
            for session in self.reference:
                await session.close()
            for task in helpers:
                task.cancel()

    async def _until_stopped(self, stop: asyncio.Event, on_status: OnStatus | None) -> None:
        loop = asyncio.get_running_loop()
        duration = self.options.duration_s
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):  # not wait_for: it can eat a cancel
                async with asyncio.timeout(0.25):
                    await stop.wait()
            self.recorder.check()
            self._check_connected()
            if on_status is not None:
                on_status(self.status())
            if duration is not None and loop.time() - self._started >= duration:
                return

    def _check_connected(self) -> None:
        """Fail if the market feed never connected within the configured attempts."""
        if self._connected:
            return
        feeds = self.session.feeds
        if any(f.counters.connects for f in feeds):
            self._connected = True
            return
        attempts = max((f.counters.failed_attempts for f in feeds), default=0)
        if attempts >= self.config.polymarket.reconnect_attempts:
            url = self.config.polymarket.ws_market_url
            raise FeedFailedError(f"the market WebSocket {url} refused {attempts} connections")

    # -- following the venue ---------------------------------------------------------------

    async def _add(self, markets: Sequence[Market]) -> None:
        wanted = [m for m in markets if m.condition_id not in self._done]
        fresh = self.recorder.add_markets(wanted)  # metadata first, then the books
        tokens = [t for m in fresh for t in m.tokens]
        if tokens:
            await self.session.subscribe(tokens)

    async def _remove(self, market: Market) -> None:
        self._done.add(market.condition_id)  # a lagging listing must not bring it back
        self.recorder.remove_markets([market.condition_id])
        await self.session.unsubscribe(market.tokens)

    async def _follow_lifecycle(self) -> None:
        while True:
            event = await self.lifecycle.queue.get()
            if isinstance(event, MarketResolved):
                market = self.recorder.market(event.market)
                if market is not None:  # every shard announces it: act on the first
                    self.counts.resolved += 1
                    await self._remove(market)
            elif self.options.query is None and event.market not in self._looked_up:
                self._looked_up.add(event.market)
                await self._listed(event)

    async def _listed(self, event: MarketListed) -> None:
        if self.recorder.market(event.market) is not None:
            return
        try:
            market = await self.gamma.market_by_slug(event.slug)
        except _GAMMA_ERRORS as e:
            log.warning("new market %s: Gamma lookup failed (%s); next rediscovery", event.slug, e)
            return
        if market is not None and has_open_book(market):
            self.counts.listed += 1
            await self._add([market])

    async def _rediscover_every(self) -> None:
        while True:
            await asyncio.sleep(self.options.refresh_s)
            await self.rediscover()

    async def rediscover(self) -> None:
        """Fetch the catalog again: add what now matches, drop what closed."""
        try:
            catalog = await _discover(self.gamma, self.clock, self.options.out_dir)
        except _GAMMA_ERRORS as e:
            self.counts.discovery_failures += 1
            log.warning("rediscovery failed, keeping the current markets: %s", e)
            return
        self.counts.discoveries += 1
        wanted = select_markets(catalog, self.options.query, self.options.limit)
        added, gone = changes(self.recorder.markets, wanted, catalog)
        added = [m for m in added if m.condition_id not in self._done]
        self.counts.listed += len(added)
        await self._add(added)
        for market in gone:
            if await self._closed(market):
                self.counts.closed += 1
                await self._remove(market)

    async def _closed(self, market: Market) -> bool:
        """Whether a market missing from the open listing really closed (one page can lag)."""
        try:
            now = await self.gamma.market_by_slug(market.slug)
        except _GAMMA_ERRORS:
            return False
        return now is None or not has_open_book(now)

    # -- status ----------------------------------------------------------------------------

    def _feeds(self) -> list[WebSocketFeed]:
        return [*self.session.feeds, *(s.feed for s in self.reference)]

    def status(self) -> RecordStatus:
        """The counters now."""
        session = self.session
        tokens = session.tokens
        status = self.counts
        end = asyncio.get_running_loop().time() if self._stopped is None else self._stopped
        status.elapsed_s = end - self._started
        status.markets = len(self.recorder.markets)
        status.tokens = len(tokens)
        status.books_synced = sum(1 for t in tokens if session.books.book(t) is not None)
        status.book_frames = session.counters.frames
        status.reference_frames = sum(s.feed.counters.frames for s in self.reference)
        status.reconnects = sum(max(0, f.counters.connects - 1) for f in self._feeds())
        status.decode_errors = session.counters.decode_errors + sum(
            s.counters.decode_errors for s in self.reference
        )
        status.recorder = self.recorder.snapshot()
        return status


def _rtds_topics(symbols: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """RTDS symbols by topic: ``btc/usd`` is Chainlink's, ``btcusdt`` the Binance-sourced one."""
    topics: dict[str, tuple[str, ...]] = {}
    for symbol in symbols:
        topic = "crypto_prices_chainlink" if "/" in symbol else "crypto_prices"
        topics[topic] = (*topics.get(topic, ()), symbol)
    return topics
