"""The simulated crypto underlyings: deterministic GBM price paths and their wire messages.

Pure (no I/O). The reference-feed server publishes these ticks as Binance trades and RTDS
``crypto_prices`` updates; the Polymarket world prices its Up/Down markets from the same
path, so a strategy sees one consistent underlying on every feed.
"""

from __future__ import annotations

import math
import random
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

__all__ = [
    "PricePath",
    "ReferenceFeedSpec",
    "Tick",
    "binance_trade",
    "chainlink_symbol",
    "rtds_chainlink_update",
    "rtds_snapshot",
    "rtds_update",
]

Json = dict[str, Any]

_START_PRICES = {"btcusdt": 61000.0, "ethusdt": 2400.0, "solusdt": 150.0, "xrpusdt": 0.55}
_SECONDS_PER_YEAR = 365 * 24 * 3600
_FIRST_TRADE_ID = 5_000_000_000


@dataclass(frozen=True)
class ReferenceFeedSpec:
    """Inputs of the simulated feeds besides the seed."""

    symbols: tuple[str, ...] = ("btcusdt", "ethusdt")
    rate_hz: float = 10.0
    """Price steps per second; each step prints one trade and one RTDS update per symbol."""
    annual_volatility: float = 0.6
    start_ms: int = 1_780_000_000_000
    history_points: int = 30
    binance_heartbeat_s: float | None = 20.0
    rtds_pong_text: str | None = None
    """Reply to an RTDS text ``PING`` (the real reply is undocumented; ``None`` sends none)."""


@dataclass(frozen=True)
class Tick:
    """One simulated trade of one symbol."""

    symbol: str
    ts_ms: int
    trade_id: int
    price: Decimal
    quantity: Decimal
    buyer_is_maker: bool


class PricePath:
    """Deterministic GBM prices for several symbols: same seed, same ticks."""

    def __init__(self, seed: int, spec: ReferenceFeedSpec) -> None:
        self._rng = random.Random(seed)
        self.spec = spec
        self.step_ms = max(1, round(1000 / spec.rate_hz))
        self._sigma = spec.annual_volatility * math.sqrt(self.step_ms / 1000 / _SECONDS_PER_YEAR)
        self._level = {s: _START_PRICES.get(s, 100.0) for s in spec.symbols}
        self._next_id = dict.fromkeys(spec.symbols, _FIRST_TRADE_ID)
        self.now_ms = spec.start_ms
        self.history: dict[str, deque[Tick]] = {
            s: deque(maxlen=spec.history_points) for s in spec.symbols
        }

    def price(self, symbol: str) -> Decimal:
        """The last printed price of `symbol` (the start price before the first step)."""
        history = self.history[symbol]
        return history[-1].price if history else Decimal(repr(self._level[symbol]))

    def step(self) -> list[Tick]:
        """Advance one step and return one trade per symbol."""
        self.now_ms += self.step_ms
        return [self._tick(symbol) for symbol in self.spec.symbols]

    def _tick(self, symbol: str) -> Tick:
        z = self._rng.gauss(0.0, 1.0)
        self._level[symbol] *= math.exp(self._sigma * z - self._sigma**2 / 2)
        tick_size = Decimal("0.01") if self._level[symbol] >= 10 else Decimal("0.0001")
        price = max(tick_size, Decimal(repr(self._level[symbol])).quantize(tick_size))
        quantity = Decimal(self._rng.randint(1, 50_000)).scaleb(-5)
        tick = Tick(
            symbol, self.now_ms, self._next_id[symbol], price, quantity, self._rng.random() < 0.5
        )
        self._next_id[symbol] += 1
        self.history[symbol].append(tick)
        return tick


# -- wire messages (written independently of venues.*: tests compare two readings) ----------


def binance_trade(tick: Tick) -> Json:
    """The ``<symbol>@trade`` payload as Binance sends it since 2024 (no ``b``/``a``)."""
    return {
        "e": "trade",
        "E": tick.ts_ms,
        "s": tick.symbol.upper(),
        "t": tick.trade_id,
        "p": f"{tick.price:.8f}",
        "q": f"{tick.quantity:.8f}",
        "T": tick.ts_ms,
        "m": tick.buyer_is_maker,
        "M": True,
    }


def rtds_update(tick: Tick) -> Json:
    """A ``crypto_prices`` ``update``: ``value`` a JSON number, plus the exact string."""
    payload = {
        "symbol": tick.symbol,
        "timestamp": tick.ts_ms,
        "value": float(tick.price),
        "full_accuracy_value": f"{tick.price:.8f}",
    }
    return {
        "topic": "crypto_prices",
        "type": "update",
        "timestamp": tick.ts_ms + 5,
        "payload": payload,
    }


def chainlink_symbol(symbol: str) -> str:
    """The Chainlink feed's name for a simulated pair: ``btcusdt`` -> ``btc/usd``."""
    base = symbol[:-4] if symbol.endswith("usdt") else symbol
    return f"{base}/usd"


def rtds_chainlink_update(tick: Tick) -> Json:
    """A ``crypto_prices_chainlink`` ``update`` (Polymarket's RTDS docs): the same price path
    under the Chainlink symbol, which is what the simulated Up/Down markets resolve on."""
    return {
        "topic": "crypto_prices_chainlink",
        "type": "update",
        "timestamp": tick.ts_ms + 5,
        "payload": {
            "symbol": chainlink_symbol(tick.symbol),
            "timestamp": tick.ts_ms,
            "value": float(tick.price),
        },
    }


def rtds_snapshot(symbol: str, history: Iterable[Tick], now_ms: int) -> Json:
    """The ``subscribe`` reply for one symbol: its recent history, oldest first."""
    data = [{"timestamp": t.ts_ms, "value": float(t.price)} for t in history]
    return {
        "topic": "crypto_prices",
        "type": "subscribe",
        "timestamp": now_ms,
        "payload": {"symbol": symbol, "data": data},
    }


