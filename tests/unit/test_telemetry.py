"""Telemetry: buffered on the hot path, written per market on flush, exact decimals."""

from __future__ import annotations

import asyncio
import csv
from decimal import Decimal
from pathlib import Path

from prediction_engine.core.events import Side
from prediction_engine.core.ids import ConditionId, TokenId, Venue
from prediction_engine.core.markets import FeeSchedule, Market
from prediction_engine.core.orders import OrderStatus, TimeInForce
from prediction_engine.engine.telemetry import (
    FillRecord,
    LatencyRecord,
    OrderRecord,
    SignalRecord,
    Telemetry,
    market_dir_name,
)

BTC = ConditionId("0x" + "ab" * 32)
ETH = ConditionId("0x" + "cd" * 32)
YES = TokenId("1234567890")
TS = 1_767_225_600_123_456_789  # 2026-01-01T00:00:00.123456789Z


def rows(path: Path) -> list[list[str]]:
    with path.open(newline="") as f:
        return list(csv.reader(f))


def dicts(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def fill(market: ConditionId = BTC, trade_id: str = "t1") -> FillRecord:
    return FillRecord(TS, "edge", "c1", market, YES, Side.BUY, 450_000, 10_000_000, 12_340,
                      trade_id, "taker")


def order() -> OrderRecord:
    return OrderRecord(TS, "edge", "c1", BTC, YES, Side.SELL, 510_000, 5_000_000,
                       TimeInForce.FAK, OrderStatus.PARTIALLY_FILLED, 2_500_000, "")


def signal() -> SignalRecord:
    return SignalRecord(TS, "edge", BTC, YES, Side.BUY, 0.031, 0.9, 0.481, "rejected:MAX_POSITION")


def latency() -> LatencyRecord:
    return LatencyRecord(TS, BTC, YES, 41_250, 7_003, 60_000_001)


def market(condition_id: ConditionId = BTC, question: str = "Bitcoin Up or Down?") -> Market:
    return Market(
        venue=Venue.POLYMARKET, condition_id=condition_id, market_id="1", slug="btc-updown-5m",
        question=question, outcomes=("Up", "Down"), tokens=(YES, TokenId("99")),
        tick_size=10_000, min_order_size=5_000_000, event_slug="btc-updown-5m-event",
        fee_schedule=FeeSchedule(rate=Decimal("0.07")), start_ns=TS, end_ns=TS + 300 * 10**9,
    )


def test_records_land_in_their_market_files_as_exact_decimals(tmp_path: Path) -> None:
    telemetry = Telemetry(tmp_path)
    telemetry.fill(fill())
    telemetry.order(order())
    telemetry.signal(signal())
    telemetry.latency(latency())
    telemetry.fill(fill(ETH, "t2"))
    assert telemetry.flush() == 5
    telemetry.close()

    btc = tmp_path / BTC
    assert dicts(btc / "fills.csv") == [{
        "ts_ns": str(TS), "time_utc": "2026-01-01T00:00:00.123456Z", "strategy": "edge",
        "client_id": "c1", "market": BTC, "token": YES, "side": "BUY", "price": "0.45",
        "size": "10", "fee": "0.01234", "trade_id": "t1", "liquidity": "taker",
    }]
    assert dicts(btc / "orders.csv") == [{
        "ts_ns": str(TS), "time_utc": "2026-01-01T00:00:00.123456Z", "strategy": "edge",
        "client_id": "c1", "market": BTC, "token": YES, "side": "SELL", "price": "0.51",
        "size": "5", "time_in_force": "FAK", "status": "PARTIALLY_FILLED", "filled": "2.5",
        "reason": "",
    }]
    [sig] = dicts(btc / "signals.csv")
    assert (sig["edge"], sig["confidence"], sig["fair_price"], sig["action"]) == (
        "0.031", "0.9", "0.481", "rejected:MAX_POSITION")
    [lat] = dicts(btc / "latency.csv")
    assert (lat["ts_recv_ns"], lat["decode_us"], lat["evaluate_us"], lat["end_to_end_us"]) == (
        str(TS), "41.250", "7.003", "60000.001")
    assert [r["trade_id"] for r in dicts(tmp_path / ETH / "fills.csv")] == ["t2"]
    assert sorted(p.name for p in btc.iterdir()) == [
        "fills.csv", "latency.csv", "orders.csv", "signals.csv"]


def test_hot_path_writes_nothing_until_flush(tmp_path: Path) -> None:
    out = tmp_path / "telemetry"
    telemetry = Telemetry(out)
    telemetry.fill(fill())
    telemetry.signal(signal())
    telemetry.market_info(market())
    assert not out.exists()
    assert telemetry.flush() == 3
    assert (out / BTC / "fills.csv").exists()
    assert telemetry.flush() == 0
    telemetry.close()


def test_files_stay_open_and_rows_are_visible_after_each_flush(tmp_path: Path) -> None:
    telemetry = Telemetry(tmp_path)
    telemetry.fill(fill(trade_id="a"))
    telemetry.flush()
    telemetry.fill(fill(trade_id="b"))
    telemetry.flush()
    # Not closed: the OS already has both rows.
    assert [r["trade_id"] for r in dicts(tmp_path / BTC / "fills.csv")] == ["a", "b"]
    telemetry.close()


def test_restart_appends_below_a_single_header(tmp_path: Path) -> None:
    for trade_id in ("first", "second"):
        telemetry = Telemetry(tmp_path)
        telemetry.fill(fill(trade_id=trade_id))
        telemetry.close()
    table = rows(tmp_path / BTC / "fills.csv")
    assert table[0][0] == "ts_ns"
    assert [r[10] for r in table[1:]] == ["first", "second"]


def test_directory_names_come_from_market_names_and_are_sanitized(tmp_path: Path) -> None:
    names = {BTC: "../btc up/down: 5m?", ETH: "e" * 150}
    telemetry = Telemetry(tmp_path, market_names=names.__getitem__)
    telemetry.fill(fill(BTC))
    telemetry.fill(fill(ETH))
    telemetry.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["_btc_up_down__5m_", "e" * 100]


def test_market_dir_name_rules() -> None:
    assert market_dir_name("btc-updown-5m_1.0") == "btc-updown-5m_1.0"
    assert market_dir_name("..") == "_"
    assert market_dir_name("é/x") == "__x"
    assert len(market_dir_name("x" * 500)) == 100


def test_market_info_is_readable_and_rewritten(tmp_path: Path) -> None:
    telemetry = Telemetry(tmp_path, market_names=lambda _: "btc-updown-5m")
    telemetry.market_info(market(), {"strike": "97250.5"})
    telemetry.flush()
    path = tmp_path / "btc-updown-5m" / "market_info.txt"
    lines = path.read_text().splitlines()
    assert "question: Bitcoin Up or Down?" in lines
    assert f"condition id: {BTC}" in lines
    assert f"token Up: {YES}" in lines
    assert "tick size: 0.01" in lines
    assert "min order size: 5" in lines
    assert "fee schedule: rate 0.07, exponent 1" in lines
    assert "start: 2026-01-01T00:00:00.123456Z" in lines
    assert "end: 2026-01-01T00:05:00.123456Z" in lines
    assert lines[-1] == "strike: 97250.5"

    telemetry.market_info(market(question="Bitcoin\nUp or Down, again?"))
    telemetry.close()
    lines = path.read_text().splitlines()
    assert lines[0] == "question: Bitcoin Up or Down, again?"
    assert not any(line.startswith("strike") for line in lines)
    assert sorted(p.name for p in path.parent.iterdir()) == ["market_info.txt"]


async def test_writer_task_flushes_within_the_interval_and_on_cancel(tmp_path: Path) -> None:
    telemetry = Telemetry(tmp_path)
    writer = asyncio.create_task(telemetry.run(interval_s=0.01))
    telemetry.fill(fill(trade_id="periodic"))
    path = tmp_path / BTC / "fills.csv"
    for _ in range(500):  # the writer, not this test, must flush
        await asyncio.sleep(0.01)
        if path.exists() and len(rows(path)) == 2:
            break
    assert [r["trade_id"] for r in dicts(path)] == ["periodic"]

    telemetry.fill(fill(trade_id="last"))
    writer.cancel()
    await asyncio.gather(writer, return_exceptions=True)
    assert writer.cancelled()
    assert [r["trade_id"] for r in dicts(path)] == ["periodic", "last"]
    telemetry.close()


async def test_writer_flushes_on_cancel_before_its_first_tick(tmp_path: Path) -> None:
    telemetry = Telemetry(tmp_path)
    writer = asyncio.create_task(telemetry.run(interval_s=3600))
    await asyncio.sleep(0)
    telemetry.latency(latency())
    writer.cancel()
    await asyncio.gather(writer, return_exceptions=True)
    assert len(dicts(tmp_path / BTC / "latency.csv")) == 1
    telemetry.close()
