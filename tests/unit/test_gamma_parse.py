"""Gamma and CLOB discovery codecs: goldens from real captures, then the edge cases."""

from __future__ import annotations

import os
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import msgspec
import pytest

from prediction_engine.core.markets import Market
from prediction_engine.venues.errors import DecodeError
from prediction_engine.venues.polymarket.gamma_parse import (
    GammaDecodeError,
    parse_clob_market,
    parse_clob_markets_page,
    parse_gamma_event,
    parse_gamma_events,
    parse_gamma_market,
    parse_gamma_markets,
    parse_gamma_markets_keyset,
    parse_gamma_series_list,
    parse_iso_ns,
    parse_prices_history,
)

FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "polymarket"
GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "polymarket_gamma"
UPDATE = os.environ.get("UPDATE_GOLDENS") == "1"

PARSERS: dict[str, Callable[[bytes], object]] = {
    "gamma_market_btc_updown_5m.json": parse_gamma_market,
    "gamma_market_closed_resolved.json": parse_gamma_market,
    "gamma_market_sports_moneyline.json": parse_gamma_market,
    "gamma_events_negrisk.json": parse_gamma_events,
    "rest_clob_market.json": parse_clob_market,
    "rest_clob_market_closed_resolved.json": parse_clob_market,
    "rest_clob_markets_page.json": parse_clob_markets_page,
}

BTC = (FIXTURES / "gamma_market_btc_updown_5m.json").read_bytes()


def test_every_discovery_fixture_has_a_parser() -> None:
    names = {p.name for p in FIXTURES.glob("gamma_*.json")} | {
        p.name for p in FIXTURES.glob("rest_clob_market*.json")
    }
    assert names == set(PARSERS)


@pytest.mark.parametrize("name", sorted(PARSERS))
def test_fixture_matches_golden(name: str) -> None:
    parsed = PARSERS[name]((FIXTURES / name).read_bytes())
    actual = msgspec.json.format(msgspec.json.encode(parsed), indent=2) + b"\n"
    golden = GOLDEN / name
    if UPDATE:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_bytes(actual)
    assert golden.exists(), f"no golden {golden}; run with UPDATE_GOLDENS=1 and review it"
    assert actual == golden.read_bytes()


def test_btc_updown_fields() -> None:
    m = parse_gamma_market(BTC)
    assert m.outcomes == ("Up", "Down")
    assert m.token_for("down").startswith("7118396081")
    assert (m.tick_size, m.min_order_size) == (10_000, 5_000_000)
    assert m.volume == Decimal("9.999997")  # the string field, exact
    assert m.series_slug == "btc-up-or-down-5m"
    assert m.event_start_ns == parse_iso_ns("2026-03-12T09:20:00Z") == 1773307200 * 10**9
    assert m.end_ns == 1773307500 * 10**9
    assert not m.resolved


def test_sports_fee_schedule_resolution_and_space_separated_time() -> None:
    m = parse_gamma_market((FIXTURES / "gamma_market_sports_moneyline.json").read_bytes())
    assert m.fee_schedule is not None
    assert (m.fee_schedule.rate, m.fee_schedule.rebate_rate) == (Decimal("0.03"), Decimal("0.25"))
    assert (m.resolved, m.winning_outcome) == (True, "FaZe")
    assert m.event_start_ns == parse_iso_ns("2026-04-05 15:10:00+00")


def test_negrisk_event_fills_event_fields_and_object_tags() -> None:
    event = parse_gamma_events((FIXTURES / "gamma_events_negrisk.json").read_bytes()).items[0]
    assert event.neg_risk
    assert len(event.markets) == 2
    for m in event.markets:
        assert m.neg_risk
        assert m.neg_risk_market_id == (
            "0x2c3d7e0eee6f058be3006baabf0d54a07da254ba47fe6e3e095e7990c7814700"
        )
        assert m.event_slug == "democratic-presidential-nominee-2028"
        assert "Politics" in m.tags


def test_clob_winner_and_hydrating_tokens() -> None:
    m = parse_clob_market((FIXTURES / "rest_clob_market_closed_resolved.json").read_bytes())
    assert (m.resolved, m.winning_outcome, m.tick_size) == (True, "Yes", 10_000)
    page = parse_clob_markets_page((FIXTURES / "rest_clob_markets_page.json").read_bytes())
    assert page.next_cursor == "MTAw"
    assert len(page.items) == 100
    assert not page.dropped
    empty = next(m for m in page.items if m.slug == "will-the-clob-strapi-integration-work")
    assert empty.tokens == ()
    assert empty.outcomes == ()
    assert {m.min_order_size for m in page.items} >= {14_970_000, 15_000_000}


