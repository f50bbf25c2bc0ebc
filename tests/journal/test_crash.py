"""The crash test: `pengine paper` on a local venue, killed with SIGKILL at random moments
(22 times per backend), restarted each time, and checked after every restart against the
journal itself, on DuckDB and on PostgreSQL.

After each kill the journal must hold, with nothing lost or doubled:

- every record, contiguous and intact (checksums, decoding);
- every fill once (unique trade ids), each for an order that was submitted before it, and
  every order's filled size equal to the sum of its journaled fills;
- at each restart (a ``session`` record), the restored cash and positions equal an
  independent fold of every journaled fill and settlement before it, to the micro-dollar.

A last graceful run (SIGTERM) must write a summary whose cash and positions match the same
fold, with every open order cancelled.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest

from prediction_engine.core.commands import ExecutionReport, SubmitOrder
from prediction_engine.core.events import MarketResolved, Side
from prediction_engine.core.numbers import ONE, format_micro
from prediction_engine.core.orders import apply
from prediction_engine.engine.journaling import JournalKind, Shutdown
from prediction_engine.engine.snapshot import SessionStart
from prediction_engine.sim.polymarket import SimConfig
from prediction_engine.storage.journal import open_backend
from prediction_engine.storage.restore import check_run
from prediction_engine.storage.rows import decode
from tests.integration.harness import sim_in_thread

KILLS = 22
PENGINE = Path(sys.executable).with_name("pengine")
CHURN = Path(__file__).with_name("churn_strategy.py")
START_CASH = 1_000 * ONE


@pytest.fixture(scope="module")
def venue() -> Iterator[dict[str, str]]:
    with sim_in_thread(SimConfig(seed=11, updates_per_second=150, reference_feeds=False,
                                 updown_assets=())) as env:
        yield env


class _Process:
    """One `pengine paper` process whose output is read as it comes."""

    def __init__(self, target: str, out: Path, env: dict[str, str]) -> None:
        command = [str(PENGINE), "paper", "-s", str(CHURN), "-p", "every=2",
                   "--markets", "nba champion", "--limit", "3", "--out", str(out),
                   "--journal", target, "--journal-flush-ms", "50", "--snapshot-every", "0.7",
                   "--duration", "600"]
        self.lines: list[str] = []
        self.resumed = threading.Event()
        self.proc = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env={**os.environ, **env, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"},
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)
            if line.startswith("journal "):
                self.resumed.set()

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)


def _records(target: str) -> list[tuple[int, JournalKind, object]]:
    with open_backend(target) as backend:
        (run,) = backend.runs()
        check = check_run(backend, run.run_id)
        assert check.ok, check.describe(target)
        return [(row.seq, *decode(row)) for row in backend.read(run.run_id)]


def _fold(records: list[tuple[int, JournalKind, object]], before: int
          ) -> tuple[int, dict[str, int]]:
    """Cash and shares per token from the journaled fills and settlements before ``before``,
    by hand (not with the engine's Portfolio)."""
    cash, shares = START_CASH, defaultdict(int)
    for seq, _, record in records:
        if seq >= before:
            break
        if isinstance(record, ExecutionReport) and record.fill is not None:
            fill = record.fill
            sign = 1 if fill.side is Side.BUY else -1
            cash -= sign * (fill.price * fill.size // ONE) + fill.fee
            shares[fill.token] += sign * fill.size
        elif isinstance(record, MarketResolved):
            for token in record.tokens:
                if token == record.winning_token:
                    cash += shares[token] * ONE // ONE
                shares[token] = 0
    return cash, {t: s for t, s in shares.items() if s}


def _verify(records: list[tuple[int, JournalKind, object]]) -> tuple[int, int]:
    """Check the invariants of the module docstring; return (sessions restored, fills)."""
    orders, fills_by_order = {}, defaultdict(int)
    trade_ids: set[str] = set()
    restored = 0
    for seq, kind, record in records:
        if isinstance(record, SubmitOrder):
            orders[record.order.client_id] = record.order
        elif isinstance(record, ExecutionReport):
            assert record.client_id in orders, f"record {seq}: report for an unsubmitted order"
            orders[record.client_id] = apply(orders[record.client_id], record.event)
            if record.fill is not None:
                assert record.fill.trade_id not in trade_ids, f"fill doubled at {seq}"
                trade_ids.add(record.fill.trade_id)
                fills_by_order[record.client_id] += record.fill.size
        elif kind is JournalKind.SESSION and isinstance(record, SessionStart):
            cash, shares = _fold(records, seq)
            held = {p.token: p.shares for p in record.portfolio.positions if p.shares}
            assert record.portfolio.cash == cash, f"session {record.session}: cash"
            assert held == shares, f"session {record.session}: positions"
            restored += record.restored_seq > 0
    for client_id, order in orders.items():
        assert order.filled == fills_by_order[client_id], f"{client_id}: fills lost"
    return restored, len(trade_ids)


def _crash_many_times(target: str, out: Path, env: dict[str, str]) -> None:
    rng = random.Random(20261121)
    fills_seen: list[int] = []
    for attempt in range(KILLS):
        process = _Process(target, out, env)
        if attempt % 6 == 5:  # now and then during start-up or the restore itself
            time.sleep(rng.uniform(0.2, 1.2))
        else:
            assert process.resumed.wait(30), "".join(process.lines)
            time.sleep(rng.uniform(0.3, 2.5))
        process.kill()
        restored, fills = _verify(_records(target))
        fills_seen.append(fills)
    assert restored >= KILLS * 2 // 3, "most restarts restored a non-empty state"
    assert fills_seen[-1] > fills_seen[KILLS // 2] > 0, "trading went on after restarts"


def _graceful_stop(target: str, out: Path, env: dict[str, str]) -> None:
    process = _Process(target, out, env)
    assert process.resumed.wait(30), "".join(process.lines)
    time.sleep(1.5)
    process.proc.send_signal(signal.SIGTERM)
    assert process.proc.wait(30) == 0, "".join(process.lines)
    records = _records(target)
    _verify(records)
    assert isinstance(records[-1][2], type(records[-1][2]))
    shutdown = [r for _, k, r in records if isinstance(r, Shutdown)]
    assert shutdown and shutdown[-1].cancelled
    cash, shares = _fold(records, records[-1][0] + 1)
    import json

    summary = json.loads((out / "summary.json").read_text())
    assert summary["cash"] == format_micro(cash), "cash reconciles to the micro-dollar"
    assert summary["open_orders"] == 0
    held = sum(1 for s in shares.values() if s)
    assert sum(1 for p in summary["positions"] if p["shares"] not in ("0", "0.0")) == held


def test_kill_9_twenty_two_times_loses_and_doubles_nothing(
        journal_target: str, venue: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "paper"
    _crash_many_times(journal_target, out, venue)
    _graceful_stop(journal_target, out, venue)
