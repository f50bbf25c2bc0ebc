"""What the journal costs: write throughput, and tick-to-order latency with a journal attached.

Informative (no target in the issue); exits 0. Both backends: a DuckDB file in a temporary
directory, and PostgreSQL (``PENGINE_BENCH_PG``, default
``postgresql://postgres@127.0.0.1:5432/test``) in a throwaway schema dropped afterwards; the
PostgreSQL part is skipped, with a message, when the server cannot be reached.

1. Throughput. ``N_RECORDS`` realistic records, in the proportions of a trading run (per order:
   a signal, the submit, the venue's acknowledgement, a fill report, the position and the cash
   movement; the engine's own structs), are built beforehand and then appended with
   ``Journal.append``:

   - ``batch``: the appending thread commits every ``BATCH`` records itself (``flush()``);
   - ``writer``: a thread commits whatever is pending every 100 ms while the main thread
     appends as fast as it can (the production writer's cadence; backpressure at
     ``max_pending`` applies);
   - ``append``: appends only (nothing commits during the loop): the engine-side cost per
     record. The records are committed afterwards, untimed.

   Rates are records per wall second from the first append until the last commit returned
   (durable: DuckDB's WAL and PostgreSQL with ``fsync``/``synchronous_commit`` on); CPU time
   (``time.process_time``, all threads of this process; PostgreSQL's own server work is not
   in it) is printed beside.

2. Latency. bench_latency's single-order scenario (a threshold strategy sending one FAK through
   the paper client; 100,000 frames, an order every 20) with no journal, with a journal
   attached to the engine and a thread committing every 100 ms (what ``Journal.run`` does in
   its worker thread), and in strict mode (``flush_interval_s=0``: every command and report is
   committed before the engine goes on, so the commit is inside the measured latency).
"""

from __future__ import annotations

import gc
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from bench_latency import MS, N_FRAMES
from bench_latency import run as run_latency
from common import machine
from prediction_engine.core.commands import ExecutionReport, SubmitOrder
from prediction_engine.core.events import Side
from prediction_engine.core.ids import ConditionId, TokenId
from prediction_engine.core.numbers import ONE
from prediction_engine.core.orders import (
    Order,
    OrderEvent,
    OrderEventKind,
    TimeInForce,
)
from prediction_engine.core.portfolio import Fill, Position
from prediction_engine.engine.journaling import CashMovement, JournalKind
from prediction_engine.engine.telemetry import SignalRecord
from prediction_engine.storage.journal import Journal, JournalOptions, open_backend

N_RECORDS = int(os.environ.get("PENGINE_BENCH_JOURNAL_N", "200000"))
BATCH = 5_000
WRITER_INTERVAL_S = 0.1
REPEATS = 3
PG_URL = os.environ.get("PENGINE_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")
PG_SCHEMA = f"pengine_bench_{os.getpid()}"

_K = JournalKind


# -- records --------------------------------------------------------------------------------


