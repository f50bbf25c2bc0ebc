"""CSV in: rows in a table's columns become the exact events; a bad row names its file, line
and column, and nothing is written."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from prediction_engine.core.events import BookDelta, BookSnapshot, ReferencePrice, Side, Trade
from prediction_engine.core.ids import Venue
from prediction_engine.store.csv_in import CsvError, convert_csv
from prediction_engine.store.manifest import load_manifest
from prediction_engine.store.query import read_events, scan

MARKET = "0x5f65177b394277fd294cd75650044e32ba009a95022d88a0c1d565897d72f8f1"
TOKEN = "52114319501245915516055106046884209969926127482827954674443846427813813222426"
T0 = 1_773_307_230_000_000_000


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_trades_with_decimals_iso_times_and_defaults(tmp_path: Path) -> None:
    csv = _write(tmp_path / "fills-000004.csv",
                 "ts_recv,market,token,price,size,aggressor\n"
                 f"{T0},{MARKET},{TOKEN},0.45,12.5,buy\n"
                 f"2026-03-12T09:20:31.5Z,{MARKET},{TOKEN},.46,100,\n")
    stats = convert_csv(csv, tmp_path / "store", "trades")
    assert stats.source == "csv-fills-000004" and stats.events == {"trades": 2}
    common = {"venue": Venue.POLYMARKET, "market": MARKET, "token": TOKEN, "trade_id": ""}
    assert read_events(tmp_path / "store") == [
        Trade(**common, ts_event=T0, ts_recv=T0, price=450_000, size=12_500_000,
              aggressor=Side.BUY),
        Trade(**common, ts_event=T0 + 1_500_000_000, ts_recv=T0 + 1_500_000_000,
              price=460_000, size=100_000_000, aggressor=None),
    ]
    seqs = scan(tmp_path / "store", "trades").collect()["seq"].to_list()
    assert seqs == [(4 << 32) | 1, (4 << 32) | 2]  # the csv's index and the row number
    [source] = load_manifest(tmp_path / "store").tapes
    assert source.source == "csv-fills-000004" and source.complete


def test_book_deltas_in_micro_units_with_explicit_positions(tmp_path: Path) -> None:
    csv = _write(tmp_path / "deltas.csv",
                 "seq,sub,ts_recv,ts_event,venue,market,token,side,price,size,checkpoint\n"
                 f"9,1,{T0},{T0 - 5},polymarket,{MARKET},{TOKEN},SELL,550000,0,false\n"
                 f"9,0,{T0},{T0 - 5},polymarket,{MARKET},{TOKEN},BUY,540000,7000000,true\n")
    convert_csv(csv, tmp_path / "store", "book_deltas", micro=True)
    common = {"venue": Venue.POLYMARKET, "ts_event": T0 - 5, "ts_recv": T0,
              "market": MARKET, "token": TOKEN}
    assert read_events(tmp_path / "store") == [
        BookDelta(**common, side=Side.BUY, price=540_000, size=7_000_000, checkpoint=True),
        BookDelta(**common, side=Side.SELL, price=550_000, size=0, checkpoint=False),
    ]


def test_reference_prices_keep_exact_decimals(tmp_path: Path) -> None:
    csv = _write(tmp_path / "btc.csv", "ts_recv,venue,symbol,price,size\n"
                 f"{T0},binance,btcusdt,61035.86000000,0.00012\n"
                 f"{T0 + 1},polymarket-rtds,btc/usd,61035.123456789012345678,\n")
    convert_csv(csv, tmp_path / "store", "reference_prices")
    assert read_events(tmp_path / "store") == [
        ReferencePrice(venue=Venue.BINANCE, ts_event=T0, ts_recv=T0, symbol="btcusdt",
                       price=Decimal("61035.86"), size=Decimal("0.00012")),
        ReferencePrice(venue=Venue.POLYMARKET_RTDS, ts_event=T0 + 1, ts_recv=T0 + 1,
                       symbol="btc/usd", price=Decimal("61035.123456789012345678")),
    ]
    keys = {f.market for f in load_manifest(tmp_path / "store").files}
    assert keys == {"btcusdt", "btc/usd"}
    assert (tmp_path / "store" / "v1" / "reference_prices" / "venue=polymarket-rtds").is_dir()


def test_book_snapshot_levels_are_json(tmp_path: Path) -> None:
    csv = _write(tmp_path / "books.csv", "ts_recv,market,token,bids,asks,tick_size\n"
                 f'{T0},{MARKET},{TOKEN},"[[""0.45"",""100""],[""0.44"",""2.5""]]",[],0.01\n')
    convert_csv(csv, tmp_path / "store", "book_snapshots")
    assert read_events(tmp_path / "store") == [BookSnapshot(
        venue=Venue.POLYMARKET, ts_event=T0, ts_recv=T0, market=MARKET, token=TOKEN,
        bids=((450_000, 100_000_000), (440_000, 2_500_000)), asks=(), tick_size=10_000)]


BAD = [
    ("trades", "ts_recv,market,token,price,size\n{t},{m},{k},0.4512345,1\n",
     ":2: column price: not an exact 6-decimal amount"),
    ("trades", "ts_recv,market,token,price,size\n{t},{m},{k},0.45,1\n{t},0xzz,{k},0.45,1\n",
     ":3: column market: condition id must be"),
    ("trades", "ts_recv,market,token,price,size\nyesterday,{m},{k},0.45,1\n",
     ":2: column ts_recv: not integer nanoseconds nor an ISO 8601 time"),
    ("trades", "ts_recv,market,token,price,size\n,{m},{k},0.45,1\n",
     ":2: column ts_recv: empty (required)"),
    ("trades", "ts_recv,market,token,price\n{t},{m},{k},0.45\n", ":1: column size: missing"),
    ("trades", "ts_recv,market,token,price,size,prize\n{t},{m},{k},0.45,1,2\n",
     ":1: column prize: not a column of trades"),
    ("trades", "ts_recv,market,token,price,size\n{t},{m},{k},0.45,1,extra\n",
     ":2: expected 5 fields"),
    ("book_deltas", "ts_recv,market,token,side,price,size\n{t},{m},{k},bid,0.4,1\n",
     ":2: column side: must be BUY or SELL"),
    ("reference_prices", "ts_recv,symbol,price\n{t},btcusdt,1\n", ":1: column venue: missing"),
    ("reference_prices", "ts_recv,venue,symbol,price\n{t},binance,btcusdt,1e30\n",
     ":2: column price: btcusdt value 1E+30 does not fit"),
    ("lifecycle", "ts_recv\n{t}\n", "table 'lifecycle' cannot be read from CSV"),
]


@pytest.mark.parametrize(("table", "text", "message"), BAD)
def test_a_bad_row_names_file_line_and_column_and_writes_nothing(
    table: str, text: str, message: str, tmp_path: Path
) -> None:
    csv = _write(tmp_path / "bad.csv", text.format(t=T0, m=MARKET, k=TOKEN))
    with pytest.raises(CsvError) as caught:
        convert_csv(csv, tmp_path / "store", table)
    assert str(caught.value).startswith(str(csv))
    assert message in str(caught.value)
    assert not (tmp_path / "store").exists()

