"""RTDS crypto price frames parse to exact reference prices, one per price point."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import msgspec
import pytest

from prediction_engine.core.events import ReferencePrice
from prediction_engine.core.ids import Venue
from prediction_engine.venues.errors import DecodeError, UnknownEventError
from prediction_engine.venues.polymarket.rtds_parse import encode_subscribe, parse_rtds_frame
from tests.conftest import SHARED_FIXTURES, assert_golden

RECV_NS = 1_800_000_000_123_456_789
FIXTURES = sorted((SHARED_FIXTURES / "polymarket").glob("rtds_*.json"))
UPDATE = (SHARED_FIXTURES / "polymarket" / "rtds_crypto_prices_update.json").read_bytes()
SNAPSHOT = (SHARED_FIXTURES / "polymarket" / "rtds_crypto_prices_subscribe_snapshot.json")


def _update(payload: dict[str, object], topic: str = "crypto_prices") -> bytes:
    return msgspec.json.encode(
        {"topic": topic, "type": "update", "timestamp": 1780730269142, "payload": payload}
    )


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_fixture_golden(path: Path) -> None:
    assert_golden(f"rtds/{path.stem}.json", parse_rtds_frame(path.read_bytes(), RECV_NS))


def test_update_uses_full_accuracy_value_and_price_time() -> None:
    [event] = parse_rtds_frame(UPDATE, RECV_NS)
    assert event == ReferencePrice(
        venue=Venue.POLYMARKET_RTDS,
        ts_event=1780730269000 * 1_000_000,  # the price's time, not the envelope's send time
        ts_recv=RECV_NS,
        symbol="btcusdt",
        price=Decimal("61035.86"),
    )
    assert str(event.price) == "61035.86000000"


def test_update_without_full_accuracy_keeps_the_number_text() -> None:
    frame = _update({"symbol": "ETHUSDT", "timestamp": 1, "value": 0.1})
    [event] = parse_rtds_frame(frame, RECV_NS)
    assert isinstance(event, ReferencePrice)
    assert (event.symbol, event.price) == ("ethusdt", Decimal("0.1"))  # not 0.1000000000000000055


def test_snapshot_gives_one_event_per_history_point() -> None:
    events = parse_rtds_frame(SNAPSHOT.read_text(), RECV_NS)
    points = [(e.ts_event // 1_000_000, e.price) for e in events if isinstance(e, ReferencePrice)]
    assert points == [
        (1780726209000, Decimal("61164.12")),
        (1780726210000, Decimal("61161.07")),
        (1780726211000, Decimal("61150.89")),
    ]


def test_chainlink_topic_is_a_reference_price_too() -> None:
    payload = {"symbol": "btc/usd", "timestamp": 5, "value": 61000.5}
    frame = _update(payload, "crypto_prices_chainlink")
    [event] = parse_rtds_frame(frame, RECV_NS)
    assert isinstance(event, ReferencePrice)
    assert (event.symbol, event.price, event.ts_event) == ("btc/usd", Decimal("61000.5"), 5_000_000)


@pytest.mark.parametrize("frame", [b"", b"PONG", "PONG", b"  "])
def test_keepalive_text_gives_no_events(frame: bytes | str) -> None:
    assert parse_rtds_frame(frame, RECV_NS) == []


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        (b"{not json", "malformed"),
        (b"[]", "invalid message"),
        (b'{"topic":"comments","type":"comment_created","payload":{}}', "unexpected topic"),
        (_update({"symbol": "btcusdt", "timestamp": 1, "value": -1}), "positive"),
        (_update({"symbol": "btcusdt", "timestamp": 1, "value": 0}), "positive"),
        (_update({"symbol": "btcusdt", "timestamp": 1, "value": "NaN"}), "positive"),
        (_update({"symbol": "btcusdt", "timestamp": 1, "value": True}), "invalid message"),
        (_update({"symbol": "btcusdt", "timestamp": -1, "value": 1}), "invalid message"),
        (_update({"symbol": "btcusdt", "timestamp": 10**17, "value": 1}), "invalid message"),
        (_update({"symbol": "", "timestamp": 1, "value": 1}), "symbol"),
        (_update({"symbol": "btcusdt", "timestamp": 1, "value": 1, "full_accuracy_value": "1e3"}),
         "full_accuracy_value"),
        (_update({"symbol": "btcusdt", "timestamp": 1}), "invalid message"),
    ],
)
def test_malformed_frames_raise_decode_error(frame: bytes, reason: str) -> None:
    with pytest.raises(DecodeError, match=reason) as info:
        parse_rtds_frame(frame, RECV_NS)
    assert info.value.excerpt == frame.decode()[:200]


def test_unknown_message_type_is_named() -> None:
    frame = UPDATE.replace(b'"update"', b'"delta"')
    with pytest.raises(UnknownEventError) as info:
        parse_rtds_frame(frame, RECV_NS)
    assert info.value.event_type == "delta"


def test_subscribe_request_shapes() -> None:
    assert msgspec.json.decode(encode_subscribe()) == {
        "action": "subscribe",
        "subscriptions": [{"topic": "crypto_prices", "type": "update"}],
    }
    filtered = msgspec.json.decode(encode_subscribe("crypto_prices", ["BTCUSDT", "ethusdt"]))
    assert filtered["subscriptions"][0]["filters"] == "btcusdt,ethusdt"
    chainlink = msgspec.json.decode(encode_subscribe("crypto_prices_chainlink", ["btc/usd"]))
    assert chainlink["subscriptions"] == [
        {"topic": "crypto_prices_chainlink", "type": "*", "filters": '{"symbol":"btc/usd"}'}
    ]
    with pytest.raises(ValueError, match="topic"):
        encode_subscribe("comments")
