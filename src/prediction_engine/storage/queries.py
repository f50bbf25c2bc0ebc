"""What users ask a journal: orders, fills, positions, PnL and signals, as polars tables.

Every query reads the journal's records (decoded and checked like a restore does) and folds
them with the engine's own types: an order's state is its submission moved through every
report by the lifecycle table; positions and PnL replay fills and settlements through
:class:`~prediction_engine.core.portfolio.Portfolio`, one per run and one per strategy, so
they match what the engine held to the micro-unit. Money, prices and sizes are exact decimals
(6 places); times are UTC plus integer nanoseconds.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import polars as pl

from prediction_engine.core.commands import ExecutionReport, SubmitOrder
from prediction_engine.core.events import MarketResolved
from prediction_engine.core.ids import TokenId
from prediction_engine.core.numbers import ONE
from prediction_engine.core.orders import Order, apply
from prediction_engine.core.portfolio import Portfolio
from prediction_engine.engine.journaling import JournalKind
from prediction_engine.engine.snapshot import EngineSnapshot, SessionStart
from prediction_engine.engine.telemetry import SignalRecord, iso_utc
from prediction_engine.storage.errors import JournalCorruptError
from prediction_engine.storage.rows import JournalRow, decode
from prediction_engine.storage.sql import SqlBackend

__all__ = ["QUERIES", "fills", "orders", "pnl", "positions", "signals"]

_K = JournalKind
_MONEY = pl.Decimal(20, 6)


@dataclass
class _Run:
    """One run folded: its orders, fills, portfolios and latest marks."""

    orders: dict[str, tuple[Order, str, int]] = field(default_factory=dict)
    fills: list[dict[str, Any]] = field(default_factory=list)
    portfolio: Portfolio = field(default_factory=lambda: Portfolio(0))
    """Fills and settlements from zero cash: add :attr:`starting_cash` for the balance."""
    starting_cash: int = 0
    """From the run's session records and snapshots (constant within a run)."""
    by_strategy: dict[str, Portfolio] = field(default_factory=dict)
    traded: dict[str, tuple[int, int]] = field(default_factory=dict)
    """Per strategy (fills, volume in micro-USD)."""
    marks: dict[str, int] = field(default_factory=dict)
    before: dict[str, tuple[int, int, int, int]] = field(default_factory=dict)
    """Per strategy (realized, fees, fills, volume) just before ``since``."""
    crossed: bool = False


def _decoded(backend: SqlBackend, run_id: str | None,
             kinds: tuple[JournalKind, ...]) -> Iterator[tuple[JournalRow, object]]:
    for row in backend.read(run_id, kinds=[k.value for k in kinds]):
        try:
            _, record = decode(row)
        except ValueError as e:
            raise JournalCorruptError(
                f"journal {backend.location}, run {row.run_id}: record {row.seq} ({row.kind}) "
                f"is corrupt: {e}; `pengine journal check` shows what is intact"
            ) from e
        yield row, record


def _micro(value: int) -> Decimal:
    return Decimal(value) / ONE


def _frame(rows: list[dict[str, Any]], money: tuple[str, ...], columns: tuple[str, ...]
           ) -> pl.DataFrame:
    schema: dict[str, Any] = {c: (_MONEY if c in money else None) for c in columns}
    data = {c: [r[c] for r in rows] for c in columns}
    return pl.DataFrame({c: pl.Series(c, data[c], dtype=schema[c]) for c in columns})


def _fold(backend: SqlBackend, run_id: str | None, since_ns: int | None) -> dict[str, _Run]:
    runs: dict[str, _Run] = {}
    kinds = (_K.SESSION, _K.SUBMIT, _K.REPORT, _K.RESOLUTION, _K.SNAPSHOT)
    for row, record in _decoded(backend, run_id, kinds):
        run = runs.setdefault(row.run_id, _Run())
        if since_ns is not None and not run.crossed and row.ts_ns >= since_ns:
            run.before, run.crossed = _totals(run), True
        if isinstance(record, SessionStart | EngineSnapshot):
            run.starting_cash = record.portfolio.starting_cash
            if isinstance(record, EngineSnapshot):
                run.marks = record.marks
        elif isinstance(record, SubmitOrder):
            run.orders[record.order.client_id] = (record.order, record.strategy, row.ts_ns)
        elif isinstance(record, ExecutionReport):
            _report(run, row, record)
        elif isinstance(record, MarketResolved):
            for portfolio in (run.portfolio, *run.by_strategy.values()):
                portfolio.resolve(record)
    return runs


