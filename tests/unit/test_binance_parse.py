"""Binance spot frames parse to exact reference prices; control frames give nothing."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from prediction_engine.core.events import ReferencePrice, Side
from prediction_engine.core.ids import Venue
from prediction_engine.venues.binance.parse import BinanceDecodeError, parse
from prediction_engine.venues.binance.session import trade_stream_url
from prediction_engine.venues.errors import DecodeError
from tests.conftest import SHARED_FIXTURES, assert_golden

RECV_NS = 1_800_000_000_123_456_789
FIXTURES = sorted((SHARED_FIXTURES / "binance").glob("*.json"))

# A current (post-2024) trade as Binance documents it: no b/a order ids.
TRADE_2025 = (
    b'{"e":"trade","E":1757522615939,"s":"BTCUSDT","t":5225367649,"p":"113747.89000000",'
    b'"q":"0.00060000","T":1757522615939,"m":true,"M":true}'
)


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_fixture_golden(path: Path) -> None:
    assert_golden(f"binance/{path.stem}.json", parse(path.read_bytes(), RECV_NS))


def test_trade_fields_are_exact() -> None:
    [event] = parse((SHARED_FIXTURES / "binance" / "nautilus_ws_spot_trade.json").read_bytes(), 7)
    assert event == ReferencePrice(
        venue=Venue.BINANCE,
        ts_event=1639351062243 * 1_000_000,
        ts_recv=7,
        symbol="ethusdt",
        price=Decimal("4149.74"),
        size=Decimal("0.4387"),
        aggressor=Side.SELL,  # m=true: the buyer rested, a seller took
        trade_id="705291099",
    )


def test_raw_stream_frame_and_buyer_taker() -> None:
    [event] = parse(TRADE_2025.replace(b'"m":true', b'"m":false'), RECV_NS)
    assert isinstance(event, ReferencePrice)
    assert (event.symbol, event.aggressor, event.trade_id) == ("btcusdt", Side.BUY, "5225367649")
    assert str(event.price) == "113747.89000000"


def test_combined_frame_equals_raw_frame() -> None:
    combined = b'{"stream":"btcusdt@trade","data":' + TRADE_2025 + b"}"
    assert parse(combined, RECV_NS) == parse(TRADE_2025, RECV_NS)
    assert parse(combined.decode(), RECV_NS) == parse(combined, RECV_NS)


@pytest.mark.parametrize(
    "frame",
    [
        b'{"result":null,"id":1}',
        b'{"result":["btcusdt@trade"],"id":"list"}',
        b'{"e":"serverShutdown","E":1757522615939}',
        b'{"stream":"!serverShutdown","data":{"e":"serverShutdown","E":1757522615939}}',
    ],
)
def test_control_frames_give_no_events(frame: bytes) -> None:
    assert parse(frame, RECV_NS) == []


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        (b"", "malformed"),
        (b"not json", "malformed"),
        (b"[]", "invalid message"),
        (b"{}", "neither"),
        (b'{"error":{"code":2,"msg":"Invalid request"},"id":1}', "rejected"),
        (b'{"stream":"btcusdt@trade"}', "without data"),
        (b'{"stream":"btcusdt@depth","data":{}}', "unexpected stream"),
        (TRADE_2025.replace(b'"p":"113747.89000000"', b'"p":"NaN"'), "price"),
        (TRADE_2025.replace(b'"p":"113747.89000000"', b'"p":"1_000"'), "price"),
        (TRADE_2025.replace(b'"q":"0.00060000"', b'"q":"0"'), "quantity"),
        (TRADE_2025.replace(b'"p":"113747.89000000"', b'"p":113747.89'), "invalid message"),
        (TRADE_2025.replace(b'"s":"BTCUSDT"', b'"s":"BTC USDT"'), "symbol"),
        (TRADE_2025.replace(b'"t":5225367649', b'"t":-1'), "invalid message"),
        (TRADE_2025.replace(b'"T":1757522615939', b'"T":99999999999999999'), "invalid message"),
        (TRADE_2025.replace(b'"e":"trade"', b'"e":"aggTrade"'), "invalid message"),
        (b'{"stream":"btcusdt@trade","data":' + TRADE_2025.replace(b'"trade"', b'"x"') + b"}",
         "carried event"),
    ],
)
def test_malformed_frames_raise_typed_error(frame: bytes, reason: str) -> None:
    with pytest.raises(BinanceDecodeError, match=reason) as info:
        parse(frame, RECV_NS)
    assert isinstance(info.value, DecodeError)  # one except clause catches every venue
    assert info.value.excerpt == frame.decode()[:200]


def test_trade_stream_url_is_combined() -> None:
    url = trade_stream_url("wss://stream.binance.com:9443/", ["btcusdt", "ethusdt"])
    assert url == "wss://stream.binance.com:9443/stream?streams=btcusdt@trade/ethusdt@trade"


@pytest.mark.parametrize("symbols", [[], ["BTC/USDT"], ["btcusdt@trade"]])
def test_trade_stream_url_rejects_bad_symbols(symbols: list[str]) -> None:
    with pytest.raises(ValueError, match="symbol"):
        trade_stream_url("wss://x", symbols)
