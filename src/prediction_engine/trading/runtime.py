"""One trading process: sessions -> inbox -> engine -> paper execution, plus telemetry.

:class:`TradingRuntime` owns the asyncio tasks. The engine aggregates every strategy's
subscriptions; the runtime turns additions and removals into (un)subscriptions of one shared
Polymarket market-data session, and opens Binance and RTDS reference sessions for the symbols
the strategies asked for. Every session hands its events to the engine's one bounded inbox.

Observers plug in without touching the engine: ``sinks`` receive the engine's telemetry records
(next to the CSV files), and ``services`` are coroutines started in the runtime's task group
once it runs (a metrics server, a dashboard publisher, a notifier); they are cancelled when the
runtime stops, after the engine has finished.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from prediction_engine.config import Config
from prediction_engine.core.events import Event
from prediction_engine.core.ids import TokenId, Venue
from prediction_engine.core.markets import Market
from prediction_engine.engine.clock import Clock
from prediction_engine.engine.journaling import JournalKind, Shutdown
from prediction_engine.engine.loop import Engine, EngineConfig
from prediction_engine.engine.messages import Inbox, Stop
from prediction_engine.engine.telemetry import Telemetry, TelemetryFanOut, TelemetrySink
from prediction_engine.execution.paper import PaperExecution
from prediction_engine.storage.journal import Journal
from prediction_engine.strategy.base import Strategy, Subscriptions
from prediction_engine.venues.binance.session import BinanceTradeSession
from prediction_engine.venues.feed import EventSink, RawFrameHook
from prediction_engine.venues.polymarket.rest import ClobClient
from prediction_engine.venues.polymarket.rtds_session import RtdsSession
from prediction_engine.venues.polymarket.session import MarketDataSession
from prediction_engine.venues.websocket import WebSocketFeed

__all__ = ["NamedFeed", "RawHooks", "Service", "TradingRuntime", "reference_venue"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RawHooks:
    """Optional raw-frame hooks per channel (the recorder)."""

    market: RawFrameHook | None = None
    binance: RawFrameHook | None = None
    rtds: RawFrameHook | None = None


Service = Callable[["TradingRuntime"], Awaitable[None]]
"""A coroutine function run next to the engine for as long as the runtime runs."""


@dataclass(frozen=True)
class NamedFeed:
    """One WebSocket connection of the runtime, named uniquely (for metrics and dashboards)."""

    venue: Venue
    name: str
    feed: WebSocketFeed


class _Tee:
    """Hand each event to the engine's inbox, then to an observer (the demo's own checks)."""

    def __init__(self, inbox: Inbox, tap: EventSink) -> None:
        self._inbox, self._tap = inbox, tap

    async def put(self, item: Event, /) -> None:
        await self._inbox.put(item)
        await self._tap.put(item)


class TradingRuntime:
    """The engine with paper execution, fed by live (or simulated) venue sessions."""

    def __init__(
        self,
        config: Config,
        strategies: Sequence[Strategy],
        *,
        http: aiohttp.ClientSession,
        clock: Clock,
        engine_config: EngineConfig | None = None,
        telemetry_dir: Path | None = None,
        hooks: RawHooks | None = None,
        reference_feeds: Sequence[str] = ("binance", "rtds"),
        tap: EventSink | None = None,
        sinks: Sequence[TelemetrySink] = (),
        services: Sequence[Service] = (),
        journal: Journal | None = None,
        cancel_on_stop: bool = True,
    ) -> None:
        self.config = config
        self.clock = clock
        self.http = http
        self.hooks = hooks or RawHooks()
        self.reference_feeds = tuple(reference_feeds)
        self.inbox = Inbox()
        sink: EventSink = self.inbox if tap is None else _Tee(self.inbox, tap)
        self.telemetry = Telemetry(telemetry_dir) if telemetry_dir is not None else None
        every: list[TelemetrySink] = [] if self.telemetry is None else [self.telemetry]
        every.extend(sinks)
        self.services = tuple(services)
        sink_all = None if not every else every[0] if len(every) == 1 else TelemetryFanOut(every)
        self.engine = Engine(
            strategies,
            clock,
            engine_config,
            telemetry=sink_all,
            on_subscriptions=self._subscriptions_changed,
            journal=journal,
        )
        self.journal = journal
        self.cancel_on_stop = cancel_on_stop
        # Trade ids stay unique across the sessions of a journaled run.
        prefix = "paper" if journal is None else f"paper-s{journal.session}"
        self.paper = PaperExecution(
            self.engine.state.books.book, self.engine.state.fee_schedule, self.engine.post,
            id_prefix=prefix,
        )
        self.engine.attach(self.paper)
        clob = ClobClient.from_config(http, config.polymarket, clock)
        self.session = MarketDataSession(
            config.polymarket,
            http=http,
            clock=clock,
            sink=sink,
            fetch_book=clob.book,
            on_raw=self.hooks.market,
        )
        self.reference_sessions: list[BinanceTradeSession | RtdsSession] = []
        self._symbols: set[str] = set()
        self._warm: set[str] = set()
        self._watched: set[TokenId] = set()
        self._sink = sink
        self._group: asyncio.TaskGroup | None = None

    def add_markets(self, markets: Sequence[Market]) -> Subscriptions:
        """Offer markets to the strategies before :meth:`run` (or from the engine's task)."""
        return self.engine.add_markets(markets)

    def warm_symbols(self, symbols: Sequence[str]) -> None:
        """Stream these reference symbols from the start, before any strategy asks for them."""
        self._warm.update(s.lower() for s in symbols)

    def watch_tokens(self, tokens: Sequence[TokenId]) -> None:
        """Stream these books too, whether or not a strategy wants them (the demo's)."""
        self._watched.update(tokens)

    async def run(self, stop: asyncio.Event) -> None:
        """Stream, trade and write telemetry until ``stop`` is set; then shut down in order."""
        async with asyncio.TaskGroup() as group:
            self._group = group
            engine = group.create_task(self.engine.run(self.inbox), name="engine")
            writer = None
            if self.telemetry is not None:
                writer = group.create_task(self.telemetry.run(), name="telemetry-writer")
            journal_writer = None
            if self.journal is not None:
                journal_writer = group.create_task(self.journal.run(), name="journal-writer")
            services = [
                group.create_task(_service(service, self), name=f"service-{index}")
                for index, service in enumerate(self.services)
            ]
            subscriptions = self.engine.subscriptions
            tokens = sorted(subscriptions.tokens | self._watched)
            group.create_task(self.session.run(tokens), name="books")
            self._open_reference(subscriptions.symbols | self._warm)
            await stop.wait()
            await self.session.close()
            for session in self.reference_sessions:
                await session.close()
            await self.inbox.put(Stop(cancel_orders=self.cancel_on_stop))
            await engine
            for task in services:
                task.cancel()
            if journal_writer is not None:
                self._journal_shutdown()
                journal_writer.cancel()  # it commits what is pending as it ends
                with contextlib.suppress(asyncio.CancelledError):
                    await journal_writer
            if writer is not None:
                writer.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await writer
        self._group = None
        if self.telemetry is not None:
            self.telemetry.close()

    def named_feeds(self) -> list[NamedFeed]:
        """Every connection: the Polymarket shards, then the reference feeds.

        The runtime opens one reference session per batch of symbols and they all name their
        feed alike ("binance"); the second and later get a suffix ("binance-2").
        """
        feeds = [(Venue.POLYMARKET, feed) for feed in self.session.feeds]
        feeds.extend((reference_venue(s), s.feed) for s in self.reference_sessions)
        seen: dict[str, int] = {}
        named: list[NamedFeed] = []
        for venue, feed in feeds:
            count = seen[feed.name] = seen.get(feed.name, 0) + 1
            named.append(NamedFeed(venue, feed.name if count == 1 else f"{feed.name}-{count}",
                                   feed))
        return named

    def _journal_shutdown(self) -> None:
        """Journal the graceful stop and a last snapshot (the engine has finished)."""
        journal, state = self.journal, self.engine.state
        if journal is None:
            return
        now = max(state.now_ns, self.clock.now_ns())
        stop = Shutdown(ts_ns=now, open_orders=len(state.open_orders),
                        cancelled=self.cancel_on_stop)
        journal.append(JournalKind.SHUTDOWN, now, stop)
        journal.append(JournalKind.SNAPSHOT, now, self.engine.export_state())

    def _subscriptions_changed(self, added: Subscriptions, removed: Subscriptions) -> None:
        group = self._group
        if group is None:
            return  # before run(): the initial set is subscribed when the session starts
        if added.tokens:
            group.create_task(self.session.subscribe(sorted(added.tokens)), name="subscribe")
        if removed.tokens:
            group.create_task(self.session.unsubscribe(sorted(removed.tokens)), name="unsubscribe")
        if added.symbols:
            self._open_reference(added.symbols)

    def _open_reference(self, symbols: frozenset[str]) -> None:
        fresh = sorted(s.lower() for s in symbols if s.lower() not in self._symbols)
        if not fresh or self._group is None:
            return
        self._symbols.update(fresh)
        sessions: list[BinanceTradeSession | RtdsSession] = []
        if "binance" in self.reference_feeds:
            sessions.append(
                BinanceTradeSession(
                    self.config, fresh, self.http, self.clock, self._sink, on_raw=self.hooks.binance
                )
            )
        if "rtds" in self.reference_feeds:
            sessions.append(
                RtdsSession(
                    self.config, fresh, self.http, self.clock, self._sink, on_raw=self.hooks.rtds
                )
            )
        for session in sessions:
            self.reference_sessions.append(session)
            self._group.create_task(session.run(), name=f"reference-{','.join(fresh)}")


def reference_venue(session: BinanceTradeSession | RtdsSession) -> Venue:
    """The venue whose prices a reference session streams."""
    return Venue.BINANCE if isinstance(session, BinanceTradeSession) else Venue.POLYMARKET_RTDS


async def _service(service: Service, runtime: TradingRuntime) -> None:
    """Run one service; its cancellation at shutdown is the normal end, not an error."""
    with contextlib.suppress(asyncio.CancelledError):
        await service(runtime)
