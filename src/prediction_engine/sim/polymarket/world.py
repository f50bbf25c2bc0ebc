"""The simulated venue's state and its evolution (pure, deterministic, no asyncio).

`World(seed)` lists a catalog and seeds one mirrored book per open market; `step()` advances
the simulated clock by `step_ms`, evolves one random market and returns the market-channel
frames the venue would publish, in order. The same seed and the same calls always give the
same frames, byte for byte: time is simulated, randomness comes from one `random.Random`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from prediction_engine.sim.polymarket import dynamics, wire
from prediction_engine.sim.polymarket.book import Book, LevelChange, opposite
from prediction_engine.sim.polymarket.catalog import CatalogBuilder, CatalogSpec
from prediction_engine.sim.polymarket.model import Catalog, Market
from prediction_engine.sim.polymarket.units import MICRO, fmt, parse
from prediction_engine.sim.polymarket.wire import Json

DEFAULT_CLOCK_START_S = 1773307230  # 2026-03-12T09:20:30Z, inside btc-updown-5m-1773307200
TICK_SIZES = frozenset(parse(t) for t in ("0.1", "0.01", "0.001", "0.0001"))


@dataclass(frozen=True)
class Frame:
    """One market-channel message and who receives it.

    `assets` are the tokens it concerns: a connection receives it if subscribed to any of
    them (`price_change` entries are further filtered per connection). `custom_only` frames
    need `custom_feature_enabled`; `everyone` frames go to all such connections.
    """

    assets: tuple[str, ...]
    payload: Json
    custom_only: bool = False
    everyone: bool = False


@dataclass(frozen=True)
class WorldSpec:
    """Inputs of a world besides the seed."""

    clock_start_s: int = DEFAULT_CLOCK_START_S
    step_ms: int = 5
    updown_assets: tuple[str, ...] = ("btc", "eth")
    updown_windows: int = 2
    extra_markets: int = 0


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
            )
        )
        self.books: dict[str, Book] = {}
        self.fair: dict[str, int] = {}
        self.last_trade: dict[str, int | None] = {}
        self.volume: dict[str, int] = {}
        for market in self.catalog.markets:
            self.open_book(market)

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
        """Advance the clock one step and evolve one random open market."""
        self.now_ms += self.spec.step_ms
        markets = self.open_markets()
        if not markets:
            return []
        market = self.rng.choice(markets)
        key = market.condition_id
        book = self.books[key]
        self.fair[key] = dynamics.walk(self.rng, self.fair[key], book.tick)
        frames: list[Frame] = []
        for message in dynamics.plan(self.rng, book, self.fair[key]):
            frames.extend(self._publish(market, message))
        fill = dynamics.trade(self.rng, book)
        if fill is not None:
            frames.extend(self._execute(market, fill))
        return frames

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

    def _publish(self, market: Market, message: list[LevelChange]) -> list[Frame]:
        book = self.books[market.condition_id]
        before = [self.top(market, outcome) for outcome in (0, 1)]
        for change in message:
            book.apply(change)
        entries = [
            self._entry(market, leg) for change in message for leg in (change, change.mirrored())
        ]
        payload = wire.price_change(market.condition_id, entries, self.now_ms)
        frames = [Frame(market.token_ids, payload)]
        for outcome in (0, 1):
            if self.top(market, outcome) != before[outcome]:
                frames.append(self._best_bid_ask(market, outcome))
        return frames

    def _execute(self, market: Market, fill: dynamics.Fill) -> list[Frame]:
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

    def _entry(self, market: Market, leg: LevelChange) -> Json:
        bids, asks = self.books[market.condition_id].sides(leg.outcome)
        return wire.price_change_entry(
            market.token_ids[leg.outcome],
            leg.price,
            leg.size,
            leg.side,
            book_hash_hex=self.summary(market, leg.outcome)["hash"],
            best=wire.top(bids, asks),
        )

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