def _report(run: _Run, row: JournalRow, report: ExecutionReport) -> None:
    known = run.orders.get(report.client_id)
    if known is None:
        return
    order, strategy, submitted = known
    run.orders[report.client_id] = (apply(order, report.event), strategy, submitted)
    fill = report.fill
    if fill is None:
        return
    run.portfolio.apply_fill(fill)
    run.by_strategy.setdefault(strategy, Portfolio(0)).apply_fill(fill)
    count, volume = run.traded.get(strategy, (0, 0))
    run.traded[strategy] = (count + 1, volume + fill.notional)
    run.fills.append({
        "run_id": row.run_id, "time_utc": iso_utc(fill.ts_ns), "ts_ns": fill.ts_ns,
        "strategy": strategy, "client_id": fill.client_id, "market": fill.market,
        "token": fill.token, "side": fill.side.value, "price": _micro(fill.price),
        "size": _micro(fill.size), "fee": _micro(fill.fee), "trade_id": fill.trade_id,
        "liquidity": "taker" if report.taker else "maker",
    })


def _totals(run: _Run) -> dict[str, tuple[int, int, int, int]]:
    return {s: (p.realized, p.fees, *run.traded[s]) for s, p in run.by_strategy.items()}


def orders(backend: SqlBackend, run_id: str | None = None,
           since_ns: int | None = None) -> pl.DataFrame:
    """Every order with its latest state, in submission order."""
    rows = []
    for rid, run in _fold(backend, run_id, None).items():
        for order, strategy, submitted in run.orders.values():
            if since_ns is not None and submitted < since_ns:
                continue
            rows.append({
                "run_id": rid, "time_utc": iso_utc(submitted), "ts_ns": submitted,
                "strategy": strategy, "client_id": order.client_id, "market": order.market,
                "token": order.token, "side": order.side.value, "price": _micro(order.price),
                "size": _micro(order.size), "time_in_force": order.time_in_force.value,
                "status": order.status.value, "filled": _micro(order.filled),
                "reason": order.reason,
            })
    columns = ("run_id", "time_utc", "ts_ns", "strategy", "client_id", "market", "token",
               "side", "price", "size", "time_in_force", "status", "filled", "reason")
    return _frame(rows, ("price", "size", "filled"), columns)


def fills(backend: SqlBackend, run_id: str | None = None,
          since_ns: int | None = None) -> pl.DataFrame:
    """Every fill, in journal order."""
    rows = [f for run in _fold(backend, run_id, None).values() for f in run.fills
            if since_ns is None or f["ts_ns"] >= since_ns]
    columns = ("run_id", "time_utc", "ts_ns", "strategy", "client_id", "market", "token",
               "side", "price", "size", "fee", "trade_id", "liquidity")
    return _frame(rows, ("price", "size", "fee"), columns)


def positions(backend: SqlBackend, run_id: str | None = None,
              since_ns: int | None = None) -> pl.DataFrame:
    """Every token each run holds or held: shares, average price, realized PnL, fees, and
    the mark of the latest snapshot. ``since_ns`` keeps tokens traded since then."""
    traded_since = None
    if since_ns is not None:
        traded_since = {(f["run_id"], f["token"]) for f in fills(backend, run_id, since_ns)
                        .iter_rows(named=True)}
    rows = []
    for rid, run in _fold(backend, run_id, None).items():
        for p in run.portfolio.positions.values():
            if traded_since is not None and (rid, p.token) not in traded_since:
                continue
            mark = run.marks.get(p.token)
            rows.append({
                "run_id": rid, "market": p.market, "token": p.token,
                "shares": _micro(p.shares),
                "average_price": None if p.average_price is None else round(p.average_price, 6),
                "basis": _micro(p.basis), "mark": None if mark is None else _micro(mark),
                "realized": _micro(p.realized), "fees": _micro(p.fees),
            })
    columns = ("run_id", "market", "token", "shares", "average_price", "basis", "mark",
               "realized", "fees")
    return _frame(rows, ("shares", "average_price", "basis", "mark", "realized", "fees"),
                  columns)


