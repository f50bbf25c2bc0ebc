"""Write the simulated world to a tape offline: no sockets, simulated time, same frames.

The tape holds what a recorder subscribed to every token (with the custom events on) and to
the reference feeds would have captured: first a `pengine.market` frame per market of the
world (what the recorder's catalog knew of it), then the initial array of `book` snapshots,
then every market frame of every step (with a `pengine.market` frame for each market listed
on the way, just before its `new_market`), and the underlying's ticks as Binance
combined-stream trades and RTDS `crypto_prices` updates. Receive times are the simulated
times, so the same seed and options always give byte-identical tapes (the header's
`created_ns` aside).

Unlike the rest of `sim`, this module reads the simulator's Gamma JSON with our own Gamma
parser: a `pengine.market` frame is our record of what the live catalog would have parsed
(tokens, tick size, neg-risk, fee schedule, end time), so it must come from that parser.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import msgspec

from prediction_engine.sim.polymarket.gamma import market_json
from prediction_engine.sim.polymarket.model import Market as SimMarket
from prediction_engine.sim.polymarket.units import encode as encode_gamma
from prediction_engine.sim.polymarket.wire import ws_book
from prediction_engine.sim.polymarket.world import World, WorldSpec
from prediction_engine.sim.prices import binance_trade, rtds_update
from prediction_engine.tape import (
    BINANCE_TRADE,
    PENGINE_MARKET,
    POLYMARKET_MARKET,
    RTDS_CRYPTO,
    TapeWriter,
)
from prediction_engine.venues.polymarket.gamma_parse import parse_gamma_market

__all__ = ["GenerateResult", "catalog_frame", "generate_tape"]

_MS = 1_000_000
_encode = msgspec.json.Encoder().encode


@dataclass(frozen=True)
class GenerateResult:
    """What a generated tape holds."""

    path: Path
    market_frames: int
    reference_frames: int
    steps: int
    first_ms: int
    last_ms: int
    catalog_frames: int = 0
    """``pengine.market`` frames: one per market of the world, at its listing."""


def catalog_frame(world: World, market: SimMarket) -> bytes:
    """The ``pengine.market`` frame of a market: its Gamma JSON now, parsed as the catalog would."""
    return _encode(parse_gamma_market(encode_gamma(market_json(world, market))))


class _Catalog:
    """Writes a ``pengine.market`` frame for every market the world lists, once."""

    def __init__(self, world: World, tape: TapeWriter) -> None:
        self.world, self.tape = world, tape
        self.written = 0

    def announce(self) -> None:
        """Write the frames of the markets listed since the last call."""
        markets = self.world.catalog.markets
        recv_ns = self.world.now_ms * _MS
        for market in markets[self.written:]:
            self.tape.write(recv_ns, PENGINE_MARKET, catalog_frame(self.world, market))
        self.written = len(markets)


def generate_tape(
    path: Path,
    *,
    seed: int,
    duration_s: float,
    spec: WorldSpec | None = None,
    on_progress: Callable[[float], None] | None = None,
) -> GenerateResult:
    """Run ``World(seed, spec)`` for ``duration_s`` simulated seconds into a tape at ``path``
    (which must not exist: a tape is never silently appended to or overwritten)."""
    if path.exists():
        raise FileExistsError(f"{path} exists; choose a new file name")
    if duration_s <= 0:
        raise ValueError("duration_s must be positive")
    world = World(seed, spec)
    start_ms = world.now_ms
    steps = max(1, round(duration_s * 1000 / world.spec.step_ms))
    markets = [
        {
            "condition_id": m.condition_id,
            "slug": m.slug,
            "question": m.question,
            "outcomes": list(m.outcomes),
            "token_ids": list(m.token_ids),
            "neg_risk": m.neg_risk,
        }
        for m in world.open_markets()
    ]
    market_frames = reference_frames = 0
    header = {"seed": seed, "clock_start_ms": start_ms, "step_ms": world.spec.step_ms}
    with TapeWriter(path, source="pengine sim generate", markets=markets, **header) as tape:
        catalog = _Catalog(world, tape)
        catalog.announce()
        opened = world.open_markets()
        books = [ws_book(world.summary(m, outcome)) for m in opened for outcome in (0, 1)]
        tape.write(start_ms * _MS, POLYMARKET_MARKET, _encode(books))
        market_frames += 1
        report_every = max(1, steps // 100)
        for index in range(steps):
            frames = world.step()
            for tick in world.take_ticks():
                trade = {"stream": f"{tick.symbol}@trade", "data": binance_trade(tick)}
                tape.write(tick.ts_ms * _MS, BINANCE_TRADE, _encode(trade))
                tape.write(tick.ts_ms * _MS, RTDS_CRYPTO, _encode(rtds_update(tick)))
                reference_frames += 2
            catalog.announce()
            for frame in frames:
                tape.write(world.now_ms * _MS, POLYMARKET_MARKET, _encode(frame.payload))
            market_frames += len(frames)
            if on_progress is not None and index % report_every == 0:
                on_progress(index / steps)
    if on_progress is not None:
        on_progress(1.0)
    return GenerateResult(
        path, market_frames, reference_frames, steps, start_ms, world.now_ms, catalog.written
    )
