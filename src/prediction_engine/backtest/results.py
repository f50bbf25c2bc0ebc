"""What a backtest keeps: the engine's records, the equity curve, resolutions; the run files.

:class:`RunRecorder` is the engine's telemetry sink during a backtest (each call appends to a
list) and :func:`write_run` turns it into the run directory that ``pengine report`` reads::

    run.json  fills.csv  orders.csv  signals.csv  equity.csv  resolutions.csv  positions.csv

Every file is a pure function of the data, the strategies and the configuration: no wall-clock
times, no paths of temporary files, floats printed with ``repr``. Two runs of the same backtest
give byte-identical directories.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import msgspec

from prediction_engine.core.ids import ConditionId, TokenId
from prediction_engine.core.markets import Market
from prediction_engine.core.numbers import ONE
from prediction_engine.engine.telemetry import FillRecord, LatencyRecord, OrderRecord, SignalRecord

__all__ = ["EquityPoint", "Resolution", "RunRecorder", "money", "write_run"]


class EquityPoint(msgspec.Struct, frozen=True, array_like=True, gc=False):
    """Cash, marked equity and gross marked exposure (micro-units) at replay time ``ts_ns``."""

    ts_ns: int
    cash: int
    equity: int
    exposure: int


class Resolution(msgspec.Struct, frozen=True, gc=False):
    """A market settled during the replay."""

    ts_ns: int
    market: ConditionId
    winning_token: TokenId
    winning_outcome: str


class RunRecorder:
    """Collects what the engine reports during a backtest (a :class:`TelemetrySink`)."""

    def __init__(self) -> None:
        self.signals: list[SignalRecord] = []
        self.orders: list[OrderRecord] = []
        self.fills: list[FillRecord] = []
        self.equity: list[EquityPoint] = []
        self.resolutions: list[Resolution] = []

    def signal(self, record: SignalRecord) -> None:
        """Keep a signal."""
        self.signals.append(record)

    def order(self, record: OrderRecord) -> None:
        """Keep an order state."""
        self.orders.append(record)

    def fill(self, record: FillRecord) -> None:
        """Keep a fill."""
        self.fills.append(record)

    def latency(self, record: LatencyRecord) -> None:
        """Replay time has no processing latency worth keeping."""

    def market_info(self, market: Market, extra: Mapping[str, str] | None = None) -> None:
        """Markets are listed in ``run.json`` instead."""


def money(value: int) -> str:
    """Micro-units as a decimal with exactly 6 places (``450000`` -> ``0.450000``)."""
    sign = "-" if value < 0 else ""
    whole, frac = divmod(abs(value), ONE)
    return f"{sign}{whole}.{frac:06d}"


def _write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    with path.open("w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def write_run(
    out: Path,
    recorder: RunRecorder,
    markets: Mapping[ConditionId, Market],
    positions: Sequence[tuple[TokenId, int, int, int]],
    meta: Mapping[str, Any],
) -> None:
    """Write the run files into ``out``. ``positions``: (token, shares, cost basis, mark)."""
    out.mkdir(parents=True, exist_ok=True)
    by_token: dict[TokenId, tuple[Market, str]] = {
        t: (m, o) for m in markets.values() for t, o in zip(m.tokens, m.outcomes, strict=False)
    }

    def slug(market: ConditionId) -> str:
        found = markets.get(market)
        return found.slug if found is not None else ""

    def outcome(token: TokenId) -> str:
        found = by_token.get(token)
        return found[1] if found is not None else ""

    _write_csv(
        out / "fills.csv",
        ("ts_ns", "strategy", "client_id", "market", "slug", "token", "outcome", "side",
         "price", "size", "fee", "liquidity"),
        ((f.ts_ns, f.strategy, f.client_id, f.market, slug(f.market), f.token, outcome(f.token),
          f.side.value, money(f.price), money(f.size), money(f.fee), f.liquidity)
         for f in recorder.fills),
    )
    _write_csv(
        out / "orders.csv",
        ("ts_ns", "strategy", "client_id", "market", "token", "side", "price", "size", "tif",
         "status", "filled", "reason"),
        ((o.ts_ns, o.strategy, o.client_id, o.market, o.token, o.side.value, money(o.price),
          money(o.size), o.time_in_force.value, o.status.value, money(o.filled), o.reason)
         for o in recorder.orders),
    )
    _write_csv(
        out / "signals.csv",
        ("ts_ns", "strategy", "market", "token", "side", "edge", "confidence", "fair_price",
         "action"),
        ((s.ts_ns, s.strategy, s.market, s.token, s.side.value, repr(s.edge),
          repr(s.confidence), repr(s.fair_price), s.action) for s in recorder.signals),
    )
    _write_csv(
        out / "equity.csv",
        ("ts_ns", "cash", "equity", "exposure"),
        ((p.ts_ns, money(p.cash), money(p.equity), money(p.exposure))
         for p in recorder.equity),
    )
    _write_csv(
        out / "resolutions.csv",
        ("ts_ns", "market", "slug", "winning_token", "winning_outcome"),
        ((r.ts_ns, r.market, slug(r.market), r.winning_token, r.winning_outcome)
         for r in recorder.resolutions),
    )
    rows = []
    for token, shares, basis, mark in positions:
        market, name = by_token.get(token, (None, ""))
        average = money(basis * ONE // shares) if shares else ""
        rows.append((market.condition_id if market else "", market.slug if market else "",
                     token, name, money(shares), average, money(mark)))
    _write_csv(
        out / "positions.csv",
        ("market", "slug", "token", "outcome", "shares", "avg_price", "mark"),
        rows,
    )
    (out / "run.json").write_bytes(
        msgspec.json.format(msgspec.json.encode(dict(meta)), indent=2) + b"\n"
    )
