"""Build a :class:`DashboardSnapshot` from a runtime every ``interval_s`` and publish it.

:class:`DashboardPublisher` is a telemetry sink (it keeps the last fills and signals; each
record method is one ``deque.append``) and a service (:meth:`~DashboardPublisher.run`) that
copies the engine's state into a snapshot, hands the encoded JSON to a :class:`SnapshotHub`
(what the server streams) and, optionally, writes it to ``<dir>/dashboard.json`` atomically
(temporary file + rename) for a dashboard in another process.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from prediction_engine.core.markets import Market
from prediction_engine.core.numbers import format_micro
from prediction_engine.engine.telemetry import (
    FillRecord,
    LatencyRecord,
    OrderRecord,
    SignalRecord,
)
from prediction_engine.ops.dashboard.snapshot import (
    DashboardSnapshot,
    FeedRow,
    PnlPoint,
    book_rows,
    counters_of,
    encode_snapshot,
    fill_row,
    iso_time,
    market_rows,
    order_rows,
    pnl_point,
    signal_row,
)
from prediction_engine.trading.status import position_rows

if TYPE_CHECKING:
    from prediction_engine.trading.runtime import TradingRuntime

__all__ = ["SNAPSHOT_FILE", "DashboardPublisher", "SnapshotHub", "write_atomically"]

SNAPSHOT_FILE = "dashboard.json"


class SnapshotHub:
    """The latest encoded snapshot and its sequence number; waiters wake on each new one."""

    def __init__(self) -> None:
        self.sequence = 0
        self.data = b""
        self._next = asyncio.Event()

    def put(self, data: bytes) -> int:
        """Publish ``data`` as the newest snapshot; return its sequence number."""
        self.sequence += 1
        self.data = data
        self._next.set()
        self._next = asyncio.Event()
        return self.sequence

    async def newer_than(self, sequence: int) -> tuple[int, bytes]:
        """Wait until a snapshot newer than ``sequence`` is published; return it."""
        while self.sequence <= sequence:
            await self._next.wait()
        return self.sequence, self.data


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new, never half."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(data)
    temporary.replace(path)


def feed_rows(runtime: TradingRuntime, now_ns: int) -> list[FeedRow]:
    """Health of every connection (book shards, then reference feeds such as Binance and
    RTDS): frames, seconds since the last, reconnects."""
    rows = []
    for named in runtime.named_feeds():
        feed, counters = named.feed, named.feed.counters
        last = counters.last_frame_ns
        rows.append(FeedRow(
            named.name, feed.connected, counters.frames,
            round(max(now_ns - last, 0) / 1e9, 3) if last else None, counters.connects,
            counters.disconnects, counters.failed_attempts, counters.stale,
        ))
    return rows


class DashboardPublisher:
    """Telemetry sink and snapshot service for one runtime."""

    def __init__(
        self,
        hub: SnapshotHub,
        *,
        interval_s: float = 0.5,
        history: int = 7200,
        recent: int = 50,
        max_books: int = 60,
        out_dir: Path | None = None,
    ) -> None:
        self.hub = hub
        self.interval_s = interval_s
        self.max_books = max_books
        self.out_dir = out_dir
        self._fills: collections.deque[FillRecord] = collections.deque(maxlen=recent)
        self._signals: collections.deque[SignalRecord] = collections.deque(maxlen=recent)
        self._history: collections.deque[PnlPoint] = collections.deque(maxlen=history)
        self._started_ns: int | None = None

    # -- telemetry sink: O(1) ---------------------------------------------------------------

    def signal(self, record: SignalRecord) -> None:
        """Keep the signal among the recent ones."""
        self._signals.append(record)

    def fill(self, record: FillRecord) -> None:
        """Keep the fill among the recent ones."""
        self._fills.append(record)

    def order(self, record: OrderRecord) -> None:
        """Orders are read from the engine's open orders at each publish."""

    def latency(self, record: LatencyRecord) -> None:
        """Latencies are not shown."""

    def market_info(self, market: Market, extra: Mapping[str, str] | None = None) -> None:
        """Markets are read from the engine's state at each publish."""

    # -- snapshots --------------------------------------------------------------------------

    def build(self, runtime: TradingRuntime, sequence: int) -> DashboardSnapshot:
        """Copy ``runtime``'s state into a snapshot (read-only; from the runtime's loop)."""
        engine, state = runtime.engine, runtime.engine.state
        now_ns = runtime.clock.now_ns()
        if self._started_ns is None:
            self._started_ns = now_ns
        marks = state.marks()
        valuation = state.portfolio.mark(marks)
        point = pnl_point(valuation, state.portfolio.starting_cash, now_ns)
        self._history.append(point)
        return DashboardSnapshot(
            sequence=sequence, ts_ns=now_ns, time=iso_time(now_ns),
            elapsed_s=round((now_ns - self._started_ns) / 1e9, 3),
            strategies=[strategy.id for strategy in engine.strategies],
            kill_switch=state.kill_switch.reason if state.kill_switch.engaged else "",
            cash=format_micro(state.portfolio.cash), equity=point.equity,
            realized=point.realized, unrealized=point.unrealized,
            fees=format_micro(valuation.fees), pnl=point.pnl,
            markets=market_rows(state.markets.values()),
            books=book_rows(state, self.max_books),
            positions=position_rows(state, marks),
            open_orders=order_rows(state),
            fills=[fill_row(state, record) for record in reversed(self._fills)],
            signals=[signal_row(state, record) for record in reversed(self._signals)],
            pnl_history=list(self._history),
            feeds=feed_rows(runtime, now_ns),
            session=counters_of(runtime.session.counters),
            engine=counters_of(engine.counters),
        )

    async def publish(self, runtime: TradingRuntime) -> DashboardSnapshot:
        """Build, publish to the hub and (with ``out_dir``) write one snapshot."""
        snapshot = self.build(runtime, self.hub.sequence + 1)
        data = encode_snapshot(snapshot)
        self.hub.put(data)
        if self.out_dir is not None:
            await asyncio.to_thread(write_atomically, self.out_dir / SNAPSHOT_FILE, data)
        return snapshot

    async def run(self, runtime: TradingRuntime) -> None:
        """Publish every ``interval_s`` until cancelled (a :data:`Service`)."""
        if self.out_dir is not None:
            self.out_dir.mkdir(parents=True, exist_ok=True)
        while True:
            await self.publish(runtime)
            await asyncio.sleep(self.interval_s)