@pytest.mark.parametrize(
    ("text", "expected_s"),
    [
        ("2026-03-12T09:25:00Z", 1773307500),
        ("2026-04-05 15:10:00+00", 1775401800),
        ("2026-04-05T15:10:00", 1775401800),
        ("2026-04-05T11:10:00-04:00", 1775401800),
        ("2028-11-07", 1857168000),
    ],
)
def test_iso_times(text: str, expected_s: int) -> None:
    assert parse_iso_ns(text) == expected_s * 10**9


def test_iso_time_keeps_microseconds() -> None:
    assert parse_iso_ns("2026-03-11T09:29:01.328428Z") % 10**9 == 328_428_000


def _edit(**changes: object) -> bytes:
    raw = msgspec.json.decode(BTC)
    raw.update(changes)
    return msgspec.json.encode(raw)


def test_numbers_accepted_as_strings_or_numbers() -> None:
    as_strings = parse_gamma_market(
        _edit(orderPriceMinTickSize="0.001", orderMinSize="5", bestBid="0.5", volume=12.5,
              feeSchedule={"rate": "0.07", "exponent": 1, "takerOnly": True, "rebateRate": 0.2})
    )
    assert (as_strings.tick_size, as_strings.min_order_size) == (1_000, 5_000_000)
    assert as_strings.best_bid == Decimal("0.5")
    assert as_strings.volume == Decimal("12.5")
    assert as_strings.fee_schedule is not None
    assert as_strings.fee_schedule.rate == Decimal("0.07")


@pytest.mark.parametrize(
    "changes",
    [
        {"outcomes": "[\"Up\", \"Down\""},  # truncated JSON-in-a-string
        {"clobTokenIds": "[\"12\", \"not-a-number\"]"},
        {"clobTokenIds": "[\"12\"]"},  # fewer tokens than outcomes
        {"conditionId": "0xnothex"},
        {"orderPriceMinTickSize": "0.0000001"},  # not representable in micro-units
        {"endDate": "yesterday"},
        {"volume": [1]},
    ],
)
def test_malformed_market_raises_typed_error(changes: dict[str, object]) -> None:
    with pytest.raises(GammaDecodeError) as info:
        parse_gamma_market(_edit(**changes))
    assert isinstance(info.value, DecodeError)


def test_list_drops_bad_items_and_keeps_the_rest() -> None:
    good = msgspec.json.decode(BTC)
    bad = dict(good, conditionId="")
    page = parse_gamma_markets(msgspec.json.encode([good, bad, good]))
    assert len(page.items) == 2
    assert len(page.dropped) == 1
    assert "lacks conditionId" in page.dropped[0]


def test_envelope_errors_raise() -> None:
    with pytest.raises(GammaDecodeError):
        parse_gamma_markets(b"{\"error\": \"rate limited\"}")
    with pytest.raises(GammaDecodeError):
        parse_gamma_markets_keyset(b"[]")


def test_keyset_envelope_cursor() -> None:
    good = msgspec.json.decode(BTC)
    body = msgspec.json.encode({"markets": [good], "next_cursor": "abc"})
    middle = parse_gamma_markets_keyset(body)
    last = parse_gamma_markets_keyset(msgspec.json.encode({"markets": [good]}))
    assert middle.next_cursor == "abc"
    assert last.next_cursor is None
    assert isinstance(last.items[0], Market)


def test_series_list_with_events() -> None:
    body = msgspec.json.encode([{
        "id": "10684", "slug": "btc-up-or-down-5m", "recurrence": "5m",
        "events": [{"id": "1", "slug": "btc-updown-5m-1773307200",
                    "startTime": "2026-03-12T09:20:00Z", "endDate": "2026-03-12T09:25:00Z"},
                   {"id": "2"}],
    }])
    series = parse_gamma_series_list(body).items[0]
    assert series.recurrence == "5m"
    assert [e.slug for e in series.events] == ["btc-updown-5m-1773307200"]
    assert series.events[0].start_ns == 1773307200 * 10**9


def test_single_event_and_price_history() -> None:
    body = msgspec.json.encode({"id": "7", "slug": "e", "tags": ["A", {"slug": "b"}]})
    event = parse_gamma_event(body)
    assert event.tags == ("A", "b")
    assert event.markets == ()
    history = b'{"history": [{"t": 1729000000, "p": 0.51}, {"t": 1729000060, "p": "0.5"}]}'
    points = parse_prices_history(history)
    assert [(p.ts_ns, p.price) for p in points] == [
        (1729000000 * 10**9, Decimal("0.51")), (1729000060 * 10**9, Decimal("0.5")),
    ]