def records(n: int) -> list[tuple[JournalKind, int, object, str]]:
    """``n`` records as a trading run appends them: per order a signal, the submit, the
    acknowledgement, a fill report, the position and the cash movement."""
    market = ConditionId("0x" + "ab" * 32)
    tokens = [TokenId(str(10**76 + 7919 * k)) for k in range(4)]
    strategy = "dip_buyer"
    out: list[tuple[JournalKind, int, object, str]] = []
    ts = 1_790_000_000_000 * MS
    cash = 10**9 * ONE
    shares = [0] * len(tokens)
    i = 0
    while len(out) < n:
        i += 1
        ts += 1_000_000
        k = i % len(tokens)
        token = tokens[k]
        price = (300 + i % 400) * 1_000
        size = (1 + i % 50) * ONE
        cid = f"{strategy}-{i}"
        out.append((_K.SIGNAL, ts, SignalRecord(ts, strategy, market, token, Side.BUY,
                                                0.012, 0.8, price / ONE + 0.01, "sized"),
                    strategy))
        order = Order(client_id=cid, market=market, token=token, side=Side.BUY, price=price,
                      size=size, time_in_force=TimeInForce.FAK, created_ns=ts, updated_ns=ts)
        out.append((_K.SUBMIT, ts, SubmitOrder(order=order, strategy=strategy, ts_ns=ts),
                    strategy))
        venue_id = "0x" + f"{i:064x}"
        out.append((_K.REPORT, ts + 1, ExecutionReport(
            client_id=cid, event=OrderEvent(kind=OrderEventKind.ACCEPTED, ts_ns=ts + 1,
                                            venue_order_id=venue_id)), strategy))
        fee = size * price // ONE * 3 // 100
        fill = Fill(market=market, token=token, side=Side.BUY, price=price, size=size, fee=fee,
                    ts_ns=ts + 2, client_id=cid, trade_id=f"trade-{i}")
        out.append((_K.REPORT, ts + 2, ExecutionReport(
            client_id=cid, event=OrderEvent(kind=OrderEventKind.FILLED, ts_ns=ts + 2,
                                            fill_size=size, venue_order_id=venue_id),
            fill=fill), strategy))
        shares[k] += size
        out.append((_K.POSITION, ts + 2, Position(market=market, token=token, shares=shares[k],
                                                  basis=shares[k] * price // ONE, fees=fee),
                    strategy))
        cash -= fill.notional + fee
        out.append((_K.CASH, ts + 2, CashMovement(
            ts_ns=ts + 2, amount=-(fill.notional + fee), balance=cash, reason="fill",
            market=market, client_id=cid, trade_id=fill.trade_id), strategy))
    return out[:n]


# -- backends --------------------------------------------------------------------------------


def pg_available() -> str | None:
    """``None`` if the server answers, else why not."""
    try:
        import psycopg

        with psycopg.connect(PG_URL, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except Exception as e:  # any failure means "skip"
        return str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    return None


def drop_pg_schema() -> None:
    import psycopg

    with psycopg.connect(PG_URL, autocommit=True, connect_timeout=3) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE")


class Target:
    """Where a fresh journal is opened for each run."""

    def __init__(self, name: str, tmp: Path) -> None:
        self.name, self.tmp, self.count = name, tmp, 0

    def open(self, options: JournalOptions) -> Journal:
        self.count += 1
        if self.name == "duckdb":
            target: str | Path = self.tmp / f"journal-{self.count}.duckdb"
        else:
            sep = "&" if "?" in PG_URL else "?"
            target = f"{PG_URL}{sep}schema={PG_SCHEMA}"
        config = {"bench": "journal", "run": self.count, "pid": os.getpid()}
        return Journal.open(open_backend(target), f"bench{self.count:04d}-{os.getpid()}",
                            config, options)


@contextmanager
def writer(journal: Journal, interval_s: float = WRITER_INTERVAL_S) -> Iterator[None]:
    """A thread committing what is pending every ``interval_s`` (as ``Journal.run`` does)."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(interval_s):
            journal.flush()

    thread = threading.Thread(target=loop, name="journal-writer", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


# -- 1. throughput ---------------------------------------------------------------------------


def timed(body: Callable[[], None]) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    body()
    return time.perf_counter() - wall, time.process_time() - cpu


def _batch(journal: Journal, recs: list[tuple[JournalKind, int, object, str]]) -> None:
    append, flush = journal.append, journal.flush
    for i, (kind, ts, record, strategy) in enumerate(recs, 1):
        append(kind, ts, record, strategy)
        if not i % BATCH:
            flush()
    flush()


def _writer(journal: Journal, recs: list[tuple[JournalKind, int, object, str]]) -> None:
    append = journal.append
    with writer(journal):
        for kind, ts, record, strategy in recs:
            append(kind, ts, record, strategy)
    journal.flush()


def _appends(journal: Journal, recs: list[tuple[JournalKind, int, object, str]]) -> None:
    append = journal.append
    for kind, ts, record, strategy in recs:
        append(kind, ts, record, strategy)


def throughput(target: Target, recs: list[tuple[JournalKind, int, object, str]]) -> None:
    n = len(recs)
    for mode, body in (("batch", _batch), ("writer", _writer), ("append", _appends)):
        for _ in range(REPEATS):
            options = JournalOptions(max_pending=10 * n if mode == "append" else 50_000)
            journal = target.open(options)
            wall, cpu = timed(lambda: body(journal, recs))  # noqa: B023 - called right here
            if mode == "append":
                in_loop = journal.flushes
                commit_wall, _ = timed(journal.flush)
                print(f"  {target.name:8} append   {wall / n * 1e9:7.0f} ns/append wall, "
                      f"{cpu / n * 1e9:7.0f} ns CPU ({n:,} appends, {in_loop} commits in "
                      f"the loop; committing them afterwards took {commit_wall:.2f} s)")
            else:
                print(f"  {target.name:8} {mode:8} {n / wall:9,.0f} records/s wall, "
                      f"{n / cpu:9,.0f} per CPU-s ({wall:.2f} s wall, {cpu:.2f} s CPU, "
                      f"{journal.flushes} commits)")
            assert journal.written == n, (journal.written, n)
            journal.close()


# -- 2. latency ------------------------------------------------------------------------------


def latency_run(journal: Journal | None) -> tuple[list[int], int]:
    """bench_latency.run("single") with ``journal`` attached to the engine: latencies (ns)
    of the frames that produced an order, and the records journaled while they ran."""
    start_seq = 0

    def start() -> None:
        nonlocal start_seq
        if journal is not None:
            journal.flush()  # start with nothing pending
            start_seq = journal.last_seq

    latencies = run_latency("single", journal=journal, on_start=start)
    return latencies, (journal.last_seq - start_seq) if journal is not None else 0


def latency(label: str, target: Target | None, strict: bool) -> None:
    for _ in range(REPEATS):
        journal = None
        if target is not None:
            journal = target.open(JournalOptions(flush_interval_s=0 if strict else 0.1))
        wall, cpu = time.perf_counter(), time.process_time()
        if journal is None:
            lat, appended = latency_run(None)
        else:
            with writer(journal):
                lat, appended = latency_run(journal)
            journal.flush()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        lat.sort()
        p50, p99 = lat[len(lat) // 2] / 1e3, lat[int(len(lat) * 0.99)] / 1e3
        extra = ""
        if journal is not None:
            extra = f", {appended:,} records in {journal.flushes} commits"
            journal.close()
        print(f"  {label:24} p50 {p50:6.1f} us  p99 {p99:6.1f} us  "
              f"mean {sum(lat) / len(lat) / 1e3:6.1f} us  ({len(lat):,} orders{extra}; "
              f"run {wall:.1f} s wall, {cpu:.1f} s CPU)")


# -- main ------------------------------------------------------------------------------------


def main() -> int:
    print(f"journal benchmark ({machine()}, {os.cpu_count()} cores; DuckDB file in a temp dir, "
          f"PostgreSQL schema {PG_SCHEMA})")
    pg_error = pg_available()
    if pg_error is not None:
        print(f"  PostgreSQL at {PG_URL} unreachable ({pg_error}): skipping its part")
    with tempfile.TemporaryDirectory(prefix="pengine-bench-journal-") as tmp:
        targets = [Target("duckdb", Path(tmp))]
        if pg_error is None:
            targets.append(Target("postgres", Path(tmp)))
        try:
            recs = records(N_RECORDS)
            # The pre-built records are the bench's, not the engine's heap: keep the cyclic
            # GC's full collections (triggered by the growing pending buffer) from rescanning
            # them (without this, 'append' measured 0.3-1.4 us, depending on when gen 2 ran).
            gc.collect()
            gc.freeze()
            print(f"1. write throughput: {N_RECORDS:,} records (signal, submit, ack report, "
                  f"fill report, position, cash per order); batch = commit every {BATCH:,} "
                  f"appends in the appending thread; writer = a thread committing every "
                  f"{WRITER_INTERVAL_S * 1e3:.0f} ms; until the last commit returned")
            for target in targets:
                throughput(target, recs)
            del recs
            gc.unfreeze()
            print("2. tick-to-order latency, single-order scenario of bench_latency "
                  f"({N_FRAMES:,} frames; writer thread committing every "
                  f"{WRITER_INTERVAL_S * 1e3:.0f} ms; strict = flush_interval_s=0)")
            latency("no journal", None, strict=False)
            for target in targets:
                latency(f"{target.name} + writer", target, strict=False)
                latency(f"{target.name} strict", target, strict=True)
        finally:
            if pg_error is None:
                drop_pg_schema()
                print(f"  dropped PostgreSQL schema {PG_SCHEMA}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
