"""What happens in the simulated world besides random quoting (pure, deterministic).

- :class:`UpDown`: crypto Up/Down windows priced off the world's GBM underlying (the same
  path the Binance and RTDS feeds publish). A window's strike is the first underlying price
  at or after its start; while it runs, its fair probability is
  ``N(ln(S / K) / (sigma * sqrt(t_left)))``; at its end it resolves (Up if ``S >= K``)
  and the series lists its next window, so there are always the same number open.
- :class:`NegRiskArb`: now and then one outcome of a neg-risk event gets an ask low enough
  that the event's best asks sum below 1; a taker removes it after a short lifetime.
- :class:`Listings`: now and then a new market is listed and an old one resolves.

Every random choice comes from the world's RNG, so the same seed gives the same history.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from statistics import NormalDist
from typing import TYPE_CHECKING

from prediction_engine.sim.polymarket import lifecycle, texts
from prediction_engine.sim.polymarket.book import BUY, SELL, LevelChange
from prediction_engine.sim.polymarket.dynamics import Fill, random_size
from prediction_engine.sim.polymarket.model import Event, Frame, Market
from prediction_engine.sim.polymarket.units import MICRO
from prediction_engine.sim.prices import PricePath

if TYPE_CHECKING:
    from prediction_engine.sim.polymarket.world import World

_SECONDS_PER_YEAR = 365 * 24 * 3600
_NORMAL = NormalDist()
_NEVER = 2**62


def symbol_of(asset: str) -> str:
    """Reference-feed symbol of an Up/Down asset: `btc` -> `btcusdt`."""
    return f"{asset}usdt"


class UpDown:
    """Open Up/Down windows: strikes, fair values, resolution and rolling."""

    def __init__(self, world: World, path: PricePath, volatility: float) -> None:
        self.world = world
        self.path = path
        self.volatility = volatility
        self.strikes: dict[str, Decimal] = {}
        self.windows = {
            m.condition_id: m for m in world.catalog.markets if _is_updown(m) and not m.closed
        }
        self.resolved = 0
        self._next_ms = self._next_boundary()

    def fair(self, market: Market) -> int | None:
        """Fair probability of Up for a started window, else None."""
        strike = self.strikes.get(market.condition_id)
        if strike is None:
            return None
        price = float(self.path.price(_symbol(market)))
        left_s = max(market.event.end_s * 1000 - self.world.now_ms, 1) / 1000
        spread = self.volatility * math.sqrt(left_s / _SECONDS_PER_YEAR)
        return round(_NORMAL.cdf(math.log(price / float(strike)) / spread) * MICRO)

    def pending(self, market: Market) -> bool:
        """Whether `market` is an Up/Down window that has not started."""
        key = market.condition_id
        return key in self.windows and key not in self.strikes

    def due(self) -> list[Frame]:
        """Record strikes of windows that started; resolve and roll windows that ended."""
        now = self.world.now_ms
        if now < self._next_ms:
            return []
        frames: list[Frame] = []
        for market in list(self.windows.values()):
            start_ms = (market.event_start_s or 0) * 1000
            if market.condition_id not in self.strikes and now >= start_ms:
                self.strikes[market.condition_id] = self._price_at(_symbol(market), start_ms)
            if now >= market.event.end_s * 1000:
                frames += self._resolve(market)
                frames += self._roll(market)
        self._next_ms = self._next_boundary()
        return frames

    def _resolve(self, market: Market) -> list[Frame]:
        final = self._price_at(_symbol(market), market.event.end_s * 1000, at_or_before=True)
        up = final >= self.strikes.get(market.condition_id, final)
        del self.windows[market.condition_id]
        self.resolved += 1
        return [lifecycle.resolve_market(self.world, market.condition_id, 0 if up else 1)]

    def _roll(self, ended: Market) -> list[Frame]:
        series = ended.event.series
        if series is None:
            return []
        minutes = int(series.recurrence.rstrip("m"))
        asset = ended.slug.split("-", 1)[0]
        same = [m for m in self.world.catalog.markets if m.event.series is series]
        start = max(m.event_start_s or 0 for m in same) + minutes * 60
        builder = self.world.builder
        builder.now_s = self.world.now_ms // 1000
        event, markets = builder.updown(series, asset, minutes, start)
        self.windows.update((m.condition_id, m) for m in markets)
        return lifecycle.announce(self.world, event, markets)

    def _price_at(self, symbol: str, ts_ms: int, *, at_or_before: bool = False) -> Decimal:
        """First price at or after `ts_ms` (or last at or before it); the latest if none."""
        history = self.path.history[symbol]
        if at_or_before:
            before = [t.price for t in history if t.ts_ms <= ts_ms]
            return before[-1] if before else self.path.price(symbol)
        after = next((t.price for t in history if t.ts_ms >= ts_ms), None)
        return after if after is not None else self.path.price(symbol)

    def _next_boundary(self) -> int:
        windows = self.windows.values()
        bounds = [m.event.end_s * 1000 for m in windows]
        unstarted = [m for m in windows if m.condition_id not in self.strikes]
        bounds += [(m.event_start_s or 0) * 1000 for m in unstarted]
        return min(bounds, default=_NEVER)


@dataclass
class Episode:
    """One neg-risk arbitrage: an ask on `market`'s YES book at `price` (YES frame)."""

    event_slug: str
    condition_id: str
    token_id: str
    price: int
    size: int
    edge: int
    """1 minus the sum of the event's best YES asks when the episode started (micro)."""
    start_ms: int
    end_ms: int
    taken: bool = False


