"""The simulated venue's state and its evolution (pure, deterministic, no asyncio).

`World(seed)` lists a catalog and seeds one mirrored book per open market; `step()` advances
the simulated clock by `step_ms`, steps the crypto underlying, runs the scenarios (Up/Down
windows, neg-risk arbitrage episodes, listings; see `scenarios`), evolves one random market
and returns the market-channel frames the venue would publish, in order. The underlying's
ticks wait in `ticks` for the reference feeds (`take_ticks`). The same seed and the same
calls always give the same frames, byte for byte: time is simulated, randomness comes from
the seed.
"""

from __future__ import annotations

import hashlib
import random
from collections import deque
from dataclasses import dataclass

from prediction_engine.sim.polymarket import dynamics, wire
from prediction_engine.sim.polymarket.book import BUY, SELL, Book, LevelChange, opposite
from prediction_engine.sim.polymarket.catalog import CatalogBuilder, CatalogSpec
from prediction_engine.sim.polymarket.model import Catalog, Frame, Market
from prediction_engine.sim.polymarket.scenarios import Listings, NegRiskArb, UpDown, symbol_of
from prediction_engine.sim.polymarket.units import MICRO, fmt, parse
from prediction_engine.sim.polymarket.wire import Json
from prediction_engine.sim.prices import PricePath, ReferenceFeedSpec, Tick

__all__ = ["DEFAULT_CLOCK_START_S", "TICK_SIZES", "Frame", "World", "WorldSpec"]

DEFAULT_CLOCK_START_S = 1773307230  # 2026-03-12T09:20:30Z, inside btc-updown-5m-1773307200
TICK_SIZES = frozenset(parse(t) for t in ("0.1", "0.01", "0.001", "0.0001"))
_MAX_PENDING_TICKS = 100_000


@dataclass(frozen=True)
class WorldSpec:
    """Inputs of a world besides the seed. Times are simulated."""

    clock_start_s: int = DEFAULT_CLOCK_START_S
    step_ms: int = 5
    updown_assets: tuple[str, ...] = ("btc", "eth")
    updown_windows: int = 2
    extra_markets: int = 0
    updown_minutes: tuple[int, ...] = (5, 15)
    annual_volatility: float = 0.6
    """Of the GBM underlying (also the volatility Up/Down fair values assume)."""
    underlying_step_ms: int = 100
    jump_probability: float = 0.002
    """Per evolution step of a market: its fair value jumps 5-20 ticks."""
    arb_every_s: float = 0.0
    """Mean time between neg-risk arbitrage episodes (0: only when injected)."""
    arb_lifetime_ms: tuple[int, int] = (300, 2000)
    listing_every_s: float = 0.0
    """Mean time between a new listing plus a resolution of an old market (0: never)."""


