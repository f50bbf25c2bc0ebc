"""Events -> Parquet rows -> events gives back exactly what the production parsers made, for
every real capture we have; the schemas match what docs/event-store.md documents."""

from __future__ import annotations

import re
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import msgspec
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from prediction_engine.core.events import (
    BookDelta,
    BookSnapshot,
    Event,
    MarketListed,
    MarketResolved,
    ReferencePrice,
    Side,
    TopOfBook,
    Trade,
)
from prediction_engine.core.ids import Venue
from prediction_engine.store.query import read_part
from prediction_engine.store.schema import (
    SCHEMAS,
    TABLE_OF,
    TABLES,
    MarketRecord,
    check_reference,
    events_to_table,
    table_to_events,
    table_to_markets,
)
from prediction_engine.venues.binance.parse import parse as parse_binance
from prediction_engine.venues.polymarket.gamma_parse import parse_clob_market, parse_gamma_market
from prediction_engine.venues.polymarket.parse import parse_market_frame, parse_rest_book
from prediction_engine.venues.polymarket.replay import decode_file
from prediction_engine.venues.polymarket.rtds_parse import parse_rtds_frame
from tests.conftest import GOLDEN, ROOT, SHARED_FIXTURES, TEST_DATA

RECV = 1_700_000_000_123_456_789
_golden_decoder = msgspec.json.Decoder(list[Event] | Event)


def _stored(events: list[object]) -> list[Event]:
    return [e for e in events if type(e) in TABLE_OF]  # type: ignore[misc]


def _captures() -> dict[str, list[Event]]:
    """Every event the production parsers make of the real captures, by capture."""
    out: dict[str, list[Event]] = {}
    polymarket = SHARED_FIXTURES / "polymarket"
    for path in sorted(polymarket.glob("ws_market_*.json")):
        out[path.name] = parse_market_frame(path.read_bytes(), RECV)
    out["rest_clob_book.json"] = [parse_rest_book((polymarket / "rest_clob_book.json")
                                                  .read_bytes(), RECV)]
    for path in sorted(polymarket.glob("rtds_*.json")):
        out[path.name] = parse_rtds_frame(path.read_bytes(), RECV)
    for path in sorted((SHARED_FIXTURES / "binance").glob("*.json")):
        out[f"binance/{path.name}"] = parse_binance(path.read_bytes(), RECV)
    for path in sorted((TEST_DATA / "polymarket").glob("ws_*.jsonl")):
        out[f"data/{path.name}"] = [e for e in decode_file(path) if not isinstance(e, Exception)]
    for path in sorted(GOLDEN.glob("*/*.json")):
        if path.parent.name == "polymarket_gamma":
            continue
        decoded = _golden_decoder.decode(path.read_bytes())
        out[f"golden/{path.parent.name}/{path.name}"] = (
            decoded if isinstance(decoded, list) else [decoded]
        )
    # user-channel captures and Binance quotes hold nothing the store keeps
    return {name: kept for name, events in out.items() if (kept := _stored(events))}


CAPTURES = _captures()


def _round_trip(events: list[Event], tmp_path: Path, *, dictionary: bool) -> list[Event]:
    """Write each table's events to a Parquet file, read them back, convert, keep the order."""
    by_table: dict[str, list[tuple[int, Event]]] = defaultdict(list)
    for index, event in enumerate(events):
        by_table[TABLE_OF[type(event)]].append((index, event))
    back: list[tuple[int, Event]] = []
    for table, indexed in by_table.items():
        path = tmp_path / f"{table}.parquet"
        pq.write_table(events_to_table(table, [(i, 0, e) for i, e in indexed]), path)
        read = read_part(path, table) if dictionary else pq.read_table(path)
        assert read.column("seq").to_pylist() == [i for i, _ in indexed]
        back.extend(zip(read.column("seq").to_pylist(), table_to_events(table, read), strict=True))
    return [event for _, event in sorted(back, key=lambda pair: pair[0])]


def _assert_exact(got: list[Event], expected: list[Event]) -> None:
    assert got == expected
    for event in got:  # == would also accept plain strings where enums belong
        assert type(event.venue) is Venue
        for name in ("side", "aggressor"):
            value = getattr(event, name, None)
            assert value is None or type(value) is Side


def test_captures_cover_every_stored_event_kind() -> None:
    kinds = {type(e) for events in CAPTURES.values() for e in events}
    assert kinds == set(TABLE_OF) - {MarketRecord}
    assert sum(map(len, CAPTURES.values())) > 100