class NegRiskArb:
    """Short-lived sub-1 ask sums on neg-risk events."""

    def __init__(self, world: World, every_s: float, lifetime_ms: tuple[int, int]) -> None:
        self.world = world
        self.every_s = every_s
        self.lifetime_ms = lifetime_ms
        self.active: Episode | None = None
        self.episodes: list[Episode] = []
        self._next_ms = _next_time(self.world, self.every_s)

    def protected(self, market: Market) -> int | None:
        """The YES ask price the running episode keeps on `market`, if any."""
        active = self.active
        return active.price if active and active.condition_id == market.condition_id else None

    def due(self) -> list[Frame]:
        """End an expired episode; maybe start one."""
        now = self.world.now_ms
        frames: list[Frame] = []
        if self.active is not None and now >= self.active.end_ms:
            frames += self._take(self.active)
        if self.active is None and now >= self._next_ms:
            frames += self.start()
            self._next_ms = _next_time(self.world, self.every_s)
        return frames

    def start(
        self,
        event_slug: str | None = None,
        edge_ticks: int | None = None,
        lifetime_ms: int | None = None,
    ) -> list[Frame]:
        """Start an episode now (on a random eligible event unless `event_slug`)."""
        world, rng = self.world, self.world.rng
        events = [e for e in world.catalog.events if _arbitrable(world, e)]
        if event_slug is not None:
            events = [e for e in events if e.slug == event_slug]
        if not events or self.active is not None:
            return []
        event = rng.choice(events)
        target = rng.choice(event.markets)
        asks = {m.condition_id: world.top(m, 0)[1] or MICRO for m in event.markets}
        tick = world.tick(target)
        others = sum(asks.values()) - asks[target.condition_id]
        # 5-45 ticks of 0.001: some clear the taker fees of every leg, some do not.
        ticks = edge_ticks if edge_ticks is not None else rng.randint(5, 45)
        price = (MICRO - others - ticks * tick) // tick * tick
        if price < tick or price >= asks[target.condition_id]:
            return []
        book = world.books[target.condition_id]
        size = min(random_size(rng), 500 * MICRO)
        changes = [LevelChange(0, BUY, p, 0) for p in sorted(book.bids) if p >= price]
        changes.append(LevelChange(0, SELL, price, size))
        life = lifetime_ms if lifetime_ms is not None else rng.randint(*self.lifetime_ms)
        self.active = Episode(
            event.slug,
            target.condition_id,
            target.token_ids[0],
            price,
            size,
            MICRO - others - price,
            world.now_ms,
            world.now_ms + life,
        )
        self.episodes.append(self.active)
        return world.publish(target, changes)

    def _take(self, episode: Episode) -> list[Frame]:
        self.active = None
        market = self.world.catalog.by_condition(episode.condition_id)
        if market is None or market.closed:
            return []
        resting = self.world.books[market.condition_id].asks.get(episode.price, 0)
        if not resting:
            return []
        episode.taken = True
        fill = Fill(BUY, episode.price, resting, LevelChange(0, SELL, episode.price, 0))
        return self.world.execute(market, fill)



class Listings:
    """Markets listed and resolved over time: one new listing and one resolution per turn."""

    def __init__(self, world: World, every_s: float) -> None:
        self.world = world
        self.every_s = every_s
        self.listed = 0
        self.resolved = 0
        self._next_ms = _next_time(self.world, self.every_s)

    def due(self) -> list[Frame]:
        """List a new market and resolve the oldest plain open one, when it is time."""
        if self.world.now_ms < self._next_ms:
            return []
        self._next_ms = _next_time(self.world, self.every_s)
        world = self.world
        plain = [m for m in world.open_markets() if not m.neg_risk and m.event.series is None]
        world.builder.now_s = world.now_ms // 1000
        self.listed += 1
        event, market = world.builder.binary(texts.filler(5000 + self.listed))
        frames = lifecycle.announce(world, event, [market])
        if plain:
            oldest = plain[0]
            winner = 0 if world.rng.random() * MICRO < world.fair[oldest.condition_id] else 1
            frames.append(lifecycle.resolve_market(world, oldest.condition_id, winner))
            self.resolved += 1
        return frames



def _next_time(world: World, every_s: float) -> int:
    """When a Poisson process with mean gap `every_s` fires next (never if `every_s` <= 0)."""
    if every_s <= 0:
        return _NEVER
    return world.now_ms + round(world.rng.expovariate(1 / every_s) * 1000)


def _is_updown(market: Market) -> bool:
    return market.event.series is not None and market.event_start_s is not None


def _symbol(market: Market) -> str:
    return symbol_of(market.slug.split("-", 1)[0])


def _arbitrable(world: World, event: Event) -> bool:
    markets = event.markets
    return (
        event.neg_risk_market_id is not None
        and len(markets) > 1
        and not any(m.closed for m in markets)
        and all(world.top(m, 0)[1] is not None for m in markets)
    )
