"""The reference-feed simulator: deterministic prices and the real wire shapes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import aiohttp
import msgspec
import pytest

from prediction_engine.core.events import ReferencePrice
from prediction_engine.sim.reference_feeds import (
    PricePath,
    ReferenceFeedServer,
    ReferenceFeedSpec,
    binance_trade,
    rtds_snapshot,
    rtds_update,
)
from prediction_engine.venues.binance.parse import parse
from prediction_engine.venues.polymarket.rtds_parse import parse_rtds_frame
from tests.conftest import SHARED_FIXTURES

SPEC = ReferenceFeedSpec(symbols=("btcusdt", "xrpusdt"), rate_hz=10)


def test_same_seed_same_prices_other_seed_other_prices() -> None:
    first, second, other = PricePath(3, SPEC), PricePath(3, SPEC), PricePath(4, SPEC)
    ticks = [first.step() for _ in range(200)]
    assert ticks == [second.step() for _ in range(200)]
    assert ticks != [other.step() for _ in range(200)]


def test_prices_sit_on_the_tick_grid_and_ids_count_up() -> None:
    path = PricePath(1, SPEC)
    ticks = [t for _ in range(500) for t in path.step()]
    btc = [t for t in ticks if t.symbol == "btcusdt"]
    xrp = [t for t in ticks if t.symbol == "xrpusdt"]
    assert all(t.price == t.price.quantize(Decimal("0.01")) and t.price > 0 for t in btc)
    assert all(t.price == t.price.quantize(Decimal("0.0001")) and t.price > 0 for t in xrp)
    assert [t.trade_id for t in btc] == list(range(btc[0].trade_id, btc[0].trade_id + 500))
    assert [t.ts_ms for t in btc] == sorted({t.ts_ms for t in btc})
    assert 0.8 < float(btc[-1].price / btc[0].price) < 1.2  # a random walk, not a runaway


def test_messages_have_the_real_key_sets() -> None:
    def keys(doc: object) -> object:
        if isinstance(doc, dict):
            return {k: keys(v) for k, v in doc.items() if k not in ("b", "a")}
        return type(doc).__name__

    real = msgspec.json.decode(
        (SHARED_FIXTURES / "binance" / "nautilus_ws_spot_trade.json").read_bytes()
    )
    real_update = msgspec.json.decode(
        (SHARED_FIXTURES / "polymarket" / "rtds_crypto_prices_update.json").read_bytes()
    )
    [tick] = PricePath(0, ReferenceFeedSpec(symbols=("btcusdt",))).step()
    assert keys(binance_trade(tick)) == keys(real["data"])
    assert keys(rtds_update(tick)) == keys(real_update)
    snapshot = rtds_snapshot("btcusdt", [tick], tick.ts_ms)
    assert snapshot["type"] == "subscribe"
    assert snapshot["payload"]["data"][0]["value"] == float(tick.price)


@pytest.fixture
async def server() -> AsyncIterator[ReferenceFeedServer]:
    srv = ReferenceFeedServer(seed=2, spec=ReferenceFeedSpec(rate_hz=50))
    await srv.start()
    yield srv
    await srv.stop()


async def test_binance_raw_stream_and_live_subscribe(server: ReferenceFeedServer) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.ws_connect(server.binance_url + "/ws/btcusdt@trade") as ws,
    ):
        first = await ws.receive_str(timeout=2)
        assert parse(first, 0)[0].symbol == "btcusdt"  # type: ignore[union-attr]
        await ws.send_str('{"method":"SUBSCRIBE","params":["ethusdt@trade"],"id":1}')
        symbols: set[str] = set()
        acks = 0
        while symbols != {"btcusdt", "ethusdt"}:
            frame = await ws.receive_str(timeout=2)
            acks += frame == '{"result":null,"id":1}'
            symbols |= {e.symbol for e in parse(frame, 0) if isinstance(e, ReferencePrice)}
        assert acks == 1


async def test_rtds_server_filter_and_snapshot(server: ReferenceFeedServer) -> None:
    request = {"action": "subscribe", "subscriptions": [
        {"topic": "crypto_prices", "type": "update", "filters": "ethusdt"}]}
    async with aiohttp.ClientSession() as http, http.ws_connect(server.rtds_url) as ws:
        await ws.send_str(msgspec.json.encode(request).decode())
        frames = [await ws.receive_str(timeout=2) for _ in range(5)]
    assert '"type":"subscribe"' in frames[0]
    events = [e for f in frames for e in parse_rtds_frame(f, 0)]
    assert events
    assert {e.symbol for e in events if isinstance(e, ReferencePrice)} == {"ethusdt"}


@pytest.mark.parametrize(
    ("filters", "symbols"), [('{"symbol":"btc/usd"}', {"btc/usd"}), ("", {"btc/usd", "eth/usd"})]
)
async def test_rtds_chainlink_topic_serves_chainlink_symbols(
    server: ReferenceFeedServer, filters: str, symbols: set[str]
) -> None:
    subscription = {"topic": "crypto_prices_chainlink", "type": "*", "filters": filters}
    request = {"action": "subscribe", "subscriptions": [subscription]}
    async with aiohttp.ClientSession() as http, http.ws_connect(server.rtds_url) as ws:
        await ws.send_str(msgspec.json.encode(request).decode())
        frames = [await ws.receive_str(timeout=2) for _ in range(12)]
    assert all('"topic":"crypto_prices_chainlink"' in f for f in frames)
    events = [e for f in frames for e in parse_rtds_frame(f, 0)]
    assert len(events) == len(frames)
    assert {e.symbol for e in events if isinstance(e, ReferencePrice)} == symbols
    btc = [e for e in events if isinstance(e, ReferencePrice) and e.symbol == "btc/usd"]
    assert btc and all(e.price > 1000 for e in btc)  # the BTC path, not another asset's
