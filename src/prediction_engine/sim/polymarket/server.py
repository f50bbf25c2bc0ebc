"""`SimPolymarket`: one aiohttp server on 127.0.0.1 serving Gamma, CLOB REST and the market WS.

The only module here that does I/O or reads the event-loop clock. A background task applies
`World.step()` at `updates_per_second` and fans the frames out; tests drive everything else
through the control methods (pause, advance, drop connections, inject faults, ...).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from dataclasses import dataclass
from types import TracebackType

from aiohttp import web

from prediction_engine.sim.polymarket import lifecycle
from prediction_engine.sim.polymarket.model import Market, updown_slug, updown_window_start
from prediction_engine.sim.polymarket.routes import Fault, Routes
from prediction_engine.sim.polymarket.stream import Hub
from prediction_engine.sim.polymarket.units import fmt
from prediction_engine.sim.polymarket.world import DEFAULT_CLOCK_START_S, World, WorldSpec

_TICK_S = 0.001


@dataclass(frozen=True)
class SimConfig:
    """Settings of a simulated Polymarket venue.

    Simulated time starts at `clock_start_s` and advances `step_ms` per update (default
    1000 / updates_per_second), so frame timestamps are deterministic; pass
    `clock_start_s=int(time.time())` for timestamps near the wall clock.
    """

    seed: int = 0
    updates_per_second: float = 50.0
    max_assets_per_connection: int = 500
    clock_start_s: int = DEFAULT_CLOCK_START_S
    step_ms: int | None = None
    extra_markets: int = 0
    updown_assets: tuple[str, ...] = ("btc", "eth")
    updown_windows: int = 2
    clob_markets_page_size: int = 100
    start_paused: bool = False
    max_queued_frames: int = 100_000

    def __post_init__(self) -> None:
        if self.updates_per_second <= 0:
            raise ValueError("updates_per_second must be positive")
        if self.max_assets_per_connection < 0 or self.clob_markets_page_size < 1:
            raise ValueError("max_assets_per_connection >= 0 and clob_markets_page_size >= 1")

    def world_spec(self) -> WorldSpec:
        """The world inputs implied by this config."""
        step_ms = self.step_ms or max(1, round(1000 / self.updates_per_second))
        return WorldSpec(
            self.clock_start_s,
            step_ms,
            self.updown_assets,
            self.updown_windows,
            self.extra_markets,
        )


@dataclass(frozen=True)
class MarketInfo:
    """What a test needs to know about a listed market."""

    condition_id: str
    slug: str
    question: str
    outcomes: tuple[str, str]
    token_ids: tuple[str, str]
    tick_size: str
    neg_risk: bool
    closed: bool
    event_slug: str
    series_slug: str | None


class SimPolymarket:
    """A local Polymarket venue, deterministic from `config.seed`."""

    def __init__(self, config: SimConfig | None = None) -> None:
        self.config = config or SimConfig()
        self.world = World(self.config.seed, self.config.world_spec())
        self._counters: defaultdict[str, int] = defaultdict(int)
        self._routes = Routes(self.world, self._counters, self.config.clob_markets_page_size)
        self._hub = Hub(
            self.world,
            self._counters,
            self.config.max_assets_per_connection,
            self.config.max_queued_frames,
        )
        self._paused = self.config.start_paused
        self._runner: web.AppRunner | None = None
        self._generator: asyncio.Task[None] | None = None
        self._port = 0
        self._host = "127.0.0.1"

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Listen on host:port (0 = ephemeral) and start the update generator."""
        app = web.Application()
        self._routes.install(app)
        app.router.add_get("/ws/market", self._hub.handle)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        self._host, self._port = host, int(self._runner.addresses[0][1])
        self._generator = asyncio.create_task(self._generate(), name="sim-polymarket-steps")

    async def stop(self) -> None:
        """Stop generating, close all sockets and the server; re-raise a generator failure."""
        generator, self._generator = self._generator, None
        try:
            if generator is not None:
                generator.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await generator
        finally:
            await self._hub.close_all()
            if self._runner is not None:
                await self._runner.cleanup()
                self._runner = None

    async def __aenter__(self) -> SimPolymarket:
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

    # -- inspection ----------------------------------------------------------------------

    def token_ids(self) -> list[str]:
        """Token ids of every open market, in listing order (YES/first outcome first)."""
        return [token for market in self.world.open_markets() for token in market.token_ids]

    def markets(self) -> list[MarketInfo]:
        """Every listed market, open and closed."""
        return [self._info(market) for market in self.world.catalog.markets]

    def truth(self, token_id: str) -> tuple[dict[str, str], dict[str, str]]:
        """Current (bids, asks) of a token as price string -> size string."""
        return self.world.truth(token_id)

    def updown_slug(self, asset: str, minutes: int, window: int = 0) -> str:
        """Slug of an Up/Down window: 0 = the one containing the clock start, 1 = next."""
        start = updown_window_start(self.config.clock_start_s, minutes) + window * minutes * 60
        return updown_slug(asset, minutes, start)

    @property
    def counters(self) -> dict[str, int]:
        """Copy of the activity counters (connections, frames_sent, subscribes, ...)."""
        return dict(self._counters)

    @property
    def paused(self) -> bool:
        """Whether the update generator is paused."""
        return self._paused

    # -- control -------------------------------------------------------------------------

    def pause(self) -> None:
        """Stop applying random updates (the books stay as they are)."""
        self._paused = True

    def resume(self) -> None:
        """Resume random updates."""
        self._paused = False

    async def advance(self, steps: int = 1) -> None:
        """Apply `steps` updates now and publish them (works while paused)."""
        for _ in range(steps):
            self._step()
        await asyncio.sleep(0)

    async def drop_connections(self) -> None:
        """Abort every WebSocket without a close handshake; clients must reconnect."""
        await self._hub.drop_all()

    async def broadcast_raw(self, text: str) -> None:
        """Send a raw text frame to every WebSocket client."""
        self._hub.send_raw(text)
        await asyncio.sleep(0)

    async def change_tick(self, token_id: str, tick_size: str) -> None:
        """Change a market's tick: `tick_size_change` then a fresh `book`, per token."""
        self._hub.publish(self.world.change_tick(token_id, tick_size))
        await asyncio.sleep(0)

    async def list_market(self, question: str, slug: str | None = None) -> MarketInfo:
        """List a new market and announce it with `new_market` (custom-feature clients)."""
        market, frame = lifecycle.list_market(self.world, question, slug)
        self._hub.publish([frame])
        await asyncio.sleep(0)
        return self._info(market)

    async def resolve_market(self, condition_id: str, winner: int = 0) -> None:
        """Resolve a market (outcome `winner` wins) and send `market_resolved`."""
        self._hub.publish([lifecycle.resolve_market(self.world, condition_id, winner)])
        await asyncio.sleep(0)

    def fail_http(self, path_prefix: str, status: int, times: int = 1) -> None:
        """Answer the next `times` requests under `path_prefix` with `status`."""
        self._routes.faults.append(Fault(path_prefix, status, times))

    # -- internals -----------------------------------------------------------------------

    def _step(self) -> None:
        self._counters["steps"] += 1
        self._hub.publish(self.world.step())

    async def _generate(self) -> None:
        """Apply steps at `updates_per_second`: wake at most every `_TICK_S` and apply every
        step that has come due, so high rates do not cost one timer per step."""
        loop = asyncio.get_running_loop()
        interval = 1.0 / self.config.updates_per_second
        due = loop.time()
        while True:
            now = loop.time()
            if now - due > 1.0:  # fell far behind (debugger, loaded CI): don't burst to catch up
                due = now
            while due <= now:
                due += interval
                if not self._paused:
                    self._step()
            await asyncio.sleep(max(due - loop.time(), _TICK_S))

    def _info(self, market: Market) -> MarketInfo:
        series = market.event.series
        return MarketInfo(
            market.condition_id,
            market.slug,
            market.question,
            market.outcomes,
            market.token_ids,
            fmt(self.world.tick(market)),
            market.neg_risk,
            market.closed,
            market.event.slug,
            None if series is None else series.slug,
        )
