"""`SimPolymarket`: one aiohttp server on 127.0.0.1 serving Gamma, CLOB REST and the market WS,
plus (by default) the Binance and RTDS reference feeds on a second port, both fed by one world.

The only module here that does I/O or reads the event-loop clock. A background task applies
`World.step()` at `updates_per_second`, fans the frames out and hands the underlying's ticks
to the reference feeds; tests drive everything else through the control methods (pause,
advance, drop connections, stall, inject faults and arbitrage, ...).
"""

from __future__ import annotations

import asyncio
import random
from collections import defaultdict
from dataclasses import dataclass, field

from prediction_engine.sim.polymarket import lifecycle
from prediction_engine.sim.polymarket.faults import FaultPlan, run_schedule
from prediction_engine.sim.polymarket.model import Market, updown_slug, updown_window_start
from prediction_engine.sim.polymarket.routes import Fault, Routes
from prediction_engine.sim.polymarket.scenarios import Episode
from prediction_engine.sim.polymarket.stream import Hub, StreamFaults
from prediction_engine.sim.polymarket.units import fmt
from prediction_engine.sim.polymarket.venue import LocalVenue
from prediction_engine.sim.polymarket.world import DEFAULT_CLOCK_START_S, World, WorldSpec
from prediction_engine.sim.reference_feeds import ReferenceFeedServer

