"""Every fault the simulator can inject, against our unchanged client: while the fault lasts
nothing crashes; within 2 s after it ends every book equals the simulator's truth again; and
the fault shows in counters (the venue's `fault_*` and the client's reaction)."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import msgspec
import pytest

from prediction_engine.sim.polymarket import SimConfig
from prediction_engine.venues.polymarket.rest import GammaClient, MarketQuery
from tests.integration.harness import RECOVERY_S, Harness, open_harness, wait_for

FAULT_S = 1.0


@dataclass(frozen=True)
class Counts:
    """The counters a fault can move, read at one moment."""

    venue: dict[str, int]
    client: dict[str, int]

    @classmethod
    def read(cls, h: Harness) -> Counts:
        s, books = h.session.counters, h.session.books.counters
        feeds = [f.counters for f in h.session.feeds]
        client = {
            "decode_errors": s.decode_errors,
            "duplicate_frames": s.duplicate_frames,
            "rest_snapshots": s.rest_snapshots,
            "resyncs": s.resyncs,
            "desyncs": books.desyncs,
            "out_of_order": books.out_of_order,
            "tick_changes": books.tick_changes,
            "disconnects": sum(f.disconnects for f in feeds),
            "stale": sum(f.stale for f in feeds),
            "http_retries": h.clob.http.counters.retries,
        }
        return cls(h.sim.counters, client)

    def grew(self, before: Counts, venue: str, client: str) -> bool:
        return (
            self.venue.get(venue, 0) > before.venue.get(venue, 0)
            and self.client[client] > before.client[client]
        )


async def _switched_on(h: Harness, name: str, value: float, seconds: float = FAULT_S) -> None:
    """Turn one per-frame stream fault on for `seconds`, then off."""
    setattr(h.sim.faults, name, value)
    await asyncio.sleep(seconds)
    setattr(h.sim.faults, name, 0.0)


async def drop(h: Harness) -> None:
    await h.sim.drop_connections()


async def stall_long(h: Harness) -> None:
    """Longer than the client's stale timeout: it must give up the socket and reconnect."""
    h.sim.stall(1.5)
    await asyncio.sleep(1.5)


async def stall_short(h: Harness) -> None:
    """Shorter than the stale timeout: the socket survives and the backlog arrives."""
    h.sim.stall(0.4)
    await asyncio.sleep(0.4)


async def delay(h: Harness) -> None:
    await _switched_on(h, "delay_s", 0.25)


async def duplicate(h: Harness) -> None:
    await _switched_on(h, "duplicate", 0.3)


async def reorder(h: Harness) -> None:
    await _switched_on(h, "reorder", 0.3, 1.5)


async def malformed(h: Harness) -> None:
    await _switched_on(h, "malformed", 0.2)


async def http_errors(h: Harness) -> None:
    """Half of all HTTP requests fail while books must be refetched over REST."""
    h.sim.apply_faults(dataclasses.replace(h.sim.config.faults, http_error_rate=0.5))
    h.sim.pause()  # no trade may send a fresh `book`: the refetch must go over REST
    for token in h.tokens[:4]:
        market = next(m for m in h.sim.markets() if token in m.token_ids)
        fake = {"event_type": "tick_size_change", "asset_id": token, "market": market.condition_id,
                "old_tick_size": market.tick_size, "new_tick_size": market.tick_size,
                "timestamp": str(h.sim.world.now_ms)}
        await h.sim.broadcast_raw(msgspec.json.encode(fake).decode())
    await wait_for(lambda: h.session.counters.rest_snapshots >= 4, 5.0)
    h.sim.apply_faults(h.sim.config.faults)
    h.sim.resume()


async def tick_change(h: Harness) -> None:
    await h.sim.change_tick(h.tokens[0], "0.001")
    await h.sim.change_tick(h.tokens[2], "0.001")


Inject = Callable[[Harness], Awaitable[None]]

CASES: dict[str, tuple[Inject, str, str]] = {
    # fault: (inject and end it, venue counter, client counter)
    "drop": (drop, "fault_drops", "disconnects"),
    "stall_long": (stall_long, "fault_stalls", "stale"),
    "stall_short": (stall_short, "fault_stalls", "resyncs"),
    "delay": (delay, "fault_delayed", "resyncs"),
    "duplicate": (duplicate, "fault_duplicated", "duplicate_frames"),
    "reorder": (reorder, "fault_reordered", "desyncs"),
    "malformed": (malformed, "fault_malformed", "decode_errors"),
    "http_errors": (http_errors, "faults", "http_retries"),
    "tick_change": (tick_change, "fault_tick_changes", "tick_changes"),
}
# A stall within the stale timeout and a delay lose nothing: the client has nothing to
# repair, so only the venue's counter can show them (checked below with `resyncs` unchanged).
SILENT = {"stall_short", "delay"}


@pytest.mark.parametrize("name", list(CASES))
async def test_books_recover_within_two_seconds_after_each_fault(name: str) -> None:
    inject, venue_counter, client_counter = CASES[name]
    async with open_harness(
        SimConfig(seed=11, updates_per_second=300), stale_after_s=1.0, ping_interval_s=0.2
    ) as h:
        await asyncio.sleep(0.3)
        before = Counts.read(h)
        await inject(h)
        took = await h.converged_within(RECOVERY_S)
        after = Counts.read(h)
        assert took < RECOVERY_S
        assert after.venue.get(venue_counter, 0) > before.venue.get(venue_counter, 0), after.venue
        if name in SILENT:
            assert after.client["resyncs"] == before.client["resyncs"], after.client
            assert after.client["disconnects"] == before.client["disconnects"], after.client
        else:
            assert after.grew(before, venue_counter, client_counter), (before, after)


async def test_discovery_survives_rate_limits_and_server_errors() -> None:
    async with open_harness(SimConfig(seed=3, updates_per_second=50)) as h:
        h.sim.apply_faults(dataclasses.replace(h.sim.config.faults, http_error_rate=0.3))
        gamma = GammaClient(h.clob.http, h.sim.gamma_url)
        retries = h.clob.http.counters.retries
        for _ in range(5):  # discovery again and again: each pass must see every market
            markets = [m async for m in gamma.markets(MarketQuery(enable_order_book=True))]
            assert len(markets) == len([m for m in h.sim.markets() if not m.closed])
        counters = h.sim.counters
        assert counters.get("fault_http_429", 0) + counters.get("fault_http_503", 0) > 0
        assert h.clob.http.counters.retries > retries
