"""Write the simulated world to a tape offline: no sockets, simulated time, same frames.

The tape holds what a recorder subscribed to every token (with the custom events on) and to
the reference feeds would have captured: first the initial array of `book` snapshots, then
every market frame of every step, and the underlying's ticks as Binance combined-stream
trades and RTDS `crypto_prices` updates. Receive times are the simulated times, so the same
seed and options always give byte-identical tapes (the header's `created_ns` aside).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import msgspec

from prediction_engine.sim.polymarket.wire import ws_book
from prediction_engine.sim.polymarket.world import World, WorldSpec
from prediction_engine.sim.prices import binance_trade, rtds_update
from prediction_engine.tape import BINANCE_TRADE, POLYMARKET_MARKET, RTDS_CRYPTO, TapeWriter

__all__ = ["GenerateResult", "generate_tape"]

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
            for frame in frames:
                tape.write(world.now_ms * _MS, POLYMARKET_MARKET, _encode(frame.payload))
            market_frames += len(frames)
            if on_progress is not None and index % report_every == 0:
                on_progress(index / steps)
    if on_progress is not None:
        on_progress(1.0)
    return GenerateResult(path, market_frames, reference_frames, steps, start_ms, world.now_ms)