class World:
    """Markets, books and the simulated clock."""

    def __init__(self, seed: int, spec: WorldSpec | None = None) -> None:
        self.seed = seed
        self.spec = spec or WorldSpec()
        self.rng = random.Random(seed)
        self.now_ms = self.spec.clock_start_s * 1000
        self.builder = CatalogBuilder(self.rng, self.spec.clock_start_s)
        self.catalog: Catalog = self.builder.build(
            CatalogSpec(
                self.spec.clock_start_s,
                self.spec.updown_assets,
                self.spec.updown_windows,
                self.spec.extra_markets,
                self.spec.updown_minutes,
            )
        )
        self.books: dict[str, Book] = {}
        self.fair: dict[str, int] = {}
        self.last_trade: dict[str, int | None] = {}
        self.volume: dict[str, int] = {}
        for market in self.catalog.markets:
            self.open_book(market)
        symbols = tuple(symbol_of(asset) for asset in self.spec.updown_assets)
        feed = ReferenceFeedSpec(
            symbols=symbols,
            rate_hz=1000 / self.spec.underlying_step_ms,
            annual_volatility=self.spec.annual_volatility,
            start_ms=self.now_ms,
            history_points=max(600, 2 * 60_000 // self.spec.underlying_step_ms),
        )
        self.underlying = PricePath(random.Random(seed).getrandbits(64), feed)
        self.ticks: deque[Tick] = deque(maxlen=_MAX_PENDING_TICKS)
        self._messages = 0
        self.updown = UpDown(self, self.underlying, self.spec.annual_volatility)
        self.arb = NegRiskArb(self, self.spec.arb_every_s, self.spec.arb_lifetime_ms)
        self.listings = Listings(self, self.spec.listing_every_s)

    # -- queries -------------------------------------------------------------------------

    def open_markets(self) -> list[Market]:
        """Markets with a live order book, in listing order."""
        return [market for market in self.catalog.markets if not market.closed]

    def locate(self, token_id: str) -> tuple[Market, int] | None:
        """Market and outcome index of an open market's token."""
        found = self.catalog.by_token(token_id)
        return None if found is None or found[0].closed else found

    def summary(self, market: Market, outcome: int) -> Json:
        """REST `/book` object of one outcome token at the current simulated time."""
        book = self.books[market.condition_id]
        bids, asks = book.sides(outcome)
        last = self.last_trade[market.condition_id]
        return wire.book_summary(
            market.condition_id,
            market.token_ids[outcome],
            self.now_ms,
            bids,
            asks,
            min_order_size=market.min_order_size,
            tick=book.tick,
            neg_risk=market.neg_risk,
            last_trade=None if last is None else _for_outcome(last, outcome),
        )

    def truth(self, token_id: str) -> tuple[dict[str, str], dict[str, str]]:
        """(bids, asks) as price string -> size string; empty for unknown or closed tokens."""
        found = self.locate(token_id)
        if found is None:
            return {}, {}
        bids, asks = self.books[found[0].condition_id].sides(found[1])
        return _strings(bids), _strings(asks)

    def top(self, market: Market, outcome: int) -> tuple[int | None, int | None]:
        """Best bid and ask of an outcome token."""
        bids, asks = self.books[market.condition_id].sides(outcome)
        return (max(bids) if bids else None), (min(asks) if asks else None)

    def tick(self, market: Market) -> int:
        """Current tick size of a market."""
        book = self.books.get(market.condition_id)
        return market.tick if book is None else book.tick

    # -- evolution -----------------------------------------------------------------------

    def step(self) -> list[Frame]:
        """Advance the clock one step, run the scenarios, evolve one random open market."""
        self.now_ms += self.spec.step_ms
        path = self.underlying
        while path.now_ms + path.step_ms <= self.now_ms:
            self.ticks.extend(path.step())
        frames = self.updown.due() + self.arb.due() + self.listings.due()
        markets = self.open_markets()
        if not markets:
            return frames
        market = self.rng.choice(markets)
        key = market.condition_id
        book = self.books[key]
        self.fair[key] = self._next_fair(market)
        pulls = self._pulls(market)
        if pulls:
            frames.extend(self.publish(market, pulls))
        for message in dynamics.plan(self.rng, book, self.fair[key]):
            frames.extend(self.publish(market, message))
        fill = dynamics.trade(self.rng, book)
        if fill is not None:
            frames.extend(self.execute(market, fill))
        return frames

    def take_ticks(self) -> list[Tick]:
        """The underlying's ticks since the last call, oldest first."""
        ticks = list(self.ticks)
        self.ticks.clear()
        return ticks

    def _next_fair(self, market: Market) -> int:
        key, tick = market.condition_id, self.tick(market)
        updown = self.updown.fair(market)
        if updown is not None:
            return dynamics.snap(updown, tick)
        if self.updown.pending(market):
            return dynamics.snap(MICRO // 2, tick)  # no strike yet: a coin flip
        if market.neg_risk:
            return self._zero_sum_walk(market, tick)
        return dynamics.walk(self.rng, self.fair[key], tick, self.spec.jump_probability)

    def _zero_sum_walk(self, market: Market, tick: int) -> int:
        """Move probability between two outcomes of a neg-risk event, keeping the sum."""
        key = market.condition_id
        peers = [m for m in market.event.markets if m is not market and not m.closed]
        if not peers:
            return self.fair[key]
        peer = self.rng.choice(peers)
        move = self.rng.choice((-tick, tick))
        mine = dynamics.snap(self.fair[key] + move, tick)
        theirs = dynamics.snap(self.fair[peer.condition_id] - move, self.tick(peer))
        if mine - self.fair[key] != move or self.fair[peer.condition_id] - theirs != move:
            return self.fair[key]
        self.fair[peer.condition_id] = theirs
        return mine

    def _pulls(self, market: Market) -> list[LevelChange]:
        """Makers cancel quotes the fair value moved through (after a jump, or an Up/Down
        window repricing); the running arbitrage ask stays."""
        book, fair = self.books[market.condition_id], self.fair[market.condition_id]
        keep = self.arb.protected(market)
        pulls = [LevelChange(0, BUY, p, 0) for p in sorted(book.bids) if p > fair]
        pulls += [LevelChange(0, SELL, p, 0) for p in sorted(book.asks) if p < fair and p != keep]
        return pulls

    def change_tick(self, token_id: str, new_tick: str) -> list[Frame]:
        """Switch a market's tick size: `tick_size_change` then a fresh `book` per token."""
        found = self.locate(token_id)
        tick = parse(new_tick)
        if found is None or tick not in TICK_SIZES:
            raise ValueError(f"cannot set tick {new_tick!r} on token {token_id!r}")
        market = found[0]
        book = self.books[market.condition_id]
        old = book.tick
        book.retick(tick)
        self.fair[market.condition_id] = dynamics.snap(self.fair[market.condition_id], tick)
        frames: list[Frame] = []
        for outcome, asset in enumerate(market.token_ids):
            change = wire.tick_size_change(market.condition_id, asset, old, tick, self.now_ms)
            frames.append(Frame((asset,), change))
            frames.append(self._book_frame(market, outcome))
        return frames

    def open_book(self, market: Market) -> None:
        """Create the market's book state (seeded levels unless closed)."""
        key = market.condition_id
        self.volume[key] = market.base_volume
        self.fair[key] = dynamics.snap(market.fair, market.tick)
        self.last_trade[key] = self.fair[key] if market.traded else None
        book = Book(market.tick)
        if not market.closed:
            book = dynamics.seed_levels(self.rng, self.fair[key], market.tick)
        self.books[key] = book

    def publish(self, market: Market, message: list[LevelChange]) -> list[Frame]:
        """Apply one message of level changes; return its `price_change` (+ `best_bid_ask`)."""
        book = self.books[market.condition_id]
        before = [self.top(market, outcome) for outcome in (0, 1)]
        for change in message:
            book.apply(change)
        # Every entry of one outcome carries the same post-message hash and top of book.
        state = [self._entry_state(market, outcome) for outcome in (0, 1)]
        entries = [
            wire.price_change_entry(
                market.token_ids[leg.outcome],
                leg.price,
                leg.size,
                leg.side,
                book_hash_hex=state[leg.outcome][0],
                best=state[leg.outcome][1],
            )
            for change in message
            for leg in (change, change.mirrored())
        ]
        payload = wire.price_change(market.condition_id, entries, self.now_ms)
        frames = [Frame(market.token_ids, payload)]
        for outcome in (0, 1):
            if self.top(market, outcome) != before[outcome]:
                frames.append(self._best_bid_ask(market, outcome))
        return frames

    def execute(self, market: Market, fill: dynamics.Fill) -> list[Frame]:
        """Apply a taker trade; return `last_trade_price`, both `book`s and any tops."""
        key = market.condition_id
        before = [self.top(market, outcome) for outcome in (0, 1)]
        self.books[key].apply(fill.residual)
        self.last_trade[key] = fill.price
        self.volume[key] += fill.price * fill.size // MICRO
        outcome = self.rng.randint(0, 1)
        side = fill.side if outcome == 0 else opposite(fill.side)
        trade = (_for_outcome(fill.price, outcome), fill.size, side)
        fee_bps = 1000 if market.fee else 0
        tx = f"0x{self.rng.getrandbits(256):064x}"
        asset = market.token_ids[outcome]
        frames = [
            Frame(
                (asset,),
                wire.last_trade_price(
                    key, asset, trade, fee_rate_bps=fee_bps, tx=tx, ts_ms=self.now_ms
                ),
            )
        ]
        frames += [self._book_frame(market, index) for index in (0, 1)]
        for index in (0, 1):
            if self.top(market, index) != before[index]:
                frames.append(self._best_bid_ask(market, index))
        return frames

    def _entry_state(self, market: Market, outcome: int) -> tuple[str, tuple[str, str]]:
        """(entry hash, (best bid, best ask)) of one outcome after a message.

        The venue publishes no recipe for a `price_change` entry's `hash` (docs §4: clients must
        not rely on it), so rendering the whole book to hash it, as `book` frames do with the
        published REST recipe, would only cost time: a digest of the token, the time and a
        message counter gives the same shape (40 hex) and is unique per message.
        """
        bids, asks = self.books[market.condition_id].sides(outcome)
        self._messages += 1
        seed = f"{market.token_ids[outcome]}:{self.now_ms}:{self._messages}".encode()
        return hashlib.sha1(seed, usedforsecurity=False).hexdigest(), wire.top(bids, asks)

    def _book_frame(self, market: Market, outcome: int) -> Frame:
        summary = self.summary(market, outcome)
        return Frame((market.token_ids[outcome],), wire.ws_book(summary))

    def _best_bid_ask(self, market: Market, outcome: int) -> Frame:
        bids, asks = self.books[market.condition_id].sides(outcome)
        asset = market.token_ids[outcome]
        payload = wire.best_bid_ask(market.condition_id, asset, bids, asks, self.now_ms)
        return Frame((asset,), payload, custom_only=True)


def _for_outcome(yes_price: int, outcome: int) -> int:
    return yes_price if outcome == 0 else MICRO - yes_price


def _strings(levels: dict[int, int]) -> dict[str, str]:
    return {fmt(price): fmt(size) for price, size in sorted(levels.items())}