_TICK_S = 0.001
_MAX_BURST = 32
"""Steps applied before the generator yields to the socket writers."""
_FLIP = {"0.01": "0.001", "0.001": "0.01"}


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
    updown_minutes: tuple[int, ...] = (5, 15)
    annual_volatility: float = 0.6
    arb_every_s: float = 0.0
    listing_every_s: float = 0.0
    reference_feeds: bool = True
    """Also serve the world's underlying as Binance trades and RTDS prices (second port)."""
    faults: FaultPlan = field(default_factory=FaultPlan)

    def __post_init__(self) -> None:
        if self.updates_per_second <= 0:
            raise ValueError("updates_per_second must be positive")
        if self.max_assets_per_connection < 0 or self.clob_markets_page_size < 1:
            raise ValueError("max_assets_per_connection >= 0 and clob_markets_page_size >= 1")
        if any(minutes <= 0 for minutes in self.updown_minutes) or self.updown_windows < 1:
            raise ValueError("updown_minutes must be positive and updown_windows >= 1")

    def world_spec(self) -> WorldSpec:
        """The world inputs implied by this config."""
        step_ms = self.step_ms or max(1, round(1000 / self.updates_per_second))
        return WorldSpec(
            self.clock_start_s,
            step_ms,
            self.updown_assets,
            self.updown_windows,
            self.extra_markets,
            self.updown_minutes,
            self.annual_volatility,
            arb_every_s=self.arb_every_s,
            listing_every_s=self.listing_every_s,
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


class SimPolymarket(LocalVenue):
    """A local Polymarket venue, deterministic from `config.seed`."""

    def __init__(self, config: SimConfig | None = None) -> None:
        self.config = config or SimConfig()
        self.world = World(self.config.seed, self.config.world_spec())
        self._counters: defaultdict[str, int] = defaultdict(int)
        super().__init__(
            Routes(self.world, self._counters, self.config.clob_markets_page_size),
            Hub(
                self.world,
                self._counters,
                self.config.max_assets_per_connection,
                self.config.max_queued_frames,
                fault_seed=self.config.seed,
            ),
        )
        self.feeds: ReferenceFeedServer | None = None
        if self.config.reference_feeds:
            self.feeds = ReferenceFeedServer(path=self.world.underlying)
        self.apply_faults(self.config.faults)
        self._fault_rng = random.Random(self.config.seed)
        self._paused = self.config.start_paused

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0, feeds_port: int = 0) -> None:
        """Listen on host:port (0 = ephemeral), the reference feeds on host:feeds_port, and
        start the update generator (and the fault schedule, if any)."""
        await self._listen(host, port)
        if self.feeds is not None:
            await self.feeds.start(host, feeds_port)
        self._tasks.append(asyncio.create_task(self._generate(), name="sim-polymarket-steps"))
        plan = self.config.faults
        if plan.periodic:
            schedule = run_schedule(
                plan,
                drop=self.drop_connections,
                stall=lambda: self._stall_now(plan.stall_s),
                tick_change=self._random_tick_change,
                seed=self.config.seed,
            )
            self._tasks.append(asyncio.create_task(schedule, name="sim-polymarket-faults"))

    async def _close_more(self) -> None:
        if self.feeds is not None:
            await self.feeds.stop()

    # -- addresses -----------------------------------------------------------------------

    def env(self) -> dict[str, str]:
        """The variables pointing pengine at this venue, the reference feeds included."""
        urls = super().env()
        if self.feeds is not None:
            urls["PENGINE_POLYMARKET_RTDS_URL"] = self.rtds_url
            urls["PENGINE_BINANCE_WS_URL"] = self.binance_url
        return urls

    @property
    def binance_url(self) -> str:
        """Binance WebSocket base URL (`Config.binance.ws_url`); needs `reference_feeds`."""
        return self._feeds().binance_url

    @property
    def rtds_url(self) -> str:
        """RTDS WebSocket URL (`Config.polymarket.rtds_url`); needs `reference_feeds`."""
        return self._feeds().rtds_url

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
        """Copy of the activity counters (connections, frames_sent, subscribes, `fault_*`,
        arbitrage episodes and resolutions, ...)."""
        counters = dict(self._counters)
        world = self.world
        counters["arb_episodes"] = len(world.arb.episodes)
        counters["markets_listed"] = world.listings.listed + world.updown.resolved
        counters["markets_resolved"] = world.listings.resolved + world.updown.resolved
        counters["markets_resolved"] += self._counters.get("resolved_by_hand", 0)
        counters["open_markets"] = len(world.open_markets())
        if self.feeds is not None:
            counters.update({f"feeds_{k}": v for k, v in self.feeds.counters.items()})
        return counters

    @property
    def faults(self) -> StreamFaults:
        """The live per-frame WebSocket faults; set their fields to switch faults on/off."""
        return self._hub.faults

    @property
    def arbitrage(self) -> list[Episode]:
        """Every neg-risk arbitrage episode so far (injected or random), oldest first."""
        return list(self.world.arb.episodes)

    def price(self, symbol: str) -> str:
        """The underlying's last price (e.g. `btcusdt`) as a decimal string."""
        return str(self.world.underlying.price(symbol))

    def strike(self, slug: str) -> str | None:
        """The strike of a started Up/Down window, as a decimal string."""
        market = self.world.catalog.by_slug(slug)
        strike = None if market is None else self.world.updown.strikes.get(market.condition_id)
        return None if strike is None else str(strike)

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
        await self._publish_ticks()
        await asyncio.sleep(0)

    async def drop_connections(self) -> None:
        """Abort every WebSocket without a close handshake; clients must reconnect."""
        self._counters["fault_drops"] += 1
        await self._hub.drop_all()

    def stall(self, seconds: float) -> None:
        """Send nothing, not even `PONG`, on the open market sockets for `seconds`, then
        deliver the backlog (a TCP-level stall); the reference feeds stall too."""
        self._hub.stall(seconds)
        if self.feeds is not None:
            self.feeds.stall(seconds)

    def apply_faults(self, plan: FaultPlan) -> None:
        """Switch the per-frame and HTTP faults of `plan` on (zeros switch them off)."""
        faults = self._hub.faults
        faults.delay_s, faults.duplicate = plan.delay_s, plan.duplicate
        faults.reorder, faults.malformed = plan.reorder, plan.malformed
        self._routes.error_rate = plan.http_error_rate
        self._routes.error_statuses = plan.http_error_statuses

    async def inject_arbitrage(
        self, event_slug: str | None = None, edge_ticks: int = 2, lifetime_s: float = 2.0
    ) -> Episode:
        """Make one neg-risk event's best YES asks sum `edge_ticks` ticks below 1 for about
        `lifetime_s` of simulated time (then a taker removes the cheap ask)."""
        frames = self.world.arb.start(event_slug, edge_ticks, round(lifetime_s * 1000))
        episode = self.world.arb.active
        if not frames or episode is None:
            raise ValueError(f"no neg-risk event to put an arbitrage on ({event_slug!r})")
        self._hub.publish(frames)
        await asyncio.sleep(0)
        return episode

    async def broadcast_raw(self, text: str) -> None:
        """Send a raw text frame to every WebSocket client."""
        self._hub.send_raw(text)
        await asyncio.sleep(0)

    async def change_tick(self, token_id: str, tick_size: str) -> None:
        """Change a market's tick: `tick_size_change` then a fresh `book`, per token."""
        self._counters["fault_tick_changes"] += 1
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
        self._counters["resolved_by_hand"] += 1
        await asyncio.sleep(0)

    def fail_http(self, path_prefix: str, status: int, times: int = 1) -> None:
        """Answer the next `times` requests under `path_prefix` with `status`."""
        self._routes.faults.append(Fault(path_prefix, status, times))

    # -- internals -----------------------------------------------------------------------

    def _step(self) -> None:
        self._counters["steps"] += 1
        self._hub.publish(self.world.step())

    async def _publish_ticks(self) -> None:
        ticks = self.world.take_ticks()
        if ticks and self.feeds is not None:
            await self.feeds.publish(ticks)

    def _feeds(self) -> ReferenceFeedServer:
        if self.feeds is None:
            raise RuntimeError("this venue runs without reference feeds (reference_feeds=False)")
        return self.feeds

    async def _stall_now(self, seconds: float) -> None:
        self.stall(seconds)

    async def _random_tick_change(self) -> None:
        """Flip a random open market between 0.01 and 0.001 (the venue's common change)."""
        markets = [m for m in self.world.open_markets() if fmt(self.world.tick(m)) in _FLIP]
        if markets:
            market = self._fault_rng.choice(markets)
            new = _FLIP[fmt(self.world.tick(market))]
            await self.change_tick(market.token_ids[0], new)

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
            burst = 0
            while due <= now and burst < _MAX_BURST:
                due += interval
                burst += 1
                if not self._paused:
                    self._step()
            await self._publish_ticks()
            # Behind schedule: yield at once so the writers can send what was published.
            await asyncio.sleep(0 if due <= now else max(due - loop.time(), _TICK_S))

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