def pnl(backend: SqlBackend, run_id: str | None = None,
        since_ns: int | None = None) -> pl.DataFrame:
    """Per run and strategy: fills, volume, fees and realized PnL (since ``since_ns`` when
    given), unrealized PnL at the latest snapshot's marks; a ``*`` row per run adds cash and
    equity."""
    rows = []
    for rid, run in _fold(backend, run_id, since_ns).items():
        totals = _totals(run)
        for strategy in sorted(run.by_strategy):
            realized, fees, count, volume = totals[strategy]
            b = run.before.get(strategy, (0, 0, 0, 0))
            marked = run.by_strategy[strategy].mark(_marks(run))
            rows.append(_pnl_row(rid, strategy, count - b[2], volume - b[3], fees - b[1],
                                 realized - b[0], marked.unrealized, None, None))
        valuation = run.portfolio.mark(_marks(run))
        count = sum(t[2] - run.before.get(s, (0, 0, 0, 0))[2] for s, t in totals.items())
        volume = sum(t[3] - run.before.get(s, (0, 0, 0, 0))[3] for s, t in totals.items())
        fees = valuation.fees - sum(b[1] for b in run.before.values())
        realized = valuation.realized - sum(b[0] for b in run.before.values())
        rows.append(_pnl_row(rid, "*", count, volume, fees, realized, valuation.unrealized,
                             run.starting_cash + valuation.cash,
                             run.starting_cash + valuation.equity))
    columns = ("run_id", "strategy", "fills", "volume", "fees", "realized", "unrealized",
               "cash", "equity")
    return _frame(rows, ("volume", "fees", "realized", "unrealized", "cash", "equity"),
                  columns)


def _marks(run: _Run) -> dict[TokenId, int]:
    return {TokenId(token): price for token, price in run.marks.items()}


def _pnl_row(run_id: str, strategy: str, count: int, volume: int, fees: int,  # noqa: PLR0917
             realized: int, unrealized: int, cash: int | None, equity: int | None
             ) -> dict[str, Any]:
    return {
        "run_id": run_id, "strategy": strategy, "fills": count, "volume": _micro(volume),
        "fees": _micro(fees), "realized": _micro(realized), "unrealized": _micro(unrealized),
        "cash": None if cash is None else _micro(cash),
        "equity": None if equity is None else _micro(equity),
    }


def signals(backend: SqlBackend, run_id: str | None = None,
            since_ns: int | None = None) -> pl.DataFrame:
    """Every signal and what became of it."""
    rows = []
    for row, record in _decoded(backend, run_id, (_K.SIGNAL,)):
        if not isinstance(record, SignalRecord) or (since_ns is not None
                                                    and row.ts_ns < since_ns):
            continue
        rows.append({
            "run_id": row.run_id, "time_utc": iso_utc(record.ts_ns), "ts_ns": record.ts_ns,
            "strategy": record.strategy, "market": record.market, "token": record.token,
            "side": record.side.value, "edge": record.edge, "confidence": record.confidence,
            "fair_price": record.fair_price, "action": record.action,
        })
    columns = ("run_id", "time_utc", "ts_ns", "strategy", "market", "token", "side", "edge",
               "confidence", "fair_price", "action")
    return _frame(rows, (), columns)


QUERIES = {"orders": orders, "fills": fills, "positions": positions, "pnl": pnl,
           "signals": signals}
"""The ``pengine journal`` queries by name."""