@pytest.mark.parametrize("dictionary", [True, False], ids=["read_part", "plain"])
@pytest.mark.parametrize("name", sorted(CAPTURES))
def test_real_capture_round_trips_exactly(name: str, dictionary: bool, tmp_path: Path) -> None:
    events = CAPTURES[name]
    _assert_exact(_round_trip(events, tmp_path, dictionary=dictionary), events)


def test_gamma_markets_round_trip_through_the_markets_table(tmp_path: Path) -> None:
    fixtures = SHARED_FIXTURES / "polymarket"
    markets = [parse_gamma_market((fixtures / name).read_bytes()) for name in (
        "gamma_market_btc_updown_5m.json", "gamma_market_closed_resolved.json",
        "gamma_market_sports_moneyline.json")]
    markets.append(parse_clob_market((fixtures / "rest_clob_market.json").read_bytes()))
    rows = [(i, 0, MarketRecord(RECV + i, m, msgspec.json.encode(m).decode()))
            for i, m in enumerate(markets)]
    path = tmp_path / "markets.parquet"
    pq.write_table(events_to_table("markets", rows), path)
    table = read_part(path, "markets")
    assert table_to_markets(table) == markets
    assert table.column("market").to_pylist() == [m.condition_id for m in markets]
    assert table.column("end_ns").to_pylist() == [m.end_ns for m in markets]
    assert table.column("ts_event").to_pylist() == table.column("ts_recv").to_pylist()


def test_empty_sides_nulls_and_both_lifecycle_kinds_round_trip(tmp_path: Path) -> None:
    base = {"venue": Venue.POLYMARKET, "ts_event": 5, "ts_recv": 6, "market": "0xab",
            "token": "12"}
    events: list[Event] = [
        BookSnapshot(**base, bids=(), asks=((990_000, 1),)),
        BookDelta(**base, side=Side.SELL, price=1, size=0, checkpoint=False),
        TopOfBook(**base, best_bid=None, best_ask=None),
        Trade(**base, price=2, size=3, aggressor=None, trade_id=""),
        MarketListed(venue=Venue.POLYMARKET, ts_event=1, ts_recv=2, market="0xab",
                     market_id="9", question="q", slug="s", tokens=("12", "13"),
                     outcomes=("Yes", "No")),
        MarketResolved(venue=Venue.POLYMARKET, ts_event=3, ts_recv=4, market="0xab",
                       market_id="9", tokens=("12", "13"), winning_token="13",
                       winning_outcome="No"),
        ReferencePrice(venue=Venue.BINANCE, ts_event=7, ts_recv=8, symbol="BTCUSDT",
                       price=Decimal("99999999999999999999.999999999999999999"),
                       size=Decimal("1E-18")),
    ]
    _assert_exact(_round_trip(events, tmp_path, dictionary=True), events)


def test_decimals_must_fit_exactly() -> None:
    def price(text: str) -> ReferencePrice:
        return ReferencePrice(venue=Venue.BINANCE, ts_event=0, ts_recv=0, symbol="x",
                              price=Decimal(text))

    check_reference(price("1.0000000000000000000000"))  # trailing zeros past 18 places
    for bad in ("1.0000000000000000001", "100000000000000000000", "NaN", "Infinity"):
        with pytest.raises(ValueError, match="does not fit"):
            check_reference(price(bad))


def test_values_that_do_not_fit_int64_raise() -> None:
    delta = BookDelta(venue=Venue.POLYMARKET, ts_event=0, ts_recv=0, market="0xab",
                      token="1", side=Side.BUY, price=1, size=1 << 63)
    with pytest.raises((OverflowError, pa.ArrowInvalid)):
        events_to_table("book_deltas", [(0, 0, delta)])


def test_schemas_carry_their_version_and_the_common_columns_first() -> None:
    for table, schema in SCHEMAS.items():
        assert schema.names[:5] == ["ts_recv", "ts_event", "seq", "sub", "venue"]
        assert schema.metadata[b"pengine.schema_version"] == b"1"
        assert schema.metadata[b"pengine.table"] == table.encode()


def test_docs_document_every_table_and_column_in_order() -> None:
    text = (ROOT / "docs" / "event-store.md").read_text()
    for table in TABLES:
        match = re.search(rf"^### `{table}`\n(.*?)(?=^##|\Z)", text, re.M | re.S)
        assert match, f"docs/event-store.md has no section for {table}"
        documented = re.findall(r"^\| `(\w+)` \|", match.group(1), re.M)
        assert documented == SCHEMAS[table].names[5:], table
