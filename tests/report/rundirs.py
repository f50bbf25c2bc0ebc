"""Build run directories by hand (the format ``pengine backtest`` writes) for report tests."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

GOLDEN = Path(__file__).resolve().parent / "golden"
HOUR = 3600 * 1_000_000_000
MINUTE = 60 * 1_000_000_000
T0 = 1_767_225_600 * 1_000_000_000  # 2026-01-01 00:00:00 UTC

FILL_COLUMNS = ("ts_ns", "strategy", "client_id", "market", "slug", "token", "outcome", "side",
                "price", "size", "fee", "liquidity")
COLUMNS = {
    "fills.csv": FILL_COLUMNS,
    "orders.csv": ("ts_ns", "strategy", "client_id", "market", "token", "side", "price", "size",
                   "tif", "status", "filled"),
    "signals.csv": ("ts_ns", "strategy", "market", "token", "side", "edge", "confidence",
                    "fair_price", "action"),
    "equity.csv": ("ts_ns", "cash", "equity", "exposure"),
    "resolutions.csv": ("ts_ns", "market", "slug", "winning_token", "winning_outcome"),
    "positions.csv": ("market", "slug", "token", "outcome", "shares", "avg_price", "mark"),
}
Row = dict[str, str]


def fill(ts_ns: int, strategy: str, market: str, token: str, side: str, price: str, size: str,
         fee: str = "0.000000", *, slug: str = "", outcome: str = "") -> Row:
    """A fills.csv row."""
    return {"ts_ns": str(ts_ns), "strategy": strategy, "client_id": f"{strategy}-{ts_ns}",
            "market": market, "slug": slug, "token": token, "outcome": outcome, "side": side,
            "price": price, "size": size, "fee": fee,
            "liquidity": "maker" if fee == "0.000000" else "taker"}


def signal(ts_ns: int, strategy: str, market: str, token: str, fair_price: str) -> Row:
    """A signals.csv row (``fair_price`` may be empty: a signal without a forecast)."""
    return {"ts_ns": str(ts_ns), "strategy": strategy, "market": market, "token": token,
            "side": "BUY", "edge": "0.010000", "confidence": "0.500000",
            "fair_price": fair_price, "action": "enter"}


def equity(ts_ns: int, value: str, exposure: str = "0.000000", cash: str | None = None) -> Row:
    """An equity.csv row."""
    return {"ts_ns": str(ts_ns), "cash": cash or value, "equity": value, "exposure": exposure}


def resolution(ts_ns: int, market: str, winner: str, outcome: str = "Yes",
               slug: str = "") -> Row:
    """A resolutions.csv row."""
    return {"ts_ns": str(ts_ns), "market": market, "slug": slug, "winning_token": winner,
            "winning_outcome": outcome}


def position(market: str, token: str, shares: str, mark: str, slug: str = "") -> Row:
    """A positions.csv row."""
    return {"market": market, "slug": slug, "token": token, "outcome": "Yes", "shares": shares,
            "avg_price": "", "mark": mark}


def write_run(path: Path, *, strategies: tuple[str, ...] = ("fader",),
              starting_cash: str = "1000.000000", fills: list[Row] | None = None,
              signals: list[Row] | None = None, equity_rows: list[Row] | None = None,
              resolutions: list[Row] | None = None, positions: list[Row] | None = None) -> Path:
    """Write a run directory at ``path`` (every journal, empty ones with just a header)."""
    path.mkdir(parents=True, exist_ok=True)
    info = {"version": 1, "strategies": list(strategies), "params": {"min_edge": "0.02"},
            "data": "data/world", "from_ns": T0, "to_ns": T0 + 4 * HOUR, "config": {},
            "events": 12345, "markets": 3, "starting_cash": starting_cash}
    (path / "run.json").write_text(json.dumps(info, indent=2))
    tables = {"fills.csv": fills, "orders.csv": [], "signals.csv": signals,
              "equity.csv": equity_rows, "resolutions.csv": resolutions,
              "positions.csv": positions}
    for name, rows in tables.items():
        with (path / name).open("w", newline="") as handle:
            writer = csv.DictWriter(handle, COLUMNS[name], lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows or [])
    return path


# The scenario most tests use; its right answers are worked out in test_metrics.py.
M1, M2, M3 = "0xmarket1", "0xmarket2", "0xmarket3"


def scenario(path: Path) -> Path:
    """Two strategies, three markets (two resolve), forecasts by ``fader`` only."""
    fills = [
        fill(T0 + 10 * MINUTE, "fader", M1, "Y1", "BUY", "0.400000", "10.000000", "0.100000",
             slug="btc-up", outcome="Yes"),
        fill(T0 + 20 * MINUTE, "maker", M2, "Y2", "BUY", "0.500000", "20.000000",
             slug="eth-up", outcome="Yes"),
        fill(T0 + 30 * MINUTE, "fader", M3, "Y3", "BUY", "0.250000", "8.000000", "0.040000",
             slug="sol-up", outcome="Yes"),
        fill(T0 + 40 * MINUTE, "maker", M1, "N1", "BUY", "0.580000", "5.000000",
             slug="btc-up", outcome="No"),
        fill(T0 + 60 * MINUTE, "maker", M2, "Y2", "SELL", "0.600000", "5.000000", "0.050000",
             slug="eth-up", outcome="Yes"),
        fill(T0 + 120 * MINUTE, "maker", M1, "N1", "SELL", "0.700000", "5.000000", "0.070000",
             slug="btc-up", outcome="No"),
    ]
    signals = [
        signal(T0 + 5 * MINUTE, "fader", M1, "Y1", "0.620000"),
        signal(T0 + 25 * MINUTE, "fader", M3, "Y3", "0.350000"),
        signal(T0 + 50 * MINUTE, "fader", M1, "Y1", "0.700000"),
        signal(T0 + 60 * MINUTE, "fader", M2, "Y2", "0.500000"),  # never resolves
        signal(T0 + 70 * MINUTE, "fader", M1, "Y1", ""),  # no forecast
        signal(T0 + 181 * MINUTE, "fader", M1, "Y1", "0.990000"),  # after the resolution
    ]
    equity_rows = [
        equity(T0, "1000.000000"),
        equity(T0 + HOUR, "1002.000000", "14.000000"),
        equity(T0 + 2 * HOUR, "999.000000", "20.000000"),
        equity(T0 + 3 * HOUR, "1004.000000", "8.250000"),
        equity(T0 + 4 * HOUR, "1005.590000", "8.250000"),
    ]
    resolutions = [
        resolution(T0 + 180 * MINUTE, M1, "Y1", "Yes", slug="btc-up"),
        resolution(T0 + 200 * MINUTE, M3, "N3", "No", slug="sol-up"),
    ]
    positions = [position(M2, "Y2", "15.000000", "0.550000", slug="eth-up")]
    return write_run(path, strategies=("fader", "maker"), fills=fills, signals=signals,
                     equity_rows=equity_rows, resolutions=resolutions, positions=positions)


def assert_golden(name: str, data: bytes) -> None:
    """Compare with tests/report/golden/NAME; UPDATE_GOLDENS=1 rewrites it (then review it)."""
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDENS") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    assert path.exists(), f"golden {path} missing: run with UPDATE_GOLDENS=1 and review it"
    assert data == path.read_bytes(), f"output differs from golden {path}"
