"""The world's scenarios: Up/Down windows priced off the underlying and resolving by it, neg-risk
arbitrage episodes, listings over time, and byte-identical offline tapes from one seed."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from pathlib import Path

import msgspec
import pytest

from prediction_engine.core.markets import Market
from prediction_engine.sim.generate import generate_tape
from prediction_engine.sim.polymarket.units import MICRO
from prediction_engine.sim.polymarket.world import World, WorldSpec
from prediction_engine.tape import (
    BINANCE_TRADE,
    PENGINE_MARKET,
    POLYMARKET_MARKET,
    RTDS_CRYPTO,
    TapeReader,
)

ONE_MINUTE = WorldSpec(step_ms=10, updown_minutes=(1,), arb_every_s=3.0, listing_every_s=5.0)


def run(world: World, seconds: float) -> list[dict[str, object]]:
    payloads = []
    for _ in range(round(seconds * 1000 / world.spec.step_ms)):
        payloads += [frame.payload for frame in world.step()]
    return payloads


def test_updown_windows_resolve_by_the_underlying_and_roll() -> None:
    world = World(4, ONE_MINUTE)
    first = {m.slug: m for m in world.open_markets() if m.event.series is not None}
    assert len(first) == 4  # btc and eth, the running window and the next
    prices: dict[str, list[tuple[int, Decimal]]] = {"btcusdt": [], "ethusdt": []}
    resolved = []
    for _ in range(3 * 60_000 // ONE_MINUTE.step_ms):  # three simulated minutes
        for frame in world.step():
            market = world.catalog.by_condition(str(frame.payload.get("market")))
            updown = market is not None and market.event.series is not None
            if frame.payload["event_type"] == "market_resolved" and updown:
                resolved.append(frame.payload)
        for tick in world.take_ticks():
            prices[tick.symbol].append((tick.ts_ms, tick.price))
        if len(resolved) >= 6:
            break
    assert len(resolved) >= 6
    for payload in resolved:
        market = world.catalog.by_condition(str(payload["market"]))
        assert market is not None
        start_ms, end_ms = (market.event_start_s or 0) * 1000, market.event.end_s * 1000
        series = prices[f"{market.slug.split('-')[0]}usdt"]
        if start_ms < series[0][0]:
            continue  # the window began before the world did: its strike is the start price
        strike = next(p for t, p in series if t >= start_ms)
        final = [p for t, p in series if t <= end_ms][-1]
        assert payload["winning_outcome"] == ("Up" if final >= strike else "Down")
    open_windows = [m for m in world.open_markets() if m.event.series is not None]
    assert len(open_windows) == 4  # every resolved window was replaced by the next one


def test_updown_fair_value_follows_the_distance_to_the_strike() -> None:
    world = World(9, ONE_MINUTE)
    run(world, 30)
    for market in world.open_markets():
        fair = world.updown.fair(market)
        strike = world.updown.strikes.get(market.condition_id)
        if strike is None:
            assert not world.updown.pending(market) or world.fair[market.condition_id] == MICRO // 2
            continue
        assert fair is not None
        price = world.underlying.price(f"{market.slug.split('-')[0]}usdt")
        assert (fair > MICRO // 2) == (price > strike) or price == strike


def test_neg_risk_episodes_push_the_ask_sum_below_one_briefly() -> None:
    world = World(2, ONE_MINUTE)
    event = next(e for e in world.catalog.events if e.neg_risk_market_id)
    sums = []
    for _ in range(6000):  # one simulated minute
        world.step()
        asks = [world.top(m, 0)[1] for m in event.markets]
        sums.append(sum(a or MICRO for a in asks))
    below = [s for s in sums if s < MICRO]
    assert world.arb.episodes, "no episode in a minute with one every 3 s on average"
    assert below, "an episode never showed in the books"
    assert len(below) < len(sums) / 2, "arbitrage should be short-lived"
    for episode in world.arb.episodes:
        assert 0 < episode.edge <= 45 * 1_000 + 1_000  # 5-45 ticks of 0.001, after rounding


def test_markets_are_listed_and_resolved_over_time() -> None:
    world = World(5, ONE_MINUTE)
    kinds = Counter(str(p["event_type"]) for p in run(world, 30))
    assert world.listings.listed >= 1
    assert kinds["new_market"] == kinds["market_resolved"] >= 1


def test_jumps_move_fair_values_by_several_ticks() -> None:
    spec = WorldSpec(step_ms=10, jump_probability=0.2, updown_assets=())
    world = World(1, spec)
    before = dict(world.fair)
    run(world, 2)
    moves = [abs(world.fair[k] - v) for k, v in before.items() if k in world.fair]
    assert max(moves) >= 5 * 1_000


def test_a_seed_writes_the_identical_tape_twice(tmp_path: Path) -> None:
    tapes = []
    for name in ("a", "b", "c"):
        seed = 1 if name != "c" else 2
        path = tmp_path / f"{name}.jsonl.gz"
        result = generate_tape(path, seed=seed, duration_s=20, spec=ONE_MINUTE)
        reader = TapeReader(path)
        records = list(reader)
        frames = result.market_frames + result.reference_frames + result.catalog_frames
        assert len(records) == frames
        tapes.append(records)
        assert reader.header["seed"] == seed
    assert tapes[0] == tapes[1]
    assert tapes[0] != tapes[2]
    channels = Counter(r.ch for r in tapes[0])
    assert set(channels) == {POLYMARKET_MARKET, BINANCE_TRADE, RTDS_CRYPTO, PENGINE_MARKET}
    assert channels[BINANCE_TRADE] == channels[RTDS_CRYPTO] == 2 * 20 * 10


def test_generated_tape_describes_every_market_when_it_is_listed(tmp_path: Path) -> None:
    path = tmp_path / "world.jsonl.gz"
    result = generate_tape(path, seed=3, duration_s=30, spec=ONE_MINUTE)
    records = list(TapeReader(path))
    described: dict[str, tuple[int, Market]] = {}
    first_book = next(i for i, r in enumerate(records) if r.ch == POLYMARKET_MARKET)
    for index, record in enumerate(records):
        if record.ch == PENGINE_MARKET:
            market = msgspec.json.decode(record.raw, type=Market)
            described[market.condition_id] = (index, market)
    assert len(described) == result.catalog_frames
    world = World(3, ONE_MINUTE)
    at_start = {m.condition_id for m in world.catalog.markets}
    assert at_start <= set(described)
    assert all(described[c][0] < first_book for c in at_start)  # before the initial books
    listed = [(i, r) for i, r in enumerate(records) if r.ch == POLYMARKET_MARKET
              and '"new_market"' in r.raw]
    assert listed
    for index, record in listed:
        condition = msgspec.json.decode(record.raw)["market"]
        position, market = described[condition]
        assert position < index and records[position].t == record.t  # just before, same time
        assert market.tokens and market.outcomes and market.end_ns
    updown = next(m for _, m in described.values() if m.slug.startswith("btc-updown-1m"))
    assert updown.fee_schedule is not None and updown.fee_schedule.rate == Decimal("0.07")
    assert updown.tick_size is not None and len(updown.outcomes) == 2


def test_generate_refuses_to_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text("keep me")
    with pytest.raises(FileExistsError):
        generate_tape(path, seed=0, duration_s=1)
    assert path.read_text() == "keep me"
